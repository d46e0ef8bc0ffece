//! Hostile servers, on loopback only: providers (and token endpoints) that echo every secret of
//! the pool back in disguise, redirect credentials to another origin, flood the answer without
//! end, fall silent mid-stream, lie about reset times or stream terminal escapes; and pools
//! whose provider names carry escapes. Each test proves one promise of rotor's hardening by what
//! the servers received, what rotor printed (on a pipe and on a terminal) and what auth.json
//! holds afterwards. A second fake server on 127.0.0.2 plays the origin a redirect points to; a
//! loopback proxy (`HTTP_PROXY`) catches any request that would otherwise leave the machine.

use crate::common::*;
use crate::fake::{FakeServer, Reply};
use crate::secrets::{Secrets, addresses};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};
use std::process::Command;
use std::time::{Duration, Instant};

const RESPONSES: &str = "/codex/responses";
const USAGE: &str = "/wham/usage";
const TOKEN: &str = "/oauth/token";
/// The `chatgpt_account_id` claims of the three Codex profiles of the Hermes fixtures.
const ACCOUNTS: [&str; 3] = ["acct-0001", "acct-0002", "acct-0003"];
const THIRTY_DAYS: f64 = 30.0 * 86_400.0;
/// The usage-limit message Codex sends.
const LIMIT: &str = "The usage limit has been reached";

fn now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
}

/// An unsigned JWT like Codex's access tokens.
fn jwt(exp: f64, account: &str, email: &str) -> String {
    let header = URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#);
    let claims = json!({"exp": exp, "email": email,
        "https://api.openai.com/auth": {"chatgpt_plan_type": "team", "chatgpt_account_id": account}});
    format!(
        "{header}.{}.sig",
        URL_SAFE_NO_PAD.encode(claims.to_string())
    )
}

/// `len` characters of `alphabet`, the same ones for the same seed.
fn random_text(seed: u64, len: usize, alphabet: &[u8]) -> String {
    let mut state = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            alphabet[(state % alphabet.len() as u64) as usize] as char
        })
        .collect()
}

const BASE64URL: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
const BASE64: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// An entry as Hermes writes one, status fields empty.
fn entry(id: &str, label: &str, auth_type: &str, priority: usize, token: &str) -> Value {
    json!({"id": id, "label": label, "auth_type": auth_type, "priority": priority,
        "source": "manual", "access_token": token, "last_status": null, "last_status_at": null,
        "last_error_code": null, "last_error_reason": null, "last_error_message": null,
        "last_error_reset_at": null, "request_count": 0})
}

/// The Hermes fixture with more providers added.
fn fixture_with(providers: &[(&str, Value)]) -> Env {
    let mut doc: Value = serde_json::from_slice(&fixture_bytes("fresh.json")).unwrap();
    for (name, entries) in providers {
        doc["credential_pool"][*name] = entries.clone();
    }
    Env::with_auth_bytes(&serde_json::to_vec_pretty(&doc).unwrap())
}

/// Runs `command` (rotor, or a wrapper around it, in `env`) with the checks `Env::run` makes
/// after every run: no secret of the pool in what it printed, left in trace files or stored.
fn run_checked(env: &Env, command: &mut Command) -> Run {
    let before = Secrets::of_env(env);
    let run = Run::from(command.output().unwrap());
    let mut secrets = Secrets::of_env(env);
    secrets.extend(before);
    secrets.assert_clean(&run, env);
    run
}

struct Called {
    run: Run,
    events: Vec<Value>,
    elapsed: Duration,
}

impl Called {
    fn events(&self, name: &str) -> Vec<&Value> {
        self.events.iter().filter(|e| e["event"] == name).collect()
    }
}

