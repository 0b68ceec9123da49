//! `preflight`: before migrations and workloads start, every value the secrets installed in an
//! environment read from Vault must be there: the key and property exist, the value is not
//! empty, meets the key's `min_length`, and, where fixtures are not seeded, is no fixture or
//! placeholder. One finding per Secret data key, naming the secret, the data key, the Vault key
//! and the consumers that would fail.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::client::{Deleted, Kv, Stored};
use crate::diagnostics::{Diagnostic, GapFix, Leftover, SecretRead};
use crate::model::{Catalog, Env, Key, Secret, ValueSource};
use crate::render::views::GENERATE_MARKER;

/// Values that mark a key nobody has filled in yet, compared trimmed and case-insensitively.
/// Only where fixtures are not seeded: there they mean a workload gets a non-value.
const PLACEHOLDERS: &[&str] = &[
    GENERATE_MARKER,
    "changeme",
    "change-me",
    "change_me",
    "replaceme",
    "replace-me",
    "placeholder",
    "todo",
];

#[derive(Debug, Default)]
pub struct PreflightReport {
    /// Findings per gap, and at most one error: the Vault failure that stopped the run.
    pub diagnostics: Vec<Diagnostic>,
    /// Secrets installed in the environment.
    pub secrets: usize,
    /// Distinct Vault keys read.
    pub keys: usize,
}

/// Check every value the secrets installed in `env` read. Each Vault key is read once however
/// many secrets read it; the first Vault error (unreachable, sealed, denied) ends the run.
pub fn run(catalog: &Catalog, env: Env, kv: &Kv) -> PreflightReport {
    let mut report = PreflightReport::default();
    if let Err(error) = kv.check_mount() {
        report.diagnostics.push(error);
        return report;
    }
    let mut read: BTreeMap<&str, Stored> = BTreeMap::new();
    let installed = catalog
        .secrets
        .values()
        .filter(|s| catalog.installed_in(s, env));
    for secret in installed {
        report.secrets += 1;
        for (data_key, vault_key, property) in reads(secret) {
            if !read.contains_key(vault_key) {
                match kv.read(vault_key) {
                    Ok(value) => read.insert(vault_key, value),
                    Err(error) => {
                        report.diagnostics.push(error);
                        report.keys = read.len();
                        return report;
                    }
                };
            }
            let key = catalog.keys.get(vault_key);
            let gap = Gap {
                catalog,
                env,
                secret,
                key,
                read: SecretRead {
                    secret: &secret.name,
                    data_key,
                    mount: kv.mount(),
                    key: vault_key,
                    property,
                    consumers: affected(secret, data_key, env),
                    fix: fix(catalog, env, key),
                },
            };
            report.diagnostics.extend(gap.check(&read[vault_key]));
        }
    }
    report.keys = read.len();
    // Reading order, as everywhere: by catalog file, then position.
    report
        .diagnostics
        .sort_by_key(|d| d.primary.as_ref().map(|l| (l.file, l.span.start)));
    report
}

/// (data key, Vault key, property) of every read: `data` entries, then keys read whole.
fn reads(secret: &Secret) -> Vec<(Option<&str>, &str, Option<&str>)> {
    let data = secret.data.iter().map(|(data_key, r)| {
        (
            Some(data_key.as_str()),
            r.key.as_str(),
            Some(r.property.as_str()),
        )
    });
    let extract = secret.extract.iter().map(|key| (None, key.as_str(), None));
    data.chain(extract).collect()
}

/// The consumers in `env` that need this data key: those that require it, and those that do
/// not say what they require. A templated Secret renames its keys, so every consumer counts.
fn affected<'a>(secret: &'a Secret, data_key: Option<&str>, env: Env) -> Vec<&'a str> {
    let templated = secret.template.as_ref().is_some_and(|t| !t.data.is_empty());
    let mut names: Vec<&str> = secret
        .consumers
        .iter()
        .filter(|c| c.installed_in(env))
        .filter(|c| match data_key {
            Some(data_key) if !templated => {
                c.requires.is_empty() || c.requires.iter().any(|r| r == data_key)
            }
            _ => true,
        })
        .map(|c| c.name.as_str())
        .collect();
    names.sort_unstable();
    names.dedup();
    names
}

