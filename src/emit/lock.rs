//! The output tree's lock: one `generate` at a time, and no `check` while a `generate` runs.
//!
//! The lock is an advisory lock (`flock` on Unix) on `.secretcat.lock` in the root: `generate`
//! holds it exclusively and writes its process id into it, `check` holds it shared. The
//! operating system releases it when a run ends, killed or not, so a lock that stays is held by a
//! live process. The last holder removes the file; a run that locked a file another run has just
//! removed notices (the path no longer names the file it holds) and tries again.

use std::io::{Read, Write};
use std::path::Path;
use std::time::{Duration, Instant};

use cap_fs_ext::{FollowSymlinks, OpenOptionsFollowExt};
use cap_std::fs::OpenOptions;

use crate::diagnostics::Diagnostic;
use crate::sandbox::Root;

/// The lock file, in the root.
pub const LOCK_FILE: &str = ".secretcat.lock";

/// How long a run waits for another to let go of the lock, unless told otherwise.
pub const LOCK_WAIT: Duration = Duration::from_secs(10);

/// A held lock on the output tree; released when dropped.
#[derive(Debug)]
pub struct OutputLock {
    root: Root,
    file: std::fs::File,
    exclusive: bool,
}

impl OutputLock {
    /// The lock for `generate`, waiting at most `wait` for another run to let go of it. `None`
    /// when the root cannot be opened: nothing can be written there either, and the writer says
    /// why.
    pub fn exclusive(root: &Path, wait: Duration) -> Result<Option<OutputLock>, Diagnostic> {
        let Ok(handle) = Root::open(root) else {
            return Ok(None);
        };
        let Some(mut lock) = acquire(handle, true, wait)? else {
            return Ok(None);
        };
        // The holder's id, for the message of a run that gives up waiting.
        let pid = std::process::id().to_string();
        let _ = lock.file.set_len(0);
        let _ = lock.file.write_all(pid.as_bytes());
        Ok(Some(lock))
    }

    /// The lock for `check`: shared with other checks, waiting at most `wait` for a `generate`.
    /// `Ok(None)` when the root cannot hold a lock file (a read-only checkout, where no
    /// `generate` can run either).
    pub fn shared(root: &Path, wait: Duration) -> Result<Option<OutputLock>, Diagnostic> {
        match Root::open(root) {
            Ok(handle) => acquire(handle, false, wait),
            Err(_) => Ok(None),
        }
    }
}

impl Drop for OutputLock {
    fn drop(&mut self) {
        // A shared holder removes the file only when it is the last: when it can take the lock
        // exclusively without waiting. The file is removed while still locked, so that no one
        // locks a file that is about to go; the lock itself goes with `self.file`.
        let last = self.exclusive || self.file.try_lock().is_ok();
        if last {
            let _ = self.root.dir().remove_file(LOCK_FILE);
        }
    }
}

fn acquire(root: Root, exclusive: bool, wait: Duration) -> Result<Option<OutputLock>, Diagnostic> {
    let shown = root.shown(Path::new(LOCK_FILE));
    let deadline = Instant::now() + wait;
    loop {
        let mut options = OpenOptions::new();
        options
            .read(true)
            .write(true)
            .create(true)
            .follow(FollowSymlinks::No);
        let file = match root.dir().open_with(LOCK_FILE, &options) {
            Ok(file) => file.into_std(),
            Err(_) if !exclusive => return Ok(None),
            Err(error) => return Err(Diagnostic::io(&shown, "create the lock", &error)),
        };
        let locked = match exclusive {
            true => file.try_lock(),
            false => file.try_lock_shared(),
        };
        match locked {
            Ok(()) if names_file(&root, &file) => {
                return Ok(Some(OutputLock {
                    root,
                    file,
                    exclusive,
                }));
            }
            // Removed by the run that held it just before we locked it: take the new one.
            Ok(()) => continue,
            Err(std::fs::TryLockError::WouldBlock) if Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(20));
            }
            Err(std::fs::TryLockError::WouldBlock) => {
                return Err(Diagnostic::output_locked(
                    &shown,
                    holder(file),
                    wait.as_secs(),
                ));
            }
            Err(std::fs::TryLockError::Error(_)) if !exclusive => return Ok(None),
            Err(std::fs::TryLockError::Error(error)) => {
                return Err(Diagnostic::io(&shown, "lock", &error));
            }
        }
    }
}

/// Whether the lock file's path still names `file`.
#[cfg(unix)]
fn names_file(root: &Root, file: &std::fs::File) -> bool {
    use cap_std::fs::MetadataExt as _;
    use std::os::unix::fs::MetadataExt as _;
    match (root.dir().symlink_metadata(LOCK_FILE), file.metadata()) {
        (Ok(at_path), Ok(held)) => at_path.dev() == held.dev() && at_path.ino() == held.ino(),
        _ => false,
    }
}

#[cfg(not(unix))]
fn names_file(_root: &Root, _file: &std::fs::File) -> bool {
    true
}

/// The process id the holder wrote, when it wrote one.
fn holder(file: std::fs::File) -> Option<u32> {
    let mut text = String::new();
    file.take(32).read_to_string(&mut text).ok()?;
    text.trim().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_generate_waits_then_names_the_holder_and_a_check_waits_too() {
        let root = tempfile::tempdir().unwrap();
        let held = OutputLock::exclusive(root.path(), LOCK_WAIT)
            .unwrap()
            .unwrap();
        let wait = Duration::from_millis(100);
        let refused = OutputLock::exclusive(root.path(), wait).unwrap_err();
        assert!(
            refused
                .message
                .contains(&format!("(process {})", std::process::id())),
            "{}",
            refused.message
        );
        assert!(OutputLock::shared(root.path(), wait).is_err());
        drop(held);
        assert!(
            !root.path().join(LOCK_FILE).exists(),
            "the last holder removes it"
        );
        let first = OutputLock::shared(root.path(), wait).unwrap().unwrap();
        let second = OutputLock::shared(root.path(), wait).unwrap().unwrap();
        assert!(OutputLock::exclusive(root.path(), wait).is_err());
        drop(first);
        assert!(
            root.path().join(LOCK_FILE).exists(),
            "a check still holds it"
        );
        drop(second);
        assert!(!root.path().join(LOCK_FILE).exists());
        let again = OutputLock::exclusive(root.path(), wait).unwrap().unwrap();
        drop(again);
    }

    #[cfg(unix)]
    #[test]
    fn a_planted_link_is_never_followed() {
        let outside = tempfile::tempdir().unwrap();
        let root = tempfile::tempdir().unwrap();
        let target = outside.path().join("victim");
        std::fs::write(&target, "keep me").unwrap();
        std::os::unix::fs::symlink(&target, root.path().join(LOCK_FILE)).unwrap();
        assert!(OutputLock::exclusive(root.path(), Duration::from_millis(50)).is_err());
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "keep me");
    }
}
