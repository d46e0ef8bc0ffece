//! Profiles of a credential pool and the rules Hermes uses for them: availability, cooldown
//! math and selection strategies. Pure: no I/O, no clock (every function takes `now`).
//!
//! A [`Profile`] is a secret-free snapshot of one `credential_pool.<provider>[i]` entry. Tokens
//! stay in the store's document; nothing here can print one by accident.

mod jwt;
mod strategy;

pub use jwt::TokenClaims;
pub use strategy::Strategy;
pub(crate) use strategy::pick;

use crate::time::Epoch;
use serde::Serialize;
use sha2::{Digest, Sha256};

/// Cooldown when an exhausted entry has no reset time: Hermes's `_exhausted_ttl`.
pub(crate) fn exhausted_ttl(error_code: Option<i64>) -> f64 {
    match error_code {
        Some(401) => 300.0,
        _ => 3600.0,
    }
}

/// First 12 hex digits of SHA-256 of the entry id: how profiles are named in events and output.
pub fn profile_hash(id: &str) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let digest = Sha256::digest(id.as_bytes());
    let mut hash = String::with_capacity(12);
    for b in digest.iter().take(6) {
        hash.push(char::from(HEX[usize::from(b >> 4)]));
        hash.push(char::from(HEX[usize::from(b & 0xf)]));
    }
    hash
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AuthType {
    Oauth,
    ApiKey,
}

/// `last_status` as stored. Hermes only acts on `exhausted` and `dead`; anything else behaves
/// like `ok`, and rotor keeps the written value untouched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LastStatus {
    Ok,
    Exhausted,
    Dead,
    Other(String),
}

impl LastStatus {
    pub(crate) fn parse(text: &str) -> Self {
        match text {
            "ok" => LastStatus::Ok,
            "exhausted" => LastStatus::Exhausted,
            "dead" => LastStatus::Dead,
            other => LastStatus::Other(other.to_string()),
        }
    }
}

/// The six status fields Hermes always writes.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Status {
    pub last_status: Option<LastStatus>,
    pub last_status_at: Option<Epoch>,
    pub last_error_code: Option<i64>,
    pub last_error_reason: Option<String>,
    pub last_error_message: Option<String>,
    pub last_error_reset_at: Option<Epoch>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Profile {
    pub provider: String,
    /// 1-based position within the provider after the stable sort by priority, as
    /// `hermes auth list` prints it.
    pub position: usize,
    pub id: String,
    pub hash: String,
    pub label: String,
    pub auth_type: AuthType,
    pub priority: i64,
    pub source: Option<String>,
    /// Whether the entry holds a non-empty access token (the token itself is not kept here).
    pub has_token: bool,
    /// Whether the entry holds a refresh token.
    pub has_refresh_token: bool,
    pub status: Status,
    pub request_count: u64,
    pub base_url: Option<String>,
    /// Claims of the access token when it is a JWT (OAuth profiles).
    pub claims: Option<TokenClaims>,
}

/// Whether a profile can serve a request at some time.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Availability {
    Available,
    /// Exhausted until the given time.
    Cooling {
        until: Epoch,
    },
    /// Permanently failed; only a re-login clears it.
    Dead,
    /// An API-key entry without a key: Hermes skips it.
    NoKey,
}

/// What `profiles list` shows in its state column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DisplayState {
    Ok,
    Cooling,
    /// Was exhausted, cooldown is over: available again.
    Ready,
    Dead,
    NoKey,
}

impl DisplayState {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            DisplayState::Ok => "ok",
            DisplayState::Cooling => "cooling",
            DisplayState::Ready => "ready",
            DisplayState::Dead => "dead",
            DisplayState::NoKey => "no_key",
        }
    }
}

impl Profile {
    /// When an exhausted profile's cooldown ends: `last_error_reset_at` if set, else
    /// `last_status_at` + TTL by error code; `None` if not exhausted or no time is known
    /// (Hermes then treats it as available).
    pub(crate) fn cooldown_until(&self) -> Option<Epoch> {
        if self.status.last_status != Some(LastStatus::Exhausted) {
            return None;
        }
        if let Some(reset_at) = self.status.last_error_reset_at {
            return Some(reset_at);
        }
        self.status
            .last_status_at
            .filter(|at| *at != 0.0)
            .map(|at| at + exhausted_ttl(self.status.last_error_code))
    }

    pub(crate) fn availability(&self, now: Epoch) -> Availability {
        if self.auth_type == AuthType::ApiKey && !self.has_token {
            return Availability::NoKey;
        }
        match self.status.last_status {
            Some(LastStatus::Dead) => Availability::Dead,
            Some(LastStatus::Exhausted) => match self.cooldown_until() {
                Some(until) if now < until => Availability::Cooling { until },
                _ => Availability::Available,
            },
            _ => Availability::Available,
        }
    }

    pub fn is_available(&self, now: Epoch) -> bool {
        self.availability(now) == Availability::Available
    }

    pub fn display_state(&self, now: Epoch) -> DisplayState {
        match self.availability(now) {
            Availability::NoKey => DisplayState::NoKey,
            Availability::Dead => DisplayState::Dead,
            Availability::Cooling { .. } => DisplayState::Cooling,
            Availability::Available if self.status.last_status == Some(LastStatus::Exhausted) => {
                DisplayState::Ready
            }
            Availability::Available => DisplayState::Ok,
        }
    }