/// How to close a gap: seed the key where the catalog seeds it, else write the real value.
fn fix<'a>(catalog: &Catalog, env: Env<'a>, key: Option<&'a Key>) -> GapFix<'a> {
    match key.map(|k| k.source_in(env)) {
        Some(ValueSource::Fixture(_) | ValueSource::Generate { .. }) if catalog.seeds(env) => {
            GapFix::Seed { env }
        }
        Some(ValueSource::External(origin)) => GapFix::Write {
            origin: origin.as_deref(),
        },
        _ => GapFix::Write { origin: None },
    }
}

/// One read, and what the catalog says about its key.
struct Gap<'a> {
    catalog: &'a Catalog,
    env: Env<'a>,
    secret: &'a Secret,
    key: Option<&'a Key>,
    read: SecretRead<'a>,
}

impl Gap<'_> {
    /// The finding for this read, if the value in Vault is not good enough.
    fn check(&self, stored: &Stored) -> Option<Diagnostic> {
        let read = &self.read;
        let properties = match stored {
            Stored::Value(properties) => properties,
            Stored::Missing => return Some(self.place(Diagnostic::missing_vault_key(read))),
            Stored::Deleted(Deleted { version, destroyed }) => {
                let finding = Diagnostic::deleted_vault_key(read, *version, *destroyed);
                return Some(self.place(finding));
            }
        };
        let value = match read.property {
            Some(property) => match lookup(properties, property) {
                Some(value) => text(value),
                None => {
                    let present: Vec<&str> = properties.keys().map(String::as_str).collect();
                    return Some(self.place(Diagnostic::missing_vault_property(read, &present)));
                }
            },
            // A key read whole must hold something: ESO makes one data key per property.
            None if properties.is_empty() => String::new(),
            None => return None,
        };
        if value.is_empty() {
            return Some(self.place(Diagnostic::empty_vault_value(read)));
        }
        let length = value.chars().count();
        if let Some(min) = self.key.and_then(|k| k.min_length)
            && (length as u64) < min
        {
            return Some(self.place(Diagnostic::vault_value_too_short(read, length, min)));
        }
        if !self.catalog.seeds(self.env)
            && let Some(leftover) = self.leftover(&value)
        {
            let env = self.env.unwrap_or_default();
            return Some(self.place(Diagnostic::fixture_in_vault(read, env, leftover)));
        }
        None
    }

    /// Whether `value` is a placeholder or one of this key's fixtures (from any environment).
    fn leftover(&self, value: &str) -> Option<Leftover<'static>> {
        let trimmed = value.trim();
        if let Some(placeholder) = PLACEHOLDERS
            .iter()
            .find(|p| trimmed.eq_ignore_ascii_case(p))
        {
            return Some(Leftover::Placeholder(placeholder));
        }
        let key = self.key?;
        let sources = std::iter::once(&key.source)
            .chain(key.overrides.values().filter_map(|o| o.source.as_ref()));
        sources
            .filter_map(|source| match source {
                ValueSource::Fixture(fixture) => Some(fixture),
                _ => None,
            })
            .any(|fixture| fixture == value)
            .then_some(Leftover::Fixture)
    }

    /// Point at the key in the catalog, and at the secret that reads it.
    fn place(&self, finding: Diagnostic) -> Diagnostic {
        let secret = &self.secret.origin;
        let in_env = self.env.map_or(String::new(), |e| format!(" in `{e}`"));
        let finding = match self.key {
            Some(key) => {
                let origin = self
                    .env
                    .and_then(|e| key.overrides.get(e))
                    .and_then(|o| o.source_origin.as_ref())
                    .or(key.source_origin.as_ref())
                    .unwrap_or(&key.origin);
                finding.at(
                    origin.file,
                    origin.span.clone(),
                    "the catalog's value source for it",
                )
            }
            None => finding.at(secret.file, secret.span.clone(), ""),
        };
        match self.key {
            Some(_) => finding.also(
                secret.file,
                secret.span.clone(),
                format!("read by this secret{in_env}"),
            ),
            None => finding,
        }
    }
}

