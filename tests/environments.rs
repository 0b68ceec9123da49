//! The production guardrail end to end: no development fixture of the bundled catalog, and no
//! `__generate__` marker, reaches any file production deploys.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use common::{copy_dir, repo_root, secretcat, text, tree};

/// Every file below `dir` as text, by path relative to `dir`.
fn files(dir: &Path) -> BTreeMap<String, String> {
    tree(dir)
        .into_iter()
        .map(|(path, bytes)| (path, String::from_utf8(bytes).unwrap()))
        .collect()
}

/// Every fixture literal of the catalog (base values and per-environment overrides), and every
/// name the catalog gives things, as written in its TOML files.
fn catalog_literals(catalog: &Path) -> (BTreeSet<String>, BTreeSet<String>) {
    let mut fixtures = BTreeSet::new();
    let mut names = BTreeSet::new();
    for (path, source) in files(catalog) {
        if !path.ends_with(".toml") {
            continue;
        }
        let document: toml::Table = toml::from_str(&source).unwrap();
        for section in ["keys", "secrets", "bundles", "owners", "environments"] {
            for (name, table) in document
                .get(section)
                .and_then(|t| t.as_table())
                .into_iter()
                .flatten()
            {
                names.insert(name.clone());
                if let Some(namespace) = table.get("namespace").and_then(|n| n.as_str()) {
                    names.insert(namespace.to_string());
                }
                for consumer in table
                    .get("consumers")
                    .and_then(|c| c.as_array())
                    .into_iter()
                    .flatten()
                {
                    if let Some(consumer) = consumer.get("name").and_then(|n| n.as_str()) {
                        names.insert(consumer.to_string());
                    }
                }
                if section != "keys" {
                    continue;
                }
                if let Some(fixture) = table.get("fixture").and_then(|f| f.as_str()) {
                    fixtures.insert(fixture.to_string());
                }
                for (_, over) in table
                    .get("overrides")
                    .and_then(|o| o.as_table())
                    .into_iter()
                    .flatten()
                {
                    if let Some(fixture) = over.get("fixture").and_then(|f| f.as_str()) {
                        fixtures.insert(fixture.to_string());
                    }
                }
            }
        }
    }
    (fixtures, names)
}

/// Every string scalar of a YAML document: keys and values.
fn scalars(value: &serde_json::Value, out: &mut Vec<String>) {
    match value {
        serde_json::Value::String(s) => out.push(s.clone()),
        serde_json::Value::Array(items) => items.iter().for_each(|v| scalars(v, out)),
        serde_json::Value::Object(map) => {
            for (key, value) in map {
                out.push(key.clone());
                scalars(value, out);
            }
        }
        _ => {}
    }
}

#[test]
fn no_fixture_literal_reaches_any_production_output() {
    let repo = tempfile::tempdir().unwrap();
    copy_dir(&repo_root().join("catalog"), &repo.path().join("catalog"));
    let output = secretcat(repo.path(), &["generate"]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let generated = files(&repo.path().join("generated"));
    let (fixtures, names) = catalog_literals(&repo.path().join("catalog"));

    let environments = ["local", "dev", "staging", "production"];
    let in_folder = |path: &str, env: &str| path.starts_with(&format!("{env}/"));
    // What production deploys: its own folder and the files every environment shares. The JSON
    // Schema is an editor aid, never deployed (its examples may quote a fixture).
    let production: BTreeMap<&String, &String> = generated
        .iter()
        .filter(|(path, _)| {
            in_folder(path, "production")
                || (!environments.iter().any(|e| in_folder(path, e))
                    && path.as_str() != "catalog.schema.json")
        })
        .collect();
    assert!(
        production
            .keys()
            .any(|p| p.ends_with("vault-secrets-platform.yaml"))
    );
    assert!(
        production
            .keys()
            .any(|p| p.ends_with("foundation-vault-bootstrap.fixtures.yaml"))
    );

    // A username such as `grafana` is also a key, secret or namespace name, so it is in every
    // output by design; every other fixture (passwords, tokens, URLs) is searched for verbatim.
    let searched: Vec<&String> = fixtures
        .iter()
        .filter(|f| !names.iter().any(|name| name.contains(f.as_str())))
        .collect();
    assert!(
        searched.len() >= 30,
        "only {} fixtures searched",
        searched.len()
    );
    // The search finds what is there: every searched fixture is in local's fixture map.
    let local = &generated["local/foundation-vault-bootstrap.fixtures.yaml"];
    let local_values: serde_json::Value = serde_saphyr::from_str(local).unwrap();
    let mut local_scalars = Vec::new();
    scalars(&local_values, &mut local_scalars);
    for fixture in &searched {
        assert!(
            local_scalars.contains(fixture),
            "fixture {fixture:?} should be seeded in local"
        );
    }

    for (path, content) in &production {
        for fixture in &searched {
            assert!(
                !content.contains(fixture.as_str()),
                "fixture {fixture:?} appears in production output {path}"
            );
        }
        if path.ends_with(".yaml") {
            let value: serde_json::Value = serde_saphyr::from_str(content).unwrap();
            let mut found = Vec::new();
            scalars(&value, &mut found);
            assert!(
                !found
                    .iter()
                    .any(|s| s == "__generate__" || fixtures.contains(s) && !names.contains(s)),
                "a fixture or __generate__ value in production output {path}"
            );
        }
    }
}