    /// When the profile can serve again: `now` if available, the cooldown end if cooling,
    /// `None` if it never will on its own (dead, no key).
    pub(crate) fn available_from(&self, now: Epoch) -> Option<Epoch> {
        match self.availability(now) {
            Availability::Available => Some(now),
            Availability::Cooling { until } => Some(until),
            Availability::Dead | Availability::NoKey => None,
        }
    }

    /// The plan name from the OAuth JWT (`chatgpt_plan_type`), e.g. `prolite`, `team`.
    pub(crate) fn plan(&self) -> Option<&str> {
        self.claims.as_ref()?.plan.as_deref()
    }

    /// Access-token expiry from the JWT `exp` claim.
    pub(crate) fn token_expires_at(&self) -> Option<Epoch> {
        self.claims.as_ref()?.expires_at
    }
}

/// The earliest time any of `profiles` can serve (`now` if one is available already).
pub(crate) fn next_available_at<'a>(
    profiles: impl IntoIterator<Item = &'a Profile>,
    now: Epoch,
) -> Option<Epoch> {
    profiles
        .into_iter()
        .filter_map(|p| p.available_from(now))
        .min_by(f64::total_cmp)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A healthy OAuth profile for tests; adjust fields as needed.
    pub(crate) fn profile(id: &str, priority: i64) -> Profile {
        Profile {
            provider: "openai-codex".into(),
            position: 1,
            id: id.into(),
            hash: profile_hash(id),
            label: format!("{id}@example.com"),
            auth_type: AuthType::Oauth,
            priority,
            source: Some("manual:device_code".into()),
            has_token: true,
            has_refresh_token: true,
            status: Status::default(),
            request_count: 0,
            base_url: None,
            claims: None,
        }
    }

    fn exhausted(code: Option<i64>, at: Option<f64>, reset: Option<f64>) -> Profile {
        let mut p = profile("a", 0);
        p.status = Status {
            last_status: Some(LastStatus::Exhausted),
            last_status_at: at,
            last_error_code: code,
            last_error_reset_at: reset,
            ..Status::default()
        };
        p
    }

    #[test]
    fn hash_is_first_12_hex_of_sha256() {
        // sha256("a1b2c3") starts 4f32044a655f (`printf a1b2c3 | sha256sum`).
        assert_eq!(profile_hash("a1b2c3").len(), 12);
        assert_eq!(profile_hash(""), "e3b0c44298fc");
    }

    #[test]
    fn cooldown_prefers_reset_at_then_ttl_by_code() {
        assert_eq!(
            exhausted(Some(429), Some(1000.0), Some(5000.0)).cooldown_until(),
            Some(5000.0)
        );
        assert_eq!(
            exhausted(Some(401), Some(1000.0), None).cooldown_until(),
            Some(1300.0)
        );
        assert_eq!(
            exhausted(Some(429), Some(1000.0), None).cooldown_until(),
            Some(4600.0)
        );
        assert_eq!(
            exhausted(Some(402), Some(1000.0), None).cooldown_until(),
            Some(4600.0)
        );
        assert_eq!(
            exhausted(None, Some(1000.0), None).cooldown_until(),
            Some(4600.0)
        );
        // No time known at all: Hermes treats the entry as available.
        assert_eq!(exhausted(Some(429), None, None).cooldown_until(), None);
        assert!(exhausted(Some(429), None, None).is_available(0.0));
    }

    #[test]
    fn availability_and_display_states() {
        let p = exhausted(Some(429), Some(1000.0), None);
        assert_eq!(
            p.availability(4599.0),
            Availability::Cooling { until: 4600.0 }
        );
        assert_eq!(p.display_state(4599.0), DisplayState::Cooling);
        assert_eq!(p.availability(4600.0), Availability::Available);
        assert_eq!(p.display_state(4600.0), DisplayState::Ready);

        let mut dead = profile("d", 0);
        dead.status.last_status = Some(LastStatus::Dead);
        assert_eq!(dead.availability(0.0), Availability::Dead);
        assert_eq!(dead.available_from(0.0), None);

        let mut keyless = profile("k", 0);
        keyless.auth_type = AuthType::ApiKey;
        keyless.has_token = false;
        assert_eq!(keyless.display_state(0.0), DisplayState::NoKey);

        let mut odd = profile("o", 0);
        odd.status.last_status = Some(LastStatus::Other("weird".into()));
        assert_eq!(odd.display_state(0.0), DisplayState::Ok);
    }

    #[test]
    fn next_available_is_the_earliest() {
        let a = exhausted(Some(429), Some(1000.0), Some(9000.0));
        let b = exhausted(Some(402), Some(1000.0), None);
        let mut dead = profile("d", 0);
        dead.status.last_status = Some(LastStatus::Dead);
        assert_eq!(next_available_at([&a, &b, &dead], 2000.0), Some(4600.0));
        assert_eq!(next_available_at([&dead], 2000.0), None);
        assert_eq!(
            next_available_at([&a, &profile("x", 1)], 2000.0),
            Some(2000.0)
        );
    }
}
