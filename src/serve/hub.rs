//! The pools `rotor serve` shares between every request in flight, and their one keeper.
//!
//! Requests read and change the pools in memory only (a mutex held for a copy or a patch,
//! never across an await or any I/O): what one request learns — a cooldown, a dead mark, a
//! success — is seen by every request that chooses a profile after it. The changes queue up as
//! pending [`Change`]s, and the keeper task writes them to auth.json with the usual locked
//! read-modify-write, coalesced ([`COALESCE`]: a herd of requests hitting the same usage limit
//! makes one write), on the blocking pool.
//!
//! The keeper is also the only one that reloads the file: every [`POLL`] it looks at the
//! file's identity (device, inode, size, times); when somebody else wrote it (an operator's
//! `rotor cooldown clear`, Hermes, a token refresh), it reads it again and replaces the pools
//! with the file's state plus the changes still pending. Writes and reloads happen in one task,
//! one after the other, so a reload can never drop a change that is being written.

use super::metrics::Metrics;
use crate::engine::{Change, Effect, apply};
use crate::error::{Error, Result};
use crate::pool::Profile;
use crate::sanitize::Redactor;
use crate::store::{AuthStore, Document};
use crate::upstream::blocking;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, oneshot};

/// How long the first pending change waits for others to join its write.
pub(crate) const COALESCE: Duration = Duration::from_millis(200);
/// How often the keeper looks for writes by others.
pub(crate) const POLL: Duration = Duration::from_millis(500);
/// The keeper's tick: pending writes are due at most this much after [`COALESCE`].
const TICK: Duration = Duration::from_millis(50);
/// After a failed write, the wait before the next try.
const RETRY: Duration = Duration::from_secs(1);

/// One provider's pool as requests see it.
#[derive(Debug, Clone)]
struct Pool {
    /// Bumped by every change, so a request asks for a copy only when there is news.
    generation: u64,
    profiles: Arc<Vec<Profile>>,
}

/// What a request needs of the file to send an attempt: tokens, base URLs, secrets to redact.
#[derive(Debug, Clone)]
pub(crate) struct Snapshot {
    pub doc: Arc<Document>,
    pub redactor: Arc<Redactor>,
}

#[derive(Debug)]
struct State {
    doc: Arc<Document>,
    redactor: Arc<Redactor>,
    pools: HashMap<String, Pool>,
    /// Changes made in memory and not yet written, in order.
    pending: Vec<(String, Change)>,
    /// When the oldest pending change was made (or, after a failed write, when to retry).
    due: Option<Instant>,
    /// The file's identity when it was last read.
    stamp: Option<Stamp>,
    /// The last problem reported (the keeper repeats none until it changes).
    problem: Option<String>,
}

/// What tells the keeper that auth.json changed: the file's identity, and in a Hermes
/// profile home, the identity of the root's auth.json it borrows rows from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Stamp {
    own: FileStamp,
    root: Option<FileStamp>,
}

