//! `rotor profiles probe` against a fake usage endpoint on loopback: what each answer means,
//! what auth.json holds afterwards, and the Prometheus text parsed back line by line.

use crate::common::*;
use crate::fake::{FakeServer, Reply};
use serde_json::{Value, json};
use std::collections::HashMap;

const USAGE: &str = "/wham/usage";
const ACCOUNTS: [&str; 3] = ["acct-0001", "acct-0002", "acct-0003"];

fn now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
}

fn hash(id: &str) -> String {
    rotor::pool::profile_hash(id)
}

/// A Codex usage report with two windows; `reset_at` of the first is `primary_reset`.
fn usage(primary: f64, primary_reset: f64, secondary: f64) -> Reply {
    let body = json!({"plan_type": "team", "rate_limit": {
        "primary_window": {"used_percent": primary, "limit_window_seconds": 18000,
            "reset_at": primary_reset as i64},
        "secondary_window": {"used_percent": secondary, "limit_window_seconds": 604800,
            "reset_after_seconds": 86400}}});
    Reply::json(200, &body.to_string())
}

fn probe(env: &Env, server: &FakeServer, extra: &[&str]) -> Run {
    let base = format!("{}/codex", server.url);
    let token = format!("{}/oauth/token", server.url);
    let mut args = vec![
        "profiles",
        "probe",
        "--base-url",
        &base,
        "--token-url",
        &token,
    ];
    args.extend_from_slice(extra);
    let run = env.run(&args);
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
    run
}

fn codex_entry(env: &Env, index: usize) -> Value {
    env.auth_json()["credential_pool"]["openai-codex"][index].clone()
}

/// The `probe` object of the profile with `id` in a JSON report.
fn probed<'a>(report: &'a Value, id: &str) -> &'a Value {
    report["providers"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|p| p["profiles"].as_array().unwrap())
        .find(|r| r["id"] == id)
        .map(|r| &r["probe"])
        .unwrap_or_else(|| panic!("{id} not in the report"))
}

/// Healthy, a full usage window with a reset, and a revoked token, in one probe.
fn three_answers(server: &FakeServer, full_until: f64) {
    server.on_header(
        USAGE,
        "chatgpt-account-id",
        ACCOUNTS[0],
        vec![usage(12.0, now() + 600.0, 40.0)],
    );
    server.on_header(
        USAGE,
        "chatgpt-account-id",
        ACCOUNTS[1],
        vec![usage(100.0, full_until, 40.0)],
    );
    let revoked = json!({"error": {"code": "token_revoked", "message": "Your token was revoked"}});
    server.on_header(
        USAGE,
        "chatgpt-account-id",
        ACCOUNTS[2],
        vec![Reply::json(401, &revoked.to_string())],
    );
}