fn json_lines(text: &str) -> Vec<Value> {
    text.lines()
        .filter(|l| l.starts_with('{'))
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// `rotor call` of the Codex pool against `server`, JSON trace on stderr; `extra` may
/// override `--trace`, `--max-wait` and `--timeout`.
fn call(env: &Env, server: &FakeServer, extra: &[&str]) -> Called {
    let base = format!("{}/codex", server.url);
    let token = format!("{}{TOKEN}", server.url);
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
    args.extend(["--base-url", &base, "--token-url", &token]);
    args.extend_from_slice(extra);
    args.push("say hello");
    let started = Instant::now();
    let run = env.run(&args);
    let elapsed = started.elapsed();
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
    let events = json_lines(&run.stderr);
    Called {
        run,
        events,
        elapsed,
    }
}

fn entry_of(env: &Env, provider: &str, index: usize) -> Value {
    env.auth_json()["credential_pool"][provider][index].clone()
}

fn hash(id: &str) -> String {
    rotor::pool::profile_hash(id)
}

fn usage_limit(message: &str) -> Reply {
    let body = json!({"error": {"type": "usage_limit_reached", "message": message}});
    Reply::json(429, &body.to_string())
}

fn revoked(message: &str) -> Reply {
    let body = json!({"error": {"code": "token_revoked", "message": message}});
    Reply::json(401, &body.to_string())
}

// ---------------------------------------------------------------------------------------------
// Echoes

/// A Codex pool of `n` OAuth profiles (ids `e00`…, accounts `acct-e00`…, labels and token
/// emails `user0@corp.example`…), an Anthropic and a custom provider with API keys.
struct EchoPool {
    doc: Value,
    n: usize,
}

impl EchoPool {
    fn new(n: usize) -> EchoPool {
        let codex: Vec<Value> = (0..n)
            .map(|i| {
                let email = format!("user{i}@corp.example");
                let mut e = entry(
                    &format!("e{i:02}"),
                    &email,
                    "oauth",
                    i,
                    &jwt(4102444800.0, &format!("acct-e{i:02}"), &email),
                );
                e["refresh_token"] =
                    json!(format!("rt_{}", random_text(i as u64 + 1, 40, BASE64URL)));
                e
            })
            .collect();
        let anthropic = format!("sk-ant-api03-{}", random_text(101, 60, BASE64URL));
        let custom = format!("ck/{}", random_text(202, 40, BASE64));
        let doc = json!({"version": 1, "active_provider": "openai-codex", "credential_pool": {
            "openai-codex": codex,
            "anthropic": [entry("an1", "ANTHROPIC_API_KEY", "api_key", 0, &anthropic)],
            "custom-llm": [entry("cu1", "ops@corp.example", "api_key", 0, &custom)],
        }});
        EchoPool { doc, n }
    }

    fn env(&self) -> Env {
        Env::with_auth_bytes(&serde_json::to_vec_pretty(&self.doc).unwrap())
    }

    fn codex(&self, i: usize, key: &str) -> String {
        self.doc["credential_pool"]["openai-codex"][i][key]
            .as_str()
            .unwrap()
            .to_string()
    }

    fn access(&self, i: usize) -> String {
        self.codex(i, "access_token")
    }

    fn refresh(&self, i: usize) -> String {
        self.codex(i, "refresh_token")
    }

    fn key(&self, provider: &str) -> String {
        self.doc["credential_pool"][provider][0]["access_token"]
            .as_str()
            .unwrap()
            .to_string()
    }

    fn account(i: usize) -> String {
        format!("acct-e{i:02}")
    }

    fn secrets(&self) -> Secrets {
        Secrets::of_doc(&self.doc)
    }

    /// One failure per profile but the last, each echoing secrets of *other* profiles (and
    /// other providers) in another disguise.
    fn echoes(&self) -> Vec<(&'static str, Reply)> {
        let unicode =
            |s: &str| -> String { s.chars().map(|c| format!("\\u{:04x}", c as u32)).collect() };
        let percent = |s: &str| -> String { s.bytes().map(|b| format!("%{b:02X}")).collect() };
        let anthropic = self.key("anthropic");
        let custom = self.key("custom-llm");
        let t4 = self.access(4);
        let partly_percent: String = t4
            .chars()
            .map(|c| match c {
                '.' | '-' | '_' | 'e' => format!("%{:02x}", c as u32),
                c => c.to_string(),
            })
            .collect();
        let zero_width: String = self
            .refresh(5)
            .chars()
            .enumerate()
            .flat_map(|(i, c)| {
                if i % 3 == 2 {
                    vec![c, '\u{200b}']
                } else {
                    vec![c]
                }
            })
            .collect();
        let joined: String = self
            .access(5)
            .chars()
            .enumerate()
            .flat_map(|(i, c)| {
                if i % 10 == 9 {
                    vec![c, '\u{2060}']
                } else {
                    vec![c]
                }
            })
            .collect();
        let escaped = format!(
            "\x1b]8;;http://x/\x1b\\{}\x1b[0m{}\x1b[31m{}\x1b[0m{}\x1b]8;;\x1b\\",
            &anthropic[..12],
            &anthropic[12..30],
            &anthropic[30..50],
            &anthropic[50..]
        );
        let filler = "lorem ipsum dolor sit amet ".repeat(7)[..180].to_string();
        let doubled: String = self
            .refresh(8)
            .chars()
            .map(|c| format!("\\\\u{:04x}", c as u32))
            .collect();
        let percent_json: String = custom
            .chars()
            .map(|c| format!("%5Cu{:04x}", c as u32))
            .collect();
        let t10 = self.access(10);
        let limit_code = json!({"error": {"type": "usage_limit_reached",
            "code": format!("bad_{}", self.refresh(12)), "message": LIMIT}});
        vec![
            (
                "raw access token",
                usage_limit(&format!("usage limit reached for {}", self.access(1))),
            ),
            (
                "raw refresh token and API key",
                revoked(&format!(
                    "revoked; refresh {} key {anthropic}",
                    self.refresh(2)
                )),
            ),
            (
                "\\uXXXX-escaped API key",
                usage_limit(&format!("usage limit reached for {}", unicode(&anthropic))),
            ),
            (
                "\\/-escaped API key",
                revoked(&format!("bad key {}", custom.replace('/', "\\/"))),
            ),
            (
                "percent-encoded access token",
                usage_limit(&format!("{LIMIT}: {}", percent(&self.access(3)))),
            ),
            (
                "partly percent-encoded access token",
                revoked(&partly_percent),
            ),
            (
                "zero-width characters inside",
                usage_limit(&format!("{LIMIT} for {zero_width} and {joined}")),
            ),
            (
                "escape sequences inside",
                revoked(&format!("key {escaped}")),
            ),
            (
                "echo across the 200-character cut",
                usage_limit(&format!("{filler}{}", self.access(7))),
            ),
            ("doubled escapes", revoked(&format!("refresh {doubled}"))),
            (
                "percent-encoded JSON escapes",
                usage_limit(&format!("{LIMIT}: {percent_json}")),
            ),
            (
                "a prefix and a window of 17 characters",
                revoked(&format!(
                    "refresh {}… token …{}…",
                    &self.refresh(10)[..20],
                    &t10[100..117]
                )),
            ),
            (
                "addresses",
                usage_limit(&format!(
                    "{LIMIT}: contact user0@corp.example, USER3@CORP.EXAMPLE, \
                     Someone.Else@elsewhere.org or user4%40corp.example"
                )),
            ),
            ("the error code", Reply::json(429, &limit_code.to_string())),
            (
                "a body that is not JSON",
                Reply::json(
                    429,
                    &format!(
                        "<html>usage limit reached: {} (user13@corp.example)</html>",
                        self.access(13)
                    ),
                ),
            ),
        ]
        .into_iter()
        .take(self.n - 1)
        .collect()
    }

    /// Scripts `server` at `path`: profile i answers echo i, the last profile `last`.
    fn script(&self, server: &FakeServer, path: &str, last: Reply) -> Vec<&'static str> {
        let echoes = self.echoes();
        assert_eq!(echoes.len(), self.n - 1);
        let mut names = Vec::new();
        for (i, (name, reply)) in echoes.into_iter().enumerate() {
            server.on_header(path, "chatgpt-account-id", &Self::account(i), vec![reply]);
            names.push(name);
        }
        server.on_header(
            path,
            "chatgpt-account-id",
            &Self::account(self.n - 1),
            vec![last],
        );
        names
    }
}

