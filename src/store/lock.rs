//! The cross-process lock Hermes and rotor share: an exclusive `flock(2)` on the sibling
//! `auth.lock` (Python's `Path.with_suffix(".lock")`). Hermes polls `LOCK_EX|LOCK_NB` every
//! 50 ms; rotor does the same so neither starves the other.
//!
//! The lock file is opened read+write+create and never truncated or deleted: deleting it would
//! let two processes lock two different inodes under the same name. The file we rename over
//! (auth.json) is never the one locked, for the same reason.
//!
//! It is opened with `O_NOFOLLOW` (a symlink planted as auth.lock, dangling or not, would make
//! rotor create or lock a file elsewhere) and `O_NONBLOCK` (a FIFO in its place cannot hang
//! rotor). A lock file rotor creates belongs to the directory's owner, with read and write for
//! that owner (and for the directory's group when the directory grants it write), whatever the
//! umask: so `sudo rotor …` in a service user's HERMES_HOME leaves a lock the service can take.

use crate::error::{Error, Result};
use std::fs::{File, OpenOptions, TryLockError};
use std::io;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// How often to retry, as Hermes does.
const POLL: Duration = Duration::from_millis(50);
/// After this long, say on stderr that rotor is waiting, so a stuck cron job explains itself.
const ANNOUNCE_AFTER: Duration = Duration::from_secs(1);

/// The lock file that goes with an auth.json: `auth.json` → `auth.lock`.
pub(crate) fn lock_path_for(auth_file: &Path) -> PathBuf {
    auth_file.with_extension("lock")
}

/// Held while rotor reads, changes and writes auth.json. Dropping it releases the lock.
#[derive(Debug)]
pub(crate) struct LockGuard {
    file: File,
}

impl Drop for LockGuard {
    fn drop(&mut self) {
        // Closing the descriptor would release the lock too; unlocking first makes the release
        // explicit and immediate even if the File were ever leaked elsewhere.
        let _ = self.file.unlock();
    }
}

/// Takes the exclusive lock on `lock_path`, waiting up to `timeout`. `announce` is called once
/// if the wait lasts longer than a second.
pub(crate) fn acquire(
    lock_path: &Path,
    timeout: Duration,
    announce: impl FnOnce(&Path),
) -> Result<LockGuard> {
    let file = open_lock_file(lock_path).map_err(|source| Error::Write {
        path: lock_path.to_path_buf(),
        source,
    })?;
    let start = Instant::now();
    let mut announce = Some(announce);
    loop {
        match file.try_lock() {
            Ok(()) => return Ok(LockGuard { file }),
            Err(TryLockError::WouldBlock) => {}
            Err(TryLockError::Error(source)) => {
                return Err(Error::Write {
                    path: lock_path.to_path_buf(),
                    source,
                });
            }
        }
        let waited = start.elapsed();
        if waited >= timeout {
            return Err(Error::LockTimeout {
                path: lock_path.to_path_buf(),
                seconds: timeout.as_secs_f64(),
            });
        }
        if waited >= ANNOUNCE_AFTER
            && let Some(announce) = announce.take()
        {
            announce(lock_path);
        }
        std::thread::sleep(POLL.min(timeout - waited));
    }
}

/// Opens the lock file, creating it (owned like its directory) when it does not exist.
fn open_lock_file(lock_path: &Path) -> io::Result<File> {
    let flags = libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_CLOEXEC;
    let open = |create_new: bool| {
        OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(create_new)
            .mode(0o600)
            .custom_flags(flags)
            .open(lock_path)
            .map_err(|e| super::file::symlink_refused(e, lock_path))
    };
    let file = match open(true) {
        Ok(file) => {
            super::file::give_to_directory_owner(&file, lock_path, true)?;
            file
        }
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => open(false)?,
        Err(e) => return Err(e),
    };
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Err(io::Error::other(format!(
            "it is {}, not a regular file: refused",
            super::file::kind(&meta)
        )));
    }
    Ok(file)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn lock_name_follows_python_with_suffix() {
        assert_eq!(
            lock_path_for(Path::new("/h/auth.json")),
            Path::new("/h/auth.lock")
        );
        assert_eq!(
            lock_path_for(Path::new("/h/auth")),
            Path::new("/h/auth.lock")
        );
        assert_eq!(
            lock_path_for(Path::new("/h/a.b.json")),
            Path::new("/h/a.b.lock")
        );
    }

    #[test]
    fn second_holder_times_out_then_gets_it_after_release() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("auth.lock");
        let first = acquire(&path, Duration::from_secs(1), |_| {}).unwrap();
        let err = acquire(&path, Duration::from_millis(120), |_| {}).unwrap_err();
        assert!(matches!(err, Error::LockTimeout { .. }), "{err:?}");
        drop(first);
        acquire(&path, Duration::from_millis(120), |_| {}).unwrap();
        assert!(path.exists(), "the lock file is never deleted");
    }

    #[test]
    fn a_symlinked_lock_is_refused_and_nothing_is_created() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("auth.lock");
        let elsewhere = dir.path().join("elsewhere");
        std::os::unix::fs::symlink(&elsewhere, &path).unwrap();
        let err = acquire(&path, Duration::from_millis(50), |_| {}).unwrap_err();
        assert!(err.to_string().contains("auth.lock"), "{err}");
        assert!(
            !elsewhere.exists(),
            "a dangling link made rotor create a file"
        );
    }

    #[test]
    fn a_new_lock_is_readable_and_writable_by_its_owner_whatever_the_umask() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("auth.lock");
        drop(acquire(&path, Duration::from_millis(50), |_| {}).unwrap());
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode & 0o600, 0o600, "{mode:o}");
    }
}
