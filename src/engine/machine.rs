//! The per-request state machine. One [`Engine`] serves one request.

use super::classify::{Class, Failure, Outcome, ResetHint};
use super::effect::{Effect, Guard, apply};
use super::events::{Event, EventKind, RefreshOutcome, RotationReason};
use super::{
    Action, AttemptPlan, EngineError, Policy, ProfileRef, REFRESH_SKEW_S, RefreshResult,
    RequestEnd, RequestOutcome, Step,
};
use crate::pool::{AuthType, HermesRules, Profile, Strategy, next_available_at, pick};
use crate::time::Epoch;
use std::sync::Arc;

/// Where the engine stands; the names are stable (they appear in errors and tests).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Phase {
    /// Created, [`Engine::start`] not called yet.
    Idle,
    /// Waiting for the result of an [`Action::Refresh`].
    Refreshing,
    /// Waiting for the outcome of an [`Action::Attempt`].
    Attempting,
    /// Waiting for an [`Action::Wait`] to elapse.
    Waiting,
    /// Finished; no input is accepted any more.
    Done,
}

impl Phase {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Phase::Idle => "idle",
            Phase::Refreshing => "refreshing",
            Phase::Attempting => "attempting",
            Phase::Waiting => "waiting",
            Phase::Done => "done",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Idle,
    Refreshing(AfterRefresh),
    Attempting,
    Waiting,
    Done,
}

/// Why a refresh was asked for, which decides what a failed refresh means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum AfterRefresh {
    /// The token was (nearly) expired before the first attempt on this profile.
    Expiring,
    /// The last attempt got a plain 401/403.
    Unauthorized,
}

/// The profile being served, with its per-profile counters (reset on every rotation).
#[derive(Debug, Clone)]
struct Current {
    id: String,
    hash: String,
    tries: u32,
    throttles: u32,
    refreshed: bool,
}

/// What to do about one failed attempt.
enum Decision {
    Retry {
        wait: f64,
    },
    RefreshThenRetry,
    Cooldown,
    /// Cool the model of the request on this profile (newer Hermes's `model_cooldowns`).
    CoolModel,
    /// Leave the profile without writing anything about it.
    Rotate,
    Dead,
    Finish(RequestOutcome),
}

/// The rotation engine for one request. See the module documentation of [`crate::engine`].
#[derive(Debug, Clone)]
pub struct Engine {
    /// Shared with every event of the request: an event costs a reference count, not a copy.
    request_id: Arc<str>,
    provider: Arc<str>,
    /// The model the request asks for, when known: availability is per model (newer
    /// Hermes's `model_cooldowns`), and a request naming none is kept off any profile with an
    /// active model cooldown.
    model: Option<Arc<str>>,
    /// The pool snapshot in priority order, with this request's effects applied.
    profiles: Vec<Profile>,
    policy: Policy,
    /// Drawn from only by the `random` strategy.
    pick_rng: fastrand::Rng,
    /// Drawn from only for backoff jitter, so jitter never shifts the random picks.
    jitter_rng: fastrand::Rng,
    state: State,
    started_at: Epoch,
    /// Profile-try cap: `min(max_profiles, eligible at start)`.
    cap: usize,
    /// Ids of the profiles entered so far, in order.
    tried: Vec<String>,
    current: Option<Current>,
    attempts: u32,
    rotations: u32,
    last_failure: Option<Failure>,
}

#[derive(Default)]
struct Out {
    effects: Vec<Effect>,
    events: Vec<Event>,
}

impl Engine {
    /// A new engine for one request over `profiles` (any order: they are sorted by priority,
    /// stably). `seed` makes the `random` strategy and the backoff jitter repeatable.
    pub fn new(
        request_id: impl Into<String>,
        provider: impl Into<String>,
        profiles: Vec<Profile>,
        policy: Policy,
        seed: u64,
    ) -> Self {
        let (request_id, provider) = (request_id.into(), provider.into());
        Self::shared(request_id.into(), provider.into(), profiles, policy, seed)
    }

