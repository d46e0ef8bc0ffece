//! `rotor serve` over real HTTP: keys, forwarding, the commit point, the shared pool, limits
//! and lifecycle, against fake providers on loopback. (The official SDKs talk to it in
//! `sdk.rs`.)

use crate::common::*;
use crate::fake::{FakeServer, Reply};
use crate::gateway::{Gateway, http, metrics, stream};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

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
    // The trace is written by its own thread, a moment after the answer may be complete.
    let rotations = gateway.wait_for("profile_rotation", 1, Duration::from_secs(5));
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
    // A request is counted when its task ends, which can be a moment after the client read the
    // last byte of its answer: wait for the count rather than race it.
    let deadline = Instant::now() + Duration::from_secs(5);
    let answer = loop {
        let answer = gateway.get("/metrics");
        let counted = answer.body.lines().any(|l| {
            l.starts_with("rotor_serve_requests_total{route=\"responses\",outcome=\"success\"}")
        });
        if counted || Instant::now() > deadline {
            break answer;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
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

fn codex_event(value: Value) -> String {
    format!(
        "event: {}\ndata: {value}\n\n",
        value["type"].as_str().unwrap()
    )
}

#[test]
fn a_failure_inside_a_200_stream_before_output_rotates_and_its_frames_are_never_seen() {
    let env = Env::with_fixture("fresh.json");
    let server = FakeServer::start();
    let failed = Reply::Stream {
        pieces: [
            json!({"type": "response.created", "response": {"id": "resp_FIRST"}}),
            json!({"type": "response.in_progress", "response": {"id": "resp_FIRST"}}),
            json!({"type": "response.failed", "response": {"id": "resp_FIRST", "error": {
                "code": "usage_limit_reached", "message": "The usage limit has been reached"}}}),
        ]
        .into_iter()
        .map(|v| (Duration::ZERO, codex_event(v)))
        .collect(),
        reset: false,
    };
    server.on_header(RESPONSES, "chatgpt-account-id", ACCOUNTS[0], vec![failed]);
    server.on(RESPONSES, vec![Reply::codex_text("from the second")]);
    let gateway = Gateway::with_upstream(&env, &server, &[]);
    let got = stream(&format!("{}{RESPONSES}", gateway.url), &gateway.key, BODY);
    assert_eq!(got.status, 200);
    assert!(got.clean_end);
    assert!(got.text.contains("from the second"), "{}", got.text);
    assert!(
        !got.text.contains("resp_FIRST"),
        "held frames leaked: {}",
        got.text
    );
    assert_eq!(accounts_seen(&server), [ACCOUNTS[0], ACCOUNTS[1]]);
    gateway.stop().expect_code(0);
    assert_eq!(
        env.auth_json()["credential_pool"]["openai-codex"][0]["last_status"],
        "exhausted"
    );
}

#[test]
fn a_cut_after_output_is_not_replayed_and_the_client_sees_a_broken_stream() {
    let env = Env::with_fixture("fresh.json");
    let server = FakeServer::start();
    server.on(
        RESPONSES,
        vec![Reply::codex_cut_after("partial answer here", true)],
    );
    let gateway = Gateway::with_upstream(&env, &server, &[]);
    let got = stream(&format!("{}{RESPONSES}", gateway.url), &gateway.key, BODY);
    assert_eq!(got.status, 200);
    assert!(got.text.contains("partial "), "{}", got.text);
    // The API's own error event, then an aborted body: never a clean end.
    assert!(got.text.contains("event: error"), "{}", got.text);
    assert!(got.text.contains("stream_interrupted"), "{}", got.text);
    assert!(!got.clean_end, "a broken answer must not end cleanly");
    assert_eq!(server.seen_at(RESPONSES).len(), 1, "no replay");
    let ends = gateway.wait_for("request_end", 1, Duration::from_secs(5));
    assert_eq!(ends[0]["outcome"], "upstream_unavailable");
    gateway.stop().expect_code(0);
    // A transient failure marks nothing.
    let entry = &env.auth_json()["credential_pool"]["openai-codex"][0];
    assert!(entry["last_status"].is_null(), "{entry}");
}

#[test]
fn transient_failures_retry_the_same_profile_then_answer_503() {
    let env = Env::with_fixture("fresh.json");
    let server = FakeServer::start();
    server.on(
        RESPONSES,
        vec![Reply::json(503, r#"{"error":{"message":"busy"}}"#)],
    );
    let gateway = Gateway::with_upstream(&env, &server, &["--attempts", "3"]);
    let answer = gateway.post(RESPONSES, BODY);
    assert_eq!(answer.status, 503);
    assert_eq!(answer.json()["error"]["code"], "upstream_unavailable");
    assert!(
        answer.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("after 3 attempt")
    );
    assert_eq!(answer.header("x-should-retry"), Some("false"));
    assert_eq!(accounts_seen(&server), [ACCOUNTS[0]; 3]);
    gateway.stop().expect_code(0);
}

#[test]
fn an_exhausted_pool_answers_429_with_retry_after() {
    let env = Env::with_fixture("fresh.json");
    let server = FakeServer::start();
    server.on(RESPONSES, vec![usage_limit(600)]);
    let gateway = Gateway::with_upstream(&env, &server, &[]);
    let answer = gateway.post(RESPONSES, BODY);
    assert_eq!(answer.status, 429, "{}", answer.body);
    let retry: u64 = answer.header("retry-after").unwrap().parse().unwrap();
    assert!((590..=600).contains(&retry), "{retry}");
    let error = &answer.json()["error"];
    assert_eq!(error["code"], "pool_exhausted");
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains("next available at"),
        "{error}"
    );
    assert_eq!(accounts_seen(&server), ACCOUNTS);
    // The next request starts on no profile at all: every one is cooling.
    let again = gateway.post(RESPONSES, BODY);
    assert_eq!(again.status, 429);
    assert_eq!(server.seen_at(RESPONSES).len(), 3);
    let ready = gateway.get("/readyz");
    assert_eq!(ready.status, 503);
    assert!(ready.json()["pools"][0]["next_available_at"].is_string());
    gateway.stop().expect_code(0);
}

#[test]
fn a_rejected_request_gets_the_upstream_answer_without_the_pool_s_secrets() {
    let env = Env::with_fixture("fresh.json");
    let token = env.auth_json()["credential_pool"]["openai-codex"][0]["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    let server = FakeServer::start();
    let echo = json!({"error": {"type": "invalid_request_error", "code": "bad_model",
        "message": format!("model nope is unknown (you sent Bearer {token} for pro@example.com)")}});
    server.on(RESPONSES, vec![Reply::json(400, &echo.to_string())]);
    let gateway = Gateway::with_upstream(&env, &server, &[]);
    let answer = gateway.post(RESPONSES, BODY);
    assert_eq!(answer.status, 400);
    let body = answer.json();
    assert_eq!(body["error"]["code"], "bad_model");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.contains("model nope is unknown"), "{message}");
    assert!(!message.contains(&token[..20]), "{message}");
    assert!(!message.contains("pro@example.com"), "{message}");
    assert_eq!(server.seen_at(RESPONSES).len(), 1, "no retry, no rotation");
    gateway.stop().expect_code(0);
}

#[test]
fn an_upstream_redirect_is_neither_followed_nor_passed_on() {
    let env = Env::with_fixture("fresh.json");
    let server = FakeServer::start();
    let elsewhere = FakeServer::start_on("127.0.0.2");
    server.on(
        RESPONSES,
        vec![Reply::redirect(307, &format!("{}/steal", elsewhere.url))],
    );
    let gateway = Gateway::with_upstream(&env, &server, &[]);
    let answer = gateway.post(RESPONSES, BODY);
    assert_eq!(answer.status, 502, "{}", answer.body);
    assert!(answer.header("location").is_none());
    assert!(
        elsewhere.seen().is_empty(),
        "the credential went to the redirect target"
    );
    gateway.stop().expect_code(0);
}

#[test]
fn a_herd_across_a_usage_limit_rotates_every_request_and_writes_the_cooldown_once() {
    const HERD: usize = 24;
    let env = Env::with_fixture("fresh.json");
    let server = FakeServer::start();
    server.gate(HERD);
    server.on_header(
        RESPONSES,
        "chatgpt-account-id",
        ACCOUNTS[0],
        vec![Reply::Gated(Box::new(usage_limit(3600)))],
    );
    server.on(RESPONSES, vec![Reply::codex_text("served")]);
    let gateway = Gateway::with_upstream(&env, &server, &[]);
    let statuses: Vec<u16> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..HERD)
            .map(|_| scope.spawn(|| gateway.post(RESPONSES, BODY).status))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(statuses, vec![200; HERD]);
    let first: Vec<String> = accounts_seen(&server)
        .into_iter()
        .filter(|a| a == ACCOUNTS[0])
        .collect();
    assert_eq!(
        first.len(),
        HERD,
        "every request was in flight on profile 1"
    );
    // Every request that starts now sees the cooldown: none goes to profile 1.
    for _ in 0..8 {
        assert_eq!(gateway.post(RESPONSES, BODY).status, 200);
    }
    let seen = accounts_seen(&server);
    assert_eq!(seen.iter().filter(|a| *a == ACCOUNTS[0]).count(), HERD);
    assert_eq!(seen.len(), 2 * HERD + 8);
    std::thread::sleep(Duration::from_millis(600));
    let samples = metrics(&gateway.get("/metrics").body);
    let writes = samples["rotor_serve_state_writes_total"];
    assert!(
        writes <= 6.0,
        "{writes} writes for one cooldown and 32 successes"
    );
    gateway.stop().expect_code(0);
    let codex = &env.auth_json()["credential_pool"]["openai-codex"];
    assert_eq!(codex[0]["last_status"], "exhausted");
    assert_eq!(codex[1]["request_count"], (HERD + 8) as u64);
}

#[test]
fn an_operator_s_clear_on_disk_reaches_the_served_pool_without_a_restart() {
    let env = Env::with_fixture("fresh.json");
    let server = FakeServer::start();
    server.on(
        RESPONSES,
        vec![
            usage_limit(3600),
            usage_limit(3600),
            usage_limit(3600),
            Reply::codex_text("back"),
        ],
    );
    let gateway = Gateway::with_upstream(&env, &server, &[]);
    assert_eq!(gateway.post(RESPONSES, BODY).status, 429);
    // Written within about a second, under the lock.
    let start = Instant::now();
    while env.auth_json()["credential_pool"]["openai-codex"][2]["last_status"] != "exhausted" {
        assert!(
            start.elapsed() < Duration::from_secs(3),
            "the cooldowns never reached auth.json"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    env.run(&["cooldown", "clear", "--all"]).expect_code(0);
    let start = Instant::now();
    let answer = loop {
        let answer = gateway.post(RESPONSES, BODY);
        if answer.status == 200 || start.elapsed() > Duration::from_secs(3) {
            break answer;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(
        answer.status, 200,
        "the clear did not reach the gateway: {}",
        answer.body
    );
    assert!(
        start.elapsed() < Duration::from_millis(1600),
        "{:?}",
        start.elapsed()
    );
    gateway.stop().expect_code(0);
}

#[test]
fn sigterm_drains_requests_in_flight_then_flushes_and_exits_0() {
    let env = Env::with_fixture("fresh.json");
    let server = FakeServer::start();
    server.on(
        RESPONSES,
        vec![Reply::codex_deltas(
            &["slow ", "but ", "complete"],
            Duration::from_millis(300),
        )],
    );
    let gateway = Gateway::with_upstream(&env, &server, &[]);
    let url = format!("{}{RESPONSES}", gateway.url);
    let key = gateway.key.clone();
    let client = std::thread::spawn(move || stream(&url, &key, BODY));
    gateway.wait_for("attempt", 1, Duration::from_secs(5));
    let stopper = std::process::Command::new("kill")
        .args(["-TERM", &gateway.pid().to_string()])
        .status()
        .unwrap();
    assert!(stopper.success());
    let got = client.join().unwrap();
    assert!(got.clean_end);
    assert!(got.text.contains("complete"), "{}", got.text);
    let run = gateway.stop();
    run.expect_code(0);
    assert!(
        run.stderr.contains("stopping: 1 request(s) in flight"),
        "{}",
        run.stderr
    );
    assert_eq!(
        env.auth_json()["credential_pool"]["openai-codex"][0]["request_count"],
        1
    );
}

#[test]
fn bodies_over_max_body_get_413_and_requests_over_max_concurrency_get_503() {
    let env = Env::with_fixture("fresh.json");
    let server = FakeServer::start();
    server.on(RESPONSES, vec![Reply::codex_stall_after(&["thinking"])]);
    let gateway = Gateway::with_upstream(
        &env,
        &server,
        &[
            "--max-body",
            "1KiB",
            "--max-concurrency",
            "1",
            "--timeout",
            "20s",
            "--drain-timeout",
            "100ms",
        ],
    );
    let large = format!(r#"{{"model":"m","input":"{}"}}"#, "x".repeat(2000));
    let answer = gateway.post(RESPONSES, &large);
    assert_eq!(answer.status, 413);
    assert_eq!(answer.json()["error"]["code"], "request_too_large");
    let url = format!("{}{RESPONSES}", gateway.url);
    let key = gateway.key.clone();
    // One request stalls in flight; the next is refused at once.
    let stalled = std::thread::spawn(move || {
        let _ = http(
            "POST",
            &url,
            &[("authorization", &format!("Bearer {key}"))],
            BODY,
        );
    });
    gateway.wait_for("attempt", 1, Duration::from_secs(5));
    let busy = gateway.post(RESPONSES, BODY);
    assert_eq!(busy.status, 503);
    assert_eq!(busy.json()["error"]["code"], "too_many_requests");
    assert_eq!(busy.header("retry-after"), Some("1"));
    assert_eq!(server.seen_at(RESPONSES).len(), 1);
    // Stopping cuts the stalled request at --drain-timeout.
    let run = gateway.stop();
    run.expect_code(0);
    assert!(
        run.stderr.contains("cut at --drain-timeout"),
        "{}",
        run.stderr
    );
    stalled.join().unwrap();
}

#[test]
fn a_client_that_disconnects_cancels_its_upstream_request() {
    let env = Env::with_fixture("fresh.json");
    let server = FakeServer::start();
    server.on(
        RESPONSES,
        vec![Reply::codex_stall_after(&["a first piece"])],
    );
    let gateway = Gateway::with_upstream(&env, &server, &["--timeout", "30s"]);
    {
        use std::io::{Read, Write};
        let address = gateway.url.trim_start_matches("http://");
        let mut socket = std::net::TcpStream::connect(address).unwrap();
        let request = format!(
            "POST {RESPONSES} HTTP/1.1\r\nhost: x\r\nauthorization: Bearer {}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{BODY}",
            gateway.key,
            BODY.len()
        );
        socket.write_all(request.as_bytes()).unwrap();
        let mut first = [0u8; 64];
        let n = socket.read(&mut first).unwrap();
        assert!(String::from_utf8_lossy(&first[..n]).starts_with("HTTP/1.1 200"));
    }
    let ends = gateway.wait_for("request_end", 1, Duration::from_secs(5));
    assert_eq!(ends[0]["outcome"], "upstream_unavailable");
    let failed = gateway.events_named("attempt_failed");
    assert_eq!(failed[0]["error_type"], "client_closed");
    let start = Instant::now();
    while server.closed_by_client() == 0 {
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "the upstream request was not cancelled"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let samples = metrics(&gateway.get("/metrics").body);
    assert_eq!(
        samples["rotor_serve_client_disconnects_total{route=\"responses\"}"],
        1.0
    );
    gateway.stop().expect_code(0);
    let entry = &env.auth_json()["credential_pool"]["openai-codex"][0];
    assert!(
        entry["last_status"].is_null(),
        "a client leaving marks nothing: {entry}"
    );
}

#[test]
fn a_client_that_sends_its_body_too_slowly_gets_408() {
    use std::io::{Read, Write};
    let env = Env::with_fixture("fresh.json");
    let server = FakeServer::start();
    let gateway = Gateway::with_upstream(&env, &server, &["--client-timeout", "500ms"]);
    let address = gateway.url.trim_start_matches("http://");
    let mut socket = std::net::TcpStream::connect(address).unwrap();
    let head = format!(
        "POST {RESPONSES} HTTP/1.1\r\nhost: x\r\nauthorization: Bearer {}\r\ncontent-length: 100\r\n\r\n{{",
        gateway.key
    );
    socket.write_all(head.as_bytes()).unwrap();
    socket
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let mut answer = String::new();
    let _ = socket.read_to_string(&mut answer);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(server.seen().is_empty());
    gateway.stop().expect_code(0);
}

#[test]
fn start_up_refusals_have_their_exit_codes() {
    let env = Env::with_fixture("fresh.json");
    let run = env.run(&["serve", "--listen", "0.0.0.0:0"]);
    run.expect_code(2);
    assert!(run.stderr.contains("--allow-remote"), "{}", run.stderr);
    env.run(&["serve", "--listen", "nonsense"]).expect_code(2);
    env.run(&["serve", "--route", "responses=nope"])
        .expect_code(8);
    env.run(&["serve", "--route", "chat=openai-codex"])
        .expect_code(2);
    env.run(&["serve", "--max-body", "0"]).expect_code(2);
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = taken.local_addr().unwrap().to_string();
    let run = env.run(&["serve", "--listen", &address]);
    run.expect_code(2);
    assert!(run.stderr.contains("cannot listen"), "{}", run.stderr);
    let empty = Env::with_auth_bytes(br#"{"version":1,"credential_pool":{}}"#);
    empty.run(&["serve"]).expect_code(8);
}

#[test]
fn a_key_file_others_can_read_is_refused() {
    use std::os::unix::fs::PermissionsExt;
    let env = Env::with_fixture("fresh.json");
    let key = env.dir.path().join("rotor-serve.key");
    std::fs::write(&key, "0123456789abcdef0123456789abcdef\n").unwrap();
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
    let run = env.run(&["serve", "--listen", "127.0.0.1:0"]);
    run.expect_code(7);
    assert!(run.stderr.contains("chmod 600"), "{}", run.stderr);
    assert!(!run.stderr.contains("0123456789abcdef"), "{}", run.stderr);
}

#[test]
fn chat_completions_and_messages_are_served_from_their_pools() {
    let mut value: Value = serde_json::from_slice(&fixture_bytes("fresh.json")).unwrap();
    value["credential_pool"]["anthropic"] = json!([{
        "id": "an1", "label": "ANTHROPIC_API_KEY", "auth_type": "api_key", "priority": 0,
        "source": "env:ANTHROPIC_API_KEY", "access_token": "sk-ant-fake-000000000000", "last_status": null,
        "last_status_at": null, "last_error_code": null, "last_error_reason": null,
        "last_error_message": null, "last_error_reset_at": null, "request_count": 0
    }]);
    let env = Env::with_auth_bytes(&serde_json::to_vec_pretty(&value).unwrap());
    let server = FakeServer::start();
    server.on(
        "/v1/chat/completions",
        vec![Reply::chat_text("from router")],
    );
    server.on("/v1/messages", vec![Reply::anthropic_text("from claude")]);
    let gateway = Gateway::with_upstream(&env, &server, &[]);
    let chat = gateway.post(
        "/v1/chat/completions",
        r#"{"model":"m","stream":true,"messages":[{"role":"user","content":"hi"}]}"#,
    );
    assert_eq!(chat.status, 200);
    assert!(chat.body.contains("from router"));
    let seen = &server.seen_at("/v1/chat/completions")[0];
    assert_eq!(
        seen.header("authorization"),
        Some("Bearer sk-or-v1-fake-0000000000000000")
    );
    let messages = gateway.request(
        "POST",
        "/v1/messages",
        &[("x-api-key", &gateway.key), ("anthropic-version", "2023-06-01")],
        r#"{"model":"claude","max_tokens":10,"stream":true,"messages":[{"role":"user","content":"hi"}]}"#,
    );
    assert_eq!(messages.status, 200);
    assert!(messages.body.contains("from claude"));
    let seen = &server.seen_at("/v1/messages")[0];
    assert_eq!(seen.header("x-api-key"), Some("sk-ant-fake-000000000000"));
    assert!(seen.header("authorization").is_none());
    // An API without a pool, and a path that is not an API.
    let gateway_chatless = gateway;
    let missing = gateway_chatless.get("/api/tags");
    assert_eq!(missing.status, 404);
    let hint = gateway_chatless.post("/responses", "{}");
    assert_eq!(hint.status, 404);
    assert!(
        hint.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("/v1")
    );
    let models = gateway_chatless.get("/v1/models");
    assert_eq!(models.status, 200);
    assert!(models.json()["data"].as_array().unwrap().len() >= 2);
    gateway_chatless.stop().expect_code(0);
}

#[test]
fn concurrent_requests_share_one_token_refresh() {
    let mut value: Value = serde_json::from_slice(&fixture_bytes("fresh.json")).unwrap();
    let codex = value["credential_pool"]["openai-codex"]
        .as_array_mut()
        .unwrap();
    codex.truncate(1);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    codex[0]["access_token"] = Value::from(crate::call::jwt(now + 60.0, ACCOUNTS[0]));
    let env = Env::with_auth_bytes(&serde_json::to_vec_pretty(&value).unwrap());
    let server = FakeServer::start();
    let fresh = crate::call::jwt(4102444800.0, ACCOUNTS[0]);
    server.on(
        "/oauth/token",
        vec![
            Reply::json(
                200,
                &json!({"access_token": fresh, "refresh_token": "rt_rotated"}).to_string(),
            )
            .delayed(Duration::from_millis(300)),
        ],
    );
    server.on(RESPONSES, vec![Reply::codex_text("shared")]);
    let gateway = Gateway::with_upstream(&env, &server, &[]);
    let statuses: Vec<u16> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..8)
            .map(|_| scope.spawn(|| gateway.post(RESPONSES, BODY).status))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(statuses, vec![200; 8]);
    assert_eq!(
        server.seen_at("/oauth/token").len(),
        1,
        "one refresh for eight requests"
    );
    for seen in server.seen_at(RESPONSES) {
        assert_eq!(
            seen.header("authorization"),
            Some(format!("Bearer {fresh}").as_str())
        );
    }
    gateway.stop().expect_code(0);
    assert_eq!(
        env.auth_json()["credential_pool"]["openai-codex"][0]["refresh_token"],
        "rt_rotated"
    );
}
