//! The repository as secretcat touches it: one directory handle held open on a root, through
//! which every catalog file, template and output is read, written, renamed and removed.
//!
//! A pull request controls everything below the root, symbolic links included, so paths are
//! never handed to the kernel to resolve from scratch. Reads follow a link only while it stays
//! below the root (cap-std resolves each component against the held handle; on Linux the kernel
//! enforces it with `openat2(RESOLVE_BENEATH)`), open nothing inside `.git/`, never block on a
//! FIFO, and read no more than a bound per kind of file. Writes follow no link at all: every
//! folder on an output's way is opened from the root handle with `O_NOFOLLOW`, just before the
//! file is placed.

use std::io::Read;
use std::path::{Component, Path, PathBuf};

use cap_fs_ext::{DirExt, FollowSymlinks, OpenOptionsFollowExt, OpenOptionsSyncExt};
use cap_std::fs::{Dir, OpenOptions};

use crate::diagnostics::Diagnostic;
use crate::source::display_path;

const MIB: u64 = 1024 * 1024;

/// How much secretcat reads of one file of a kind, and how it names that kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    pub what: &'static str,
    pub bytes: u64,
}

/// A catalog file: 10,000 secrets in one file are about 13 MB.
pub const CATALOG_FILE: Limit = Limit {
    what: "catalog file",
    bytes: 64 * MIB,
};
/// A template override in `templates/`; the largest built-in one is a few kilobytes.
pub const TEMPLATE: Limit = Limit {
    what: "template",
    bytes: MIB,
};
/// A Vault token file (`--token-file`, `~/.vault-token`): a token is under 200 bytes.
pub const TOKEN_FILE: Limit = Limit {
    what: "token file",
    bytes: 64 * 1024,
};
/// A manifest or values file given to `verify` or `import`, stdin included.
pub const MANIFEST: Limit = Limit {
    what: "manifest",
    bytes: 256 * MIB,
};
/// An output on disk that `check` reads to show what differs; larger ones are reported as
/// changed without a diff.
pub const OUTPUT_ON_DISK: Limit = Limit {
    what: "output",
    bytes: 512 * MIB,
};

/// Why a file was not read.
#[derive(Debug)]
pub enum Refusal {
    Missing,
    /// The path, or a folder on it, is a symbolic link whose target lies outside the root.
    Outside {
        link: String,
        target: String,
    },
    /// The path resolves into a `.git` folder, which holds credentials and hooks.
    InGit {
        resolved: String,
    },
    /// Not a regular file: a folder, a FIFO, a socket, a device.
    NotRegular {
        kind: &'static str,
    },
    TooLarge {
        size: u64,
        limit: Limit,
    },
    Io(std::io::Error),
}

impl Refusal {
    /// The diagnostic for a refused read of `shown`, a path as the user sees it.
    pub fn diagnostic(self, shown: &str, action: &str) -> Diagnostic {
        match self {
            Refusal::Missing => Diagnostic::io(
                shown,
                action,
                &std::io::Error::from(std::io::ErrorKind::NotFound),
            ),
            Refusal::Outside { link, target } => {
                let what = match link == shown {
                    true => "it".to_string(),
                    false => format!("`{link}` on its way"),
                };
                Diagnostic::unsafe_path(
                    shown,
                    &format!(
                        "{what} is a symbolic link to `{target}`, outside the repository; secretcat reads only files inside it"
                    ),
                )
            }
            Refusal::InGit { resolved } => Diagnostic::unsafe_path(
                shown,
                &format!(
                    "it resolves to `{resolved}`, inside a `.git` folder, which secretcat never reads"
                ),
            ),
            Refusal::NotRegular { kind } => Diagnostic::unsafe_path(
                shown,
                &format!("it is {kind}, not a regular file; nothing was read from it"),
            ),
            Refusal::TooLarge { size, limit } => Diagnostic::input_too_large(shown, size, limit),
            Refusal::Io(error) => Diagnostic::io(shown, action, &error),
        }
    }
}