    /// [`Engine::new`] with names already shared: a driver running many requests (`simulate`)
    /// gives every engine the same provider without copying it.
    pub(crate) fn shared(
        request_id: Arc<str>,
        provider: Arc<str>,
        mut profiles: Vec<Profile>,
        policy: Policy,
        seed: u64,
    ) -> Self {
        profiles.sort_by_key(|p| p.priority);
        Engine {
            request_id,
            provider,
            model: None,
            profiles,
            policy,
            pick_rng: fastrand::Rng::with_seed(seed),
            // A fixed odd constant decorrelates the two streams drawn from one seed.
            jitter_rng: fastrand::Rng::with_seed(seed ^ 0x9e37_79b9_7f4a_7c15),
            state: State::Idle,
            started_at: 0.0,
            cap: 0,
            tried: Vec::new(),
            current: None,
            attempts: 0,
            rotations: 0,
            last_failure: None,
        }
    }

    /// The request is for `model` (the `model` field of its body).
    pub(crate) fn with_model(mut self, model: Option<&str>) -> Self {
        self.model = model.filter(|m| !m.is_empty()).map(Arc::from);
        self
    }

    fn model(&self) -> Option<&str> {
        self.model.as_deref()
    }

    pub(crate) fn phase(&self) -> Phase {
        match self.state {
            State::Idle => Phase::Idle,
            State::Refreshing(_) => Phase::Refreshing,
            State::Attempting => Phase::Attempting,
            State::Waiting => Phase::Waiting,
            State::Done => Phase::Done,
        }
    }

    /// The pool snapshot with this request's effects applied, in priority order.
    pub(crate) fn profiles(&self) -> &[Profile] {
        &self.profiles
    }

    /// Takes the pool as it is now in a store shared with other requests (`rotor serve`), so
    /// what they learned — a cooldown, a dead mark, a success, a new token — decides this
    /// request's next choice. The driver persisted this request's own effects into that store
    /// before, so they are part of it. A profile chosen earlier that is no longer available is
    /// left before its next attempt (rotation reason `unavailable`).
    pub(crate) fn resync(&mut self, profiles: &[Profile]) {
        self.profiles.clear();
        self.profiles.extend_from_slice(profiles);
        self.profiles.sort_by_key(|p| p.priority);
    }

    /// Gives the pool snapshot back, with this request's effects applied, in priority order: a
    /// driver that lent its in-memory pool (`simulate`) takes it back without a copy.
    pub(crate) fn into_profiles(self) -> Vec<Profile> {
        self.profiles
    }

    /// When the whole request must be over, if a deadline is set (for per-attempt timeouts).
    pub(crate) fn deadline(&self) -> Option<Epoch> {
        self.policy.deadline_s.map(|d| self.started_at + d)
    }

    fn budget(&self) -> u32 {
        self.policy.attempts_per_profile.max(1)
    }

    /// Starts the request at `now`: selects the first profile.
    pub(crate) fn start(&mut self, now: Epoch) -> Result<Step, EngineError> {
        self.expect_state("start", |s| s == State::Idle)?;
        self.started_at = now;
        let model = self.model.clone();
        let eligible = self
            .profiles
            .iter()
            .filter(|p| p.is_available(now, model.as_deref()))
            .count();
        self.cap = self
            .policy
            .max_profiles
            .map_or(eligible, |m| m.min(eligible));
        let mut out = Out::default();
        let kind = EventKind::RequestStart {
            strategy: self.policy.strategy,
            eligible_profiles: eligible,
            attempts_per_profile: self.budget(),
            max_profiles: self.cap,
        };
        self.emit(&mut out, now, kind);
        if let Some(kind) = self.shared_state() {
            self.emit(&mut out, now, kind);
        }
        let action = self.rotate(now, None, &mut out);
        Ok(self.step(out, action))
    }