/// What auth.json keeps of every echoing profile holds `[redacted]`, and no token or address.
fn assert_stored_redacted(env: &Env, pool: &EchoPool, names: &[&str]) {
    let secrets = pool.secrets();
    for (i, name) in names.iter().enumerate() {
        let e = entry_of(env, "openai-codex", i);
        let stored = format!(
            "{} | {}",
            e["last_error_reason"].as_str().unwrap_or(""),
            e["last_error_message"].as_str().unwrap_or("")
        );
        assert!(
            stored.contains("[redacted]"),
            "{name}: the echo was not redacted: {stored}"
        );
        assert_eq!(
            secrets.tokens_in(&stored),
            Vec::<&str>::new(),
            "{name}: {stored}"
        );
        assert_eq!(
            secrets.emails_in(&stored),
            Vec::<String>::new(),
            "{name}: {stored}"
        );
    }
}

#[test]
fn call_never_shows_or_stores_a_secret_a_server_echoes_in_any_disguise() {
    let pool = EchoPool::new(16);
    let secrets = pool.secrets();
    for trace in ["json", "human"] {
        let env = pool.env();
        let server = FakeServer::start();
        let names = pool.script(&server, RESPONSES, Reply::codex_text("done"));
        let trace_file = env.dir.path().join("trace.jsonl");
        let called = call(
            &env,
            &server,
            &[
                "--trace",
                trace,
                "--trace-file",
                trace_file.to_str().unwrap(),
            ],
        );
        called.run.expect_code(0);
        assert_eq!(called.run.stdout, "done\n");
        assert_eq!(
            server.seen_at(RESPONSES).len(),
            pool.n,
            "every profile was tried once"
        );
        // The servers did echo (each stored text and the trace say `[redacted]`), and nothing of
        // a secret is left, whichever way it was disguised.
        assert_stored_redacted(&env, &pool, &names);
        let file = std::fs::read_to_string(&trace_file).unwrap();
        for (what, text) in [("stderr", &called.run.stderr), ("trace file", &file)] {
            assert_eq!(
                secrets.tokens_in(text),
                Vec::<&str>::new(),
                "{what}: {text}"
            );
            assert!(text.contains("[redacted]"), "{what}: {text}");
        }
        let events = json_lines(&file);
        let failed: Vec<&Value> = events
            .iter()
            .filter(|e| e["event"] == "attempt_failed")
            .collect();
        assert_eq!(failed.len(), pool.n - 1, "{file}");
        for event in &events {
            let line = event.to_string();
            assert_eq!(secrets.emails_in(&line), Vec::<String>::new(), "{line}");
            assert_eq!(addresses(&line), Vec::<String>::new(), "{line}");
        }
    }
}

#[test]
fn probe_never_stores_a_secret_a_server_echoes() {
    let pool = EchoPool::new(16);
    let secrets = pool.secrets();
    let env = pool.env();
    let server = FakeServer::start();
    let healthy = json!({"rate_limit": {"primary_window": {"used_percent": 10.0,
        "reset_after_seconds": 600}}});
    let names = pool.script(&server, USAGE, Reply::json(200, &healthy.to_string()));
    let base = format!("{}/codex", server.url);
    let token = format!("{}{TOKEN}", server.url);
    let run = env.run(&[
        "profiles",
        "probe",
        "--provider",
        "openai-codex",
        "--base-url",
        &base,
        "--token-url",
        &token,
        "--format",
        "json",
    ]);
    run.expect_code(0);
    assert_eq!(server.seen_at(USAGE).len(), pool.n);
    assert!(server.seen_at(TOKEN).is_empty());
    assert_stored_redacted(&env, &pool, &names);
    let report = run.json();
    for row in report["providers"][0]["profiles"].as_array().unwrap() {
        let detail = row["probe"]["detail"].as_str().unwrap_or("");
        assert_eq!(secrets.tokens_in(detail), Vec::<&str>::new(), "{detail}");
        assert_eq!(secrets.emails_in(detail), Vec::<String>::new(), "{detail}");
    }
}