#[test]
fn probe_writes_what_the_provider_said() {
    let env = Env::with_fixture("fresh.json");
    // A cooldown the provider will contradict: the probe clears it.
    env.run(&[
        "cooldown",
        "set",
        "openai-codex#1",
        "--for",
        "2h",
        "--reason",
        "manual",
    ])
    .expect_code(0);
    let server = FakeServer::start();
    let full_until = (now() + 5400.0).floor();
    three_answers(&server, full_until);
    let run = probe(
        &env,
        &server,
        &["--provider", "openai-codex", "--format", "json"],
    );
    run.expect_code(0);

    // The requests: one GET per profile at the usage endpoint, with its bearer and account.
    let seen = server.seen();
    assert_eq!(seen.len(), 3, "{seen:?}");
    let mut accounts: Vec<&str> = seen
        .iter()
        .map(|s| {
            assert_eq!((s.method.as_str(), s.path.as_str()), ("GET", USAGE));
            assert!(s.header("authorization").unwrap().starts_with("Bearer eyJ"));
            s.header("chatgpt-account-id").unwrap()
        })
        .collect();
    accounts.sort();
    assert_eq!(accounts, ACCOUNTS);

    // What auth.json holds now.
    let first = codex_entry(&env, 0);
    assert_eq!(first["last_status"], "ok");
    assert_eq!(first["last_error_reset_at"], Value::Null);
    let second = codex_entry(&env, 1);
    assert_eq!(second["last_status"], "exhausted");
    assert_eq!(second["last_error_code"], 429);
    assert_eq!(second["last_error_reason"], "usage_limit_reached");
    assert_eq!(second["last_error_reset_at"].as_f64(), Some(full_until));
    let third = codex_entry(&env, 2);
    assert_eq!(third["last_status"], "dead");
    assert_eq!(third["last_error_code"], 401);
    assert_eq!(third["last_error_reason"], "token_revoked");
    let other = &env.auth_json()["credential_pool"]["openrouter"][0];
    assert_eq!(
        other,
        &serde_json::from_slice::<Value>(&fixture_bytes("fresh.json")).unwrap()["credential_pool"]
            ["openrouter"][0],
        "other providers are not probed"
    );

    // What it reports.
    let report = run.json();
    let p = probed(&report, "a1b2c3");
    assert_eq!(
        (&p["verdict"], &p["status"], &p["used_percent"]),
        (&json!("healthy"), &json!(200), &json!(40.0))
    );
    let p = probed(&report, "d4e5f6");
    assert_eq!(p["verdict"], "exhausted");
    assert_eq!(p["used_percent"], 100.0);
    assert!(p["until"].as_str().unwrap().starts_with("20"));
    assert_eq!(probed(&report, "0789ab")["verdict"], "dead");
    let codex = &report["providers"][0];
    assert_eq!(
        (&codex["available"], &codex["total"]),
        (&json!(1), &json!(3))
    );
}

#[test]
fn a_probe_that_times_out_changes_nothing() {
    let env = Env::with_fixture("fresh.json");
    let before = codex_entry(&env, 0);
    let server = FakeServer::start();
    server.on_header(USAGE, "chatgpt-account-id", ACCOUNTS[0], vec![Reply::Hang]);
    server.on(USAGE, vec![usage(5.0, now() + 600.0, 5.0)]);
    let run = probe(
        &env,
        &server,
        &[
            "--provider",
            "openai-codex",
            "--format",
            "json",
            "--timeout",
            "1s",
        ],
    );
    run.expect_code(0);
    let p = probed(&run.json(), "a1b2c3").clone();
    assert_eq!(p["verdict"], "unreachable");
    assert!(p["detail"].as_str().unwrap().contains("timed out"), "{p}");
    assert_eq!(
        codex_entry(&env, 0),
        before,
        "an unreachable probe writes nothing"
    );
    assert_eq!(probed(&run.json(), "d4e5f6")["verdict"], "healthy");
}

#[test]
fn probe_exits_like_check_when_nothing_is_available() {
    let env = Env::with_fixture("fresh.json");
    let server = FakeServer::start();
    server.on(USAGE, vec![usage(100.0, now() + 3600.0, 100.0)]);
    let run = probe(&env, &server, &["--provider", "openai-codex"]);
    run.expect_code(3);
    assert!(run.stderr.contains("next_available_at"), "{}", run.stderr);
    // The table shows the verdict and the usage.
    assert!(run.stdout.contains("PROBE"), "{}", run.stdout);
    assert!(run.stdout.contains("exhausted 200"), "{}", run.stdout);
    assert!(run.stdout.contains("100%"), "{}", run.stdout);
}

