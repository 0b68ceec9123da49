//! `generate`'s half of emit, in two steps. Staging happens on the core that rendered an output:
//! its path is checked, it is compared with the file on disk, and if it differs it is written to
//! a temporary file and synced, so no output is held once rendered and the syncs overlap.
//! Committing happens once every output is staged: each temporary file is renamed into place in
//! path order, then orphans are removed. Until the first rename nothing on disk has changed, and
//! a staged file that is never placed is deleted when dropped.

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use cap_fs_ext::{FollowSymlinks, OpenOptionsFollowExt};
use cap_std::fs::OpenOptions;

use super::folders::{self, Existing, existing, reach, reach_creating};
use super::{Comparer, holds, orphans};
use crate::diagnostics::Diagnostic;
use crate::model::OutputPaths;
use crate::sandbox::Root;

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

/// Stages outputs one at a time, from any thread.
pub struct Stager<'a> {
    /// Compares outputs with the files on disk; its root handle is shared with every temporary
    /// file, so each can be placed or removed through it.
    inside: Comparer<'a>,
}

/// One output after staging: already what the catalog says, or waiting in a temporary file.
#[derive(Debug)]
pub enum Staged {
    Unchanged,
    Pending(TempFile),
}

/// A synced temporary file beside (or above, while its folder does not exist yet) the output it
/// will replace; deleted when dropped unless it was renamed into place.
#[derive(Debug)]
pub struct TempFile {
    root: Arc<Root>,
    /// The folder it is in, relative to the root.
    folder: PathBuf,
    name: String,
    placed: bool,
}

impl Drop for TempFile {
    fn drop(&mut self) {
        if !self.placed
            && let Some(folder) = folders::open(&self.root, &self.folder)
        {
            let _ = folder.remove_file(&self.name);
        }
    }
}

/// The beginning of every temporary file's name; with the process id and a number after it and
/// `.tmp` at the end, the name alone says a file is secretcat's.
const TEMP_PREFIX: &str = ".secretcat-";

/// The prefix of this process's temporary files. Orphan scans skip them while they wait; any
/// other run's are left over from a killed run, since only one run holds the output lock.
fn own_temp_prefix() -> String {
    format!("{TEMP_PREFIX}{}-", std::process::id())
}

/// Whether `name` is a temporary file of any secretcat run, this one or an earlier one:
/// `.secretcat-<pid>-<n>.tmp`.
pub(super) fn is_temp(name: &OsStr) -> bool {
    let name = name.to_string_lossy();
    let Some(middle) = name
        .strip_prefix(TEMP_PREFIX)
        .and_then(|rest| rest.strip_suffix(".tmp"))
    else {
        return false;
    };
    let digits = |part: &str| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit());
    middle
        .split_once('-')
        .is_some_and(|(pid, number)| digits(pid) && digits(number))
}

/// How a temporary file is created: new, and never through a link planted at its name.
fn new_file() -> OpenOptions {
    let mut options = OpenOptions::new();
    options
        .write(true)
        .create_new(true)
        .follow(FollowSymlinks::No);
    options
}

/// A name for a new temporary file of this process, unique within it.
fn temp_name() -> String {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let number = NEXT.fetch_add(1, Ordering::Relaxed);
    format!("{}{number}.tmp", own_temp_prefix())
}

pub(super) fn is_own_temp(name: &OsStr) -> bool {
    is_temp(name) && name.to_string_lossy().starts_with(&own_temp_prefix())
}

impl<'a> Stager<'a> {
    pub fn new(root: &'a Path) -> Result<Self, Diagnostic> {
        Ok(Stager {
            inside: Comparer::new(root)?,
        })
    }

