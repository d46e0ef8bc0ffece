//! auth.json on disk: where it is, reading it, and changing it safely while Hermes runs.
//!
//! Every change is a locked read-modify-write ([`AuthStore::update`]): take `auth.lock`, sweep
//! crashed writers' temp files, re-read the file, apply field-level patches to the fresh copy,
//! write atomically, release. A stale in-memory copy is never written back.

mod document;
pub(crate) mod file;
mod lock;
pub(crate) mod patch;
mod write;

pub use document::{Document, EnvLookup, ReadOptions};
pub(crate) use lock::lock_path_for;

use crate::engine::{Applied, Change, apply};
use crate::error::{Error, Result};
use file::Identity;
use std::cell::Cell;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

/// Where auth.json is when no `--auth-file` (or `ROTOR_AUTH_FILE`) says: `$HERMES_HOME/auth.json`,
/// else `~/.hermes/auth.json`.
pub(crate) fn default_auth_file() -> PathBuf {
    hermes_home().join("auth.json")
}

/// `$HERMES_HOME`, else `~/.hermes`.
pub(crate) fn hermes_home() -> PathBuf {
    if let Some(home) = std::env::var_os("HERMES_HOME").filter(|h| !h.is_empty()) {
        return PathBuf::from(home);
    }
    std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_default()
        .join(".hermes")
}

/// The largest auth.json rotor reads, and so the largest it writes. Real ones are a few
/// kilobytes; a file far larger is not one (or is an attack on memory), and is refused like any
/// other invalid file.
pub(crate) const MAX_AUTH_FILE_BYTES: u64 = 16 << 20;

/// Called once when a lock wait passes a second, with the lock's path: the store never prints.
pub(crate) type WaitNotice = Arc<dyn Fn(&Path) + Send + Sync>;

#[derive(Clone)]
pub struct AuthStore {
    path: PathBuf,
    lock_timeout: Duration,
    on_wait: Option<WaitNotice>,
    options: ReadOptions,
    /// Whether a Hermes profile home may borrow the root's rows (false for the root itself).
    borrows: bool,
    /// The fleet's shared state (`--state`): merged into every snapshot read, told of every
    /// status change.
    fleet: Option<crate::fleet::Fleet>,
}

impl std::fmt::Debug for AuthStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthStore")
            .field("path", &self.path)
            .field("lock_timeout", &self.lock_timeout)
            .finish_non_exhaustive()
    }
}

impl AuthStore {
    pub fn new(path: PathBuf, lock_timeout: Duration) -> Self {
        AuthStore {
            path,
            lock_timeout,
            on_wait: None,
            options: ReadOptions::default(),
            borrows: true,
            fleet: None,
        }
    }

    /// Shares status with the fleet through `fleet`.
    pub(crate) fn with_fleet(mut self, fleet: crate::fleet::Fleet) -> Self {
        self.fleet = Some(fleet);
        self
    }

    pub(crate) fn fleet(&self) -> Option<&crate::fleet::Fleet> {
        self.fleet.as_ref()
    }

    /// The root's auth.json when this one is in a Hermes profile home
    /// (`<root>/profiles/<name>/auth.json`) and the root has one.
    pub(crate) fn root_path(&self) -> Option<PathBuf> {
        if !self.borrows {
            return None;
        }
        let profiles = self.path.parent()?.parent()?;
        if profiles.file_name()? != "profiles" {
            return None;
        }
        let root = profiles.parent()?.join("auth.json");
        root.is_file().then_some(root)
    }

    /// The store of the root's auth.json a profile home borrows rows from.
    fn root_store(&self) -> Option<AuthStore> {
        let path = self.root_path()?;
        Some(AuthStore {
            path,
            lock_timeout: self.lock_timeout,
            on_wait: self.on_wait.clone(),
            options: self.options.clone(),
            borrows: false,
            fleet: None,
        })
    }

    /// Gives a profile home's document the root's rows of the providers it has none of
    /// (newer Hermes's read fallback).
    fn attach_root(&self, doc: &mut Document) -> Result<()> {
        if let Some(root) = self.root_store() {
            doc.borrow_from(root.load_file()?);
        }
        Ok(())
    }

    /// The store that holds `provider`'s rows: the root's, when a profile home borrows them.
    pub(crate) fn owner_of(&self, provider: &str) -> Result<AuthStore> {
        match self.root_store() {
            Some(root) if self.load()?.is_borrowed(provider) => Ok(root),
            _ => Ok(self.clone()),
        }
    }

    /// Reads the file with `options` (the rules to follow, where env-sourced keys come from).
    pub(crate) fn with_options(mut self, options: ReadOptions) -> Self {
        self.options = options;
        self
    }