    /// The `shared_state` event, when the pool's status was merged with the fleet's and
    /// some of it came from Redis.
    fn shared_state(&self) -> Option<EventKind> {
        use crate::fleet::record::Source;
        let mut profiles = Vec::new();
        let mut hosts: Vec<String> = Vec::new();
        for p in &self.profiles {
            let Some(origin) = p.origin.as_deref() else {
                continue;
            };
            if origin.source == Source::Local {
                continue;
            }
            profiles.push(p.hash.clone());
            if let Some(host) = &origin.host
                && !hosts.contains(host)
            {
                hosts.push(host.clone());
            }
        }
        (!profiles.is_empty()).then_some(EventKind::SharedState { profiles, hosts })
    }

    /// Reports the outcome of the attempt the last [`Action::Attempt`] asked for.
    pub(crate) fn on_outcome(&mut self, outcome: Outcome, now: Epoch) -> Result<Step, EngineError> {
        self.expect_state("on_outcome", |s| s == State::Attempting)?;
        let (id, hash) = self.current_ids()?;
        let mut out = Out::default();
        let failure = match outcome {
            Outcome::Success => {
                self.effect(
                    &mut out,
                    Effect::MarkOk {
                        profile_id: id,
                        at: now,
                    },
                );
                let action = self.finish(now, RequestOutcome::Success, &mut out);
                return Ok(self.step(out, action));
            }
            Outcome::Failure(failure) => failure,
        };
        let decision = self.decide(&failure, now);
        let retry_in_ms = match decision {
            Decision::Retry { wait } => Some((wait * 1000.0).round() as u64),
            Decision::RefreshThenRetry => Some(0),
            _ => None,
        };
        let kind = EventKind::AttemptFailed {
            profile: hash.clone(),
            status: failure.status,
            class: failure.class,
            error_type: failure.error_type.clone(),
            message: failure.message.clone(),
            retry_in_ms,
        };
        self.emit(&mut out, now, kind);
        self.last_failure = Some(failure.clone());
        let action = match decision {
            Decision::Retry { wait } if wait > 0.0 => {
                self.state = State::Waiting;
                Action::Wait { seconds: wait }
            }
            Decision::Retry { .. } => self.before_attempt(now, &mut out),
            Decision::RefreshThenRetry => {
                self.state = State::Refreshing(AfterRefresh::Unauthorized);
                Action::Refresh(ProfileRef { id, hash })
            }
            Decision::Cooldown => {
                let reason = failure
                    .error_type
                    .clone()
                    .unwrap_or_else(|| failure.class.as_str().to_string());
                self.mark_cooldown(
                    &mut out,
                    now,
                    failure.status,
                    reason,
                    failure.message.clone(),
                    failure.reset,
                    failure.class,
                );
                self.rotate(now, Some(failure.class.into()), &mut out)
            }
            Decision::CoolModel => {
                self.mark_model_cooldown(&mut out, now, &failure);
                self.rotate(now, Some(failure.class.into()), &mut out)
            }
            Decision::Rotate => self.rotate(now, Some(failure.class.into()), &mut out),
            Decision::Dead => {
                let reason = failure
                    .error_type
                    .clone()
                    .unwrap_or_else(|| failure.class.as_str().to_string());
                self.effect(
                    &mut out,
                    Effect::MarkDead {
                        profile_id: id,
                        at: now,
                        code: failure.status,
                        reason,
                        message: failure.message.clone(),
                    },
                );
                self.rotate(now, Some(failure.class.into()), &mut out)
            }
            Decision::Finish(outcome) => self.finish(now, outcome, &mut out),
        };
        Ok(self.step(out, action))
    }

    /// Reports that the last [`Action::Wait`] has elapsed.
    pub(crate) fn on_waited(&mut self, now: Epoch) -> Result<Step, EngineError> {
        self.expect_state("on_waited", |s| s == State::Waiting)?;
        let mut out = Out::default();
        let action = self.before_attempt(now, &mut out);
        Ok(self.step(out, action))
    }