    /// Stage the output at `path` (relative to the root) with `content`, given in pieces
    /// (`render::Text::pieces`).
    pub fn stage(&self, path: &str, content: &[String]) -> Result<Staged, Diagnostic> {
        let shown = || crate::source::display_path(&self.inside.root.join(path));
        // The nearest folder that exists: the output's own folders are created only when it is
        // placed, so a run that fails before then leaves no empty folders behind. Both lie on one
        // file system, since the folders between them will be created inside it.
        let reached = reach(&self.inside.handle, path)?;
        let mut permissions = None;
        if let Some(folder) = reached.whole()
            && let Existing::File(mut file) = existing(folder, path)?
        {
            if holds(&mut file, content).map_err(|e| Diagnostic::io(&shown(), "read", &e))? {
                return Ok(Staged::Unchanged);
            }
            // A replaced output keeps the mode its owner gave it.
            permissions = file.metadata().ok().map(|meta| meta.permissions());
        }
        let temp = TempFile {
            root: Arc::clone(&self.inside.handle),
            folder: reached.reached(),
            name: temp_name(),
            placed: false,
        };
        let written = reached
            .dir
            .open_with(&temp.name, &new_file())
            .map(cap_std::fs::File::into_std)
            .and_then(|mut file| {
                for piece in content {
                    file.write_all(piece.as_bytes())?;
                }
                if let Some(permissions) = permissions {
                    file.set_permissions(permissions)?;
                }
                file.sync_all()
            });
        match written {
            Ok(()) => Ok(Staged::Pending(temp)),
            Err(error) => Err(Diagnostic::io(path, "write", &error)),
        }
    }
}

/// Place every staged output and remove orphans. A path that failed to stage fails the whole
/// run before anything is placed (the first such path, in path order); a failed rename stops
/// the run there, and the report says which files are new and which were left as they were.
pub fn commit(
    root: &Path,
    staged: BTreeMap<String, Result<Staged, Diagnostic>>,
    outputs: &OutputPaths<String>,
) -> Result<WriteReport, (WriteReport, Diagnostic)> {
    commit_with(root, staged, outputs, &mut place)
}

/// The step that puts one staged file in place (the root, the file, the output's path).
pub type Place<'a> = dyn FnMut(&Root, &TempFile, &str) -> Result<(), Diagnostic> + 'a;

/// `commit` with the placing step supplied, so tests can make the Nth rename fail.
pub fn commit_with(
    root: &Path,
    staged: BTreeMap<String, Result<Staged, Diagnostic>>,
    outputs: &OutputPaths<String>,
    place: &mut Place,
) -> Result<WriteReport, (WriteReport, Diagnostic)> {
    let mut report = WriteReport::default();
    // The first failure in path order; the other staged files are deleted as they are dropped.
    let staged: BTreeMap<String, Staged> = match staged
        .into_iter()
        .map(|(path, staged)| staged.map(|staged| (path, staged)))
        .collect()
    {
        Ok(staged) => staged,
        Err(error) => return Err((report, error)),
    };
    let handle = match Root::open(root) {
        Ok(handle) => handle,
        Err(error) => {
            let shown = crate::source::display_path(root);
            return Err((report, Diagnostic::io(&shown, "open root", &error)));
        }
    };
    let orphaned = match orphans(&handle, &staged, outputs) {
        Ok(orphaned) => orphaned,
        Err(error) => return Err((report, error)),
    };
    let mut failure = None;
    for (path, staged) in staged {
        let Staged::Pending(mut temp) = staged else {
            report.unchanged.push(path);
            continue;
        };
        if failure.is_some() {
            report.untouched.push(path);
            continue;
        }
        match place(&handle, &temp, &path) {
            Ok(()) => {
                temp.placed = true;
                report.written.push(path);
            }
            Err(error) => {
                failure = Some(error);
                report.untouched.push(path);
            }
        }
    }
    for path in orphaned {
        if failure.is_some() {
            report.untouched.push(path);
            continue;
        }
        match remove(&handle, &path) {
            Ok(()) => {
                remove_empty_parents(&handle, &path, &outputs.dir);
                report.removed.push(path);
            }
            Err(error) => {
                failure = Some(error);
                report.untouched.push(path);
            }
        }
    }
    match failure {
        Some(error) => Err((report, error)),
        None => Ok(report),
    }
}

