//! `import`: a platform's hand-kept secret files → catalog fragments. Reads ExternalSecret
//! manifests (`external-secrets.io/v1` and `v1beta1`), values files that list ExternalSecrets
//! (secretcat's bundle shape, or a map by name), a key map (`store:` + `keys:`) and a fixture map
//! (`fixtures:` + `generate:`). Whatever cannot be expressed in the catalog is reported with its
//! file, document and field, never dropped silently.

mod toml_out;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use heck::ToLowerCamelCase;
use serde_json::Value;

use crate::diagnostics::Diagnostic;
use crate::verify::Manifest;

/// What an import writes, relative to the catalog folder, and what it reports.
pub struct Plan {
    pub files: BTreeMap<PathBuf, String>,
    pub diagnostics: Vec<Diagnostic>,
}

/// The store as the inputs describe it.
#[derive(Default)]
struct Store {
    kind: Option<String>,
    name: Option<String>,
    mount: Option<String>,
    property: Option<String>,
    refresh_interval: Option<String>,
    server: Option<String>,
}

#[derive(Clone, Default)]
struct Bundle {
    name: String,
    kind: &'static str,
    release: Option<String>,
    namespace: Option<String>,
    owner: Option<String>,
    description: Option<String>,
}

/// One ExternalSecret found in the inputs, with where it was found.
struct Found {
    file: String,
    at: String,
    bundle: String,
    name: String,
    namespace: Option<String>,
    spec: Value,
}

struct DataEntry {
    key: String,
    property: Option<String>,
    decoding: Option<String>,
}

struct Secret {
    name: String,
    target: String,
    bundle: String,
    namespace: String,
    external_secret: Option<String>,
    refresh_interval: Option<String>,
    secret_type: Option<String>,
    template: Option<(BTreeMap<String, String>, Option<String>)>,
    data: BTreeMap<String, DataEntry>,
    extract: Vec<String>,
}

#[derive(Default)]
struct Inputs {
    store: Store,
    /// Vault key path → alias, from the key map.
    aliases: BTreeMap<String, String>,
    /// Vault key path → fixture literal (or `__generate__`), from the fixture map.
    fixtures: BTreeMap<String, String>,
    /// Vault key path → (length, charset) of generated values.
    generate: BTreeMap<String, (u64, String)>,
    saw_fixture_map: bool,
    /// Where the fixture map was read, for findings about it.
    fixture_file: Option<(String, String)>,
    bundles: BTreeMap<String, Bundle>,
    found: Vec<Found>,
}

pub fn import(manifests: &[Manifest], catalog_dir: &Path) -> Plan {
    let mut diagnostics = Vec::new();
    let mut inputs = Inputs::default();
    for manifest in manifests {
        read_manifest(manifest, &mut inputs, &mut diagnostics);
    }
    let mount = inputs
        .store
        .mount
        .clone()
        .unwrap_or_else(|| "secret".into());
    let default_property = inputs
        .store
        .property
        .clone()
        .unwrap_or_else(|| "value".into());
    let default_refresh = inputs
        .store
        .refresh_interval
        .clone()
        .unwrap_or_else(|| "1h".into());
    let mut secrets: BTreeMap<String, Secret> = BTreeMap::new();
    let found = std::mem::take(&mut inputs.found);
    for found in found {
        if let Some(secret) = convert(
            &found,
            &mut inputs,
            &mount,
            &default_property,
            &default_refresh,
            &mut diagnostics,
        ) {
            let mut name = secret.target.clone();
            if secrets.contains_key(&name) {
                name = format!("{}-{}", secret.target, secret.namespace);
            }
            secrets.insert(name.clone(), Secret { name, ..secret });
        }
    }
    let files = write_plan(&inputs, &secrets, &mount, catalog_dir, &mut diagnostics);
    Plan { files, diagnostics }
}

