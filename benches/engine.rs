//! Engine decisions per second on a 10-profile pool, through the one drive loop. A decision is
//! one call into the engine (`start`, `on_outcome`, `on_waited`, `on_refresh`) answered with a
//! `Step`.
//!
//! `rotate_through_10` is the worst common case: nine profiles answer 429 `usage_limit_reached`
//! and the tenth succeeds (1 start + 10 outcomes = 11 decisions, 9 rotations); the outcomes
//! are classified once up front so only the engine is measured. `classify_codex_429` measures
//! the classifier on its own.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use rotor::drive::{Discard, Ports, drive, now_or_never};
use rotor::engine::{
    AttemptPlan, Effect, Engine, Outcome, Policy, ProfileRef, RefreshResult, classify_response,
};
use rotor::pool::{AuthType, HermesRules, Profile, Status, TtlRule, profile_hash};
use rotor::sanitize::Redactor;
use std::hint::black_box;

const T0: f64 = 1_795_838_400.0;
const BODY: &str = r#"{"error":{"type":"usage_limit_reached","message":"The usage limit has been reached","resets_in_seconds":8100}}"#;
const NO_HEADERS: &[(&str, &str)] = &[];

fn pool(n: usize) -> Vec<Profile> {
    (0..n)
        .map(|i| {
            let id = format!("profile-{i}");
            Profile {
                provider: "openai-codex".into(),
                position: i + 1,
                hash: profile_hash(&id),
                label: format!("user{i}@example.com"),
                id,
                auth_type: AuthType::Oauth,
                priority: i as i64,
                source: Some("manual:device_code".into()),
                has_token: true,
                has_refresh_token: true,
                status: Status::default(),
                request_count: 0,
                base_url: None,
                claims: None,
                status_cleared_at: None,
                failure_reason: None,
                model_cooldowns: Vec::new(),
                ttl: TtlRule::V019,
                rules: HermesRules::V019,
                account: None,
                twin: None,
                env_key: None,
                origin: None,
            }
        })
        .collect()
}

/// The ports of the benchmark: a virtual clock, nine usage limits then a success, and a count
/// of the decisions the engine took (one per port call that hands it an input, plus `start`).
struct BenchPorts<'a> {
    now: f64,
    exhausted: &'a Outcome,
    decisions: u64,
}

impl Ports for BenchPorts<'_> {
    fn now(&self) -> f64 {
        self.now
    }

    async fn sleep(&mut self, seconds: f64) {
        self.now += seconds;
        self.decisions += 1;
    }

    async fn attempt(
        &mut self,
        plan: &AttemptPlan,
        _deadline: Option<f64>,
    ) -> rotor::Result<Outcome> {
        self.now += 0.1;
        self.decisions += 1;
        Ok(if plan.n < 10 {
            self.exhausted.clone()
        } else {
            Outcome::Success
        })
    }

    async fn refresh(&mut self, _profile: &ProfileRef) -> rotor::Result<RefreshResult> {
        self.decisions += 1;
        Ok(RefreshResult::Refreshed)
    }

    async fn persist(&mut self, effects: &[Effect]) -> rotor::Result<()> {
        black_box(effects);
        Ok(())
    }
}

/// Runs one request to its end through the drive loop of every driver; returns the number of
/// decisions taken.
fn request(profiles: &[Profile], exhausted: &Outcome, seed: u64) -> u64 {
    let mut engine = Engine::new(
        "bench",
        "openai-codex",
        profiles.to_vec(),
        Policy::default(),
        seed,
    );
    let mut ports = BenchPorts {
        now: T0,
        exhausted,
        decisions: 1,
    };
    match now_or_never(drive(&mut engine, &mut ports, &mut Discard)) {
        Ok(end) => {
            black_box(end);
            ports.decisions
        }
        Err(_) => 0,
    }
}

fn engine(c: &mut Criterion) {
    let profiles = pool(10);
    let exhausted = classify_response(Some(429), NO_HEADERS, BODY, T0, &Redactor::new());
    assert_eq!(
        request(&profiles, &exhausted, 1),
        11,
        "the benchmark request must take 11 decisions"
    );

    let mut group = c.benchmark_group("engine");
    group.throughput(Throughput::Elements(11));
    group.bench_function("rotate_through_10", |b| {
        b.iter(|| request(black_box(&profiles), &exhausted, 1))
    });
    group.finish();

    let mut group = c.benchmark_group("classify");
    group.throughput(Throughput::Elements(1));
    let redactor = Redactor::new();
    group.bench_function("classify_codex_429", |b| {
        b.iter(|| classify_response(Some(429), NO_HEADERS, black_box(BODY), T0, &redactor))
    });
    group.finish();
}

criterion_group!(benches, engine);
criterion_main!(benches);
