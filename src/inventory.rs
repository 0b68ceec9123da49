//! `list` and `explain`: the compiled catalog as an inventory for people and for other tools.
//! Values of generated and external keys never appear (the catalog does not hold them); a
//! fixture that looks like a real credential appears as a redaction marker, unless the catalog
//! allows it with a reason. Free text is made visible (`terminal`): it cannot drive a terminal.

use std::fmt::Write as _;

use serde::Serialize;

use crate::diagnostics::Diagnostic;
use crate::model::{Catalog, Key, Secret, ValueSource};
use crate::render::views::source_summary;
use crate::source::Files;
use crate::suggest::closest;
use crate::terminal::{visible, visible_lines};
use crate::validate::credentials;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ListKind {
    Keys,
    Secrets,
    Bundles,
    Consumers,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ListFormat {
    Text,
    Json,
}

#[derive(Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
enum SourceJson<'a> {
    /// `value` is `null` when the fixture looks like a real credential; `redacted` says what
    /// it looks like.
    Fixture {
        value: Option<&'a str>,
        #[serde(skip_serializing_if = "Option::is_none")]
        redacted: Option<String>,
    },
    Generate {
        length: u64,
        charset: crate::model::Charset,
    },
    External {
        from: Option<&'a str>,
    },
}

#[derive(Serialize)]
struct KeyJson<'a> {
    name: &'a str,
    alias: &'a str,
    owner: Option<&'a str>,
    description: Option<&'a str>,
    source: SourceJson<'a>,
    required: bool,
    /// Environment → value source there, where it differs.
    overrides: std::collections::BTreeMap<&'a str, SourceJson<'a>>,
    min_length: Option<u64>,
    rotation: Option<&'a str>,
    secrets: &'a [String],
}

#[derive(Serialize)]
struct DataJson<'a> {
    data_key: &'a str,
    key: &'a str,
    property: &'a str,
    decoding_strategy: crate::model::DecodingStrategy,
}

#[derive(Serialize)]
struct ConsumerJson<'a> {
    name: &'a str,
    via: crate::model::Via,
    requires: &'a [String],
    owner: Option<&'a str>,
    environments: Option<&'a [String]>,
    sync_wave: Option<i64>,
}

#[derive(Serialize)]
struct SecretJson<'a> {
    name: &'a str,
    target: &'a str,
    namespace: &'a str,
    bundle: &'a str,
    owner: Option<&'a str>,
    external_secret: &'a str,
    #[serde(rename = "type")]
    secret_type: Option<&'a str>,
    refresh_interval: &'a str,
    environments: Option<&'a [String]>,
    preprovision: Option<&'a str>,
    provides: Vec<&'a str>,
    data: Vec<DataJson<'a>>,
    extract: &'a [String],
    consumers: Vec<ConsumerJson<'a>>,
    rotation: Option<&'a str>,
    description: Option<&'a str>,
}

#[derive(Serialize)]
struct BundleJson<'a> {
    name: &'a str,
    kind: crate::model::BundleKind,
    release: &'a str,
    namespace: &'a str,
    owner: Option<&'a str>,
    description: Option<&'a str>,
    environments: Option<&'a [String]>,
    not_installed: &'a [String],
    needs: &'a [String],
    sync_wave: i64,
    secrets: &'a [String],
}

#[derive(Serialize)]
struct ConsumerLinkJson<'a> {
    name: &'a str,
    secret: &'a str,
    namespace: &'a str,
    via: crate::model::Via,
    requires: &'a [String],
}

fn source_json<'a>(key: &Key, source: &'a ValueSource) -> SourceJson<'a> {
    match source {
        ValueSource::Fixture(value) => match credentials::suspected(key, value) {
            Some(kind) => SourceJson::Fixture {
                value: None,
                redacted: Some(format!("looks like {kind}")),
            },
            None => SourceJson::Fixture {
                value: Some(value),
                redacted: None,
            },
        },
        ValueSource::Generate { length, charset } => SourceJson::Generate {
            length: *length,
            charset: *charset,
        },
        ValueSource::External(from) => SourceJson::External {
            from: from.as_deref(),
        },
    }
}

