//! The events the engine reports (the contract's event list), as data. How they look — JSON
//! Lines for scripts, one readable line for people — is the renderers' business
//! (`render::events`); this module only says what each event carries, and how it serialises.
//!
//! Profiles are named by profile hash only: an event never holds a token, a label or an email
//! address, so a trace can be shared.

use super::{Class, RequestOutcome, ResetSource};
use crate::pool::Strategy;
use crate::time::{Epoch, Rfc3339};
use serde::ser::{Serialize, SerializeMap, Serializer};
use std::sync::Arc;

/// One event: the common fields plus its kind.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub kind: EventKind,
    /// When it happened (`ts`).
    pub at: Epoch,
    /// Shared with the engine and the request's other events.
    pub request_id: Arc<str>,
    pub provider: Arc<str>,
}

/// The kinds of event and their own fields. Optional fields are always present (as `null` when
/// unknown) so that every event of a kind has one shape.
#[derive(Debug, Clone, PartialEq)]
pub enum EventKind {
    RequestStart {
        strategy: Strategy,
        eligible_profiles: usize,
        attempts_per_profile: u32,
        /// The profile-try cap of this request: `min(--max-profiles, eligible_profiles)`.
        max_profiles: usize,
    },
    Attempt {
        profile: String,
        /// `try`: 1-based on this profile.
        try_n: u32,
        of: u32,
        n: u32,
    },
    AttemptFailed {
        profile: String,
        status: Option<u16>,
        class: Class,
        error_type: Option<String>,
        message: Option<String>,
        /// Set when the same profile will be retried (0 after a token refresh).
        retry_in_ms: Option<u64>,
    },
    ProfileCooldown {
        profile: String,
        until: Epoch,
        source: ResetSource,
        reason: String,
        /// The provider's hint lay beyond `--max-cooldown`, and `until` is the cap.
        capped: bool,
        /// The model cooled, for a cooldown of one model (the account stays usable for the
        /// others); `None` for a cooldown of the whole account.
        model: Option<String>,
    },
    ProfileRotation {
        from_profile: String,
        to_profile: String,
        reason: RotationReason,
        attempt: usize,
        max: usize,
        remaining_profiles: usize,
    },
    TokenRefresh {
        profile: String,
        outcome: RefreshOutcome,
    },
    /// With shared state (`--state`), right after `request_start`: the profiles whose status
    /// came from another host through Redis (or agrees with Redis), and those hosts.
    SharedState {
        profiles: Vec<String>,
        hosts: Vec<String>,
    },
    RequestEnd {
        outcome: RequestOutcome,
        profile: Option<String>,
        attempts: u32,
        rotations: u32,
        elapsed_ms: u64,
        next_available_at: Option<Epoch>,
    },
}

impl EventKind {
    pub(crate) fn name(&self) -> &'static str {
        match self {
            EventKind::RequestStart { .. } => "request_start",
            EventKind::Attempt { .. } => "attempt",
            EventKind::AttemptFailed { .. } => "attempt_failed",
            EventKind::ProfileCooldown { .. } => "profile_cooldown",
            EventKind::ProfileRotation { .. } => "profile_rotation",
            EventKind::TokenRefresh { .. } => "token_refresh",
            EventKind::SharedState { .. } => "shared_state",
            EventKind::RequestEnd { .. } => "request_end",
        }
    }
}

/// Why a request left a profile (`reason` of `profile_rotation`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RotationReason {
    /// The profile failed this request: the class of the failure.
    Failure(Class),
    /// The profile became unusable while this request waited to retry it: another request
    /// (of the same `rotor serve`) or another process cooled it, marked it dead or removed it.
    Unavailable,
}

impl RotationReason {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            RotationReason::Failure(class) => class.as_str(),
            RotationReason::Unavailable => "unavailable",
        }
    }
}

impl From<Class> for RotationReason {
    fn from(class: Class) -> Self {
        RotationReason::Failure(class)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefreshOutcome {
    Refreshed,
    Adopted,
    Failed,
}

impl RefreshOutcome {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            RefreshOutcome::Refreshed => "refreshed",
            RefreshOutcome::Adopted => "adopted",
            RefreshOutcome::Failed => "failed",
        }
    }
}

/// One flat object: `event` first, the kind's own fields, then `ts`, `request_id` and
/// `provider`. Written as a map, field by field (serde's `flatten` would buffer every field
/// through an intermediate map first).
impl Serialize for Event {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("event", self.kind.name())?;
        match &self.kind {
            EventKind::RequestStart {
                strategy,
                eligible_profiles,
                attempts_per_profile,
                max_profiles,
            } => {
                map.serialize_entry("strategy", strategy.as_str())?;
                map.serialize_entry("eligible_profiles", eligible_profiles)?;
                map.serialize_entry("attempts_per_profile", attempts_per_profile)?;
                map.serialize_entry("max_profiles", max_profiles)?;
            }
            EventKind::Attempt {
                profile,
                try_n,
                of,
                n,
            } => {
                map.serialize_entry("profile", profile)?;
                map.serialize_entry("try", try_n)?;
                map.serialize_entry("of", of)?;
                map.serialize_entry("n", n)?;
            }
            EventKind::AttemptFailed {
                profile,
                status,
                class,
                error_type,
                message,
                retry_in_ms,
            } => {
                map.serialize_entry("profile", profile)?;
                map.serialize_entry("status", status)?;
                map.serialize_entry("class", class.as_str())?;
                map.serialize_entry("error_type", error_type)?;
                map.serialize_entry("message", message)?;
                map.serialize_entry("retry_in_ms", retry_in_ms)?;
            }
            EventKind::ProfileCooldown {
                profile,
                until,
                source,
                reason,
                capped,
                model,
            } => {
                map.serialize_entry("profile", profile)?;
                map.serialize_entry("until", &Rfc3339::seconds(*until))?;
                map.serialize_entry("source", source.as_str())?;
                map.serialize_entry("reason", reason)?;
                map.serialize_entry("capped", capped)?;
                map.serialize_entry("model", model)?;
            }
            EventKind::ProfileRotation {
                from_profile,
                to_profile,
                reason,
                attempt,
                max,
                remaining_profiles,
            } => {
                map.serialize_entry("from_profile", from_profile)?;
                map.serialize_entry("to_profile", to_profile)?;
                map.serialize_entry("reason", reason.as_str())?;
                map.serialize_entry("attempt", attempt)?;
                map.serialize_entry("max", max)?;
                map.serialize_entry("remaining_profiles", remaining_profiles)?;
            }
            EventKind::TokenRefresh { profile, outcome } => {
                map.serialize_entry("profile", profile)?;
                map.serialize_entry("outcome", outcome.as_str())?;
            }
            EventKind::SharedState { profiles, hosts } => {
                map.serialize_entry("profiles", profiles)?;
                map.serialize_entry("hosts", hosts)?;
            }
            EventKind::RequestEnd {
                outcome,
                profile,
                attempts,
                rotations,
                elapsed_ms,
                next_available_at,
            } => {
                map.serialize_entry("outcome", outcome.as_str())?;
                map.serialize_entry("profile", profile)?;
                map.serialize_entry("attempts", attempts)?;
                map.serialize_entry("rotations", rotations)?;
                map.serialize_entry("elapsed_ms", elapsed_ms)?;
                map.serialize_entry(
                    "next_available_at",
                    &next_available_at.map(Rfc3339::seconds),
                )?;
            }
        }
        map.serialize_entry("ts", &Rfc3339::millis(self.at))?;
        map.serialize_entry("request_id", &*self.request_id)?;
        map.serialize_entry("provider", &*self.provider)?;
        map.end()
    }
}
