//! Reading the inputs of `verify` (and `import`): files, folders and stdin, as UTF-8 text.

use std::path::{Path, PathBuf};

use super::Manifest;
use crate::diagnostics::Diagnostic;
use crate::sandbox::{self, EntryKind, Refusal, Root};
use crate::source::display_path;

/// File name endings read from a folder (explicitly named files are read whatever their name).
const EXTENSIONS: &[&str] = &["yaml", "yml", "json"];

/// Every input, in the order given; a folder contributes its manifests in path order. Every
/// input that cannot be read is reported, not just the first.
pub(super) fn read_inputs(inputs: &[PathBuf]) -> Result<Vec<Manifest>, Vec<Diagnostic>> {
    let mut manifests = Vec::new();
    let mut problems = Vec::new();
    for input in inputs {
        if input.as_os_str() == "-" {
            match sandbox::read_stream(std::io::stdin().lock(), sandbox::MANIFEST) {
                Ok(bytes) => push_text("-".into(), bytes, &mut manifests, &mut problems),
                Err(refusal) => problems.push(refused("-", refusal)),
            }
            continue;
        }
        let shown = display_path(input);
        match std::fs::metadata(input) {
            Err(error) => problems.push(Diagnostic::invalid_manifest(&shown, &unreadable(&error))),
            Ok(meta) if meta.is_dir() => {
                let folder = match Root::open(input) {
                    Ok(folder) => folder,
                    Err(error) => {
                        problems.push(Diagnostic::invalid_manifest(&shown, &unreadable(&error)));
                        continue;
                    }
                };
                let mut files = Vec::new();
                walk_folder(&folder, Path::new(""), &mut files, &mut problems);
                if files.is_empty() {
                    problems.push(Diagnostic::invalid_manifest(
                        &shown,
                        "the folder holds no manifests (*.yaml, *.yml or *.json files)",
                    ));
                }
                files.sort();
                for file in files {
                    let shown = folder.shown(&file);
                    match folder.read(&file, sandbox::MANIFEST) {
                        Ok(bytes) => push_text(shown, bytes, &mut manifests, &mut problems),
                        Err(refusal) => problems.push(refused(&shown, refusal)),
                    }
                }
            }
            Ok(_) => read_file(input, &mut manifests, &mut problems),
        }
    }
    if problems.is_empty() {
        Ok(manifests)
    } else {
        Err(problems)
    }
}

/// A file the user named: followed wherever it links, but read only if it is a regular file.
fn read_file(path: &Path, manifests: &mut Vec<Manifest>, problems: &mut Vec<Diagnostic>) {
    let shown = display_path(path);
    match sandbox::read_named(path, sandbox::MANIFEST) {
        Ok(bytes) => push_text(shown, bytes, manifests, problems),
        Err(refusal) => problems.push(refused(&shown, refusal)),
    }
}

/// A refused read as the manifest problem it is.
fn refused(shown: &str, refusal: Refusal) -> Diagnostic {
    match refusal {
        Refusal::Missing => Diagnostic::invalid_manifest(shown, "no such file or folder"),
        Refusal::Io(error) => Diagnostic::invalid_manifest(shown, &unreadable(&error)),
        other => other.diagnostic(shown, "read"),
    }
}

fn unreadable(error: &std::io::Error) -> String {
    match error.kind() {
        std::io::ErrorKind::NotFound => "no such file or folder".into(),
        _ => format!("it cannot be read ({error})"),
    }
}

fn push_text(
    name: String,
    bytes: Vec<u8>,
    manifests: &mut Vec<Manifest>,
    problems: &mut Vec<Diagnostic>,
) {
    match String::from_utf8(bytes) {
        Ok(text) => manifests.push(Manifest { name, text }),
        Err(error) => {
            let valid = &error.as_bytes()[..error.utf8_error().valid_up_to()];
            let line = valid.iter().filter(|b| **b == b'\n').count() + 1;
            let line_start = valid.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1);
            // Characters, not bytes: the prefix is valid UTF-8.
            let column = String::from_utf8_lossy(&valid[line_start..])
                .chars()
                .count()
                + 1;
            problems.push(Diagnostic::invalid_manifest(
                &name,
                &format!("not valid UTF-8 (first bad byte at line {line}, column {column})"),
            ));
        }
    }
}