fn read_manifest(manifest: &Manifest, inputs: &mut Inputs, diagnostics: &mut Vec<Diagnostic>) {
    let documents: Vec<Value> = match serde_saphyr::from_multiple(&manifest.text) {
        Ok(documents) => documents,
        Err(error) => {
            let reason = error.to_string();
            let reason = reason.lines().next().unwrap_or_default().to_string();
            diagnostics.push(Diagnostic::invalid_manifest(
                &manifest.name,
                &format!("not valid YAML ({reason})"),
            ));
            return;
        }
    };
    let file = manifest.name.as_str();
    let stem_bundle = bundle_from_file_name(file);
    for (index, document) in documents.iter().enumerate() {
        let at = format!("document {}", index + 1);
        let Some(map) = document.as_object() else {
            continue;
        };
        let kind = map.get("kind").and_then(Value::as_str);
        let api = map.get("apiVersion").and_then(Value::as_str).unwrap_or("");
        if kind == Some("ExternalSecret") {
            if !matches!(
                api,
                "external-secrets.io/v1" | "external-secrets.io/v1beta1"
            ) {
                diagnostics.push(Diagnostic::import_unmapped(
                    file,
                    &format!("{at}, apiVersion"),
                    &format!("ExternalSecret `{api}` is neither external-secrets.io/v1 nor v1beta1; read as v1"),
                ));
            }
            let metadata = map.get("metadata");
            let name = metadata
                .and_then(|m| m.get("name"))
                .and_then(Value::as_str)
                .unwrap_or_default();
            inputs
                .bundles
                .entry(stem_bundle.name.clone())
                .or_insert_with(|| stem_bundle.clone());
            inputs.found.push(Found {
                file: file.to_string(),
                at: format!("{at} (ExternalSecret {name})"),
                bundle: stem_bundle.name.clone(),
                name: name.to_string(),
                namespace: metadata
                    .and_then(|m| m.get("namespace"))
                    .and_then(Value::as_str)
                    .map(str::to_string),
                spec: map.get("spec").cloned().unwrap_or(Value::Null),
            });
        } else if let Some(list) = map.get("externalSecrets") {
            let bundle = bundle_of_values(map.get("bundle"), &stem_bundle);
            inputs
                .bundles
                .entry(bundle.name.clone())
                .or_insert_with(|| bundle.clone());
            let entries: Vec<(String, &Value)> = match list {
                Value::Array(items) => items
                    .iter()
                    .enumerate()
                    .map(|(i, v)| (format!("externalSecrets[{i}]"), v))
                    .collect(),
                Value::Object(items) => items
                    .iter()
                    .map(|(name, v)| (format!("externalSecrets.{name}"), v))
                    .collect(),
                _ => Vec::new(),
            };
            for (path, entry) in entries {
                let name = entry
                    .get("name")
                    .and_then(Value::as_str)
                    .map(str::to_string)
                    .or_else(|| path.strip_prefix("externalSecrets.").map(str::to_string))
                    .unwrap_or_default();
                inputs.found.push(Found {
                    file: file.to_string(),
                    at: format!("{at}, {path}"),
                    bundle: bundle.name.clone(),
                    name,
                    namespace: entry
                        .get("namespace")
                        .and_then(Value::as_str)
                        .map(str::to_string)
                        .or_else(|| bundle.namespace.clone()),
                    spec: entry.get("spec").cloned().unwrap_or(Value::Null),
                });
            }
        } else if let Some(Value::Object(keys)) = map.get("keys") {
            read_key_map(file, &at, map.get("store"), keys, inputs, diagnostics);
        } else if let Some(fixtures) = map.get("fixtures") {
            read_fixture_map(
                file,
                &at,
                fixtures,
                map.get("generate"),
                inputs,
                diagnostics,
            );
        } else {
            let what = kind.map_or("a document with no kind".to_string(), |k| format!("a {k}"));
            diagnostics.push(Diagnostic::import_unmapped(
                file,
                &at,
                &format!("{what}, which is neither an ExternalSecret, a values file with `externalSecrets`, a key map nor a fixture map; skipped"),
            ));
        }
    }
}

/// A bundle named after the file it came from: `vault-secrets-NAME.yaml` is the Layer 15 bundle
/// NAME, `integration-secrets.yaml` the integration bundle, `charts/NAME/externalsecrets.yaml`
/// (or any other file) a chart bundle.
fn bundle_from_file_name(file: &str) -> Bundle {
    let path = Path::new(file);
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let stem = stem.trim_end_matches(".values").to_string();
    let generic = [
        "externalsecrets",
        "externalsecret",
        "secrets",
        "values",
        "-",
    ];
    let base = if generic.contains(&stem.as_str()) {
        path.parent()
            .and_then(Path::file_name)
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "imported".into())
    } else {
        stem
    };
    let base = dns_label(&base);
    if let Some(rest) = base.strip_prefix("vault-secrets-") {
        Bundle {
            name: rest.to_string(),
            kind: "layer15",
            release: Some(base.clone()),
            ..Bundle::default()
        }
    } else if base.contains("int-tests") || base == "integration-secrets" {
        Bundle {
            name: "integration".into(),
            kind: "integration",
            release: Some(base.clone()),
            ..Bundle::default()
        }
    } else {
        Bundle {
            name: base,
            kind: "chart",
            ..Bundle::default()
        }
    }
}

fn bundle_of_values(value: Option<&Value>, fallback: &Bundle) -> Bundle {
    let text = |field: &str| {
        value
            .and_then(|b| b.get(field))
            .and_then(Value::as_str)
            .map(str::to_string)
    };
    let kind = match text("kind").as_deref() {
        Some("layer15") => "layer15",
        Some("integration") => "integration",
        Some("chart") => "chart",
        _ => fallback.kind,
    };
    Bundle {
        name: text("name").map_or_else(|| fallback.name.clone(), |n| dns_label(&n)),
        kind,
        release: text("release").or_else(|| fallback.release.clone()),
        namespace: text("namespace"),
        owner: text("owner"),
        description: text("description"),
    }
}

