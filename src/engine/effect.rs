//! The one write vocabulary of rotor: every change of a profile's status — what the engine
//! learns from an attempt, an operator's `cooldown set` and `clear`, a probe's verdict — is an
//! [`Effect`], and [`apply`] is the one place that says what each means. It writes onto any
//! [`StatusTarget`]: the engine's in-memory pool (so later decisions of the same request see
//! it), and auth.json's document (so Hermes sees it, written as Hermes writes its own).
//!
//! Two rules hold for every target: only a re-login (which rewrites the entry) undoes `dead` —
//! no success, cooldown, clear or probe of rotor's ever overwrites it; and a [`Guard`] makes a
//! change decided from an earlier read (a probe's verdict) a compare-and-set.

use super::classify::{ResetHint, ResetSource};
use crate::pool::{LastStatus, Profile, Status, TtlRule, exhausted_ttl};
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
    /// The profile is fine again (`cooldown clear`, a healthy probe): the status fields null,
    /// `last_status` ok, every model cooldown gone, and `status_cleared_at` = `at`, which
    /// newer Hermes versions honour so their merge-on-write does not bring the old cooldown
    /// back.
    Clear {
        profile_id: String,
        at: Epoch,
        /// Whether every model cooldown goes too (an operator's clear, as `hermes auth
        /// reset`); a probe, which knows nothing of models, clears the account's status only.
        models: bool,
    },
    /// A cooldown of one model on an account that stays usable for the others (newer Hermes's
    /// `model_cooldowns`): `model_cooldowns[model]` = the later of `until` and what is stored.
    /// The account's status fields are left alone.
    CoolModel {
        profile_id: String,
        at: Epoch,
        model: String,
        until: Epoch,
        /// What the failure was (`rate_limit`, `model_entitlement`, `manual`), for the event.
        reason: String,
        source: ResetSource,
        capped: bool,
    },
    /// `cooldown clear --model M`: that model's cooldown gone, nothing else.
    ClearModel { profile_id: String, model: String },
    /// `round_robin`: move this entry to the end of the provider's list and renumber every
    /// entry's `priority` 0..n-1 in the new order.
    MoveToEnd { profile_id: String },
}

impl Effect {
    /// The cooldown of a profile-level failure decided at `now`: until the provider's hint when
    /// it lies ahead, else for the TTL by status code (Hermes's rule: 300 s for 401, 3600 s
    /// otherwise; newer Hermes's shorter ones under its rules, see [`exhausted_ttl`]); never
    /// longer than `max_cooldown_s` from now. Used by the engine and by `profiles probe`, so
    /// both cool a profile the same way.
    #[expect(
        clippy::too_many_arguments,
        reason = "each argument is one stored status field or a rule for one"
    )]
    pub(crate) fn cooldown(
        profile_id: String,
        now: Epoch,
        code: Option<u16>,
        reason: String,
        message: Option<String>,
        hint: Option<ResetHint>,
        max_cooldown_s: f64,
        ttl: TtlRule,
    ) -> Effect {
        let cap = now + max_cooldown_s.max(0.0);
        let (until, reset_at, source) = match hint {
            // A reset already past would make the profile look healthy at once; trust the TTL.
            Some(h) if h.at > now => (h.at, Some(h.at), h.source),
            _ => (
                now + exhausted_ttl(code.map(i64::from), ttl, None),
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

    /// `cooldown set`: exhausted until `until`, reason `manual`, no code, the operator's text as
    /// message; Hermes honours it as it honours its own.
    pub(crate) fn manual_cooldown(
        profile_id: String,
        now: Epoch,
        until: Epoch,
        message: Option<String>,
    ) -> Effect {
        Effect::MarkExhausted {
            profile_id,
            at: now,
            code: None,
            reason: "manual".into(),
            message,
            reset_at: Some(until),
            until,
            source: ResetSource::Manual,
            capped: false,
        }
    }

    /// The cooldown of one model decided at `now`: until the provider's hint when it lies
    /// ahead, a year for a model the plan lacks (`model_entitlement`, as newer Hermes), else
    /// the TTL of a 429 under `ttl`; never longer than `max_cooldown_s` from now.
    pub(crate) fn model_cooldown(
        profile_id: String,
        now: Epoch,
        model: String,
        reason: String,
        hint: Option<ResetHint>,
        max_cooldown_s: f64,
        ttl: TtlRule,
    ) -> Effect {
        let cap = now + max_cooldown_s.max(0.0);
        let (until, source) = match hint {
            _ if reason == crate::pool::FAILURE_MODEL_ENTITLEMENT => {
                (now + crate::pool::MODEL_ENTITLEMENT_S, ResetSource::Ttl)
            }
            Some(h) if h.at > now => (h.at, h.source),
            _ => (now + exhausted_ttl(Some(429), ttl, None), ResetSource::Ttl),
        };
        Effect::CoolModel {
            profile_id,
            at: now,
            model,
            until: until.min(cap),
            reason,
            source,
            capped: until > cap,
        }
    }

    pub(crate) fn profile_id(&self) -> &str {
        match self {
            Effect::MarkOk { profile_id, .. }
            | Effect::MarkExhausted { profile_id, .. }
            | Effect::MarkDead { profile_id, .. }
            | Effect::Clear { profile_id, .. }
            | Effect::CoolModel { profile_id, .. }
            | Effect::ClearModel { profile_id, .. }
            | Effect::MoveToEnd { profile_id } => profile_id,
        }
    }
}

/// The most model cooldowns rotor keeps on one entry.
pub(crate) const MAX_MODEL_COOLDOWNS: usize = 64;

/// The condition a change is made under.
#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) enum Guard {
    /// Always (but `dead` stays dead).
    #[default]
    Always,
    /// Only while the entry's status is still this one (`last_status` and `last_status_at`):
    /// a verdict decided from an earlier read, such as a probe's, is a compare-and-set.
    Unchanged {
        last_status: Option<LastStatus>,
        last_status_at: Option<Epoch>,
    },
}

impl Guard {
    /// The guard that holds while `status` is unchanged.
    pub(crate) fn unchanged(status: &Status) -> Guard {
        Guard::Unchanged {
            last_status: status.last_status.clone(),
            last_status_at: status.last_status_at,
        }
    }

    fn holds(&self, current: &Current) -> bool {
        match self {
            Guard::Always => true,
            Guard::Unchanged {
                last_status,
                last_status_at,
            } => {
                current.last_status == *last_status
                    && current.last_status_at.map(f64::to_bits) == last_status_at.map(f64::to_bits)
            }
        }
    }
}

/// An effect with its guard: one element of a persisted step.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Change {
    pub effect: Effect,
    pub guard: Guard,
}

