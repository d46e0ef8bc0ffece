//! Real agents through `rotor serve`: Hermes, Codex CLI and OpenClaw, each run once, one-shot,
//! with its base URL on the gateway and the serve key as its API key, while a fake provider on
//! loopback plays the upstream. Each test checks that the agent printed the fake's answer,
//! that the fake saw the profile's credentials (never the serve key), and, where the first
//! profile is out of quota, that the agent's one request rotated to the second inside rotor.
//!
//! The agents are installed by `scripts/test-clients.sh` (pinned versions, under
//! `target/clients`); `ROTOR_TEST_HERMES`, `ROTOR_TEST_CODEX`, `ROTOR_TEST_NODE` and
//! `ROTOR_TEST_OPENCLAW` point elsewhere. Without them a test skips (fails under `CI=true`).
//! Every run gets homes of its own (HOME, HERMES_HOME, CODEX_HOME, OpenClaw's state), offline
//! settings (no update checks, analytics, plugin syncs or lazy installs), a dead proxy for any
//! non-loopback call that slipped through, and a time limit after which its process group is
//! killed.

use crate::common::*;
use crate::fake::{FakeServer, Reply, Seen};
use crate::gateway::Gateway;
use serde_json::{Value, json};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The `chatgpt_account_id` claims of the three Codex profiles of the fixtures.
const ACCOUNTS: [&str; 3] = ["acct-0001", "acct-0002", "acct-0003"];
const RESPONSES: &str = "/v1/responses";
const CHAT: &str = "/v1/chat/completions";
const MESSAGES: &str = "/v1/messages";
/// The model every agent is told to use; the fake answers whatever is asked.
const MODEL: &str = "fake-model";
/// What the fake provider answers: the agents must print exactly this.
const ANSWER: &str = "Relayed through rotor by the fake provider";
const PROMPT: &str = "Say hello.";
/// The keys of the second OpenRouter profile and of the Anthropic profile that
/// [`env_with_more_pools`] adds to the fixture.
const OPENROUTER_KEY_2: &str = "sk-or-v1-fake-second-000000000000";
const ANTHROPIC_KEY: &str = "sk-ant-api03-fake-0000000000000000";

// ---- the agents

/// Where one client's program is: `var`, else `default` under this checkout.
fn installed(var: &str, default: &str) -> PathBuf {
    std::env::var_os(var).map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join(default),
        PathBuf::from,
    )
}

fn hermes_bin() -> PathBuf {
    installed("ROTOR_TEST_HERMES", "target/clients/hermes/bin/hermes")
}

fn codex_bin() -> PathBuf {
    installed(
        "ROTOR_TEST_CODEX",
        "target/clients/codex/node_modules/.bin/codex",
    )
}

fn node_bin() -> PathBuf {
    installed(
        "ROTOR_TEST_NODE",
        "target/clients/node24/node_modules/node/bin/node",
    )
}

fn openclaw_bin() -> PathBuf {
    installed(
        "ROTOR_TEST_OPENCLAW",
        "target/clients/openclaw/node_modules/.bin/openclaw",
    )
}

/// PATH for the agents: Node 24 first (Codex's launcher is a Node script), then the caller's.
fn agent_path() -> std::ffi::OsString {
    let mut dirs: Vec<PathBuf> = node_bin()
        .parent()
        .map(Path::to_path_buf)
        .into_iter()
        .collect();
    if let Some(path) = std::env::var_os("PATH") {
        dirs.extend(std::env::split_paths(&path));
    }
    std::env::join_paths(dirs).unwrap_or_default()
}

/// `Ok` when `program ARGS --version` runs and succeeds (within 60 s).
fn runs(program: &Path, args: &[&str]) -> Result<(), String> {
    let hint = "run scripts/test-clients.sh, or set ROTOR_TEST_HERMES, ROTOR_TEST_CODEX, \
                ROTOR_TEST_NODE, ROTOR_TEST_OPENCLAW";
    if !program.exists() {
        return Err(format!("{} is not there; {hint}", program.display()));
    }
    let home = tempfile::tempdir().map_err(|e| e.to_string())?;
    let mut command = Command::new(program);
    command
        .args(args)
        .arg("--version")
        .env_clear()
        .env("PATH", agent_path())
        .env("HOME", home.path());
    let run = bounded(command, home.path(), Duration::from_secs(60));
    if run.code == 0 {
        Ok(())
    } else {
        Err(format!(
            "{} {}--version failed (exit {}): {}{}; {hint}",
            program.display(),
            args.iter().map(|a| format!("{a} ")).collect::<String>(),
            run.code,
            run.stdout.trim(),
            run.stderr.trim()
        ))
    }
}

fn have_hermes() -> bool {
    prerequisite("hermes-agent 0.19.0", runs(&hermes_bin(), &[]))
}

fn have_codex() -> bool {
    prerequisite("@openai/codex 0.171.0", runs(&codex_bin(), &[]))
}