fn key_json(key: &Key) -> KeyJson<'_> {
    KeyJson {
        name: &key.path,
        alias: &key.alias,
        owner: key.owner.as_deref(),
        description: key.description.as_deref(),
        source: source_json(key, &key.source),
        required: key.required,
        overrides: key
            .overrides
            .iter()
            .filter_map(|(env, o)| Some((env.as_str(), source_json(key, o.source.as_ref()?))))
            .collect(),
        min_length: key.min_length,
        rotation: key.rotation.as_deref(),
        secrets: &key.used_by,
    }
}

fn secret_json(secret: &Secret) -> SecretJson<'_> {
    SecretJson {
        name: &secret.name,
        target: &secret.target,
        namespace: &secret.namespace,
        bundle: &secret.bundle,
        owner: secret.owner.as_deref(),
        external_secret: &secret.external_secret,
        secret_type: secret.secret_type.as_deref(),
        refresh_interval: &secret.refresh_interval,
        environments: secret.environments.as_deref(),
        preprovision: secret.preprovision.as_deref(),
        provides: secret.provided_keys(),
        data: secret
            .data
            .iter()
            .map(|(data_key, r)| DataJson {
                data_key,
                key: &r.key,
                property: &r.property,
                decoding_strategy: r.decoding_strategy,
            })
            .collect(),
        extract: &secret.extract,
        consumers: secret
            .consumers
            .iter()
            .map(|c| ConsumerJson {
                name: &c.name,
                via: c.via,
                requires: &c.requires,
                owner: c.owner.as_deref(),
                environments: c.environments.as_deref(),
                sync_wave: c.sync_wave,
            })
            .collect(),
        rotation: secret.rotation.as_deref(),
        description: secret.description.as_deref(),
    }
}

/// `secretcat list WHAT`.
pub fn list(catalog: &Catalog, what: ListKind, format: ListFormat) -> String {
    match (what, format) {
        (ListKind::Keys, ListFormat::Json) => {
            json(catalog.keys.values().map(key_json).collect::<Vec<_>>())
        }
        (ListKind::Secrets, ListFormat::Json) => json(
            catalog
                .secrets
                .values()
                .map(secret_json)
                .collect::<Vec<_>>(),
        ),
        (ListKind::Bundles, ListFormat::Json) => json(
            catalog
                .bundles
                .values()
                .map(|b| BundleJson {
                    name: &b.name,
                    kind: b.kind,
                    release: &b.release,
                    namespace: &b.namespace,
                    owner: b.owner.as_deref(),
                    description: b.description.as_deref(),
                    environments: b.environments.as_deref(),
                    not_installed: &b.not_installed,
                    needs: &b.needs,
                    sync_wave: b.sync_wave,
                    secrets: &b.secrets,
                })
                .collect::<Vec<_>>(),
        ),
        (ListKind::Consumers, ListFormat::Json) => json(
            catalog
                .consumers()
                .into_iter()
                .map(|(s, c)| ConsumerLinkJson {
                    name: &c.name,
                    secret: &s.name,
                    namespace: &s.namespace,
                    via: c.via,
                    requires: &c.requires,
                })
                .collect::<Vec<_>>(),
        ),
        (ListKind::Keys, ListFormat::Text) => table(
            &["KEY", "ALIAS", "OWNER", "VALUE", "SECRETS"],
            catalog.keys.values().map(|k| {
                let owner = k.owner.clone().unwrap_or_default();
                vec![
                    k.path.clone(),
                    k.alias.clone(),
                    owner,
                    source_kind(k),
                    k.used_by.len().to_string(),
                ]
            }),
        ),
        (ListKind::Secrets, ListFormat::Text) => table(
            &[
                "SECRET",
                "NAMESPACE",
                "BUNDLE",
                "OWNER",
                "DATA",
                "CONSUMERS",
            ],
            catalog.secrets.values().map(|s| {
                let owner = s.owner.clone().unwrap_or_default();
                let (data, consumers) = (s.data.len().to_string(), s.consumers.len().to_string());
                vec![
                    s.name.clone(),
                    s.namespace.clone(),
                    s.bundle.clone(),
                    owner,
                    data,
                    consumers,
                ]
            }),
        ),
        (ListKind::Bundles, ListFormat::Text) => table(
            &["BUNDLE", "KIND", "RELEASE", "NAMESPACE", "SECRETS"],
            catalog.bundles.values().map(|b| {
                let kind = b.kind.keyword().to_string();
                vec![
                    b.name.clone(),
                    kind,
                    b.release.clone(),
                    b.namespace.clone(),
                    b.secrets.len().to_string(),
                ]
            }),
        ),
        (ListKind::Consumers, ListFormat::Text) => table(
            &["CONSUMER", "SECRET", "NAMESPACE", "VIA", "REQUIRES"],
            catalog.consumers().into_iter().map(|(s, c)| {
                vec![
                    c.name.clone(),
                    s.name.clone(),
                    s.namespace.clone(),
                    via_name(c.via),
                    c.requires.join(","),
                ]
            }),
        ),
    }
}

