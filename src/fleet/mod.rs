//! Several hosts on the same accounts: status shared through Redis (`--state URL`).
//!
//! auth.json stays each host's own copy and what its Hermes reads. Redis holds, per upstream
//! account, what any host found ([`record::Record`]); every read of availability merges it
//! over the file ([`SharedView`]), every status change rotor makes goes to both, and
//! `rotor sync` carries the fleet's findings into the file (for an unmodified Hermes) and the
//! local Hermes's findings into Redis. With `--share-tokens` a refresh takes a fleet-wide
//! lease, so a single-use refresh token is spent once across the fleet.
//!
//! Redis is never in the way: a command that cannot reach it within half a second says so
//! once and goes on with auth.json alone; what it wrote meanwhile is in the file, and the next
//! `sync` (or `serve`, when Redis is back) pushes it.

pub mod record;
pub(crate) mod sync;
pub(crate) mod tokens;

use crate::error::{Error, Result};
use crate::pool::Profile;
use crate::time::Epoch;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::gauge::Gauge;
use record::{Op, Origin, Record};
use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// How long rotor waits for Redis (connecting, or one answer) before going on without it.
pub(crate) const REDIS_TIMEOUT: Duration = Duration::from_millis(500);
/// A clear, or a dead mark, is remembered this long (the longest cooldown rotor sets):
/// a mark older than the clear that arrives later is still known to be stale.
const REMEMBER_S: f64 = 30.0 * 86_400.0;
/// The channel every change of a record is announced on.
pub(crate) const CHANNEL: &str = "rotor:v1:changes";
/// How often `serve` tries Redis again while it is down.
const RECONNECT_EVERY: Duration = Duration::from_secs(1);
/// How often `serve` renews its subscription (and so notices a dead connection).
const RESUBSCRIBE_EVERY: Duration = Duration::from_secs(60);

/// The Redis key of an account's record.
pub(crate) fn record_key(account: &str) -> String {
    format!("rotor:v1:account:{account}")
}

/// A checked `--state` URL.
#[derive(Clone)]
pub struct StateUrl {
    url: String,
    /// The URL with its password replaced, for messages.
    pub shown: String,
    /// `rediss://`.
    pub tls: bool,
    /// The host is a loopback address (`localhost`, 127.0.0.0/8, ::1).
    pub loopback: bool,
}

impl std::fmt::Debug for StateUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StateUrl")
            .field("shown", &self.shown)
            .finish_non_exhaustive()
    }
}

impl StateUrl {
    /// Parses `--state`: `redis://` or `rediss://`, a host, an optional port, user, password
    /// and database number. Anything else is a usage error naming what was expected.
    pub fn parse(text: &str) -> Result<StateUrl> {
        let bad = |why: &str| Error::usage(format!("--state: {why}"));
        let url = url::Url::parse(text.trim()).map_err(|_| {
            bad("expected a URL like redis://[user:password@]host:6379/0 or rediss://…")
        })?;
        let tls = match url.scheme() {
            "redis" => false,
            "rediss" => true,
            other => {
                return Err(bad(&format!(
                    "scheme `{}` is not redis:// or rediss://",
                    crate::sanitize::one_line(other, 20)
                )));
            }
        };
        let host = url.host().ok_or_else(|| bad("the URL names no host"))?;
        // redis:// is not a scheme the URL standard knows, so its host stays text: an IP
        // address is told from it here.
        let loopback = match &host {
            url::Host::Domain(d) => {
                d.eq_ignore_ascii_case("localhost")
                    || d.trim_start_matches('[')
                        .trim_end_matches(']')
                        .parse::<std::net::IpAddr>()
                        .is_ok_and(|ip| ip.is_loopback())
            }
            url::Host::Ipv4(a) => a.is_loopback(),
            url::Host::Ipv6(a) => a.is_loopback(),
        };
        let path = url.path().trim_start_matches('/');
        if !(path.is_empty() || path.parse::<u16>().is_ok()) {
            return Err(bad("the path must be a database number, like /0"));
        }
        if url.query().is_some() || url.fragment().is_some() {
            return Err(bad("query and fragment are not supported"));
        }
        let mut shown = url.clone();
        if url.password().is_some() {
            let _ = shown.set_password(Some("***"));
        }
        Ok(StateUrl {
            url: url.to_string(),
            shown: shown.to_string(),
            tls,
            loopback,
        })
    }
}

