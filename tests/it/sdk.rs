//! The official `openai` and `anthropic` Python SDKs talking to `rotor serve`.
//!
//! Each test starts a fake provider and a gateway in an [`Env`] of its own, then runs
//! `tests/sdk/client.py` with the SDK venv's python (`ROTOR_TEST_PYTHON`, else
//! `target/sdk-venv/bin/python`, which `scripts/sdk-venv.sh` makes). The script prints one JSON
//! object saying what the SDK's caller saw: the text, the events and their response ids, the
//! answer's headers, or the exception with its class, status, headers and body. The tests
//! check that, and what the fake provider saw, and auth.json and the trace. Without the venv a
//! test says SKIPPED and passes, except under `CI=true`, where it fails.

use crate::common::*;
use crate::fake::{FakeServer, Reply};
use crate::gateway::{Gateway, metrics};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::sync::LazyLock;
use std::time::{Duration, Instant, SystemTime};

const RESPONSES: &str = "/v1/responses";
const CHAT: &str = "/v1/chat/completions";
const MESSAGES: &str = "/v1/messages";
/// The `chatgpt_account_id` claims of the three Codex profiles of the Hermes fixtures.
const ACCOUNTS: [&str; 3] = ["acct-0001", "acct-0002", "acct-0003"];
/// The profile hashes of the Codex entries `a1b2c3` and `d4e5f6` (docs/events.md).
const CODEX_1: &str = "4f32044a655f";
const CODEX_2: &str = "880b00dcefe8";
/// The keys of the two Anthropic entries [`with_anthropic`] adds.
const ANTHROPIC_KEYS: [&str; 2] = ["sk-ant-fake-key-one-0000", "sk-ant-fake-key-two-0000"];
/// No client run may take longer than this.
const CLIENT_LIMIT: Duration = Duration::from_secs(25);

// ---- the SDK venv and the client script ----

/// The python of the SDK venv.
fn python() -> PathBuf {
    std::env::var_os("ROTOR_TEST_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target/sdk-venv/bin/python"))
}

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/sdk/client.py")
}

/// Whether the venv's python imports both SDKs (checked once per test binary).
static SDKS: LazyLock<Result<(), String>> = LazyLock::new(|| {
    let python = python();
    let hint = "make it with `bash scripts/sdk-venv.sh`, or point ROTOR_TEST_PYTHON at a python \
                that has openai and anthropic";
    let out = std::process::Command::new(&python)
        .args(["-c", "import openai, anthropic"])
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .output()
        .map_err(|e| format!("cannot run {}: {e}; {hint}", python.display()))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{} cannot import openai and anthropic ({}); {hint}",
            python.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
});

/// The prerequisite of every test here.
#[track_caller]
fn sdks() -> bool {
    prerequisite("python SDK venv", SDKS.clone())
}

/// A run of the client script, in the background.
struct Client {
    child: Child,
    out: tempfile::NamedTempFile,
    err: tempfile::NamedTempFile,
    _home: tempfile::TempDir,
    args: Vec<String>,
}

impl Client {
    /// `client.py ARGS` against `gateway`, with nothing of the developer's environment (no
    /// proxies, no OPENAI_* or ANTHROPIC_* variables).
    fn spawn(gateway: &Gateway, args: &[&str]) -> Client {
        let out = tempfile::NamedTempFile::new().unwrap();
        let err = tempfile::NamedTempFile::new().unwrap();
        let home = tempfile::tempdir().unwrap();
        let child = std::process::Command::new(python())
            .arg(script())
            .args(args)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", home.path())
            .env("ROTOR_URL", &gateway.url)
            .env("ROTOR_KEY", &gateway.key)
            .env("PYTHONUNBUFFERED", "1")
            .stdin(Stdio::null())
            .stdout(out.reopen().unwrap())
            .stderr(err.reopen().unwrap())
            .spawn()
            .unwrap();
        Client {
            child,
            out,
            err,
            _home: home,
            args: args.iter().map(|a| a.to_string()).collect(),
        }
    }

    /// Waits for the script (at most [`CLIENT_LIMIT`]) and returns what it printed.
    #[track_caller]
    fn wait(mut self) -> Value {
        let start = Instant::now();
        let status = loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                break status;
            }
            if start.elapsed() > CLIENT_LIMIT {
                let _ = self.child.kill();
                let _ = self.child.wait();
                panic!(
                    "client.py {:?} still running after {CLIENT_LIMIT:?}:\n{}",
                    self.args,
                    std::fs::read_to_string(self.err.path()).unwrap_or_default()
                );
            }
            std::thread::sleep(Duration::from_millis(10));
        };
        let stdout = std::fs::read_to_string(self.out.path()).unwrap();
        let stderr = std::fs::read_to_string(self.err.path()).unwrap();
        assert!(
            status.success(),
            "client.py {:?} failed ({status}):\n{stderr}",
            self.args
        );
        serde_json::from_str(stdout.trim()).unwrap_or_else(|e| {
            panic!(
                "client.py {:?} printed no JSON ({e}):\n{stdout}\n{stderr}",
                self.args
            )
        })
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// `client.py ARGS`, waited for.
#[track_caller]
fn client(gateway: &Gateway, args: &[&str]) -> Value {
    Client::spawn(gateway, args).wait()
}

/// Asserts the client got its answer, and returns it.
#[track_caller]
fn ok(result: Value, gateway: &Gateway) -> Value {
    assert_eq!(
        result["ok"],
        true,
        "the client failed: {result:#}\ngateway:\n{}",
        gateway.stderr()
    );
    result
}

/// Asserts the client raised, and returns its error.
#[track_caller]
fn raised(result: &Value) -> &Value {
    assert_eq!(result["ok"], false, "the client did not raise: {result:#}");
    &result["error"]
}

// ---- fixtures ----

fn now() -> f64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
}

fn fresh() -> Value {
    serde_json::from_slice(&fixture_bytes("fresh.json")).unwrap()
}

/// fresh.json plus an `anthropic` pool of two API keys.
fn with_anthropic(mut value: Value) -> Value {
    let entry = |n: usize| {
        json!({
            "id": format!("an{n}"), "label": format!("ANTHROPIC_API_KEY_{n}"),
            "auth_type": "api_key", "priority": n - 1, "source": "manual",
            "access_token": ANTHROPIC_KEYS[n - 1], "last_status": null, "last_status_at": null,
            "last_error_code": null, "last_error_reason": null, "last_error_message": null,
            "last_error_reset_at": null, "request_count": 0
        })
    };
    value["credential_pool"]["anthropic"] = json!([entry(1), entry(2)]);
    value
}

/// Marks every profile of `provider` exhausted by a usage limit, the first until `first_reset`
/// and the others an hour after it.
fn all_cooling(value: &mut Value, provider: &str, first_reset: f64) {
    let entries = value["credential_pool"][provider].as_array_mut().unwrap();
    for (i, entry) in entries.iter_mut().enumerate() {
        entry["last_status"] = json!("exhausted");
        entry["last_status_at"] = json!(now());
        entry["last_error_code"] = json!(429);
        entry["last_error_reason"] = json!("usage_limit_reached");
        entry["last_error_message"] = json!("The usage limit has been reached");
        entry["last_error_reset_at"] = json!(first_reset + if i == 0 { 0.0 } else { 3600.0 });
    }
}