/// Lowercase letters, digits and `-`: the closest DNS-1123 label to `text`.
fn dns_label(text: &str) -> String {
    let mapped: String = text
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    let trimmed = mapped.trim_matches('-');
    if trimmed.is_empty() {
        "imported".into()
    } else {
        trimmed
            .chars()
            .take(63)
            .collect::<String>()
            .trim_end_matches('-')
            .to_string()
    }
}

fn read_key_map(
    file: &str,
    at: &str,
    store: Option<&Value>,
    keys: &serde_json::Map<String, Value>,
    inputs: &mut Inputs,
    diagnostics: &mut Vec<Diagnostic>,
) {
    if let Some(store) = store {
        let text = |field: &str| store.get(field).and_then(Value::as_str).map(str::to_string);
        let target = &mut inputs.store;
        target.kind = target.kind.take().or_else(|| text("kind"));
        target.name = target.name.take().or_else(|| text("name"));
        target.mount = target
            .mount
            .take()
            .or_else(|| text("mount").or_else(|| text("path")));
        target.property = target.property.take().or_else(|| text("property"));
        target.refresh_interval = target
            .refresh_interval
            .take()
            .or_else(|| text("refreshInterval"));
        target.server = target.server.take().or_else(|| text("server"));
    }
    for (alias, path) in keys {
        match path.as_str() {
            Some(path) => {
                inputs.aliases.insert(path.to_string(), alias.clone());
            }
            None => diagnostics.push(Diagnostic::import_unmapped(
                file,
                &format!("{at}, keys.{alias}"),
                "the key map holds a value that is not a Vault key path; skipped",
            )),
        }
    }
}

fn read_fixture_map(
    file: &str,
    at: &str,
    fixtures: &Value,
    generate: Option<&Value>,
    inputs: &mut Inputs,
    diagnostics: &mut Vec<Diagnostic>,
) {
    inputs.saw_fixture_map = true;
    inputs.fixture_file = Some((file.to_string(), at.to_string()));
    for (path, value) in fixtures.as_object().into_iter().flatten() {
        let literal = match value {
            Value::String(s) => s.clone(),
            // YAML read `5432` or `true` as a number or bool; Vault holds it as text.
            Value::Number(n) => n.to_string(),
            Value::Bool(b) => b.to_string(),
            _ => {
                diagnostics.push(Diagnostic::import_unmapped(
                    file,
                    &format!("{at}, fixtures.{path}"),
                    "a fixture that is not a string, number or bool; skipped",
                ));
                continue;
            }
        };
        inputs.fixtures.insert(path.clone(), literal);
    }
    for (path, params) in generate.and_then(Value::as_object).into_iter().flatten() {
        let length = params.get("length").and_then(Value::as_u64);
        let charset = params
            .get("charset")
            .and_then(Value::as_str)
            .unwrap_or("alphanumeric");
        match length {
            Some(length) if length > 0 => {
                inputs
                    .generate
                    .insert(path.clone(), (length, charset.to_string()));
            }
            _ => diagnostics.push(Diagnostic::import_unmapped(
                file,
                &format!("{at}, generate.{path}.length"),
                "no positive length; the key is imported with 32",
            )),
        }
    }
}

/// A Vault key as the catalog names it: relative to the mount, without KV v2's `data/`.
fn relative_key(key: &str, mount: &str) -> String {
    let key = key.trim_start_matches('/');
    for prefix in [format!("{mount}/data/"), format!("{mount}/")] {
        if let Some(rest) = key.strip_prefix(&prefix) {
            return rest.to_string();
        }
    }
    key.to_string()
}

/// Go durations that mean the same: `1h` and `1h0m0s`.
fn same_duration(a: &str, b: &str) -> bool {
    let normal = |d: &str| {
        let mut d = d.to_string();
        for unit in ["0s", "0m"] {
            while d.len() > unit.len() && d.ends_with(unit) && !d.ends_with(&format!("h{unit}")) {
                d.truncate(d.len() - unit.len());
            }
            if let Some(stripped) = d.strip_suffix(&format!("h{unit}")) {
                d = format!("{stripped}h");
            }
        }
        d
    };
    normal(a) == normal(b)
}