/// A root folder, held open.
#[derive(Debug)]
pub struct Root {
    dir: Dir,
    path: PathBuf,
}

impl Root {
    /// Open the folder at `path`, which the user named (or which defaults from what they named).
    pub fn open(path: &Path) -> std::io::Result<Root> {
        let dir = Dir::open_ambient_dir(path, cap_std::ambient_authority())?;
        Ok(Root {
            dir,
            path: path.to_path_buf(),
        })
    }

    /// The path the root was opened at, as given.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The handle itself, for writes (`emit`).
    pub fn dir(&self) -> &Dir {
        &self.dir
    }

    /// `relative` as the user sees it.
    pub fn shown(&self, relative: &Path) -> String {
        display_path(&self.path.join(relative))
    }

    /// The bytes of the regular file at `relative`, at most `limit` of them.
    pub fn read(&self, relative: &Path, limit: Limit) -> Result<Vec<u8>, Refusal> {
        let resolved = self.resolve(relative)?;
        let mut options = OpenOptions::new();
        // Non-blocking: a FIFO swapped in after `resolve` must not hang the open; no link is
        // followed, since `resolved` has none left.
        options.read(true).nonblock(true).follow(FollowSymlinks::No);
        let file = self
            .dir
            .open_with(&resolved, &options)
            .map_err(Refusal::Io)?
            .into_std();
        read_opened(file, limit)
    }

    /// What kind of thing `relative` is once links inside the root are followed: a folder, a
    /// file, or a refusal (a link out of the root, a path into `.git`).
    pub fn kind(&self, relative: &Path) -> Result<EntryKind, Refusal> {
        let resolved = self.resolve(relative)?;
        let meta = self.dir.symlink_metadata(&resolved).map_err(Refusal::Io)?;
        Ok(if meta.is_dir() {
            EntryKind::Folder
        } else if meta.is_file() {
            EntryKind::File
        } else {
            EntryKind::Other(special_kind(&meta.file_type()))
        })
    }

    /// The names in the folder `relative` (links inside the root followed), sorted.
    pub fn list(&self, relative: &Path) -> Result<Vec<std::ffi::OsString>, Refusal> {
        let resolved = self.resolve(relative)?;
        let folder = if resolved.as_os_str().is_empty() {
            self.dir.try_clone().map_err(Refusal::Io)?
        } else {
            self.dir.open_dir_nofollow(&resolved).map_err(Refusal::Io)?
        };
        let mut names: Vec<_> = folder
            .entries()
            .map_err(Refusal::Io)?
            .filter_map(|entry| entry.ok().map(|entry| entry.file_name()))
            .collect();
        names.sort();
        Ok(names)
    }

    /// `relative` with every link resolved, as a path below the root; refused when it leaves
    /// the root or enters `.git`.
    fn resolve(&self, relative: &Path) -> Result<PathBuf, Refusal> {
        if relative.as_os_str().is_empty() {
            return Ok(PathBuf::new());
        }
        let resolved = match self.dir.canonicalize(relative) {
            Ok(resolved) => resolved,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                return Err(Refusal::Missing);
            }
            Err(error) => return Err(self.escaping_link(relative).unwrap_or(Refusal::Io(error))),
        };
        // `canonicalize` of the root itself is `.`.
        let resolved: PathBuf = resolved
            .components()
            .filter(|c| !matches!(c, Component::CurDir))
            .collect();
        if resolved.components().any(|c| is_git(c.as_os_str())) {
            return Err(Refusal::InGit {
                resolved: display_path(&self.path.join(&resolved)),
            });
        }
        Ok(resolved)
    }

    /// The first link on `relative` whose target leaves the root, named for the user.
    fn escaping_link(&self, relative: &Path) -> Option<Refusal> {
        let mut walked = PathBuf::new();
        for component in relative.components() {
            walked.push(component);
            let meta = self.dir.symlink_metadata(&walked).ok()?;
            if meta.file_type().is_symlink() {
                let target = self.dir.read_link_contents(&walked).ok()?;
                if self.dir.canonicalize(&walked).is_err() {
                    return Some(Refusal::Outside {
                        link: self.shown(&walked),
                        target: target.to_string_lossy().into_owned(),
                    });
                }
            }
        }
        None
    }
}

