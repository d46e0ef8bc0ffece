//! Engine tests: the contract cases of issue 3, one test per rule of docs/engine.md, and property
//! tests over random pools, strategies and outcome scripts.

#![allow(clippy::unwrap_used)]

use super::machine::Phase;
use super::*;
use crate::drive::{Ports, Sink, now_or_never};
use crate::pool::tests::profile;
use crate::pool::{AuthType, LastStatus, Profile, TokenClaims, profile_hash};
use crate::sanitize::Redactor;
use events::{EventKind, RotationReason};

const T0: Epoch = 1_795_838_400.0; // 2026-11-28T04:00:00Z
const LATENCY: f64 = 0.1;

fn pool(n: usize) -> Vec<Profile> {
    (0..n)
        .map(|i| {
            let mut p = profile(&format!("p{i}"), i as i64);
            p.position = i + 1;
            p
        })
        .collect()
}

fn hash(i: usize) -> String {
    profile_hash(&format!("p{i}"))
}

fn response(status: u16, body: &str, now: Epoch) -> Outcome {
    classify_response(
        Some(status),
        &[] as &[(&str, &str)],
        body,
        now,
        &Redactor::new(),
    )
}

fn usage_limit(resets_in: f64, now: Epoch) -> Outcome {
    let body = format!(
        r#"{{"error":{{"type":"usage_limit_reached","message":"The usage limit has been reached","resets_in_seconds":{resets_in}}}}}"#
    );
    response(429, &body, now)
}

/// Everything one request did, as a driver saw it.
#[derive(Debug, Clone, PartialEq)]
struct Run {
    events: Vec<Event>,
    effects: Vec<Effect>,
    attempts: Vec<AttemptPlan>,
    waits: Vec<f64>,
    refreshes: Vec<String>,
    end: RequestEnd,
    now: Epoch,
}

impl Run {
    fn kinds(&self, name: &str) -> Vec<&EventKind> {
        self.events
            .iter()
            .map(|e| &e.kind)
            .filter(|k| k.name() == name)
            .collect()
    }
    fn attempted(&self) -> Vec<String> {
        self.attempts.iter().map(|a| a.profile.id.clone()).collect()
    }
}

/// The ports of the engine's tests: a virtual clock on which every attempt takes [`LATENCY`]
/// and waits pass at once, scripted answers and refreshes, and a record of all of it. With a
/// shadow pool, every persisted effect is applied to it, and every attempt is checked to go to
/// a profile available there.
struct TestPorts<R, F> {
    now: Epoch,
    respond: R,
    refresh: F,
    shadow: Option<Vec<Profile>>,
    /// Plays a store shared with other requests: the shadow pool is this request's news at
    /// every step.
    share: bool,
    /// Another request or process, changing the shared pool while this one sleeps.
    meanwhile: Option<Interference>,
    max_wait: f64,
    effects: Vec<Effect>,
    attempts: Vec<AttemptPlan>,
    waits: Vec<f64>,
    refreshes: Vec<String>,
}

impl<R, F> TestPorts<R, F> {
    fn new(now: Epoch, respond: R, refresh: F) -> Self {
        TestPorts {
            now,
            respond,
            refresh,
            shadow: None,
            share: false,
            meanwhile: None,
            max_wait: f64::INFINITY,
            effects: vec![],
            attempts: vec![],
            waits: vec![],
            refreshes: vec![],
        }
    }
}

impl<R, F> Ports for TestPorts<R, F>
where
    R: FnMut(&AttemptPlan, Epoch) -> Outcome + Send,
    F: FnMut(&ProfileRef) -> RefreshResult + Send,
{
    fn now(&self) -> Epoch {
        self.now
    }

    async fn sleep(&mut self, seconds: f64) {
        assert!(
            seconds > 0.0 && seconds <= self.max_wait,
            "waited {seconds}"
        );
        self.waits.push(seconds);
        self.now += seconds;
        if let (Some(change), Some(shadow)) = (&mut self.meanwhile, &mut self.shadow) {
            change(shadow, self.now);
        }
    }

    async fn attempt(
        &mut self,
        plan: &AttemptPlan,
        _deadline: Option<Epoch>,
    ) -> crate::error::Result<Outcome> {
        if let Some(shadow) = &self.shadow {
            let p = shadow.iter().find(|p| p.id == plan.profile.id).unwrap();
            assert!(
                p.is_available(self.now, None),
                "attempted {} while {:?}",
                p.id,
                p.availability(self.now, None)
            );
        }
        self.now += LATENCY;
        let outcome = (self.respond)(plan, self.now);
        self.attempts.push(plan.clone());
        Ok(outcome)
    }

    async fn refresh(&mut self, profile: &ProfileRef) -> crate::error::Result<RefreshResult> {
        let result = (self.refresh)(profile);
        self.refreshes.push(profile.id.clone());
        Ok(result)
    }

    async fn persist(&mut self, effects: &[Effect]) -> crate::error::Result<()> {
        if let Some(shadow) = &mut self.shadow {
            for effect in effects {
                apply(effect, &Guard::Always, shadow);
            }
        }
        self.effects.extend_from_slice(effects);
        Ok(())
    }

    fn pool_news(&mut self) -> Option<std::sync::Arc<Vec<Profile>>> {
        let shadow = self.shadow.as_ref().filter(|_| self.share)?;
        Some(std::sync::Arc::new(shadow.clone()))
    }
}

/// A change another request makes to the shared pool, at the time given.
type Interference = Box<dyn FnMut(&mut Vec<Profile>, Epoch) + Send>;

/// Every event, in order.
struct Collect(Vec<Event>);

impl Sink for Collect {
    fn emit(&mut self, event: &Event, _profiles: &[Profile]) -> std::io::Result<()> {
        self.0.push(event.clone());
        Ok(())
    }
}