#[test]
fn an_invalid_percent_escape_does_not_shield_a_percent_encoded_echo() {
    // A query string echoed back with a Latin-1 `%E9` beside a percent-encoded token: one escape
    // that does not decode to UTF-8 must not leave the others undecoded, hence unredacted.
    let env = Env::with_fixture("fresh.json");
    let token = entry_of(&env, "openai-codex", 1)["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    let encoded: String = token.bytes().map(|b| format!("%{b:02X}")).collect();
    let server = FakeServer::start();
    server.on_header(
        RESPONSES,
        "chatgpt-account-id",
        ACCOUNTS[0],
        vec![usage_limit(&format!(
            "{LIMIT}: GET /cb?name=caf%E9&access_token={encoded}"
        ))],
    );
    server.on_header(
        RESPONSES,
        "chatgpt-account-id",
        ACCOUNTS[1],
        vec![Reply::codex_text("done")],
    );
    // `call` runs the leak scanner: a percent-encoded piece of the token in the trace or in
    // `last_error_message` fails it.
    call(&env, &server, &[]).run.expect_code(0);
    let stored = entry_of(&env, "openai-codex", 0)["last_error_message"].clone();
    assert!(stored.as_str().unwrap().contains("[redacted]"), "{stored}");
}

// ---------------------------------------------------------------------------------------------
// Redirects

/// A second origin on 127.0.0.2 and a redirect to it, with user info, query and fragment.
fn redirect_target(path: &str) -> (FakeServer, String, String) {
    let target = FakeServer::start_on("127.0.0.2");
    let authority = target.url.trim_start_matches("http://").to_string();
    let location = format!("http://user:hunter2@{authority}{path}?access_token=leak&x=1#fragment");
    let shown = format!("http://{authority}{path}");
    (target, location, shown)
}

/// The sanitised Location is named, without user info, query string or fragment.
fn assert_names_location(text: &str, shown: &str) {
    assert!(text.contains(shown), "{shown} not named in: {text}");
    for hidden in ["hunter2", "user:", "access_token", "x=1", "fragment"] {
        assert!(!text.contains(hidden), "{hidden} shown in: {text}");
    }
}

#[test]
fn a_redirect_is_not_followed_with_a_codex_bearer_token() {
    let env = Env::with_fixture("fresh.json");
    let (target, location, shown) = redirect_target("/steal");
    target.on("/steal", vec![Reply::codex_text("stolen")]);
    target.on(USAGE, vec![Reply::json(200, "{}")]);
    let server = FakeServer::start();
    server.on(RESPONSES, vec![Reply::redirect(307, &location)]);
    server.on(
        USAGE,
        vec![Reply::redirect(302, &location.replace("/steal", USAGE))],
    );
    let called = call(&env, &server, &[]);
    called.run.expect_code(5);
    assert_eq!(server.seen_at(RESPONSES).len(), 1, "no retry, no rotation");
    assert_eq!(target.seen().len(), 0, "the redirect target got a request");
    let failed = &called.events("attempt_failed")[0];
    assert_eq!(failed["class"], "request");
    assert_eq!(failed["status"], 307);
    assert_names_location(failed["message"].as_str().unwrap(), &shown);
    assert!(!called.run.stderr.contains("hunter2"));
    assert_eq!(called.run.stdout, "");

    // The usage probe does not follow one either.
    let base = format!("{}/codex", server.url);
    let token = format!("{}{TOKEN}", server.url);
    let probe = env.run(&[
        "profiles",
        "probe",
        "openai-codex#1",
        "--base-url",
        &base,
        "--token-url",
        &token,
        "--format",
        "json",
    ]);
    assert_eq!(server.seen_at(USAGE).len(), 1);
    assert_eq!(target.seen().len(), 0, "the probe followed the redirect");
    let report = probe.json();
    let row = &report["providers"][0]["profiles"][0];
    assert_eq!(row["probe"]["verdict"], "unreachable", "{row}");
    assert_names_location(
        row["probe"]["detail"].as_str().unwrap(),
        &shown.replace("/steal", USAGE),
    );
}

#[test]
fn a_redirect_is_not_followed_with_an_anthropic_api_key() {
    let key = format!("sk-ant-api03-{}", random_text(7, 60, BASE64URL));
    let env = fixture_with(&[(
        "anthropic",
        json!([entry("an1", "ANTHROPIC_API_KEY", "api_key", 0, &key)]),
    )]);
    let (target, location, shown) = redirect_target("/v1/messages");
    target.on("/v1/messages", vec![Reply::anthropic_text("stolen")]);
    let server = FakeServer::start();
    server.on("/v1/messages", vec![Reply::redirect(308, &location)]);
    let run = env.run(&[
        "call",
        "--provider",
        "anthropic",
        "--base-url",
        &server.url,
        "--trace",
        "json",
        "--max-wait",
        "0.1s",
        "hi",
    ]);
    run.expect_code(5);
    let seen = server.seen_at("/v1/messages");
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].header("x-api-key"), Some(key.as_str()));
    assert_eq!(
        target.seen().len(),
        0,
        "the x-api-key went to the redirect target"
    );
    let events = json_lines(&run.stderr);
    let failed = events
        .iter()
        .find(|e| e["event"] == "attempt_failed")
        .unwrap();
    assert_eq!(failed["class"], "request");
    assert_names_location(failed["message"].as_str().unwrap(), &shown);
}

