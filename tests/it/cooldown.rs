//! `rotor cooldown set|clear`: what is written, and that nothing else changes.

use crate::common::*;
use serde_json::Value;
use std::os::unix::fs::PermissionsExt;

const STATUS_FIELDS: [&str; 6] = [
    "last_status",
    "last_status_at",
    "last_error_code",
    "last_error_reason",
    "last_error_message",
    "last_error_reset_at",
];

/// Every (JSON pointer, value) leaf of a document, in key order, arrays included.
fn leaves(value: &Value, prefix: String, out: &mut Vec<(String, Value)>) {
    match value {
        Value::Object(map) => {
            out.push((
                prefix.clone(),
                Value::from(format!("object keys {:?}", map.keys().collect::<Vec<_>>())),
            ));
            for (k, v) in map {
                leaves(v, format!("{prefix}/{k}"), out);
            }
        }
        Value::Array(items) => {
            out.push((
                prefix.clone(),
                Value::from(format!("array of {}", items.len())),
            ));
            for (i, v) in items.iter().enumerate() {
                leaves(v, format!("{prefix}/{i}"), out);
            }
        }
        leaf => out.push((prefix, leaf.clone())),
    }
}

fn leaf_map(value: &Value) -> Vec<(String, Value)> {
    let mut out = Vec::new();
    leaves(value, String::new(), &mut out);
    out
}