/// Runs one request of `engine` with `ports` through the drive loop of every driver.
fn run_with<R, F>(engine: &mut Engine, ports: &mut TestPorts<R, F>) -> Run
where
    R: FnMut(&AttemptPlan, Epoch) -> Outcome + Send,
    F: FnMut(&ProfileRef) -> RefreshResult + Send,
{
    let mut sink = Collect(vec![]);
    let end = now_or_never(crate::drive::drive(engine, ports, &mut sink)).unwrap();
    assert_eq!(engine.phase(), Phase::Done);
    Run {
        events: sink.0,
        effects: std::mem::take(&mut ports.effects),
        attempts: std::mem::take(&mut ports.attempts),
        waits: std::mem::take(&mut ports.waits),
        refreshes: std::mem::take(&mut ports.refreshes),
        end,
        now: ports.now,
    }
}

/// A request on a virtual clock: every attempt takes [`LATENCY`], waits pass instantly.
fn drive(
    engine: &mut Engine,
    start: Epoch,
    respond: impl FnMut(&AttemptPlan, Epoch) -> Outcome + Send,
    refresh: impl FnMut(&ProfileRef) -> RefreshResult + Send,
) -> Run {
    run_with(engine, &mut TestPorts::new(start, respond, refresh))
}

fn never_refresh(_: &ProfileRef) -> RefreshResult {
    panic!("unexpected refresh")
}

fn engine(profiles: Vec<Profile>, policy: Policy) -> Engine {
    Engine::new("req-1", "openai-codex", profiles, policy, 7)
}

// ---- A pool shared with other requests (`serve`) ------------------------------------------

/// A request sharing its pool: the shadow is the shared store, changed by `meanwhile` while
/// the request sleeps.
fn drive_shared(
    engine: &mut Engine,
    pool: Vec<Profile>,
    respond: impl FnMut(&AttemptPlan, Epoch) -> Outcome + Send,
    meanwhile: Interference,
) -> Run {
    let mut ports = TestPorts::new(T0, respond, never_refresh);
    ports.shadow = Some(pool);
    ports.share = true;
    ports.meanwhile = Some(meanwhile);
    run_with(engine, &mut ports)
}

fn cool(pool: &mut Vec<Profile>, id: &str, at: Epoch) {
    let effect = Effect::cooldown(
        id.into(),
        at,
        Some(429),
        "usage_limit_reached".into(),
        None,
        None,
        1e9,
        crate::pool::TtlRule::V019,
    );
    apply(&effect, &Guard::Always, pool);
}

#[test]
fn a_profile_cooled_by_another_request_during_a_backoff_is_left_before_its_retry() {
    let mut e = engine(pool(3), Policy::default());
    let run = drive_shared(
        &mut e,
        pool(3),
        |plan, now| match plan.profile.id.as_str() {
            "p0" => response(503, "busy", now),
            _ => Outcome::Success,
        },
        Box::new(|pool, now| cool(pool, "p0", now)),
    );
    // The retry on p0 never starts: the shared pool says it is cooling.
    assert_eq!(run.attempted(), ["p0", "p1"]);
    assert_eq!(
        run.kinds("profile_rotation"),
        [&EventKind::ProfileRotation {
            from_profile: hash(0),
            to_profile: hash(1),
            reason: events::RotationReason::Unavailable,
            attempt: 2,
            max: 3,
            remaining_profiles: 1,
        }]
    );
    // This request learned nothing about p0 that would cool it: the cooldown is the other's.
    assert!(
        run.effects
            .iter()
            .all(|e| !matches!(e, Effect::MarkExhausted { .. }))
    );
    assert_eq!(run.end.outcome, RequestOutcome::Success);
}

#[test]
fn a_profile_killed_elsewhere_is_left_and_the_pool_can_run_out_that_way() {
    let mut e = engine(pool(2), Policy::default());
    let run = drive_shared(
        &mut e,
        pool(2),
        |_, now| response(503, "busy", now),
        Box::new(|pool, now| {
            for id in ["p0", "p1"] {
                let dead = Effect::MarkDead {
                    profile_id: id.into(),
                    at: now,
                    code: Some(401),
                    reason: "token_revoked".into(),
                    message: None,
                };
                apply(&dead, &Guard::Always, pool);
            }
        }),
    );
    assert_eq!(run.attempted(), ["p0"]);
    assert_eq!(run.end.outcome, RequestOutcome::PoolExhausted);
    assert_eq!(run.end.next_available_at, None);
}

#[test]
fn a_request_starts_on_the_pool_as_the_shared_store_holds_it() {
    // The engine was built from an older snapshot; the store says p0 is cooling now.
    let mut e = engine(pool(3), Policy::default());
    let mut shared = pool(3);
    cool(&mut shared, "p0", T0 - 1.0);
    let run = drive_shared(&mut e, shared, |_, _| Outcome::Success, Box::new(|_, _| {}));
    assert_eq!(run.attempted(), ["p1"]);
    assert!(matches!(
        run.kinds("request_start")[..],
        [EventKind::RequestStart {
            eligible_profiles: 2,
            ..
        }]
    ));
}

// ---- The four contract cases -------------------------------------------------------------

#[test]
fn rotate_then_succeed() {
    let mut e = engine(pool(3), Policy::default());
    let run = drive(
        &mut e,
        T0,
        |plan, now| {
            if plan.profile.id == "p0" {
                usage_limit(3600.0, now)
            } else {
                Outcome::Success
            }
        },
        never_refresh,
    );
    assert_eq!(run.attempted(), ["p0", "p1"]);
    assert_eq!(run.end.outcome, RequestOutcome::Success);
    assert_eq!(crate::error::exit_code_of(run.end.outcome), 0);
    let rotations = run.kinds("profile_rotation");
    assert_eq!(
        rotations,
        [&EventKind::ProfileRotation {
            from_profile: hash(0),
            to_profile: hash(1),
            reason: Class::RateLimit.into(),
            attempt: 2,
            max: 3,
            remaining_profiles: 1,
        }]
    );
    // No wait between the 429 and the next profile: rotation is immediate.
    assert!(run.waits.is_empty());
    assert_eq!(run.attempts[1].try_n, 1);
    assert!(matches!(
        &run.effects[..],
        [Effect::MarkExhausted { profile_id, source: ResetSource::ResetsIn, code: Some(429), .. }, Effect::MarkOk { .. }]
            if profile_id == "p0"
    ));
    let cooldown = run.kinds("profile_cooldown");
    assert!(
        matches!(cooldown[..], [EventKind::ProfileCooldown { until, .. }] if (until - (T0 + LATENCY + 3600.0)).abs() < 1e-6)
    );
}

