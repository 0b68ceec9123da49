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
    /// On disk with other content; `diff` is a unified diff from disk to catalog, `line` the
    /// first line (1-based, in the file on disk) that differs.
    Changed {
        path: String,
        diff: String,
        line: usize,
    },
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
    /// Files that needed writing or removing but were left exactly as they were, because an
    /// earlier write failed.
    pub untouched: Vec<String>,
}

/// Compare `files` (relative path → content) with the tree under `root`. Files are read and
/// compared one per core, and each is let go once compared.
pub fn compare(
    root: &Path,
    files: &BTreeMap<String, String>,
    outputs: &OutputPaths<String>,
) -> Result<Vec<Drift>, Diagnostic> {
    let comparer = Comparer::new(root)?;
    let entries: Vec<_> = files.iter().collect();
    let compared = crate::parallel::map(&entries, |&(path, expected)| {
        comparer.compare(path, expected)
    });
    let verdicts = files.keys().cloned().zip(compared).collect();
    drift(root, verdicts, outputs)
}

/// Compares one output at a time with the file on disk, from any thread: `check` compares each
/// output as soon as it is rendered (`render::render_with`), so no large catalog's tree is ever
/// held whole, rendered or read.
pub struct Comparer<'a> {
    root: &'a Path,
    canonical_root: PathBuf,
}

/// What `Comparer::compare` found for one output: nothing, drift, or a path it may not read.
pub type Verdict = Result<Option<Drift>, Diagnostic>;

impl<'a> Comparer<'a> {
    pub fn new(root: &'a Path) -> Result<Self, Diagnostic> {
        let canonical_root = std::fs::canonicalize(root).map_err(|error| {
            Diagnostic::io(&crate::source::display_path(root), "open root", &error)
        })?;
        Ok(Comparer {
            root,
            canonical_root,
        })
    }

    /// The drift of `path` (relative to the root) against the `expected` content, if any.
    pub fn compare(&self, path: &str, expected: &str) -> Verdict {
        check_inside_root(self.root, &self.canonical_root, path)?;
        let full_path = self.root.join(path);
        if holds_exactly(&full_path, expected.as_bytes()) {
            return Ok(None);
        }
        Ok(match read_if_exists(&full_path)? {
            None => Some(Drift::Missing {
                path: path.to_string(),
            }),
            Some(actual) if actual == expected.as_bytes() => None,
            Some(actual) => {
                let actual = text_of(actual);
                Some(Drift::Changed {
                    path: path.to_string(),
                    diff: unified_diff(path, &actual, expected),
                    line: first_difference(&actual, expected),
                })
            }
        })
    }
}

/// Every output's verdict (by path), and the orphans beside them, as one sorted list of drift.
/// The first path that could not be compared, in path order, fails the whole check.
pub fn drift(
    root: &Path,
    verdicts: BTreeMap<String, Verdict>,
    outputs: &OutputPaths<String>,
) -> Result<Vec<Drift>, Diagnostic> {
    if let Some(Err(error)) = verdicts.values().find(|verdict| verdict.is_err()) {
        return Err(error.clone());
    }
    let orphaned = orphans(root, &verdicts, outputs)?;
    let mut drift: Vec<Drift> = verdicts
        .into_values()
        .filter_map(|verdict| verdict.ok().flatten())
        .collect();
    drift.extend(orphaned.into_iter().map(|path| Drift::Orphaned { path }));
    drift.sort_by(|a, b| a.path().cmp(b.path()));
    Ok(drift)
}

/// Write every changed or missing file and remove orphans, each file replaced atomically.
/// Everything is checked before the first write; on a failed write the report says which files
/// are new and which were left as they were.
pub fn write(
    root: &Path,
    files: &BTreeMap<String, String>,
    outputs: &OutputPaths<String>,
) -> Result<WriteReport, (WriteReport, Diagnostic)> {
    write_with(root, files, outputs, &mut |path, content| {
        write_atomic(path, content)
    })
}