fn have_openclaw() -> bool {
    let node = node_bin();
    let node_ok = runs(&node, &[]);
    let ok = node_ok.and_then(|()| runs(&node, &[&openclaw_bin().to_string_lossy()]));
    prerequisite("openclaw 2026.9.6 under Node 24", ok)
}

/// Runs `command` (stdin empty, output to files in `dir`) in a process group of its own,
/// killed whole once `limit` has passed; exit code -1 then, and a note on stderr.
fn bounded(mut command: Command, dir: &Path, limit: Duration) -> Run {
    let out = dir.join(format!("out-{}", fastrand::u64(..)));
    let err = dir.join(format!("err-{}", fastrand::u64(..)));
    command
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&out).unwrap())
        .stderr(std::fs::File::create(&err).unwrap())
        .process_group(0);
    let mut child = command.spawn().unwrap();
    let start = Instant::now();
    let code = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status.code().unwrap_or(-1);
        }
        if start.elapsed() > limit {
            // The group is the child's own (process_group(0)): the agent and its helpers.
            let _ = Command::new("kill")
                .args(["-KILL", "--", &format!("-{}", child.id())])
                .status();
            let _ = child.wait();
            break -1;
        }
        std::thread::sleep(Duration::from_millis(25));
    };
    let mut run = Run {
        code,
        stdout: std::fs::read_to_string(&out).unwrap_or_default(),
        stderr: std::fs::read_to_string(&err).unwrap_or_default(),
    };
    if code == -1 {
        run.stderr
            .push_str(&format!("\n(killed after {limit:?}: still running)"));
    }
    run
}

/// A fresh place for one agent run: its HOME and whatever state directory it wants, removed
/// when the test ends.
struct Sandbox {
    dir: tempfile::TempDir,
}

impl Sandbox {
    fn new() -> Sandbox {
        let sandbox = Sandbox {
            dir: tempfile::tempdir().unwrap(),
        };
        for sub in ["home", "work"] {
            std::fs::create_dir_all(sandbox.path(sub)).unwrap();
        }
        sandbox
    }

    fn path(&self, sub: &str) -> PathBuf {
        self.dir.path().join(sub)
    }

    /// `program` with nothing of the caller's environment but PATH, HOME in the sandbox, the
    /// working directory in it, and every proxy-aware call outside loopback sent to a closed
    /// port (so it fails at once, on this machine).
    fn command(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut command = Command::new(program);
        command
            .env_clear()
            .env("PATH", agent_path())
            .env("HOME", self.path("home"))
            .env("LANG", "C.UTF-8")
            .env("NO_COLOR", "1")
            .env("HTTPS_PROXY", "http://127.0.0.1:9")
            .env("HTTP_PROXY", "http://127.0.0.1:9")
            .env("ALL_PROXY", "http://127.0.0.1:9")
            .env("NO_PROXY", "127.0.0.1,localhost")
            .current_dir(self.path("work"));
        command
    }

    fn run(&self, command: Command, limit: Duration) -> Run {
        bounded(command, self.dir.path(), limit)
    }
}

/// `hermes chat -q PROMPT -Q` with a custom provider `rotor` of this `api_mode`, in a
/// HERMES_HOME of its own (never the Env's: Hermes would use and rewrite rotor's auth.json).
fn hermes(gateway: &Gateway, api_mode: &str) -> Run {
    hermes_with(gateway, api_mode, "")
}

/// [`hermes`] with more `config.yaml` text after the provider.
fn hermes_with(gateway: &Gateway, api_mode: &str, more_config: &str) -> Run {
    let sandbox = Sandbox::new();
    let home = sandbox.path("hermes-home");
    std::fs::create_dir_all(&home).unwrap();
    let config = format!(
        "model:\n  default: {MODEL}\n  provider: custom:rotor\n  context_length: 128000\n\
         providers:\n  rotor:\n    name: rotor\n    base_url: {}/v1\n    key_env: ROTOR_KEY\n\
         \x20   default_model: {MODEL}\n    api_mode: {api_mode}\n\
         security:\n  tirith_enabled: false\n{more_config}",
        gateway.url
    );
    std::fs::write(home.join("config.yaml"), config).unwrap();
    // The PyPI update check runs on every chat unless a recent answer is cached.
    let check = json!({"ts": unix_now(), "behind": 0, "rev": null, "ver": "0.19.0"});
    std::fs::write(home.join(".update_check"), check.to_string()).unwrap();
    let mut command = sandbox.command(hermes_bin());
    command
        .args(["chat", "-q", PROMPT, "-Q"])
        .env("HERMES_HOME", &home)
        .env("HERMES_DISABLE_LAZY_INSTALLS", "1")
        .env("ROTOR_KEY", &gateway.key);
    sandbox.run(command, Duration::from_secs(50))
}

fn unix_now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
}

