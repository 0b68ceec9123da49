//! Hostile input: every string of `tests/hostile/values.json`, plus a 1 MiB value generated here,
//! must come back byte-identical from the YAML outputs. One catalog uses each value as a fixture,
//! as the description of a key, a bundle and a secret, as an ESO template string, and, where the
//! value satisfies the name rules, as a Vault key path, a namespace, a bundle name, a Secret name
//! and a data key. Every YAML output is parsed back with serde-saphyr and each value is looked up
//! at its exact location.
//!
//! With `SECRETCAT_HOSTILE_DIR=DIR`, the rendered files and `expected.json` (per YAML file: a
//! list of `[path as keys and indexes, expected string]`) are written to DIR, for the YAML 1.1
//! readers of `tests/e2e/hostile_readers.py` (PyYAML and Helm). `tests/e2e/run.sh` runs both.

// The summary line says how many locations were checked; it is the point of the test's output.
#![allow(clippy::print_stderr)]

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use secretcat::validate::names;
use serde_json::{Value, json};

/// Size of the generated value, in bytes.
const BIG_LEN: usize = 1 << 20;
/// Namespace of the per-value bundles.
const NAMESPACE: &str = "hostile";
const FIXTURES: &str = "generated/foundation-vault-bootstrap.fixtures.yaml";
const KEY_MAP: &str = "generated/vault-secrets.base.yaml";

fn hostile_values() -> Vec<String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/hostile/values.json");
    let text = std::fs::read_to_string(&path).expect("tests/hostile/values.json is readable");
    let values: Vec<String> = serde_json::from_str(&text).expect("a JSON array of strings");
    let mut unique = values.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), values.len(), "values.json has duplicates");
    assert!(values.len() >= 200, "only {} hostile values", values.len());
    values
}

/// Exactly 1 MiB: one 256 KiB line without a break, then every hostile value over and over,
/// one per line, so that the big value holds every hostile character in every position.
fn big_value(values: &[String]) -> String {
    let mut big: String = "0123456789abcdef".repeat(BIG_LEN / 4 / 16);
    big.push('\n');
    'fill: loop {
        for value in values {
            if big.len() + value.len() + 1 > BIG_LEN {
                break 'fill;
            }
            big.push_str(value);
            big.push('\n');
        }
    }
    while big.len() < BIG_LEN {
        big.push('x');
    }
    assert_eq!(big.len(), BIG_LEN);
    big
}

/// A TOML basic string (also a quoted key) holding `s`, written in ASCII only.
fn toml_str(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            ' '..='~' => out.push(c),
            c if (c as u32) <= 0xFFFF => write!(out, "\\u{:04X}", c as u32).unwrap(),
            c => write!(out, "\\U{:08X}", c as u32).unwrap(),
        }
    }
    out.push('"');
    out
}

/// One string the outputs must hold: file, location (keys and indexes) and bytes.
struct Expected {
    file: String,
    path: Vec<Value>,
    value: String,
}

fn at(file: &str, path: Value, value: &str) -> Expected {
    Expected {
        file: file.to_string(),
        path: path.as_array().expect("a path is an array").clone(),
        value: value.to_string(),
    }
}

/// The catalog sources and everything the rendered YAML must hold.
struct Plan {
    sources: Vec<(PathBuf, String)>,
    expected: Vec<Expected>,
    /// Secrets per bundle file, in the order the file lists them (sorted by catalog name).
    external_secrets: BTreeMap<String, usize>,
}

