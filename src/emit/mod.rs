//! Stage 4, emit: compare rendered files with the tree on disk (`check`) or bring the tree in line
//! (`generate`). Writes are atomic (temp file in the same folder, fsync, rename); only files that
//! carry secretcat's header are ever removed.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use crate::diagnostics::Diagnostic;
use crate::model::OutputPaths;
use crate::render::GENERATED_MARKER;

/// How one output path differs from what the catalog produces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Drift {
    /// On disk with other content; `diff` is a unified diff from disk to catalog.
    Changed { path: String, diff: String },
    /// Produced by the catalog, absent on disk.
    Missing { path: String },
    /// On disk with secretcat's header, no longer produced by the catalog.
    Orphaned { path: String },
}

impl Drift {
    pub fn path(&self) -> &str {
        match self {
            Drift::Changed { path, .. } | Drift::Missing { path } | Drift::Orphaned { path } => {
                path
            }
        }
    }
}

/// What `generate` did, path by path.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct WriteReport {
    pub written: Vec<String>,
    pub unchanged: Vec<String>,
    pub removed: Vec<String>,
}

/// Compare `files` (relative path → content) with the tree under `root`.
pub fn compare(
    root: &Path,
    files: &BTreeMap<String, String>,
    outputs: &OutputPaths<String>,
) -> Result<Vec<Drift>, Diagnostic> {
    let mut drift = Vec::new();
    for (path, expected) in files {
        match read_if_exists(&root.join(path))? {
            None => drift.push(Drift::Missing { path: path.clone() }),
            Some(actual) if actual == *expected => {}
            Some(actual) => drift.push(Drift::Changed {
                path: path.clone(),
                diff: unified_diff(path, &actual, expected),
            }),
        }
    }
    for path in orphans(root, files, outputs)? {
        drift.push(Drift::Orphaned { path });
    }
    drift.sort_by(|a, b| a.path().cmp(b.path()));
    Ok(drift)
}

/// Write every changed or missing file and remove orphans. Each file is replaced atomically;
/// on the first failure the report so far and the error are returned.
pub fn write(
    root: &Path,
    files: &BTreeMap<String, String>,
    outputs: &OutputPaths<String>,
) -> Result<WriteReport, (WriteReport, Diagnostic)> {
    let mut report = WriteReport::default();
    let orphaned = match orphans(root, files, outputs) {
        Ok(orphaned) => orphaned,
        Err(error) => return Err((report, error)),
    };
    for (path, content) in files {
        let target = root.join(path);
        match read_if_exists(&target) {
            Ok(Some(actual)) if actual == *content => report.unchanged.push(path.clone()),
            Ok(_) => match write_atomic(&target, content.as_bytes()) {
                Ok(()) => report.written.push(path.clone()),
                Err(error) => return Err((report, Diagnostic::io(path, "write", &error))),
            },
            Err(error) => return Err((report, error)),
        }
    }
    for path in orphaned {
        match std::fs::remove_file(root.join(&path)) {
            Ok(()) => report.removed.push(path),
            Err(error) => {
                return Err((
                    report,
                    Diagnostic::io(&path, "remove orphaned output", &error),
                ));
            }
        }
    }
    Ok(report)
}

fn read_if_exists(path: &Path) -> Result<Option<String>, Diagnostic> {
    match std::fs::read(path) {
        Ok(bytes) => Ok(Some(String::from_utf8_lossy(&bytes).into_owned())),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(error) => Err(Diagnostic::io(
            &crate::source::display_path(path),
            "read",
            &error,
        )),
    }
}

/// Replace `path` with `content` so that a reader sees the old file or the new one, never a mix.
pub fn write_atomic(path: &Path, content: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let temp = dir.join(format!(".{name}.secretcat-{}.tmp", std::process::id()));
    let result = (|| {
        let mut file = std::fs::File::create(&temp)?;
        file.write_all(content)?;
        file.sync_all()?;
        std::fs::rename(&temp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    result
}

/// Files under the output folders that carry secretcat's header but are not produced any more.
fn orphans(
    root: &Path,
    files: &BTreeMap<String, String>,
    outputs: &OutputPaths<String>,
) -> Result<Vec<String>, Diagnostic> {
    let mut folders: BTreeSet<(PathBuf, bool)> = BTreeSet::new();
    let dir = outputs.dir.trim_end_matches('/');
    if !dir.is_empty() && dir != "." {
        folders.insert((PathBuf::from(dir), true));
    }
    for path in files.keys() {
        let parent = Path::new(path)
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default();
        folders.insert((parent, false));
    }
    let mut found = BTreeSet::new();
    for (folder, recursive) in folders {
        scan(root, &folder, recursive, &mut found)?;
    }
    Ok(found
        .into_iter()
        .filter(|path| !files.contains_key(path))
        .collect())
}

fn scan(
    root: &Path,
    folder: &Path,
    recursive: bool,
    found: &mut BTreeSet<String>,
) -> Result<(), Diagnostic> {
    let Ok(entries) = std::fs::read_dir(root.join(folder)) else {
        return Ok(());
    };
    for entry in entries.flatten() {
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        let relative = folder.join(entry.file_name());
        if kind.is_dir() && recursive {
            scan(root, &relative, true, found)?;
        } else if kind.is_file() && has_marker(&entry.path()) {
            found.insert(relative.to_string_lossy().replace('\\', "/"));
        }
    }
    Ok(())
}

/// Whether the first lines of a file carry secretcat's header.
pub fn has_marker(path: &Path) -> bool {
    let mut head = [0u8; 512];
    let Ok(mut file) = std::fs::File::open(path) else {
        return false;
    };
    let Ok(read) = file.read(&mut head) else {
        return false;
    };
    let head = String::from_utf8_lossy(&head[..read]);
    head.lines()
        .take(3)
        .any(|line| line.contains(GENERATED_MARKER))
}

fn unified_diff(path: &str, old: &str, new: &str) -> String {
    similar::TextDiff::from_lines(old, new)
        .unified_diff()
        .context_radius(3)
        .header(
            &format!("{path} (on disk)"),
            &format!("{path} (from catalog)"),
        )
        .to_string()
}
