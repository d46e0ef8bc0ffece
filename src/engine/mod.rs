//! The rotation engine: classification and the per-request state machine (docs/engine.md).
//!
//! Pure: no I/O, no clock, no async, no printing, no exit codes. A driver feeds it the pool
//! snapshot, the policy, the time and each attempt's [`Outcome`]; every call answers with a
//! [`Step`]: the [`Effect`]s the driver must persist, the [`Event`](events::Event)s to report,
//! and the next [`Action`]. Every driver runs it with the one loop of [`crate::drive`]: `call`
//! with HTTP, the real clock and auth.json; `simulate` with scripted responses, a virtual clock
//! and an in-memory pool. Same engine, same events.
//!
//! Invariants the engine keeps (and the property tests check):
//! - a profile is entered at most once per request: after a profile-level failure the engine
//!   never comes back to it;
//! - at most `attempts_per_profile` attempts are made on one profile;
//! - a profile that is cooling, dead or keyless at selection time is never attempted;
//! - every request ends with one of the four [`RequestOutcome`]s.

pub(crate) mod classify;
pub(crate) mod effect;
pub mod events;
mod machine;

pub(crate) use classify::{
    CODE_MAX_CHARS, Class, Failure, ResetHint, ResetSource, TransportFailure, classify_transport,
};
pub use classify::{MESSAGE_MAX_CHARS, Outcome, classify_response};
pub use effect::Effect;
pub(crate) use effect::{Applied, Change, Guard, apply};
pub use machine::Engine;

use crate::pool::Strategy;
use crate::time::Epoch;
use events::Event;

/// An input the engine's current phase does not accept: a bug of the driver.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("engine: {input} called while {phase}")]
pub(crate) struct EngineError {
    pub input: &'static str,
    pub phase: &'static str,
}

/// How long before its JWT `exp` an OAuth access token is refreshed instead of used.
pub(crate) const REFRESH_SKEW_S: f64 = 120.0;

/// The knobs of one request (the README `call` flags).
#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    pub strategy: Strategy,
    /// Attempts allowed on one profile (the first one included) for transient failures,
    /// throttling and the retry after a token refresh. Values below 1 count as 1.
    pub attempts_per_profile: u32,
    /// Cap on the number of profiles tried; `None`: every profile eligible at the start.
    pub max_profiles: Option<usize>,
    /// Cap on any single wait (backoff or Retry-After), seconds.
    pub max_wait_s: f64,
    /// The whole request must end within this many seconds of its start.
    pub deadline_s: Option<f64>,
    /// First backoff delay before jitter, seconds; doubles per retry on the same profile.
    pub backoff_base_s: f64,
    /// Largest backoff delay before jitter, seconds.
    pub backoff_cap_s: f64,
    /// Longest cooldown stored for a provider's hint (`--max-cooldown`), seconds: a
    /// `Retry-After: 99999999` must not bench a profile for years, for Hermes too.
    pub max_cooldown_s: f64,
}

/// `--max-cooldown` by default: 30 days.
pub(crate) const DEFAULT_MAX_COOLDOWN_S: f64 = 30.0 * 86_400.0;

impl Default for Policy {
    fn default() -> Self {
        Policy {
            strategy: Strategy::FillFirst,
            attempts_per_profile: 4,
            max_profiles: None,
            max_wait_s: 60.0,
            deadline_s: None,
            backoff_base_s: 1.0,
            backoff_cap_s: 30.0,
            max_cooldown_s: DEFAULT_MAX_COOLDOWN_S,
        }
    }
}

/// What the engine answers to each input.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Step {
    /// State changes the driver must persist, in order, before acting.
    pub effects: Vec<Effect>,
    /// Events to report, in order.
    pub events: Vec<Event>,
    pub action: Action,
}

/// What the driver does next.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Action {
    /// Send the request with this profile's credentials; report with [`Engine::on_outcome`].
    Attempt(AttemptPlan),
    /// Sleep this long, then call [`Engine::on_waited`].
    Wait { seconds: f64 },
    /// Refresh this profile's OAuth token (single-flight, under the lock), then call
    /// [`Engine::on_refresh`].
    Refresh(ProfileRef),
    /// The request is over.
    Finish(RequestEnd),
}

/// Which profile an action is about. `id` is for the store, `hash` for output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProfileRef {
    pub id: String,
    pub hash: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttemptPlan {
    pub profile: ProfileRef,
    /// 1-based attempt on this profile.
    pub try_n: u32,
    /// The per-profile budget.
    pub of: u32,
    /// 1-based attempt within the request.
    pub n: u32,
}

/// The result of a token refresh the engine asked for.
#[derive(Debug, Clone, PartialEq)]
pub enum RefreshResult {
    /// The token endpoint issued a new pair.
    Refreshed,
    /// Another process had refreshed already; its pair was taken from disk.
    Adopted,
    /// The refresh failed. `dead`: the grant is gone for good (`invalid_grant`,
    /// `refresh_token_reused`, …) and the profile must be marked dead.
    Failed {
        dead: bool,
        reason: Option<String>,
        message: Option<String>,
    },
}

/// `outcome` of `request_end`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RequestOutcome {
    Success,
    PoolExhausted,
    UpstreamUnavailable,
    RequestRejected,
}

impl RequestOutcome {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            RequestOutcome::Success => "success",
            RequestOutcome::PoolExhausted => "pool_exhausted",
            RequestOutcome::UpstreamUnavailable => "upstream_unavailable",
            RequestOutcome::RequestRejected => "request_rejected",
        }
    }
}

/// How a request ended: the payload of [`Action::Finish`] and of the `request_end` event.
#[derive(Debug, Clone, PartialEq)]
pub struct RequestEnd {
    pub outcome: RequestOutcome,
    /// The last profile attempted (the one that succeeded, on success).
    pub profile: Option<ProfileRef>,
    pub attempts: u32,
    pub rotations: u32,
    pub at: Epoch,
    pub elapsed_s: f64,
    /// On `pool_exhausted`: the earliest time any profile of the pool can serve, after this
    /// request's marks; `None` when none ever will on its own (all dead or keyless).
    pub next_available_at: Option<Epoch>,
    /// The failure that decided the outcome, when there was one.
    pub last_failure: Option<Failure>,
}

#[cfg(test)]
mod tests;