/// The host name findings are recorded under: `--host`, else the system's.
pub(crate) fn host_name(explicit: Option<&str>) -> Result<String> {
    let valid = |h: &str| {
        (1..=64).contains(&h.len())
            && h.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
    };
    if let Some(h) = explicit {
        return if valid(h) {
            Ok(h.to_string())
        } else {
            Err(Error::usage(
                "--host: expected 1 to 64 letters, digits, '-', '_' or '.'",
            ))
        };
    }
    let system = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default();
    let system = system.trim();
    Ok(if valid(system) { system } else { "localhost" }.to_string())
}

/// What the fleet connection did, for `serve`'s `/metrics` (shared, cheap to clone).
#[derive(Debug, Default, Clone)]
pub(crate) struct Counters {
    /// Records read from Redis.
    pub reads: Counter,
    /// Record changes pushed to Redis (ops that changed a record).
    pub pushed: Counter,
    /// Profiles whose shown status came from Redis, per read of the pools.
    pub merged: Counter,
    /// Redis operations that failed or timed out.
    pub failures: Counter,
    /// 1 while Redis answers, 0 while rotor goes on without it.
    pub up: Gauge,
}

/// What a fleet connection tells its owner.
pub(crate) type Notice = Arc<dyn Fn(&str) + Send + Sync>;

struct Inner {
    client: redis::Client,
    url: StateUrl,
    host: String,
    share_tokens: bool,
    /// The connection, made on first use (and again after Redis came back).
    conn: tokio::sync::Mutex<Option<redis::aio::ConnectionManager>>,
    down: AtomicBool,
    /// When Redis was last found down; a long-running process (`serve`) asks again a second
    /// later, a one-shot command never does.
    down_since: std::sync::Mutex<Option<std::time::Instant>>,
    /// Set by [`Fleet::watch`]: this process runs long and retries Redis while it is down.
    retries: AtomicBool,
    /// Set by [`Fleet::watch`]: called when Redis answers again after being down.
    on_back: std::sync::Mutex<Option<Arc<dyn Fn() + Send + Sync>>>,
    /// Whether the operator has been told Redis is down (once per outage).
    told: AtomicBool,
    warn: Notice,
    counters: Counters,
    script: redis::Script,
}

/// A connection to the fleet's Redis. Cheap to clone; the calls block (they are made where
/// auth.json is read and written: off the async workers) and never wait for Redis longer
/// than [`REDIS_TIMEOUT`].
#[derive(Clone)]
pub(crate) struct Fleet {
    inner: Arc<Inner>,
    /// Redis is spoken to from a runtime of rotor's own, so the blocking callers work the same
    /// from a command's main thread and from `serve`'s blocking pool.
    runtime: Arc<Runtime>,
}

impl std::fmt::Debug for Fleet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Fleet")
            .field("url", &self.inner.url.shown)
            .field("host", &self.inner.host)
            .finish_non_exhaustive()
    }
}

/// Owns the fleet's runtime; shutting it down never blocks (it may be dropped on an async
/// worker at the end of `serve`).
struct Runtime(Option<tokio::runtime::Runtime>);

impl Drop for Runtime {
    fn drop(&mut self) {
        if let Some(rt) = self.0.take() {
            rt.shutdown_background();
        }
    }
}