fn env_of(value: &Value) -> Env {
    Env::with_auth_bytes(&serde_json::to_vec_pretty(value).unwrap())
}

fn entry<'a>(auth: &'a Value, provider: &str, i: usize) -> &'a Value {
    &auth["credential_pool"][provider][i]
}

// ---- what the fake provider sends ----

fn sse(data: &Value) -> String {
    format!(
        "event: {}\ndata: {data}\n\n",
        data["type"].as_str().unwrap_or("message")
    )
}

/// A 200 event stream of these frames, each sent `gap` after the previous one.
fn stream(frames: Vec<String>, gap: Duration) -> Reply {
    Reply::Stream {
        pieces: frames.into_iter().map(|f| (gap, f)).collect(),
        reset: false,
    }
}

/// A Responses-API response object answering `text`.
fn response_object(id: &str, text: &str, status: &str) -> Value {
    json!({
        "id": id, "object": "response", "created_at": 1_795_838_400, "status": status,
        "model": "gpt-5.5", "error": null, "incomplete_details": null,
        "output": [{"type": "message", "id": "msg_1", "status": "completed", "role": "assistant",
            "content": [{"type": "output_text", "text": text, "annotations": []}]}],
        "parallel_tool_calls": true, "tool_choice": "auto", "tools": [],
        "usage": {"input_tokens": 3, "output_tokens": 2, "total_tokens": 5,
            "input_tokens_details": {"cached_tokens": 0},
            "output_tokens_details": {"reasoning_tokens": 0}}
    })
}

fn response_in_progress(id: &str) -> Value {
    let mut response = response_object(id, "", "in_progress");
    response["output"] = json!([]);
    response["usage"] = Value::Null;
    response
}

/// The frames of a Responses-API stream of `id` before its first output.
fn codex_setup(id: &str) -> Vec<String> {
    vec![
        sse(&json!({"type": "response.created", "sequence_number": 0,
            "response": response_in_progress(id)})),
        sse(
            &json!({"type": "response.in_progress", "sequence_number": 1,
            "response": response_in_progress(id)}),
        ),
        sse(
            &json!({"type": "response.output_item.added", "sequence_number": 2, "output_index": 0,
            "item": {"type": "message", "id": "msg_1", "status": "in_progress", "role": "assistant",
                "content": []}}),
        ),
        sse(
            &json!({"type": "response.content_part.added", "sequence_number": 3,
            "item_id": "msg_1", "output_index": 0, "content_index": 0,
            "part": {"type": "output_text", "text": "", "annotations": []}}),
        ),
    ]
}

fn codex_delta(n: usize, delta: &str) -> String {
    sse(
        &json!({"type": "response.output_text.delta", "sequence_number": 4 + n,
        "item_id": "msg_1", "output_index": 0, "content_index": 0, "delta": delta, "logprobs": []}),
    )
}

/// The frames that close a Responses-API stream of `id` answering `text`.
fn codex_end(id: &str, text: &str) -> Vec<String> {
    let part = json!({"type": "output_text", "text": text, "annotations": []});
    vec![
        sse(
            &json!({"type": "response.output_text.done", "sequence_number": 900,
            "item_id": "msg_1", "output_index": 0, "content_index": 0, "text": text,
            "logprobs": []}),
        ),
        sse(
            &json!({"type": "response.content_part.done", "sequence_number": 901,
            "item_id": "msg_1", "output_index": 0, "content_index": 0, "part": part}),
        ),
        sse(
            &json!({"type": "response.output_item.done", "sequence_number": 902,
            "output_index": 0, "item": {"type": "message", "id": "msg_1", "status": "completed",
                "role": "assistant", "content": [part]}}),
        ),
        sse(
            &json!({"type": "response.completed", "sequence_number": 903,
            "response": response_object(id, text, "completed")}),
        ),
    ]
}

/// A whole Responses-API stream of `id` whose text comes as `deltas`.
fn codex_frames(id: &str, deltas: &[&str]) -> Vec<String> {
    let mut frames = codex_setup(id);
    frames.extend(deltas.iter().enumerate().map(|(n, d)| codex_delta(n, d)));
    frames.extend(codex_end(id, &deltas.concat()));
    frames
}

fn codex_answer(id: &str, deltas: &[&str]) -> Reply {
    stream(codex_frames(id, deltas), Duration::ZERO)
}

/// A Codex 429 `usage_limit_reached` that resets in `resets_in` seconds.
fn usage_limit(resets_in: u64) -> Reply {
    let body = json!({"error": {"type": "usage_limit_reached",
        "message": "The usage limit has been reached", "resets_in_seconds": resets_in}});
    Reply::json(429, &body.to_string())
}

