//! `rotor simulate`: the rotation engine driven by scripted provider responses on a virtual
//! clock, over an in-memory pool. Nothing touches the network or writes auth.json.
//!
//! Each request runs through the one drive loop `call` runs too ([`crate::drive::drive`]); only
//! the ports differ: the transport is a script, the clock is virtual, and the store is a
//! `Vec<Profile>` lent to the engine. Scripted responses go through the real classifier as
//! status + headers + body, so a simulation also shows how rotor reads a provider's answer.
//!
//! Requests run one after another: each starts at its arrival time or when the previous one
//! ended, whichever is later. Everything is deterministic for a seed.

mod scenario;

use scenario::{RefreshSpec, Response, Script, ScriptEnd};
pub use scenario::{RequestSpec, Scenario};

use crate::drive::{Ports, Sink, drive, now_or_never};
use crate::engine::{
    AttemptPlan, Effect, Engine, Outcome, ProfileRef, RefreshResult, RequestEnd, classify_response,
    classify_transport,
};
use crate::error::Result;
use crate::pool::Profile;
use crate::sanitize::Redactor;
use crate::time::Epoch;
use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

/// The scenario `rotor simulate` runs without an argument.
pub(crate) const BUILTIN_SCENARIO: &str = include_str!("builtin.json");

/// Parses the built-in scenario.
pub(crate) fn builtin(real_now: Epoch) -> Result<Scenario> {
    Scenario::parse(
        Path::new("<built-in scenario>"),
        BUILTIN_SCENARIO.as_bytes(),
        real_now,
    )
}

/// What a simulation leaves behind.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    pub ends: Vec<RequestEnd>,
    /// The pool after every request, in priority order.
    pub profiles: Vec<Profile>,
    /// The virtual clock when the last request ended.
    pub clock: Epoch,
    pub seed: u64,
}

impl Report {
    /// The last request's end: a simulation exits as its last request would with `call`.
    pub(crate) fn last_end(&self) -> Option<&RequestEnd> {
        self.ends.last()
    }
}

/// The provider as a script: each profile answers from its own list, in order, across the
/// whole scenario.
#[derive(Debug)]
pub(crate) struct ScriptedTransport<'a> {
    scripts: &'a HashMap<String, Script>,
    redactor: &'a Redactor,
    responses_used: HashMap<&'a str, usize>,
    refreshes_used: HashMap<&'a str, usize>,
    /// What a profile without a script (or past the end of one) answers; kept so a response is
    /// lent, not built, per attempt.
    success: Response,
}

impl<'a> ScriptedTransport<'a> {
    pub(crate) fn new(scripts: &'a HashMap<String, Script>, redactor: &'a Redactor) -> Self {
        ScriptedTransport {
            scripts,
            redactor,
            responses_used: HashMap::new(),
            refreshes_used: HashMap::new(),
            success: Response::success(),
        }
    }

    /// The next scripted response of `profile_id`, or what its script says once it has run
    /// out (success unless `repeat_last`). Profiles without a script always succeed.
    #[cfg(test)]
    fn next_response(&mut self, profile_id: &str) -> Response {
        self.next(profile_id).clone()
    }

    /// [`Self::next_response`] without the copy. The counters are keyed by the script's own id
    /// (borrowed for the transport's lifetime), so counting an attempt allocates nothing.
    fn next(&mut self, profile_id: &str) -> &Response {
        let Some((id, script)) = self.scripts.get_key_value(profile_id) else {
            return &self.success;
        };
        let used = self.responses_used.entry(id.as_str()).or_default();
        let index = *used;
        *used += 1;
        match script.responses.get(index) {
            Some(r) => r,
            None => match (script.then, script.responses.last()) {
                (ScriptEnd::RepeatLast, Some(last)) => last,
                _ => &self.success,
            },
        }
    }

    /// Sends an attempt at `sent_at`: the classified outcome and the virtual time it arrives.
    pub(crate) fn attempt(&mut self, profile_id: &str, sent_at: Epoch) -> (Outcome, Epoch) {
        let redactor = self.redactor;
        let response = self.next(profile_id);
        let arrived = sent_at + response.latency();
        let outcome = match response {
            Response::Http {
                status,
                headers,
                body,
                ..
            } => classify_response(
                Some(*status),
                headers,
                &body.render(arrived),
                arrived,
                redactor,
            ),
            Response::Transport {
                kind, after_output, ..
            } => Outcome::Failure(classify_transport(*kind, *after_output, None, redactor)),
        };
        (outcome, arrived)
    }

    /// The next scripted refresh result of `profile_id`; `refreshed` once the list runs out.
    pub(crate) fn refresh(&mut self, profile_id: &str) -> RefreshResult {
        let spec = match self.scripts.get_key_value(profile_id) {
            Some((id, script)) => {
                let used = self.refreshes_used.entry(id.as_str()).or_default();
                *used += 1;
                script.refresh.get(*used - 1).copied()
            }
            None => None,
        }
        .unwrap_or(RefreshSpec::Refreshed);
        match spec {
            RefreshSpec::Refreshed => RefreshResult::Refreshed,
            RefreshSpec::Adopted => RefreshResult::Adopted,
            RefreshSpec::Failed => RefreshResult::Failed {
                dead: false,
                reason: None,
                message: Some("token endpoint unavailable (scripted)".into()),
            },
            RefreshSpec::Dead => RefreshResult::Failed {
                dead: true,
                reason: Some("invalid_grant".into()),
                message: Some("refresh token rejected (scripted)".into()),
            },
        }
    }
}