    /// Calls `notice` when waiting for the lock lasts longer than a second.
    pub(crate) fn with_wait_notice(mut self, notice: WaitNotice) -> Self {
        self.on_wait = Some(notice);
        self
    }

    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// Reads and validates auth.json without locking: a snapshot for reporting. The atomic
    /// writes of Hermes and rotor mean a reader always sees one whole version of the file.
    ///
    /// With shared state, the fleet's findings are merged into the profiles it gives (never
    /// into what a write would write).
    pub(crate) fn load(&self) -> Result<Document> {
        let mut doc = self.load_file()?;
        if let Some(fleet) = &self.fleet {
            let view = fleet.view(doc.fleet_entries());
            doc.set_shared(view);
        }
        Ok(doc)
    }

    /// The file alone (and the root's rows it borrows), without the fleet's findings.
    pub(crate) fn load_file(&self) -> Result<Document> {
        let (mut doc, _) = read_document(&self.path, &self.path, false, &self.options)?;
        self.attach_root(&mut doc)?;
        Ok(doc)
    }

    /// Takes `auth.lock` (waiting up to the lock timeout, announcing the wait) and sweeps
    /// crashed writers' temp files. Read and write through the returned [`Locked`].
    ///
    /// auth.json must be a regular file before the lock is taken (a FIFO would hang rotor
    /// while it holds the lock); under the lock, a symlinked auth.json is resolved once, and
    /// that one file is what is read and what the write replaces.
    pub(crate) fn lock(&self) -> Result<Locked> {
        file::check_regular(&self.path).map_err(|source| Error::Read {
            path: self.path.clone(),
            source,
        })?;
        let on_wait = self.on_wait.clone();
        let guard = lock::acquire(&lock_path_for(&self.path), self.lock_timeout, move |lock| {
            if let Some(notice) = &on_wait {
                notice(lock);
            }
        })?;
        let real = std::fs::canonicalize(&self.path).map_err(|source| Error::Read {
            path: self.path.clone(),
            source,
        })?;
        write::sweep_stale_temp_files(&real, SystemTime::now());
        Ok(Locked {
            store: self.clone(),
            real,
            read: Cell::new(None),
            _guard: guard,
        })
    }

    /// Locked read-modify-write. `change` sees the file as it is after the lock is taken; if it
    /// changed anything, the result is written before the lock is released. If `change` fails,
    /// or the file cannot be parsed, nothing is written.
    pub fn update<T>(&self, change: impl FnOnce(&mut Document) -> Result<T>) -> Result<T> {
        let locked = self.lock()?;
        let mut doc = locked.read()?;
        self.attach_root(&mut doc)?;
        let result = change(&mut doc)?;
        locked.write(&mut doc)?;
        Ok(result)
    }
}