fn chat_chunk(id: &str, delta: Value, finish: Option<&str>) -> String {
    let chunk = json!({"id": id, "object": "chat.completion.chunk", "created": 1_795_838_400,
        "model": "gpt-5.5", "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]});
    format!("data: {chunk}\n\n")
}

/// A whole Chat Completions stream of `id` whose text comes as `deltas`.
fn chat_frames(id: &str, deltas: &[&str]) -> Vec<String> {
    let mut frames = vec![chat_chunk(
        id,
        json!({"role": "assistant", "content": ""}),
        None,
    )];
    frames.extend(
        deltas
            .iter()
            .map(|d| chat_chunk(id, json!({"content": d}), None)),
    );
    frames.push(chat_chunk(id, json!({}), Some("stop")));
    frames.push("data: [DONE]\n\n".into());
    frames
}

fn anthropic_start(id: &str) -> Vec<String> {
    vec![
        sse(
            &json!({"type": "message_start", "message": {"id": id, "type": "message",
            "role": "assistant", "model": "claude-sonnet-4-5", "content": [], "stop_reason": null,
            "stop_sequence": null, "usage": {"input_tokens": 3, "output_tokens": 1}}}),
        ),
        sse(&json!({"type": "content_block_start", "index": 0,
            "content_block": {"type": "text", "text": ""}})),
        sse(&json!({"type": "ping"})),
    ]
}

fn anthropic_delta(text: &str) -> String {
    sse(&json!({"type": "content_block_delta", "index": 0,
        "delta": {"type": "text_delta", "text": text}}))
}

/// A whole Messages stream of `id` whose text comes as `deltas`.
fn anthropic_frames(id: &str, deltas: &[&str]) -> Vec<String> {
    let mut frames = anthropic_start(id);
    frames.extend(deltas.iter().map(|d| anthropic_delta(d)));
    frames.extend([
        sse(&json!({"type": "content_block_stop", "index": 0})),
        sse(
            &json!({"type": "message_delta", "delta": {"stop_reason": "end_turn",
            "stop_sequence": null}, "usage": {"output_tokens": 2}}),
        ),
        sse(&json!({"type": "message_stop"})),
    ]);
    frames
}

/// What the fake saw at `path`, by `header`.
fn seen_by(server: &FakeServer, path: &str, header: &str) -> Vec<String> {
    server
        .seen_at(path)
        .iter()
        .map(|s| s.header(header).unwrap_or("-").to_string())
        .collect()
}

fn accounts_seen(server: &FakeServer) -> Vec<String> {
    seen_by(server, RESPONSES, "chatgpt-account-id")
}

/// Polls `what` every 20 ms until it holds (at most `within`).
#[track_caller]
fn eventually(within: Duration, mut what: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    while start.elapsed() < within {
        if what() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    what()
}

/// The value of the first `/metrics` sample whose series starts with `prefix`.
fn sample_of(gateway: &Gateway, prefix: &str) -> Option<f64> {
    let answer = gateway.get("/metrics");
    assert_eq!(answer.status, 200, "{}", answer.body);
    metrics(&answer.body)
        .iter()
        .find(|(k, _)| k.starts_with(prefix))
        .map(|(_, v)| *v)
}

/// A counter of `/metrics` (0 before its first count: its series appears only then).
fn sample(gateway: &Gateway, prefix: &str) -> f64 {
    sample_of(gateway, prefix).unwrap_or(0.0)
}

// ---- the three APIs, as each SDK speaks them ----

#[test]
fn openai_sdk_responses_streamed_and_not() {
    if !sdks() {
        return;
    }
    let env = Env::with_fixture("fresh.json");
    let server = FakeServer::start();
    server.on(
        RESPONSES,
        vec![
            Reply::json(
                200,
                &response_object("resp_whole", "hello whole", "completed").to_string(),
            ),
            codex_answer("resp_raw", &["hello ", "raw"]),
            codex_answer("resp_helper", &["hello ", "helper"]),
        ],
    );
    let gateway = Gateway::with_upstream(&env, &server, &[]);

    let whole = ok(client(&gateway, &["responses"]), &gateway);
    assert_eq!(whole["text"], "hello whole");
    assert_eq!(whole["ids"], json!(["resp_whole"]));
    assert_eq!(whole["final"]["status"], "completed");
    assert_eq!(whole["headers"]["x-rotor-profile"], CODEX_1);

    let raw = ok(client(&gateway, &["responses", "--stream"]), &gateway);
    assert_eq!(raw["text"], "hello raw");
    assert_eq!(raw["ids"], json!(["resp_raw"]));
    assert_eq!(raw["events"][0], "response.created");
    assert_eq!(raw["events"].as_array().unwrap().len(), 10, "{raw}");
    assert_eq!(
        raw["events"].as_array().unwrap().last().unwrap(),
        "response.completed"
    );
    assert!(
        raw["headers"]["content-type"]
            .as_str()
            .unwrap()
            .starts_with("text/event-stream")
    );

    let helper = ok(client(&gateway, &["responses", "--helper"]), &gateway);
    assert_eq!(helper["final"]["text"], "hello helper");
    assert_eq!(helper["ids"], json!(["resp_helper"]));

    // What went upstream: the SDK's own body, under profile 1's credentials.
    let seen = server.seen_at(RESPONSES);
    assert_eq!(accounts_seen(&server), [ACCOUNTS[0]; 3]);
    let bodies: Vec<Value> = seen
        .iter()
        .map(|s| serde_json::from_str(&s.body).unwrap())
        .collect();
    assert!(bodies.iter().all(|b| b["model"] == "gpt-5.5"));
    assert_eq!(bodies[0]["stream"], false, "{}", bodies[0]);
    assert_eq!(bodies[1]["stream"], true);
    assert_eq!(bodies[2]["stream"], true);
    assert!(seen.iter().all(|s| {
        s.header("user-agent")
            .is_some_and(|ua| ua.starts_with("OpenAI/Python"))
    }));
    assert!(
        !seen
            .iter()
            .any(|s| s.headers.iter().any(|(_, v)| v.contains(&gateway.key)))
    );
    let ends = gateway.wait_for("request_end", 3, Duration::from_secs(5));
    assert!(ends.iter().all(|e| e["outcome"] == "success"));
    gateway.stop().expect_code(0);
    assert_eq!(
        entry(&env.auth_json(), "openai-codex", 0)["request_count"],
        3
    );
}

#[test]
fn openai_sdk_chat_completions_streamed_and_not() {
    if !sdks() {
        return;
    }
    let env = Env::with_fixture("fresh.json");
    let server = FakeServer::start();
    let whole = json!({"id": "chatcmpl-whole", "object": "chat.completion", "created": 1,
        "model": "gpt-5.5", "choices": [{"index": 0, "finish_reason": "stop",
            "message": {"role": "assistant", "content": "hello whole"}}],
        "usage": {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5}});
    server.on(
        CHAT,
        vec![
            Reply::json(200, &whole.to_string()),
            stream(
                chat_frames("chatcmpl-stream", &["hello ", "stream"]),
                Duration::ZERO,
            ),
        ],
    );
    let gateway = Gateway::with_upstream(&env, &server, &[]);
    let whole = ok(client(&gateway, &["chat"]), &gateway);
    assert_eq!(whole["text"], "hello whole");
    assert_eq!(whole["final"]["finish_reason"], "stop");
    let streamed = ok(client(&gateway, &["chat", "--stream"]), &gateway);
    assert_eq!(streamed["text"], "hello stream");
    assert_eq!(streamed["ids"], json!(["chatcmpl-stream"]));
    assert_eq!(streamed["events"].as_array().unwrap().len(), 4);
    assert_eq!(streamed["final"]["finish_reason"], "stop");
    // The one OpenAI-compatible pool answered, with its own key.
    let seen = seen_by(&server, CHAT, "authorization");
    assert_eq!(seen, ["Bearer sk-or-v1-fake-0000000000000000"; 2]);
    gateway.stop().expect_code(0);
    assert_eq!(entry(&env.auth_json(), "openrouter", 0)["request_count"], 2);
}

#[test]
fn anthropic_sdk_messages_streamed_and_not() {
    if !sdks() {
        return;
    }
    let env = env_of(&with_anthropic(fresh()));
    let server = FakeServer::start();
    let whole = json!({"id": "msg_whole", "type": "message", "role": "assistant",
        "model": "claude-sonnet-4-5", "content": [{"type": "text", "text": "hello whole"}],
        "stop_reason": "end_turn", "stop_sequence": null,
        "usage": {"input_tokens": 3, "output_tokens": 2}});
    server.on(
        MESSAGES,
        vec![
            Reply::json(200, &whole.to_string()),
            stream(
                anthropic_frames("msg_raw", &["hello ", "raw"]),
                Duration::ZERO,
            ),
            stream(
                anthropic_frames("msg_helper", &["hello ", "helper"]),
                Duration::ZERO,
            ),
        ],
    );
    let gateway = Gateway::with_upstream(&env, &server, &[]);
    let whole = ok(client(&gateway, &["messages"]), &gateway);
    assert_eq!(whole["text"], "hello whole");
    assert_eq!(whole["ids"], json!(["msg_whole"]));
    assert_eq!(whole["final"]["stop_reason"], "end_turn");
    let raw = ok(client(&gateway, &["messages", "--stream"]), &gateway);
    assert_eq!(raw["text"], "hello raw");
    assert_eq!(raw["ids"], json!(["msg_raw"]));
    assert_eq!(
        raw["events"],
        json!([
            "message_start",
            "content_block_start",
            "content_block_delta",
            "content_block_delta",
            "content_block_stop",
            "message_delta",
            "message_stop"
        ])
    );
    let helper = ok(client(&gateway, &["messages", "--helper"]), &gateway);
    assert_eq!(helper["final"]["text"], "hello helper");
    assert_eq!(helper["final"]["stop_reason"], "end_turn");
    assert_eq!(helper["ids"], json!(["msg_helper"]));
    // Upstream: the pool's key as x-api-key, the SDK's anthropic-version, never the serve key.
    let seen = server.seen_at(MESSAGES);
    assert_eq!(seen.len(), 3);
    for s in &seen {
        assert_eq!(s.header("x-api-key"), Some(ANTHROPIC_KEYS[0]));
        assert!(s.header("anthropic-version").is_some());
        assert!(!s.headers.iter().any(|(_, v)| v.contains(&gateway.key)));
    }
    let body: Value = serde_json::from_str(&seen[1].body).unwrap();
    assert_eq!(body["stream"], true);
    assert_eq!(body["max_tokens"], 64);
    gateway.stop().expect_code(0);
    assert_eq!(entry(&env.auth_json(), "anthropic", 0)["request_count"], 3);
}

// ---- rotation the client never sees ----

#[test]
fn a_usage_limit_rotates_within_the_sdk_s_one_request() {
    if !sdks() {
        return;
    }
    let env = Env::with_fixture("fresh.json");
    let server = FakeServer::start();
    server.on_header(
        RESPONSES,
        "chatgpt-account-id",
        ACCOUNTS[0],
        vec![usage_limit(3600)],
    );
    server.on(RESPONSES, vec![codex_answer("resp_2", &["from ", "two"])]);
    let gateway = Gateway::with_upstream(&env, &server, &[]);
    let result = ok(client(&gateway, &["responses", "--stream"]), &gateway);
    assert_eq!(result["text"], "from two");
    assert_eq!(result["ids"], json!(["resp_2"]));
    assert_eq!(result["headers"]["x-rotor-profile"], CODEX_2);
    assert_eq!(accounts_seen(&server), [ACCOUNTS[0], ACCOUNTS[1]]);
    let rotations = gateway.events_named("profile_rotation");
    assert_eq!(rotations.len(), 1, "{}", gateway.stderr());
    assert_eq!(rotations[0]["from_profile"], CODEX_1);
    assert_eq!(rotations[0]["to_profile"], CODEX_2);
    gateway.stop().expect_code(0);
    let auth = env.auth_json();
    assert_eq!(entry(&auth, "openai-codex", 0)["last_status"], "exhausted");
    assert_eq!(entry(&auth, "openai-codex", 0)["last_error_code"], 429);
    assert_eq!(entry(&auth, "openai-codex", 1)["request_count"], 1);
}

#[test]
fn a_response_failed_event_before_output_rotates_unseen() {
    if !sdks() {
        return;
    }
    let env = Env::with_fixture("fresh.json");
    let server = FakeServer::start();
    let mut failed = codex_setup("resp_first");
    let mut response = response_in_progress("resp_first");
    response["status"] = json!("failed");
    response["error"] = json!({"code": "usage_limit_reached",
        "message": "The usage limit has been reached"});
    failed.push(sse(
        &json!({"type": "response.failed", "sequence_number": 4, "response": response}),
    ));
    server.on_header(
        RESPONSES,
        "chatgpt-account-id",
        ACCOUNTS[0],
        vec![stream(failed, Duration::ZERO)],
    );
    server.on(
        RESPONSES,
        vec![codex_answer("resp_second", &["second ", "answer"])],
    );
    let gateway = Gateway::with_upstream(&env, &server, &[]);
    let result = ok(client(&gateway, &["responses", "--stream"]), &gateway);
    // Every event the SDK yielded belongs to the second attempt.
    assert_eq!(result["ids"], json!(["resp_second"]), "{result:#}");
    assert_eq!(result["text"], "second answer");
    let events = result["events"].as_array().unwrap();
    assert_eq!(
        events.iter().filter(|e| *e == "response.created").count(),
        1
    );
    assert!(!events.iter().any(|e| e == "response.failed"));
    assert_eq!(accounts_seen(&server), [ACCOUNTS[0], ACCOUNTS[1]]);
    let failed = gateway.events_named("attempt_failed");
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0]["class"], "rate_limit");
    gateway.stop().expect_code(0);
    assert_eq!(
        entry(&env.auth_json(), "openai-codex", 0)["last_status"],
        "exhausted"
    );
}

#[test]
fn an_anthropic_overloaded_event_before_output_is_retried_unseen() {
    if !sdks() {
        return;
    }
    let env = env_of(&with_anthropic(fresh()));
    let server = FakeServer::start();
    let mut overloaded = anthropic_start("msg_first");
    overloaded.push(sse(&json!({"type": "error",
        "error": {"type": "overloaded_error", "message": "Overloaded"}})));
    server.on(
        MESSAGES,
        vec![
            stream(overloaded, Duration::ZERO),
            stream(
                anthropic_frames("msg_second", &["second ", "answer"]),
                Duration::ZERO,
            ),
        ],
    );
    let gateway = Gateway::with_upstream(&env, &server, &[]);
    for args in [["messages", "--stream"], ["messages", "--helper"]] {
        let result = ok(client(&gateway, &args), &gateway);
        assert_eq!(result["ids"], json!(["msg_second"]), "{args:?}: {result:#}");
        assert_eq!(result["text"], "second answer", "{args:?}");
        let starts = result["events"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| *e == "message_start")
            .count();
        assert_eq!(starts, 1, "{args:?}: {result:#}");
    }
    // The first request met the overload and was retried; the second went through at once.
    assert_eq!(server.seen_at(MESSAGES).len(), 3);
    let failed = gateway.events_named("attempt_failed");
    assert_eq!(failed.len(), 1, "{}", gateway.stderr());
    assert_eq!(failed[0]["class"], "transient");
    assert_eq!(failed[0]["error_type"], "overloaded_error");
    gateway.stop().expect_code(0);
}

#[test]
fn a_chat_error_chunk_before_output_is_retried_unseen() {
    if !sdks() {
        return;
    }
    let env = Env::with_fixture("fresh.json");
    let server = FakeServer::start();
    let error = json!({"error": {"message": "upstream overloaded", "type": "server_error",
        "code": "server_error"}});
    server.on(
        CHAT,
        vec![
            stream(
                vec![
                    chat_chunk("chatcmpl-first", json!({"role": "assistant"}), None),
                    format!("data: {error}\n\n"),
                ],
                Duration::ZERO,
            ),
            stream(
                chat_frames("chatcmpl-second", &["second ", "answer"]),
                Duration::ZERO,
            ),
        ],
    );
    let gateway = Gateway::with_upstream(&env, &server, &[]);
    let result = ok(client(&gateway, &["chat", "--stream"]), &gateway);
    assert_eq!(result["ids"], json!(["chatcmpl-second"]), "{result:#}");
    assert_eq!(result["text"], "second answer");
    assert_eq!(server.seen_at(CHAT).len(), 2);
    let failed = gateway.events_named("attempt_failed");
    assert_eq!(failed.len(), 1, "{}", gateway.stderr());
    assert_eq!(failed[0]["class"], "transient");
    gateway.stop().expect_code(0);
}

// ---- a cut after output: never replayed ----

#[test]
fn a_responses_stream_cut_after_output_is_not_replayed() {
    if !sdks() {
        return;
    }
    let env = Env::with_fixture("fresh.json");
    let server = FakeServer::start();
    let mut frames = codex_setup("resp_cut");
    frames.extend([codex_delta(0, "partial "), codex_delta(1, "text")]);
    server.on(
        RESPONSES,
        vec![
            Reply::Stream {
                pieces: frames
                    .into_iter()
                    .map(|f| (Duration::from_millis(10), f))
                    .collect(),
                reset: true,
            },
            codex_answer("resp_replayed", &["must ", "not ", "come"]),
        ],
    );
    let gateway = Gateway::with_upstream(&env, &server, &[]);
    let result = client(&gateway, &["responses", "--stream"]);
    let error = raised(&result);
    // The SDK raises (the connection breaks after rotor's error event); what it yielded before
    // is exactly what the first attempt sent.
    assert!(
        ["APIConnectionError", "APIError"].contains(&error["class"].as_str().unwrap()),
        "{result:#}"
    );
    assert_eq!(result["text"], "partial text");
    assert_eq!(result["ids"], json!(["resp_cut"]));
    assert_eq!(
        result["stream_errors"][0]["code"], "stream_interrupted",
        "{result:#}"
    );
    assert!(
        !result["events"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e == "response.completed")
    );
    let ends = gateway.wait_for("request_end", 1, Duration::from_secs(5));
    assert_eq!(
        server.seen_at(RESPONSES).len(),
        1,
        "never replayed: {}",
        gateway.stderr()
    );
    assert_eq!(ends[0]["attempts"], 1);
    assert_ne!(ends[0]["outcome"], "success");
    gateway.stop().expect_code(0);
}

#[test]
fn a_messages_stream_cut_after_output_is_not_replayed() {
    if !sdks() {
        return;
    }
    let env = env_of(&with_anthropic(fresh()));
    let server = FakeServer::start();
    let mut frames = anthropic_start("msg_cut");
    frames.extend([anthropic_delta("partial "), anthropic_delta("text")]);
    server.on(
        MESSAGES,
        vec![
            Reply::Stream {
                pieces: frames
                    .into_iter()
                    .map(|f| (Duration::from_millis(10), f))
                    .collect(),
                reset: false,
            },
            stream(
                anthropic_frames("msg_replayed", &["must ", "not ", "come"]),
                Duration::ZERO,
            ),
        ],
    );
    let gateway = Gateway::with_upstream(&env, &server, &[]);
    // This time the upstream ends cleanly, only without its message_stop.
    let result = client(&gateway, &["messages", "--stream"]);
    let error = raised(&result);
    assert_eq!(error["module"], "anthropic", "{result:#}");
    assert_eq!(result["text"], "partial text");
    assert_eq!(result["ids"], json!(["msg_cut"]));
    assert!(
        !result["events"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e == "message_stop")
    );
    gateway.wait_for("request_end", 1, Duration::from_secs(5));
    assert_eq!(server.seen_at(MESSAGES).len(), 1, "never replayed");
    gateway.stop().expect_code(0);
}

#[test]
fn a_chat_stream_cut_after_output_is_not_replayed() {
    if !sdks() {
        return;
    }
    let env = Env::with_fixture("fresh.json");
    let server = FakeServer::start();
    let frames = vec![
        chat_chunk(
            "chatcmpl-cut",
            json!({"role": "assistant", "content": ""}),
            None,
        ),
        chat_chunk("chatcmpl-cut", json!({"content": "partial "}), None),
        chat_chunk("chatcmpl-cut", json!({"content": "text"}), None),
    ];
    server.on(
        CHAT,
        vec![
            Reply::Stream {
                pieces: frames
                    .into_iter()
                    .map(|f| (Duration::from_millis(10), f))
                    .collect(),
                reset: true,
            },
            stream(
                chat_frames("chatcmpl-replayed", &["must ", "not ", "come"]),
                Duration::ZERO,
            ),
        ],
    );
    let gateway = Gateway::with_upstream(&env, &server, &[]);
    let result = client(&gateway, &["chat", "--stream"]);
    let error = raised(&result);
    // rotor's error chunk reaches the SDK before the broken connection, and it raises on it.
    assert_eq!(error["class"], "APIError", "{result:#}");
    assert_eq!(error["code"], "stream_interrupted");
    assert_eq!(result["text"], "partial text");
    assert_eq!(result["ids"], json!(["chatcmpl-cut"]));
    gateway.wait_for("request_end", 1, Duration::from_secs(5));
    assert_eq!(server.seen_at(CHAT).len(), 1, "never replayed");
    gateway.stop().expect_code(0);
}

// ---- a herd across a usage limit ----

#[test]
fn a_herd_of_sdk_requests_crosses_a_usage_limit_with_one_coalesced_cooldown() {
    if !sdks() {
        return;
    }
    const HERD: usize = 48;
    let env = Env::with_fixture("fresh.json");
    let server = FakeServer::start();
    // Profile 1 answers nobody until the whole herd is waiting on it, then all get the 429.
    server.gate(HERD);
    server.on_header(
        RESPONSES,
        "chatgpt-account-id",
        ACCOUNTS[0],
        vec![Reply::Gated(Box::new(usage_limit(3600)))],
    );
    server.on(RESPONSES, vec![codex_answer("resp_herd", &["herd ", "ok"])]);
    let gateway = Gateway::with_upstream(&env, &server, &[]);
    let threads = HERD.to_string();
    let first = client(&gateway, &["responses", "--stream", "--threads", &threads]);
    let results = first["results"].as_array().unwrap();
    assert_eq!(results.len(), HERD);
    for r in results {
        assert_eq!(r["ok"], true, "{r:#}");
        assert_eq!(r["text"], "herd ok");
        assert_eq!(r["headers"]["x-rotor-profile"], CODEX_2);
    }
    let accounts = accounts_seen(&server);
    assert_eq!(accounts.len(), 2 * HERD);
    assert!(
        accounts[..HERD].iter().all(|a| a == ACCOUNTS[0]),
        "the whole herd was on profile 1 when it answered: {accounts:?}"
    );
    assert!(accounts[HERD..].iter().all(|a| a == ACCOUNTS[1]));

    // A second wave sends nothing to the cooling profile.
    let second = client(&gateway, &["responses", "--stream", "--threads", &threads]);
    assert!(
        second["results"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["ok"] == true)
    );
    let accounts = accounts_seen(&server);
    assert_eq!(accounts.len(), 3 * HERD);
    assert!(accounts[2 * HERD..].iter().all(|a| a == ACCOUNTS[1]));

    // 96 requests and 48 cooldowns of profile 1, in memory at once; auth.json is written at
    // most once per coalescing window (200 ms), not once per change (that would be 144).
    let cooled = sample(
        &gateway,
        "rotor_serve_cooldowns_total{provider=\"openai-codex\",kind=\"rate_limit\"}",
    );
    assert_eq!(cooled, HERD as f64);
    let writes = sample(&gateway, "rotor_serve_state_writes_total");
    assert!(
        (1.0..=12.0).contains(&writes),
        "{writes} writes of auth.json for {} requests",
        2 * HERD
    );
    gateway.stop().expect_code(0);
    let auth = env.auth_json();
    assert_eq!(entry(&auth, "openai-codex", 0)["last_status"], "exhausted");
    assert_eq!(entry(&auth, "openai-codex", 1)["request_count"], 2 * HERD);
}

// ---- rotor's own answers, as SDK exceptions ----

#[test]
fn an_exhausted_pool_is_a_rate_limit_error_with_retry_after() {
    if !sdks() {
        return;
    }
    let reset = (now() + 3600.0).floor();
    let mut value = with_anthropic(fresh());
    all_cooling(&mut value, "openai-codex", reset);
    all_cooling(&mut value, "anthropic", reset);
    let env = env_of(&value);
    let server = FakeServer::start();
    server.on(RESPONSES, vec![codex_answer("resp_no", &["no"])]);
    server.on(
        MESSAGES,
        vec![stream(anthropic_frames("msg_no", &["no"]), Duration::ZERO)],
    );
    let gateway = Gateway::with_upstream(&env, &server, &[]);
    let when = listed_cooldown_end(&env, reset);

    let openai = client(&gateway, &["responses", "--stream"]);
    let error = raised(&openai);
    assert_eq!(error["class"], "RateLimitError", "{openai:#}");
    assert_eq!(error["status"], 429);
    assert_eq!(error["code"], "pool_exhausted");
    assert_eq!(error["type"], "rate_limit_error");
    let retry_after: f64 = error["headers"]["retry-after"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        (3590.0..=3601.0).contains(&retry_after),
        "Retry-After {retry_after} is the time to the earliest reset"
    );
    let message = error["body"]["message"].as_str().unwrap();
    assert!(message.contains(&when), "{message} names {when}");

    let anthropic = client(&gateway, &["messages", "--stream"]);
    let error = raised(&anthropic);
    assert_eq!(error["class"], "RateLimitError", "{anthropic:#}");
    assert_eq!(error["module"], "anthropic");
    assert_eq!(error["status"], 429);
    assert_eq!(error["type"], "rate_limit_error");
    let retry_after: f64 = error["headers"]["retry-after"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((3590.0..=3601.0).contains(&retry_after), "{anthropic:#}");
    assert!(error["message"].as_str().unwrap().contains(&when));

    assert!(server.seen().is_empty(), "nothing went upstream");
    let ends = gateway.wait_for("request_end", 2, Duration::from_secs(5));
    assert!(ends.iter().all(|e| e["outcome"] == "pool_exhausted"));
    gateway.stop().expect_code(0);
}

/// The cooldown end of Codex profile 1 as `profiles list` writes it (RFC 3339 to the second),
/// checked to be `at` (epoch seconds).
fn listed_cooldown_end(env: &Env, at: f64) -> String {
    let run = env.run(&[
        "profiles",
        "list",
        "--format",
        "json",
        "--provider",
        "openai-codex",
    ]);
    run.expect_code(0);
    let listed = run.json();
    let first = &listed["providers"][0]["profiles"][0];
    let until = first["cooldown_until"].as_str().unwrap().to_string();
    let left = first["cooldown_seconds_left"].as_f64().unwrap();
    assert!((at - now() - left).abs() < 5.0, "{until} is {at}");
    until
}

#[test]
fn a_wrong_key_is_an_authentication_error_in_both_sdks() {
    if !sdks() {
        return;
    }
    let env = env_of(&with_anthropic(fresh()));
    let server = FakeServer::start();
    server.on(RESPONSES, vec![codex_answer("resp_no", &["no"])]);
    let gateway = Gateway::with_upstream(&env, &server, &[]);
    let wrong = "sk-wrong-0123456789abcdef0123456789";
    let openai = client(&gateway, &["responses", "--stream", "--key", wrong]);
    let error = raised(&openai);
    assert_eq!(error["class"], "AuthenticationError", "{openai:#}");
    assert_eq!(error["module"], "openai");
    assert_eq!(error["status"], 401);
    assert_eq!(error["code"], "invalid_api_key");
    assert_eq!(error["headers"]["x-should-retry"], "false");
    let anthropic = client(&gateway, &["messages", "--key", wrong]);
    let error = raised(&anthropic);
    assert_eq!(error["class"], "AuthenticationError", "{anthropic:#}");
    assert_eq!(error["module"], "anthropic");
    assert_eq!(error["status"], 401);
    assert_eq!(error["type"], "authentication_error");
    assert!(server.seen().is_empty());
    assert!(gateway.events_named("request_start").is_empty());
    gateway.stop().expect_code(0);
}

#[test]
fn a_cooldown_cleared_on_disk_is_served_again_within_two_seconds() {
    if !sdks() {
        return;
    }
    let mut value = fresh();
    all_cooling(&mut value, "openai-codex", now() + 3600.0);
    let env = env_of(&value);
    let server = FakeServer::start();
    server.on(RESPONSES, vec![codex_answer("resp_back", &["back"])]);
    let gateway = Gateway::with_upstream(&env, &server, &[]);
    // The client asks every 100 ms and is refused while every profile cools.
    let poller = Client::spawn(&gateway, &["responses", "--stream", "--poll", "10"]);
    let ends = gateway.wait_for("request_end", 2, Duration::from_secs(10));
    assert!(ends.iter().all(|e| e["outcome"] == "pool_exhausted"));
    // An operator clears the cooldowns while the gateway runs.
    env.run(&["cooldown", "clear", "--all", "--provider", "openai-codex"])
        .expect_code(0);
    let cleared = now();
    let result = ok(poller.wait(), &gateway);
    assert_eq!(result["text"], "back");
    let tries = result["tries"].as_array().unwrap();
    assert!(tries.len() >= 3, "{result:#}");
    assert!(
        tries[..tries.len() - 1].iter().all(|t| *t == 429),
        "{tries:?}"
    );
    let lag = result["ended_at"].as_f64().unwrap() - cleared;
    assert!(
        lag < 2.0,
        "served again {lag:.2} s after the clear; tries {tries:?}\n{}",
        gateway.stderr()
    );
    assert_eq!(accounts_seen(&server), [ACCOUNTS[0]]);
    assert!(sample(&gateway, "rotor_serve_state_reloads_total") >= 1.0);
    gateway.stop().expect_code(0);
}

#[test]
fn sigterm_lets_a_slow_sdk_stream_finish_and_flushes_its_state() {
    if !sdks() {
        return;
    }
    let env = Env::with_fixture("fresh.json");
    let server = FakeServer::start();
    let deltas: Vec<String> = (0..12).map(|i| format!("w{i} ")).collect();
    let deltas: Vec<&str> = deltas.iter().map(String::as_str).collect();
    server.on(
        RESPONSES,
        vec![stream(
            codex_frames("resp_slow", &deltas),
            Duration::from_millis(120),
        )],
    );
    let gateway = Gateway::with_upstream(&env, &server, &[]);
    let slow = Client::spawn(&gateway, &["responses", "--stream"]);
    assert!(
        eventually(Duration::from_secs(10), || server.seen_at(RESPONSES).len()
            == 1),
        "the request did not arrive upstream"
    );
    // Well inside the stream (about 2 s long) when the signal comes.
    std::thread::sleep(Duration::from_millis(600));
    let run = gateway.stop();
    run.expect_code(0);
    assert!(
        run.stderr.contains("1 request(s) in flight"),
        "{}",
        run.stderr
    );
    let result = slow.wait();
    assert_eq!(result["ok"], true, "{result:#}\n{}", run.stderr);
    assert_eq!(result["text"], deltas.concat());
    assert_eq!(
        result["events"].as_array().unwrap().last().unwrap(),
        "response.completed"
    );
    let auth = env.auth_json();
    assert_eq!(entry(&auth, "openai-codex", 0)["request_count"], 1);
    assert_eq!(entry(&auth, "openai-codex", 0)["last_status"], "ok");
}

#[test]
fn a_body_over_max_body_is_a_413_status_error() {
    if !sdks() {
        return;
    }
    let env = env_of(&with_anthropic(fresh()));
    let server = FakeServer::start();
    server.on(RESPONSES, vec![codex_answer("resp_small", &["small"])]);
    let gateway = Gateway::with_upstream(&env, &server, &["--max-body", "1KiB"]);
    let small = ok(
        client(&gateway, &["responses", "--stream", "--input-bytes", "200"]),
        &gateway,
    );
    assert_eq!(small["text"], "small");
    let big = client(
        &gateway,
        &["responses", "--stream", "--input-bytes", "4096"],
    );
    let error = raised(&big);
    assert_eq!(error["class"], "APIStatusError", "{big:#}");
    assert_eq!(error["status"], 413);
    assert_eq!(error["code"], "request_too_large");
    let anthropic = client(&gateway, &["messages", "--input-bytes", "4096"]);
    let error = raised(&anthropic);
    assert_eq!(error["status"], 413, "{anthropic:#}");
    assert!(
        error["bases"]
            .as_array()
            .unwrap()
            .iter()
            .any(|b| b == "APIStatusError"),
        "{anthropic:#}"
    );
    // The refused body was never read: the next request on the SDK's kept-alive connection
    // must still be understood.
    let after = client(
        &gateway,
        &["responses", "--stream", "--sizes", "4096,200,8192,200"],
    );
    let statuses: Vec<Value> = after["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            if r["ok"] == true {
                json!(200)
            } else {
                r["error"]["status"].clone()
            }
        })
        .collect();
    assert_eq!(statuses, [413, 200, 413, 200], "{after:#}");
    assert_eq!(
        server.seen().len(),
        3,
        "only the small requests went upstream"
    );
    gateway.stop().expect_code(0);
}