impl Fleet {
    /// Checks `--share-tokens` against the URL (before any connection) and prepares the
    /// client. Nothing is sent until the first read or write.
    pub(crate) fn new(
        url: StateUrl,
        host: String,
        share_tokens: bool,
        warn: Notice,
    ) -> Result<Fleet> {
        if share_tokens && !url.tls && !url.loopback {
            return Err(Error::usage(format!(
                "--share-tokens sends refresh tokens to Redis: refused over plain redis:// to \
                 a host that is not this machine ({}); use rediss://",
                url.shown
            )));
        }
        if url.tls {
            // rotor ships ring as its only TLS crypto provider; installing it twice is harmless.
            let _ = rustls::crypto::ring::default_provider().install_default();
        }
        let client = redis::Client::open(url.url.as_str()).map_err(|_| {
            Error::usage(format!(
                "--state {}: not a Redis URL rotor can use",
                url.shown
            ))
        })?;
        // A current-thread runtime: a one-shot command drives it only while it waits for Redis
        // (no thread to start and stop, a millisecond saved per command); `serve`'s watcher
        // drives it from a thread of its own.
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| Error::Internal(format!("cannot start the Redis client: {e}")))?;
        Ok(Fleet {
            inner: Arc::new(Inner {
                client,
                url,
                host,
                share_tokens,
                conn: tokio::sync::Mutex::new(None),
                down: AtomicBool::new(false),
                down_since: std::sync::Mutex::new(None),
                retries: AtomicBool::new(false),
                on_back: std::sync::Mutex::new(None),
                told: AtomicBool::new(false),
                warn,
                counters: {
                    let counters = Counters::default();
                    counters.up.set(1);
                    counters
                },
                script: redis::Script::new(include_str!("merge.lua")),
            }),
            runtime: Arc::new(Runtime(Some(runtime))),
        })
    }

    pub(crate) fn host(&self) -> &str {
        &self.inner.host
    }

    pub(crate) fn shown_url(&self) -> &str {
        &self.inner.url.shown
    }

    pub(crate) fn shares_tokens(&self) -> bool {
        self.inner.share_tokens
    }

    /// Whether Redis answered the last time it was asked (true before the first ask).
    pub(crate) fn is_up(&self) -> bool {
        !self.inner.down.load(Ordering::Relaxed)
    }

    pub(crate) fn counters(&self) -> &Counters {
        &self.inner.counters
    }

    /// Lets the next call try Redis again after it was found down (`sync --watch`, `serve`).
    pub(crate) fn retry(&self) {
        self.inner.down.store(false, Ordering::Relaxed);
    }

    fn mark_down(inner: &Inner, why: &str) {
        if let Ok(mut since) = inner.down_since.lock() {
            *since = Some(std::time::Instant::now());
        }
        inner.counters.failures.inc();
        inner.counters.up.set(0);
        inner.down.store(true, Ordering::Relaxed);
        if !inner.told.swap(true, Ordering::Relaxed) {
            (inner.warn)(&format!(
                "shared state {} unreachable ({why}): going on with this host's auth.json; \
                 what changes meanwhile is pushed when Redis is back",
                inner.url.shown
            ));
        }
    }

    fn mark_back(inner: &Inner) {
        let was_down = inner.down.swap(false, Ordering::Relaxed);
        inner.counters.up.set(1);
        if was_down {
            let on_back = inner.on_back.lock().ok().and_then(|f| f.clone());
            if let Some(on_back) = on_back {
                on_back();
            }
        }
        if inner.told.swap(false, Ordering::Relaxed) {
            (inner.warn)(&format!(
                "shared state {} is reachable again",
                inner.url.shown
            ));
        }
    }

    /// Whether a long-running process may ask Redis again: a second after it was found down
    /// (the subscription may be fine while one answer was late).
    fn may_retry(&self) -> bool {
        if !self.inner.retries.load(Ordering::Relaxed) {
            return false;
        }
        let Ok(mut since) = self.inner.down_since.lock() else {
            return false;
        };
        // One caller tries; the others go on without Redis until it has answered or failed.
        match *since {
            Some(at) if at.elapsed() < RECONNECT_EVERY => false,
            _ => {
                *since = Some(std::time::Instant::now());
                true
            }
        }
    }

    /// Runs `work` with a connection on the fleet's runtime and waits for it: at most
    /// [`REDIS_TIMEOUT`] in all, the connection included. `None` when Redis is down (it is
    /// then not asked again until [`Fleet::retry`], or in `serve` a second later).
    ///
    /// Called only where blocking is allowed (a command's main thread, tokio's blocking
    /// pool: where auth.json is read and written), never on an async worker.
    fn call<T, F, Fut>(&self, work: F) -> Option<T>
    where
        T: Send + 'static,
        F: FnOnce(redis::aio::ConnectionManager, Arc<Inner>) -> Fut + Send + 'static,
        Fut: Future<Output = redis::RedisResult<T>> + Send,
    {
        self.call_within(REDIS_TIMEOUT, work)
    }

    /// [`Fleet::call`] with a budget of its own (a push of many accounts).
    fn call_within<T, F, Fut>(&self, budget: Duration, work: F) -> Option<T>
    where
        T: Send + 'static,
        F: FnOnce(redis::aio::ConnectionManager, Arc<Inner>) -> Fut + Send + 'static,
        Fut: Future<Output = redis::RedisResult<T>> + Send,
    {
        if !self.is_up() && !self.may_retry() {
            return None;
        }
        let rt = self.runtime.0.as_ref()?;
        let inner = self.inner.clone();
        rt.block_on(async move {
            let attempt = async {
                let conn = connection(&inner).await?;
                work(conn, inner.clone()).await.map_err(|e| e.to_string())
            };
            let result = match tokio::time::timeout(budget, attempt).await {
                Ok(r) => r,
                Err(_) => Err(format!("no answer within {} ms", budget.as_millis())),
            };
            if let Err(why) = &result {
                *inner.conn.lock().await = None;
                Fleet::mark_down(&inner, why);
            } else {
                Fleet::mark_back(&inner);
            }
            result.ok()
        })
    }

    /// The records of `accounts` (missing, expired or unreadable ones are absent).
    pub(crate) fn records(&self, accounts: &[String]) -> Option<HashMap<String, Record>> {
        if accounts.is_empty() {
            return Some(HashMap::new());
        }
        let keys: Vec<String> = accounts.iter().map(|a| record_key(a)).collect();
        let raw: Vec<Option<Vec<u8>>> = self.call(move |mut conn, _| async move {
            redis::cmd("MGET").arg(&keys).query_async(&mut conn).await
        })?;
        let mut records = HashMap::new();
        for (account, bytes) in accounts.iter().zip(raw) {
            if let Some(record) = bytes.as_deref().and_then(Record::parse) {
                records.insert(account.clone(), record);
            }
        }
        self.inner.counters.reads.inc_by(records.len() as u64);
        Some(records)
    }

    /// Folds each account's ops into its record (in Redis, atomically); how many records
    /// changed, or `None` when Redis is down.
    pub(crate) fn push(&self, batch: Vec<(String, Vec<Op>)>) -> Option<usize> {
        let batch: Vec<(String, String)> = batch
            .into_iter()
            .filter(|(_, ops)| !ops.is_empty())
            .filter_map(|(account, ops)| Some((account, serde_json::to_string(&ops).ok()?)))
            .collect();
        if batch.is_empty() {
            return Some(0);
        }
        // One script call per account: the budget grows with the batch (a large sync over a
        // slow link), a blackholed Redis still fails within the first 500 ms of connecting.
        let budget = (REDIS_TIMEOUT + Duration::from_millis(20) * batch.len() as u32)
            .min(Duration::from_secs(10));
        let changed = self.call_within(budget, move |mut conn, inner| async move {
            let now = crate::time::now();
            let mut changed = 0;
            for (account, ops) in &batch {
                let (did, _stored): (i64, String) = inner
                    .script
                    .key(record_key(account))
                    .arg(ops)
                    .arg(now)
                    .arg(CHANNEL)
                    .arg(REMEMBER_S)
                    .arg(crate::engine::effect::MAX_MODEL_COOLDOWNS)
                    .invoke_async(&mut conn)
                    .await?;
                changed += usize::from(did == 1);
            }
            Ok(changed)
        })?;
        self.inner.counters.pushed.inc_by(changed as u64);
        Some(changed)
    }

    /// Calls `on_change` whenever a record changes (any host's push), and `on_back` when
    /// Redis is reachable again after being down, until the process ends. For `serve`.
    pub(crate) fn watch(
        &self,
        on_change: Arc<dyn Fn() + Send + Sync>,
        on_back: Arc<dyn Fn() + Send + Sync>,
    ) {
        self.inner.retries.store(true, Ordering::Relaxed);
        if let Ok(mut slot) = self.inner.on_back.lock() {
            *slot = Some(on_back);
        }
        let runtime = self.runtime.clone();
        let inner = self.inner.clone();
        let watcher = async move {
            loop {
                let subscribed = async {
                    let mut pubsub = inner.client.get_async_pubsub().await?;
                    pubsub.subscribe(CHANNEL).await?;
                    redis::RedisResult::Ok(pubsub)
                };
                match tokio::time::timeout(REDIS_TIMEOUT, subscribed).await {
                    Ok(Ok(mut pubsub)) => {
                        // Back after an outage: what this host wrote meanwhile is pushed.
                        Fleet::mark_back(&inner);
                        // Others' changes made while rotor was not listening.
                        on_change();
                        let mut messages = std::pin::pin!(pubsub.on_message());
                        // Subscribed anew every minute: a connection that died silently (a
                        // half-open TCP session) is noticed within that.
                        let listened = tokio::time::timeout(RESUBSCRIBE_EVERY, async {
                            while futures_util::StreamExt::next(&mut messages).await.is_some() {
                                on_change();
                            }
                        })
                        .await;
                        if listened.is_err() {
                            continue;
                        }
                        // The commands' connection went down with it: made anew next time.
                        *inner.conn.lock().await = None;
                        Fleet::mark_down(&inner, "the connection was closed");
                    }
                    Ok(Err(e)) => Fleet::mark_down(&inner, &e.to_string()),
                    Err(_) => Fleet::mark_down(
                        &inner,
                        &format!("no answer within {} ms", REDIS_TIMEOUT.as_millis()),
                    ),
                }
                tokio::time::sleep(RECONNECT_EVERY).await;
            }
        };
        // The watcher's thread also drives every other Redis call of the process while they
        // wait (they share its I/O driver); it runs until the process ends.
        let spawned = std::thread::Builder::new()
            .name("rotor-redis".into())
            .spawn(move || {
                if let Some(rt) = runtime.0.as_ref() {
                    rt.block_on(watcher);
                }
            });
        if let Err(e) = spawned {
            Fleet::mark_down(&self.inner, &format!("cannot start the watcher: {e}"));
        }
    }

    /// Runs `work` on the fleet's runtime with a connection: the refresh lease and the token
    /// store of `--share-tokens` ([`tokens`]).
    pub(crate) fn with_connection<T, F, Fut>(&self, work: F) -> Option<T>
    where
        T: Send + 'static,
        F: FnOnce(redis::aio::ConnectionManager) -> Fut + Send + 'static,
        Fut: Future<Output = redis::RedisResult<T>> + Send,
    {
        self.call(move |conn, _| work(conn))
    }

    /// The fleet's view of a document's entries, for [`crate::store::Document`] to merge
    /// over the file. Redis down: an empty view (every status is the file's own).
    pub(crate) fn view(&self, entries: Vec<Entry>) -> SharedView {
        let mut accounts: Vec<String> = entries.iter().map(|e| e.account.clone()).collect();
        accounts.sort();
        accounts.dedup();
        let records = self.records(&accounts);
        SharedView {
            up: records.is_some(),
            host: self.inner.host.clone(),
            records: records.unwrap_or_default(),
            entries: entries
                .into_iter()
                .map(|e| ((e.provider.clone(), e.id.clone()), e))
                .collect(),
            counters: Some(self.inner.clone()),
        }
    }
}