/// Reads the document at `open` (named `shown` in errors). With `no_follow`, a symlink at
/// `open` is refused (the path was resolved already).
fn read_document(
    shown: &Path,
    open: &Path,
    no_follow: bool,
    options: &ReadOptions,
) -> Result<(Document, Identity)> {
    let read_err = |source| Error::Read {
        path: shown.to_path_buf(),
        source,
    };
    let (file, meta) = file::open_regular(open, no_follow).map_err(read_err)?;
    if meta.len() > MAX_AUTH_FILE_BYTES {
        return Err(read_err(too_large()));
    }
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    file.take(MAX_AUTH_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(read_err)?;
    if bytes.len() as u64 > MAX_AUTH_FILE_BYTES {
        return Err(read_err(too_large()));
    }
    Ok((
        Document::parse_with(shown, &bytes, options)?,
        Identity::of(&meta),
    ))
}

fn too_large() -> std::io::Error {
    std::io::Error::other(format!(
        "larger than {} MiB: not an auth.json rotor will read",
        MAX_AUTH_FILE_BYTES >> 20
    ))
}

/// auth.json while rotor holds `auth.lock`. The lock is released when this is dropped. It owns
/// what it needs, so it can move to a blocking thread and back.
#[derive(Debug)]
pub(crate) struct Locked {
    store: AuthStore,
    /// auth.json with every symlink resolved, once, under the lock.
    real: PathBuf,
    /// The file the last [`Locked::read`] read: the only one a write may replace.
    read: Cell<Option<Identity>>,
    _guard: lock::LockGuard,
}

impl Locked {
    /// Re-reads the file: what is on disk now, not what was read before the lock.
    pub(crate) fn read(&self) -> Result<Document> {
        let (doc, identity) =
            read_document(&self.store.path, &self.real, true, &self.store.options)?;
        self.read.set(Some(identity));
        Ok(doc)
    }

    /// Writes `doc` if it was changed (stamping `version` and `updated_at`); else does nothing.
    /// The new file keeps the old one's owner, group and mode, and replaces it only if it is
    /// still the file that was read.
    pub(crate) fn write(&self, doc: &mut Document) -> Result<()> {
        if !doc.is_changed() {
            return Ok(());
        }
        let write_err = |source| Error::Write {
            path: self.store.path.clone(),
            source,
        };
        let Some(identity) = self.read.get() else {
            return Err(Error::Internal(
                "auth.json written without being read".into(),
            ));
        };
        let bytes = doc.to_bytes(crate::time::now());
        if bytes.len() as u64 > MAX_AUTH_FILE_BYTES {
            // rotor must never write a file it would refuse to read.
            return Err(write_err(std::io::Error::other(format!(
                "the new content would be larger than {} MiB, the most rotor reads: not written",
                MAX_AUTH_FILE_BYTES >> 20
            ))));
        }
        write::write_atomic(&self.real, &bytes, identity).map_err(write_err)
    }
}

/// Where status changes are made durable: auth.json through [`AuthStore`] today, a store
/// shared by several hosts next. Writes block (a lock, a file, fsyncs): async drivers make them
/// off their workers.
pub(crate) trait StatusStore: Send + Sync {
    /// Applies `changes` to `provider`'s entries as one locked read-modify-write of what is on
    /// disk now; what each change did, in order.
    fn write(&self, provider: &str, changes: &[Change]) -> Result<Vec<Applied>>;
}

impl StatusStore for AuthStore {
    fn write(&self, provider: &str, changes: &[Change]) -> Result<Vec<Applied>> {
        if changes.is_empty() {
            return Ok(Vec::new());
        }
        let changes = changes
            .iter()
            .map(|c| (provider.to_string(), c.clone()))
            .collect();
        self.decide_and_write(|_| Ok(((), changes)))
            .map(|((), applied)| applied)
    }
}

impl AuthStore {
    /// Decides status changes from the file as it is under the lock (`decide` sees the fresh
    /// document: an operator's selector is resolved there), and applies them, each to its
    /// provider, in the same locked write. What each change did comes back in order.
    ///
    /// In a Hermes profile home, changes to rows borrowed from the root go to the root's
    /// auth.json, in a locked read-modify-write of their own after this file's lock is let go
    /// (never both locks at once: no order to get wrong against Hermes), and only ever update
    /// rows that are there.
    ///
    /// With shared state, the changes that were written are then told to the fleet (after
    /// the lock is let go: Redis is never waited for under it).
    pub(crate) fn decide_and_write<T>(
        &self,
        decide: impl FnOnce(&Document) -> Result<(T, Vec<(String, Change)>)>,
    ) -> Result<(T, Vec<Applied>)> {
        let mut shared = Vec::new();
        // `decide` sees the fleet's findings as every read does (an operator clears what
        // `profiles list` shows cooling, wherever it was found). They are fetched before the
        // lock is taken: Redis is never waited for under it.
        let view = match &self.fleet {
            Some(fleet) => Some(fleet.view(self.load_file()?.fleet_entries())),
            None => None,
        };
        let (value, applied) = self.decide_and_write_local(|doc| {
            let seen = view.map(|view| {
                let mut seen = doc.clone();
                seen.set_shared(view);
                seen
            });
            let (value, changes) = decide(seen.as_ref().unwrap_or(doc))?;
            if let Some(fleet) = &self.fleet {
                shared = crate::fleet::sync::ops_of_changes(fleet, doc, &changes);
            }
            Ok((value, changes))
        })?;
        if let Some(fleet) = &self.fleet {
            let written = shared
                .into_iter()
                .filter(|(i, _, _)| applied.get(*i) == Some(&Applied::Written))
                .map(|(_, account, op)| (account, vec![op]))
                .collect();
            fleet.push(written);
        }
        Ok((value, applied))
    }

    /// [`AuthStore::decide_and_write`] without telling the fleet (`rotor sync`'s pull, which
    /// writes what the fleet already knows).
    pub(crate) fn decide_and_write_local<T>(
        &self,
        decide: impl FnOnce(&Document) -> Result<(T, Vec<(String, Change)>)>,
    ) -> Result<(T, Vec<Applied>)> {
        let (value, mut applied, borrowed) = self.update(|doc| {
            let (value, changes) = decide(doc)?;
            let mut applied = Vec::with_capacity(changes.len());
            let mut borrowed = Vec::new();
            for (i, (provider, c)) in changes.into_iter().enumerate() {
                if doc.is_borrowed(&provider) {
                    applied.push(Applied::Gone);
                    borrowed.push((i, provider, c));
                } else {
                    applied.push(apply(&c.effect, &c.guard, &mut doc.pool_mut(&provider)));
                }
            }
            Ok((value, applied, borrowed))
        })?;
        if let (false, Some(root)) = (borrowed.is_empty(), self.root_store()) {
            let done = root.update(|doc| {
                Ok(borrowed
                    .iter()
                    .map(|(_, provider, c)| apply(&c.effect, &c.guard, &mut doc.pool_mut(provider)))
                    .collect::<Vec<_>>())
            })?;
            for ((i, _, _), result) in borrowed.iter().zip(done) {
                applied[*i] = result;
            }
        }
        Ok((value, applied))
    }
}
