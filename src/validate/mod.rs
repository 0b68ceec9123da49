//! Stage 2, validate: turn the merged `RawCatalog` into the compiled `Catalog`, resolving every
//! reference and checking every name. All problems are collected before anything is decided.

mod credentials;
mod keys;
pub mod names;
mod outputs;
mod secrets;

use std::collections::BTreeMap;

use crate::diagnostics::Diagnostic;
use crate::load::raw::{BundleKind, StoreKind};
use crate::load::spanned::Spanned;
use crate::load::{Def, RawCatalog};
use crate::model::{Bundle, Catalog, Environment, Origin, Store};
use crate::source::FileId;

/// Diagnostics collected while validating, with the file each span belongs to.
pub(crate) struct Ctx<'a> {
    pub diagnostics: &'a mut Vec<Diagnostic>,
}

impl Ctx<'_> {
    pub fn push(&mut self, diagnostic: Diagnostic) {
        self.diagnostics.push(diagnostic);
    }

    /// Report a name that breaks `rule`, suggesting a repaired spelling that satisfies it.
    pub fn check_name(
        &mut self,
        what: &str,
        file: FileId,
        name: &Spanned<String>,
        rule: impl Fn(&str) -> Option<String>,
    ) {
        let Some(broken) = rule(&name.value) else {
            return;
        };
        let mut diagnostic =
            Diagnostic::invalid_name(what, &name.value, &broken).at(file, name.span.clone(), "");
        if let Some(fixed) = names::repairs(&name.value)
            .into_iter()
            .find(|c| *c != name.value && rule(c).is_none())
        {
            diagnostic = diagnostic.help(format!("try `{fixed}`"));
        }
        self.push(diagnostic);
    }

    /// `owner` names what the duration belongs to, e.g. "refresh_interval of secret `s`".
    pub fn check_duration(&mut self, file: FileId, value: &Spanned<String>, owner: &str) {
        if !names::go_duration(&value.value) {
            self.push(Diagnostic::invalid_duration(&value.value, owner).at(
                file,
                value.span.clone(),
                "",
            ));
        }
    }
}

/// Compile the merged catalog. Returns `None` only when there is no store to compile against;
/// otherwise a catalog is returned even with errors, and the caller decides from `diagnostics`.
pub fn validate(
    raw: RawCatalog,
    catalog_dir: String,
    diagnostics: &mut Vec<Diagnostic>,
) -> Option<Catalog> {
    let mut ctx = Ctx { diagnostics };
    let (store_file, raw_store) = raw.store?;
    let store = compile_store(&mut ctx, store_file, raw_store.value);
    let environments = compile_environments(&mut ctx, raw.environments);
    let mut bundles = compile_bundles(&mut ctx, raw.bundles);
    let outputs = outputs::compile(&mut ctx, raw.outputs, &bundles);
    let mut keys = keys::compile(&mut ctx, raw.keys, &store, &environments);
    let secrets = secrets::compile(
        &mut ctx,
        raw.secrets,
        &store,
        &environments,
        &bundles,
        &keys,
    );

    for secret in secrets.values() {
        if let Some(bundle) = bundles.get_mut(&secret.bundle) {
            bundle.secrets.push(secret.name.clone());
        }
        for data in secret.data.values() {
            if let Some(key) = keys.get_mut(&data.key)
                && key.used_by.last() != Some(&secret.name)
            {
                key.used_by.push(secret.name.clone());
            }
        }
    }
    // After a reference error, "unused" is more likely the typo's other half than news.
    let has_errors = ctx
        .diagnostics
        .iter()
        .any(|d| d.severity == crate::diagnostics::Severity::Error);
    for key in keys.values().filter(|_| !has_errors) {
        if key.used_by.is_empty() {
            ctx.push(Diagnostic::unused_key(&key.path).at(
                key.origin.file,
                key.origin.span.clone(),
                "defined here",
            ));
        }
    }
    Some(Catalog {
        catalog_dir,
        store,
        environments,
        bundles,
        keys,
        secrets,
        outputs,
    })
}