#[test]
fn rotate_cap_honored() {
    let mut e = engine(pool(3), Policy::default());
    let resets = [7200.0, 1800.0, 5400.0];
    let run = drive(
        &mut e,
        T0,
        |plan, now| {
            let i: usize = plan.profile.id[1..].parse().unwrap();
            usage_limit(resets[i], now)
        },
        never_refresh,
    );
    assert_eq!(run.attempted(), ["p0", "p1", "p2"]);
    assert_eq!(run.end.outcome, RequestOutcome::PoolExhausted);
    assert_eq!(crate::error::exit_code_of(run.end.outcome), 3);
    assert_eq!(run.kinds("profile_rotation").len(), 2);
    // p1 was marked at T0 + 2 × latency with 1800 s to go: the earliest.
    let expected = T0 + 2.0 * LATENCY + 1800.0;
    assert!((run.end.next_available_at.unwrap() - expected).abs() < 1e-6);
    assert!(matches!(
        run.kinds("request_end")[..],
        [EventKind::RequestEnd {
            next_available_at: Some(_),
            attempts: 3,
            rotations: 2,
            ..
        }]
    ));
    let message = crate::error::request_result(&run.end, "openai-codex")
        .unwrap_err()
        .to_string();
    assert!(
        message.contains("next available at 2026-11-28T04:30:00Z (in 29m59s)"),
        "{message}"
    );
}

#[test]
fn per_profile_retry_budget() {
    for budget in [1, 2, 4, 6] {
        let policy = Policy {
            attempts_per_profile: budget,
            ..Policy::default()
        };
        let mut e = engine(pool(3), policy);
        let run = drive(
            &mut e,
            T0,
            |_, now| response(503, "Service Unavailable", now),
            never_refresh,
        );
        assert_eq!(run.attempted(), vec!["p0".to_string(); budget as usize]);
        assert_eq!(
            run.attempts
                .iter()
                .map(|a| (a.try_n, a.of))
                .collect::<Vec<_>>(),
            (1..=budget).map(|t| (t, budget)).collect::<Vec<_>>()
        );
        assert!(run.kinds("profile_rotation").is_empty());
        assert!(run.kinds("profile_cooldown").is_empty());
        assert!(
            !run.effects
                .iter()
                .any(|e| matches!(e, Effect::MarkExhausted { .. } | Effect::MarkDead { .. }))
        );
        assert_eq!(run.end.outcome, RequestOutcome::UpstreamUnavailable);
        assert_eq!(crate::error::exit_code_of(run.end.outcome), 4);
        // Exponential backoff with jitter between half and all of the delay.
        assert_eq!(run.waits.len(), budget as usize - 1);
        for (k, wait) in run.waits.iter().enumerate() {
            let delay = 2f64.powi(k as i32).min(30.0);
            assert!(*wait >= delay / 2.0 && *wait <= delay, "wait {k}: {wait}");
        }
    }
}

#[test]
fn fill_first_still_works() {
    let mut profiles = pool(3);
    let mut now = T0;
    let mut served = vec![];
    // Request 1 at T0: p0 is out of quota for an hour.
    for (k, at) in [T0, T0 + 60.0, T0 + 1800.0, T0 + 3700.0]
        .into_iter()
        .enumerate()
    {
        now = now.max(at);
        let mut e = Engine::new(
            format!("req-{k}"),
            "openai-codex",
            profiles.clone(),
            Policy::default(),
            k as u64,
        );
        let run = drive(
            &mut e,
            now,
            |plan, t| {
                if plan.profile.id == "p0" && k == 0 {
                    usage_limit(3600.0, t)
                } else {
                    Outcome::Success
                }
            },
            never_refresh,
        );
        for effect in &run.effects {
            apply(effect, &Guard::Always, &mut profiles);
        }
        assert_eq!(run.end.outcome, RequestOutcome::Success);
        served.push((run.attempted(), run.kinds("profile_rotation").len()));
        now = run.now;
    }
    let ids = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    assert_eq!(
        served,
        [
            (ids(&["p0", "p1"]), 1),
            // While p0 cools, later requests go straight to p1: no attempt on p0, no rotation.
            (ids(&["p1"]), 0),
            (ids(&["p1"]), 0),
            // After p0's reset has passed on the clock, fill_first returns to it.
            (ids(&["p0"]), 0),
        ]
    );
}

// ---- One test per rule ---------------------------------------------------------------------

#[test]
fn throttled_waits_then_cools_on_the_second_429() {
    let mut e = engine(pool(2), Policy::default());
    let run = drive(
        &mut e,
        T0,
        |plan, now| {
            if plan.profile.id == "p0" {
                classify_response(
                    Some(429),
                    &[("Retry-After", "7")],
                    "",
                    now,
                    &Redactor::new(),
                )
            } else {
                Outcome::Success
            }
        },
        never_refresh,
    );
    assert_eq!(run.attempted(), ["p0", "p0", "p1"]);
    assert_eq!(run.waits, [7.0]);
    let failed = run.kinds("attempt_failed");
    assert!(matches!(
        failed[0],
        EventKind::AttemptFailed {
            class: Class::Throttled,
            retry_in_ms: Some(7000),
            ..
        }
    ));
    assert!(matches!(
        failed[1],
        EventKind::AttemptFailed {
            class: Class::Throttled,
            retry_in_ms: None,
            ..
        }
    ));
    assert!(matches!(
        run.kinds("profile_rotation")[..],
        [EventKind::ProfileRotation {
            reason: RotationReason::Failure(Class::Throttled),
            ..
        }]
    ));
    // Retry-After of the second 429 is the cooldown's end.
    assert!(matches!(
        run.effects[0],
        Effect::MarkExhausted {
            source: ResetSource::RetryAfter,
            ..
        }
    ));
}