/// The manifests below `folder` (relative to the named folder `root`). Names starting with `.`
/// are skipped (as in the catalog folder); a link is followed only while it stays inside the
/// named folder, and a link to a folder above cannot loop.
fn walk_folder(
    root: &Root,
    folder: &Path,
    files: &mut Vec<PathBuf>,
    problems: &mut Vec<Diagnostic>,
) {
    let names = match root.list(folder) {
        Ok(names) => names,
        Err(refusal) => {
            problems.push(refused(&root.shown(folder), refusal));
            return;
        }
    };
    for name in names {
        if name.to_string_lossy().starts_with('.') {
            continue;
        }
        let path = folder.join(&name);
        match root.kind(&path) {
            Ok(EntryKind::Folder) => {
                let below = std::fs::canonicalize(root.path().join(&path)).ok();
                let above = std::fs::canonicalize(root.path().join(folder)).ok();
                let loops = matches!((&below, &above), (Some(b), Some(a)) if a.starts_with(b));
                if !loops {
                    walk_folder(root, &path, files, problems);
                }
            }
            Ok(_) if is_manifest_name(&path) => files.push(path),
            Ok(_) => {}
            Err(refusal @ (Refusal::Outside { .. } | Refusal::InGit { .. })) => {
                problems.push(refusal.diagnostic(&root.shown(&path), "read"));
            }
            Err(_) => {}
        }
    }
}

fn is_manifest_name(path: &Path) -> bool {
    path.extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
        .is_some_and(|e| EXTENSIONS.contains(&e.as_str()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_folder_is_read_recursively_in_path_order_without_hidden_or_other_files() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("b/c")).unwrap();
        std::fs::create_dir_all(root.join(".git")).unwrap();
        for (path, text) in [
            ("b/c/z.yml", "kind: A"),
            ("a.yaml", "kind: B"),
            ("b/x.json", "{}"),
            ("notes.txt", "no"),
            (".hidden.yaml", "kind: C"),
            (".git/config.yaml", "kind: D"),
        ] {
            std::fs::write(root.join(path), text).unwrap();
        }
        let manifests = read_inputs(&[root.to_path_buf()]).unwrap_or_default();
        let names: Vec<String> = manifests
            .iter()
            .map(|m| {
                Path::new(&m.name)
                    .strip_prefix(root)
                    .map_or(m.name.clone(), |p| p.to_string_lossy().into_owned())
            })
            .collect();
        assert_eq!(names, ["a.yaml", "b/c/z.yml", "b/x.json"]);
    }

    #[test]
    fn unreadable_not_utf8_and_empty_folders_are_each_reported() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("empty")).unwrap();
        std::fs::write(root.join("bad.yaml"), b"kind: A\nname: \xff\n").unwrap();
        let problems = read_inputs(&[
            root.join("missing.yaml"),
            root.join("bad.yaml"),
            root.join("empty"),
        ])
        .err()
        .unwrap_or_default();
        let messages: Vec<&str> = problems.iter().map(|d| d.message.as_str()).collect();
        assert_eq!(messages.len(), 3, "{messages:?}");
        assert!(
            messages[0].contains("missing.yaml") && messages[0].contains("no such file or folder")
        );
        assert!(messages[1].contains("not valid UTF-8 (first bad byte at line 2, column 7)"));
        assert!(messages[2].contains("holds no manifests"));
        assert!(
            problems
                .iter()
                .all(|d| d.code == crate::diagnostics::Code::InvalidManifest)
        );
    }
}