/// What a path below a root is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryKind {
    Folder,
    File,
    Other(&'static str),
}

/// Whether a path component names a `.git` folder (or file), in any case: on a case-insensitive
/// file system `.GIT` is the same folder.
pub fn is_git(component: &std::ffi::OsStr) -> bool {
    component.eq_ignore_ascii_case(".git")
}

/// Read a file the user named on the command line (a token file, a manifest), following links
/// as the user would expect, but only if it is a regular file, and at most `limit` bytes.
pub fn read_named(path: &Path, limit: Limit) -> Result<Vec<u8>, Refusal> {
    // Looked at before it is opened, so that opening a FIFO cannot block.
    match std::fs::metadata(path) {
        Ok(meta) if !meta.is_file() => {
            return Err(Refusal::NotRegular {
                kind: std_special_kind(&meta.file_type()),
            });
        }
        Ok(_) => {}
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            return Err(Refusal::Missing);
        }
        Err(error) => return Err(Refusal::Io(error)),
    }
    let file = std::fs::File::open(path).map_err(Refusal::Io)?;
    read_opened(file, limit)
}

/// Read all of `input` (stdin), refusing more than `limit` bytes.
pub fn read_stream(input: impl Read, limit: Limit) -> Result<Vec<u8>, Refusal> {
    read_bounded(input, None, limit)
}

/// Read an opened file if it is a regular file, at most `limit` bytes of it.
pub fn read_opened(file: std::fs::File, limit: Limit) -> Result<Vec<u8>, Refusal> {
    let meta = file.metadata().map_err(Refusal::Io)?;
    if !meta.is_file() {
        return Err(Refusal::NotRegular {
            kind: std_special_kind(&meta.file_type()),
        });
    }
    read_bounded(file, Some(meta.len()), limit)
}

/// Read at most `limit` bytes of `input`; the size on disk is checked before anything is read,
/// and a file that grows while read is stopped at the bound.
fn read_bounded(input: impl Read, size: Option<u64>, limit: Limit) -> Result<Vec<u8>, Refusal> {
    if let Some(size) = size.filter(|&size| size > limit.bytes) {
        return Err(Refusal::TooLarge { size, limit });
    }
    let mut bytes = Vec::with_capacity(usize::try_from(size.unwrap_or(0)).unwrap_or(0));
    input
        .take(limit.bytes + 1)
        .read_to_end(&mut bytes)
        .map_err(Refusal::Io)?;
    let read = bytes.len() as u64;
    if read > limit.bytes {
        return Err(Refusal::TooLarge { size: read, limit });
    }
    Ok(bytes)
}

fn special_kind(kind: &cap_std::fs::FileType) -> &'static str {
    use cap_std::fs::FileTypeExt;
    if kind.is_dir() {
        "a folder"
    } else if kind.is_symlink() {
        "a symbolic link"
    } else if kind.is_fifo() {
        "a named pipe (FIFO)"
    } else if kind.is_socket() {
        "a socket"
    } else if kind.is_char_device() {
        "a character device"
    } else if kind.is_block_device() {
        "a block device"
    } else {
        "not a regular file"
    }
}