/// The catalog: per value `i`, key `hv-i` (fixture and description), bundle `b-i` (description)
/// holding secret `s-i` (description, template string). Where the value satisfies the rule of a
/// name, it is also: the alias of `hv-i` (a key of the key map), the owner of `b-i`, the Secret
/// type, refresh interval and a `remoteRef.property` of `s-i`, the path of a key `s-i` reads
/// (a key of the fixture map), the data key of a secret `s-i-d`, the name of a secret, and the
/// name and namespace of a chart bundle holding secret `n-i`.
fn plan(values: &[(String, String)]) -> Plan {
    let mut root = String::new();
    root.push_str("[store]\nname = \"hostile-vault\"\nmount = \"secret\"\n\n");
    root.push_str("[environments.local]\nfixtures = true\n");
    let mut catalog = String::new();
    // Keys written apart from the per-value tables.
    let mut catalog_extra = String::new();
    let mut expected = Vec::new();
    let mut external_secrets = BTreeMap::new();
    let fixed_names: Vec<String> = values
        .iter()
        .flat_map(|(id, _)| {
            [
                format!("hv-{id}"),
                format!("b-{id}"),
                format!("s-{id}"),
                format!("s-{id}-d"),
                format!("n-{id}"),
                format!("hx-{id}"),
            ]
        })
        .collect();

    for (id, value) in values {
        let v = toml_str(value);
        let key = format!("hv-{id}");
        let bundle = format!("b-{id}");
        let secret = format!("s-{id}");
        let bundle_file = format!("generated/vault-secrets-{bundle}.yaml");
        assert!(
            !fixed_names.contains(value),
            "hostile value {value:?} clashes with a name of the test catalog"
        );
        let key_path = names::vault_path(value).is_none()
            && !value.starts_with("secret/")
            && value != "secret";
        let data_key = names::eso_data_key(value);
        let secret_name = names::dns1123_subdomain(value).is_none();
        // A chart bundle's release is its name, which must be a 53-character label.
        let bundle_name = names::dns1123_label(value, 53).is_none();
        let alias = names::alias(value).is_none();
        let owner = names::simple_name(value).is_none();
        let secret_type = names::secret_type(value).is_none();
        let duration = names::go_duration(value);
        let property = !value.is_empty() && !value.chars().any(char::is_control);

        writeln!(
            catalog,
            "[keys.{key}]\nowner = \"hostile\"\ndescription = {v}\nfixture = {v}"
        )
        .unwrap();
        expected.push(at(FIXTURES, json!(["fixtures", key]), value));
        if alias {
            // The key map is alias -> path: the value becomes a mapping key.
            writeln!(catalog, "alias = {v}").unwrap();
            expected.push(at(KEY_MAP, json!(["keys", value]), &key));
        }
        catalog.push('\n');
        if key_path {
            let alias = format!("kp_{id}");
            writeln!(
                catalog,
                "[keys.{v}]\nalias = \"{alias}\"\ndescription = {v}\nfixture = {v}\n"
            )
            .unwrap();
            expected.push(at(FIXTURES, json!(["fixtures", value]), value));
            expected.push(at(KEY_MAP, json!(["keys", alias]), value));
        }

        writeln!(
            catalog,
            "[bundles.{bundle}]\nkind = \"layer15\"\nnamespace = \"{NAMESPACE}\"\ndescription = {v}"
        )
        .unwrap();
        expected.push(at(&bundle_file, json!(["bundle", "description"]), value));
        if owner {
            writeln!(catalog, "owner = {v}").unwrap();
            expected.push(at(&bundle_file, json!(["bundle", "owner"]), value));
        }
        catalog.push('\n');

        // The secrets of bundle b-i, by catalog name (the order the bundle file lists them in).
        let mut secrets: BTreeMap<String, Vec<(Value, String)>> = BTreeMap::new();
        writeln!(
            catalog,
            "[secrets.{secret}]\nbundle = \"{bundle}\"\nowner = \"hostile\"\ndescription = {v}\ntemplate.data.tpl = {v}"
        )
        .unwrap();
        let mut checks = vec![(
            json!(["spec", "target", "template", "data", "tpl"]),
            value.clone(),
        )];
        if secret_type {
            writeln!(catalog, "type = {v}").unwrap();
            checks.push((json!(["spec", "target", "template", "type"]), value.clone()));
        }
        if duration {
            writeln!(catalog, "refresh_interval = {v}").unwrap();
            checks.push((json!(["spec", "refreshInterval"]), value.clone()));
        }
        // Data entries, sorted by data key: (TOML value, field of remoteRef holding the value).
        let mut data: BTreeMap<&str, (String, Option<&str>)> = BTreeMap::new();
        data.insert("A", (format!("\"{key}\""), None));
        if key_path {
            data.insert("B", (v.clone(), Some("key")));
        }
        if property {
            // A property other than the store's is only allowed on a key that is not seeded.
            let external = format!("hx-{id}");
            writeln!(catalog_extra, "[keys.{external}]\nexternal = {v}\n").unwrap();
            data.insert(
                "P",
                (
                    format!("{{ key = \"{external}\", property = {v} }}"),
                    Some("property"),
                ),
            );
        }
        for (index, (data_key, (reference, field))) in data.into_iter().enumerate() {
            writeln!(catalog, "data.{data_key} = {reference}").unwrap();
            if let Some(field) = field {
                checks.push((
                    json!(["spec", "data", index, "remoteRef", field]),
                    value.clone(),
                ));
            }
        }
        catalog.push('\n');
        secrets.insert(secret.clone(), checks);

        if data_key {
            let name = format!("{secret}-d");
            writeln!(
                catalog,
                "[secrets.{name}]\nbundle = \"{bundle}\"\ndata.{v} = \"{key}\"\n"
            )
            .unwrap();
            secrets.insert(
                name,
                vec![(json!(["spec", "data", 0, "secretKey"]), value.clone())],
            );
        }
        if secret_name {
            writeln!(
                catalog,
                "[secrets.{v}]\nbundle = \"{bundle}\"\ndata.A = \"{key}\"\n"
            )
            .unwrap();
            secrets.insert(
                value.clone(),
                vec![
                    (json!(["spec", "target", "name"]), value.clone()),
                    (json!(["name"]), format!("{value}-sync")),
                ],
            );
        }
        external_secrets.insert(bundle_file.clone(), secrets.len());
        for (index, (_, checks)) in secrets.into_iter().enumerate() {
            for (path, value) in checks {
                let mut full = vec![json!("externalSecrets"), json!(index)];
                full.extend(path.as_array().unwrap().iter().cloned());
                expected.push(at(&bundle_file, Value::Array(full), &value));
            }
        }

        if bundle_name {
            let file = format!("generated/charts/{value}/externalsecrets.yaml");
            writeln!(
                catalog,
                "[bundles.{v}]\nkind = \"chart\"\nnamespace = {v}\ndescription = {v}\n"
            )
            .unwrap();
            writeln!(
                catalog,
                "[secrets.n-{id}]\nbundle = {v}\nnamespace = {v}\ndata.A = \"{key}\"\n"
            )
            .unwrap();
            for field in ["name", "namespace", "release", "description"] {
                expected.push(at(&file, json!(["bundle", field]), value));
            }
            expected.push(at(&file, json!(["externalSecrets", 0, "namespace"]), value));
            external_secrets.insert(file, 1);
        }
    }
    Plan {
        sources: vec![
            (PathBuf::from("secretcat.toml"), root),
            (PathBuf::from("hostile.toml"), catalog),
            (PathBuf::from("external.toml"), catalog_extra),
        ],
        expected,
        external_secrets,
    }
}