#[test]
fn waits_are_capped_by_max_wait() {
    let policy = Policy {
        max_wait_s: 5.0,
        attempts_per_profile: 2,
        ..Policy::default()
    };
    let mut e = engine(pool(1), policy);
    let run = drive(
        &mut e,
        T0,
        |_, now| {
            classify_response(
                Some(503),
                &[("retry-after", "3600")],
                "",
                now,
                &Redactor::new(),
            )
        },
        never_refresh,
    );
    assert_eq!(run.waits, [5.0]);
    assert_eq!(run.end.outcome, RequestOutcome::UpstreamUnavailable);
}

#[test]
fn the_budget_resets_on_rotation() {
    let mut e = engine(pool(2), Policy::default());
    let mut p0 = 0;
    let run = drive(
        &mut e,
        T0,
        |plan, now| match plan.profile.id.as_str() {
            "p0" => {
                p0 += 1;
                if p0 < 3 {
                    response(502, "", now)
                } else {
                    usage_limit(60.0, now)
                }
            }
            _ => response(503, "", now),
        },
        never_refresh,
    );
    let on = |id: &str| run.attempts.iter().filter(|a| a.profile.id == id).count();
    assert_eq!((on("p0"), on("p1")), (3, 4));
    assert_eq!(run.attempts.last().map(|a| (a.try_n, a.n)), Some((4, 7)));
    assert_eq!(run.end.outcome, RequestOutcome::UpstreamUnavailable);
}

#[test]
fn oauth_401_refreshes_once_then_cools_and_rotates() {
    let mut e = engine(pool(2), Policy::default());
    let run = drive(
        &mut e,
        T0,
        |plan, now| {
            if plan.profile.id == "p0" {
                response(401, "{}", now)
            } else {
                Outcome::Success
            }
        },
        |_| RefreshResult::Refreshed,
    );
    assert_eq!(run.attempted(), ["p0", "p0", "p1"]);
    assert_eq!(run.refreshes, ["p0"]);
    assert!(matches!(
        run.kinds("token_refresh")[..],
        [EventKind::TokenRefresh {
            outcome: events::RefreshOutcome::Refreshed,
            ..
        }]
    ));
    let Effect::MarkExhausted {
        until,
        at,
        source,
        code,
        ..
    } = &run.effects[0]
    else {
        panic!("{:?}", run.effects)
    };
    assert_eq!(
        (*source, *code, until - at),
        (ResetSource::Ttl, Some(401), 300.0)
    );
    assert!(matches!(
        run.kinds("profile_rotation")[..],
        [EventKind::ProfileRotation {
            reason: RotationReason::Failure(Class::Auth),
            ..
        }]
    ));
}

#[test]
fn api_key_403_cools_for_an_hour_without_refresh() {
    let mut profiles = pool(2);
    profiles[0].auth_type = AuthType::ApiKey;
    profiles[0].has_refresh_token = false;
    let mut e = engine(profiles, Policy::default());
    let run = drive(
        &mut e,
        T0,
        |plan, now| {
            if plan.profile.id == "p0" {
                response(403, "forbidden", now)
            } else {
                Outcome::Success
            }
        },
        never_refresh,
    );
    assert_eq!(run.attempted(), ["p0", "p1"]);
    let Effect::MarkExhausted { until, at, .. } = &run.effects[0] else {
        panic!()
    };
    assert_eq!(until - at, 3600.0);
}

#[test]
fn dead_tokens_are_marked_dead() {
    let mut e = engine(pool(2), Policy::default());
    let body = r#"{"error":{"code":"token_invalidated","message":"Your authentication token has been invalidated."}}"#;
    let run = drive(
        &mut e,
        T0,
        |plan, now| {
            if plan.profile.id == "p0" {
                response(401, body, now)
            } else {
                Outcome::Success
            }
        },
        never_refresh,
    );
    assert_eq!(run.attempted(), ["p0", "p1"]);
    assert!(
        matches!(&run.effects[0], Effect::MarkDead { reason, code: Some(401), .. } if reason == "token_invalidated")
    );
    assert!(
        e.profiles()
            .iter()
            .any(|p| p.id == "p0" && p.status.last_status == Some(LastStatus::Dead))
    );
}

#[test]
fn an_expiring_token_is_refreshed_before_the_attempt() {
    let mut profiles = pool(2);
    profiles[0].claims = Some(Box::new(TokenClaims {
        expires_at: Some(T0 + 60.0),
        ..TokenClaims::default()
    }));
    let mut e = engine(profiles.clone(), Policy::default());
    let run = drive(
        &mut e,
        T0,
        |_, _| Outcome::Success,
        |_| RefreshResult::Adopted,
    );
    assert_eq!(
        (run.refreshes.as_slice(), run.attempted()),
        (&["p0".to_string()][..], vec!["p0".to_string()])
    );
    assert_eq!(run.events[1].kind.name(), "token_refresh");

    // A refresh that finds the grant revoked marks the profile dead and rotates.
    let mut e = engine(profiles.clone(), Policy::default());
    let dead = |_: &ProfileRef| RefreshResult::Failed {
        dead: true,
        reason: Some("refresh_token_reused".into()),
        message: None,
    };
    let run = drive(&mut e, T0, |_, _| Outcome::Success, dead);
    assert_eq!(run.attempted(), ["p1"]);
    assert!(
        matches!(&run.effects[0], Effect::MarkDead { reason, .. } if reason == "refresh_token_reused")
    );
    assert!(matches!(
        run.kinds("profile_rotation")[..],
        [EventKind::ProfileRotation {
            reason: RotationReason::Failure(Class::AuthDead),
            attempt: 2,
            ..
        }]
    ));

    // A refresh that fails for a passing reason still uses the token while it is valid.
    let mut e = engine(profiles, Policy::default());
    let flaky = |_: &ProfileRef| RefreshResult::Failed {
        dead: false,
        reason: None,
        message: Some("timeout".into()),
    };
    let run = drive(&mut e, T0, |_, _| Outcome::Success, flaky);
    assert_eq!(run.attempted(), ["p0"]);
}

