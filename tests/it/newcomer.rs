//! The errors a new user meets first, and what they say (docs/exit-codes.md): a dead port names the URL
//! and the cause, a malformed `--base-url` is a usage error rather than a retried outage, an
//! auth.json without a pool or with an unknown `auth_type` says so, and `-v` names every file.

use crate::common::*;
use serde_json::{Value, json};

/// A port nothing listens on: bound, then released.
fn dead_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

#[test]
fn a_dead_port_is_named_with_its_cause() {
    let env = Env::with_fixture("fresh.json");
    let port = dead_port();
    let base = format!("http://127.0.0.1:{port}/codex");
    let run = env.run(&[
        "call",
        "--provider",
        "openai-codex",
        "--base-url",
        &base,
        "--attempts",
        "1",
        "--trace",
        "off",
        "hi",
    ]);
    run.expect_code(4);
    let last = run.stderr.lines().last().unwrap_or_default();
    assert!(
        last.contains(&format!("http://127.0.0.1:{port}/codex/responses")),
        "{last}"
    );
    assert!(last.to_lowercase().contains("connection refused"), "{last}");
    assert!(!last.contains("no status transient"), "{last}");
}

#[test]
fn a_malformed_base_url_is_a_usage_error() {
    let env = Env::with_fixture("fresh.json");
    for url in [
        "notaurl",
        "ftp://127.0.0.1/x",
        "http://10.1.2.3/v1",
        "file:///etc/passwd",
    ] {
        for command in [
            &["call", "--provider", "openai-codex", "hi"][..],
            &["profiles", "probe"],
        ] {
            let mut args = command.to_vec();
            args.extend(["--base-url", url]);
            let run = env.run(&args);
            run.expect_code(2);
            assert!(run.stderr.contains("--base-url"), "{url}: {}", run.stderr);
        }
    }
    let run = env.run(&["call", "--token-url", "http://auth.example.com/t", "hi"]);
    run.expect_code(2);
    assert!(run.stderr.contains("plain http"), "{}", run.stderr);
}

#[test]
fn a_stored_plain_http_base_url_is_refused_before_sending() {
    let mut doc: Value = serde_json::from_slice(&fixture_bytes("fresh.json")).unwrap();
    doc["credential_pool"]["openrouter"][0]["base_url"] = json!("http://example.com/api/v1");
    let env = Env::with_auth_bytes(&serde_json::to_vec_pretty(&doc).unwrap());
    let run = env.run(&["call", "--provider", "openrouter", "--trace", "off", "hi"]);
    run.expect_code(7);
    assert!(
        run.stderr.contains("base_url") && run.stderr.contains("plain http"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_file_without_a_pool_or_with_an_unknown_auth_type_says_so() {
    let env = Env::with_auth_bytes(br#"{"version": 1, "providers": {}}"#);
    let run = env.run(&["profiles", "list"]);
    run.expect_code(0);
    assert!(
        run.stderr.contains("has no `credential_pool`"),
        "{}",
        run.stderr
    );
    env.run(&["profiles", "list", "--check"]).expect_code(3);

    let mut doc: Value = serde_json::from_slice(&fixture_bytes("fresh.json")).unwrap();
    doc["credential_pool"]["openrouter"][0]["auth_type"] = json!("bearer_weird");
    let env = Env::with_auth_bytes(&serde_json::to_vec_pretty(&doc).unwrap());
    let run = env.run(&["profiles", "list", "--format", "json"]);
    run.expect_code(0);
    assert!(
        run.stderr
            .contains("credential_pool.openrouter[0].auth_type: unknown value `bearer_weird`"),
        "{}",
        run.stderr
    );
    // As Hermes: kept as it is and used like an API key.
    assert_eq!(
        run.json()["providers"][1]["profiles"][0]["auth_type"],
        "api_key"
    );
    env.run(&["-q", "profiles", "list"]).expect_code(0);
}

#[test]
fn verbose_names_every_file() {
    let env = Env::with_fixture("fresh.json");
    let run = env.run(&["-v", "profiles", "list"]);
    run.expect_code(0);
    let dir = env.dir.path().display().to_string();
    for name in ["auth.json", "auth.lock", "config.yaml"] {
        assert!(
            run.stderr.contains(&format!("{dir}/{name}")),
            "{name}: {}",
            run.stderr
        );
    }
    std::fs::write(
        env.dir.path().join("config.yaml"),
        "credential_pool_strategies: {}\n",
    )
    .unwrap();
    let run = env.run(&["-v", "profiles", "list"]);
    assert!(!run.stderr.contains("not found"), "{}", run.stderr);
}