/// `write` with the file-replacing step supplied, so tests can make the Nth write fail.
pub fn write_with(
    root: &Path,
    files: &BTreeMap<String, String>,
    outputs: &OutputPaths<String>,
    replace: &mut dyn FnMut(&Path, &[u8]) -> std::io::Result<()>,
) -> Result<WriteReport, (WriteReport, Diagnostic)> {
    let mut report = WriteReport::default();
    let mut pending = Vec::new();
    let planned = checked_outputs(root, files).and_then(|checked| {
        let unchanged = crate::parallel::map(&checked, |&(path, content)| {
            read_if_exists(&root.join(path))
                .map(|on_disk| on_disk.as_deref() == Some(content.as_bytes()))
        });
        for (&(path, content), unchanged) in checked.iter().zip(unchanged) {
            match unchanged? {
                true => report.unchanged.push(path.clone()),
                false => pending.push((path, content)),
            }
        }
        orphans(root, files, outputs)
    });
    let orphaned = match planned {
        Ok(orphaned) => orphaned,
        Err(error) => return Err((report, error)),
    };
    let mut failure = None;
    for (path, content) in pending {
        if failure.is_some() {
            report.untouched.push(path.clone());
            continue;
        }
        match replace(&root.join(path), content.as_bytes()) {
            Ok(()) => report.written.push(path.clone()),
            Err(error) => {
                report.untouched.push(path.clone());
                failure = Some(Diagnostic::io(path, "write", &error));
            }
        }
    }
    for path in orphaned {
        if failure.is_some() {
            report.untouched.push(path);
            continue;
        }
        match std::fs::remove_file(root.join(&path)) {
            Ok(()) => {
                remove_empty_parents(root, &path, &outputs.dir);
                report.removed.push(path);
            }
            Err(error) => {
                failure = Some(Diagnostic::io(&path, "remove orphaned output", &error));
                report.untouched.push(path);
            }
        }
    }
    match failure {
        Some(error) => Err((report, error)),
        None => Ok(report),
    }
}

/// After removing an orphan, drop the folders it leaves empty, up to (not including) the
/// output folder: a removed chart bundle should not leave `generated/charts/<bundle>/` behind.
fn remove_empty_parents(root: &Path, removed: &str, dir: &str) {
    let stop = Path::new(dir.trim_end_matches('/'));
    let mut folder = Path::new(removed).parent();
    while let Some(current) = folder {
        if current.as_os_str().is_empty() || current == stop || !current.starts_with(stop) {
            break;
        }
        // `remove_dir` fails on a folder that still holds anything, which is what stops us.
        if std::fs::remove_dir(root.join(current)).is_err() {
            break;
        }
        folder = current.parent();
    }
}

/// Refuse an output path that would lead outside the root through a symbolic link, that is a
/// link itself, or that runs through a file where a folder is needed.
fn check_inside_root(root: &Path, canonical_root: &Path, relative: &str) -> Result<(), Diagnostic> {
    let mut current = root.to_path_buf();
    let components: Vec<_> = Path::new(relative).components().collect();
    for (i, component) in components.iter().enumerate() {
        current.push(component);
        let last = i + 1 == components.len();
        let Ok(meta) = std::fs::symlink_metadata(&current) else {
            return Ok(());
        };
        let shown = crate::source::display_path(&current);
        if meta.file_type().is_symlink() {
            if last {
                return Err(Diagnostic::invalid_output_path(
                    relative,
                    "is a symbolic link; secretcat never writes through links",
                )
                .on_path(shown));
            }
            let target = std::fs::canonicalize(&current).unwrap_or_default();
            if !target.starts_with(canonical_root) {
                return Err(Diagnostic::invalid_output_path(
                    relative,
                    &format!("leads outside the root through the symbolic link `{shown}`"),
                )
                .on_path(shown));
            }
        } else if !last && !meta.is_dir() {
            return Err(Diagnostic::invalid_output_path(
                relative,
                &format!("needs `{shown}` to be a folder, but it is a file"),
            )
            .on_path(shown));
        } else if last && meta.is_dir() {
            return Err(Diagnostic::invalid_output_path(
                relative,
                "is a folder on disk; remove it or change the output path",
            )
            .on_path(shown));
        }
    }
    Ok(())
}