/// The ports of a simulation: a script for the provider, a virtual clock, and nothing to
/// persist (the engine applies every effect to the pool it was lent, which is the store here).
struct ScriptedPorts<'a> {
    transport: ScriptedTransport<'a>,
    clock: Epoch,
}

impl Ports for ScriptedPorts<'_> {
    fn now(&self) -> Epoch {
        self.clock
    }

    async fn sleep(&mut self, seconds: f64) {
        self.clock += seconds;
    }

    async fn attempt(&mut self, plan: &AttemptPlan, _deadline: Option<Epoch>) -> Result<Outcome> {
        let (outcome, arrived) = self.transport.attempt(&plan.profile.id, self.clock);
        self.clock = arrived;
        Ok(outcome)
    }

    async fn refresh(&mut self, profile: &ProfileRef) -> Result<RefreshResult> {
        Ok(self.transport.refresh(&profile.id))
    }

    async fn persist(&mut self, _effects: &[Effect]) -> Result<()> {
        Ok(())
    }
}

/// Runs every request of `scenario` with `seed`, reporting events to `sink` as they happen.
pub fn run(scenario: &Scenario, seed: u64, sink: &mut dyn Sink) -> Result<Report> {
    let mut pool = scenario.profiles.clone();
    let mut ports = ScriptedPorts {
        transport: ScriptedTransport::new(&scenario.scripts, &scenario.redactor),
        clock: scenario.start,
    };
    let provider: Arc<str> = scenario.provider.as_str().into();
    let mut ends = Vec::with_capacity(scenario.requests.len());
    for (index, request) in scenario.requests.iter().enumerate() {
        ports.clock = ports.clock.max(scenario.start + request.at);
        // The pool is lent to the engine for the request and taken back after it: the engine
        // applies every effect to it before it returns a step, so a renderer sees the pool the
        // events describe, and no request copies the pool.
        let mut engine = Engine::shared(
            request.id.as_str().into(),
            Arc::clone(&provider),
            std::mem::take(&mut pool),
            scenario.policy.clone(),
            request_seed(seed, index),
        )
        .with_model(request.model.as_deref());
        // Scripted ports never wait on anything: the drive loop completes on the spot.
        let end = now_or_never(drive(&mut engine, &mut ports, sink));
        pool = engine.into_profiles();
        ends.push(end?);
    }
    Ok(Report {
        ends,
        profiles: pool,
        clock: ports.clock,
        seed,
    })
}

/// A distinct, repeatable seed per request (SplitMix64 of the scenario seed and the index), so
/// requests do not replay each other's random picks and jitter.
fn request_seed(seed: u64, index: usize) -> u64 {
    let mut z = seed.wrapping_add((index as u64 + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15));
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::scenario::{Body, DEFAULT_START};
    use super::*;
    use crate::engine::RequestOutcome;
    use crate::engine::events::{Event, EventKind};

    struct Collect(Vec<Event>);
    impl Sink for Collect {
        fn emit(&mut self, event: &Event, _: &[Profile]) -> std::io::Result<()> {
            self.0.push(event.clone());
            Ok(())
        }
    }

    #[test]
    fn the_builtin_scenario_rotates_at_once() {
        let scenario = builtin(0.0).unwrap();
        let mut sink = Collect(vec![]);
        let report = run(&scenario, 0, &mut sink).unwrap();
        assert_eq!(report.last_end().unwrap().outcome, RequestOutcome::Success);
        let names: Vec<&str> = sink.0.iter().map(|e| e.kind.name()).collect();
        assert_eq!(
            names,
            [
                "request_start",
                "attempt",
                "attempt_failed",
                "profile_cooldown",
                "profile_rotation",
                "attempt",
                "request_end"
            ]
        );
        let plans: Vec<Option<&str>> = report.profiles.iter().map(|p| p.plan()).collect();
        assert_eq!(plans, [Some("prolite"), Some("team"), Some("team")]);
        assert!(matches!(
            &sink.0[3].kind,
            EventKind::ProfileCooldown { until, .. } if (*until - (DEFAULT_START + 0.1 + 8100.0)).abs() < 1e-6
        ));
    }

    #[test]
    fn scripts_run_out_as_they_say() {
        let mut scripts = HashMap::new();
        let status = |s| Response::Http {
            status: s,
            headers: vec![],
            body: Body::Raw(String::new()),
            latency: 0.1,
        };
        scripts.insert(
            "a".to_string(),
            Script {
                responses: vec![status(503)],
                then: ScriptEnd::RepeatLast,
                refresh: vec![RefreshSpec::Dead],
            },
        );
        scripts.insert(
            "b".to_string(),
            Script {
                responses: vec![status(503)],
                ..Script::default()
            },
        );
        let redactor = Redactor::new();
        let mut t = ScriptedTransport::new(&scripts, &redactor);
        assert_eq!(
            [t.next_response("a"), t.next_response("a")],
            [status(503), status(503)]
        );
        assert_eq!(
            [t.next_response("b"), t.next_response("b")],
            [status(503), Response::success()]
        );
        assert_eq!(t.next_response("nobody"), Response::success());
        assert!(matches!(
            t.refresh("a"),
            RefreshResult::Failed { dead: true, .. }
        ));
        assert_eq!(t.refresh("a"), RefreshResult::Refreshed);
    }

    #[test]
    fn request_seeds_differ_and_repeat() {
        assert_ne!(request_seed(0, 0), request_seed(0, 1));
        assert_eq!(request_seed(42, 3), request_seed(42, 3));
    }
}