/// One ExternalSecret as a catalog secret; every field the catalog cannot express is reported.
fn convert(
    found: &Found,
    inputs: &mut Inputs,
    mount: &str,
    default_property: &str,
    default_refresh: &str,
    diagnostics: &mut Vec<Diagnostic>,
) -> Option<Secret> {
    let mut unmapped = |field: &str, what: &str| {
        diagnostics.push(Diagnostic::import_unmapped(
            &found.file,
            &format!("{}, {field}", found.at),
            what,
        ));
    };
    let spec = &found.spec;
    if !spec.is_object() {
        unmapped("spec", "an ExternalSecret without a spec; skipped");
        return None;
    }
    let bundle_namespace = inputs
        .bundles
        .get(&found.bundle)
        .and_then(|b| b.namespace.clone());
    let namespace = match found.namespace.clone().or(bundle_namespace) {
        Some(namespace) => namespace,
        None => {
            unmapped(
                "metadata.namespace",
                "no namespace here or in its values file; imported into namespace `default`",
            );
            "default".to_string()
        }
    };
    let text = |value: &Value, path: &[&str]| -> Option<String> {
        let mut current = value;
        for step in path {
            current = current.get(step)?;
        }
        current.as_str().map(str::to_string)
    };
    let target = spec.get("target").cloned().unwrap_or(Value::Null);
    let target_name = text(&target, &["name"]).unwrap_or_else(|| found.name.clone());
    let external_secret = (found.name != format!("{target_name}-sync")).then(|| found.name.clone());

    // The store: the first ExternalSecret decides when no key map did.
    let store_kind =
        text(spec, &["secretStoreRef", "kind"]).unwrap_or_else(|| "SecretStore".into());
    let store_name = text(spec, &["secretStoreRef", "name"]);
    let store = &mut inputs.store;
    if store.kind.is_none() {
        store.kind = Some(store_kind.clone());
    }
    if store.name.is_none() {
        store.name = store_name.clone();
    }
    if Some(&store_kind) != store.kind.as_ref() || store_name != store.name {
        unmapped(
            "spec.secretStoreRef",
            &format!(
                "reads store {store_kind}/{}, but the catalog has one store, {}/{}",
                store_name.as_deref().unwrap_or("?"),
                store.kind.as_deref().unwrap_or("?"),
                store.name.as_deref().unwrap_or("?")
            ),
        );
    }
    let refresh_interval =
        text(spec, &["refreshInterval"]).filter(|r| !same_duration(r, default_refresh));
    for (field, default) in [("creationPolicy", "Owner"), ("deletionPolicy", "Retain")] {
        if let Some(value) = text(&target, &[field]).filter(|v| v != default) {
            unmapped(
                &format!("spec.target.{field}"),
                &format!("`{value}`: the catalog always renders `{default}`"),
            );
        }
    }
    for field in ["immutable", "manifest"] {
        if target.get(field).is_some() {
            unmapped(
                &format!("spec.target.{field}"),
                "not expressible in the catalog",
            );
        }
    }
    for field in ["refreshPolicy", "syncWindows"] {
        if spec.get(field).is_some() {
            unmapped(&format!("spec.{field}"), "not expressible in the catalog");
        }
    }
    let mut secret_type = None;
    let mut template = None;
    if let Some(t) = target.get("template") {
        secret_type = text(t, &["type"]);
        if let Some(version) = text(t, &["engineVersion"]).filter(|v| v != "v2") {
            unmapped(
                "spec.target.template.engineVersion",
                &format!("`{version}`: the catalog supports v2 only"),
            );
        }
        for field in ["templateFrom", "metadata"] {
            if t.get(field).is_some() {
                unmapped(
                    &format!("spec.target.template.{field}"),
                    "not expressible in the catalog",
                );
            }
        }
        let data: BTreeMap<String, String> = t
            .get("data")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
            .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
            .collect();
        let merge = text(t, &["mergePolicy"]).filter(|m| m != "Replace");
        if !data.is_empty() || merge.is_some() {
            template = Some((data, merge));
        }
    }
    let mut data = BTreeMap::new();
    for (i, entry) in spec
        .get("data")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
    {
        let field = format!("spec.data[{i}]");
        let (Some(secret_key), Some(key)) = (
            text(entry, &["secretKey"]),
            text(entry, &["remoteRef", "key"]),
        ) else {
            unmapped(&field, "no secretKey or remoteRef.key; skipped");
            continue;
        };
        let remote = entry.get("remoteRef").cloned().unwrap_or(Value::Null);
        let Some(property) = text(&remote, &["property"]).filter(|p| !p.is_empty()) else {
            unmapped(
                &format!("{field}.remoteRef.property"),
                "no property: ESO then returns the whole Vault entry as JSON, which the catalog cannot express; skipped",
            );
            continue;
        };
        for (name, default) in [
            ("conversionStrategy", "Default"),
            ("metadataPolicy", "None"),
            ("nullBytePolicy", "Ignore"),
        ] {
            if let Some(value) = text(&remote, &[name]).filter(|v| v != default) {
                unmapped(
                    &format!("{field}.remoteRef.{name}"),
                    &format!("`{value}`: the catalog always renders `{default}`"),
                );
            }
        }
        if remote.get("version").is_some() {
            unmapped(
                &format!("{field}.remoteRef.version"),
                "a pinned version is not expressible in the catalog; the latest is read",
            );
        }
        if entry.get("sourceRef").is_some() {
            unmapped(
                &format!("{field}.sourceRef"),
                "a per-entry store is not expressible in the catalog",
            );
        }
        let decoding = text(&remote, &["decodingStrategy"]).filter(|d| d != "None");
        data.insert(
            secret_key,
            DataEntry {
                key: relative_key(&key, mount),
                property: (property != default_property).then_some(property),
                decoding,
            },
        );
    }
    let mut extract = Vec::new();
    for (i, entry) in spec
        .get("dataFrom")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
    {
        let field = format!("spec.dataFrom[{i}]");
        match (entry.get("extract"), text(entry, &["extract", "key"])) {
            (Some(extract_ref), Some(key)) => {
                for (name, default) in [
                    ("conversionStrategy", "Default"),
                    ("decodingStrategy", "None"),
                    ("metadataPolicy", "None"),
                ] {
                    if let Some(value) = text(extract_ref, &[name]).filter(|v| v != default) {
                        unmapped(
                            &format!("{field}.extract.{name}"),
                            &format!("`{value}`: the catalog always renders `{default}`"),
                        );
                    }
                }
                if extract_ref.get("property").is_some() || extract_ref.get("version").is_some() {
                    unmapped(
                        &format!("{field}.extract"),
                        "property and version are not expressible in the catalog",
                    );
                }
                extract.push(relative_key(&key, mount));
            }
            _ => {
                let kind = entry
                    .as_object()
                    .and_then(|m| m.keys().next().cloned())
                    .unwrap_or_else(|| "?".into());
                unmapped(
                    &format!("{field}.{kind}"),
                    "only dataFrom.extract is expressible in the catalog (as `extract`); skipped",
                );
            }
        }
        if entry.get("rewrite").is_some() {
            unmapped(
                &format!("{field}.rewrite"),
                "not expressible in the catalog",
            );
        }
    }
    if data.is_empty() && extract.is_empty() {
        unmapped(
            "spec.data",
            "nothing this ExternalSecret reads could be imported; skipped",
        );
        return None;
    }
    Some(Secret {
        name: target_name.clone(),
        target: target_name,
        bundle: found.bundle.clone(),
        namespace,
        external_secret,
        refresh_interval,
        secret_type,
        template,
        data,
        extract,
    })
}