fn std_special_kind(kind: &std::fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if kind.is_fifo() {
            return "a named pipe (FIFO)";
        } else if kind.is_socket() {
            return "a socket";
        } else if kind.is_char_device() {
            return "a character device";
        } else if kind.is_block_device() {
            return "a block device";
        }
    }
    if kind.is_dir() {
        "a folder"
    } else {
        "not a regular file"
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    fn root_with(files: &[(&str, &str)]) -> (tempfile::TempDir, Root) {
        let dir = tempfile::tempdir().unwrap();
        for (name, text) in files {
            let path = dir.path().join(name);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
        let root = Root::open(dir.path()).unwrap();
        (dir, root)
    }

    const LIMIT: Limit = Limit {
        what: "test file",
        bytes: 16,
    };

    #[test]
    fn a_link_inside_the_root_is_followed_and_one_leaving_it_is_named() {
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("secret"), "TOKEN").unwrap();
        let (dir, root) = root_with(&[("catalog/a.toml", "a = 1")]);
        symlink("a.toml", dir.path().join("catalog/b.toml")).unwrap();
        symlink(
            outside.path().join("secret"),
            dir.path().join("catalog/c.toml"),
        )
        .unwrap();
        symlink(outside.path(), dir.path().join("catalog/team")).unwrap();
        assert_eq!(
            root.read(Path::new("catalog/b.toml"), LIMIT).unwrap(),
            b"a = 1"
        );
        for (path, through) in [
            ("catalog/c.toml", "catalog/c.toml"),
            ("catalog/team/secret", "catalog/team"),
        ] {
            match root.read(Path::new(path), LIMIT) {
                Err(Refusal::Outside { link, target }) => {
                    assert!(link.ends_with(through), "{path}: {link}");
                    assert!(
                        target.starts_with(outside.path().to_str().unwrap()),
                        "{target}"
                    );
                }
                other => panic!("{path}: {other:?}"),
            }
        }
        let escape = root.read(Path::new("catalog/c.toml"), LIMIT).unwrap_err();
        let message = escape.diagnostic("catalog/c.toml", "read").message;
        assert!(!message.contains("TOKEN"), "{message}");
    }

    #[test]
    fn proc_and_git_are_never_read() {
        let (dir, root) = root_with(&[(".git/config", "[core]\n"), ("x", "")]);
        symlink("/proc/self/environ", dir.path().join("env.toml")).unwrap();
        symlink(".git/config", dir.path().join("config.toml")).unwrap();
        assert!(matches!(
            root.read(Path::new("env.toml"), LIMIT),
            Err(Refusal::Outside { .. })
        ));
        assert!(matches!(
            root.read(Path::new("config.toml"), LIMIT),
            Err(Refusal::InGit { .. })
        ));
        assert!(matches!(
            root.read(Path::new(".GIT/config"), LIMIT),
            Err(Refusal::InGit { .. }) | Err(Refusal::Missing)
        ));
    }

    #[test]
    fn a_fifo_is_refused_without_blocking_and_size_is_bounded() {
        let (dir, root) = root_with(&[("big", &"x".repeat(17)), ("fits", &"x".repeat(16))]);
        let fifo = dir.path().join("pipe.toml");
        assert!(
            std::process::Command::new("mkfifo")
                .arg(&fifo)
                .status()
                .unwrap()
                .success()
        );
        assert!(matches!(
            root.read(Path::new("pipe.toml"), LIMIT),
            Err(Refusal::NotRegular {
                kind: "a named pipe (FIFO)"
            })
        ));
        assert!(matches!(
            read_named(&fifo, LIMIT),
            Err(Refusal::NotRegular {
                kind: "a named pipe (FIFO)"
            })
        ));
        assert!(matches!(
            root.read(Path::new("big"), LIMIT),
            Err(Refusal::TooLarge { size: 17, .. })
        ));
        assert_eq!(root.read(Path::new("fits"), LIMIT).unwrap().len(), 16);
        // A device behind a link the user named is not read either.
        assert!(matches!(
            read_named(Path::new("/dev/zero"), LIMIT),
            Err(Refusal::NotRegular {
                kind: "a character device"
            })
        ));
        // A stream longer than the bound stops at the bound.
        let endless = std::io::repeat(b'x');
        assert!(matches!(
            read_stream(endless, LIMIT),
            Err(Refusal::TooLarge { size: 17, .. })
        ));
    }
}