#[test]
fn past_max_concurrency_the_sdk_gets_503() {
    if !sdks() {
        return;
    }
    let env = Env::with_fixture("fresh.json");
    let server = FakeServer::start();
    // The first request waits upstream until the gate opens.
    server.gate(2);
    server.on(
        RESPONSES,
        vec![Reply::Gated(Box::new(codex_answer(
            "resp_first",
            &["first"],
        )))],
    );
    let gateway = Gateway::with_upstream(&env, &server, &["--max-concurrency", "1"]);
    let first = Client::spawn(&gateway, &["responses", "--stream"]);
    assert!(eventually(Duration::from_secs(10), || server
        .seen_at(RESPONSES)
        .len()
        == 1));
    let second = client(&gateway, &["responses", "--stream"]);
    let error = raised(&second);
    assert_eq!(error["status"], 503, "{second:#}");
    assert_eq!(error["class"], "InternalServerError");
    assert_eq!(error["code"], "too_many_requests");
    assert_eq!(error["headers"]["retry-after"], "1");
    server.gate(0);
    let first = first.wait();
    assert_eq!(first["ok"], true, "{first:#}");
    assert_eq!(first["text"], "first");
    assert_eq!(server.seen_at(RESPONSES).len(), 1);
    gateway.stop().expect_code(0);
}