impl Change {
    pub(crate) fn always(effect: Effect) -> Change {
        Change {
            effect,
            guard: Guard::Always,
        }
    }
}

/// What [`apply`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Applied {
    Written,
    /// The entry is dead: only a re-login undoes that.
    Dead,
    /// The guard did not hold: the entry changed since the change was decided.
    Changed,
    /// No entry has that id any more (removed by an operator or Hermes).
    Gone,
}

/// The part of an entry's state that decides whether and how a change applies.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Current {
    pub last_status: Option<LastStatus>,
    pub last_status_at: Option<Epoch>,
    pub request_count: u64,
    /// Whether a later `status_cleared_at` undid a stored dead mark.
    pub dead: bool,
}

impl Current {
    pub(crate) fn of(p: &Profile) -> Current {
        Current {
            last_status: p.status.last_status.clone(),
            last_status_at: p.status.last_status_at,
            request_count: p.request_count,
            dead: p.is_dead(),
        }
    }
}

/// What besides the six status fields a change sets.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub(crate) struct Extra {
    pub request_count: Option<u64>,
    /// `status_cleared_at`.
    pub cleared_at: Option<Epoch>,
}

/// Somewhere a pool's status lives: auth.json's document, or a pool in memory.
pub(crate) trait StatusTarget {
    fn current(&self, id: &str) -> Option<Current>;
    /// Sets the six status fields of entry `id` (and what `extra` names).
    fn set_status(&mut self, id: &str, status: Status, extra: Extra);
    /// Moves entry `id` to the end and renumbers every priority 0..n-1 in the new order.
    fn move_to_end(&mut self, id: &str);
    /// Sets `model_cooldowns[model]` of entry `id` to the later of `until` and what it holds,
    /// at `at`: cooldowns ended by then are dropped, and a new model is not added to an entry
    /// that already holds [`MAX_MODEL_COOLDOWNS`] (a client naming ever new models must not
    /// grow auth.json without bound).
    fn cool_model(&mut self, id: &str, model: &str, at: Epoch, until: Epoch);
    /// Removes `model`'s cooldown of entry `id`, or with `None` every one.
    fn clear_models(&mut self, id: &str, model: Option<&str>);
}