#[test]
fn a_plain_401_refreshes_the_token_once_then_probes_again() {
    let env = Env::with_fixture("fresh.json");
    let server = FakeServer::start();
    server.on_header(
        USAGE,
        "chatgpt-account-id",
        ACCOUNTS[0],
        vec![
            Reply::json(401, r#"{"error":{"message":"expired"}}"#),
            usage(3.0, now() + 600.0, 3.0),
        ],
    );
    let fresh = codex_entry(&env, 1)["access_token"].clone();
    server.on(
        "/oauth/token",
        vec![Reply::json(
            200,
            &json!({"access_token": fresh, "refresh_token": "rt_rotated"}).to_string(),
        )],
    );
    let run = probe(&env, &server, &["openai-codex#1", "--format", "json"]);
    run.expect_code(0);
    assert_eq!(server.seen_at("/oauth/token").len(), 1);
    assert_eq!(server.seen_at(USAGE).len(), 2);
    assert_eq!(probed(&run.json(), "a1b2c3")["verdict"], "healthy");
    let first = codex_entry(&env, 0);
    assert_eq!(first["access_token"], fresh);
    assert_eq!(first["refresh_token"], "rt_rotated");
}

#[test]
fn api_key_profiles_are_probed_with_a_model_list() {
    let env = Env::with_fixture("fresh.json");
    let server = FakeServer::start();
    server.on("/v1/models", vec![Reply::json(200, r#"{"data":[]}"#)]);
    let base = format!("{}/v1", server.url);
    let run = env.run(&[
        "profiles",
        "probe",
        "--provider",
        "openrouter",
        "--base-url",
        &base,
        "--format",
        "json",
    ]);
    run.expect_code(0);
    let seen = server.seen_at("/v1/models");
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].method, "GET");
    assert!(
        seen[0]
            .header("authorization")
            .unwrap()
            .starts_with("Bearer ")
    );
    assert_eq!(probed(&run.json(), "k1x2y3")["verdict"], "healthy");
}

/// One sample of the Prometheus text format.
#[derive(Debug)]
struct Sample {
    name: String,
    labels: HashMap<String, String>,
    value: f64,
}

/// A strict reader of the text exposition format (version 0.0.4) as node_exporter's textfile
/// collector accepts it: HELP and TYPE before a family's samples, one family in one block,
/// label values quoted and escaped, values that parse as floats.
fn parse_prometheus(text: &str) -> Vec<Sample> {
    let mut samples = Vec::new();
    let mut helped: Vec<String> = Vec::new();
    let mut typed: HashMap<String, String> = HashMap::new();
    let mut finished: Vec<String> = Vec::new();
    let mut current: Option<String> = None;
    assert!(text.ends_with('\n'), "the text ends with a newline");
    for (n, line) in text.lines().enumerate() {
        let at = format!("line {}: {line:?}", n + 1);
        if let Some(rest) = line.strip_prefix("# HELP ") {
            let (name, help) = rest.split_once(' ').expect(&at);
            assert!(!help.is_empty(), "{at}");
            assert!(!helped.contains(&name.to_string()), "HELP twice, {at}");
            helped.push(name.to_string());
            if let Some(previous) = current.replace(name.to_string()) {
                finished.push(previous);
            }
            assert!(!finished.contains(&name.to_string()), "family split, {at}");
            continue;
        }
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').expect(&at);
            assert_eq!(Some(name), current.as_deref(), "TYPE after its HELP, {at}");
            assert_eq!(kind, "gauge", "{at}");
            typed.insert(name.to_string(), kind.to_string());
            continue;
        }
        assert!(!line.starts_with('#') && !line.is_empty(), "{at}");
        let (series, value) = line.rsplit_once(' ').expect(&at);
        let value: f64 = value.parse().expect(&at);
        let (name, labels) = match series.split_once('{') {
            Some((name, rest)) => (name, rest.strip_suffix('}').expect(&at)),
            None => (series, ""),
        };
        assert!(
            name.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':'),
            "{at}"
        );
        assert_eq!(Some(name), current.as_deref(), "sample of its family, {at}");
        assert!(typed.contains_key(name), "{at}");
        let mut map = HashMap::new();
        let mut rest = labels;
        while !rest.is_empty() {
            let (key, after) = rest.split_once("=\"").expect(&at);
            let mut value = String::new();
            let mut chars = after.char_indices();
            let end = loop {
                let (i, c) = chars.next().expect(&at);
                match c {
                    '\\' => match chars.next().expect(&at).1 {
                        'n' => value.push('\n'),
                        c @ ('\\' | '"') => value.push(c),
                        other => panic!("bad escape \\{other}, {at}"),
                    },
                    '"' => break i,
                    c => value.push(c),
                }
            };
            assert!(map.insert(key.to_string(), value).is_none(), "{at}");
            rest = after[end + 1..]
                .strip_prefix(',')
                .unwrap_or(&after[end + 1..]);
        }
        samples.push(Sample {
            name: name.to_string(),
            labels: map,
            value,
        });
    }
    samples
}