#[test]
fn a_redirected_token_refresh_sends_nothing_on_and_changes_nothing() {
    // One Codex profile whose token expires in a minute: rotor refreshes it first.
    let mut doc: Value = serde_json::from_slice(&fixture_bytes("fresh.json")).unwrap();
    let codex = doc["credential_pool"]["openai-codex"]
        .as_array_mut()
        .unwrap();
    codex.truncate(1);
    codex[0]["access_token"] = json!(jwt(now() + 60.0, ACCOUNTS[0], "pro@example.com"));
    let env = Env::with_auth_bytes(&serde_json::to_vec_pretty(&doc).unwrap());
    let before = entry_of(&env, "openai-codex", 0);
    let (target, location, _) = redirect_target(TOKEN);
    let stolen = jwt(4102444800.0, ACCOUNTS[0], "pro@example.com");
    target.on(
        TOKEN,
        vec![Reply::json(
            200,
            &json!({"access_token": stolen, "refresh_token": "rt_from_the_redirect"}).to_string(),
        )],
    );
    let server = FakeServer::start();
    server.on(TOKEN, vec![Reply::redirect(307, &location)]);
    server.on(RESPONSES, vec![Reply::codex_text("ok")]);
    let called = call(&env, &server, &[]);
    assert_eq!(server.seen_at(TOKEN).len(), 1, "{}", called.run.stderr);
    assert_eq!(
        target.seen().len(),
        0,
        "the refresh token went to the redirect target"
    );
    let after = entry_of(&env, "openai-codex", 0);
    assert_eq!(
        (&after["access_token"], &after["refresh_token"]),
        (&before["access_token"], &before["refresh_token"]),
        "the tokens changed"
    );
    assert_ne!(after["last_status"], "dead", "{after}");
    let refresh = &called.events("token_refresh")[0];
    assert_eq!(refresh["outcome"], "failed");
    // The token still works for a minute: the request goes on with it.
    called.run.expect_code(0);
    assert_eq!(called.run.stdout, "ok\n");
}

/// A loopback proxy for `command`: whatever rotor would send anywhere arrives here instead.
fn trapped(command: &mut Command, trap: &FakeServer) {
    for name in [
        "HTTP_PROXY",
        "http_proxy",
        "HTTPS_PROXY",
        "https_proxy",
        "ALL_PROXY",
        "all_proxy",
    ] {
        command.env(name, &trap.url);
    }
}

#[test]
fn credential_urls_that_are_not_https_or_loopback_are_refused_before_sending() {
    let mut doc: Value = serde_json::from_slice(&fixture_bytes("fresh.json")).unwrap();
    doc["credential_pool"]["openrouter"][0]["base_url"] = json!("http://example.com/v1");
    let env = Env::with_auth_bytes(&serde_json::to_vec_pretty(&doc).unwrap());
    let trap = FakeServer::start();
    let run = |args: &[&str]| {
        let mut command = env.command();
        command.args(args);
        trapped(&mut command, &trap);
        let started = Instant::now();
        let run = run_checked(&env, &mut command);
        (run, started.elapsed())
    };
    // The control: an https URL may be used, and its request is caught by the trap.
    let (control, _) = run(&[
        "call",
        "--provider",
        "openai-codex",
        "--base-url",
        "https://trap.invalid/codex",
        "--attempts",
        "1",
        "--trace",
        "off",
        "hi",
    ]);
    assert_ne!(control.code, 0);
    assert_eq!(trap.seen().len(), 1, "the proxy trap caught nothing");
    let caught = trap.seen().len();
    for (flag, url) in [
        ("--base-url", "http://10.1.2.3/codex"),
        ("--base-url", "notaurl"),
        ("--base-url", "ftp://x"),
        ("--token-url", "http://10.1.2.3/oauth/token"),
    ] {
        let (refused, took) = run(&[
            "call",
            "--provider",
            "openai-codex",
            flag,
            url,
            "--trace",
            "off",
            "hi",
        ]);
        refused.expect_code(2);
        assert!(took < Duration::from_secs(2), "{url}: {took:?}");
        assert!(
            refused.stderr.starts_with("rotor: ") && refused.stderr.contains(flag),
            "{url}: {}",
            refused.stderr
        );
        assert_eq!(trap.seen().len(), caught, "{url}: a request was sent");
    }
    // A stored base_url in plain http to another host: the file needs fixing; nothing is sent.
    let (stored, _) = run(&["call", "--provider", "openrouter", "--trace", "off", "hi"]);
    stored.expect_code(7);
    assert!(stored.stderr.contains("base_url"), "{}", stored.stderr);
    let (probed, _) = run(&[
        "profiles",
        "probe",
        "--provider",
        "openrouter",
        "--format",
        "json",
    ]);
    assert!(!probed.stdout.is_empty(), "{}", probed.stderr);
    assert_eq!(
        trap.seen().len(),
        caught,
        "a credential went over plain http"
    );
    assert_eq!(
        env.auth_json()["credential_pool"]["openrouter"][0]["last_status"],
        Value::Null
    );
}

// ---------------------------------------------------------------------------------------------
// Floods

