//! `rotor profiles list`: states of real Hermes files, formats, `--check`, and bad input.

use crate::common::*;
use serde_json::Value;

/// (provider, [state of each profile in position order], next profile id or None)
fn states(report: &Value, provider: &str) -> Vec<String> {
    report["providers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["provider"] == provider)
        .unwrap()["profiles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["state"].as_str().unwrap().to_string())
        .collect()
}

fn provider<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["providers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["provider"] == name)
        .unwrap()
}

#[test]
fn every_fixture_lists_with_the_right_states() {
    let cases: &[(&str, &str, [&str; 3], i32)] = &[
        ("fresh.json", AT_0430, ["ok", "ok", "ok"], 0),
        (
            "one-exhausted-resets-at.json",
            AT_0430,
            ["cooling", "ok", "ok"],
            0,
        ),
        (
            "all-unavailable.json",
            AT_0430,
            ["cooling", "dead", "cooling"],
            3,
        ),
        (
            "all-unavailable.json",
            AT_0600,
            ["cooling", "dead", "ready"],
            0,
        ),
    ];
    for (fixture, at, expected, check_code) in cases {
        let env = Env::with_fixture(fixture);
        let run = env.run(&[
            "profiles",
            "list",
            "--format",
            "json",
            "--at",
            at,
            "--check",
            "--provider",
            "openai-codex",
        ]);
        run.expect_code(*check_code);
        let report = run.json();
        assert_eq!(
            states(&report, "openai-codex"),
            expected,
            "{fixture} at {at}"
        );
    }
}

#[test]
fn all_unavailable_reports_the_earliest_recovery() {
    let env = Env::with_fixture("all-unavailable.json");
    let run = env.run(&[
        "profiles", "list", "--format", "json", "--at", AT_0430, "--check",
    ]);
    run.expect_code(3);
    let codex = provider(&run.json(), "openai-codex").clone();
    assert_eq!(codex["available"], 0);
    assert_eq!(codex["next_profile"], Value::Null);
    assert_eq!(codex["next_available_at"], "2026-11-28T05:00:30Z");
    assert_eq!(
        codex["profiles"][2]["cooldown_until"],
        "2026-11-28T05:00:30Z"
    );
    assert_eq!(codex["profiles"][2]["cooldown_seconds_left"], 1830.645);
    assert!(
        run.stderr.contains(
            "openai-codex has no available profile; next_available_at 2026-11-28T05:00:30Z"
        ),
        "{}",
        run.stderr
    );
    // openrouter is fine, so listing it alone passes the check.
    env.run(&[
        "profiles",
        "list",
        "--at",
        AT_0430,
        "--check",
        "--provider",
        "openrouter",
    ])
    .expect_code(0);
}

#[test]
fn next_pick_follows_the_strategy() {
    let env = Env::with_fixture("one-exhausted-resets-at.json");
    let next = |args: &[&str]| {
        let mut all = vec![
            "profiles",
            "list",
            "--format",
            "json",
            "--at",
            AT_0430,
            "--provider",
            "openai-codex",
        ];
        all.extend_from_slice(args);
        let report = env.run(&all).expect_code(0).json();
        let codex = provider(&report, "openai-codex");
        (
            codex["strategy"].as_str().unwrap().to_string(),
            codex["next_profile"].clone(),
        )
    };
    let hash_of_position = |n: usize| {
        let report = env.run(&["profiles", "list", "--format", "json"]).json();
        provider(&report, "openai-codex")["profiles"][n - 1]["profile"].clone()
    };
    // #1 is cooling, so fill_first picks #2.
    assert_eq!(next(&[]), ("fill_first".into(), hash_of_position(2)));
    // config.yaml decides the strategy; --strategy overrides it.
    std::fs::write(
        env.dir.path().join("config.yaml"),
        "credential_pool_strategies:\n  openai-codex: random\n",
    )
    .unwrap();
    assert_eq!(
        next(&[]),
        ("random".into(), Value::Null),
        "random without a seed picks no single profile"
    );
    let (_, seeded) = next(&["--seed", "3"]);
    assert_eq!(
        next(&["--seed", "3"]).1,
        seeded,
        "a seed makes random repeatable"
    );
    assert!(seeded == hash_of_position(2) || seeded == hash_of_position(3));
    assert_eq!(
        next(&["--strategy", "fill_first"]),
        ("fill_first".into(), hash_of_position(2))
    );
}

#[test]
fn table_output_snapshot() {
    let env = Env::with_fixture("all-unavailable.json");
    let run = env.run(&["profiles", "list", "--at", AT_0430]);
    run.expect_code(0);
    insta::assert_snapshot!(run.stdout);
}

#[test]
fn json_output_snapshot() {
    let env = Env::with_fixture("one-exhausted-resets-at.json");
    let run = env.run(&["profiles", "list", "--format", "json", "--at", AT_0430]);
    run.expect_code(0);
    insta::assert_snapshot!(run.stdout);
}

#[test]
fn prometheus_output_snapshot() {
    let env = Env::with_fixture("all-unavailable.json");
    let run = env.run(&[
        "profiles",
        "list",
        "--format",
        "prometheus",
        "--at",
        AT_0430,
    ]);
    run.expect_code(0);
    insta::assert_snapshot!(run.stdout);
}

#[test]
fn no_secret_is_ever_printed() {
    let env = Env::with_fixture("all-unavailable.json");
    let fixture = String::from_utf8(fixture_bytes("all-unavailable.json")).unwrap();
    let secrets: Vec<String> = fixture
        .lines()
        .filter(|l| l.contains("\"access_token\"") || l.contains("\"refresh_token\""))
        .map(|l| l.split('"').nth(3).unwrap().to_string())
        .collect();
    assert_eq!(secrets.len(), 7);
    for format in ["table", "json", "prometheus"] {
        let run = env.run(&["profiles", "list", "--format", format, "--at", AT_0430]);
        for secret in &secrets {
            assert!(
                !run.stdout.contains(secret.as_str()) && !run.stderr.contains(secret.as_str()),
                "{format} leaks"
            );
        }
    }
}

#[test]
fn unknown_provider_exits_8() {
    let env = Env::with_fixture("fresh.json");
    let run = env.run(&["profiles", "list", "--provider", "anthropic"]);
    run.expect_code(8);
    assert!(
        run.stderr.contains("no provider `anthropic`")
            && run.stderr.contains("openai-codex, openrouter"),
        "{}",
        run.stderr
    );
}

#[test]
fn malformed_json_exits_7_names_the_place_and_writes_nothing() {
    let broken = b"{\n  \"version\": 1,\n  \"credential_pool\": {\n    \"openai-codex\": [\n      {\"id\": \"a\",}\n";
    let env = Env::with_auth_bytes(broken);
    for args in [
        &["profiles", "list"][..],
        &["cooldown", "set", "1", "--for", "1h"],
        &["cooldown", "clear", "--all"],
    ] {
        let run = env.run(args);
        run.expect_code(7);
        let expected = format!(
            "rotor: {}:5:18: invalid JSON: trailing comma",
            env.auth().display()
        );
        assert!(
            run.stderr.starts_with(&expected),
            "{args:?}: {}",
            run.stderr
        );
        assert_eq!(
            env.read_auth(),
            broken,
            "{args:?} must leave the file byte-identical"
        );
    }
}

#[test]
fn wrong_types_exit_7_and_write_nothing() {
    let mut value: Value = serde_json::from_slice(&fixture_bytes("fresh.json")).unwrap();
    value["credential_pool"]["openai-codex"][1]["last_error_code"] = Value::from("429");
    let bytes = serde_json::to_vec_pretty(&value).unwrap();
    let env = Env::with_auth_bytes(&bytes);
    let run = env.run(&[
        "cooldown",
        "set",
        "2",
        "--provider",
        "openai-codex",
        "--for",
        "1h",
    ]);
    run.expect_code(7);
    assert!(
        run.stderr.contains(
            "credential_pool.openai-codex[1].last_error_code: expected an integer or null"
        ),
        "{}",
        run.stderr
    );
    assert_eq!(env.read_auth(), bytes);
}

#[test]
fn missing_file_exits_7() {
    let env = Env::with_fixture("fresh.json");
    std::fs::remove_file(env.auth()).unwrap();
    let run = env.run(&["profiles", "list"]);
    run.expect_code(7);
    assert!(
        run.stderr.contains("cannot read") && run.stderr.contains("No such file"),
        "{}",
        run.stderr
    );
    assert!(!env.auth().exists(), "a missing file is not created");
}

#[test]
fn auth_file_flag_and_env_override_hermes_home() {
    let env = Env::with_fixture("fresh.json");
    let other = Env::with_fixture("all-unavailable.json");
    let by_flag = env
        .command()
        .args([
            "--auth-file",
            other.auth().to_str().unwrap(),
            "profiles",
            "list",
            "--at",
            AT_0430,
            "--check",
        ])
        .status()
        .unwrap();
    assert_eq!(by_flag.code(), Some(3));
    let by_env = env
        .command()
        .env("ROTOR_AUTH_FILE", other.auth())
        .args(["profiles", "list", "--at", AT_0430, "--check"])
        .status()
        .unwrap();
    assert_eq!(by_env.code(), Some(3));
    env.run(&["profiles", "list", "--at", AT_0430, "--check"])
        .expect_code(0);
}

#[test]
fn broken_config_exits_7() {
    let env = Env::with_fixture("fresh.json");
    std::fs::write(
        env.dir.path().join("config.yaml"),
        "credential_pool_strategies: [oops\n",
    )
    .unwrap();
    let run = env.run(&["profiles", "list"]);
    run.expect_code(7);
    assert!(run.stderr.contains("config.yaml:"), "{}", run.stderr);
}

#[test]
fn bad_time_is_a_usage_error() {
    let env = Env::with_fixture("fresh.json");
    let run = env.run(&["profiles", "list", "--at", "yesterday-ish"]);
    run.expect_code(2);
    assert!(
        run.stderr.contains("invalid time `yesterday-ish`"),
        "{}",
        run.stderr
    );
}