fn value_of(samples: &[Sample], name: &str, labels: &[(&str, &str)]) -> f64 {
    let found: Vec<&Sample> = samples
        .iter()
        .filter(|s| {
            s.name == name
                && labels
                    .iter()
                    .all(|(k, v)| s.labels.get(*k).map(String::as_str) == Some(*v))
        })
        .collect();
    assert_eq!(found.len(), 1, "one sample {name} {labels:?}: {found:?}");
    found[0].value
}

#[test]
fn probe_prometheus_text_parses_back() {
    let env = Env::with_fixture("fresh.json");
    let server = FakeServer::start();
    let full_until = (now() + 5400.0).floor();
    three_answers(&server, full_until);
    let run = probe(
        &env,
        &server,
        &["--provider", "openai-codex", "--format", "prometheus"],
    );
    run.expect_code(0);
    let samples = parse_prometheus(&run.stdout);
    let [one, two, three] = ["a1b2c3", "d4e5f6", "0789ab"].map(hash);
    fn p(h: &str) -> [(&str, &str); 2] {
        [("provider", "openai-codex"), ("profile", h)]
    }
    assert_eq!(value_of(&samples, "rotor_profile_available", &p(&one)), 1.0);
    assert_eq!(value_of(&samples, "rotor_profile_available", &p(&two)), 0.0);
    assert_eq!(value_of(&samples, "rotor_profile_dead", &p(&three)), 1.0);
    assert_eq!(value_of(&samples, "rotor_profile_dead", &p(&two)), 0.0);
    let left = value_of(&samples, "rotor_profile_cooldown_seconds", &p(&two));
    assert!((5300.0..=5400.0).contains(&left), "{left}");
    assert_eq!(
        value_of(&samples, "rotor_profile_cooldown_seconds", &p(&one)),
        0.0
    );
    assert_eq!(
        value_of(&samples, "rotor_profile_used_percent", &p(&one)),
        40.0
    );
    assert_eq!(
        value_of(&samples, "rotor_profile_used_percent", &p(&two)),
        100.0
    );
    assert!(
        !samples
            .iter()
            .any(|s| s.name == "rotor_profile_used_percent" && s.labels["profile"] == three),
        "no usage is known for a revoked profile"
    );
    let provider = [("provider", "openai-codex")];
    assert_eq!(
        value_of(&samples, "rotor_provider_available_profiles", &provider),
        1.0
    );
    assert_eq!(
        value_of(&samples, "rotor_provider_profiles", &provider),
        3.0
    );
    assert!(
        !run.stdout.contains("@"),
        "no labels (emails) in metrics:\n{}",
        run.stdout
    );
}

#[test]
fn list_prometheus_text_parses_back() {
    let env = Env::with_fixture("one-exhausted-resets-at.json");
    let run = env.run(&[
        "profiles",
        "list",
        "--format",
        "prometheus",
        "--at",
        AT_0430,
    ]);
    run.expect_code(0);
    let samples = parse_prometheus(&run.stdout);
    let families: Vec<&str> = {
        let mut names: Vec<&str> = samples.iter().map(|s| s.name.as_str()).collect();
        names.dedup();
        names
    };
    assert_eq!(
        families,
        [
            "rotor_profile_info",
            "rotor_profile_available",
            "rotor_profile_dead",
            "rotor_profile_cooldown_seconds",
            "rotor_provider_available_profiles",
            "rotor_provider_profiles"
        ]
    );
    let codex = [("provider", "openai-codex")];
    assert_eq!(
        value_of(&samples, "rotor_provider_available_profiles", &codex),
        2.0
    );
}

