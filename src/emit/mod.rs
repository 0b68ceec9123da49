//! Stage 4, emit: compare rendered files with the tree on disk (`check`) or bring the tree in line
//! (`generate`, see `write`). Writes are atomic (temporary file, fsync, rename); only files that
//! carry secretcat's header, and temporary files of secretcat's, are ever removed.
//!
//! Every path below the root is walked from the root's handle one folder at a time without
//! following links (`folders`), so an output never lands outside the root, whatever a pull
//! request or another process puts on the way.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{Read, Seek};
use std::path::{Path, PathBuf};

use crate::diagnostics::Diagnostic;
use crate::model::OutputPaths;
use crate::render::GENERATED_MARKER;
use crate::sandbox::Root;

mod folders;
mod lock;
mod write;
use folders::{Existing, existing, reach};
pub use lock::{LOCK_FILE, LOCK_WAIT, OutputLock};
pub use write::{Staged, Stager, WriteReport, commit, commit_with, write, write_atomic};

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
        comparer.compare(path, std::slice::from_ref(expected))
    });
    let verdicts = files.keys().cloned().zip(compared).collect();
    drift(root, verdicts, outputs)
}

/// Compares one output at a time with the file on disk, from any thread: `check` compares each
/// output as soon as it is rendered (`render::render_with`), so no large catalog's tree is ever
/// held whole, rendered or read.
pub struct Comparer<'a> {
    root: &'a Path,
    /// Shared with the temporary files a `Stager` makes, so each is placed through it.
    handle: std::sync::Arc<Root>,
}

/// What `Comparer::compare` found for one output: nothing, drift, or a path it may not read.
pub type Verdict = Result<Option<Drift>, Diagnostic>;

impl<'a> Comparer<'a> {
    pub fn new(root: &'a Path) -> Result<Self, Diagnostic> {
        let handle = Root::open(root).map_err(|error| {
            Diagnostic::io(&crate::source::display_path(root), "open root", &error)
        })?;
        Ok(Comparer {
            root,
            handle: std::sync::Arc::new(handle),
        })
    }

    /// The drift of `path` (relative to the root) against the `expected` content, given in
    /// pieces (`render::Text::pieces`), if any.
    pub fn compare(&self, path: &str, expected: &[String]) -> Verdict {
        let missing = || {
            Ok(Some(Drift::Missing {
                path: path.to_string(),
            }))
        };
        let reached = reach(&self.handle, path)?;
        let Some(folder) = reached.whole() else {
            return missing();
        };
        let Existing::File(mut file) = existing(folder, path)? else {
            return missing();
        };
        let shown = || crate::source::display_path(&self.root.join(path));
        if holds(&mut file, expected).map_err(|e| Diagnostic::io(&shown(), "read", &e))? {
            return Ok(None);
        }
        file.rewind()
            .map_err(|e| Diagnostic::io(&shown(), "read", &e))?;
        let actual = match crate::sandbox::read_opened(file, crate::sandbox::OUTPUT_ON_DISK) {
            Ok(actual) => actual,
            Err(crate::sandbox::Refusal::TooLarge { size, .. }) => {
                return Ok(Some(Drift::Changed {
                    path: path.to_string(),
                    diff: format!("(the file on disk is {size} bytes, too large to show a diff)\n"),
                    line: 1,
                }));
            }
            Err(refusal) => return Err(refusal.diagnostic(&shown(), "read")),
        };
        let expected = expected.concat();
        if actual == expected.as_bytes() {
            return Ok(None);
        }
        let actual = text_of(actual);
        Ok(Some(Drift::Changed {
            path: path.to_string(),
            diff: unified_diff(path, &actual, &expected),
            line: first_difference(&actual, &expected),
        }))
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
    let handle = Root::open(root)
        .map_err(|e| Diagnostic::io(&crate::source::display_path(root), "open root", &e))?;
    let orphaned = orphans(&handle, &verdicts, outputs)?;
    let mut drift: Vec<Drift> = verdicts
        .into_values()
        .filter_map(|verdict| verdict.ok().flatten())
        .collect();
    drift.extend(orphaned.into_iter().map(|path| Drift::Orphaned { path }));
    drift.sort_by(|a, b| a.path().cmp(b.path()));
    Ok(drift)
}

/// Whether `file` holds exactly the `expected` pieces, read a block at a time: an up-to-date
/// output (the common case) is never held in memory twice.
fn holds(file: &mut std::fs::File, expected: &[String]) -> std::io::Result<bool> {
    let expected_len: usize = expected.iter().map(String::len).sum();
    if file.metadata()?.len() != u64::try_from(expected_len).unwrap_or(u64::MAX) {
        return Ok(false);
    }
    let mut block = vec![0; expected_len.clamp(1, 64 * 1024)];
    for piece in expected {
        for part in piece.as_bytes().chunks(block.len()) {
            let read = &mut block[..part.len()];
            match file.read_exact(read) {
                Ok(()) if read == part => {}
                Ok(()) => return Ok(false),
                // Shorter than its length said: changed while read.
                Err(error) if error.kind() == std::io::ErrorKind::UnexpectedEof => {
                    return Ok(false);
                }
                Err(error) => return Err(error),
            }
        }
    }
    Ok(file.read(&mut [0])? == 0)
}

/// A file on disk as text for a diff; bytes that are not UTF-8 show as U+FFFD.
fn text_of(bytes: Vec<u8>) -> String {
    String::from_utf8(bytes)
        .unwrap_or_else(|error| String::from_utf8_lossy(error.as_bytes()).into_owned())
}

/// Files under the output folders that carry secretcat's header, and temporary files of
/// secretcat's, that the catalog does not produce (any more).
fn orphans<V>(
    root: &Root,
    files: &BTreeMap<String, V>,
    outputs: &OutputPaths<String>,
) -> Result<Vec<String>, Diagnostic> {
    let mut folders: BTreeSet<(PathBuf, Search)> = BTreeSet::new();
    let dir = outputs.dir.trim_end_matches('/');
    if !dir.is_empty() && dir != "." {
        folders.insert((PathBuf::from(dir), Search::Tree));
    }
    for path in files.keys() {
        let parent = Path::new(path)
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default();
        folders.insert((parent, Search::Folder));
    }
    // `generate` stages an output whose folder does not exist yet in the nearest folder that
    // does, which may lie above every folder searched so far.
    let above: Vec<PathBuf> = folders
        .iter()
        .filter_map(|(folder, _)| {
            let depth = folders::depth_reached(root, folder);
            let components = folder.components().count();
            (depth < components).then(|| folder.components().take(depth).collect())
        })
        .collect();
    folders.extend(
        above
            .into_iter()
            .map(|folder| (folder, Search::Temporaries)),
    );
    let mut found = BTreeSet::new();
    for (folder, search) in folders {
        scan(root, &folder, search, &mut found);
    }
    Ok(found
        .into_iter()
        .filter(|path| !files.contains_key(path))
        .collect())
}

/// How much of a folder `orphans` searches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Search {
    /// The folder and every folder below it: the output folder.
    Tree,
    /// The folder itself: one that holds outputs.
    Folder,
    /// Only the temporary files of an earlier `generate`: a folder above outputs whose own
    /// folders did not exist.
    Temporaries,
}