fn via_name(via: crate::model::Via) -> String {
    via.keyword().to_string()
}

/// A key's value source for a table column: short, so the column stays narrow; a fixture that
/// looks like a real credential says so.
fn source_kind(key: &Key) -> String {
    match &key.source {
        ValueSource::External(_) => "external".into(),
        ValueSource::Fixture(value) => match credentials::suspected(key, value) {
            Some(kind) => format!("fixture {}", Diagnostic::redacted(kind)),
            None => "fixture".into(),
        },
        source => source_summary(source, false),
    }
}

/// Pretty JSON with a final newline.
fn json(value: impl Serialize) -> String {
    let mut text = crate::terminal::json(serde_json::to_string_pretty(&value).unwrap_or_default());
    text.push('\n');
    text
}

/// Left-aligned columns under a header, separated by two spaces, no trailing spaces; each cell
/// on one line.
fn table(header: &[&str], rows: impl Iterator<Item = Vec<String>>) -> String {
    let rows: Vec<Vec<String>> = std::iter::once(header.iter().map(|h| h.to_string()).collect())
        .chain(rows.map(|row| {
            row.into_iter()
                .map(|cell| visible(&cell).into_owned())
                .collect()
        }))
        .collect();
    let columns = header.len();
    let widths: Vec<usize> = (0..columns)
        .map(|c| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0))
        .collect();
    let mut out = String::new();
    for row in &rows {
        let mut line = String::new();
        for (c, cell) in row.iter().enumerate() {
            line.push_str(cell);
            if c + 1 < columns {
                line.push_str(&" ".repeat(widths[c] - cell.chars().count() + 2));
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// `secretcat explain NAME`: a key or a secret, end to end.
pub fn explain(catalog: &Catalog, files: &Files, name: &str) -> Result<String, Diagnostic> {
    let location = |origin: &crate::model::Origin| {
        let file = files.get(origin.file);
        let pos = file.position(origin.span.start);
        format!("{}:{}", visible(&file.display), pos.line)
    };
    let mut out = String::new();
    if let Some(key) = catalog.keys.get(name) {
        let _ = writeln!(out, "key {} ({})", key.path, location(&key.origin));
        let _ = writeln!(
            out,
            "  Vault:     {}/{}  (KV v2: {}/data/{})",
            catalog.store.mount, key.path, catalog.store.mount, key.path
        );
        let _ = writeln!(out, "  alias:     {}", key.alias);
        let _ = writeln!(
            out,
            "  owner:     {}",
            key.owner.as_deref().unwrap_or("(none)")
        );
        if let Some(description) = &key.description {
            let _ = writeln!(out, "  about:     {}", visible_lines(description));
        }
        let describe = |source: &ValueSource, required: bool| match source {
            ValueSource::Fixture(value) => {
                let shown = match credentials::suspected(key, value) {
                    Some(kind) => Diagnostic::redacted(kind),
                    None => format!("{value:?}"),
                };
                format!(
                    "fixture {} (seeded where fixtures are allowed)",
                    visible(&shown)
                )
            }
            other => visible(&source_summary(other, required)).into_owned(),
        };
        let _ = writeln!(out, "  value:     {}", describe(&key.source, key.required));
        for (env, over) in &key.overrides {
            let source = over.source.as_ref().unwrap_or(&key.source);
            let _ = writeln!(
                out,
                "    in {env}: {}",
                describe(source, key.required_in(Some(env)))
            );
        }
        if let Some(min) = key.min_length {
            let _ = writeln!(out, "  min:       {min} characters");
        }
        if let Some(rotation) = &key.rotation {
            let _ = writeln!(out, "  rotation:  {}", visible_lines(rotation));
        }
        if key.used_by.is_empty() {
            let _ = writeln!(out, "  read by no secret");
        }
        for secret in key.used_by.iter().map(|s| &catalog.secrets[s]) {
            let data_keys: Vec<&str> = secret
                .data
                .iter()
                .filter(|(_, r)| r.key == key.path)
                .map(|(k, _)| k.as_str())
                .collect();
            let _ = writeln!(
                out,
                "  -> ExternalSecret {}/{} -> Secret {} [{}]",
                secret.namespace,
                secret.external_secret,
                secret.target,
                data_keys.join(", ")
            );
            for consumer in &secret.consumers {
                let needs: Vec<&str> = consumer
                    .requires
                    .iter()
                    .filter(|r| data_keys.contains(&r.as_str()))
                    .map(String::as_str)
                    .collect();
                let _ = writeln!(
                    out,
                    "     -> {} via {}{}",
                    consumer.name,
                    via_name(consumer.via),
                    if needs.is_empty() {
                        String::new()
                    } else {
                        format!(" (requires {})", needs.join(", "))
                    }
                );
            }
        }
        return Ok(out);
    }
    if let Some(secret) = catalog.secrets.get(name) {
        let bundle = &catalog.bundles[&secret.bundle];
        let _ = writeln!(out, "secret {} ({})", secret.name, location(&secret.origin));
        let _ = writeln!(
            out,
            "  Secret:          {}/{}{}",
            secret.namespace,
            secret.target,
            secret
                .secret_type
                .as_ref()
                .map_or(String::new(), |t| format!(" (type {t})"))
        );
        let _ = writeln!(
            out,
            "  ExternalSecret:  {}/{} (refresh {})",
            secret.namespace, secret.external_secret, secret.refresh_interval
        );
        let _ = writeln!(
            out,
            "  bundle:          {} (release {})",
            bundle.name, bundle.release
        );
        let _ = writeln!(
            out,
            "  owner:           {}",
            secret.owner.as_deref().unwrap_or("(none)")
        );
        let _ = writeln!(
            out,
            "  environments:    {}",
            secret
                .environments
                .as_ref()
                .map_or_else(|| "all".to_string(), |e| e.join(", "))
        );
        if let Some(description) = &secret.description {
            let _ = writeln!(out, "  about:           {}", visible_lines(description));
        }
        if let Some(rotation) = &secret.rotation {
            let _ = writeln!(out, "  rotation:        {}", visible_lines(rotation));
        }
        let _ = writeln!(out, "  data:");
        let provided = secret.provided_keys();
        for (data_key, reference) in &secret.data {
            let key = &catalog.keys[&reference.key];
            // With a replacing template, fetched keys only feed the template.
            let note = if provided.contains(&data_key.as_str()) {
                ""
            } else {
                ", template input only"
            };
            let _ = writeln!(
                out,
                "    {data_key} <- {}/{} .{} ({}{note})",
                catalog.store.mount,
                reference.key,
                reference.property,
                visible(&source_summary(&key.source, key.required))
            );
        }
        for key in &secret.extract {
            let _ = writeln!(
                out,
                "    (every property) <- {}/{key} (extract)",
                catalog.store.mount
            );
        }
        if let Some(template) = &secret.template {
            for data_key in template.data.keys() {
                let _ = writeln!(out, "    {data_key} <- template");
            }
        }
        let _ = writeln!(out, "  consumers:");
        if secret.consumers.is_empty() {
            let _ = writeln!(out, "    (none declared)");
        }
        for consumer in &secret.consumers {
            let _ = writeln!(
                out,
                "    {} via {} requires [{}]",
                consumer.name,
                via_name(consumer.via),
                consumer.requires.join(", ")
            );
        }
        return Ok(out);
    }
    Err(unknown_name(catalog, name))
}

/// The error for a NAME that is neither a key nor a secret, with the closest name.
pub fn unknown_name(catalog: &Catalog, name: &str) -> Diagnostic {
    let names = catalog
        .keys
        .keys()
        .chain(catalog.secrets.keys())
        .map(String::as_str);
    let diagnostic = Diagnostic::usage(format!("no key or secret named `{name}`"));
    match closest(name, names) {
        Some(best) => diagnostic.help(format!("did you mean `{best}`?")),
        None => {
            diagnostic.help("`secretcat list keys` and `secretcat list secrets` show every name")
        }
    }
}