fn write_plan(
    inputs: &Inputs,
    secrets: &BTreeMap<String, Secret>,
    mount: &str,
    catalog_dir: &Path,
    diagnostics: &mut Vec<Diagnostic>,
) -> BTreeMap<PathBuf, String> {
    use toml_out::{Table, quote};
    let mut files: BTreeMap<PathBuf, String> = BTreeMap::new();
    let schema = "#:schema ../generated/catalog.schema.json\n";
    let settings = catalog_dir.join(crate::load::ROOT_FILE);
    if !settings.exists() {
        let store = &inputs.store;
        let mut text = format!(
            "{schema}# Catalog-wide settings, written by `secretcat import`: review them.\n\n"
        );
        let mut table = Table::new("store");
        table.set(
            "kind",
            store.kind.as_deref().unwrap_or("ClusterSecretStore"),
        );
        table.set("name", store.name.as_deref().unwrap_or("vault"));
        table.set("mount", mount);
        table.set_opt("property", store.property.as_deref());
        table.set_opt("refresh_interval", store.refresh_interval.as_deref());
        table.set_opt("server", store.server.as_deref());
        text.push_str(&table.render());
        if inputs.saw_fixture_map {
            text.push_str(
                "\n# The imported fixture map is seeded here; add the other environments.\n",
            );
            let mut local = Table::new("environments.local");
            local.raw("fixtures", "true");
            text.push_str(&local.render());
        }
        files.insert(PathBuf::from(crate::load::ROOT_FILE), text);
    }

    // Every key path the secrets read, in the bundle that reads it first.
    let mut key_home: BTreeMap<&str, &str> = BTreeMap::new();
    for secret in secrets.values() {
        for key in secret
            .data
            .values()
            .map(|d| d.key.as_str())
            .chain(secret.extract.iter().map(String::as_str))
        {
            key_home.entry(key).or_insert(secret.bundle.as_str());
        }
    }
    let all_keys: BTreeSet<&str> = key_home
        .keys()
        .copied()
        .chain(inputs.aliases.keys().map(String::as_str))
        .chain(inputs.fixtures.keys().map(String::as_str))
        .chain(inputs.generate.keys().map(String::as_str))
        .collect();
    let mut fragments: BTreeMap<String, String> = BTreeMap::new();
    for (name, bundle) in &inputs.bundles {
        if !secrets.values().any(|s| &s.bundle == name) {
            continue;
        }
        let mut table = Table::new(&format!("bundles.{}", toml_out::key(name)));
        table.set("kind", bundle.kind);
        table.set_opt("release", bundle.release.as_deref());
        let namespace = bundle.namespace.clone().or_else(|| {
            secrets
                .values()
                .find(|s| &s.bundle == name)
                .map(|s| s.namespace.clone())
        });
        table.set("namespace", namespace.as_deref().unwrap_or("default"));
        table.set_opt("owner", bundle.owner.as_deref());
        table.set_opt("description", bundle.description.as_deref());
        fragments
            .entry(name.clone())
            .or_default()
            .push_str(&table.render());
    }
    for path in &all_keys {
        let home = key_home.get(path).copied().unwrap_or("keys");
        let mut table = Table::new(&format!("keys.{}", toml_out::key(path)));
        if let Some(alias) = inputs
            .aliases
            .get(*path)
            .filter(|a| **a != path.to_lower_camel_case())
        {
            table.set("alias", alias);
        }
        match (inputs.fixtures.get(*path), inputs.generate.get(*path)) {
            (Some(marker), generate) if marker == crate::render::views::GENERATE_MARKER => {
                if generate.is_none()
                    && let Some((file, at)) = &inputs.fixture_file
                {
                    diagnostics.push(Diagnostic::import_unmapped(
                        file,
                        &format!("{at}, fixtures.{path}"),
                        "`__generate__` without a `generate` entry: imported with length 32",
                    ));
                }
                let (length, charset) = generate.cloned().unwrap_or((32, "alphanumeric".into()));
                let charset = if charset == "alphanumeric" {
                    String::new()
                } else {
                    format!(", charset = {}", quote(&charset))
                };
                table.raw("generate", &format!("{{ length = {length}{charset} }}"));
            }
            (Some(fixture), _) => table.set("fixture", fixture),
            (None, Some((length, _))) => {
                table.raw("generate", &format!("{{ length = {length} }}"));
            }
            (None, None) => {
                let from = if inputs.saw_fixture_map {
                    "not in the imported fixture map"
                } else {
                    "imported without a fixture map"
                };
                table.set("external", from);
            }
        }
        fragments
            .entry(home.to_string())
            .or_default()
            .push_str(&table.render());
    }
    for secret in secrets.values() {
        let mut table = Table::new(&format!("secrets.{}", toml_out::key(&secret.name)));
        table.set("bundle", &secret.bundle);
        let bundle_namespace = inputs
            .bundles
            .get(&secret.bundle)
            .and_then(|b| b.namespace.clone())
            .or_else(|| {
                secrets
                    .values()
                    .find(|s| s.bundle == secret.bundle)
                    .map(|s| s.namespace.clone())
            });
        if bundle_namespace.as_deref() != Some(secret.namespace.as_str()) {
            table.set("namespace", &secret.namespace);
        }
        if secret.target != secret.name {
            table.set("target", &secret.target);
        }
        table.set_opt("external_secret", secret.external_secret.as_deref());
        table.set_opt("type", secret.secret_type.as_deref());
        table.set_opt("refresh_interval", secret.refresh_interval.as_deref());
        if let Some((data, merge)) = &secret.template {
            if let Some(merge) = merge {
                table.set("template.merge_policy", merge);
            }
            for (key, value) in data {
                table.set(&format!("template.data.{}", toml_out::key(key)), value);
            }
        }
        for (data_key, entry) in &secret.data {
            let field = format!("data.{}", toml_out::key(data_key));
            match (&entry.property, &entry.decoding) {
                (None, None) => table.set(&field, &entry.key),
                (property, decoding) => {
                    let mut parts = vec![format!("key = {}", quote(&entry.key))];
                    if let Some(property) = property {
                        parts.push(format!("property = {}", quote(property)));
                    }
                    if let Some(decoding) = decoding {
                        parts.push(format!("decoding_strategy = {}", quote(decoding)));
                    }
                    table.raw(&field, &format!("{{ {} }}", parts.join(", ")));
                }
            }
        }
        if !secret.extract.is_empty() {
            let list: Vec<String> = secret.extract.iter().map(|k| quote(k)).collect();
            table.raw("extract", &format!("[{}]", list.join(", ")));
        }
        fragments
            .entry(secret.bundle.clone())
            .or_default()
            .push_str(&table.render());
    }
    for (name, body) in fragments {
        let path = PathBuf::from(format!("{name}.toml"));
        let text = format!(
            "{schema}# Imported by `secretcat import`: review owners, descriptions and environments.\n\n{body}"
        );
        files.insert(path, text);
    }
    for text in files.values_mut() {
        let trimmed = text.trim_end().len();
        text.truncate(trimmed);
        text.push('\n');
    }
    for path in files.keys() {
        let on_disk = catalog_dir.join(path);
        if on_disk.exists() {
            diagnostics.push(Diagnostic::import_conflict(
                &crate::source::display_path(&on_disk),
                "already exists; import writes new files only",
            ));
        }
    }
    files
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;
    use std::path::Path;

    use serde_json::Value;

    use super::import;
    use crate::verify::Manifest;

    /// Each ExternalSecret of a set of bundle values files, as the tuple ESO acts on.
    fn external_secrets(files: &[(String, String)]) -> BTreeSet<String> {
        let mut all = BTreeSet::new();
        for (_, text) in files {
            let document: Value = serde_saphyr::from_str(text).unwrap();
            for es in document["externalSecrets"].as_array().into_iter().flatten() {
                let mut es = es.clone();
                // Ordering metadata is the catalog's own, not something an import carries over.
                es.as_object_mut().unwrap().remove("annotations");
                all.insert(serde_json::to_string(&es).unwrap());
            }
        }
        all
    }

    fn manifests(dir: &Path, pick: impl Fn(&str) -> bool) -> Vec<Manifest> {
        let mut out = Vec::new();
        for entry in walk(dir) {
            let name = entry.to_string_lossy().into_owned();
            if pick(&name) {
                let text = std::fs::read_to_string(&entry).unwrap();
                out.push(Manifest { name, text });
            }
        }
        out
    }

    fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
        let mut out = Vec::new();
        for entry in std::fs::read_dir(dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                out.extend(walk(&path));
            } else {
                out.push(path);
            }
        }
        out.sort();
        out
    }

    #[test]
    fn importing_the_generated_files_gives_back_the_same_external_secrets() {
        let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
        // What local deploys: its own folder and the files every environment shares.
        let generated = repo.join("generated");
        let other = ["dev", "staging", "production"].map(|e| format!("generated/{e}/"));
        let inputs = manifests(&generated, |n| {
            n.ends_with(".yaml")
                && !n.ends_with("15-secrets.values.yaml")
                && !other.iter().any(|o| n.contains(o.as_str()))
        });
        let original: Vec<(String, String)> = inputs
            .iter()
            .filter(|m| m.text.contains("\nexternalSecrets:"))
            .map(|m| (m.name.clone(), m.text.clone()))
            .collect();
        assert!(original.len() > 20);

        let scratch = tempfile::tempdir().unwrap();
        let catalog_dir = scratch.path().join("catalog");
        let plan = import(&inputs, &catalog_dir);
        assert!(plan.diagnostics.is_empty(), "{:#?}", plan.diagnostics);
        std::fs::create_dir_all(&catalog_dir).unwrap();
        for (path, text) in &plan.files {
            std::fs::write(catalog_dir.join(path), text).unwrap();
        }
        let compiled = crate::compile(&catalog_dir, scratch.path());
        let errors: Vec<_> = compiled
            .diagnostics
            .iter()
            .filter(|d| d.severity == crate::diagnostics::Severity::Error)
            .collect();
        assert!(errors.is_empty(), "{errors:#?}");
        let catalog = compiled.catalog.as_ref().unwrap();
        let templates = crate::render::Templates::builtin();
        let rendered = crate::render::render(catalog, &templates, &compiled.files).unwrap();
        let regenerated: Vec<(String, String)> = rendered
            .into_iter()
            .filter(|(_, text)| text.contains("\nexternalSecrets:"))
            .collect();
        let before = external_secrets(&original);
        let after = external_secrets(&regenerated);
        assert_eq!(before.len(), 61);
        let missing: Vec<_> = before.difference(&after).collect();
        let extra: Vec<_> = after.difference(&before).collect();
        assert!(
            missing.is_empty() && extra.is_empty(),
            "missing {missing:#?}\nextra {extra:#?}"
        );
    }
}

