//! `rotor call` over real HTTP against fake providers on loopback: which accounts the server
//! saw and in which order, what auth.json holds afterwards, exit codes and events.

use crate::common::*;
use crate::fake::{FakeServer, Reply};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};
use std::process::Stdio;
use std::time::{Duration, Instant};

const RESPONSES: &str = "/codex/responses";
const TOKEN: &str = "/oauth/token";
/// The `chatgpt_account_id` claims of the three Codex profiles of the Hermes fixtures.
const ACCOUNTS: [&str; 3] = ["acct-0001", "acct-0002", "acct-0003"];

/// An unsigned JWT like the fixtures' (and Codex's) access tokens.
pub fn jwt(exp: f64, account: &str) -> String {
    let header = URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#);
    let claims = json!({"exp": exp, "email": "x@example.com",
        "https://api.openai.com/auth": {"chatgpt_plan_type": "team", "chatgpt_account_id": account}});
    format!(
        "{header}.{}.sig",
        URL_SAFE_NO_PAD.encode(claims.to_string())
    )
}

fn now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
}

fn usage_limit(resets_in: u64) -> Reply {
    let body = json!({"error": {"type": "usage_limit_reached", "message": "The usage limit has been reached",
        "resets_in_seconds": resets_in}});
    Reply::json(429, &body.to_string())
}

/// The arguments every call test passes: the fake server's URLs, JSON trace, short waits.
fn call_args<'a>(
    server: &'a FakeServer,
    urls: &'a mut Vec<String>,
    extra: &[&'a str],
) -> Vec<&'a str> {
    urls.push(format!("{}/codex", server.url));
    urls.push(format!("{}{TOKEN}", server.url));
    let mut args = vec!["call", "--provider", "openai-codex"];
    for (flag, default) in [
        ("--trace", "json"),
        ("--max-wait", "0.1s"),
        ("--timeout", "5s"),
    ] {
        if !extra.contains(&flag) {
            args.extend([flag, default]);
        }
    }
    args.extend([
        "--base-url",
        urls[0].as_str(),
        "--token-url",
        urls[1].as_str(),
    ]);
    args.extend_from_slice(extra);
    args
}

struct Called {
    run: Run,
    events: Vec<Value>,
}

impl Called {
    fn events(&self, name: &str) -> Vec<&Value> {
        self.events.iter().filter(|e| e["event"] == name).collect()
    }
}

fn call(env: &Env, server: &FakeServer, extra: &[&str]) -> Called {
    let mut urls = Vec::new();
    let mut args = call_args(server, &mut urls, extra);
    args.push("say hello");
    let run = env.run(&args);
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
    let events = run
        .stderr
        .lines()
        .filter(|l| l.starts_with('{'))
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    Called { run, events }
}

/// The accounts the server saw at the responses endpoint, in order.
fn accounts_seen(server: &FakeServer) -> Vec<String> {
    server
        .seen_at(RESPONSES)
        .iter()
        .map(|s| s.header("chatgpt-account-id").unwrap_or("-").to_string())
        .collect()
}

fn codex_entry(env: &Env, index: usize) -> Value {
    env.auth_json()["credential_pool"]["openai-codex"][index].clone()
}

