//! `rotor simulate`: the engine's contract cases through the real binary, scenario errors, and
//! the output forms.

use crate::common::{BIN, Run, bare};
use rotor::pool::profile_hash;
use serde_json::{Value, json};
use std::io::Write;
use std::process::{Command, Stdio};

const IDS: [&str; 3] = ["a1b2c3", "d4e5f6", "0789ab"];

/// Three OAuth Codex entries as auth.json holds them (tokens are not JWTs: plans don't matter).
fn pool() -> Value {
    let entries: Vec<Value> = IDS
        .iter()
        .enumerate()
        .map(|(i, id)| {
            json!({
                "id": id, "label": format!("user{i}@example.com"), "auth_type": "oauth", "priority": i,
                "source": "manual:device_code", "access_token": format!("tok-{id}"),
                "refresh_token": format!("rt-{id}"), "request_count": 0
            })
        })
        .collect();
    Value::Array(entries)
}

fn usage_limit(resets_in: u64) -> Value {
    json!({"status": 429, "error_type": "usage_limit_reached",
           "message": "The usage limit has been reached", "resets_in_seconds": resets_in})
}

/// A simulation run with its JSON Lines parsed.
struct Sim {
    run: Run,
    lines: Vec<Value>,
}

impl Sim {
    fn events(&self, name: &str) -> Vec<&Value> {
        self.lines.iter().filter(|l| l["event"] == name).collect()
    }

    /// Profile hashes of the attempts, in order.
    fn attempts(&self) -> Vec<String> {
        self.events("attempt")
            .iter()
            .map(|e| e["profile"].as_str().unwrap().to_string())
            .collect()
    }

    fn attempts_of(&self, request_id: &str) -> Vec<String> {
        self.events("attempt")
            .iter()
            .filter(|e| e["request_id"] == request_id)
            .map(|e| e["profile"].as_str().unwrap().to_string())
            .collect()
    }
}

fn run_scenario(scenario: &Value, args: &[&str]) -> Run {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("scenario.json");
    std::fs::write(&path, serde_json::to_vec_pretty(scenario).unwrap()).unwrap();
    let mut all = vec!["simulate", path.to_str().unwrap()];
    all.extend_from_slice(args);
    bare(&all)
}

fn simulate(scenario: &Value) -> Sim {
    let run = run_scenario(scenario, &["--format", "json"]);
    let lines = run
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    Sim { run, lines }
}

fn h(i: usize) -> String {
    profile_hash(IDS[i])
}

// ---- The four contract cases ---------------------------------------------------------------

#[test]
fn rotate_then_succeed() {
    let sim = simulate(&json!({"pool": pool(), "scripts": {"a1b2c3": [usage_limit(3600)]}}));
    sim.run.expect_code(0);
    assert_eq!(sim.attempts(), [h(0), h(1)]);
    let rotations = sim.events("profile_rotation");
    assert_eq!(rotations.len(), 1);
    let mut rotation = rotations[0].clone();
    let object = rotation.as_object_mut().unwrap();
    assert!(object.remove("ts").is_some());
    assert_eq!(
        rotation,
        json!({"event": "profile_rotation", "from_profile": h(0), "to_profile": h(1), "reason": "rate_limit",
               "attempt": 2, "max": 3, "remaining_profiles": 1, "request_id": "req-1", "provider": "openai-codex"})
    );
    let end = sim.events("request_end")[0];
    assert_eq!(
        (
            end["outcome"].as_str(),
            end["attempts"].as_u64(),
            end["rotations"].as_u64()
        ),
        (Some("success"), Some(2), Some(1))
    );
    // The rotation happened without a wait: attempt 2 starts when attempt 1's answer arrived.
    let failed = sim.events("attempt_failed")[0];
    assert_eq!(failed["retry_in_ms"], Value::Null);
    assert_eq!(sim.events("attempt")[1]["ts"], failed["ts"]);
}