#[test]
fn an_endless_answer_stops_at_max_output() {
    let env = Env::with_fixture("fresh.json");
    let server = FakeServer::start();
    server.on(RESPONSES, vec![Reply::codex_flood(32 * 1024, None)]);
    let called = call(&env, &server, &["--max-output", "1MiB"]);
    called.run.expect_code(4);
    assert!(
        called.elapsed < Duration::from_secs(5),
        "rotor kept reading: {:?}",
        called.elapsed
    );
    let printed = called.run.stdout.len();
    assert!(
        ((1 << 20) - 64 * 1024..=(1 << 20) + 1).contains(&printed),
        "{printed} bytes printed"
    );
    assert_eq!(server.seen_at(RESPONSES).len(), 1, "no replay after output");
    let failed = &called.events("attempt_failed")[0];
    assert!(
        failed["message"].as_str().unwrap().contains("--max-output"),
        "{failed}"
    );
    assert_eq!(
        called.events("request_end")[0]["outcome"],
        "upstream_unavailable"
    );
}

/// Runs `rotor ARGS` from python3, its stdout thrown away, and prints its peak RSS in KiB.
const MAX_RSS: &str = "
import resource, subprocess, sys
done = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
sys.stderr.buffer.write(done.stderr)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
sys.exit(done.returncode)
";

#[test]
fn a_long_answer_streams_in_flat_memory() {
    let env = Env::with_fixture("fresh.json");
    let server = FakeServer::start();
    let total: u64 = 100 << 20;
    server.on(RESPONSES, vec![Reply::codex_flood(64 * 1024, Some(total))]);
    let base = format!("{}/codex", server.url);
    let mut command = env.command_of("python3");
    command.args(["-c", MAX_RSS, BIN.as_str()]).args([
        "call",
        "--provider",
        "openai-codex",
        "--base-url",
        &base,
        "--trace",
        "off",
        "--timeout",
        "5s",
        "--format",
        "text",
        "--max-output",
        "1GiB",
        "go",
    ]);
    let started = Instant::now();
    let run = run_checked(&env, &mut command);
    run.expect_code(0);
    let max_rss_kib: u64 = run.stdout.trim().parse().unwrap();
    assert!(
        max_rss_kib < 60 * 1024,
        "{} MiB of RSS for a 100 MiB answer",
        max_rss_kib / 1024
    );
    eprintln!(
        "100 MiB answer: {} MiB max RSS, {:?}",
        max_rss_kib / 1024,
        started.elapsed()
    );
}

// ---------------------------------------------------------------------------------------------
// Stalls

#[test]
fn timeout_is_the_longest_silence_not_a_cap_on_a_steady_stream() {
    let env = Env::with_fixture("fresh.json");
    let server = FakeServer::start();
    let words = ["one ", "two ", "three ", "four ", "five ", "six"];
    server.on(
        RESPONSES,
        vec![Reply::codex_deltas(&words, Duration::from_millis(400))],
    );
    let called = call(&env, &server, &["--timeout", "1s"]);
    called.run.expect_code(0);
    assert_eq!(called.run.stdout, "one two three four five six\n");
    assert!(
        called.elapsed >= Duration::from_millis(2400),
        "{:?}",
        called.elapsed
    );
    assert_eq!(server.seen_at(RESPONSES).len(), 1);
}

#[test]
fn a_stream_that_goes_silent_times_out() {
    let env = Env::with_fixture("fresh.json");
    let server = FakeServer::start();
    server.on(RESPONSES, vec![Reply::codex_stall_after(&["partial "])]);
    let called = call(&env, &server, &["--timeout", "1s"]);
    called.run.expect_code(4);
    assert!(
        called.elapsed < Duration::from_secs(4),
        "the silence was not bounded: {:?}",
        called.elapsed
    );
    assert!(
        called.run.stdout.starts_with("partial"),
        "{}",
        called.run.stdout
    );
    assert_eq!(server.seen_at(RESPONSES).len(), 1, "no replay after output");
    let failed = &called.events("attempt_failed")[0];
    assert_eq!(failed["class"], "transient");
    assert!(
        failed["message"].as_str().unwrap().contains("timed out"),
        "{failed}"
    );
}

// ---------------------------------------------------------------------------------------------
// Lies about reset times

/// Profile 1 answers `first`, profile 2 succeeds; returns the call, the time it started and
/// the first entry afterwards.
fn cool_first(first: Reply, extra: &[&str]) -> (Called, f64, Value, Env) {
    let env = Env::with_fixture("fresh.json");
    let server = FakeServer::start();
    server.on_header(RESPONSES, "chatgpt-account-id", ACCOUNTS[0], vec![first]);
    server.on_header(
        RESPONSES,
        "chatgpt-account-id",
        ACCOUNTS[1],
        vec![Reply::codex_text("ok")],
    );
    let started = now();
    let called = call(&env, &server, extra);
    called.run.expect_code(0);
    let first = entry_of(&env, "openai-codex", 0);
    (called, started, first, env)
}

fn cooldown_event<'a>(called: &'a Called, id: &str) -> &'a Value {
    called
        .events("profile_cooldown")
        .into_iter()
        .find(|e| e["profile"] == hash(id))
        .unwrap_or_else(|| panic!("no profile_cooldown for {id}: {:?}", called.events))
}