#[test]
fn rotate_then_succeed() {
    let env = Env::with_fixture("fresh.json");
    let server = FakeServer::start();
    server.on_header(
        RESPONSES,
        "chatgpt-account-id",
        ACCOUNTS[0],
        vec![usage_limit(3600)],
    );
    server.on_header(
        RESPONSES,
        "chatgpt-account-id",
        ACCOUNTS[1],
        vec![Reply::codex_text("Hello from team-a")],
    );
    let started = now();
    let called = call(&env, &server, &[]);
    called.run.expect_code(0);
    assert_eq!(called.run.stdout, "Hello from team-a\n");
    assert_eq!(accounts_seen(&server), [ACCOUNTS[0], ACCOUNTS[1]]);

    // The request itself: model, stream, store, headers.
    let seen = &server.seen_at(RESPONSES)[1];
    assert_eq!(seen.method, "POST");
    let body: Value = serde_json::from_str(&seen.body).unwrap();
    assert_eq!(
        (
            body["model"].as_str(),
            body["stream"].as_bool(),
            body["store"].as_bool()
        ),
        (Some("gpt-5.5"), Some(true), Some(false))
    );
    assert_eq!(seen.header("originator"), Some("codex_cli_rs"));
    assert!(seen.header("session_id").is_some());
    assert!(
        seen.header("authorization")
            .unwrap()
            .starts_with("Bearer eyJ")
    );

    let first = codex_entry(&env, 0);
    assert_eq!(first["last_status"], "exhausted");
    assert_eq!(first["last_error_code"], 429);
    assert_eq!(first["last_error_reason"], "usage_limit_reached");
    let reset = first["last_error_reset_at"].as_f64().unwrap();
    assert!(
        (reset - started - 3600.0).abs() < 30.0,
        "cooldown until the provider's reset: {reset}"
    );
    let second = codex_entry(&env, 1);
    assert_eq!(second["last_status"], "ok");
    assert_eq!(second["request_count"], 1);
    assert_eq!(
        codex_entry(&env, 2)["last_status"],
        Value::Null,
        "the third profile is untouched"
    );

    let rotations = called.events("profile_rotation");
    assert_eq!(rotations.len(), 1);
    let r = rotations[0];
    let hashes: Vec<String> = ["a1b2c3", "d4e5f6"]
        .iter()
        .map(|id| rotor::pool::profile_hash(id))
        .collect();
    assert_eq!(
        (r["from_profile"].as_str(), r["to_profile"].as_str()),
        (Some(hashes[0].as_str()), Some(hashes[1].as_str()))
    );
    assert_eq!(
        (
            r["reason"].as_str(),
            r["attempt"].as_u64(),
            r["max"].as_u64(),
            r["remaining_profiles"].as_u64()
        ),
        (Some("rate_limit"), Some(2), Some(3), Some(1))
    );
    assert_eq!(called.events("request_end")[0]["outcome"], "success");
}

#[test]
fn rotate_cap_honored() {
    let env = Env::with_fixture("fresh.json");
    let server = FakeServer::start();
    for (account, resets_in) in ACCOUNTS.iter().zip([7200, 1800, 3600]) {
        server.on_header(
            RESPONSES,
            "chatgpt-account-id",
            account,
            vec![usage_limit(resets_in)],
        );
    }
    let started = now();
    let called = call(&env, &server, &[]);
    called.run.expect_code(3);
    assert_eq!(
        accounts_seen(&server),
        ACCOUNTS,
        "each profile exactly once"
    );
    let end = &called.events("request_end")[0];
    assert_eq!(end["outcome"], "pool_exhausted");
    let next =
        rotor::time::parse_timestamp_text(end["next_available_at"].as_str().unwrap()).unwrap();
    assert!(
        (next - started - 1800.0).abs() < 30.0,
        "earliest reset: {next}"
    );
    assert!(
        called.run.stderr.contains("next available at"),
        "{}",
        called.run.stderr
    );
    env.run(&["profiles", "list", "--provider", "openai-codex", "--check"])
        .expect_code(3);
}