/// Applies `effect` under `guard` to `target`: the one interpretation of every effect.
pub(crate) fn apply(effect: &Effect, guard: &Guard, target: &mut impl StatusTarget) -> Applied {
    let id = effect.profile_id();
    let Some(current) = target.current(id) else {
        return Applied::Gone;
    };
    if !guard.holds(&current) {
        return Applied::Changed;
    }
    if current.dead && !matches!(effect, Effect::MarkDead { .. } | Effect::MoveToEnd { .. }) {
        return Applied::Dead;
    }
    match effect {
        Effect::MarkOk { at, .. } => target.set_status(
            id,
            Status {
                last_status: Some(LastStatus::Ok),
                last_status_at: Some(*at),
                ..Status::default()
            },
            Extra {
                request_count: Some(current.request_count + 1),
                cleared_at: None,
            },
        ),
        Effect::MarkExhausted {
            at,
            code,
            reason,
            message,
            reset_at,
            ..
        } => target.set_status(
            id,
            Status {
                last_status: Some(LastStatus::Exhausted),
                last_status_at: Some(*at),
                last_error_code: code.map(i64::from),
                last_error_reason: Some(reason.clone()),
                last_error_message: message.clone(),
                last_error_reset_at: *reset_at,
            },
            Extra::default(),
        ),
        Effect::MarkDead {
            at,
            code,
            reason,
            message,
            ..
        } => target.set_status(
            id,
            Status {
                last_status: Some(LastStatus::Dead),
                last_status_at: Some(*at),
                last_error_code: code.map(i64::from),
                last_error_reason: Some(reason.clone()),
                last_error_message: message.clone(),
                last_error_reset_at: None,
            },
            Extra::default(),
        ),
        Effect::Clear { at, models, .. } => {
            target.set_status(
                id,
                Status {
                    last_status: Some(LastStatus::Ok),
                    ..Status::default()
                },
                Extra {
                    request_count: None,
                    cleared_at: Some(*at),
                },
            );
            if *models {
                target.clear_models(id, None);
            }
        }
        Effect::CoolModel {
            model, at, until, ..
        } => target.cool_model(id, model, *at, *until),
        Effect::ClearModel { model, .. } => target.clear_models(id, Some(model)),
        Effect::MoveToEnd { .. } => target.move_to_end(id),
    }
    Applied::Written
}

/// A pool in memory, in priority order: the engine's snapshot, `simulate`'s pool.
impl StatusTarget for Vec<Profile> {
    fn current(&self, id: &str) -> Option<Current> {
        self.iter().find(|p| p.id == id).map(Current::of)
    }

    fn set_status(&mut self, id: &str, status: Status, extra: Extra) {
        if let Some(p) = self.iter_mut().find(|p| p.id == id) {
            p.status = status;
            p.failure_reason = None;
            if let Some(count) = extra.request_count {
                p.request_count = count;
            }
            if let Some(at) = extra.cleared_at {
                p.status_cleared_at = Some(at);
            }
        }
        // A twin's status, or who is the only live credential, may have changed.
        crate::pool::link(self);
    }

    fn move_to_end(&mut self, id: &str) {
        let Some(index) = self.iter().position(|p| p.id == id) else {
            return;
        };
        let moved = self.remove(index);
        self.push(moved);
        for (i, p) in self.iter_mut().enumerate() {
            p.priority = i as i64;
            p.position = i + 1;
        }
    }

    fn cool_model(&mut self, id: &str, model: &str, at: Epoch, until: Epoch) {
        let Some(p) = self.iter_mut().find(|p| p.id == id) else {
            return;
        };
        p.model_cooldowns.retain(|(m, end)| *end > at || m == model);
        let full = p.model_cooldowns.len() >= MAX_MODEL_COOLDOWNS;
        match p.model_cooldowns.iter_mut().find(|(m, _)| m == model) {
            Some((_, stored)) => *stored = stored.max(until),
            None if full => {}
            None => {
                p.model_cooldowns.push((model.to_string(), until));
                p.model_cooldowns.sort_by(|a, b| a.0.cmp(&b.0));
            }
        }
        // A twin's hold holds its model cooldowns too.
        crate::pool::link(self);
    }

    fn clear_models(&mut self, id: &str, model: Option<&str>) {
        if let Some(p) = self.iter_mut().find(|p| p.id == id) {
            p.model_cooldowns
                .retain(|(m, _)| model.is_some_and(|want| m != want));
        }
        crate::pool::link(self);
    }
}