/// Every output (path, rendered content), each path checked to stay inside the root first.
/// Shared by `compare` and `write`, so both see the tree the same way.
fn checked_outputs<'a>(
    root: &Path,
    files: &'a BTreeMap<String, String>,
) -> Result<Vec<(&'a String, &'a String)>, Diagnostic> {
    let comparer = Comparer::new(root)?;
    files
        .iter()
        .map(|(path, content)| {
            check_inside_root(root, &comparer.canonical_root, path)?;
            Ok((path, content))
        })
        .collect()
}

/// Whether the file at `path` holds exactly `expected`, read a block at a time: an up-to-date
/// output (the common case) is never held in memory twice. Anything else, an unreadable file
/// included, is left to the caller, which reads the whole file to say what differs.
fn holds_exactly(path: &Path, expected: &[u8]) -> bool {
    let Ok(mut file) = std::fs::File::open(path) else {
        return false;
    };
    if file.metadata().map(|m| m.len()).ok() != u64::try_from(expected.len()).ok() {
        return false;
    }
    let mut block = vec![0; expected.len().clamp(1, 64 * 1024)];
    let mut rest = expected;
    loop {
        match file.read(&mut block) {
            Ok(0) => return rest.is_empty(),
            Ok(n) if rest.starts_with(&block[..n]) => rest = &rest[n..],
            Ok(_) => return false,
            Err(error) if error.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => return false,
        }
    }
}

/// The bytes at `path`, `None` when nothing is there.
fn read_if_exists(path: &Path) -> Result<Option<Vec<u8>>, Diagnostic> {
    match std::fs::read(path) {
        Ok(bytes) => Ok(Some(bytes)),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(error) => Err(Diagnostic::io(
            &crate::source::display_path(path),
            "read",
            &error,
        )),
    }
}