fn lookup<'a>(mut node: &'a Value, path: &[Value]) -> Option<&'a Value> {
    for step in path {
        node = match step {
            Value::Number(index) => node.as_array()?.get(index.as_u64()? as usize)?,
            Value::String(key) => node.as_object()?.get(key)?,
            _ => return None,
        };
    }
    Some(node)
}

/// A value as a failure message shows it: escaped, and cut short when long.
fn shown(value: &str) -> String {
    let escaped = format!("{value:?}");
    if escaped.len() > 200 {
        let cut = (0..=200)
            .rev()
            .find(|&i| escaped.is_char_boundary(i))
            .unwrap();
        format!("{}... ({} bytes)", &escaped[..cut], value.len())
    } else {
        escaped
    }
}

#[test]
fn hostile_values_survive_every_yaml_output() {
    let values = hostile_values();
    let big = big_value(&values);
    let mut labelled: Vec<(String, String)> = values
        .iter()
        .enumerate()
        .map(|(i, v)| (format!("{i:03}"), v.clone()))
        .collect();
    labelled.push(("big".into(), big));
    let plan = plan(&labelled);

    let compiled = secretcat::compile_sources(plan.sources);
    let report: String = compiled
        .diagnostics
        .iter()
        .map(|d| secretcat::report::text(&compiled.files, d))
        .collect();
    assert!(
        !compiled.has_errors(),
        "the hostile catalog does not compile:\n{report}"
    );
    let catalog = compiled.catalog.as_ref().unwrap();
    let rendered = match secretcat::render::render(
        catalog,
        &secretcat::render::Templates::builtin(),
        &compiled.files,
    ) {
        Ok(files) => files,
        Err(problems) => {
            let report: String = problems
                .iter()
                .map(|d| secretcat::report::text(&compiled.files, d))
                .collect();
            panic!("the hostile catalog does not render:\n{report}");
        }
    };

    let mut parsed: BTreeMap<&str, Value> = BTreeMap::new();
    let mut failures = Vec::new();
    for (path, text) in &rendered {
        if !path.ends_with(".yaml") {
            continue;
        }
        match serde_saphyr::from_str_with_options::<Value>(
            text,
            serde_saphyr::options! { budget: None },
        ) {
            Ok(value) => {
                parsed.insert(path, value);
            }
            Err(error) => failures.push(format!("{path}: serde-saphyr cannot read it: {error}")),
        }
    }
    for (file, count) in &plan.external_secrets {
        let listed = parsed
            .get(file.as_str())
            .and_then(|doc| doc.get("externalSecrets"))
            .and_then(Value::as_array)
            .map(Vec::len);
        if listed != Some(*count) {
            failures.push(format!(
                "{file}: expected {count} ExternalSecrets, found {listed:?}"
            ));
        }
    }
    let mut checked = 0;
    for expected in &plan.expected {
        let Some(doc) = parsed.get(expected.file.as_str()) else {
            failures.push(format!(
                "{}: not rendered or not readable (wanted {} at {})",
                expected.file,
                shown(&expected.value),
                Value::Array(expected.path.clone())
            ));
            continue;
        };
        checked += 1;
        match lookup(doc, &expected.path) {
            Some(Value::String(found)) if *found == expected.value => {}
            found => failures.push(format!(
                "{} {}: expected {}, serde-saphyr read {}",
                expected.file,
                Value::Array(expected.path.clone()),
                shown(&expected.value),
                found.map_or("nothing".into(), |f| match f {
                    Value::String(s) => shown(s),
                    other => shown(&other.to_string()),
                }),
            )),
        }
    }

    if let Some(dir) = std::env::var_os("SECRETCAT_HOSTILE_DIR") {
        let dir = PathBuf::from(dir);
        for (path, text) in &rendered {
            let target = dir.join(path);
            std::fs::create_dir_all(target.parent().unwrap()).unwrap();
            std::fs::write(&target, text).unwrap();
        }
        let mut by_file = serde_json::Map::new();
        for expected in &plan.expected {
            let entry = by_file
                .entry(expected.file.clone())
                .or_insert_with(|| Value::Array(Vec::new()));
            entry
                .as_array_mut()
                .unwrap()
                .push(json!([Value::Array(expected.path.clone()), expected.value]));
        }
        std::fs::write(
            dir.join("expected.json"),
            serde_json::to_string(&Value::Object(by_file)).unwrap(),
        )
        .unwrap();
        eprintln!(
            "hostile: wrote {} files and expected.json to {}",
            rendered.len(),
            dir.display()
        );
    }

    let mut other_diagnostics: BTreeMap<&str, usize> = BTreeMap::new();
    for diagnostic in &compiled.diagnostics {
        *other_diagnostics.entry(diagnostic.code.name()).or_default() += 1;
    }
    eprintln!(
        "hostile: {} values (+1 of {BIG_LEN} bytes), {} YAML files, {checked} locations checked, {} failures; non-error diagnostics: {other_diagnostics:?}",
        values.len(),
        parsed.len(),
        failures.len()
    );
    assert!(
        failures.is_empty(),
        "{} hostile value(s) did not survive serde-saphyr:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