async fn connection(inner: &Inner) -> std::result::Result<redis::aio::ConnectionManager, String> {
    let mut slot = inner.conn.lock().await;
    if let Some(conn) = slot.as_ref() {
        return Ok(conn.clone());
    }
    let config = redis::aio::ConnectionManagerConfig::new()
        .set_connection_timeout(Some(REDIS_TIMEOUT))
        .set_response_timeout(Some(REDIS_TIMEOUT))
        .set_number_of_retries(0);
    let made = tokio::time::timeout(
        REDIS_TIMEOUT,
        redis::aio::ConnectionManager::new_with_config(inner.client.clone(), config),
    )
    .await;
    match made {
        Ok(Ok(conn)) => {
            *slot = Some(conn.clone());
            Ok(conn)
        }
        Ok(Err(e)) => Err(e.to_string()),
        Err(_) => Err(format!(
            "no connection within {} ms",
            REDIS_TIMEOUT.as_millis()
        )),
    }
}

/// One entry of a document, as the fleet knows it.
#[derive(Debug, Clone)]
pub(crate) struct Entry {
    pub provider: String,
    pub id: String,
    /// The account key (see `Document::account_key`).
    pub account: String,
    /// A digest of the entry's credential.
    pub credential: Option<String>,
}

/// Fleet records fetched for one read of auth.json, merged into its profiles on every read.
pub(crate) struct SharedView {
    pub up: bool,
    /// This host's name.
    host: String,
    pub records: HashMap<String, Record>,
    entries: HashMap<(String, String), Entry>,
    counters: Option<Arc<Inner>>,
}