#[test]
fn rotate_cap_honored() {
    let sim = simulate(&json!({
        "pool": pool(),
        "scripts": {"a1b2c3": [usage_limit(7200)], "d4e5f6": [usage_limit(1800)], "0789ab": [usage_limit(5400)]}
    }));
    sim.run.expect_code(3);
    let attempts = sim.attempts();
    assert_eq!(attempts, [h(0), h(1), h(2)]);
    let end = sim.events("request_end")[0];
    assert_eq!(end["outcome"], "pool_exhausted");
    // d4e5f6 answered at 04:00:00.2 with 1800 s to go: the earliest reset.
    assert_eq!(end["next_available_at"], "2026-11-28T04:30:00Z");
    assert!(
        sim.run
            .stderr
            .contains("pool exhausted for openai-codex: next available at 2026-11-28T04:30:00Z"),
        "{}",
        sim.run.stderr
    );
    assert_eq!(sim.events("profile_rotation").len(), 2);
    assert_eq!(sim.events("profile_cooldown").len(), 3);
}

#[test]
fn per_profile_retry_budget() {
    let sim = simulate(&json!({
        "pool": pool(),
        "policy": {"attempts_per_profile": 3},
        "scripts": {"a1b2c3": {"responses": [503], "then": "repeat_last"}}
    }));
    sim.run.expect_code(4);
    assert_eq!(sim.attempts(), [h(0), h(0), h(0)]);
    let tries: Vec<(u64, u64)> = sim
        .events("attempt")
        .iter()
        .map(|e| (e["try"].as_u64().unwrap(), e["of"].as_u64().unwrap()))
        .collect();
    assert_eq!(tries, [(1, 3), (2, 3), (3, 3)]);
    assert!(sim.events("profile_rotation").is_empty());
    assert!(sim.events("profile_cooldown").is_empty());
    assert_eq!(
        sim.events("request_end")[0]["outcome"],
        "upstream_unavailable"
    );
    // The profile is not cooled: transient failures say nothing about it.
    let summary = sim.events("simulation_end")[0];
    assert_eq!(summary["pool"]["profiles"][0]["state"], "ok");
    assert!(
        sim.run
            .stderr
            .contains("upstream unavailable for openai-codex after 3 attempt(s)"),
        "{}",
        sim.run.stderr
    );
}

#[test]
fn fill_first_still_works() {
    let sim = simulate(&json!({
        "pool": pool(),
        "strategy": "fill_first",
        "requests": [{"id": "r1", "at": 0}, {"id": "r2", "at": "10m"}, {"id": "r3", "at": "1h"}, {"id": "r4", "at": "2h30m"}],
        "scripts": {"a1b2c3": [usage_limit(7200)]}
    }));
    sim.run.expect_code(0);
    assert_eq!(sim.attempts_of("r1"), [h(0), h(1)]);
    // While a1b2c3 cools, requests go straight to d4e5f6: no attempt on it, no rotation.
    assert_eq!(sim.attempts_of("r2"), [h(1)]);
    assert_eq!(sim.attempts_of("r3"), [h(1)]);
    // After its reset passed on the virtual clock, fill_first returns to it.
    assert_eq!(sim.attempts_of("r4"), [h(0)]);
    assert_eq!(sim.events("profile_rotation").len(), 1);
    let starts: Vec<u64> = sim
        .events("request_start")
        .iter()
        .map(|e| e["eligible_profiles"].as_u64().unwrap())
        .collect();
    assert_eq!(starts, [3, 2, 2, 3]);
}

// ---- Output forms, determinism, errors -----------------------------------------------------