#[test]
fn an_sdk_that_gives_up_cancels_the_upstream_request() {
    if !sdks() {
        return;
    }
    let env = Env::with_fixture("fresh.json");
    let server = FakeServer::start();
    let mut frames = codex_setup("resp_stalled");
    frames.push(codex_delta(0, "partial "));
    server.on(
        RESPONSES,
        vec![Reply::Stall {
            pieces: frames.into_iter().map(|f| (Duration::ZERO, f)).collect(),
        }],
    );
    // The upstream silence limit is well past the client's, so only the client can end it.
    let gateway = Gateway::with_upstream(&env, &server, &["--timeout", "30s"]);
    let result = client(&gateway, &["responses", "--stream", "--timeout", "1"]);
    let error = raised(&result);
    assert!(
        ["APITimeoutError", "APIConnectionError"].contains(&error["class"].as_str().unwrap()),
        "{result:#}"
    );
    assert_eq!(result["text"], "partial ");
    let ends = gateway.wait_for("request_end", 1, Duration::from_secs(5));
    let failed = gateway.events_named("attempt_failed");
    assert_eq!(failed.len(), 1, "{}", gateway.stderr());
    assert_eq!(failed[0]["error_type"], "client_closed");
    assert_eq!(ends[0]["attempts"], 1);
    assert!(
        eventually(Duration::from_secs(5), || server.closed_by_client() == 1),
        "rotor did not close its upstream request"
    );
    assert_eq!(
        sample(
            &gateway,
            "rotor_serve_client_disconnects_total{route=\"responses\"}"
        ),
        1.0
    );
    gateway.stop().expect_code(0);
}