/// A property by name, or by a dotted path into nested objects (ESO's `property` is a gjson
/// path: `db.password`).
fn lookup<'a>(properties: &'a Map<String, Value>, property: &str) -> Option<&'a Value> {
    if let Some(value) = properties.get(property) {
        return Some(value);
    }
    let mut parts = property.split('.');
    let mut value = properties.get(parts.next()?)?;
    for part in parts {
        value = value.as_object()?.get(part)?;
    }
    Some(value)
}

/// The value as ESO writes it into the Secret: strings as they are, anything else as JSON.
fn text(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostics::Code;
    use crate::vault::client::tests::{KV2, Scripted};

    const CATALOG: &str = r#"
[store]
name = "vault"
mount = "secret"
[environments.dev]
fixtures = true
[environments.production]
fixtures = false
[bundles.b]
kind = "chart"
namespace = "ns"
[bundles.off]
kind = "chart"
namespace = "ns"
installed = { production = false }
[keys.db-url]
fixture = "postgres://dev"
overrides.production = { external = "AKV: db-url" }
[keys.db-password]
generate = { length = 24 }
min_length = 16
overrides.production = { external = "AKV: db-password" }
[keys.other]
fixture = "x"
overrides.production = { external = "AKV" }
[secrets.app]
bundle = "b"
data.URL = "db-url"
data.PASSWORD = "db-password"
consumers = [
  { name = "web", via = "envFrom", requires = ["URL"] },
  { name = "migrations", via = "envFrom", requires = ["URL", "PASSWORD"] },
]
[secrets.elsewhere]
bundle = "off"
data.X = "other"
"#;

    fn findings(env: &str, vault: &Scripted) -> Vec<(Code, String)> {
        let compiled = crate::compile_sources(vec![("secretcat.toml".into(), CATALOG.to_string())]);
        assert!(!compiled.has_errors(), "{:?}", compiled.diagnostics);
        let catalog = compiled.catalog.as_ref().unwrap();
        let report = run(catalog, Some(env), &Kv::new(vault, "secret"));
        report
            .diagnostics
            .into_iter()
            .map(|d| (d.code, d.message))
            .collect()
    }

    fn vault(url: &str, password: &str) -> Scripted {
        Scripted::default()
            .answer("GET sys/internal/ui/mounts/secret", 200, KV2)
            .answer("GET secret/data/db-url", 200, url)
            .answer("GET secret/data/db-password", 200, password)
    }

    fn value(text: &str) -> String {
        serde_json::json!({"data": {"data": {"value": text}}}).to_string()
    }

    #[test]
    fn present_long_enough_real_values_pass_and_uninstalled_secrets_are_not_read() {
        let vault = vault(&value("postgres://prod"), &value("a-long-real-password"));
        assert_eq!(findings("production", &vault), []);
        let paths: Vec<String> = vault
            .requests
            .borrow()
            .iter()
            .map(|r| r.path.clone())
            .collect();
        assert!(
            !paths.contains(&"secret/data/other".to_string()),
            "{paths:?}"
        );
    }

    #[test]
    fn each_gap_names_the_secret_data_key_vault_key_and_affected_consumers_in_catalog_order() {
        let vault = Scripted::default()
            .answer("GET sys/internal/ui/mounts/secret", 200, KV2)
            .answer("GET secret/data/db-password", 200, &value("short"));
        let found = findings("production", &vault);
        assert_eq!(
            found,
            [
                (Code::MissingVaultKey, "secret `app` reads `URL` from property `value` of Vault key `secret/db-url`, which does not exist; consumers affected: migrations, web".to_string()),
                (Code::VaultValueTooShort, "secret `app` reads `PASSWORD` from property `value` of Vault key `secret/db-password`, whose value is 5 characters, below its min_length of 16; consumers affected: migrations".to_string()),
            ]
        );
    }

    #[test]
    fn fixtures_and_placeholders_are_findings_only_where_fixtures_are_not_seeded() {
        let leftovers = || vault(&value("postgres://dev"), &value("  CHANGEME  plus more"));
        let codes: Vec<Code> = findings("production", &leftovers())
            .into_iter()
            .map(|(c, _)| c)
            .collect();
        assert_eq!(
            codes,
            [Code::FixtureInVault],
            "`CHANGEME plus more` is a real value"
        );
        let placeholder = vault(&value("x-real"), &value(" ChangeMe-no ")).answer(
            "GET secret/data/db-password",
            200,
            &value("__generate__           "),
        );
        let found = findings("production", &placeholder);
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(
            found[0].1.contains("the placeholder `__generate__`"),
            "{}",
            found[0].1
        );
        let dev = leftovers().answer("GET secret/data/other", 200, &value("x"));
        assert_eq!(
            findings("dev", &dev),
            [],
            "dev seeds fixtures: they belong there"
        );
    }

    #[test]
    fn a_missing_property_lists_the_ones_there_and_an_empty_value_is_a_finding() {
        let other_property =
            serde_json::json!({"data": {"data": {"password": "x", "user": "y"}}}).to_string();
        let found = findings("production", &vault(&value(""), &other_property));
        assert_eq!(
            found[0].0,
            Code::EmptyVaultValue,
            "db-url comes first in the catalog"
        );
        assert_eq!(found[1].0, Code::MissingVaultKey);
        assert!(
            found[1].1.contains("but the key has only password, user"),
            "{}",
            found[1].1
        );
    }

    #[test]
    fn the_help_seeds_where_the_catalog_seeds_and_writes_the_real_value_elsewhere() {
        let compiled = crate::compile_sources(vec![("secretcat.toml".into(), CATALOG.to_string())]);
        let catalog = compiled.catalog.as_ref().unwrap();
        let helps = |env: &str| -> Vec<String> {
            let vault = Scripted::default().answer("GET sys/internal/ui/mounts/secret", 200, KV2);
            let report = run(catalog, Some(env), &Kv::new(&vault, "secret"));
            report
                .diagnostics
                .into_iter()
                .filter_map(|d| d.help)
                .collect()
        };
        assert_eq!(
            helps("dev")[0],
            "the catalog seeds this key here: run `secretcat seed --env dev` (`--force db-url` rewrites an existing value)"
        );
        assert_eq!(
            helps("production")[0],
            "write the real value from AKV: db-url: `vault kv put -mount=secret db-url value=...`"
        );
    }

    #[test]
    fn a_vault_error_ends_the_run_with_that_error() {
        let sealed = Scripted::default()
            .answer("GET sys/internal/ui/mounts/secret", 200, KV2)
            .answer(
                "GET secret/data/db-password",
                503,
                r#"{"errors":["Vault is sealed"]}"#,
            );
        let codes: Vec<Code> = findings("production", &sealed)
            .into_iter()
            .map(|(c, _)| c)
            .collect();
        assert_eq!(codes, [Code::VaultSealed]);
    }

    #[test]
    fn nested_properties_follow_dotted_paths() {
        let properties: Map<String, Value> =
            serde_json::from_str(r#"{"db": {"password": "p"}, "a.b": 1}"#).unwrap();
        assert_eq!(
            lookup(&properties, "db.password").map(text),
            Some("p".into())
        );
        assert_eq!(lookup(&properties, "a.b").map(text), Some("1".into()));
        assert_eq!(lookup(&properties, "db.user"), None);
    }
}