/// `codex exec PROMPT` with a `model_providers.rotor` in CODEX_HOME/config.toml, retries off.
fn codex(gateway: &Gateway) -> Run {
    let sandbox = Sandbox::new();
    let codex_home = sandbox.path("codex-home");
    std::fs::create_dir_all(&codex_home).unwrap();
    let config = format!(
        "model = \"{MODEL}\"\nmodel_provider = \"rotor\"\ncheck_for_update_on_startup = false\n\n\
         [analytics]\nenabled = false\n\n[features]\nplugins = false\n\n\
         [model_providers.rotor]\nname = \"rotor\"\nbase_url = \"{}/v1\"\nenv_key = \"ROTOR_KEY\"\n\
         wire_api = \"responses\"\nrequest_max_retries = 0\nstream_max_retries = 0\n",
        gateway.url
    );
    std::fs::write(codex_home.join("config.toml"), config).unwrap();
    let mut command = sandbox.command(codex_bin());
    command
        .args(["exec", "--skip-git-repo-check", PROMPT])
        .env("CODEX_HOME", &codex_home)
        .env("ROTOR_KEY", &gateway.key);
    sandbox.run(command, Duration::from_secs(40))
}

/// `openclaw agent exec PROMPT --config cfg.json5 --json` under Node 24, with a provider
/// `rotor` of this `api` whose key is the serve key, in a HOME of its own (OpenClaw keeps key
/// cooldowns there).
fn openclaw(gateway: &Gateway, api: &str) -> Run {
    let sandbox = Sandbox::new();
    // Anthropic's base URL is the host; OpenAI's includes /v1.
    let base_url = if api.starts_with("anthropic") {
        gateway.url.clone()
    } else {
        format!("{}/v1", gateway.url)
    };
    let config = json!({
        "models": {
            "mode": "replace",
            "providers": {
                "rotor": {
                    "baseUrl": base_url,
                    "apiKey": gateway.key,
                    "api": api,
                    "models": [{"id": MODEL, "name": "Fake", "reasoning": false, "input": ["text"],
                        "contextWindow": 128000, "maxTokens": 4096}],
                }
            }
        },
        "agents": {"defaults": {"model": {"primary": format!("rotor/{MODEL}")}}},
        "update": {"checkOnStart": false},
    });
    let path = sandbox.path("openclaw.json5");
    std::fs::write(&path, config.to_string()).unwrap();
    let mut command = sandbox.command(node_bin());
    command
        .arg(openclaw_bin())
        .args(["agent", "exec", PROMPT, "--config"])
        .arg(&path)
        .args(["--json", "--timeout", "45"])
        .env("OPENCLAW_NO_AUTO_UPDATE", "1");
    sandbox.run(command, Duration::from_secs(55))
}

// ---- the fake provider's answers: complete streams as the real APIs send them

fn event(name: &str, data: &Value) -> (Duration, String) {
    (Duration::ZERO, format!("event: {name}\ndata: {data}\n\n"))
}

fn response_object(status: &str, output: Value) -> Value {
    json!({
        "id": "resp_clients_1", "object": "response", "created_at": 1_764_648_000, "status": status,
        "error": null, "incomplete_details": null, "instructions": null, "max_output_tokens": null,
        "model": MODEL, "output": output, "parallel_tool_calls": true, "previous_response_id": null,
        "reasoning": {"effort": null, "summary": null}, "store": false, "temperature": 1.0,
        "text": {"format": {"type": "text"}}, "tool_choice": "auto", "tools": [], "top_p": 1.0,
        "truncation": "disabled", "user": null, "metadata": {},
        "usage": if status == "completed" {
            json!({"input_tokens": 12, "input_tokens_details": {"cached_tokens": 0}, "output_tokens": 7,
                "output_tokens_details": {"reasoning_tokens": 0}, "total_tokens": 19})
        } else {
            Value::Null
        },
    })
}