#[test]
fn an_sdk_that_gives_up_before_any_output_cancels_the_upstream_request() {
    if !sdks() {
        return;
    }
    let env = Env::with_fixture("fresh.json");
    let server = FakeServer::start();
    // Setup frames only: rotor holds them back, so the client has not even had the head yet.
    server.on(
        RESPONSES,
        vec![Reply::Stall {
            pieces: codex_setup("resp_held")
                .into_iter()
                .map(|f| (Duration::ZERO, f))
                .collect(),
        }],
    );
    let gateway = Gateway::with_upstream(&env, &server, &["--timeout", "30s"]);
    let result = client(&gateway, &["responses", "--stream", "--timeout", "1"]);
    let error = raised(&result);
    assert_eq!(error["class"], "APITimeoutError", "{result:#}");
    assert_eq!(result["events"], json!([]));
    let ends = gateway.wait_for("request_end", 1, Duration::from_secs(5));
    let failed = gateway.events_named("attempt_failed");
    assert_eq!(failed.len(), 1, "{}", gateway.stderr());
    assert_eq!(failed[0]["error_type"], "client_closed");
    assert_eq!(
        ends[0]["attempts"], 1,
        "a client that left is not retried for"
    );
    assert!(
        eventually(Duration::from_secs(5), || server.closed_by_client() == 1),
        "rotor did not close its upstream request"
    );
    assert_eq!(server.seen_at(RESPONSES).len(), 1);
    gateway.stop().expect_code(0);
}

