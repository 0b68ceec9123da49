//! Walking an output's folders from the root's handle, one component at a time, following no
//! link: what `check` reads and `generate` writes is always where the path says, inside the
//! root, at the moment it is read or written.

use std::ffi::OsStr;
use std::path::{Component, Path, PathBuf};

use cap_fs_ext::{DirExt, FollowSymlinks, OpenOptionsFollowExt, OpenOptionsSyncExt};
use cap_std::fs::{Dir, OpenOptions};

use crate::diagnostics::Diagnostic;
use crate::sandbox::Root;

/// How much of an output's folder exists.
pub(super) struct Reached {
    /// The deepest folder that exists.
    pub dir: Dir,
    /// How many of the folder's components it covers.
    pub depth: usize,
    /// The folder's components.
    pub components: Vec<PathBuf>,
}

impl Reached {
    /// The output's own folder, when it exists.
    pub fn whole(&self) -> Option<&Dir> {
        (self.depth == self.components.len()).then_some(&self.dir)
    }

    /// The folder reached, relative to the root.
    pub fn reached(&self) -> PathBuf {
        self.components[..self.depth].iter().collect()
    }
}

/// The components of a relative path; `None` when it has any other kind (`..`, a root).
fn components(path: &Path) -> Option<Vec<PathBuf>> {
    path.components()
        .filter(|c| !matches!(c, Component::CurDir))
        .map(|c| match c {
            Component::Normal(name) => Some(PathBuf::from(name)),
            _ => None,
        })
        .collect()
}

/// Walk the folder of the output `path` (relative to the root) as far as it exists. A link or
/// a file where a folder is needed is an error naming it.
pub(super) fn reach(root: &Root, path: &str) -> Result<Reached, Diagnostic> {
    let folder = Path::new(path).parent().unwrap_or(Path::new(""));
    reach_folder(root, folder, path)
}

/// Walk `folder` (relative to the root) as far as it exists; errors name the output `path`.
fn reach_folder(root: &Root, folder: &Path, path: &str) -> Result<Reached, Diagnostic> {
    let components = components(folder).ok_or_else(|| {
        Diagnostic::invalid_output_path(path, "must stay below the root, with no `..`")
    })?;
    let mut dir = root
        .dir()
        .try_clone()
        .map_err(|e| Diagnostic::io(&root.shown(Path::new("")), "open root", &e))?;
    for (depth, name) in components.iter().enumerate() {
        match step(&dir, name) {
            Ok(Some(next)) => dir = next,
            Ok(None) => {
                return Ok(Reached {
                    dir,
                    depth,
                    components,
                });
            }
            Err(problem) => {
                let walked: PathBuf = components[..=depth].iter().collect();
                return Err(problem.diagnostic(path, &root.shown(&walked)));
            }
        }
    }
    let depth = components.len();
    Ok(Reached {
        dir,
        depth,
        components,
    })
}

/// Walk to the folder of `path`, creating what is missing, as `generate` does to place a file.
pub(super) fn reach_creating(root: &Root, path: &str) -> Result<Dir, Diagnostic> {
    let reached = reach(root, path)?;
    let mut dir = reached.dir;
    for depth in reached.depth..reached.components.len() {
        let name = &reached.components[depth];
        let walked: PathBuf = reached.components[..=depth].iter().collect();
        let shown = root.shown(&walked);
        match dir.create_dir(name) {
            Ok(()) => {}
            Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(error) => return Err(Diagnostic::io(&shown, "create folder", &error)),
        }
        dir = match step(&dir, name) {
            Ok(Some(next)) => next,
            Ok(None) => {
                let gone = std::io::Error::from(std::io::ErrorKind::NotFound);
                return Err(Diagnostic::io(&shown, "create folder", &gone));
            }
            Err(problem) => return Err(problem.diagnostic(path, &shown)),
        };
    }
    Ok(dir)
}

/// How many components of `folder` (relative to the root) exist as real folders.
pub(super) fn depth_reached(root: &Root, folder: &Path) -> usize {
    let shown = folder.to_string_lossy();
    reach_folder(root, folder, &shown).map_or(0, |reached| reached.depth)
}

/// The folder `folder` (relative to the root), when it exists and no link is on its way.
pub(super) fn open(root: &Root, folder: &Path) -> Option<Dir> {
    let reached = reach_folder(root, folder, &folder.to_string_lossy()).ok()?;
    reached.whole()?;
    Some(reached.dir)
}

/// Open `name` in `folder` for reading if it is a regular file: no link followed, no FIFO
/// waited on.
pub(super) fn open_file(folder: &Dir, name: &Path) -> Option<std::fs::File> {
    let mut options = OpenOptions::new();
    options.read(true).nonblock(true).follow(FollowSymlinks::No);
    let file = folder.open_with(name, &options).ok()?.into_std();
    file.metadata().ok()?.is_file().then_some(file)
}

/// What stands at an output's place.
pub(super) enum Existing {
    Nothing,
    File(std::fs::File),
}

/// The file at the output `path`, whose folder is `folder`: nothing, a regular file, or an error
/// for anything else (a link, a folder, a FIFO).
pub(super) fn existing(folder: &Dir, path: &str) -> Result<Existing, Diagnostic> {
    let name = Path::new(path).file_name().unwrap_or(OsStr::new(""));
    let meta = match folder.symlink_metadata(name) {
        Ok(meta) => meta,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(Existing::Nothing),
        Err(error) => return Err(Diagnostic::io(path, "read", &error)),
    };
    let refuse = |why: &str| Err(Diagnostic::invalid_output_path(path, why).on_path(path));
    if meta.file_type().is_symlink() {
        return refuse("is a symbolic link; secretcat never writes through links");
    }
    if meta.is_dir() {
        return refuse("is a folder on disk; remove it or change the output path");
    }
    if !meta.is_file() {
        return refuse("is not a regular file (a FIFO, a socket or a device); remove it");
    }
    match open_file(folder, Path::new(name)) {
        Some(file) => Ok(Existing::File(file)),
        None => Err(Diagnostic::io(
            path,
            "read",
            &std::io::Error::other("it changed while it was opened"),
        )),
    }
}

/// Why one step of a walk stopped.
enum Blocked {
    Link,
    File,
    Io(std::io::Error),
}

impl Blocked {
    fn diagnostic(self, path: &str, shown: &str) -> Diagnostic {
        let why = match self {
            Blocked::Link => format!(
                "goes through the symbolic link `{shown}`; secretcat never writes or reads outputs through links"
            ),
            Blocked::File => format!("needs `{shown}` to be a folder, but it is a file"),
            Blocked::Io(error) => return Diagnostic::io(shown, "open folder", &error),
        };
        Diagnostic::invalid_output_path(path, &why).on_path(shown.to_string())
    }
}

/// The folder `name` in `dir`: `None` when it does not exist.
fn step(dir: &Dir, name: &Path) -> Result<Option<Dir>, Blocked> {
    match dir.open_dir_nofollow(name) {
        Ok(next) => Ok(Some(next)),
        Err(error) => match dir.symlink_metadata(name) {
            Err(missing) if missing.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Ok(meta) if meta.file_type().is_symlink() => Err(Blocked::Link),
            Ok(meta) if !meta.is_dir() => Err(Blocked::File),
            _ => Err(Blocked::Io(error)),
        },
    }
}