    /// Reports the result of the refresh the last [`Action::Refresh`] asked for.
    pub(crate) fn on_refresh(
        &mut self,
        result: RefreshResult,
        now: Epoch,
    ) -> Result<Step, EngineError> {
        self.expect_state("on_refresh", |s| matches!(s, State::Refreshing(_)))?;
        let State::Refreshing(why) = self.state else {
            return Err(self.wrong_state("on_refresh"));
        };
        let (id, hash) = self.current_ids()?;
        if let Some(current) = self.current.as_mut() {
            current.refreshed = true;
        }
        let mut out = Out::default();
        let outcome = match result {
            RefreshResult::Refreshed => RefreshOutcome::Refreshed,
            RefreshResult::Adopted => RefreshOutcome::Adopted,
            RefreshResult::Failed { .. } => RefreshOutcome::Failed,
        };
        self.emit(
            &mut out,
            now,
            EventKind::TokenRefresh {
                profile: hash,
                outcome,
            },
        );
        let action = match result {
            RefreshResult::Refreshed | RefreshResult::Adopted => self.before_attempt(now, &mut out),
            RefreshResult::Failed {
                dead: true,
                reason,
                message,
            } => {
                let effect = Effect::MarkDead {
                    profile_id: id,
                    at: now,
                    code: None,
                    reason: reason.unwrap_or_else(|| "refresh_failed".into()),
                    message,
                };
                self.effect(&mut out, effect);
                self.rotate(now, Some(Class::AuthDead.into()), &mut out)
            }
            RefreshResult::Failed { dead: false, .. } => {
                let expired = self
                    .current_profile()
                    .is_some_and(|p| p.token_expires_at().is_some_and(|exp| exp <= now));
                match why {
                    // The old token still works for a while: use it rather than give up.
                    AfterRefresh::Expiring if !expired => self.before_attempt(now, &mut out),
                    // Expired, or already refused: cool like a 401 (or the 403 it got).
                    _ => {
                        let last = self
                            .last_failure
                            .as_ref()
                            .filter(|_| why == AfterRefresh::Unauthorized);
                        let code = last.and_then(|f| f.status).or(Some(401));
                        let reason = last
                            .and_then(|f| f.error_type.clone())
                            .unwrap_or_else(|| "refresh_failed".into());
                        let message = last.and_then(|f| f.message.clone());
                        self.mark_cooldown(&mut out, now, code, reason, message, None, Class::Auth);
                        self.rotate(now, Some(Class::Auth.into()), &mut out)
                    }
                }
            }
        };
        Ok(self.step(out, action))
    }

    fn decide(&mut self, failure: &Failure, now: Epoch) -> Decision {
        if failure.output_started {
            // Part of the answer is out: a replay would duplicate it.
            return Decision::Finish(RequestOutcome::UpstreamUnavailable);
        }
        let budget = self.budget();
        let is_oauth = self
            .current_profile()
            .is_some_and(|p| p.auth_type == AuthType::Oauth && p.has_refresh_token);
        let Some(current) = self.current.as_mut() else {
            return Decision::Finish(RequestOutcome::UpstreamUnavailable);
        };
        let budget_left = current.tries < budget;
        let scoped = self.model_scoped(failure);
        let cooldown = if scoped {
            Decision::CoolModel
        } else {
            Decision::Cooldown
        };
        let Some(current) = self.current.as_mut() else {
            return Decision::Finish(RequestOutcome::UpstreamUnavailable);
        };
        match failure.class {
            Class::Request => Decision::Finish(RequestOutcome::RequestRejected),
            Class::Transient if budget_left => self.retry_after_wait(failure, now),
            Class::Transient => Decision::Finish(RequestOutcome::UpstreamUnavailable),
            Class::Throttled => {
                current.throttles += 1;
                // A second 429 on one profile (or no budget for a retry) means it is not a
                // blip: cool it and let another profile serve.
                if current.throttles >= 2 || !budget_left {
                    cooldown
                } else {
                    self.retry_after_wait(failure, now)
                }
            }
            Class::RateLimit => cooldown,
            Class::Billing => Decision::Cooldown,
            // Without newer Hermes's model cooldowns there is nowhere to say "not this model
            // here": the request moves on and the account keeps its standing.
            Class::Entitlement if scoped => Decision::CoolModel,
            Class::Entitlement => Decision::Rotate,
            Class::AuthDead => Decision::Dead,
            Class::Auth if is_oauth && !current.refreshed && budget_left => {
                Decision::RefreshThenRetry
            }
            Class::Auth => Decision::Cooldown,
        }
    }