#[test]
fn request_errors_end_at_once_without_marks() {
    let mut e = engine(pool(3), Policy::default());
    let run = drive(
        &mut e,
        T0,
        |_, now| {
            response(
                400,
                r#"{"error":{"type":"invalid_request_error","message":"bad"}}"#,
                now,
            )
        },
        never_refresh,
    );
    assert_eq!(run.attempted(), ["p0"]);
    assert_eq!(run.end.outcome, RequestOutcome::RequestRejected);
    assert_eq!(crate::error::exit_code_of(run.end.outcome), 5);
    assert!(
        !run.effects
            .iter()
            .any(|e| matches!(e, Effect::MarkExhausted { .. } | Effect::MarkDead { .. }))
    );
    let err = crate::error::request_result(&run.end, "openai-codex").unwrap_err();
    assert_eq!(err.exit_code(), 5);
    assert!(
        err.to_string()
            .contains("400 request invalid_request_error: bad"),
        "{err}"
    );
}

#[test]
fn failures_after_output_are_never_retried() {
    let mut e = engine(pool(3), Policy::default());
    let run = drive(
        &mut e,
        T0,
        |_, _| {
            Outcome::Failure(classify_transport(
                TransportFailure::StreamCut,
                true,
                None,
                &Redactor::new(),
            ))
        },
        never_refresh,
    );
    assert_eq!(run.attempted(), ["p0"]);
    assert_eq!(run.end.outcome, RequestOutcome::UpstreamUnavailable);
}

#[test]
fn a_wait_past_the_deadline_ends_the_request() {
    let policy = Policy {
        deadline_s: Some(2.0),
        ..Policy::default()
    };
    let mut e = engine(pool(1), policy);
    let run = drive(
        &mut e,
        T0,
        |_, now| {
            classify_response(
                Some(503),
                &[("retry-after", "5")],
                "",
                now,
                &Redactor::new(),
            )
        },
        never_refresh,
    );
    assert_eq!(run.attempted(), ["p0"]);
    assert!(matches!(
        run.kinds("attempt_failed")[..],
        [EventKind::AttemptFailed {
            retry_in_ms: None,
            ..
        }]
    ));
    assert_eq!(run.end.outcome, RequestOutcome::UpstreamUnavailable);
}

#[test]
fn a_cooldown_past_the_deadline_cools_but_announces_no_rotation() {
    // The 429 arrives after the deadline: the profile is still cooled (that is true of it),
    // but no other profile is reached, so no rotation is announced.
    let policy = Policy {
        deadline_s: Some(0.05),
        ..Policy::default()
    };
    let mut e = engine(pool(3), policy);
    let run = drive(&mut e, T0, |_, now| usage_limit(60.0, now), never_refresh);
    assert_eq!(run.attempted(), ["p0"]);
    assert!(run.kinds("profile_cooldown").len() == 1);
    assert!(run.kinds("profile_rotation").is_empty());
    assert_eq!(run.end.outcome, RequestOutcome::UpstreamUnavailable);
}