#[test]
fn per_profile_retry_budget() {
    let env = Env::with_fixture("fresh.json");
    let before = env.read_auth();
    let server = FakeServer::start();
    server.on_header(
        RESPONSES,
        "chatgpt-account-id",
        ACCOUNTS[0],
        vec![Reply::json(503, r#"{"error":{"message":"overloaded"}}"#)],
    );
    let called = call(&env, &server, &["--attempts", "3"]);
    called.run.expect_code(4);
    assert_eq!(
        accounts_seen(&server),
        [ACCOUNTS[0]; 3],
        "exactly N attempts, all on profile 1"
    );
    assert!(called.events("profile_rotation").is_empty());
    assert!(called.events("profile_cooldown").is_empty());
    assert_eq!(
        called.events("request_end")[0]["outcome"],
        "upstream_unavailable"
    );
    assert_eq!(env.read_auth(), before, "transient failures write nothing");
}

#[test]
fn fill_first_still_works_across_calls() {
    let env = Env::with_fixture("fresh.json");
    let server = FakeServer::start();
    server.on_header(
        RESPONSES,
        "chatgpt-account-id",
        ACCOUNTS[0],
        vec![usage_limit(2), Reply::codex_text("back on one")],
    );
    server.on_header(
        RESPONSES,
        "chatgpt-account-id",
        ACCOUNTS[1],
        vec![Reply::codex_text("two")],
    );
    call(&env, &server, &[]).run.expect_code(0);
    let called = call(&env, &server, &[]);
    called.run.expect_code(0);
    assert_eq!(
        accounts_seen(&server),
        [ACCOUNTS[0], ACCOUNTS[1], ACCOUNTS[1]],
        "a cooled profile is skipped"
    );
    std::thread::sleep(Duration::from_millis(2200));
    let called = call(&env, &server, &[]);
    called.run.expect_code(0);
    assert_eq!(called.run.stdout, "back on one\n");
    assert_eq!(
        accounts_seen(&server).last().map(String::as_str),
        Some(ACCOUNTS[0]),
        "back to profile 1 after its reset"
    );
    assert_eq!(codex_entry(&env, 0)["last_status"], "ok");
}

#[test]
fn revoked_token_marks_dead_and_rotates() {
    let env = Env::with_fixture("fresh.json");
    let server = FakeServer::start();
    let revoked = r#"{"error":{"code":"token_revoked","message":"Your authentication token has been revoked."}}"#;
    server.on_header(
        RESPONSES,
        "chatgpt-account-id",
        ACCOUNTS[0],
        vec![Reply::json(401, revoked)],
    );
    server.on_header(
        RESPONSES,
        "chatgpt-account-id",
        ACCOUNTS[1],
        vec![Reply::codex_text("ok")],
    );
    call(&env, &server, &[]).run.expect_code(0);
    assert_eq!(accounts_seen(&server), [ACCOUNTS[0], ACCOUNTS[1]]);
    assert!(
        server.seen_at(TOKEN).is_empty(),
        "a revoked token is not refreshed"
    );
    let first = codex_entry(&env, 0);
    assert_eq!(
        (
            first["last_status"].as_str(),
            first["last_error_code"].as_u64()
        ),
        (Some("dead"), Some(401))
    );
    assert_eq!(first["last_error_reason"], "token_revoked");
}

#[test]
fn plain_401_refreshes_once_and_retries_the_same_profile() {
    let env = Env::with_fixture("fresh.json");
    let server = FakeServer::start();
    let fresh = jwt(4102444800.0, ACCOUNTS[0]);
    server.on(
        TOKEN,
        vec![Reply::json(
            200,
            &json!({"access_token": fresh, "refresh_token": "rt_rotated"}).to_string(),
        )],
    );
    server.on_header(
        RESPONSES,
        "chatgpt-account-id",
        ACCOUNTS[0],
        vec![
            Reply::json(401, r#"{"error":{"message":"expired"}}"#),
            Reply::codex_text("refreshed"),
        ],
    );
    let called = call(&env, &server, &[]);
    called.run.expect_code(0);
    assert_eq!(called.run.stdout, "refreshed\n");
    assert_eq!(accounts_seen(&server), [ACCOUNTS[0], ACCOUNTS[0]]);
    let token_requests = server.seen_at(TOKEN);
    assert_eq!(token_requests.len(), 1);
    let form = &token_requests[0].body;
    assert!(
        form.contains("grant_type=refresh_token")
            && form.contains("refresh_token=rt_fake_refresh_1")
            && form.contains("client_id=app_EMoamEEZ73f0CkXaXp7hrann"),
        "{form}"
    );
    assert_eq!(
        server.seen_at(RESPONSES)[1].header("authorization"),
        Some(format!("Bearer {fresh}").as_str())
    );
    let first = codex_entry(&env, 0);
    assert_eq!(
        (
            first["access_token"].as_str(),
            first["refresh_token"].as_str()
        ),
        (Some(fresh.as_str()), Some("rt_rotated"))
    );
    assert!(first["last_refresh"].as_str().unwrap().ends_with('Z'));
    assert_eq!(called.events("token_refresh")[0]["outcome"], "refreshed");
}

/// A pool of one Codex profile whose access token expires in a minute.
fn expiring_env() -> Env {
    let mut value: Value = serde_json::from_slice(&fixture_bytes("fresh.json")).unwrap();
    let codex = value["credential_pool"]["openai-codex"]
        .as_array_mut()
        .unwrap();
    codex.truncate(1);
    codex[0]["access_token"] = Value::from(jwt(now() + 60.0, ACCOUNTS[0]));
    Env::with_auth_bytes(&serde_json::to_vec_pretty(&value).unwrap())
}

#[test]
fn eight_processes_share_one_refresh() {
    let env = expiring_env();
    let server = FakeServer::start();
    let fresh = jwt(4102444800.0, ACCOUNTS[0]);
    server.on(
        TOKEN,
        vec![
            Reply::json(
                200,
                &json!({"access_token": fresh, "refresh_token": "rt_rotated"}).to_string(),
            )
            .delayed(Duration::from_millis(300)),
        ],
    );
    server.on(RESPONSES, vec![Reply::codex_text("shared")]);
    let mut urls = Vec::new();
    let args = call_args(
        &server,
        &mut urls,
        &["--trace", "off", "--lock-timeout", "30", "go"],
    );
    let children: Vec<_> = (0..8)
        .map(|_| {
            env.command()
                .args(&args)
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for child in children {
        let run = Run::from(child.wait_with_output().unwrap());
        run.expect_code(0);
        assert_eq!(run.stdout, "shared\n");
    }
    assert_eq!(
        server.seen_at(TOKEN).len(),
        1,
        "exactly one token-endpoint request"
    );
    let requests = server.seen_at(RESPONSES);
    assert_eq!(requests.len(), 8);
    for r in &requests {
        assert_eq!(
            r.header("authorization"),
            Some(format!("Bearer {fresh}").as_str()),
            "all use the new token"
        );
    }
    assert_eq!(codex_entry(&env, 0)["refresh_token"], "rt_rotated");
    assert_eq!(codex_entry(&env, 0)["request_count"], 8);
}

#[test]
fn failed_refresh_with_invalid_grant_marks_dead() {
    let env = expiring_env();
    let server = FakeServer::start();
    server.on(
        TOKEN,
        vec![Reply::json(
            400,
            r#"{"error":"invalid_grant","error_description":"Refresh token expired"}"#,
        )],
    );
    let called = call(&env, &server, &[]);
    called.run.expect_code(3);
    assert!(server.seen_at(RESPONSES).is_empty());
    assert_eq!(codex_entry(&env, 0)["last_status"], "dead");
    assert_eq!(called.events("token_refresh")[0]["outcome"], "failed");
}

#[test]
fn a_stream_that_fails_after_text_is_not_retried() {
    let env = Env::with_fixture("fresh.json");
    let server = FakeServer::start();
    server.on_header(
        RESPONSES,
        "chatgpt-account-id",
        ACCOUNTS[0],
        vec![Reply::codex_cut_after("partial answer that breaks", true)],
    );
    server.on_header(
        RESPONSES,
        "chatgpt-account-id",
        ACCOUNTS[1],
        vec![Reply::codex_text("must not be used")],
    );
    let called = call(&env, &server, &[]);
    called.run.expect_code(4);
    assert!(
        called.run.stdout.starts_with("partial "),
        "{}",
        called.run.stdout
    );
    assert_eq!(
        accounts_seen(&server),
        [ACCOUNTS[0]],
        "no replay on another profile"
    );
    assert_eq!(
        called.events("request_end")[0]["outcome"],
        "upstream_unavailable"
    );
}

#[test]
fn the_lock_is_not_held_across_the_request() {
    let env = Env::with_fixture("fresh.json");
    let server = FakeServer::start();
    let events = Reply::codex_text("slow answer");
    let Reply::Stream { mut pieces, reset } = events else {
        unreachable!()
    };
    pieces[0].0 = Duration::from_secs(3);
    server.on(RESPONSES, vec![Reply::Stream { pieces, reset }]);
    let mut urls = Vec::new();
    let args = call_args(&server, &mut urls, &["--trace", "off", "slow"]);
    let child = env
        .command()
        .args(&args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let waiting = Instant::now();
    while server.seen_at(RESPONSES).is_empty() {
        assert!(
            waiting.elapsed() < Duration::from_secs(10),
            "rotor never sent the request"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    // The request is in flight for 3 s: another process takes auth.lock within 100 ms.
    let lock = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(env.lock())
        .unwrap();
    let trying = Instant::now();
    let mut taken = false;
    while trying.elapsed() < Duration::from_millis(100) {
        if lock.try_lock().is_ok() {
            taken = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    assert!(taken, "auth.lock was held during the inference request");
    lock.unlock().unwrap();
    let run = Run::from(child.wait_with_output().unwrap());
    run.expect_code(0);
    assert_eq!(run.stdout, "slow answer\n");
}

#[test]
fn timeouts_resets_and_garbage_end_in_the_right_class() {
    let cases: Vec<(&str, Reply, i32, usize)> = vec![
        ("timeout", Reply::Hang, 4, 2),
        ("dropped connection", Reply::Drop, 4, 2),
        (
            "reset mid-stream before output",
            Reply::codex_cut_after("", true),
            4,
            2,
        ),
        (
            "garbage 500",
            Reply::json(500, "\u{0}\u{1b}[31m<html>not json"),
            4,
            2,
        ),
        (
            "garbage 200",
            Reply::json(200, "this is not an event stream"),
            4,
            2,
        ),
        ("garbage 400", Reply::json(400, "<<<>>>"), 5, 1),
        (
            "413",
            Reply::json(413, r#"{"error":{"message":"too large"}}"#),
            5,
            1,
        ),
    ];
    for (name, reply, code, requests) in cases {
        let env = Env::with_fixture("fresh.json");
        let server = FakeServer::start();
        server.on(RESPONSES, vec![reply]);
        let called = call(&env, &server, &["--attempts", "2", "--timeout", "0.5s"]);
        assert_eq!(called.run.code, code, "{name}: {}", called.run.stderr);
        assert_eq!(server.seen_at(RESPONSES).len(), requests, "{name}");
        assert!(
            !called.run.stderr.contains('\u{1b}'),
            "{name}: server text is sanitised"
        );
        let expected_class = if code == 5 { "request" } else { "transient" };
        assert_eq!(
            called.events("attempt_failed")[0]["class"],
            expected_class,
            "{name}"
        );
    }
}

#[test]
fn json_format_prints_the_final_response_object() {
    let env = Env::with_fixture("fresh.json");
    let server = FakeServer::start();
    server.on(RESPONSES, vec![Reply::codex_text("structured")]);
    let called = call(&env, &server, &["--format", "json"]);
    called.run.expect_code(0);
    let response: Value = serde_json::from_str(&called.run.stdout).unwrap();
    assert_eq!(
        (response["id"].as_str(), response["status"].as_str()),
        (Some("resp_1"), Some("completed"))
    );
}

#[test]
fn prompt_from_stdin_and_system_instructions() {
    use std::io::Write;
    let env = Env::with_fixture("fresh.json");
    let server = FakeServer::start();
    server.on(RESPONSES, vec![Reply::codex_text("ok")]);
    let mut urls = Vec::new();
    let args = call_args(&server, &mut urls, &["--system", "be terse", "-"]);
    let mut child = env
        .command()
        .args(&args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"from stdin")
        .unwrap();
    Run::from(child.wait_with_output().unwrap()).expect_code(0);
    let body: Value = serde_json::from_str(&server.seen_at(RESPONSES)[0].body).unwrap();
    assert_eq!(body["instructions"], "be terse");
    assert_eq!(body["input"][0]["content"][0]["text"], "from stdin");
}

#[test]
fn openai_compatible_and_anthropic_providers() {
    let mut value: Value = serde_json::from_slice(&fixture_bytes("fresh.json")).unwrap();
    value["credential_pool"]["anthropic"] = json!([{
        "id": "an1", "label": "ANTHROPIC_API_KEY", "auth_type": "api_key", "priority": 0,
        "source": "env:ANTHROPIC_API_KEY", "access_token": "sk-ant-fake", "last_status": null,
        "last_status_at": null, "last_error_code": null, "last_error_reason": null,
        "last_error_message": null, "last_error_reset_at": null, "request_count": 0
    }]);
    let env = Env::with_auth_bytes(&serde_json::to_vec_pretty(&value).unwrap());
    let server = FakeServer::start();
    server.on(
        "/api/v1/chat/completions",
        vec![Reply::chat_text("from router")],
    );
    server.on("/v1/messages", vec![Reply::anthropic_text("from claude")]);
    let router = env.run(&[
        "call",
        "--provider",
        "openrouter",
        "--base-url",
        &format!("{}/api/v1", server.url),
        "--trace",
        "off",
        "hi",
    ]);
    router.expect_code(0);
    assert_eq!(router.stdout, "from router\n");
    let seen = &server.seen_at("/api/v1/chat/completions")[0];
    assert_eq!(
        seen.header("authorization"),
        Some("Bearer sk-or-v1-fake-0000000000000000")
    );
    let claude = env.run(&[
        "call",
        "--provider",
        "anthropic",
        "--base-url",
        &server.url,
        "--trace",
        "off",
        "hi",
    ]);
    claude.expect_code(0);
    assert_eq!(claude.stdout, "from claude\n");
    let seen = &server.seen_at("/v1/messages")[0];
    assert_eq!(
        (seen.header("x-api-key"), seen.header("anthropic-version")),
        (Some("sk-ant-fake"), Some("2023-06-01"))
    );
    assert_eq!(
        env.auth_json()["credential_pool"]["anthropic"][0]["request_count"],
        1
    );
}

#[test]
fn trace_file_gets_json_lines_and_no_secrets() {
    let env = Env::with_fixture("fresh.json");
    let server = FakeServer::start();
    server.on_header(
        RESPONSES,
        "chatgpt-account-id",
        ACCOUNTS[0],
        vec![usage_limit(60)],
    );
    server.on_header(
        RESPONSES,
        "chatgpt-account-id",
        ACCOUNTS[1],
        vec![Reply::codex_text("traced")],
    );
    let trace = env.dir.path().join("trace.jsonl");
    let called = call(
        &env,
        &server,
        &["--trace", "human", "--trace-file", trace.to_str().unwrap()],
    );
    called.run.expect_code(0);
    let text = std::fs::read_to_string(&trace).unwrap();
    let names: Vec<String> = text
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["event"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(names.first().map(String::as_str), Some("request_start"));
    assert!(names.contains(&"profile_rotation".to_string()));
    assert_eq!(names.last().map(String::as_str), Some("request_end"));
    let fixture = String::from_utf8(fixture_bytes("fresh.json")).unwrap();
    for secret in [
        "rt_fake_refresh_1",
        "sk-or-v1-fake",
        "pro@example.com",
        "team-a@example.com",
        &fixture[fixture.find("eyJ").unwrap()..][..60],
    ] {
        assert!(!text.contains(secret), "the trace file leaks {secret}");
    }
    // The human trace on stderr names profiles for a person.
    assert!(
        called.run.stderr.contains("team-a@example.com"),
        "{}",
        called.run.stderr
    );
}

#[test]
fn throttling_waits_and_retries_the_same_profile() {
    let env = Env::with_fixture("fresh.json");
    let before = env.read_auth();
    let server = FakeServer::start();
    let slow_down = Reply::json(
        429,
        r#"{"error":{"type":"rate_limit_exceeded","message":"slow down"}}"#,
    )
    .with_header("retry-after", "1");
    server.on_header(
        RESPONSES,
        "chatgpt-account-id",
        ACCOUNTS[0],
        vec![slow_down, Reply::codex_text("after a pause")],
    );
    let called = call(&env, &server, &[]);
    called.run.expect_code(0);
    assert_eq!(accounts_seen(&server), [ACCOUNTS[0], ACCOUNTS[0]]);
    let failed = called.events("attempt_failed");
    assert_eq!(
        (
            failed[0]["class"].as_str(),
            failed[0]["retry_in_ms"].as_u64()
        ),
        (Some("throttled"), Some(100)),
        "Retry-After capped by --max-wait"
    );
    assert!(called.events("profile_cooldown").is_empty());
    let after = env.auth_json();
    let untouched: Value = serde_json::from_slice(&before).unwrap();
    assert_eq!(
        after["credential_pool"]["openai-codex"][1],
        untouched["credential_pool"]["openai-codex"][1]
    );
}