impl std::fmt::Debug for SharedView {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SharedView")
            .field("up", &self.up)
            .field("records", &self.records.len())
            .finish_non_exhaustive()
    }
}

impl SharedView {
    /// Merges the fleet's findings into `provider`'s profiles at `now` and says where each
    /// one's status came from; `models` under rules that know model cooldowns.
    pub(crate) fn overlay(
        &self,
        provider: &str,
        profiles: &mut Vec<Profile>,
        models: bool,
        now: Epoch,
    ) {
        let mut merged = 0u64;
        for i in 0..profiles.len() {
            let key = (provider.to_string(), profiles[i].id.clone());
            let entry = self.entries.get(&key);
            let record = entry.and_then(|e| self.records.get(&e.account));
            let credential = entry.and_then(|e| e.credential.as_deref());
            let effects = record
                .map(|r| record::overlay(&profiles[i], r, credential, now, None, models))
                .unwrap_or_default();
            for effect in &effects {
                crate::engine::apply(effect, &crate::engine::Guard::Always, profiles);
            }
            let origin: Origin = record::origin(
                &profiles[i],
                record,
                credential,
                now,
                !effects.is_empty(),
                &self.host,
            );
            merged += u64::from(origin.source == record::Source::Redis);
            profiles[i].origin = Some(Box::new(origin));
        }
        if let Some(inner) = &self.counters {
            inner.counters.merged.inc_by(merged);
        }
    }
}