/// Collect the orphans of `folder`. A folder that is missing, or that a link stands for, holds
/// none: secretcat never writes there.
fn scan(root: &Root, folder: &Path, search: Search, found: &mut BTreeSet<String>) {
    let Some(handle) = folders::open(root, folder) else {
        return;
    };
    let Ok(entries) = handle.entries() else {
        return;
    };
    for entry in entries.flatten() {
        // The entry's own type: a link is neither a folder nor a file here.
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        let name = entry.file_name();
        let relative = folder.join(&name);
        if kind.is_dir() && search == Search::Tree {
            scan(root, &relative, search, found);
        } else if kind.is_file() && !write::is_own_temp(&name) {
            // A temporary file is known by its name alone, whatever a template wrote into it;
            // no other run is live while this one holds the output lock.
            let orphan = write::is_temp(&name)
                || (search != Search::Temporaries && has_marker(&handle, &name));
            if orphan {
                found.insert(relative.to_string_lossy().replace('\\', "/"));
            }
        }
    }
}

/// Whether the first lines of the file `name` in `folder` carry secretcat's header.
fn has_marker(folder: &cap_std::fs::Dir, name: &std::ffi::OsStr) -> bool {
    let Some(file) = folders::open_file(folder, Path::new(name)) else {
        return false;
    };
    let mut head = Vec::with_capacity(512);
    if file.take(512).read_to_end(&mut head).is_err() {
        return false;
    }
    let head = String::from_utf8_lossy(&head);
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
    fn an_edit_that_keeps_the_size_is_drift_wherever_it_is() {
        let root = tempfile::tempdir().unwrap();
        let expected = "line\n".repeat(30_000); // 150 kB: more than two read blocks
        let path = "generated/big.yaml";
        std::fs::create_dir_all(root.path().join("generated")).unwrap();
        let comparer = Comparer::new(root.path()).unwrap();
        // One piece, and pieces whose ends do not fall on the read blocks' ends.
        let (head, tail) = expected.split_at(5 * 7_001);
        let (middle, tail) = tail.split_at(5 * 15_000);
        let split = [head.to_string(), middle.to_string(), tail.to_string()];
        for pieces in [std::slice::from_ref(&expected), &split] {
            for at in [0, head.len() - 1, head.len(), 70_000, expected.len() - 2] {
                let mut edited = expected.clone().into_bytes();
                edited[at] = b'X';
                std::fs::write(root.path().join(path), &edited).unwrap();
                let drift = comparer.compare(path, pieces).unwrap();
                let Some(Drift::Changed { line, .. }) = drift else {
                    panic!("edit at {at}: {drift:?}");
                };
                assert_eq!(line, at / 5 + 1, "edit at {at}");
            }
            std::fs::write(root.path().join(path), &expected).unwrap();
            assert_eq!(comparer.compare(path, pieces).unwrap(), None);
            std::fs::write(root.path().join(path), format!("{expected}more")).unwrap();
            assert!(comparer.compare(path, pieces).unwrap().is_some());
        }
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