/// A Responses API stream with one assistant message of `text`, every event in its place
/// (created, in progress, item and part added, two deltas, the dones, completed).
fn responses_answer(text: &str) -> Reply {
    let item = "msg_clients_1";
    let (first, second) = text.split_at(text.len() / 2);
    let done_item = json!({"id": item, "type": "message", "status": "completed", "role": "assistant",
        "content": [{"type": "output_text", "text": text, "annotations": []}]});
    let mut n = 0;
    let mut next = || {
        n += 1;
        n - 1
    };
    let mut pieces = vec![
        event(
            "response.created",
            &json!({"type": "response.created", "sequence_number": next(),
                "response": response_object("in_progress", json!([]))}),
        ),
        event(
            "response.in_progress",
            &json!({"type": "response.in_progress", "sequence_number": next(),
                "response": response_object("in_progress", json!([]))}),
        ),
        event(
            "response.output_item.added",
            &json!({"type": "response.output_item.added", "sequence_number": next(), "output_index": 0,
                "item": {"id": item, "type": "message", "status": "in_progress", "role": "assistant", "content": []}}),
        ),
        event(
            "response.content_part.added",
            &json!({"type": "response.content_part.added", "sequence_number": next(), "item_id": item,
                "output_index": 0, "content_index": 0, "part": {"type": "output_text", "text": "", "annotations": []}}),
        ),
    ];
    for delta in [first, second] {
        pieces.push(event(
            "response.output_text.delta",
            &json!({"type": "response.output_text.delta", "sequence_number": next(), "item_id": item,
                "output_index": 0, "content_index": 0, "delta": delta, "logprobs": []}),
        ));
    }
    pieces.extend([
        event(
            "response.output_text.done",
            &json!({"type": "response.output_text.done", "sequence_number": next(), "item_id": item,
                "output_index": 0, "content_index": 0, "text": text, "logprobs": []}),
        ),
        event(
            "response.content_part.done",
            &json!({"type": "response.content_part.done", "sequence_number": next(), "item_id": item,
                "output_index": 0, "content_index": 0, "part": {"type": "output_text", "text": text, "annotations": []}}),
        ),
        event(
            "response.output_item.done",
            &json!({"type": "response.output_item.done", "sequence_number": next(), "output_index": 0,
                "item": done_item}),
        ),
        event(
            "response.completed",
            &json!({"type": "response.completed", "sequence_number": next(),
                "response": response_object("completed", json!([done_item]))}),
        ),
    ]);
    Reply::Stream {
        pieces,
        reset: false,
    }
}