#[test]
fn the_builtin_scenario_shows_a_rotation() {
    let run = bare(&["simulate"]);
    run.expect_code(0);
    insta::assert_snapshot!("builtin_table", run.stdout);
    let json = bare(&["simulate", "--format", "json"]);
    json.expect_code(0);
    let rotations = json
        .stdout
        .lines()
        .filter(|l| l.contains(r#""event":"profile_rotation""#))
        .count();
    assert_eq!(rotations, 1);
}

#[test]
fn the_examples_run() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    for name in ["scenario-rotation.json", "scenario-auth-file.json"] {
        let path = dir.join(name);
        let run = bare(&["simulate", path.to_str().unwrap()]);
        run.expect_code(0);
        assert!(run.stdout.contains(" rotate "), "{name}:\n{}", run.stdout);
    }
}

#[test]
fn json_events_carry_no_labels_or_tokens() {
    let sim = simulate(
        &json!({"pool": pool(), "scripts": {"a1b2c3": [usage_limit(60)], "d4e5f6": [401, 401]}}),
    );
    sim.run.expect_code(0);
    for line in &sim.lines {
        let text = line.to_string();
        assert!(
            !text.contains("example.com") && !text.contains("tok-") && !text.contains("rt-"),
            "{text}"
        );
        if line["event"] == "simulation_end" {
            // The summary names profiles by hash only, like the events before it.
            for profile in line["pool"]["profiles"].as_array().unwrap() {
                assert!(profile.get("label").is_none() && profile.get("id").is_none());
                assert!(profile["profile"].is_string());
            }
            continue;
        }
        for key in ["event", "ts", "request_id", "provider"] {
            assert!(line.get(key).is_some(), "{key} missing in {text}");
        }
    }
    // d4e5f6 got a 401: one refresh, one retry, then cooled for 300 s and rotated.
    let refreshes = sim.events("token_refresh");
    assert_eq!(refreshes.len(), 1);
    assert_eq!(refreshes[0]["outcome"], "refreshed");
    assert_eq!(sim.attempts(), [h(0), h(1), h(1), h(2)]);
}

#[test]
fn identical_seeds_give_identical_traces() {
    let scenario = json!({
        "pool": pool(), "strategy": "random", "requests": 6,
        "scripts": {"a1b2c3": {"responses": [503, 502], "then": "repeat_last"}, "d4e5f6": [429, 429, 503]}
    });
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("random.json");
    std::fs::write(&path, scenario.to_string()).unwrap();
    let path = path.to_str().unwrap();
    for format in ["json", "table"] {
        let first = bare(&["simulate", path, "--format", format, "--seed", "42"]);
        let again = bare(&["simulate", path, "--format", format, "--seed", "42"]);
        assert_eq!(first.stdout, again.stdout);
        assert!(first.stdout.contains("req-6"));
    }
    // The seed is what changes a random run: some other seed picks differently.
    let base = bare(&["simulate", path, "--format", "json", "--seed", "42"]).stdout;
    assert!((0..20).any(|seed| {
        bare(&[
            "simulate",
            path,
            "--format",
            "json",
            "--seed",
            &seed.to_string(),
        ])
        .stdout
            != base
    }));
}

#[test]
fn scenarios_read_from_stdin() {
    let mut child = Command::new(&*BIN)
        .args(["simulate", "-", "--format", "json"])
        .env_clear()
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let scenario = json!({"pool": pool()}).to_string();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(scenario.as_bytes())
        .unwrap();
    let run = Run::from(child.wait_with_output().unwrap());
    run.expect_code(0);
    assert!(run.stdout.contains(r#""outcome":"success""#));
}

#[test]
fn bad_scenarios_exit_7_naming_file_and_place() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("broken.json");
    std::fs::write(&path, "{\n  \"pool\": [\n    {\"id\": \"a\",}\n  ]\n}\n").unwrap();
    let run = bare(&["simulate", path.to_str().unwrap()]);
    run.expect_code(7);
    assert!(
        run.stderr
            .starts_with(&format!("rotor: {}:3:", path.display())),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("invalid scenario JSON"),
        "{}",
        run.stderr
    );
    assert!(run.stdout.is_empty());

    let run = run_scenario(
        &json!({"pool": pool(), "scripts": {"a1b2c3": [{"status": "429"}]}}),
        &[],
    );
    run.expect_code(7);
    assert!(
        run.stderr.contains(
            "scenario.json: scripts.a1b2c3[0].status: expected an HTTP status from 100 to 599"
        ),
        "{}",
        run.stderr
    );

    let run = run_scenario(&json!({"pool": pool(), "policy": {"max_wiat": 5}}), &[]);
    run.expect_code(7);
    assert!(
        run.stderr
            .contains("policy.max_wiat: expected one of the keys"),
        "{}",
        run.stderr
    );

    let missing = dir.path().join("missing.json");
    let run = bare(&["simulate", missing.to_str().unwrap()]);
    run.expect_code(7);
    assert!(
        run.stderr.contains("cannot read") && run.stderr.contains("missing.json"),
        "{}",
        run.stderr
    );
}

#[test]
fn request_errors_exit_5_and_failures_after_output_exit_4() {
    let run = run_scenario(
        &json!({"pool": pool(), "scripts": {"a1b2c3": [{"status": 400, "message": "bad model"}]}}),
        &[],
    );
    run.expect_code(5);
    assert!(
        run.stderr.contains("request rejected by openai-codex"),
        "{}",
        run.stderr
    );
    let run = run_scenario(
        &json!({"pool": pool(), "scripts": {"a1b2c3": ["stream_cut_after_output"]}}),
        &[],
    );
    run.expect_code(4);
}

/// A long scenario with every kind of answer: usage limits with resets, throttles, outages,
/// timeouts, cut streams before and after output, billing, revoked and refreshable tokens,
/// rejected requests; twelve profiles, random picks, 1,500 requests.
fn mixed_scenario() -> Value {
    use base64::Engine as _;
    let b64 = |v: &Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
    let start = 1_795_838_400.0; // 2026-11-28T04:00:00Z
    let mut pool = Vec::new();
    let mut scripts = serde_json::Map::new();
    for i in 0..12u64 {
        let id = format!("p{i:02}");
        // Every third profile's token expires an hour in, so refreshes happen along the way.
        let exp = if i % 3 == 0 {
            start + 3600.0
        } else {
            4_102_444_800.0
        };
        let claims = json!({"exp": exp, "email": format!("u{i}@example.com"),
            "https://api.openai.com/auth": {"chatgpt_plan_type": "team", "chatgpt_account_id": format!("acct-{i}")}});
        let token = format!("{}.{}.sig", b64(&json!({"alg": "none"})), b64(&claims));
        pool.push(
            json!({"id": id, "label": format!("u{i}@example.com"), "auth_type": "oauth",
            "priority": i, "access_token": token, "refresh_token": format!("rt-{id}-0123456789")}),
        );
        let responses: Vec<Value> = (0..400u64)
            .map(|k| match (k * 7 + i * 13) % 37 {
                0 => usage_limit(240 + 120 * (k % 7)),
                1..=3 => json!("unavailable"),
                4 => json!({"status": 429, "retry_after": 2}),
                5 => json!("timeout"),
                6 => json!("stream_cut"),
                7 if k % 5 == 0 => json!("stream_cut_after_output"),
                8 if k % 3 == 0 => json!({"status": 402, "message": "billing hard limit"}),
                9 if k % 11 == 0 => json!({"status": 401, "error_type": "token_invalidated",
                    "message": "Your token was invalidated for u@example.com"}),
                10 => json!({"status": 401, "message": "expired"}),
                11 if k % 4 == 0 => json!({"status": 400, "error_type": "invalid_request_error",
                    "message": "bad request"}),
                12 => json!({"status": 529, "message": "Overloaded", "latency": 0.5}),
                _ => json!("ok"),
            })
            .collect();
        let refresh = match i % 4 {
            0 => json!(["refreshed", "adopted", "failed", "refreshed"]),
            1 => json!(["failed", "dead"]),
            _ => json!([]),
        };
        scripts.insert(
            id,
            json!({"responses": responses, "then": "success", "refresh": refresh}),
        );
    }
    json!({
        "description": "1,500 requests with every kind of failure",
        "provider": "openai-codex", "strategy": "random", "seed": 7,
        "start": start,
        "policy": {"attempts_per_profile": 3, "max_wait": "20s", "backoff_base": 0.5,
                   "max_profiles": 6, "deadline": "90s", "max_cooldown": "10m"},
        "pool": pool,
        "requests": (0..1500).map(|n| n * 9).collect::<Vec<_>>(),
        "scripts": scripts,
    })
}

#[test]
fn a_long_mixed_scenario_gives_the_recorded_events() {
    // The JSON events of this scenario are the engine's whole contract in one run. Their digest
    // was recorded before the redesign that gave every driver one drive loop; any change in an
    // event, a field, an order or a time changes it. (A deliberate change of the contract
    // records a new digest, and says so in its commit: the last one added `model` to
    // `profile_cooldown` and the newer-Hermes fields to the final pool, and keeps the pool's
    // key order; with those undone the output hashes to the digest before.)
    const DIGEST: &str = "3cfcdd39dca977a676533139c6b6b757b49c9a5005b8487ff770a8a4033427af";
    use sha2::Digest;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mixed.json");
    std::fs::write(&path, mixed_scenario().to_string()).unwrap();
    let out = Command::new(&*BIN)
        .env_clear()
        .arg("simulate")
        .arg(&path)
        .args(["--format", "json"])
        .output()
        .unwrap();
    let run = Run::from(out);
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
    let digest: String = sha2::Sha256::digest(run.stdout.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    if digest != DIGEST {
        let keep = std::env::temp_dir().join("rotor-mixed-scenario.jsonl");
        std::fs::write(&keep, &run.stdout).unwrap();
        panic!(
            "the events changed: digest {digest}, recorded {DIGEST}; output in {}; stderr: {}",
            keep.display(),
            run.stderr
        );
    }
    let lines: Vec<Value> = run
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let count = |name: &str| lines.iter().filter(|l| l["event"] == name).count();
    assert_eq!(count("request_start"), 1500);
    assert_eq!(count("request_end"), 1500);
    for kind in [
        "profile_rotation",
        "profile_cooldown",
        "token_refresh",
        "attempt_failed",
    ] {
        assert!(count(kind) > 20, "{kind}: {}", count(kind));
    }
}

#[test]
fn a_scenario_can_follow_newer_hermes_and_name_each_request_s_model() {
    // A Codex plan without the model: under newer Hermes's rules the model is benched on that
    // account, so the next request for it starts elsewhere while another model still uses it.
    let entitlement = json!({"status": 400, "message": "The 'gpt-5.5-pro' model is not supported when using Codex with a ChatGPT account."});
    let scenario = |hermes: &str| {
        json!({
            "hermes": hermes,
            "pool": pool(),
            "requests": [
                {"id": "pro-1", "at": 0, "model": "gpt-5.5-pro"},
                {"id": "pro-2", "at": 10, "model": "gpt-5.5-pro"},
                {"id": "base", "at": 20, "model": "gpt-5.5"},
            ],
            "scripts": {"a1b2c3": {"responses": [entitlement, 200, 200], "then": "success"}},
        })
    };
    let sim = simulate(&scenario("main"));
    sim.run.expect_code(0);
    assert_eq!(sim.attempts_of("pro-1"), [h(0), h(1)]);
    assert_eq!(
        sim.attempts_of("pro-2"),
        [h(1)],
        "kept off the benched account"
    );
    assert_eq!(
        sim.attempts_of("base"),
        [h(0)],
        "the account serves other models"
    );
    let cooldowns = sim.events("profile_cooldown");
    assert_eq!(cooldowns.len(), 1);
    assert_eq!(cooldowns[0]["model"], "gpt-5.5-pro");
    assert_eq!(cooldowns[0]["reason"], "model_entitlement");

    // Under 0.19's rules the request still moves on, but nothing is written: the next one
    // tries the same account again.
    let sim = simulate(&scenario("0.19"));
    sim.run.expect_code(0);
    assert_eq!(sim.attempts_of("pro-2"), [h(0)]);
    assert!(sim.events("profile_cooldown").is_empty());

    let bad = run_scenario(&json!({"hermes": "0.20", "pool": pool()}), &[]);
    bad.expect_code(7);
    assert!(bad.stderr.contains("hermes"), "{}", bad.stderr);
    let long = "m".repeat(201);
    let bad = run_scenario(
        &json!({"pool": pool(), "requests": [{"at": 0, "model": long}]}),
        &[],
    );
    bad.expect_code(7);
    assert!(bad.stderr.contains("requests[0].model"), "{}", bad.stderr);
}
