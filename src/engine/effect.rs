//! State changes the engine asks its driver to persist, and their meaning on a snapshot.
//!
//! The engine applies every effect to its own snapshot with [`apply_effect`] before it returns
//! it, so later decisions in the same request see them; `simulate` applies the same function
//! to its in-memory pool; `call`'s store writes the same fields into auth.json under the lock.

use super::classify::{ResetHint, ResetSource};
use crate::pool::{LastStatus, Profile, Status, exhausted_ttl};
use crate::time::Epoch;

#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    /// A successful attempt: `last_status` ok, `last_status_at` = `at`, the four error fields
    /// null, `request_count` + 1.
    MarkOk { profile_id: String, at: Epoch },
    /// A cooldown: `last_status` exhausted, `last_status_at` = `at`, `last_error_code` =
    /// `code`, `last_error_reason` = `reason`, `last_error_message` = `message`,
    /// `last_error_reset_at` = `reset_at`. `reset_at` is `None` when the cooldown is the TTL by
    /// code (Hermes derives the same end from `last_status_at`); `until` is the end either way.
    MarkExhausted {
        profile_id: String,
        at: Epoch,
        code: Option<u16>,
        reason: String,
        message: Option<String>,
        reset_at: Option<Epoch>,
        until: Epoch,
        source: ResetSource,
        /// The provider's hint lay beyond `--max-cooldown`: `until` is the cap, not the hint.
        capped: bool,
    },
    /// The credential is gone for good: `last_status` dead, error fields as given, reset null.
    MarkDead {
        profile_id: String,
        at: Epoch,
        code: Option<u16>,
        reason: String,
        message: Option<String>,
    },
    /// `round_robin`: move this entry to the end of the provider's list and renumber every
    /// entry's `priority` 0..n-1 in the new order.
    MoveToEnd { profile_id: String },
}

impl Effect {
    /// The cooldown of a profile-level failure decided at `now`: until the provider's hint when
    /// it lies ahead, else for the TTL by status code (Hermes's rule: 300 s for 401, 3600 s
    /// otherwise); never longer than `max_cooldown_s` from now. Used by the engine and by
    /// `profiles probe`, so both cool a profile the same way.
    pub fn cooldown(
        profile_id: String,
        now: Epoch,
        code: Option<u16>,
        reason: String,
        message: Option<String>,
        hint: Option<ResetHint>,
        max_cooldown_s: f64,
    ) -> Effect {
        let cap = now + max_cooldown_s.max(0.0);
        let (until, reset_at, source) = match hint {
            // A reset already past would make the profile look healthy at once; trust the TTL.
            Some(h) if h.at > now => (h.at, Some(h.at), h.source),
            _ => (
                now + exhausted_ttl(code.map(i64::from)),
                None,
                ResetSource::Ttl,
            ),
        };
        let capped = until > cap;
        let (until, reset_at) = if capped {
            // Stored as an explicit reset: Hermes would derive the uncapped TTL from the code.
            (cap, Some(cap))
        } else {
            (until, reset_at)
        };
        Effect::MarkExhausted {
            profile_id,
            at: now,
            code,
            reason,
            message,
            reset_at,
            until,
            source,
            capped,
        }
    }

    pub fn profile_id(&self) -> &str {
        match self {
            Effect::MarkOk { profile_id, .. }
            | Effect::MarkExhausted { profile_id, .. }
            | Effect::MarkDead { profile_id, .. }
            | Effect::MoveToEnd { profile_id } => profile_id,
        }
    }
}

/// Applies `effect` to a pool snapshot in priority order. Unknown ids are ignored: the entry
/// may have been removed by another writer meanwhile.
pub fn apply_effect(profiles: &mut Vec<Profile>, effect: &Effect) {
    let Some(index) = profiles.iter().position(|p| p.id == effect.profile_id()) else {
        return;
    };
    match effect {
        Effect::MarkOk { at, .. } => {
            let p = &mut profiles[index];
            p.status = Status {
                last_status: Some(LastStatus::Ok),
                last_status_at: Some(*at),
                ..Status::default()
            };
            p.request_count += 1;
        }
        Effect::MarkExhausted {
            at,
            code,
            reason,
            message,
            reset_at,
            ..
        } => {
            profiles[index].status = Status {
                last_status: Some(LastStatus::Exhausted),
                last_status_at: Some(*at),
                last_error_code: code.map(i64::from),
                last_error_reason: Some(reason.clone()),
                last_error_message: message.clone(),
                last_error_reset_at: *reset_at,
            };
        }
        Effect::MarkDead {
            at,
            code,
            reason,
            message,
            ..
        } => {
            profiles[index].status = Status {
                last_status: Some(LastStatus::Dead),
                last_status_at: Some(*at),
                last_error_code: code.map(i64::from),
                last_error_reason: Some(reason.clone()),
                last_error_message: message.clone(),
                last_error_reset_at: None,
            };
        }
        Effect::MoveToEnd { .. } => {
            let moved = profiles.remove(index);
            profiles.push(moved);
            for (i, p) in profiles.iter_mut().enumerate() {
                p.priority = i as i64;
                p.position = i + 1;
            }
        }
    }
}