/// A Chat Completions stream answering `text`: role, two content chunks, the finish, a usage
/// chunk (clients ask for it with `stream_options`), `[DONE]`.
fn chat_answer(text: &str) -> Reply {
    let (first, second) = text.split_at(text.len() / 2);
    let chunk = |choices: Value, usage: Option<Value>| {
        let mut chunk = json!({"id": "chatcmpl-clients-1", "object": "chat.completion.chunk",
            "created": 1_764_648_000, "model": MODEL, "choices": choices});
        if let Some(usage) = usage {
            chunk["usage"] = usage;
        }
        (Duration::ZERO, format!("data: {chunk}\n\n"))
    };
    let choice = |delta: Value, finish: Value| json!([{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": null}]);
    Reply::Stream {
        pieces: vec![
            chunk(
                choice(json!({"role": "assistant", "content": ""}), Value::Null),
                None,
            ),
            chunk(choice(json!({"content": first}), Value::Null), None),
            chunk(choice(json!({"content": second}), Value::Null), None),
            chunk(choice(json!({}), json!("stop")), None),
            chunk(
                json!([]),
                Some(json!({"prompt_tokens": 12, "completion_tokens": 7, "total_tokens": 19})),
            ),
            (Duration::ZERO, "data: [DONE]\n\n".into()),
        ],
        reset: false,
    }
}

/// An Anthropic Messages stream answering `text`, with the `event:` lines the SDKs need.
fn messages_answer(text: &str) -> Reply {
    let (first, second) = text.split_at(text.len() / 2);
    let mut pieces = vec![
        event(
            "message_start",
            &json!({"type": "message_start", "message": {"id": "msg_clients_1", "type": "message",
                "role": "assistant", "model": MODEL, "content": [], "stop_reason": null,
                "stop_sequence": null, "usage": {"input_tokens": 12, "output_tokens": 1}}}),
        ),
        event(
            "content_block_start",
            &json!({"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}),
        ),
        event("ping", &json!({"type": "ping"})),
    ];
    for delta in [first, second] {
        pieces.push(event(
            "content_block_delta",
            &json!({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": delta}}),
        ));
    }
    pieces.extend([
        event(
            "content_block_stop",
            &json!({"type": "content_block_stop", "index": 0}),
        ),
        event(
            "message_delta",
            &json!({"type": "message_delta", "delta": {"stop_reason": "end_turn", "stop_sequence": null},
                "usage": {"output_tokens": 7}}),
        ),
        event("message_stop", &json!({"type": "message_stop"})),
    ]);
    Reply::Stream {
        pieces,
        reset: false,
    }
}

/// ChatGPT's answer to an account out of quota.
fn usage_limit() -> Reply {
    let body = json!({"error": {"type": "usage_limit_reached", "message": "The usage limit has been reached",
        "plan_type": "pro", "resets_in_seconds": 3600}});
    Reply::json(429, &body.to_string())
}

/// An OpenAI-compatible key out of credit.
fn insufficient_quota() -> Reply {
    let body = json!({"error": {"type": "insufficient_quota", "code": "insufficient_quota",
        "message": "You exceeded your current quota", "param": null}});
    Reply::json(429, &body.to_string())
}

/// The fixture plus a second OpenRouter key and an Anthropic key.
fn env_with_more_pools() -> Env {
    let mut doc: Value = serde_json::from_slice(&fixture_bytes("fresh.json")).unwrap();
    let key_entry = |id: &str, label: &str, priority: u32, key: &str| {
        json!({"id": id, "label": label, "auth_type": "api_key", "priority": priority,
            "source": format!("env:{label}"), "access_token": key, "last_status": null,
            "last_status_at": null, "last_error_code": null, "last_error_reason": null,
            "last_error_message": null, "last_error_reset_at": null, "request_count": 0})
    };
    let pools = &mut doc["credential_pool"];
    let mut second = key_entry("k9z8w7", "OPENROUTER_API_KEY_2", 1, OPENROUTER_KEY_2);
    second["base_url"] = json!("https://openrouter.ai/api/v1");
    pools["openrouter"].as_array_mut().unwrap().push(second);
    pools["anthropic"] = json!([key_entry("an1b2c", "ANTHROPIC_API_KEY", 0, ANTHROPIC_KEY)]);
    Env::with_auth_bytes(&serde_json::to_vec_pretty(&doc).unwrap())
}

// ---- what the fake and the gateway saw

/// The stored access token (or key) of `provider`'s profile at `index`.
fn token_of(env: &Env, provider: &str, index: usize) -> String {
    env.auth_json()["credential_pool"][provider][index]["access_token"]
        .as_str()
        .unwrap()
        .to_string()
}

/// The agent's run ended well and printed the answer.
#[track_caller]
fn assert_answered(run: &Run, gateway: &Gateway, answer: &str) {
    assert!(
        run.code == 0 && answer.contains(ANSWER),
        "the agent did not print the fake's answer (exit {})\nstdout:\n{}\nstderr:\n{}\n\
         rotor serve:\n{}",
        run.code,
        run.stdout,
        run.stderr,
        gateway.stderr()
    );
}

/// Nothing of the pool's tokens, keys or refresh tokens reached the agent (rotor's answers and
/// errors are all it saw).
#[track_caller]
fn assert_no_pool_secret(env: &Env, run: &Run) {
    let found = crate::secrets::Secrets::of_env(env).violations(run, None);
    assert!(
        found.is_empty(),
        "the agent saw secrets of the pool: {found:?}\n{run:?}"
    );
}

/// What reached the fake: only requests to `path` (rotor answers everything else itself),
/// each with the credentials of a profile (`token`, and for Codex the account header), never
/// the serve key, and the agent's own body (its model, streaming).
#[track_caller]
fn assert_forwarded(server: &FakeServer, gateway: &Gateway, path: &str) -> Vec<Seen> {
    let seen = server.seen();
    assert!(
        !seen.is_empty(),
        "nothing reached the fake provider:\n{}",
        gateway.stderr()
    );
    for request in &seen {
        assert_eq!(request.method, "POST", "{request:?}");
        assert_eq!(
            request.path, path,
            "only the API call goes upstream: {request:?}"
        );
        assert!(
            !request
                .headers
                .iter()
                .any(|(_, v)| v.contains(&gateway.key)),
            "the serve key went upstream: {:?}",
            request.headers
        );
        assert!(
            request.header("x-api-key").is_none(),
            "{:?}",
            request.headers
        );
        let body: Value = serde_json::from_str(&request.body).unwrap();
        assert_eq!(body["model"], MODEL, "the agent's body, unchanged");
        assert_eq!(body["stream"], true);
    }
    seen
}

#[track_caller]
fn assert_profile(request: &Seen, token: &str, account: Option<&str>) {
    assert_eq!(
        request.header("authorization"),
        Some(format!("Bearer {token}").as_str()),
        "the profile's credential: {:?}",
        request.headers
    );
    assert_eq!(request.header("chatgpt-account-id"), account);
}

fn accounts(seen: &[Seen]) -> Vec<&str> {
    seen.iter()
        .map(|s| s.header("chatgpt-account-id").unwrap_or("-"))
        .collect()
}

/// One request came through the gateway and it ended in success: the agent's one call.
#[track_caller]
fn assert_one_request(gateway: &Gateway, rotations: usize) {
    let ends = gateway.wait_for("request_end", 1, Duration::from_secs(5));
    let starts = gateway.events_named("request_start");
    assert_eq!(
        (starts.len(), ends.len()),
        (1, 1),
        "the agent's one call is one request:\n{}",
        gateway.stderr()
    );
    assert_eq!(ends[0]["outcome"], "success", "{}", gateway.stderr());
    assert_eq!(ends[0]["rotations"], rotations, "{}", gateway.stderr());
    let rotated = gateway.events_named("profile_rotation");
    assert_eq!(rotated.len(), rotations, "{}", gateway.stderr());
    for rotation in rotated {
        assert_eq!(rotation["reason"], "rate_limit");
        assert_eq!(rotation["request_id"], ends[0]["request_id"]);
    }
}

/// A pool whose first Codex profile is out of quota: the fake answers it 429 and every other
/// profile `answer`.
fn first_profile_exhausted(server: &FakeServer, answer: Reply) {
    server.on_header(
        RESPONSES,
        "chatgpt-account-id",
        ACCOUNTS[0],
        vec![usage_limit()],
    );
    server.on(RESPONSES, vec![answer]);
}

/// After a rotation, auth.json says the first profile is exhausted by a 429 and the second
/// served the request.
#[track_caller]
fn assert_cooled_first(env: &Env) {
    let pool = &env.auth_json()["credential_pool"]["openai-codex"];
    assert_eq!(pool[0]["last_status"], "exhausted", "{pool}");
    assert_eq!(pool[0]["last_error_code"], 429, "{pool}");
    assert_eq!(pool[1]["request_count"], 1, "{pool}");
}

// ---- Hermes

#[test]
fn hermes_codex_responses_answers_with_the_profile_s_token() {
    if !have_hermes() {
        return;
    }
    let env = Env::with_fixture("fresh.json");
    let server = FakeServer::start();
    server.on(RESPONSES, vec![responses_answer(ANSWER)]);
    let gateway = Gateway::with_upstream(&env, &server, &[]);
    let run = hermes(&gateway, "codex_responses");
    assert_no_pool_secret(&env, &run);
    assert_answered(&run, &gateway, &run.stdout);
    let seen = assert_forwarded(&server, &gateway, RESPONSES);
    assert_eq!(seen.len(), 1);
    assert_profile(
        &seen[0],
        &token_of(&env, "openai-codex", 0),
        Some(ACCOUNTS[0]),
    );
    assert_one_request(&gateway, 0);
    gateway.stop().expect_code(0);
}

#[test]
fn hermes_chat_completions_answers_with_the_pool_s_key() {
    if !have_hermes() {
        return;
    }
    let env = Env::with_fixture("fresh.json");
    let server = FakeServer::start();
    server.on(CHAT, vec![chat_answer(ANSWER)]);
    let gateway = Gateway::with_upstream(&env, &server, &[]);
    let run = hermes(&gateway, "chat_completions");
    assert_no_pool_secret(&env, &run);
    assert_answered(&run, &gateway, &run.stdout);
    let seen = assert_forwarded(&server, &gateway, CHAT);
    assert_eq!(seen.len(), 1);
    assert_profile(&seen[0], &token_of(&env, "openrouter", 0), None);
    assert_eq!(
        gateway.events_named("request_start")[0]["provider"],
        "openrouter"
    );
    assert_one_request(&gateway, 0);
    gateway.stop().expect_code(0);
}

#[test]
fn hermes_gets_its_answer_from_profile_2_when_profile_1_is_out_of_quota() {
    if !have_hermes() {
        return;
    }
    let env = Env::with_fixture("fresh.json");
    let server = FakeServer::start();
    first_profile_exhausted(&server, responses_answer(ANSWER));
    let gateway = Gateway::with_upstream(&env, &server, &[]);
    let run = hermes(&gateway, "codex_responses");
    assert_no_pool_secret(&env, &run);
    assert_answered(&run, &gateway, &run.stdout);
    let seen = assert_forwarded(&server, &gateway, RESPONSES);
    assert_eq!(accounts(&seen), [ACCOUNTS[0], ACCOUNTS[1]]);
    assert_profile(
        &seen[0],
        &token_of(&env, "openai-codex", 0),
        Some(ACCOUNTS[0]),
    );
    assert_profile(
        &seen[1],
        &token_of(&env, "openai-codex", 1),
        Some(ACCOUNTS[1]),
    );
    assert_one_request(&gateway, 1);
    gateway.stop().expect_code(0);
    assert_cooled_first(&env);
}

#[test]
fn hermes_chat_completions_rotates_past_a_key_out_of_credit() {
    if !have_hermes() {
        return;
    }
    let env = env_with_more_pools();
    let server = FakeServer::start();
    let first = format!("Bearer {}", token_of(&env, "openrouter", 0));
    server.on_header(CHAT, "authorization", &first, vec![insufficient_quota()]);
    server.on(CHAT, vec![chat_answer(ANSWER)]);
    let gateway = Gateway::with_upstream(&env, &server, &[]);
    let run = hermes(&gateway, "chat_completions");
    assert_no_pool_secret(&env, &run);
    assert_answered(&run, &gateway, &run.stdout);
    let seen = assert_forwarded(&server, &gateway, CHAT);
    assert_eq!(seen.len(), 2);
    assert_profile(&seen[0], &token_of(&env, "openrouter", 0), None);
    assert_profile(&seen[1], OPENROUTER_KEY_2, None);
    assert_one_request(&gateway, 1);
    gateway.stop().expect_code(0);
    let pool = &env.auth_json()["credential_pool"]["openrouter"];
    assert_eq!(pool[0]["last_status"], "exhausted", "{pool}");
    assert_eq!(pool[1]["request_count"], 1, "{pool}");
}

#[test]
fn hermes_prints_rotor_s_answer_when_every_profile_is_out_of_quota() {
    if !have_hermes() {
        return;
    }
    let env = Env::with_fixture("fresh.json");
    let server = FakeServer::start();
    server.on(RESPONSES, vec![usage_limit()]);
    let gateway = Gateway::with_upstream(&env, &server, &[]);
    // One try: by default Hermes would wait for rotor's Retry-After (the pool's reset).
    let run = hermes_with(
        &gateway,
        "codex_responses",
        "agent:\n  api_max_retries: 1\n",
    );
    assert_no_pool_secret(&env, &run);
    assert_eq!(run.code, 1, "{run:?}\n{}", gateway.stderr());
    assert!(
        run.stdout.contains("HTTP 429")
            && run
                .stdout
                .contains("pool exhausted for openai-codex: next available at"),
        "{run:?}"
    );
    let seen = assert_forwarded(&server, &gateway, RESPONSES);
    assert_eq!(accounts(&seen), ACCOUNTS);
    let ends = gateway.wait_for("request_end", 1, Duration::from_secs(5));
    assert_eq!(ends.len(), 1, "{}", gateway.stderr());
    assert_eq!(ends[0]["outcome"], "pool_exhausted");
    gateway.stop().expect_code(0);
}

// ---- Codex CLI

#[test]
fn codex_exec_answers_with_the_profile_s_token() {
    if !have_codex() {
        return;
    }
    let env = Env::with_fixture("fresh.json");
    let server = FakeServer::start();
    server.on(RESPONSES, vec![responses_answer(ANSWER)]);
    let gateway = Gateway::with_upstream(&env, &server, &[]);
    let run = codex(&gateway);
    assert_no_pool_secret(&env, &run);
    assert_answered(&run, &gateway, &run.stdout);
    let seen = assert_forwarded(&server, &gateway, RESPONSES);
    assert_eq!(seen.len(), 1);
    assert_profile(
        &seen[0],
        &token_of(&env, "openai-codex", 0),
        Some(ACCOUNTS[0]),
    );
    // Codex's own session header goes through; rotor adds none of its own then.
    assert!(
        seen[0].header("session-id").is_some(),
        "{:?}",
        seen[0].headers
    );
    assert!(
        seen[0].header("session_id").is_none(),
        "{:?}",
        seen[0].headers
    );
    assert_one_request(&gateway, 0);
    gateway.stop().expect_code(0);
}

#[test]
fn codex_exec_gets_its_answer_from_profile_2_when_profile_1_is_out_of_quota() {
    if !have_codex() {
        return;
    }
    let env = Env::with_fixture("fresh.json");
    let server = FakeServer::start();
    first_profile_exhausted(&server, responses_answer(ANSWER));
    let gateway = Gateway::with_upstream(&env, &server, &[]);
    let run = codex(&gateway);
    assert_no_pool_secret(&env, &run);
    assert_answered(&run, &gateway, &run.stdout);
    let seen = assert_forwarded(&server, &gateway, RESPONSES);
    assert_eq!(accounts(&seen), [ACCOUNTS[0], ACCOUNTS[1]]);
    assert_profile(
        &seen[1],
        &token_of(&env, "openai-codex", 1),
        Some(ACCOUNTS[1]),
    );
    // Both attempts carried the same body: the one Codex sent once.
    assert_eq!(seen[0].body, seen[1].body);
    assert_one_request(&gateway, 1);
    gateway.stop().expect_code(0);
    assert_cooled_first(&env);
}

#[test]
fn codex_exec_fails_at_once_with_a_429_when_every_profile_is_out_of_quota() {
    if !have_codex() {
        return;
    }
    let env = Env::with_fixture("fresh.json");
    let server = FakeServer::start();
    server.on(RESPONSES, vec![usage_limit()]);
    let gateway = Gateway::with_upstream(&env, &server, &[]);
    let start = Instant::now();
    let run = codex(&gateway);
    assert_no_pool_secret(&env, &run);
    assert_eq!(run.code, 1, "{run:?}\n{}", gateway.stderr());
    assert!(
        start.elapsed() < Duration::from_secs(20),
        "{:?}",
        start.elapsed()
    );
    assert!(run.stderr.contains("429"), "{}", run.stderr);
    assert!(!run.stdout.contains(ANSWER));
    // rotor tried each profile once, within the one request, and said when the pool is back.
    let seen = assert_forwarded(&server, &gateway, RESPONSES);
    assert_eq!(accounts(&seen), ACCOUNTS);
    let ends = gateway.wait_for("request_end", 1, Duration::from_secs(5));
    assert_eq!(ends.len(), 1, "{}", gateway.stderr());
    assert_eq!(ends[0]["outcome"], "pool_exhausted");
    assert_eq!(gateway.events_named("profile_rotation").len(), 2);
    gateway.stop().expect_code(0);
    let pool = &env.auth_json()["credential_pool"]["openai-codex"];
    for entry in pool.as_array().unwrap() {
        assert_eq!(entry["last_status"], "exhausted", "{pool}");
    }
}

// ---- OpenClaw

/// The `final` text of `openclaw agent exec --json`.
fn openclaw_final(run: &Run) -> String {
    serde_json::from_str::<Value>(&run.stdout)
        .ok()
        .and_then(|v| v["final"].as_str().map(str::to_owned))
        .unwrap_or_default()
}

#[test]
fn openclaw_openai_responses_answers_with_the_profile_s_token() {
    if !have_openclaw() {
        return;
    }
    let env = Env::with_fixture("fresh.json");
    let server = FakeServer::start();
    server.on(RESPONSES, vec![responses_answer(ANSWER)]);
    let gateway = Gateway::with_upstream(&env, &server, &[]);
    let run = openclaw(&gateway, "openai-responses");
    assert_no_pool_secret(&env, &run);
    assert_answered(&run, &gateway, &openclaw_final(&run));
    let seen = assert_forwarded(&server, &gateway, RESPONSES);
    assert_eq!(seen.len(), 1);
    assert_profile(
        &seen[0],
        &token_of(&env, "openai-codex", 0),
        Some(ACCOUNTS[0]),
    );
    assert_one_request(&gateway, 0);
    gateway.stop().expect_code(0);
}

#[test]
fn openclaw_openai_completions_answers_with_the_pool_s_key() {
    if !have_openclaw() {
        return;
    }
    let env = Env::with_fixture("fresh.json");
    let server = FakeServer::start();
    server.on(CHAT, vec![chat_answer(ANSWER)]);
    let gateway = Gateway::with_upstream(&env, &server, &[]);
    let run = openclaw(&gateway, "openai-completions");
    assert_no_pool_secret(&env, &run);
    assert_answered(&run, &gateway, &openclaw_final(&run));
    let seen = assert_forwarded(&server, &gateway, CHAT);
    assert_eq!(seen.len(), 1);
    assert_profile(&seen[0], &token_of(&env, "openrouter", 0), None);
    assert_one_request(&gateway, 0);
    gateway.stop().expect_code(0);
}

#[test]
fn openclaw_gets_its_answer_from_profile_2_when_profile_1_is_out_of_quota() {
    if !have_openclaw() {
        return;
    }
    let env = Env::with_fixture("fresh.json");
    let server = FakeServer::start();
    first_profile_exhausted(&server, responses_answer(ANSWER));
    let gateway = Gateway::with_upstream(&env, &server, &[]);
    let run = openclaw(&gateway, "openai-responses");
    assert_no_pool_secret(&env, &run);
    assert_answered(&run, &gateway, &openclaw_final(&run));
    let seen = assert_forwarded(&server, &gateway, RESPONSES);
    assert_eq!(accounts(&seen), [ACCOUNTS[0], ACCOUNTS[1]]);
    assert_profile(
        &seen[1],
        &token_of(&env, "openai-codex", 1),
        Some(ACCOUNTS[1]),
    );
    assert_one_request(&gateway, 1);
    gateway.stop().expect_code(0);
    assert_cooled_first(&env);
}

#[test]
fn openclaw_anthropic_messages_sends_the_key_as_x_api_key_and_gets_the_profile_s() {
    if !have_openclaw() {
        return;
    }
    let env = env_with_more_pools();
    let server = FakeServer::start();
    server.on(MESSAGES, vec![messages_answer(ANSWER)]);
    let gateway = Gateway::with_upstream(&env, &server, &[]);
    let run = openclaw(&gateway, "anthropic-messages");
    assert_no_pool_secret(&env, &run);
    assert_answered(&run, &gateway, &openclaw_final(&run));
    let seen = server.seen();
    assert_eq!(seen.len(), 1, "{seen:?}");
    let request = &seen[0];
    assert_eq!(
        (request.method.as_str(), request.path.as_str()),
        ("POST", MESSAGES)
    );
    assert!(
        !request
            .headers
            .iter()
            .any(|(_, v)| v.contains(&gateway.key)),
        "the serve key went upstream: {:?}",
        request.headers
    );
    assert_eq!(request.header("x-api-key"), Some(ANTHROPIC_KEY));
    assert!(
        request.header("authorization").is_none(),
        "{:?}",
        request.headers
    );
    // OpenClaw's own API version goes through.
    assert_eq!(request.header("anthropic-version"), Some("2023-06-01"));
    let body: Value = serde_json::from_str(&request.body).unwrap();
    assert_eq!(
        (body["model"].as_str(), body["stream"].as_bool()),
        (Some(MODEL), Some(true))
    );
    assert_eq!(
        gateway.events_named("request_start")[0]["provider"],
        "anthropic"
    );
    assert_one_request(&gateway, 0);
    gateway.stop().expect_code(0);
}