#[cfg(test)]
mod legacy_tests {
    use std::path::Path;

    use super::import;
    use crate::diagnostics::Code;
    use crate::verify::Manifest;

    fn legacy() -> Vec<Manifest> {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/import/legacy");
        let mut names: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .collect();
        names.sort();
        names
            .into_iter()
            .map(|path| Manifest {
                name: format!("legacy/{}", path.file_name().unwrap().to_string_lossy()),
                text: std::fs::read_to_string(&path).unwrap(),
            })
            .collect()
    }

    #[test]
    fn hand_kept_files_import_with_every_unmappable_field_named() {
        let scratch = tempfile::tempdir().unwrap();
        let catalog_dir = scratch.path().join("catalog");
        let plan = import(&legacy(), &catalog_dir);
        let mut findings: Vec<String> = plan
            .diagnostics
            .iter()
            .map(|d| {
                assert_eq!(d.code, Code::ImportUnmapped, "{}", d.message);
                format!(
                    "{}: {}",
                    d.path.as_deref().unwrap_or(""),
                    d.message.split(": ").next().unwrap()
                )
            })
            .collect();
        findings.sort();
        assert_eq!(
            findings,
            [
                "legacy/foundation-vault-bootstrap.fixtures.yaml: document 1, fixtures.langfuse",
                "legacy/vault-secrets-platform.yaml: document 4 (ExternalSecret ghcr-pull-sync), spec.dataFrom[0].find",
                "legacy/vault-secrets-platform.yaml: document 4 (ExternalSecret ghcr-pull-sync), spec.data[2].remoteRef.property",
                "legacy/vault-secrets-platform.yaml: document 4 (ExternalSecret ghcr-pull-sync), spec.target.template.templateFrom",
                "legacy/vault-secrets-platform.yaml: document 5",
            ]
        );

        std::fs::create_dir_all(&catalog_dir).unwrap();
        for (path, text) in &plan.files {
            std::fs::write(catalog_dir.join(path), text).unwrap();
        }
        let compiled = crate::compile(&catalog_dir, scratch.path());
        let errors: Vec<_> = compiled
            .diagnostics
            .iter()
            .filter(|d| d.severity == crate::diagnostics::Severity::Error)
            .collect();
        assert!(errors.is_empty(), "{errors:#?}");
        let catalog = compiled.catalog.as_ref().unwrap();
        let files = crate::render::render(
            catalog,
            &crate::render::Templates::builtin(),
            &compiled.files,
        )
        .unwrap();
        let bundle: serde_json::Value =
            serde_saphyr::from_str(&files["generated/vault-secrets-platform.yaml"]).unwrap();
        let by_name = |name: &str| {
            bundle["externalSecrets"]
                .as_array()
                .unwrap()
                .iter()
                .find(|es| es["name"] == name)
                .unwrap_or_else(|| panic!("no ExternalSecret {name}"))
                .clone()
        };
        // Mount prefixes (`secret/`, `secret/data/`) are gone: ESO reads the same Vault entry.
        let platform = by_name("platform-db-credentials-sync");
        let keys: Vec<&str> = platform["spec"]["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["remoteRef"]["key"].as_str().unwrap())
            .collect();
        assert_eq!(keys, ["platform-db-password", "platform-db-url"]);
        // v1beta1, a name outside the <target>-sync convention, a decoding strategy.
        let graph = by_name("graph-db");
        assert_eq!(graph["namespace"], "ameide");
        assert_eq!(graph["spec"]["target"]["name"], "graph-db-credentials");
        assert_eq!(graph["spec"]["refreshInterval"], "15m");
        assert_eq!(
            graph["spec"]["data"][1]["remoteRef"]["decodingStrategy"],
            "Base64"
        );
        // dataFrom.extract stays a whole-key extract.
        let langfuse = by_name("langfuse-secrets-sync");
        assert_eq!(
            langfuse["spec"]["dataFrom"][0]["extract"]["key"],
            "langfuse"
        );
        // The template and its type survive; the unmappable parts are gone (and were reported).
        let ghcr = by_name("ghcr-pull-sync");
        assert_eq!(
            ghcr["spec"]["target"]["template"]["type"],
            "kubernetes.io/dockerconfigjson"
        );
        assert_eq!(ghcr["spec"]["data"].as_array().unwrap().len(), 2);
        // Fixtures, generated values and keys without a fixture.
        let fixtures: serde_json::Value =
            serde_saphyr::from_str(&files["generated/foundation-vault-bootstrap.fixtures.yaml"])
                .unwrap();
        assert_eq!(fixtures["fixtures"]["platform-db-password"], "__generate__");
        assert_eq!(fixtures["fixtures"]["legacy-unused"], "5432");
        assert!(
            fixtures["fixtures"].get("ghcr-token").is_none(),
            "no fixture: external"
        );
        let key_map: serde_json::Value =
            serde_saphyr::from_str(&files["generated/vault-secrets.base.yaml"]).unwrap();
        assert_eq!(key_map["keys"]["graphDatabaseUrl"], "graph-db-url");
    }

    #[test]
    fn an_existing_catalog_file_is_never_overwritten() {
        let scratch = tempfile::tempdir().unwrap();
        let catalog_dir = scratch.path().join("catalog");
        std::fs::create_dir_all(&catalog_dir).unwrap();
        std::fs::write(catalog_dir.join("platform.toml"), "# mine\n").unwrap();
        let plan = import(&legacy(), &catalog_dir);
        assert!(plan.diagnostics.iter().any(|d| {
            d.code == Code::ImportConflict
                && d.path
                    .as_deref()
                    .is_some_and(|p| p.ends_with("platform.toml"))
        }));
    }
}