/// A file on disk as text for a diff; bytes that are not UTF-8 show as U+FFFD.
fn text_of(bytes: Vec<u8>) -> String {
    String::from_utf8(bytes)
        .unwrap_or_else(|error| String::from_utf8_lossy(error.as_bytes()).into_owned())
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
fn orphans<V>(
    root: &Path,
    files: &BTreeMap<String, V>,
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

fn first_difference(old: &str, new: &str) -> usize {
    let same = old
        .lines()
        .zip(new.lines())
        .take_while(|(a, b)| a == b)
        .count();
    same + 1
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

#[cfg(test)]
mod tests {
    use super::*;

    fn outputs() -> OutputPaths<String> {
        OutputPaths::DEFAULT.into()
    }

    #[test]
    fn a_failed_write_leaves_each_file_old_or_new_and_says_which() {
        let root = tempfile::tempdir().unwrap();
        let generated = root.path().join("generated");
        std::fs::create_dir_all(&generated).unwrap();
        let mut files = BTreeMap::new();
        for name in ["a", "b", "c", "d"] {
            std::fs::write(
                generated.join(format!("{name}.yaml")),
                format!("old {name}\n"),
            )
            .unwrap();
            files.insert(format!("generated/{name}.yaml"), format!("new {name}\n"));
        }
        let mut writes = 0;
        let result = write_with(root.path(), &files, &outputs(), &mut |path, content| {
            writes += 1;
            if writes == 3 {
                return Err(std::io::Error::other("disk full"));
            }
            write_atomic(path, content)
        });
        let (report, error) = result.unwrap_err();
        assert_eq!(report.written, ["generated/a.yaml", "generated/b.yaml"]);
        assert_eq!(report.untouched, ["generated/c.yaml", "generated/d.yaml"]);
        assert!(error.message.contains("generated/c.yaml") && error.message.contains("disk full"));
        for (name, expected) in [
            ("a", "new a\n"),
            ("b", "new b\n"),
            ("c", "old c\n"),
            ("d", "old d\n"),
        ] {
            assert_eq!(
                std::fs::read_to_string(generated.join(format!("{name}.yaml"))).unwrap(),
                expected
            );
        }
        let leftovers: Vec<_> = std::fs::read_dir(&generated)
            .unwrap()
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
            .collect();
        assert!(leftovers.is_empty(), "no temporary files are left behind");
    }

    #[cfg(unix)]
    #[test]
    fn outputs_never_go_through_links_that_leave_the_root() {
        let outside = tempfile::tempdir().unwrap();
        let root = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink(outside.path(), root.path().join("generated")).unwrap();
        let files = BTreeMap::from([("generated/x.yaml".to_string(), "x: 1\n".to_string())]);
        let (report, error) = write(root.path(), &files, &outputs()).unwrap_err();
        assert!(report.written.is_empty());
        assert!(
            error
                .message
                .contains("leads outside the root through the symbolic link"),
            "{}",
            error.message
        );
        assert!(
            std::fs::read_dir(outside.path()).unwrap().next().is_none(),
            "nothing written outside"
        );

        let root = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(root.path().join("generated")).unwrap();
        std::os::unix::fs::symlink(
            outside.path().join("target"),
            root.path().join("generated/x.yaml"),
        )
        .unwrap();
        let (_, error) = write(root.path(), &files, &outputs()).unwrap_err();
        assert!(
            error.message.contains("is a symbolic link"),
            "{}",
            error.message
        );
    }

    #[test]
    fn a_file_where_a_folder_is_needed_is_named() {
        let root = tempfile::tempdir().unwrap();
        std::fs::write(root.path().join("generated"), "not a folder").unwrap();
        let files = BTreeMap::from([("generated/x.yaml".to_string(), "x: 1\n".to_string())]);
        let (_, error) = write(root.path(), &files, &outputs()).unwrap_err();
        assert!(error.message.contains("needs `"), "{}", error.message);
        assert!(
            error.message.contains("to be a folder, but it is a file"),
            "{}",
            error.message
        );
    }

    #[test]
    fn an_edit_that_keeps_the_size_is_drift_wherever_it_is() {
        let root = tempfile::tempdir().unwrap();
        let expected = "line\n".repeat(30_000); // 150 kB: more than two read blocks
        let path = "generated/big.yaml";
        std::fs::create_dir_all(root.path().join("generated")).unwrap();
        let comparer = Comparer::new(root.path()).unwrap();
        for at in [0, 70_000, expected.len() - 2] {
            let mut edited = expected.clone().into_bytes();
            edited[at] = b'X';
            std::fs::write(root.path().join(path), &edited).unwrap();
            let drift = comparer.compare(path, &expected).unwrap();
            assert!(
                matches!(drift, Some(Drift::Changed { .. })),
                "edit at {at}: {drift:?}"
            );
        }
        std::fs::write(root.path().join(path), &expected).unwrap();
        assert_eq!(comparer.compare(path, &expected).unwrap(), None);
        std::fs::write(root.path().join(path), format!("{expected}more")).unwrap();
        assert!(comparer.compare(path, &expected).unwrap().is_some());
    }

    #[test]
    fn only_files_with_the_header_are_orphans() {
        let root = tempfile::tempdir().unwrap();
        let generated = root.path().join("generated/charts/old");
        std::fs::create_dir_all(&generated).unwrap();
        std::fs::write(
            generated.join("externalsecrets.yaml"),
            "# @generated by secretcat from catalog/\n",
        )
        .unwrap();
        std::fs::write(generated.join("notes.yaml"), "# mine\n").unwrap();
        let drift = compare(root.path(), &BTreeMap::new(), &outputs()).unwrap();
        assert_eq!(
            drift,
            [Drift::Orphaned {
                path: "generated/charts/old/externalsecrets.yaml".into()
            }]
        );
    }
}