fn mode(path: &std::path::Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[test]
fn set_then_clear_changes_only_the_touched_fields() {
    let env = Env::with_fixture("fresh.json");
    let before = env.auth_json();
    let entry = "/credential_pool/openai-codex/1";

    let run = env.run(&[
        "cooldown",
        "set",
        "openai-codex#2",
        "--for",
        "2h",
        "--reason",
        "weekly window",
        "--format",
        "json",
    ]);
    run.expect_code(0);
    let report = run.json();
    assert_eq!(report["action"], "cooldown_set");
    assert_eq!(report["changed"][0]["position"], 2);
    assert_eq!(mode(&env.auth()), 0o600);

    let after_set = env.auth_json();
    let e = &after_set["credential_pool"]["openai-codex"][1];
    assert_eq!(e["last_status"], "exhausted");
    assert_eq!(e["last_error_reason"], "manual");
    assert_eq!(e["last_error_message"], "weekly window");
    assert_eq!(e["last_error_code"], Value::Null);
    let (at, until) = (
        e["last_status_at"].as_f64().unwrap(),
        e["last_error_reset_at"].as_f64().unwrap(),
    );
    assert!(
        (until - at - 7200.0).abs() < 5.0,
        "cooldown of 2h: {at} → {until}"
    );

    let touched_by_set: Vec<String> = STATUS_FIELDS
        .iter()
        .map(|f| format!("{entry}/{f}"))
        .collect();
    assert_only_changed(&before, &after_set, &touched_by_set);

    // Hermes and rotor now agree that #2 is cooling and #1 is next.
    let listed = env
        .run(&[
            "profiles",
            "list",
            "--format",
            "json",
            "--provider",
            "openai-codex",
        ])
        .json();
    assert_eq!(listed["providers"][0]["profiles"][1]["state"], "cooling");

    env.run(&["cooldown", "clear", "openai-codex#2"])
        .expect_code(0);
    let after_clear = env.auth_json();
    let e = &after_clear["credential_pool"]["openai-codex"][1];
    assert_eq!(e["last_status"], "ok");
    for field in &STATUS_FIELDS[1..] {
        assert_eq!(e[field], Value::Null, "{field}");
    }
    assert!(e["status_cleared_at"].as_f64().unwrap() >= at);
    let mut touched_by_both = touched_by_set.clone();
    touched_by_both.push(format!("{entry}/status_cleared_at"));
    touched_by_both.push(entry.to_string()); // its key list grew by status_cleared_at
    assert_only_changed(&before, &after_clear, &touched_by_both);
    assert_eq!(mode(&env.auth()), 0o600);
}

/// Asserts that `after` equals `before` leaf by leaf (values, key order, number text) except
/// at `touched` pointers and the two stamps every write changes.
fn assert_only_changed(before: &Value, after: &Value, touched: &[String]) {
    let allowed = |k: &str| touched.iter().any(|t| t == k) || k == "/updated_at" || k == "/version";
    let b: Vec<_> = leaf_map(before)
        .into_iter()
        .filter(|(k, _)| !allowed(k))
        .collect();
    let a: Vec<_> = leaf_map(after)
        .into_iter()
        .filter(|(k, _)| !allowed(k))
        .collect();
    assert_eq!(a, b);
    assert_ne!(before["updated_at"], after["updated_at"]);
    assert_eq!(after["version"], 1);
}

#[test]
fn untouched_bytes_survive_a_write() {
    // Apart from the touched entry and updated_at, the file is byte-for-byte what Hermes wrote:
    // number forms like 4102358400.0 and 1795838430.6410265 included.
    let env = Env::with_fixture("all-unavailable.json");
    env.run(&["cooldown", "set", "openrouter#1", "--for", "10m"])
        .expect_code(0);
    let before = String::from_utf8(fixture_bytes("all-unavailable.json")).unwrap();
    let after = String::from_utf8(env.read_auth()).unwrap();
    let differing: Vec<(&str, &str)> = before
        .lines()
        .zip(after.lines())
        .filter(|(b, a)| b != a)
        .collect();
    assert_eq!(before.lines().count(), after.lines().count());
    let changed_keys: Vec<&str> = differing
        .iter()
        .map(|(b, _)| b.trim().split('"').nth(1).unwrap())
        .collect();
    assert_eq!(
        changed_keys,
        [
            "last_status",
            "last_status_at",
            "last_error_reason",
            "last_error_reset_at",
            "updated_at"
        ],
        "{differing:#?}"
    );
    assert!(after.contains("\"last_error_reset_at\": 4102358400.0,"));
    assert!(after.contains("\"last_status_at\": 1795838430.6410265,"));
}

#[test]
fn until_takes_absolute_and_relative_times() {
    let env = Env::with_fixture("fresh.json");
    env.run(&[
        "cooldown",
        "set",
        "d4e5f6",
        "--until",
        "2099-01-01T00:00:00Z",
        "--force",
    ])
    .expect_code(0);
    let e = &env.auth_json()["credential_pool"]["openai-codex"][1];
    assert_eq!(e["last_error_reset_at"].as_f64(), Some(4070908800.0));
    assert_eq!(e["last_error_message"], Value::Null);
    let run = env.run(&[
        "cooldown",
        "set",
        "d4e5f6",
        "--until",
        "2001-01-01T00:00:00Z",
    ]);
    run.expect_code(2);
    assert!(run.stderr.contains("not in the future"), "{}", run.stderr);
    env.run(&["cooldown", "set", "d4e5f6", "--for", "soon"])
        .expect_code(2);
    env.run(&["cooldown", "set", "d4e5f6"]).expect_code(2);
    env.run(&["cooldown", "set", "d4e5f6", "--for", "1h", "--until", "+1h"])
        .expect_code(2);
}

#[test]
fn every_selector_form_names_the_same_profile() {
    let env = Env::with_fixture("fresh.json");
    let hash = env.run(&["profiles", "list", "--format", "json"]).json()["providers"][0]["profiles"][2]["profile"]
        .as_str()
        .unwrap()
        .to_string();
    for selector in [
        "openai-codex#3",
        "0789ab",
        "team-b@example.com",
        &hash[..6],
        &hash,
    ] {
        let run = env.run(&[
            "cooldown", "set", selector, "--for", "1h", "--format", "json",
        ]);
        run.expect_code(0);
        assert_eq!(
            run.json()["changed"][0]["profile"],
            hash.as_str(),
            "{selector}"
        );
    }
    let run = env.run(&[
        "cooldown",
        "set",
        "3",
        "--provider",
        "openai-codex",
        "--for",
        "1h",
        "--format",
        "json",
    ]);
    assert_eq!(run.json()["changed"][0]["profile"], hash.as_str());
}

#[test]
fn ambiguous_or_unknown_selectors_exit_8_and_write_nothing() {
    let env = Env::with_fixture("fresh.json");
    let before = env.read_auth();
    let run = env.run(&["cooldown", "set", "1", "--for", "1h"]);
    run.expect_code(8);
    assert!(
        run.stderr.contains("ambiguous") && run.stderr.contains("openrouter#1"),
        "{}",
        run.stderr
    );
    let run = env.run(&["cooldown", "clear", "nobody@example.com"]);
    run.expect_code(8);
    assert!(run.stderr.contains("no profile matches"), "{}", run.stderr);
    env.run(&[
        "cooldown",
        "set",
        "1",
        "--provider",
        "anthropic",
        "--for",
        "1h",
    ])
    .expect_code(8);
    assert_eq!(env.read_auth(), before);
}

#[test]
fn dead_profiles_are_neither_cooled_nor_cleared() {
    let env = Env::with_fixture("all-unavailable.json");
    let before = env.read_auth();
    let run = env.run(&["cooldown", "set", "d4e5f6", "--for", "1h"]);
    run.expect_code(2);
    assert!(
        run.stderr.contains("dead (token_revoked)"),
        "{}",
        run.stderr
    );
    let run = env.run(&["cooldown", "clear", "d4e5f6"]);
    run.expect_code(0);
    assert!(run.stdout.contains("left as is, dead"), "{}", run.stdout);
    assert_eq!(
        env.read_auth(),
        before,
        "nothing to change, nothing written"
    );
}

#[test]
fn clear_all_clears_every_cooling_profile_of_a_provider() {
    let env = Env::with_fixture("all-unavailable.json");
    let run = env.run(&[
        "cooldown",
        "clear",
        "--all",
        "--provider",
        "openai-codex",
        "--format",
        "json",
    ]);
    run.expect_code(0);
    let report = run.json();
    let positions: Vec<_> = report["changed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["position"].clone())
        .collect();
    assert_eq!(positions, [1, 3]);
    assert_eq!(
        report["skipped"][0]["why"],
        "dead: only a re-login clears it"
    );
    let after = env.auth_json();
    let codex = &after["credential_pool"]["openai-codex"];
    assert_eq!(codex[0]["last_status"], "ok");
    assert_eq!(codex[1]["last_status"], "dead");
    assert_eq!(codex[2]["last_status"], "ok");
    env.run(&["profiles", "list", "--provider", "openai-codex", "--check"])
        .expect_code(0);
}

#[test]
fn human_output_names_the_profile_and_the_time() {
    let env = Env::with_fixture("fresh.json");
    let run = env.run(&["cooldown", "set", "openai-codex#1", "--for", "90m"]);
    run.expect_code(0);
    assert!(
        run.stdout.contains("openai-codex#1 (")
            && run.stdout.contains("pro@example.com: cooling until "),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.trim_end().ends_with("(in 1h30m)")
            || run.stdout.trim_end().ends_with("(in 1h29m)"),
        "{}",
        run.stdout
    );
    let run = env.run(&["-q", "cooldown", "clear", "openai-codex#1"]);
    run.expect_code(0);
    assert_eq!(run.stdout, "");
}
