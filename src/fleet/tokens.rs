//! `--share-tokens`: one refresh of a single-use refresh token across the fleet.
//!
//! A Codex refresh token works once. Two hosts holding the same pair and refreshing it each on
//! its own would spend it twice, and the second host would get `refresh_token_reused` (the
//! account reads as dead). With `--share-tokens` a refresh first takes the account's lease in
//! Redis (`SET NX PX` with a random owner token), then adopts the pair another host stored if
//! it is newer than this host's, else refreshes and stores the new pair, and lets the lease go
//! (deleted only by its owner: compare-and-delete). Without the flag no token reaches Redis.

use super::Fleet;
use crate::time::Epoch;
use redis::AsyncCommands;
use serde::{Deserialize, Serialize};
use std::time::{Duration, Instant};

/// How long a lease holds if its owner dies mid-refresh: longer than a refresh can take
/// with the lease held (auth.lock waited for, 15 s by default, then the token request's
/// 10 s), so a live owner does not lose it.
const LEASE: Duration = Duration::from_secs(30);
/// How often a host waiting for another's lease looks again.
const POLL: Duration = Duration::from_millis(100);
/// How long a stored pair is kept.
const KEEP_PAIR_S: u64 = 30 * 86_400;
/// The largest stored pair rotor reads.
const MAX_PAIR_BYTES: usize = 64 << 10;

const RELEASE: &str = "if redis.call('GET', KEYS[1]) == ARGV[1] then \
                       return redis.call('DEL', KEYS[1]) else return 0 end";

fn lease_key(account: &str) -> String {
    format!("rotor:v1:lease:{account}")
}

fn pair_key(account: &str) -> String {
    format!("rotor:v1:tokens:{account}")
}

/// A token pair as the fleet stores it.
#[derive(Clone, Serialize, Deserialize)]
pub(crate) struct Pair {
    pub access_token: String,
    pub refresh_token: String,
    /// When it was refreshed.
    pub at: Epoch,
    pub host: String,
}

impl std::fmt::Debug for Pair {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pair")
            .field("at", &self.at)
            .field("host", &self.host)
            .finish_non_exhaustive()
    }
}

/// A held lease: let it go with [`Lease::release`].
#[derive(Debug)]
pub(crate) struct Lease {
    account: String,
    owner: String,
}

/// Takes the account's refresh lease, waiting while another host holds it (at most as long
/// as a lease lasts). `None` when Redis is down or the lease stayed taken: the caller
/// refreshes on its own, as without the fleet.
pub(crate) fn acquire(fleet: &Fleet, account: &str) -> Option<Lease> {
    let mut raw = [0u8; 16];
    getrandom::fill(&mut raw).ok()?;
    let owner: String = raw.iter().map(|b| format!("{b:02x}")).collect();
    let give_up = Instant::now() + LEASE + Duration::from_secs(1);
    loop {
        let (key, token) = (lease_key(account), owner.clone());
        let taken: Option<String> = fleet.with_connection(move |mut conn| async move {
            redis::cmd("SET")
                .arg(key)
                .arg(token)
                .arg("NX")
                .arg("PX")
                .arg(LEASE.as_millis() as u64)
                .query_async(&mut conn)
                .await
        })?;
        if taken.is_some() {
            return Some(Lease {
                account: account.to_string(),
                owner,
            });
        }
        if Instant::now() >= give_up {
            return None;
        }
        std::thread::sleep(POLL);
    }
}

impl Lease {
    /// Lets the lease go if this host still owns it.
    pub(crate) fn release(self, fleet: &Fleet) {
        let (key, owner) = (lease_key(&self.account), self.owner);
        let _: Option<i64> = fleet.with_connection(move |mut conn| async move {
            redis::Script::new(RELEASE)
                .key(key)
                .arg(owner)
                .invoke_async(&mut conn)
                .await
        });
    }
}

/// The pair another host stored for the account, if any (and readable).
pub(crate) fn stored(fleet: &Fleet, account: &str) -> Option<Pair> {
    let key = pair_key(account);
    let raw: Vec<u8> = fleet
        .with_connection(move |mut conn| async move { conn.get::<_, Option<Vec<u8>>>(key).await })
        .flatten()?;
    if raw.len() > MAX_PAIR_BYTES {
        return None;
    }
    let pair: Pair = serde_json::from_slice(&raw).ok()?;
    // Both go into auth.json and the access token into an Authorization header: printable
    // ASCII without spaces, as every real token is.
    let token = |t: &str| !t.is_empty() && t.bytes().all(|b| b.is_ascii_graphic());
    (token(&pair.access_token) && token(&pair.refresh_token) && pair.at.is_finite()).then_some(pair)
}

/// Stores the pair this host just got.
pub(crate) fn store(fleet: &Fleet, account: &str, pair: &Pair) {
    let Ok(value) = serde_json::to_string(pair) else {
        return;
    };
    let key = pair_key(account);
    let _: Option<()> = fleet
        .with_connection(move |mut conn| async move { conn.set_ex(key, value, KEEP_PAIR_S).await });
}