fn compile_store(ctx: &mut Ctx, file: FileId, raw: crate::load::raw::RawStore) -> Store {
    ctx.check_name("store name", file, &raw.name, |n: &str| {
        names::dns1123_subdomain(n)
    });
    ctx.check_name("store mount", file, &raw.mount, |n: &str| {
        names::vault_path(n)
    });
    if let Some(property) = &raw.property
        && property.is_empty()
    {
        ctx.check_name("store property", file, property, |_: &str| {
            Some("must not be empty".into())
        });
    }
    if let Some(interval) = &raw.refresh_interval {
        ctx.check_duration(file, interval, "the store");
    }
    Store {
        kind: raw.kind.map_or(StoreKind::ClusterSecretStore, |k| k.value),
        name: raw.name.value,
        mount: raw.mount.value,
        property: raw.property.map_or_else(|| "value".into(), |p| p.value),
        refresh_interval: raw
            .refresh_interval
            .map_or_else(|| "1h".into(), |r| r.value),
        server: raw.server.map(|s| s.value),
    }
}

fn compile_environments(
    ctx: &mut Ctx,
    raw: BTreeMap<String, Def<crate::load::raw::RawEnvironment>>,
) -> BTreeMap<String, Environment> {
    raw.into_iter()
        .map(|(name, def)| {
            let spanned = Spanned::new(name.clone(), def.name_span.clone());
            ctx.check_name("environment name", def.file, &spanned, |n: &str| {
                names::dns1123_label(n, 63)
            });
            let env = Environment {
                name: name.clone(),
                fixtures: def.value.value.fixtures.value,
                description: def.value.value.description,
            };
            (name, env)
        })
        .collect()
}