#[test]
fn a_huge_retry_after_is_capped_at_thirty_days() {
    let (called, started, first, _env) = cool_first(
        usage_limit(LIMIT).with_header("retry-after", "99999999"),
        &[],
    );
    let reset = first["last_error_reset_at"].as_f64().unwrap();
    assert!(
        reset >= started + THIRTY_DAYS - 5.0 && reset <= now() + THIRTY_DAYS + 5.0,
        "stored reset {reset}: {} days ahead",
        (reset - started) / 86_400.0
    );
    let event = cooldown_event(&called, "a1b2c3");
    assert_eq!(event["capped"], true, "{event}");
    assert_eq!(event["source"], "retry_after", "{event}");
}

#[test]
fn max_cooldown_sets_the_cap() {
    let (called, started, first, _env) = cool_first(
        usage_limit(LIMIT).with_header("retry-after", "99999999"),
        &["--max-cooldown", "1h"],
    );
    let reset = first["last_error_reset_at"].as_f64().unwrap();
    assert!(
        reset >= started + 3600.0 - 5.0 && reset <= now() + 3600.0 + 5.0,
        "stored reset {reset}: {} s ahead",
        reset - started
    );
    assert_eq!(cooldown_event(&called, "a1b2c3")["capped"], true);
}

#[test]
fn reset_times_outside_the_calendar_are_ignored_for_the_ttl() {
    let env = Env::with_fixture("fresh.json");
    let server = FakeServer::start();
    let lie = |resets_at: &str| {
        Reply::json(
            429,
            &format!(
                r#"{{"error":{{"type":"usage_limit_reached","message":"{LIMIT}","resets_at":{resets_at}}}}}"#
            ),
        )
    };
    server.on_header(
        RESPONSES,
        "chatgpt-account-id",
        ACCOUNTS[0],
        vec![lie("1e300")],
    );
    server.on_header(
        RESPONSES,
        "chatgpt-account-id",
        ACCOUNTS[1],
        vec![lie("\"10000-01-01T00:00:00Z\"")],
    );
    server.on_header(
        RESPONSES,
        "chatgpt-account-id",
        ACCOUNTS[2],
        vec![Reply::codex_text("ok")],
    );
    let called = call(&env, &server, &[]);
    called.run.expect_code(0);
    let list = env.run(&[
        "profiles",
        "list",
        "--provider",
        "openai-codex",
        "--format",
        "json",
    ]);
    let rows = list.json()["providers"][0]["profiles"].clone();
    for (i, id) in ["a1b2c3", "d4e5f6"].iter().enumerate() {
        let e = entry_of(&env, "openai-codex", i);
        assert_eq!(e["last_status"], "exhausted", "{id}: {e}");
        assert_eq!(e["last_error_reset_at"], Value::Null, "{id}: {e}");
        let at = e["last_status_at"].as_f64().unwrap();
        let until =
            rotor::time::parse_timestamp_text(rows[i]["cooldown_until"].as_str().unwrap()).unwrap();
        assert!(
            (until - (at + 3600.0)).abs() < 1.5,
            "{id}: cooling until {until}, last status at {at}"
        );
        let event = cooldown_event(&called, id);
        assert_eq!(
            (event["source"].as_str(), event["capped"].as_bool()),
            (Some("ttl"), Some(false)),
            "{event}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Escapes

/// Runs `ARGS...` from python3 on a fresh pseudo-terminal in raw mode (no newline
/// translation), and prints what it wrote there. `MODE` `both` puts stderr on the terminal
/// too; `out` leaves it on python's stderr.
const ON_A_TERMINAL: &str = "
import os, pty, subprocess, sys, tty
master, slave = pty.openpty()
tty.setraw(slave)
stderr = slave if sys.argv[1] == 'both' else None
child = subprocess.Popen(sys.argv[2:], stdin=subprocess.DEVNULL, stdout=slave, stderr=stderr)
os.close(slave)
seen = bytearray()
while True:
    try:
        data = os.read(master, 65536)
    except OSError:
        break
    if not data:
        break
    seen += data
code = child.wait()
sys.stdout.buffer.write(bytes(seen))
sys.exit(code)
";

fn on_a_terminal(env: &Env, mode: &str, args: &[&str]) -> Run {
    let mut command = env.command_of("python3");
    command
        .args(["-c", ON_A_TERMINAL, mode, BIN.as_str()])
        .args(args);
    run_checked(env, &mut command)
}

#[test]
fn the_answer_on_a_terminal_is_filtered_raw_keeps_it_and_a_pipe_gets_it_as_sent() {
    // Split mid-sequence on purpose: the filter keeps its state between chunks.
    let deltas = [
        "A\x1b[2",
        "J\x1b[HB\x1b]0;pw",
        "ned\x07C\x07D\x08E\rF\r",
        "\nG\tH\u{202e}I\x1b]8;;http://evil/\x1b\\J\x1b]8;;\x1b\\K\u{9b}31mL",
    ];
    let sent: String = deltas.concat();
    let env = Env::with_fixture("fresh.json");
    let server = FakeServer::start();
    server.on(
        RESPONSES,
        vec![Reply::codex_deltas(&deltas, Duration::ZERO)],
    );
    let base = format!("{}/codex", server.url);
    let args = |extra: &'static [&'static str]| {
        let mut args = vec![
            "call",
            "--provider",
            "openai-codex",
            "--base-url",
            &base,
            "--trace",
            "off",
        ];
        args.extend_from_slice(extra);
        args.push("hi");
        args
    };
    let shown = on_a_terminal(&env, "out", &args(&[]));
    shown.expect_code(0);
    assert_eq!(
        shown.stdout, "ABC\u{fffd}D\u{fffd}E\u{fffd}F\nG\tHIJKL\n",
        "what a terminal was sent"
    );
    let raw = on_a_terminal(&env, "out", &args(&["--raw"]));
    raw.expect_code(0);
    assert_eq!(raw.stdout, format!("{sent}\n"), "--raw on a terminal");
    let piped = env.run(&args(&[]));
    piped.expect_code(0);
    assert_eq!(piped.stdout, format!("{sent}\n"), "a pipe");
}

#[test]
fn on_a_terminal_the_answer_ends_before_the_next_trace_line() {
    let env = Env::with_fixture("fresh.json");
    let server = FakeServer::start();
    server.on(
        RESPONSES,
        vec![Reply::codex_deltas(
            &["no newline", " at the end"],
            Duration::ZERO,
        )],
    );
    let base = format!("{}/codex", server.url);
    let run = on_a_terminal(
        &env,
        "both",
        &[
            "call",
            "--provider",
            "openai-codex",
            "--base-url",
            &base,
            "--trace",
            "human",
            "hi",
        ],
    );
    run.expect_code(0);
    let answer = "no newline at the end";
    let at = run
        .stdout
        .find(answer)
        .unwrap_or_else(|| panic!("{:?}", run.stdout));
    let after = &run.stdout[at + answer.len()..];
    assert!(after.starts_with('\n'), "{:?}", run.stdout);
    let next = after[1..].lines().next().unwrap_or_default();
    assert!(
        next.contains("end"),
        "the next line is a trace line: {:?}",
        run.stdout
    );
}

/// A provider with one API-key entry.
fn provider_pool(names: &[&str]) -> Env {
    let mut pool = serde_json::Map::new();
    for (i, name) in names.iter().enumerate() {
        let token = format!("sk-test-{}", random_text(i as u64 + 50, 32, BASE64URL));
        pool.insert(
            name.to_string(),
            json!([entry(&format!("k{i}"), "KEY", "api_key", 0, &token)]),
        );
    }
    let doc = json!({"version": 1, "credential_pool": pool});
    Env::with_auth_bytes(&serde_json::to_vec_pretty(&doc).unwrap())
}

/// Characters a terminal acts on or hides: controls but newline, DEL, C1, bidi, zero-width.
fn invisible_or_control(text: &str) -> Vec<char> {
    text.chars()
        .filter(|&c| {
            (c.is_control() && c != '\n')
                || matches!(c, '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
        })
        .collect()
}

#[test]
fn provider_names_in_table_headings_are_sanitised() {
    let evil = "evil\x1b]0;pwned\x07\u{202e}prov\x1b[2J\u{200b}";
    let env = provider_pool(&[evil, "plain"]);
    let run = env.run(&["profiles", "list", "--color", "never"]);
    run.expect_code(0);
    assert_eq!(
        invisible_or_control(&run.stdout),
        Vec::<char>::new(),
        "{:?}",
        run.stdout
    );
    assert!(
        run.stdout
            .lines()
            .any(|l| l.starts_with("evil") && l.contains("prov")),
        "{}",
        run.stdout
    );
}

#[test]
fn prometheus_labels_of_hostile_provider_names_are_escaped() {
    let env = provider_pool(&["a\"b\\c", "ctl\x07\x1b[31m\nx\u{202e}y", "plain"]);
    let run = env.run(&["profiles", "list", "--format", "prometheus"]);
    run.expect_code(0);
    let text = &run.stdout;
    assert_eq!(invisible_or_control(text), Vec::<char>::new(), "{text:?}");
    assert!(
        text.contains("rotor_provider_profiles{provider=\"a\\\"b\\\\c\"} 1\n"),
        "{text}"
    );
    // Every sample line reads back: a name, quoted label values with only \\, \" and \n
    // escaped, and a number.
    let mut providers = Vec::new();
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        let (series, value) = line.rsplit_once(' ').expect(line);
        value.parse::<f64>().expect(line);
        let (_, labels) = series.split_once('{').expect(line);
        let labels = labels.strip_suffix('}').expect(line);
        let mut chars = labels.chars();
        loop {
            let key: String = chars.by_ref().take_while(|c| *c != '=').collect();
            assert!(
                !key.is_empty() && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'),
                "{line}"
            );
            assert_eq!(chars.next(), Some('"'), "{line}");
            let mut value = String::new();
            loop {
                match chars.next().expect(line) {
                    '\\' => match chars.next().expect(line) {
                        'n' => value.push('\n'),
                        c @ ('\\' | '"') => value.push(c),
                        other => panic!("bad escape \\{other} in {line}"),
                    },
                    '"' => break,
                    c => value.push(c),
                }
            }
            if key == "provider" {
                providers.push(value);
            }
            match chars.next() {
                Some(',') => continue,
                None => break,
                Some(other) => panic!("{other:?} after a label value in {line}"),
            }
        }
    }
    assert!(providers.iter().any(|p| p == "a\"b\\c"), "{providers:?}");
    assert!(
        providers
            .iter()
            .any(|p| p.starts_with("ctl") && p.ends_with('y')),
        "{providers:?}"
    );
}