#[test]
fn a_caller_that_breaks_off_a_flood_cancels_the_upstream_request() {
    if !sdks() {
        return;
    }
    let env = Env::with_fixture("fresh.json");
    let server = FakeServer::start();
    // An answer without end: only the client leaving can stop it.
    server.on(
        RESPONSES,
        vec![Reply::Flood {
            head: codex_setup("resp_flood"),
            piece: codex_delta(0, "flood "),
            total: None,
            tail: Vec::new(),
        }],
    );
    let gateway = Gateway::with_upstream(&env, &server, &["--timeout", "30s"]);
    let result = ok(
        client(&gateway, &["responses", "--stream", "--stop-after", "8"]),
        &gateway,
    );
    assert_eq!(result["final"]["closed_after"], 8);
    assert_eq!(result["text"], "flood flood flood flood ");
    let ends = gateway.wait_for("request_end", 1, Duration::from_secs(10));
    let failed = gateway.events_named("attempt_failed");
    assert_eq!(failed.len(), 1, "{}", gateway.stderr());
    assert_eq!(failed[0]["error_type"], "client_closed");
    assert_eq!(ends[0]["attempts"], 1);
    assert!(
        eventually(Duration::from_secs(5), || server.closed_by_client() == 1),
        "rotor did not close its upstream request"
    );
    gateway.stop().expect_code(0);
}