    /// Whether `failure` is about the request's model on this account, not the account: under
    /// newer Hermes's rules, with a model named, a plan without the model (Codex
    /// `model_entitlement`) or an Anthropic 429 that is not about billing (Anthropic limits
    /// requests and tokens per model).
    fn model_scoped(&self, failure: &Failure) -> bool {
        let main = self
            .current_profile()
            .is_some_and(|p| p.rules == HermesRules::Main);
        // A plain 429 is a per-model limit; one whose code or text says the account's quota
        // is spent (`RateLimit`: usage limit, insufficient quota) is about the account.
        let anthropic_limit = &*self.provider == "anthropic"
            && failure.status == Some(429)
            && failure.class == Class::Throttled;
        main && self.model.is_some() && (failure.class == Class::Entitlement || anthropic_limit)
    }

    /// Cools the request's model on the current profile and on its twins (they are one
    /// account), and reports it.
    fn mark_model_cooldown(&mut self, out: &mut Out, now: Epoch, failure: &Failure) {
        let (Some(model), Some(current)) = (self.model.clone(), self.current_profile()) else {
            return;
        };
        let twins: Vec<(String, String)> = std::iter::once(current)
            .chain(self.profiles.iter().filter(|p| {
                p.id != current.id && p.account.is_some() && p.account == current.account
            }))
            .map(|p| (p.id.clone(), p.hash.clone()))
            .collect();
        let ttl = current.ttl;
        let reason = match failure.class {
            Class::Entitlement => crate::pool::FAILURE_MODEL_ENTITLEMENT.to_string(),
            class => class.as_str().to_string(),
        };
        for (id, hash) in twins {
            let effect = Effect::model_cooldown(
                id,
                now,
                model.to_string(),
                reason.clone(),
                failure.reset,
                self.policy.max_cooldown_s,
                ttl,
            );
            self.apply_cooldown(out, now, hash, reason.clone(), effect);
        }
    }

    /// The wait before retrying the same profile: the provider's hint when it gave one, else
    /// jittered exponential backoff; capped by `max_wait`. Past the deadline: give up.
    fn retry_after_wait(&mut self, failure: &Failure, now: Epoch) -> Decision {
        let retries_so_far = self.current.as_ref().map_or(1, |c| c.tries.max(1));
        let wait = match failure.reset {
            Some(hint) => hint.seconds_from(now),
            None => {
                let exponent = (retries_so_far - 1).min(30) as i32;
                let delay = (self.policy.backoff_base_s * 2f64.powi(exponent))
                    .min(self.policy.backoff_cap_s);
                // "Equal jitter": between half and all of the delay, so concurrent clients
                // spread out yet none retries at once.
                delay * (0.5 + 0.5 * self.jitter_rng.f64())
            }
        };
        let wait = wait.clamp(0.0, self.policy.max_wait_s.max(0.0));
        match self.deadline() {
            Some(deadline) if now + wait > deadline => {
                Decision::Finish(RequestOutcome::UpstreamUnavailable)
            }
            _ => Decision::Retry { wait },
        }
    }

