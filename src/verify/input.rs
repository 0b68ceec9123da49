//! Reading the inputs of `verify` (and `import`): files, folders and stdin, as UTF-8 text.

use std::io::Read as _;
use std::path::{Path, PathBuf};

use super::Manifest;
use crate::diagnostics::Diagnostic;
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
            let mut bytes = Vec::new();
            match std::io::stdin().lock().read_to_end(&mut bytes) {
                Ok(_) => push_text("-".into(), bytes, &mut manifests, &mut problems),
                Err(error) => problems.push(Diagnostic::invalid_manifest(
                    "-",
                    &format!("stdin cannot be read ({error})"),
                )),
            }
            continue;
        }
        let shown = display_path(input);
        match std::fs::metadata(input) {
            Err(error) => problems.push(Diagnostic::invalid_manifest(&shown, &unreadable(&error))),
            Ok(meta) if meta.is_dir() => {
                let mut files = Vec::new();
                walk_folder(input, &mut files, &mut problems);
                if files.is_empty() {
                    problems.push(Diagnostic::invalid_manifest(
                        &shown,
                        "the folder holds no manifests (*.yaml, *.yml or *.json files)",
                    ));
                }
                files.sort();
                for file in files {
                    read_file(&file, &mut manifests, &mut problems);
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

fn read_file(path: &Path, manifests: &mut Vec<Manifest>, problems: &mut Vec<Diagnostic>) {
    let shown = display_path(path);
    match std::fs::read(path) {
        Ok(bytes) => push_text(shown, bytes, manifests, problems),
        Err(error) => problems.push(Diagnostic::invalid_manifest(&shown, &unreadable(&error))),
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

/// The manifests below `dir`. Names starting with `.` are skipped (as in the catalog folder), and
/// so are symbolic links to folders, which could loop.
fn walk_folder(dir: &Path, files: &mut Vec<PathBuf>, problems: &mut Vec<Diagnostic>) {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(error) => {
            problems.push(Diagnostic::invalid_manifest(
                &display_path(dir),
                &format!("the folder cannot be read ({error})"),
            ));
            return;
        }
    };
    for entry in entries {
        let entry = match entry {
            Ok(entry) => entry,
            Err(error) => {
                problems.push(Diagnostic::invalid_manifest(
                    &display_path(dir),
                    &format!("the folder cannot be read ({error})"),
                ));
                continue;
            }
        };
        if entry.file_name().to_string_lossy().starts_with('.') {
            continue;
        }
        let path = entry.path();
        let Ok(file_type) = entry.file_type() else {
            continue;
        };
        if file_type.is_dir() {
            walk_folder(&path, files, problems);
        } else if (file_type.is_file() || std::fs::metadata(&path).is_ok_and(|m| m.is_file()))
            && is_manifest_name(&path)
        {
            files.push(path);
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