/// Stage every one of `files` (relative path → content), one per core, and commit them: what
/// `generate` does with outputs it renders as it goes.
pub fn write(
    root: &Path,
    files: &BTreeMap<String, String>,
    outputs: &OutputPaths<String>,
) -> Result<WriteReport, (WriteReport, Diagnostic)> {
    commit(root, stage_all(root, files), outputs)
}

fn stage_all(
    root: &Path,
    files: &BTreeMap<String, String>,
) -> BTreeMap<String, Result<Staged, Diagnostic>> {
    let stager = Stager::new(root);
    let entries: Vec<_> = files.iter().collect();
    let staged = crate::parallel::map(&entries, |&(path, content)| match &stager {
        Ok(stager) => stager.stage(path, std::slice::from_ref(content)),
        Err(error) => Err(error.clone()),
    });
    files.keys().cloned().zip(staged).collect()
}

/// Move a staged file to its output path, creating the folders it needs. Both folders are
/// walked afresh from the root, without links, right before the rename: a folder swapped for a
/// link since staging stops the run instead of sending the file through it.
fn place(root: &Root, temp: &TempFile, path: &str) -> Result<(), Diagnostic> {
    let from = folders::open(root, &temp.folder).ok_or_else(|| {
        let gone = std::io::Error::other(format!(
            "the folder `{}` of its temporary file was replaced or removed during the run",
            root.shown(&temp.folder)
        ));
        Diagnostic::io(path, "write", &gone)
    })?;
    let to = reach_creating(root, path)?;
    let name = Path::new(path).file_name().unwrap_or(OsStr::new(""));
    from.rename(&temp.name, &to, name)
        .map_err(|error| Diagnostic::io(path, "write", &error))
}

/// Remove the output file `path`; a link in its place or on its way is left alone.
fn remove(root: &Root, path: &str) -> Result<(), Diagnostic> {
    let reached = reach(root, path)?;
    let Some(folder) = reached.whole() else {
        return Ok(());
    };
    let name = Path::new(path).file_name().unwrap_or(OsStr::new(""));
    folder
        .remove_file(name)
        .map_err(|error| Diagnostic::io(path, "remove orphaned output", &error))
}

/// After removing an orphan, drop the folders it leaves empty, up to (not including) the
/// output folder: a removed chart bundle should not leave `generated/charts/<bundle>/` behind.
fn remove_empty_parents(root: &Root, removed: &str, dir: &str) {
    let stop = Path::new(dir.trim_end_matches('/'));
    let mut folder = Path::new(removed).parent();
    while let Some(current) = folder {
        if current.as_os_str().is_empty() || current == stop || !current.starts_with(stop) {
            break;
        }
        let parent = current.parent().unwrap_or(Path::new(""));
        let (Some(handle), Some(name)) = (folders::open(root, parent), current.file_name()) else {
            break;
        };
        // `remove_dir` fails on a folder that still holds anything, which is what stops us.
        if handle.remove_dir(name).is_err() {
            break;
        }
        folder = Some(parent);
    }
}

