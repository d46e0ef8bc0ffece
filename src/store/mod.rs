//! auth.json on disk: where it is, reading it, and changing it safely while Hermes runs.
//!
//! Every change is a locked read-modify-write ([`AuthStore::update`]): take `auth.lock`, sweep
//! crashed writers' temp files, re-read the file, apply field-level patches to the fresh copy,
//! write atomically, release. A stale in-memory copy is never written back.

mod document;
mod lock;
pub mod patch;
mod write;

pub use document::Document;
pub use lock::lock_path_for;
pub use write::{real_target, to_hermes_json};

use crate::error::{Error, Result};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

/// Where auth.json is when no `--auth-file` (or `ROTOR_AUTH_FILE`) says: `$HERMES_HOME/auth.json`,
/// else `~/.hermes/auth.json`.
pub fn default_auth_file() -> PathBuf {
    hermes_home().join("auth.json")
}

/// `$HERMES_HOME`, else `~/.hermes`.
pub fn hermes_home() -> PathBuf {
    if let Some(home) = std::env::var_os("HERMES_HOME").filter(|h| !h.is_empty()) {
        return PathBuf::from(home);
    }
    std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_default()
        .join(".hermes")
}

/// The largest auth.json rotor reads. Real ones are a few kilobytes; a file far larger is not
/// one (or is an attack on memory), and is refused like any other invalid file.
pub const MAX_AUTH_FILE_BYTES: u64 = 16 << 20;

#[derive(Debug, Clone)]
pub struct AuthStore {
    path: PathBuf,
    lock_timeout: Duration,
    quiet: bool,
}

impl AuthStore {
    pub fn new(path: PathBuf, lock_timeout: Duration, quiet: bool) -> Self {
        AuthStore {
            path,
            lock_timeout,
            quiet,
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Reads and validates auth.json without locking: a snapshot for reporting. The atomic
    /// writes of Hermes and rotor mean a reader always sees one whole version of the file.
    pub fn load(&self) -> Result<Document> {
        let read_err = |source| Error::Read {
            path: self.path.clone(),
            source,
        };
        let mut bytes = Vec::new();
        std::fs::File::open(&self.path)
            .and_then(|file| file.take(MAX_AUTH_FILE_BYTES + 1).read_to_end(&mut bytes))
            .map_err(read_err)?;
        if bytes.len() as u64 > MAX_AUTH_FILE_BYTES {
            return Err(read_err(std::io::Error::other(format!(
                "larger than {} MiB: not an auth.json rotor will read",
                MAX_AUTH_FILE_BYTES >> 20
            ))));
        }
        Document::parse(&self.path, &bytes)
    }

    /// Takes `auth.lock` (waiting up to the lock timeout, announcing the wait) and sweeps
    /// crashed writers' temp files. Read and write through the returned [`Locked`].
    pub fn lock(&self) -> Result<Locked<'_>> {
        let guard = lock::acquire(&lock_path_for(&self.path), self.lock_timeout, |lock| {
            if !self.quiet {
                eprintln!(
                    "rotor: waiting for the lock on {} (held by another process; up to {}s)",
                    lock.display(),
                    self.lock_timeout.as_secs_f64()
                );
            }
        })?;
        write::sweep_stale_temp_files(&self.path, SystemTime::now());
        Ok(Locked {
            store: self,
            _guard: guard,
        })
    }

    /// Locked read-modify-write. `change` sees the file as it is after the lock is taken; if it
    /// changed anything, the result is written before the lock is released. If `change` fails,
    /// or the file cannot be parsed, nothing is written.
    pub fn update<T>(&self, change: impl FnOnce(&mut Document) -> Result<T>) -> Result<T> {
        let locked = self.lock()?;
        let mut doc = locked.read()?;
        let result = change(&mut doc)?;
        locked.write(&mut doc)?;
        Ok(result)
    }
}

/// auth.json while rotor holds `auth.lock`. The lock is released when this is dropped.
#[derive(Debug)]
pub struct Locked<'a> {
    store: &'a AuthStore,
    _guard: lock::LockGuard,
}

impl Locked<'_> {
    /// Re-reads the file: what is on disk now, not what was read before the lock.
    pub fn read(&self) -> Result<Document> {
        self.store.load()
    }

    /// Writes `doc` if it was changed (stamping `version` and `updated_at`); else does nothing.
    pub fn write(&self, doc: &mut Document) -> Result<()> {
        if doc.is_changed() {
            let bytes = doc.to_bytes(crate::time::now());
            write::write_atomic(&self.store.path, &bytes)?;
        }
        Ok(())
    }
}