fn compile_bundles(
    ctx: &mut Ctx,
    raw: BTreeMap<String, Def<crate::load::raw::RawBundle>>,
) -> BTreeMap<String, Bundle> {
    raw.into_iter()
        .map(|(name, def)| {
            let file = def.file;
            let spanned = Spanned::new(name.clone(), def.name_span.clone());
            let raw = def.value.value;
            ctx.check_name("namespace", file, &raw.namespace, |n: &str| {
                names::dns1123_label(n, 63)
            });
            let name_is_valid = names::dns1123_label(&name, 63).is_none();
            ctx.check_name("bundle name", file, &spanned, |n: &str| {
                names::dns1123_label(n, 63)
            });
            let explicit = raw.release.is_some();
            let release = raw.release.unwrap_or_else(|| {
                let default = match raw.kind.value {
                    BundleKind::Layer15 => format!("vault-secrets-{name}"),
                    BundleKind::Integration | BundleKind::Chart => name.clone(),
                };
                Spanned::new(default, def.name_span.clone())
            });
            // A derived release name is only news when the bundle name itself is fine.
            if explicit || name_is_valid {
                let what = if explicit {
                    "release name"
                } else {
                    "derived release name"
                };
                ctx.check_name(what, file, &release, |n: &str| names::dns1123_label(n, 53));
            }
            let release = release.value;
            if let Some(owner) = &raw.owner {
                ctx.check_name("owner", file, owner, |n: &str| names::simple_name(n));
            }
            let bundle = Bundle {
                name: name.clone(),
                kind: raw.kind.value,
                release,
                namespace: raw.namespace.value,
                owner: raw.owner.map(|o| o.value),
                description: raw.description,
                secrets: Vec::new(),
                origin: Origin {
                    file,
                    span: def.name_span,
                },
            };
            (name, bundle)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use crate::diagnostics::Code;

    const BASE: &str = r#"
[store]
name = "ameide-vault"
mount = "secret"
[environments.local]
fixtures = true
[bundles.platform]
kind = "layer15"
namespace = "ameide"
[bundles.integration]
kind = "integration"
namespace = "ameide-int-tests"
[keys.db-url]
fixture = "postgresql://db"
"#;

    /// Compile BASE plus `extra` as one secretcat.toml; the (code, line, column) of every diagnostic.
    fn diagnose(extra: &str) -> Vec<(Code, isize, usize)> {
        let dir = tempfile::tempdir().unwrap();
        let catalog = dir.path().join("catalog");
        std::fs::create_dir_all(&catalog).unwrap();
        std::fs::write(catalog.join("secretcat.toml"), format!("{BASE}{extra}")).unwrap();
        let compiled = crate::compile(&catalog, dir.path());
        compiled
            .diagnostics
            .iter()
            .map(|d| {
                let label = d
                    .primary
                    .as_ref()
                    .expect("every catalog diagnostic has a place");
                let pos = compiled.files.get(label.file).position(label.span.start);
                (
                    d.code,
                    pos.line as isize - BASE.lines().count() as isize,
                    pos.column,
                )
            })
            .collect()
    }

    #[test]
    fn each_rule_reports_its_code_at_the_offending_token() {
        let table: &[(&str, Code, isize, usize)] = &[
            (
                "[secrets.s]\nbundle = \"platfrom\"\ndata.A = \"db-url\"\n",
                Code::UnknownBundle,
                2,
                10,
            ),
            (
                "[secrets.s]\nbundle = \"platform\"\ndata.A = \"db-ulr\"\n",
                Code::UnknownKey,
                3,
                10,
            ),
            (
                "[keys.k]\n[secrets.s]\nbundle = \"platform\"\ndata.A = \"k\"\n",
                Code::MissingValueSource,
                1,
                7,
            ),
            (
                "[keys.k]\nfixture = \"a\"\nexternal = \"b\"\n[secrets.s]\nbundle = \"platform\"\ndata.A = \"k\"\n",
                Code::ConflictingValueSources,
                3,
                12,
            ),
            (
                "[secrets.S]\nbundle = \"platform\"\ndata.A = \"db-url\"\n",
                Code::InvalidName,
                1,
                10,
            ),
            (
                "[secrets.s]\nbundle = \"platform\"\ndata.\"a b\" = \"db-url\"\n",
                Code::InvalidDataKey,
                3,
                6,
            ),
            (
                "[secrets.s]\nbundle = \"integration\"\ndata.client-secret = \"db-url\"\n",
                Code::InvalidEnvVar,
                3,
                6,
            ),
            (
                "[secrets.s]\nbundle = \"platform\"\nrefresh_interval = \"1d\"\ndata.A = \"db-url\"\n",
                Code::InvalidDuration,
                3,
                20,
            ),
            (
                "[secrets.s]\nbundle = \"platform\"\ndata.A = \"db-url\"\nconsumers = [{ name = \"c\", via = \"envFrom\", requires = [\"B\"] }]\n",
                Code::UnknownRequiredKey,
                4,
                57,
            ),
            (
                "[secrets.s]\nbundle = \"platform\"\n",
                Code::EmptySecret,
                1,
                10,
            ),
            (
                "[keys.a]\nalias = \"dbUrl\"\nfixture = \"x\"\n[secrets.s]\nbundle = \"platform\"\ndata.A = \"a\"\ndata.B = \"db-url\"\n",
                Code::DuplicateAlias,
                2,
                9,
            ),
            (
                "[keys.\"secret/foo\"]\nfixture = \"x\"\n[secrets.s]\nbundle = \"platform\"\ndata.A = \"secret/foo\"\ndata.B = \"db-url\"\n",
                Code::MountPrefix,
                1,
                7,
            ),
            (
                "[keys.k]\nfixture = \"short\"\nmin_length = 8\n[secrets.s]\nbundle = \"platform\"\ndata.A = \"k\"\ndata.B = \"db-url\"\n",
                Code::FixtureTooShort,
                2,
                11,
            ),
            (
                "[secrets.s]\nbundle = \"platform\"\ndata.A = \"db-url\"\n[secrets.t]\nbundle = \"platform\"\nexternal_secret = \"s-sync\"\ndata.A = \"db-url\"\n",
                Code::DuplicateTarget,
                6,
                19,
            ),
            (
                "[keys.k]\nexternal = \"elsewhere\"\n[secrets.s]\nbundle = \"platform\"\ndata.A = \"db-url\"\n",
                Code::UnusedKey,
                1,
                7,
            ),
        ];
        for (extra, code, line, column) in table {
            let found = diagnose(extra);
            assert!(
                found.contains(&(*code, *line, *column)),
                "{code:?} at {line}:{column} expected for\n{extra}\nfound {found:?}"
            );
        }
    }

    #[test]
    fn a_valid_catalog_has_no_diagnostics() {
        assert_eq!(
            diagnose("[secrets.s]\nbundle = \"platform\"\ndata.A = \"db-url\"\n"),
            vec![]
        );
    }
}