/// Replace `path` with `content` so that a reader sees the old file or the new one, never a mix,
/// through a handle on its folder: a link at `path` is replaced, not followed.
pub fn write_atomic(path: &Path, content: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let dir = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    std::fs::create_dir_all(dir)?;
    let folder = cap_std::fs::Dir::open_ambient_dir(dir, cap_std::ambient_authority())?;
    let name = path
        .file_name()
        .ok_or_else(|| std::io::Error::other("no file name"))?;
    let temp = temp_name();
    let result = folder
        .open_with(&temp, &new_file())
        .map(cap_std::fs::File::into_std)
        .and_then(|mut file| {
            file.write_all(content)?;
            file.sync_all()
        })
        .and_then(|()| folder.rename(&temp, &folder, name));
    if result.is_err() {
        let _ = folder.remove_file(&temp);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::emit::{Drift, compare};

    fn outputs() -> OutputPaths<String> {
        OutputPaths::DEFAULT.into()
    }

    /// Every file under `folder`, at any depth, whose name ends in `.tmp`.
    fn temp_files(folder: &Path) -> Vec<PathBuf> {
        let mut found = Vec::new();
        for entry in std::fs::read_dir(folder).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                found.extend(temp_files(&path));
            } else if path.to_string_lossy().ends_with(".tmp") {
                found.push(path);
            }
        }
        found
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
        let mut renames = 0;
        let staged = stage_all(root.path(), &files);
        let result = commit_with(root.path(), staged, &outputs(), &mut |root, temp, path| {
            renames += 1;
            if renames == 3 {
                let full = std::io::Error::other("disk full");
                return Err(Diagnostic::io(path, "write", &full));
            }
            place(root, temp, path)
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
        assert_eq!(temp_files(root.path()), Vec::<PathBuf>::new());
    }

    #[test]
    fn a_failed_stage_changes_nothing_and_leaves_no_temporary_file_or_folder() {
        let root = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(root.path().join("generated")).unwrap();
        std::fs::write(root.path().join("generated/a.yaml"), "old a\n").unwrap();
        // `generated/b.yaml/x.yaml` cannot be placed while `generated/b.yaml` is a file.
        std::fs::write(root.path().join("generated/b.yaml"), "old b\n").unwrap();
        let files = BTreeMap::from([
            ("generated/a.yaml".to_string(), "new a\n".to_string()),
            ("generated/b.yaml/x.yaml".to_string(), "x\n".to_string()),
            ("generated/new/c.yaml".to_string(), "new c\n".to_string()),
        ]);
        let (report, error) = write(root.path(), &files, &outputs()).unwrap_err();
        assert_eq!(report, WriteReport::default());
        assert!(
            error.message.contains("to be a folder"),
            "{}",
            error.message
        );
        let a = std::fs::read_to_string(root.path().join("generated/a.yaml")).unwrap();
        assert_eq!(a, "old a\n");
        assert!(!root.path().join("generated/new").exists());
        assert_eq!(temp_files(root.path()), Vec::<PathBuf>::new());
    }

    #[test]
    fn new_folders_are_created_when_their_first_file_is_placed() {
        let root = tempfile::tempdir().unwrap();
        let files = BTreeMap::from([
            ("generated/charts/a/x.yaml".to_string(), "x\n".to_string()),
            ("generated/y.yaml".to_string(), "y\n".to_string()),
        ]);
        let report = write(root.path(), &files, &outputs()).unwrap();
        assert_eq!(
            report.written,
            ["generated/charts/a/x.yaml", "generated/y.yaml"]
        );
        for (path, content) in &files {
            assert_eq!(
                &std::fs::read_to_string(root.path().join(path)).unwrap(),
                content
            );
        }
        assert_eq!(temp_files(root.path()), Vec::<PathBuf>::new());
        let again = write(root.path(), &files, &outputs()).unwrap();
        assert_eq!(again.unchanged.len(), 2);
        assert!(again.written.is_empty());
    }

    #[test]
    fn a_text_in_pieces_is_written_whole_and_then_found_unchanged() {
        let root = tempfile::tempdir().unwrap();
        let stager = Stager::new(root.path()).unwrap();
        let pieces = [
            "# a\n".to_string(),
            "b: 1\n".to_string(),
            "c: 2\n".to_string(),
        ];
        let path = "generated/x.yaml";
        let staged = stager.stage(path, &pieces).unwrap();
        assert!(matches!(staged, Staged::Pending(_)));
        let staged = BTreeMap::from([(path.to_string(), Ok(staged))]);
        assert_eq!(
            commit(root.path(), staged, &outputs()).unwrap().written,
            [path]
        );
        let on_disk = std::fs::read_to_string(root.path().join(path)).unwrap();
        assert_eq!(on_disk, "# a\nb: 1\nc: 2\n");
        assert!(matches!(stager.stage(path, &pieces), Ok(Staged::Unchanged)));
        let fewer = &pieces[..2];
        assert!(matches!(stager.stage(path, fewer), Ok(Staged::Pending(_))));
    }

    #[test]
    fn a_temporary_file_left_by_a_killed_run_is_an_orphan() {
        let root = tempfile::tempdir().unwrap();
        let generated = root.path().join("generated");
        std::fs::create_dir_all(&generated).unwrap();
        let left = generated.join(".secretcat-1-0.tmp");
        std::fs::write(&left, "# @generated by secretcat from catalog/\n").unwrap();
        let files = BTreeMap::from([("generated/y.yaml".to_string(), "y\n".to_string())]);
        let report = write(root.path(), &files, &outputs()).unwrap();
        assert_eq!(report.removed, ["generated/.secretcat-1-0.tmp"]);
        assert!(!left.exists());
        assert_eq!(compare(root.path(), &files, &outputs()).unwrap(), []);
    }

    #[test]
    fn a_temporary_file_a_killed_first_run_left_above_the_output_folder_is_an_orphan() {
        let root = tempfile::tempdir().unwrap();
        let marked = "# @generated by secretcat from catalog/\n";
        // Killed before `generated/` existed: its output was staged in the root.
        std::fs::write(root.path().join(".secretcat-1-0.tmp"), marked).unwrap();
        // A file of the user's with the header, outside the output folders: never an orphan.
        std::fs::write(root.path().join("copy.yaml"), marked).unwrap();
        let files = BTreeMap::from([("generated/y.yaml".to_string(), "y\n".to_string())]);
        let drift = compare(root.path(), &files, &outputs()).unwrap();
        let orphaned = Drift::Orphaned {
            path: ".secretcat-1-0.tmp".into(),
        };
        assert!(drift.contains(&orphaned), "{drift:?}");
        let report = write(root.path(), &files, &outputs()).unwrap();
        assert_eq!(report.removed, [".secretcat-1-0.tmp"]);
        assert!(root.path().join("copy.yaml").exists());
        assert_eq!(compare(root.path(), &files, &outputs()).unwrap(), []);
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
            error.message.contains("goes through the symbolic link"),
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

    #[cfg(unix)]
    #[test]
    fn a_link_planted_between_staging_and_placing_stops_the_run_with_nothing_outside() {
        let outside = tempfile::tempdir().unwrap();
        let root = tempfile::tempdir().unwrap();
        let generated = root.path().join("generated");
        std::fs::create_dir_all(generated.join("a")).unwrap();
        let stager = Stager::new(root.path()).unwrap();
        let content = ["x: 1\n".to_string()];
        // A new folder, staged above it, then planted as a link; and an existing folder, staged
        // inside it, then moved away and replaced by a link.
        let new = "generated/charts/new/x.yaml";
        let existing = "generated/a/y.yaml";
        for (path, planted) in [(new, "generated/charts"), (existing, "generated/a")] {
            let staged = stager.stage(path, &content).unwrap();
            if path == existing {
                std::fs::rename(generated.join("a"), generated.join("a-moved")).unwrap();
            }
            std::os::unix::fs::symlink(outside.path(), root.path().join(planted)).unwrap();
            let staged = BTreeMap::from([(path.to_string(), Ok(staged))]);
            let (report, error) = commit(root.path(), staged, &outputs()).unwrap_err();
            assert!(report.written.is_empty(), "{path}");
            assert!(
                error.message.contains("symbolic link") || error.message.contains("replaced"),
                "{path}: {}",
                error.message
            );
            assert!(
                std::fs::read_dir(outside.path()).unwrap().next().is_none(),
                "{path}: nothing written outside"
            );
        }
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
}