#[test]
fn round_robin_moves_each_pick_to_the_end() {
    let policy = Policy {
        strategy: Strategy::RoundRobin,
        ..Policy::default()
    };
    let mut e = engine(pool(3), policy);
    let run = drive(
        &mut e,
        T0,
        |plan, now| {
            if plan.profile.id == "p0" {
                usage_limit(60.0, now)
            } else {
                Outcome::Success
            }
        },
        never_refresh,
    );
    let moves: Vec<&str> = run
        .effects
        .iter()
        .filter_map(|e| match e {
            Effect::MoveToEnd { profile_id } => Some(profile_id.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(moves, ["p0", "p1"]);
    let order: Vec<(&str, i64, usize)> = e
        .profiles()
        .iter()
        .map(|p| (p.id.as_str(), p.priority, p.position))
        .collect();
    assert_eq!(order, [("p2", 0, 1), ("p0", 1, 2), ("p1", 2, 3)]);
}

#[test]
fn an_empty_pool_is_exhausted_before_any_attempt() {
    let mut profiles = pool(2);
    profiles[0].status.last_status = Some(LastStatus::Dead);
    profiles[1].status = crate::pool::Status {
        last_status: Some(LastStatus::Exhausted),
        last_status_at: Some(T0 - 100.0),
        last_error_code: Some(402),
        ..Default::default()
    };
    let mut e = engine(profiles, Policy::default());
    let run = drive(
        &mut e,
        T0,
        |_, _| panic!("no attempt expected"),
        never_refresh,
    );
    assert_eq!(run.end.outcome, RequestOutcome::PoolExhausted);
    assert_eq!(run.end.next_available_at, Some(T0 + 3500.0));
    assert_eq!(run.end.profile, None);
    assert!(matches!(
        run.kinds("request_start")[..],
        [EventKind::RequestStart {
            eligible_profiles: 0,
            max_profiles: 0,
            ..
        }]
    ));
}

#[test]
fn max_profiles_caps_the_rotation() {
    let policy = Policy {
        max_profiles: Some(2),
        ..Policy::default()
    };
    let mut e = engine(pool(4), policy);
    let run = drive(&mut e, T0, |_, now| response(402, "", now), never_refresh);
    assert_eq!(run.attempted(), ["p0", "p1"]);
    assert!(matches!(
        run.kinds("profile_rotation")[..],
        [EventKind::ProfileRotation {
            attempt: 2,
            max: 2,
            remaining_profiles: 0,
            ..
        }]
    ));
    assert_eq!(run.end.outcome, RequestOutcome::PoolExhausted);
    // p2 and p3 are still healthy: available now.
    assert_eq!(run.end.next_available_at, Some(run.now));
}

#[test]
fn inputs_out_of_order_are_errors_not_panics() {
    let mut e = engine(pool(1), Policy::default());
    assert!(e.on_outcome(Outcome::Success, T0).is_err());
    assert!(e.on_waited(T0).is_err());
    let step = e.start(T0).unwrap();
    assert!(matches!(step.action, Action::Attempt(_)));
    assert!(e.start(T0).is_err());
    assert!(e.on_refresh(RefreshResult::Refreshed, T0).is_err());
    e.on_outcome(Outcome::Success, T0).unwrap();
    let err = e.on_outcome(Outcome::Success, T0).unwrap_err();
    assert_eq!(err.to_string(), "engine: on_outcome called while done");
}

// ---- Properties ----------------------------------------------------------------------------

mod properties {
    use super::*;
    use crate::pool::Strategy as Pick;
    use proptest::prelude::{
        Just, ProptestConfig, any, prop_assert, prop_assert_eq, prop_oneof, proptest,
    };
    use proptest::strategy::Strategy;
    use std::collections::{HashMap, HashSet};

    #[derive(Debug, Clone, Copy)]
    enum Scripted {
        Ok,
        UsageLimit,
        Throttle,
        Billing,
        Unauthorized,
        Forbidden,
        Revoked,
        Unavailable,
        Timeout,
        BadRequest,
        CutAfterOutput,
    }

    fn scripted() -> impl Strategy<Value = Scripted> {
        prop_oneof![
            3 => Just(Scripted::Ok),
            2 => Just(Scripted::UsageLimit),
            1 => Just(Scripted::Throttle),
            1 => Just(Scripted::Billing),
            1 => Just(Scripted::Unauthorized),
            1 => Just(Scripted::Forbidden),
            1 => Just(Scripted::Revoked),
            3 => Just(Scripted::Unavailable),
            1 => Just(Scripted::Timeout),
            1 => Just(Scripted::BadRequest),
            1 => Just(Scripted::CutAfterOutput),
        ]
    }

    fn outcome(s: Scripted, now: Epoch) -> Outcome {
        match s {
            Scripted::Ok => Outcome::Success,
            Scripted::UsageLimit => usage_limit(900.0, now),
            Scripted::Throttle => classify_response(
                Some(429),
                &[("retry-after", "2")],
                "",
                now,
                &Redactor::new(),
            ),
            Scripted::Billing => response(402, "", now),
            Scripted::Unauthorized => response(401, "", now),
            Scripted::Forbidden => response(403, "", now),
            Scripted::Revoked => response(401, r#"{"error":{"code":"token_revoked"}}"#, now),
            Scripted::Unavailable => response(503, "", now),
            Scripted::Timeout => Outcome::Failure(classify_transport(
                TransportFailure::Timeout,
                false,
                None,
                &Redactor::new(),
            )),
            Scripted::BadRequest => response(422, "", now),
            Scripted::CutAfterOutput => Outcome::Failure(classify_transport(
                TransportFailure::StreamCut,
                true,
                None,
                &Redactor::new(),
            )),
        }
    }

    #[derive(Debug, Clone)]
    struct Case {
        profiles: Vec<Profile>,
        policy: Policy,
        scripts: Vec<Vec<Scripted>>,
        refresh: Vec<u8>,
        seed: u64,
    }

    fn arb_profile(i: usize) -> impl Strategy<Value = Profile> {
        (0..6u8, any::<bool>(), 0..4u8, 0..20u64).prop_map(
            move |(state, oauth, expiry, requests)| {
                let mut p = profile(&format!("p{i}"), i as i64);
                p.position = i + 1;
                p.request_count = requests;
                if !oauth {
                    p.auth_type = AuthType::ApiKey;
                    p.has_refresh_token = false;
                }
                match state {
                    0 => p.status.last_status = Some(LastStatus::Dead),
                    1 => {
                        p.status.last_status = Some(LastStatus::Exhausted);
                        p.status.last_error_reset_at = Some(T0 + 600.0);
                    }
                    2 if !oauth => p.has_token = false,
                    _ => {}
                }
                if oauth && expiry == 0 {
                    p.claims = Some(Box::new(TokenClaims {
                        expires_at: Some(T0 + 30.0),
                        ..TokenClaims::default()
                    }));
                }
                p
            },
        )
    }

    fn arb_case() -> impl Strategy<Value = Case> {
        (1..7usize)
            .prop_flat_map(|n| {
                let profiles: Vec<_> = (0..n).map(arb_profile).collect();
                let scripts =
                    proptest::collection::vec(proptest::collection::vec(scripted(), 0..8), n);
                let strategy = prop_oneof![
                    Just(Pick::FillFirst),
                    Just(Pick::RoundRobin),
                    Just(Pick::LeastUsed),
                    Just(Pick::Random),
                ];
                let policy = (
                    strategy,
                    1..6u32,
                    proptest::option::of(1..8usize),
                    proptest::option::of(1.0..120.0f64),
                )
                    .prop_map(|(strategy, attempts, max_profiles, deadline)| Policy {
                        strategy,
                        attempts_per_profile: attempts,
                        max_profiles,
                        deadline_s: deadline,
                        ..Policy::default()
                    });
                (
                    profiles,
                    policy,
                    scripts,
                    proptest::collection::vec(0..3u8, 0..8),
                    any::<u64>(),
                )
            })
            .prop_map(|(profiles, policy, scripts, refresh, seed)| Case {
                profiles,
                policy,
                scripts,
                refresh,
                seed,
            })
    }

    /// Runs a case; checks at every attempt that the profile was available in the driver's own
    /// copy of the pool (with every effect applied so far).
    fn run_case(case: &Case) -> (Run, Vec<Profile>) {
        run_case_sharing(case, false)
    }

    /// [`run_case`], with the driver's copy handed to the engine as news at every step when
    /// `share` is set: a shared store that holds this request's own effects only.
    fn run_case_sharing(case: &Case, share: bool) -> (Run, Vec<Profile>) {
        let mut cursor: HashMap<String, usize> = HashMap::new();
        let mut refreshes = case.refresh.iter().copied().cycle();
        let mut e = Engine::new(
            "r",
            "openai-codex",
            case.profiles.clone(),
            case.policy.clone(),
            case.seed,
        );
        let respond = |plan: &AttemptPlan, now: Epoch| {
            let i: usize = plan.profile.id[1..].parse().unwrap();
            let k = cursor.entry(plan.profile.id.clone()).or_default();
            // A script that runs out answers success.
            let s = case.scripts[i].get(*k).copied().unwrap_or(Scripted::Ok);
            *k += 1;
            outcome(s, now)
        };
        let refresh = |_: &ProfileRef| match refreshes.next() {
            Some(1) => RefreshResult::Failed {
                dead: true,
                reason: None,
                message: None,
            },
            Some(2) => RefreshResult::Failed {
                dead: false,
                reason: None,
                message: None,
            },
            _ => RefreshResult::Refreshed,
        };
        let mut ports = TestPorts::new(T0, respond, refresh);
        ports.shadow = Some(case.profiles.clone());
        ports.share = share;
        ports.max_wait = case.policy.max_wait_s;
        let run = run_with(&mut e, &mut ports);
        let shadow = ports.shadow.take().unwrap_or_default();
        (run, shadow)
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

        #[test]
        fn engine_invariants(case in arb_case()) {
            let (run, shadow) = run_case(&case);
            let budget = case.policy.attempts_per_profile.max(1) as usize;

            // A profile is entered once: what happens on it (refreshes, attempts) forms one
            // contiguous run. A profile can be entered without an attempt (its refresh failed).
            let mut entered: Vec<&str> = run
                .events
                .iter()
                .filter_map(|e| match &e.kind {
                    EventKind::Attempt { profile, .. } | EventKind::TokenRefresh { profile, .. } => Some(profile.as_str()),
                    _ => None,
                })
                .collect();
            entered.dedup();
            let unique: HashSet<&str> = entered.iter().copied().collect();
            prop_assert_eq!(unique.len(), entered.len(), "a profile was entered twice: {:?}", entered);

            // Never more attempts on one profile than its budget; `try` counts them.
            for hash in &unique {
                let tries: Vec<u32> = run.attempts.iter().filter(|a| a.profile.hash == *hash).map(|a| a.try_n).collect();
                prop_assert!(tries.len() <= budget);
                let expected: Vec<u32> = (1..=tries.len() as u32).collect();
                prop_assert_eq!(tries, expected);
            }

            // The profile-try cap.
            let eligible = case.profiles.iter().filter(|p| p.is_available(T0, None)).count();
            let cap = case.policy.max_profiles.map_or(eligible, |m| m.min(eligible));
            prop_assert!(entered.len() <= cap);

            // Every request ends in an outcome of docs/exit-codes.md, reported once, last.
            prop_assert!([0, 3, 4, 5].contains(&crate::error::exit_code_of(run.end.outcome)));
            prop_assert_eq!(run.kinds("request_end").len(), 1);
            prop_assert_eq!(run.events.last().map(|e| e.kind.name()), Some("request_end"));
            prop_assert_eq!(run.kinds("request_start").len(), 1);
            prop_assert_eq!(run.kinds("profile_rotation").len(), entered.len().saturating_sub(1));
            if run.end.outcome == RequestOutcome::PoolExhausted {
                prop_assert_eq!(run.end.next_available_at, crate::pool::next_available_at(&shadow, run.now, None));
            }
            // Transient failures never cool or kill a profile.
            let transient_only = run.events.iter().all(|e| match &e.kind {
                EventKind::AttemptFailed { class, .. } => *class == Class::Transient,
                EventKind::TokenRefresh { outcome, .. } => *outcome != events::RefreshOutcome::Failed,
                _ => true,
            });
            if transient_only {
                let marked = run.effects.iter().any(|e| matches!(e, Effect::MarkExhausted { .. } | Effect::MarkDead { .. }));
                prop_assert!(!marked);
            }
            // No secret or label reaches a JSON event.
            for event in &run.events {
                let line = serde_json::to_string(event).unwrap();
                prop_assert!(!line.contains("@example.com"), "{}", line);
            }
        }

        #[test]
        fn a_shared_store_holding_only_its_own_effects_changes_nothing(case in arb_case()) {
            // The engine applies its effects to its snapshot, the driver to the store; taking
            // the store's copy back at every step must be a no-op.
            let (alone, _) = run_case(&case);
            let (shared, _) = run_case_sharing(&case, true);
            prop_assert_eq!(alone, shared);
        }

        #[test]
        fn identical_seeds_give_identical_traces(case in arb_case()) {
            let (a, _) = run_case(&case);
            let (b, _) = run_case(&case);
            prop_assert_eq!(a, b);
        }
    }
}

// ---- Newer Hermes: failures about one model -------------------------------------------------

/// A pool of `n` under `rules`, for `provider`.
fn rules_pool(n: usize, provider: &str, rules: crate::pool::HermesRules) -> Vec<Profile> {
    let mut profiles = pool(n);
    for p in &mut profiles {
        p.provider = provider.into();
        p.rules = rules;
    }
    crate::pool::link(&mut profiles);
    profiles
}

const ANTHROPIC_429: &str = r#"{"type":"error","error":{"type":"rate_limit_error","message":"Number of request tokens has exceeded your per-minute rate limit"}}"#;
const CODEX_ENTITLEMENT: &str = r#"{"detail":"The 'gpt-5.5-pro' model is not supported when using Codex with a ChatGPT account."}"#;

/// One request for `model` whose first profile answers `status`/`body` twice and the rest succeed.
fn model_run(
    provider: &str,
    rules: crate::pool::HermesRules,
    model: Option<&str>,
    status: u16,
    body: &str,
) -> Run {
    let mut e = Engine::new(
        "req-1",
        provider,
        rules_pool(3, provider, rules),
        Policy::default(),
        7,
    )
    .with_model(model);
    drive(
        &mut e,
        T0,
        |plan, now| {
            if plan.profile.id == "p0" {
                response(status, body, now)
            } else {
                Outcome::Success
            }
        },
        never_refresh,
    )
}

#[test]
fn an_anthropic_429_cools_only_the_model_under_newer_rules() {
    use crate::pool::HermesRules::{Main, V019};
    let run = model_run(
        "anthropic",
        Main,
        Some("claude-opus-4-5"),
        429,
        ANTHROPIC_429,
    );
    assert_eq!(
        run.attempted(),
        ["p0", "p0", "p1"],
        "a plain 429 is retried once first"
    );
    assert_eq!(run.end.outcome, RequestOutcome::Success);
    match &run.effects[..] {
        [
            Effect::CoolModel {
                profile_id,
                model,
                until,
                reason,
                ..
            },
            Effect::MarkOk { .. },
        ] => {
            assert_eq!(
                (profile_id.as_str(), model.as_str(), reason.as_str()),
                ("p0", "claude-opus-4-5", "throttled")
            );
            // The TTL of a 429 under newer Hermes: an hour (the pool has three credentials),
            // from the second 429 (after a jittered backoff of at most a few seconds).
            assert!(*until > T0 + 3600.0 && *until < T0 + 3610.0, "{until}");
        }
        other => panic!("{other:?}"),
    }
    let cooldowns = run.kinds("profile_cooldown");
    assert!(
        matches!(cooldowns[..], [EventKind::ProfileCooldown { model: Some(m), .. }] if m == "claude-opus-4-5"),
        "{cooldowns:?}"
    );

    // The same answers under 0.19's rules, or for a request naming no model: the account cools.
    for (rules, model) in [(V019, Some("claude-opus-4-5")), (Main, None)] {
        let run = model_run("anthropic", rules, model, 429, ANTHROPIC_429);
        assert!(
            matches!(&run.effects[..], [Effect::MarkExhausted { profile_id, .. }, Effect::MarkOk { .. }] if profile_id == "p0"),
            "{rules:?} {model:?}: {:?}",
            run.effects
        );
        assert!(matches!(
            run.kinds("profile_cooldown")[..],
            [EventKind::ProfileCooldown { model: None, .. }]
        ));
    }
    // A 429 that says the account's quota is spent is about the account, not the model.
    let spent = r#"{"type":"error","error":{"type":"usage_limit_reached","message":"The usage limit has been reached"}}"#;
    let run = model_run("anthropic", Main, Some("claude-opus-4-5"), 429, spent);
    assert!(
        matches!(&run.effects[0], Effect::MarkExhausted { .. }),
        "{:?}",
        run.effects
    );
    // Another provider's 429 is about the account, whatever the rules.
    let run = model_run(
        "openrouter",
        Main,
        Some("m"),
        429,
        r#"{"error":{"message":"slow down"}}"#,
    );
    assert!(
        matches!(&run.effects[0], Effect::MarkExhausted { .. }),
        "{:?}",
        run.effects
    );
}

#[test]
fn a_model_the_plan_lacks_is_benched_on_that_account_only() {
    use crate::pool::HermesRules::{Main, V019};
    let run = model_run(
        "openai-codex",
        Main,
        Some("gpt-5.5-pro"),
        400,
        CODEX_ENTITLEMENT,
    );
    assert_eq!(
        run.attempted(),
        ["p0", "p1"],
        "no retry: the plan will not change"
    );
    assert_eq!(run.end.outcome, RequestOutcome::Success);
    match &run.effects[..] {
        [
            Effect::CoolModel {
                model,
                until,
                capped,
                reason,
                ..
            },
            Effect::MarkOk { .. },
        ] => {
            assert_eq!(
                (model.as_str(), reason.as_str()),
                ("gpt-5.5-pro", "model_entitlement")
            );
            // Newer Hermes benches it a year; rotor never stores more than --max-cooldown.
            assert!(*capped);
            assert!((until - (T0 + LATENCY + DEFAULT_MAX_COOLDOWN_S)).abs() < 1e-6);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        run.kinds("profile_rotation")[..],
        [&EventKind::ProfileRotation {
            from_profile: hash(0),
            to_profile: hash(1),
            reason: Class::Entitlement.into(),
            attempt: 2,
            max: 3,
            remaining_profiles: 1,
        }]
    );
    // Under 0.19 there is no place to say "not this model here": rotate, write nothing.
    let run = model_run(
        "openai-codex",
        V019,
        Some("gpt-5.5-pro"),
        400,
        CODEX_ENTITLEMENT,
    );
    assert_eq!(run.attempted(), ["p0", "p1"]);
    assert!(
        matches!(&run.effects[..], [Effect::MarkOk { .. }]),
        "{:?}",
        run.effects
    );
    // Any other 400 is still the request's fault.
    let run = model_run(
        "openai-codex",
        Main,
        Some("gpt-5.5"),
        400,
        r#"{"detail":"bad input"}"#,
    );
    assert_eq!(run.end.outcome, RequestOutcome::RequestRejected);
}

#[test]
fn a_model_cooldown_keeps_requests_for_that_model_off_and_spreads_to_twins() {
    use crate::pool::HermesRules::Main;
    let mut profiles = rules_pool(3, "anthropic", Main);
    profiles[0].account = Some("same".into());
    profiles[2].account = Some("same".into());
    crate::pool::link(&mut profiles);
    let mut e = Engine::new("req-1", "anthropic", profiles, Policy::default(), 7)
        .with_model(Some("claude-opus-4-5"));
    let run = drive(
        &mut e,
        T0,
        |plan, now| match plan.profile.id.as_str() {
            "p0" => response(429, ANTHROPIC_429, now),
            "p1" => response(429, ANTHROPIC_429, now),
            _ => Outcome::Success,
        },
        never_refresh,
    );
    // p0's twin p2 shares its quota: cooled for the model with it, never tried; p1 cools too.
    assert_eq!(run.attempted(), ["p0", "p0", "p1", "p1"]);
    assert_eq!(run.end.outcome, RequestOutcome::PoolExhausted);
    let cooled: Vec<&str> = run
        .effects
        .iter()
        .filter_map(|e| match e {
            Effect::CoolModel { profile_id, .. } => Some(profile_id.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(cooled, ["p0", "p2", "p1"]);
    // The pool is out for this model only: next_available_at is when the first of the
    // model's cooldowns ends.
    let first_end = run
        .effects
        .iter()
        .filter_map(|e| match e {
            Effect::CoolModel { until, .. } => Some(*until),
            _ => None,
        })
        .fold(f64::INFINITY, f64::min);
    assert_eq!(run.end.next_available_at, Some(first_end));
    let pool = e.into_profiles();
    assert!(
        pool.iter()
            .all(|p| p.is_available(T0 + 1.0, Some("claude-sonnet-4-5")))
    );
    assert!(
        pool.iter()
            .all(|p| !p.is_available(T0 + 1.0, Some("claude-opus-4-5")))
    );
}