// ---- the SDKs' own retries on rotor's answers ----

/// Requests that ended with `outcome` on `route`, by `/metrics`.
fn ended(gateway: &Gateway, route: &str, outcome: &str) -> f64 {
    sample(
        gateway,
        &format!("rotor_serve_requests_total{{route=\"{route}\",outcome=\"{outcome}\"}}"),
    )
}

#[test]
fn sdks_with_retries_wait_out_a_short_retry_after_and_get_their_answer() {
    if !sdks() {
        return;
    }
    // Every profile but each pool's first cools for an hour.
    let mut value = with_anthropic(fresh());
    all_cooling(&mut value, "openai-codex", now() + 3600.0);
    all_cooling(&mut value, "anthropic", now() + 3600.0);
    for provider in ["openai-codex", "anthropic"] {
        let first = &mut value["credential_pool"][provider][0];
        for field in ["last_status", "last_error_code", "last_error_reset_at"] {
            first[field] = Value::Null;
        }
    }
    let env = env_of(&value);
    let server = FakeServer::start();
    server.on(RESPONSES, vec![codex_answer("resp_later", &["later"])]);
    server.on(
        MESSAGES,
        vec![stream(
            anthropic_frames("msg_later", &["later"]),
            Duration::ZERO,
        )],
    );
    let gateway = Gateway::with_upstream(&env, &server, &[]);
    // The clients load their SDKs first and send when told: the short cooldown starts only
    // then, however slow python is to start.
    let go = env.dir.path().join("go");
    let go_arg = go.to_str().unwrap();
    let retries = [
        "--retries",
        "2",
        "--give-up-after",
        "15",
        "--go-file",
        go_arg,
    ];
    let openai = Client::spawn(
        &gateway,
        &[&["responses", "--stream"][..], &retries].concat(),
    );
    let anthropic = Client::spawn(
        &gateway,
        &[&["messages", "--stream"][..], &retries].concat(),
    );
    let ready = go.with_extension("ready");
    assert!(eventually(Duration::from_secs(15), || ready.exists()));
    for provider in ["openai-codex", "anthropic"] {
        env.run(&["cooldown", "set", &format!("{provider}#1"), "--for", "4s"])
            .expect_code(0);
    }
    // Both pools are exhausted in the gateway's memory before the clients send.
    let none_left = |provider: &str| {
        sample_of(
            &gateway,
            &format!("rotor_provider_available_profiles{{provider=\"{provider}\"}}"),
        ) == Some(0.0)
    };
    assert!(eventually(Duration::from_secs(5), || none_left(
        "openai-codex"
    ) && none_left(
        "anthropic"
    )));
    std::fs::write(&go, "").unwrap();
    let openai = ok(openai.wait(), &gateway);
    let anthropic = ok(anthropic.wait(), &gateway);
    assert_eq!(openai["text"], "later");
    assert_eq!(anthropic["text"], "later");
    // Each SDK was refused once, waited what Retry-After said, and asked again.
    for route in ["responses", "messages"] {
        assert_eq!(ended(&gateway, route, "pool_exhausted"), 1.0, "{route}");
        assert_eq!(ended(&gateway, route, "success"), 1.0, "{route}");
    }
    assert!(openai["seconds"].as_f64().unwrap() >= 1.0, "{openai}");
    assert_eq!(server.seen().len(), 2);
    gateway.stop().expect_code(0);
}

/// An exhausted pool's 429 carries `Retry-After` with the seconds to the earliest reset. The
/// anthropic SDK (2.15) sleeps whatever Retry-After says, without a cap and outside its own
/// `timeout`, before each of its default two retries: without `x-should-retry: false` on a
/// long wait, `messages.create()` on a pool that resets in an hour blocked for two hours
/// instead of raising `RateLimitError` (found by this test; the openai SDK retries only when
/// Retry-After is at most 120 s, so it raised at once). rotor now leaves the retry to the client
/// only when the wait is at most 60 s.
#[test]
fn a_long_retry_after_does_not_hang_an_sdk_with_default_retries() {
    if !sdks() {
        return;
    }
    let mut value = with_anthropic(fresh());
    all_cooling(&mut value, "openai-codex", now() + 3600.0);
    all_cooling(&mut value, "anthropic", now() + 3600.0);
    let env = env_of(&value);
    let server = FakeServer::start();
    let gateway = Gateway::with_upstream(&env, &server, &[]);
    // max_retries=2 is both SDKs' default.
    let retries = ["--retries", "2", "--give-up-after", "5"];
    let openai = Client::spawn(
        &gateway,
        &[&["responses", "--stream"][..], &retries].concat(),
    );
    let anthropic = Client::spawn(
        &gateway,
        &[&["messages", "--stream"][..], &retries].concat(),
    );
    let openai = openai.wait();
    let anthropic = anthropic.wait();
    assert_eq!(raised(&openai)["class"], "RateLimitError", "{openai:#}");
    assert_eq!(ended(&gateway, "responses", "pool_exhausted"), 1.0);
    assert_ne!(
        anthropic["hung"], true,
        "the anthropic SDK still sleeps on rotor's Retry-After after {} s: {anthropic:#}",
        anthropic["seconds"]
    );
    assert_eq!(
        raised(&anthropic)["class"],
        "RateLimitError",
        "{anthropic:#}"
    );
    assert_eq!(ended(&gateway, "messages", "pool_exhausted"), 1.0);
    gateway.stop().expect_code(0);
}
