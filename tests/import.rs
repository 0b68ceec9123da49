//! `secretcat import` through the real binary: exit codes, what it writes, and that a second run
//! never overwrites a catalog file.

mod common;

use common::{copy_dir, repo_root, secretcat, text, tree};

fn scratch_with_legacy() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(
        &repo_root().join("tests/import/legacy"),
        &dir.path().join("legacy"),
    );
    dir
}

#[test]
fn import_writes_fragments_reports_the_unmappable_and_generate_accepts_them() {
    let dir = scratch_with_legacy();
    let output = secretcat(dir.path(), &["import", "legacy"]);
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    for field in [
        "spec.dataFrom[0].find",
        "spec.target.template.templateFrom",
        "spec.data[2].remoteRef.property",
        "fixtures.langfuse",
    ] {
        assert!(stderr.contains(field), "{field} not reported:\n{stderr}");
    }
    assert!(
        stderr.contains("legacy/vault-secrets-platform.yaml"),
        "{stderr}"
    );
    let written = tree(&dir.path().join("catalog"));
    assert_eq!(
        written.keys().collect::<Vec<_>>(),
        ["keys.toml", "platform.toml", "secretcat.toml"]
    );
    assert!(text(&output.stdout).contains("wrote     catalog/platform.toml"));

    let generate = secretcat(dir.path(), &["generate"]);
    assert_eq!(
        generate.status.code(),
        Some(0),
        "{}",
        text(&generate.stderr)
    );
    let check = secretcat(dir.path(), &["check"]);
    assert_eq!(check.status.code(), Some(0), "{}", text(&check.stderr));
}

#[test]
fn a_second_import_writes_nothing_and_exits_2() {
    let dir = scratch_with_legacy();
    secretcat(dir.path(), &["import", "legacy"]);
    let before = tree(&dir.path().join("catalog"));
    let again = secretcat(dir.path(), &["import", "legacy"]);
    assert_eq!(again.status.code(), Some(2));
    assert!(
        text(&again.stderr).contains("error[import-conflict]"),
        "{}",
        text(&again.stderr)
    );
    assert!(text(&again.stderr).contains("nothing was written"));
    assert_eq!(tree(&dir.path().join("catalog")), before);
}

#[test]
fn stdin_and_unreadable_input() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = std::fs::read_to_string(
        repo_root().join("tests/import/legacy/vault-secrets-platform.yaml"),
    )
    .unwrap();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_secretcat"))
        .args(["import", "-"])
        .current_dir(dir.path())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write as _;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(manifest.as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(1), "{}", text(&output.stderr));
    assert!(dir.path().join("catalog/secretcat.toml").exists());

    let output = secretcat(
        dir.path(),
        &["import", "does-not-exist.yaml", "--catalog", "other"],
    );
    assert_eq!(output.status.code(), Some(2), "{}", text(&output.stderr));
    assert!(
        !dir.path().join("other").exists(),
        "nothing is written on a bad input"
    );
}
