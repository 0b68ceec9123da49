//! Helpers shared by the integration tests: the repository root, running the real binary, and
//! reading folder trees. Each test crate uses some of them.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Run `secretcat ARGS` in `dir`.
pub fn secretcat(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_secretcat"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .output()
        .expect("the secretcat binary runs")
}

/// Copy of the repository's catalog and generated outputs in a scratch folder.
pub fn scratch_repo() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&repo_root().join("catalog"), &dir.path().join("catalog"));
    copy_dir(
        &repo_root().join("generated"),
        &dir.path().join("generated"),
    );
    dir
}

/// Copy a folder tree (files only).
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap().flatten() {
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Every file below `root` (missing: none), by `/`-separated path relative to it.
pub fn tree(root: &Path) -> BTreeMap<String, Vec<u8>> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let file_type = entry.file_type().unwrap();
            if file_type.is_dir() {
                walk(root, &path, out);
            } else {
                let relative = path
                    .strip_prefix(root)
                    .unwrap()
                    .to_string_lossy()
                    .replace('\\', "/");
                // A link or a FIFO stands for itself: reading through it could read anything,
                // or hang.
                let content = if file_type.is_symlink() {
                    let target = std::fs::read_link(&path).unwrap();
                    format!("symlink -> {}", target.display()).into_bytes()
                } else if file_type.is_file() {
                    std::fs::read(&path).unwrap()
                } else {
                    b"special file".to_vec()
                };
                out.insert(relative, content);
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(root, root, &mut out);
    out
}