#[test]
fn the_prometheus_reader_rejects_what_node_exporter_would() {
    for bad in [
        "rotor_x 1\n",                                                // no HELP/TYPE
        "# HELP rotor_x x\n# TYPE rotor_x gauge\nrotor_x{a=\"1} 1\n", // unterminated label
        "# HELP rotor_x x\n# TYPE rotor_x gauge\nrotor_x one\n",      // not a number
        "# HELP rotor_x x\n# TYPE rotor_x gauge\nrotor_x 1",          // no final newline
    ] {
        let caught = std::panic::catch_unwind(|| parse_prometheus(bad));
        assert!(caught.is_err(), "accepted {bad:?}");
    }
}

/// Marks the entry `id` of `env` dead the way Hermes does: under auth.lock, re-reading the file,
/// replacing it atomically.
fn hermes_marks_dead(env: &Env, id: &str) {
    let lock = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(env.lock())
        .unwrap();
    lock.lock().unwrap();
    let mut doc = env.auth_json();
    for entry in doc["credential_pool"]["openai-codex"]
        .as_array_mut()
        .unwrap()
    {
        if entry["id"] == id {
            entry["last_status"] = json!("dead");
            entry["last_status_at"] = json!(now());
            entry["last_error_code"] = json!(401);
            entry["last_error_reason"] = json!("token_revoked");
        }
    }
    let tmp = env.dir.path().join("auth.json.tmp.hermes");
    std::fs::write(&tmp, serde_json::to_vec_pretty(&doc).unwrap()).unwrap();
    std::fs::rename(&tmp, env.auth()).unwrap();
    lock.unlock().unwrap();
}

#[test]
fn a_profile_marked_dead_while_the_probe_runs_stays_dead() {
    // Profile 1 is cooling when the probe starts; the provider will say it is healthy (which
    // would clear the cooldown), but while its answer is on the way the gateway marks the
    // profile dead. The probe's verdict is stale: it must not bring the profile back.
    let env = Env::with_fixture("fresh.json");
    env.run(&["cooldown", "set", "openai-codex#1", "--for", "2h"])
        .expect_code(0);
    let server = FakeServer::start();
    server.on_header(
        USAGE,
        "chatgpt-account-id",
        ACCOUNTS[0],
        vec![usage(5.0, now() + 600.0, 5.0).delayed(std::time::Duration::from_millis(1500))],
    );
    server.on(USAGE, vec![usage(5.0, now() + 600.0, 5.0)]);
    let base = format!("{}/codex", server.url);
    let child = env
        .command()
        .args([
            "profiles",
            "probe",
            "--provider",
            "openai-codex",
            "--format",
            "json",
        ])
        .args(["--base-url", &base])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(500));
    hermes_marks_dead(&env, "a1b2c3");
    let out = child.wait_with_output().unwrap();
    let run = Run::from(out);
    assert_eq!(
        codex_entry(&env, 0)["last_status"],
        "dead",
        "{}",
        run.stderr
    );
    let report = run.json();
    let p = probed(&report, "a1b2c3");
    assert_eq!(p["verdict"], "healthy");
    assert_eq!(p["written"], false, "{p}");
    assert!(
        p["detail"].as_str().unwrap().contains("changed on disk"),
        "{p}"
    );
    assert_eq!(
        probed(&report, "d4e5f6")["written"],
        false,
        "nothing to write for a healthy profile"
    );
}

#[test]
fn a_probe_that_reaches_nobody_exits_4() {
    let env = Env::with_fixture("fresh.json");
    let before = env.read_auth();
    let run = env.run(&[
        "profiles",
        "probe",
        "--provider",
        "openai-codex",
        "--base-url",
        "http://127.0.0.1:9/codex",
        "--timeout",
        "2s",
    ]);
    run.expect_code(4);
    assert!(
        run.stderr.contains("no probe got an answer"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("127.0.0.1:9"), "{}", run.stderr);
    assert_eq!(env.read_auth(), before);
}
