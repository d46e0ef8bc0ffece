//! `rotor serve` over real HTTP: keys, forwarding, the commit point, the shared pool, limits
//! and lifecycle, against fake providers on loopback. (The official SDKs talk to it in
//! `sdk.rs`.)

use crate::common::*;
use crate::fake::{FakeServer, Reply};
use crate::gateway::{Gateway, http, metrics};
use serde_json::json;

/// The `chatgpt_account_id` claims of the three Codex profiles of the Hermes fixtures.
const ACCOUNTS: [&str; 3] = ["acct-0001", "acct-0002", "acct-0003"];
const RESPONSES: &str = "/v1/responses";

fn usage_limit(resets_in: u64) -> Reply {
    let body = json!({"error": {"type": "usage_limit_reached", "message": "The usage limit has been reached",
        "resets_in_seconds": resets_in}});
    Reply::json(429, &body.to_string())
}

fn accounts_seen(server: &FakeServer) -> Vec<String> {
    server
        .seen_at(RESPONSES)
        .iter()
        .map(|s| s.header("chatgpt-account-id").unwrap_or("-").to_string())
        .collect()
}

const BODY: &str = r#"{"model":"gpt-5.5","input":"hi","stream":true,"store":false}"#;

#[test]
fn a_usage_limit_rotates_within_the_request_and_the_cooldown_is_written() {
    let env = Env::with_fixture("fresh.json");
    let server = FakeServer::start();
    server.on_header(
        RESPONSES,
        "chatgpt-account-id",
        ACCOUNTS[0],
        vec![usage_limit(3600)],
    );
    server.on(RESPONSES, vec![Reply::codex_text("hello there")]);
    let gateway = Gateway::with_upstream(&env, &server, &[]);
    let answer = gateway.post(RESPONSES, BODY);
    assert_eq!(answer.status, 200, "{}", gateway.stderr());
    assert!(answer.body.contains("hello there"), "{}", answer.body);
    assert_eq!(accounts_seen(&server), [ACCOUNTS[0], ACCOUNTS[1]]);
    // The body went upstream exactly as the client wrote it.
    assert!(server.seen_at(RESPONSES).iter().all(|s| s.body == BODY));
    let rotations = gateway.events_named("profile_rotation");
    assert_eq!(rotations.len(), 1);
    assert_eq!(rotations[0]["reason"], "rate_limit");
    let run = gateway.stop();
    run.expect_code(0);
    let entry = &env.auth_json()["credential_pool"]["openai-codex"][0];
    assert_eq!(entry["last_status"], "exhausted");
    assert_eq!(entry["last_error_code"], 429);
    assert_eq!(
        env.auth_json()["credential_pool"]["openai-codex"][1]["request_count"],
        1
    );
}

#[test]
fn the_key_is_required_and_never_forwarded() {
    let env = Env::with_fixture("fresh.json");
    let server = FakeServer::start();
    server.on(RESPONSES, vec![Reply::codex_text("ok")]);
    let gateway = Gateway::with_upstream(&env, &server, &[]);
    let mode = std::os::unix::fs::PermissionsExt::mode(
        &std::fs::metadata(gateway.key_file()).unwrap().permissions(),
    );
    assert_eq!(mode & 0o777, 0o600);
    assert_eq!(gateway.key.len(), 64);
    let url = format!("{}{RESPONSES}", gateway.url);
    let none = http("POST", &url, &[], BODY);
    assert_eq!(none.status, 401);
    assert_eq!(none.json()["error"]["code"], "invalid_api_key");
    assert_eq!(none.header("x-should-retry"), Some("false"));
    let wrong = http(
        "POST",
        &url,
        &[("authorization", "Bearer nope-nope-nope-nope")],
        BODY,
    );
    assert_eq!(wrong.status, 401);
    let messages = http("POST", &format!("{}/v1/messages", gateway.url), &[], "{}");
    assert_eq!(messages.status, 401);
    assert_eq!(messages.json()["type"], "error");
    assert_eq!(messages.json()["error"]["type"], "authentication_error");
    // /healthz alone needs no key.
    assert_eq!(
        http("GET", &format!("{}/healthz", gateway.url), &[], "").status,
        200
    );
    assert_eq!(
        http("GET", &format!("{}/metrics", gateway.url), &[], "").status,
        401
    );
    let by_header = gateway.request(
        "POST",
        RESPONSES,
        &[
            ("x-api-key", &gateway.key),
            ("cookie", "session=abc"),
            ("session-id", "s-1"),
        ],
        BODY,
    );
    assert_eq!(by_header.status, 200);
    let seen = server.seen_at(RESPONSES);
    assert_eq!(seen.len(), 1, "refused requests never reach the upstream");
    let sent = &seen[0];
    assert!(sent.header("x-api-key").is_none());
    assert!(sent.header("cookie").is_none());
    assert_eq!(sent.header("session-id"), Some("s-1"));
    assert_eq!(sent.header("chatgpt-account-id"), Some(ACCOUNTS[0]));
    assert_eq!(sent.header("originator"), Some("codex_cli_rs"));
    let token = env.auth_json()["credential_pool"]["openai-codex"][0]["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        sent.header("authorization"),
        Some(format!("Bearer {token}").as_str())
    );
    assert!(!sent.headers.iter().any(|(_, v)| v.contains(&gateway.key)));
    let run = gateway.stop();
    assert!(!run.stderr.contains(&gateway_key(&env)));
}

fn gateway_key(env: &Env) -> String {
    std::fs::read_to_string(env.dir.path().join("rotor-serve.key"))
        .unwrap()
        .trim()
        .to_string()
}

#[test]
fn metrics_and_readiness_show_the_live_pool() {
    let env = Env::with_fixture("fresh.json");
    let server = FakeServer::start();
    server.on(RESPONSES, vec![Reply::codex_text("ok")]);
    let gateway = Gateway::with_upstream(&env, &server, &[]);
    assert_eq!(gateway.post(RESPONSES, BODY).status, 200);
    let answer = gateway.get("/metrics");
    assert_eq!(answer.status, 200);
    assert!(
        answer
            .header("content-type")
            .unwrap()
            .starts_with("application/openmetrics-text")
    );
    let samples = metrics(&answer.body);
    let value = |prefix: &str| {
        samples
            .iter()
            .find(|(k, _)| k.starts_with(prefix))
            .map(|(_, v)| *v)
            .unwrap_or_else(|| panic!("no {prefix} in\n{}", answer.body))
    };
    assert_eq!(
        value("rotor_serve_requests_total{route=\"responses\",outcome=\"success\"}"),
        1.0
    );
    assert_eq!(
        value("rotor_serve_attempts_total{provider=\"openai-codex\",kind=\"success\"}"),
        1.0
    );
    assert_eq!(
        value("rotor_profile_available{provider=\"openai-codex\""),
        1.0
    );
    assert_eq!(
        value("rotor_serve_request_duration_seconds_count{route=\"responses\"}"),
        1.0
    );
    let ready = gateway.get("/readyz");
    assert_eq!(ready.status, 200, "{}", ready.body);
    assert_eq!(ready.json()["ready"], true);
    gateway.stop().expect_code(0);
}