    /// Cools the current profile (see [`Effect::cooldown`]) and reports it.
    #[expect(
        clippy::too_many_arguments,
        reason = "each argument is one stored status field"
    )]
    fn mark_cooldown(
        &mut self,
        out: &mut Out,
        now: Epoch,
        code: Option<u16>,
        reason: String,
        message: Option<String>,
        hint: Option<ResetHint>,
        class: Class,
    ) {
        let Some((id, hash)) = self
            .current
            .as_ref()
            .map(|c| (c.id.clone(), c.hash.clone()))
        else {
            return;
        };
        let ttl = self.current_profile().map(|p| p.ttl).unwrap_or_default();
        let effect = Effect::cooldown(
            id,
            now,
            code,
            reason,
            message,
            hint,
            self.policy.max_cooldown_s,
            ttl,
        );
        self.apply_cooldown(out, now, hash, class.as_str().to_string(), effect);
    }

    /// Applies a cooldown of the account or of one model, and reports it.
    fn apply_cooldown(
        &mut self,
        out: &mut Out,
        now: Epoch,
        profile: String,
        reason: String,
        effect: Effect,
    ) {
        let (until, source, capped, model) = match &effect {
            Effect::MarkExhausted {
                until,
                source,
                capped,
                ..
            } => (*until, *source, *capped, None),
            Effect::CoolModel {
                until,
                source,
                capped,
                model,
                ..
            } => (*until, *source, *capped, Some(model.clone())),
            _ => return,
        };
        self.effect(out, effect);
        let kind = EventKind::ProfileCooldown {
            profile,
            until,
            source,
            reason,
            capped,
            model,
        };
        self.emit(out, now, kind);
    }

    /// Moves to the next profile (`from` is why the current one is left; `None` at the start),
    /// or ends the request when none is left.
    fn rotate(&mut self, now: Epoch, from: Option<RotationReason>, out: &mut Out) -> Action {
        // Past the deadline nothing more is attempted, so announcing a rotation would name a
        // profile the request never reached.
        if self.deadline().is_some_and(|deadline| now >= deadline) {
            return self.finish(now, RequestOutcome::UpstreamUnavailable, out);
        }
        if self.tried.len() >= self.cap {
            return self.finish(now, RequestOutcome::PoolExhausted, out);
        }
        // Field-wise borrows: the candidates borrow the snapshot while `pick` draws from the rng.
        let tried = &self.tried;
        let candidates: Vec<&Profile> = self
            .profiles
            .iter()
            .filter(|p| p.is_available(now, self.model.as_deref()) && !tried.contains(&p.id))
            .collect();
        let Some(index) = pick(self.policy.strategy, &candidates, &mut self.pick_rng) else {
            return self.finish(now, RequestOutcome::PoolExhausted, out);
        };
        let next = candidates[index];
        let (id, hash) = (next.id.clone(), next.hash.clone());
        let previous = self.current.take();
        self.tried.push(id.clone());
        self.current = Some(Current {
            id: id.clone(),
            hash: hash.clone(),
            tries: 0,
            throttles: 0,
            refreshed: false,
        });
        let available = self
            .profiles
            .iter()
            .filter(|p| p.is_available(now, self.model()))
            .count();
        if self.policy.strategy == Strategy::RoundRobin && available > 1 {
            // As Hermes: the pick moves to the end so the next request starts elsewhere.
            self.effect(out, Effect::MoveToEnd { profile_id: id });
        }
        if let (Some(reason), Some(previous)) = (from, previous) {
            self.rotations += 1;
            let attempt = self.tried.len();
            let remaining = self.candidates(now).count().min(self.cap - attempt);
            let kind = EventKind::ProfileRotation {
                from_profile: previous.hash,
                to_profile: hash,
                reason,
                attempt,
                max: self.cap,
                remaining_profiles: remaining,
            };
            self.emit(out, now, kind);
        }
        self.before_attempt(now, out)
    }

    /// Available profiles not yet tried in this request, in priority order.
    fn candidates(&self, now: Epoch) -> impl Iterator<Item = &Profile> {
        self.profiles
            .iter()
            .filter(move |p| p.is_available(now, self.model()) && !self.tried.contains(&p.id))
    }

    /// Attempts the current profile, unless the deadline has passed or its token needs a
    /// refresh first.
    fn before_attempt(&mut self, now: Epoch, out: &mut Out) -> Action {
        if self.deadline().is_some_and(|deadline| now >= deadline) {
            return self.finish(now, RequestOutcome::UpstreamUnavailable, out);
        }
        if self.current.is_some()
            && !self
                .current_profile()
                .is_some_and(|p| p.is_available(now, self.model()))
        {
            // Cooled, marked dead or removed by another request or process (see
            // [`Engine::resync`]) since this request chose it: no attempt starts on it.
            return self.rotate(now, Some(RotationReason::Unavailable), out);
        }
        let needs_refresh = self.current_profile().is_some_and(|p| {
            p.auth_type == AuthType::Oauth
                && p.has_refresh_token
                && (!p.has_token
                    || p.token_expires_at()
                        .is_some_and(|exp| exp <= now + REFRESH_SKEW_S))
        });
        let budget = self.budget();
        let Some(current) = self.current.as_mut() else {
            // Only reachable through a driver bug; ending beats attempting nothing.
            return self.finish(now, RequestOutcome::PoolExhausted, out);
        };
        let profile = ProfileRef {
            id: current.id.clone(),
            hash: current.hash.clone(),
        };
        if needs_refresh && !current.refreshed {
            self.state = State::Refreshing(AfterRefresh::Expiring);
            return Action::Refresh(profile);
        }
        current.tries += 1;
        self.attempts += 1;
        let plan = AttemptPlan {
            profile,
            try_n: current.tries,
            of: budget,
            n: self.attempts,
        };
        let kind = EventKind::Attempt {
            profile: plan.profile.hash.clone(),
            try_n: plan.try_n,
            of: plan.of,
            n: plan.n,
        };
        self.emit(out, now, kind);
        self.state = State::Attempting;
        Action::Attempt(plan)
    }

    fn finish(&mut self, now: Epoch, outcome: RequestOutcome, out: &mut Out) -> Action {
        let next_available_at = match outcome {
            RequestOutcome::PoolExhausted => next_available_at(&self.profiles, now, self.model()),
            _ => None,
        };
        let profile = self.current.as_ref().map(|c| ProfileRef {
            id: c.id.clone(),
            hash: c.hash.clone(),
        });
        let end = RequestEnd {
            outcome,
            profile,
            attempts: self.attempts,
            rotations: self.rotations,
            at: now,
            elapsed_s: (now - self.started_at).max(0.0),
            next_available_at,
            last_failure: if outcome == RequestOutcome::Success {
                None
            } else {
                self.last_failure.clone()
            },
        };
        let kind = EventKind::RequestEnd {
            outcome,
            profile: end.profile.as_ref().map(|p| p.hash.clone()),
            attempts: end.attempts,
            rotations: end.rotations,
            elapsed_ms: (end.elapsed_s * 1000.0).round() as u64,
            next_available_at,
        };
        self.emit(out, now, kind);
        self.state = State::Done;
        Action::Finish(end)
    }

    fn current_profile(&self) -> Option<&Profile> {
        let id = &self.current.as_ref()?.id;
        self.profiles.iter().find(|p| &p.id == id)
    }

    fn current_ids(&self) -> Result<(String, String), EngineError> {
        self.current
            .as_ref()
            .map(|c| (c.id.clone(), c.hash.clone()))
            .ok_or(EngineError {
                input: "an input about the current profile",
                phase: "no profile is current",
            })
    }

    fn effect(&mut self, out: &mut Out, effect: Effect) {
        apply(&effect, &Guard::Always, &mut self.profiles);
        out.effects.push(effect);
    }

    fn emit(&self, out: &mut Out, now: Epoch, kind: EventKind) {
        out.events.push(Event {
            kind,
            at: now,
            request_id: self.request_id.clone(),
            provider: self.provider.clone(),
        });
    }

    fn step(&self, out: Out, action: Action) -> Step {
        Step {
            effects: out.effects,
            events: out.events,
            action,
        }
    }

    fn expect_state(
        &self,
        input: &'static str,
        ok: impl Fn(State) -> bool,
    ) -> Result<(), EngineError> {
        if ok(self.state) {
            Ok(())
        } else {
            Err(self.wrong_state(input))
        }
    }

    /// A driver bug: an input the current phase does not accept.
    fn wrong_state(&self, input: &'static str) -> EngineError {
        EngineError {
            input,
            phase: self.phase().as_str(),
        }
    }
}