impl Stamp {
    fn of(store: &AuthStore) -> Option<Stamp> {
        Some(Stamp {
            own: FileStamp::of(store.path())?,
            root: store.root_path().and_then(|root| FileStamp::of(&root)),
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct FileStamp {
    dev: u64,
    ino: u64,
    len: u64,
    mtime: (i64, i64),
    ctime: (i64, i64),
}

impl FileStamp {
    fn of(path: &std::path::Path) -> Option<FileStamp> {
        use std::os::unix::fs::MetadataExt;
        let m = std::fs::metadata(path).ok()?;
        Some(FileStamp {
            dev: m.dev(),
            ino: m.ino(),
            len: m.len(),
            mtime: (m.mtime(), m.mtime_nsec()),
            ctime: (m.ctime(), m.ctime_nsec()),
        })
    }
}

/// Asks for the keeper.
enum Ask {
    /// Write what is pending, then read the file again now (after a token refresh).
    Reload(oneshot::Sender<()>),
    /// Write what is pending now (at shutdown).
    Flush(oneshot::Sender<Result<()>>),
    /// Write what is pending and stop.
    Stop,
    /// Another host changed the fleet's shared state: read the pools again.
    FleetChanged,
    /// The fleet's Redis is back: push what auth.json holds, then read the pools again.
    FleetBack,
}

/// Has the keeper follow the fleet's changes (subscribed in Redis): other hosts' findings
/// reach the pools within a moment, and what this host wrote while Redis was down is pushed
/// when it is back.
pub(crate) fn watch_fleet(hub: &Arc<Hub>, fleet: &crate::fleet::Fleet) {
    let (changed, back) = (hub.asks.clone(), hub.asks.clone());
    let wanted = hub.fleet_wanted.clone();
    fleet.watch(
        Arc::new(move || {
            // Coalesced: a burst of changes is one reload.
            if !wanted.swap(true, std::sync::atomic::Ordering::AcqRel) {
                let _ = changed.send(Ask::FleetChanged);
            }
        }),
        Arc::new(move || {
            let _ = back.send(Ask::FleetBack);
        }),
    );
}

/// Held while one profile's token is refreshed.
type RefreshLock = Arc<tokio::sync::Mutex<()>>;

/// Where a problem of the keeper is reported (stderr, through the trace writer).
pub(crate) type Report = Arc<dyn Fn(&str) + Send + Sync>;

pub(crate) struct Hub {
    store: AuthStore,
    providers: Vec<String>,
    /// Secrets that are not in auth.json but must never be echoed either (the serve key).
    extra_secrets: Vec<String>,
    state: Mutex<State>,
    asks: mpsc::UnboundedSender<Ask>,
    refresh_locks: Mutex<HashMap<(String, String), RefreshLock>>,
    metrics: Arc<Metrics>,
    report: Report,
    /// A fleet change is announced and its reload not yet made.
    fleet_wanted: Arc<std::sync::atomic::AtomicBool>,
}

impl std::fmt::Debug for Hub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hub")
            .field("providers", &self.providers)
            .finish_non_exhaustive()
    }
}

/// The keeper's half: run it with [`Keeper::run`] on the runtime.
pub(crate) struct Keeper {
    hub: Arc<Hub>,
    asks: mpsc::UnboundedReceiver<Ask>,
}

impl Hub {
    /// The hub of `providers`, starting from `doc` (read by the caller, who reported its
    /// problems).
    pub(crate) fn new(
        store: AuthStore,
        doc: Document,
        providers: Vec<String>,
        extra_secrets: Vec<String>,
        metrics: Arc<Metrics>,
        report: Report,
    ) -> (Arc<Hub>, Keeper) {
        let (tx, rx) = mpsc::unbounded_channel();
        let stamp = Stamp::of(&store);
        let mut state = State {
            doc: Arc::new(doc.clone()),
            redactor: Arc::new(Redactor::new()),
            pools: HashMap::new(),
            pending: Vec::new(),
            due: None,
            stamp,
            problem: None,
        };
        install(&mut state, doc, &providers, &extra_secrets);
        let hub = Arc::new(Hub {
            store,
            providers,
            extra_secrets,
            state: Mutex::new(state),
            asks: tx,
            refresh_locks: Mutex::new(HashMap::new()),
            fleet_wanted: Arc::default(),
            metrics,
            report,
        });
        let keeper = Keeper {
            hub: hub.clone(),
            asks: rx,
        };
        (hub, keeper)
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // A request that panicked while holding the lock left consistent data (every change
        // is one assignment); keep serving.
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub(crate) fn store(&self) -> &AuthStore {
        &self.store
    }

    /// The Hermes rules the file was last read under.
    pub(crate) fn rules(&self) -> crate::pool::HermesRules {
        self.state().doc.rules()
    }

    /// The file as last read, with its secrets.
    pub(crate) fn snapshot(&self) -> Snapshot {
        let state = self.state();
        Snapshot {
            doc: state.doc.clone(),
            redactor: state.redactor.clone(),
        }
    }

    /// `provider`'s pool now, and its generation.
    pub(crate) fn pool(&self, provider: &str) -> (u64, Arc<Vec<Profile>>) {
        let state = self.state();
        match state.pools.get(provider) {
            Some(pool) => (pool.generation, pool.profiles.clone()),
            None => (0, Arc::new(Vec::new())),
        }
    }

    /// `provider`'s pool if it changed since generation `seen` (which is then updated).
    pub(crate) fn news(&self, provider: &str, seen: &mut u64) -> Option<Arc<Vec<Profile>>> {
        let state = self.state();
        let pool = state.pools.get(provider)?;
        if pool.generation == *seen {
            return None;
        }
        *seen = pool.generation;
        Some(pool.profiles.clone())
    }

    /// Records a request's effects: applied to the shared pool at once, written by the keeper
    /// within [`COALESCE`] (plus the lock wait).
    pub(crate) fn record(&self, provider: &str, effects: &[Effect]) {
        let mut state = self.state();
        let state = &mut *state;
        if let Some(pool) = state.pools.get_mut(provider) {
            let profiles = Arc::make_mut(&mut pool.profiles);
            for effect in effects {
                apply(effect, &crate::engine::Guard::Always, profiles);
            }
            pool.generation += 1;
        }
        state.pending.extend(
            effects
                .iter()
                .map(|e| (provider.to_string(), Change::always(e.clone()))),
        );
        state.due.get_or_insert_with(|| Instant::now() + COALESCE);
    }

    /// The lock that makes token refreshes of one profile single-flight within the process
    /// (across processes, `auth.lock` does).
    pub(crate) fn refresh_lock(&self, provider: &str, id: &str) -> RefreshLock {
        let mut locks = self
            .refresh_locks
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        locks
            .entry((provider.to_string(), id.to_string()))
            .or_default()
            .clone()
    }

    /// Has the keeper write what is pending and read the file again, and waits for it.
    pub(crate) async fn reload(&self) {
        let (tx, rx) = oneshot::channel();
        if self.asks.send(Ask::Reload(tx)).is_ok() {
            let _ = rx.await;
        }
    }

    /// Writes every pending change now (before exit).
    pub(crate) async fn flush(&self) -> Result<()> {
        let (tx, rx) = oneshot::channel();
        self.asks
            .send(Ask::Flush(tx))
            .map_err(|_| Error::Internal("the state keeper has stopped".into()))?;
        rx.await
            .map_err(|_| Error::Internal("the state keeper has stopped".into()))?
    }

    /// Stops the keeper after a last write (await its task to know it is done).
    pub(crate) fn stop(&self) {
        let _ = self.asks.send(Ask::Stop);
    }

    /// Changes not yet written.
    pub(crate) fn pending(&self) -> usize {
        self.state().pending.len()
    }

    fn problem(&self, text: Option<String>) {
        let mut state = self.state();
        if state.problem != text {
            if let Some(text) = &text {
                (self.report)(text);
            } else if state.problem.is_some() {
                (self.report)("auth.json is readable and writable again");
            }
            state.problem = text;
        }
    }

    /// Writes the pending changes as one locked read-modify-write; on failure they stay
    /// pending, in order, ahead of newer ones.
    async fn write_pending(&self) -> Result<()> {
        let batch = {
            let mut state = self.state();
            state.due = None;
            std::mem::take(&mut state.pending)
        };
        if batch.is_empty() {
            return Ok(());
        }
        let store = self.store.clone();
        let written = {
            let batch = batch.clone();
            blocking(move || store.decide_and_write(|_| Ok(((), batch)))).await
        };
        match written {
            Ok(_) => {
                self.metrics.state_writes.inc();
                self.problem(None);
                Ok(())
            }
            Err(e) => {
                self.metrics.state_write_failures.inc();
                let mut state = self.state();
                let newer = std::mem::take(&mut state.pending);
                state.pending = batch;
                state.pending.extend(newer);
                state.due = Some(Instant::now() + RETRY);
                drop(state);
                self.problem(Some(format!(
                    "cannot write the pool state to auth.json yet ({} change(s) kept in memory, \
                     retrying): {}",
                    self.pending(),
                    crate::error::describe(&e)
                )));
                Err(e)
            }
        }
    }

    /// Reads auth.json again and makes it the pools' state, with the pending changes on top.
    /// An unreadable or invalid file changes nothing: the last good state keeps serving.
    async fn reload_file(&self) {
        let store = self.store.clone();
        let read = blocking(move || {
            let stamp = Stamp::of(&store);
            store.load().map(|doc| (doc, stamp))
        })
        .await;
        match read {
            Ok((doc, stamp)) => {
                self.metrics.reloads.inc();
                let mut state = self.state();
                state.stamp = stamp;
                install(&mut state, doc, &self.providers, &self.extra_secrets);
                drop(state);
                self.problem(None);
            }
            Err(e) => self.problem(Some(format!(
                "auth.json changed but cannot be read; serving the last good state: {}",
                crate::error::describe(&e)
            ))),
        }
    }

    /// Whether the file's identity differs from when it was last read.
    async fn file_changed(&self) -> bool {
        let store = self.store.clone();
        let now = blocking(move || Ok(Stamp::of(&store))).await.ok().flatten();
        now != self.state().stamp
    }

    fn write_due(&self) -> bool {
        self.state().due.is_some_and(|due| Instant::now() >= due)
    }
}

/// Makes `doc` the state: each served pool from the file, with the pending changes applied
/// again (they are not in the file yet); a pool's generation moves only when it changed.
fn install(state: &mut State, doc: Document, providers: &[String], extra: &[String]) {
    let mut redactor = doc.redactor();
    for secret in extra {
        redactor.secret(secret);
    }
    for provider in providers {
        let mut profiles = doc.profiles(provider).unwrap_or_default();
        for (p, change) in &state.pending {
            if p == provider {
                apply(&change.effect, &change.guard, &mut profiles);
            }
        }
        profiles.sort_by_key(|p| p.priority);
        match state.pools.get_mut(provider) {
            Some(pool) if *pool.profiles == profiles => {}
            Some(pool) => {
                pool.generation += 1;
                pool.profiles = Arc::new(profiles);
            }
            None => {
                state.pools.insert(
                    provider.clone(),
                    Pool {
                        generation: 1,
                        profiles: Arc::new(profiles),
                    },
                );
            }
        }
    }
    state.doc = Arc::new(doc);
    state.redactor = Arc::new(redactor);
}

impl Keeper {
    /// Writes and reloads until [`Hub::stop`], then writes what is left.
    pub(crate) async fn run(mut self) {
        let mut tick = tokio::time::interval(TICK);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut polled = Instant::now();
        loop {
            let ask = tokio::select! {
                ask = self.asks.recv() => match ask {
                    Some(ask) => Some(ask),
                    None => break,
                },
                _ = tick.tick() => None,
            };
            let hub = &self.hub;
            match ask {
                Some(Ask::Reload(done)) => {
                    let _ = hub.write_pending().await;
                    hub.reload_file().await;
                    let _ = done.send(());
                }
                Some(Ask::Flush(done)) => {
                    let result = hub.write_pending().await;
                    let _ = done.send(result);
                }
                Some(Ask::Stop) => break,
                Some(Ask::FleetChanged) => {
                    hub.fleet_wanted
                        .store(false, std::sync::atomic::Ordering::Release);
                    hub.reload_file().await;
                }
                Some(Ask::FleetBack) => {
                    if let Some(fleet) = hub.store.fleet().cloned() {
                        let store = hub.store.clone();
                        let _ =
                            blocking(move || crate::fleet::sync::push_file(&fleet, &store)).await;
                    }
                    hub.reload_file().await;
                }
                None => {
                    if hub.write_due() && hub.write_pending().await.is_ok() {
                        // Read back what was written, with whatever others wrote before.
                        hub.reload_file().await;
                        polled = Instant::now();
                    }
                    if polled.elapsed() >= POLL {
                        polled = Instant::now();
                        if hub.file_changed().await {
                            hub.reload_file().await;
                        }
                    }
                }
            }
        }
        let _ = self.hub.write_pending().await;
    }
}
