//! The generated JSON Schema agrees with the loader: every catalog the loader accepts validates
//! against it, and a misspelt field fails both.

mod common;

use std::path::{Path, PathBuf};

use common::{repo_root, secretcat, text};

fn schema_validator() -> jsonschema::Validator {
    let schema: serde_json::Value = serde_json::from_slice(
        &std::fs::read(repo_root().join("generated/catalog.schema.json")).unwrap(),
    )
    .unwrap();
    jsonschema::validator_for(&schema).expect("the generated schema is a valid draft-07 schema")
}

fn toml_as_json(path: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(path).unwrap();
    let value: toml::Value =
        toml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::to_value(value).unwrap()
}

fn toml_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            toml_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "toml") {
            out.push(path);
        }
    }
}

/// Catalog files of the repository and of every golden case the loader accepts (exit 0 or 1).
fn accepted_catalog_files() -> Vec<PathBuf> {
    let mut files = Vec::new();
    toml_files(&repo_root().join("catalog"), &mut files);
    for case in std::fs::read_dir(repo_root().join("tests/cases"))
        .unwrap()
        .flatten()
    {
        let status = std::fs::read_to_string(case.path().join("status")).unwrap_or_default();
        let args = std::fs::read_to_string(case.path().join("args")).unwrap_or_default();
        let compiles = matches!(status.trim(), "0" | "1") && !args.contains("--catalog");
        if compiles && case.path().join("in/catalog/secretcat.toml").is_file() {
            toml_files(&case.path().join("in/catalog"), &mut files);
        }
    }
    files
}

#[test]
fn every_accepted_catalog_validates_against_the_schema() {
    let validator = schema_validator();
    let files = accepted_catalog_files();
    assert!(files.len() > 20, "found {} catalog files", files.len());
    for path in files {
        let instance = toml_as_json(&path);
        let errors: Vec<String> = validator
            .iter_errors(&instance)
            .map(|e| format!("{e} at {}", e.instance_path()))
            .collect();
        assert!(
            errors.is_empty(),
            "{}: {}",
            path.display(),
            errors.join("; ")
        );
    }
}

#[test]
fn a_misspelt_field_fails_both_the_schema_and_the_loader() {
    let validator = schema_validator();
    let dir = tempfile::tempdir().unwrap();
    common::copy_dir(&repo_root().join("catalog"), &dir.path().join("catalog"));
    let platform = dir.path().join("catalog/platform.toml");
    let text_before = std::fs::read_to_string(&platform).unwrap();
    let misspelt = text_before.replacen("\nbundle = ", "\nbundel = ", 1);
    assert_ne!(misspelt, text_before);
    std::fs::write(&platform, &misspelt).unwrap();

    assert!(
        !validator.is_valid(&toml_as_json(&platform)),
        "the schema rejects `bundel`"
    );
    let output = secretcat(dir.path(), &["check"]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains("error[unknown-field]: unknown field `bundel`"),
        "{stderr}"
    );
    assert!(stderr.contains("did you mean `bundle`?"), "{stderr}");
}

#[test]
fn schema_command_prints_the_committed_schema() {
    let output = secretcat(&repo_root(), &["schema"]);
    assert_eq!(output.status.code(), Some(0));
    assert_eq!(
        output.stdout,
        std::fs::read(repo_root().join("generated/catalog.schema.json")).unwrap()
    );
}
