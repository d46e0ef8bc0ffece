//! Secrets never leave through output (DESIGN §6): no access or refresh token, API key or email
//! address in any JSON event, trace file, error message or panic output.
//!
//! [`Secrets::assert_clean`] runs after *every* `Env::run` of the suite (see `common.rs`): the
//! tokens and emails of the env's auth.json, before and after the run, are looked for in what the
//! run printed and in the trace files it left. The tests below add runs built to provoke leaks:
//! servers that echo the credentials they were sent, failing refreshes, simulations of pools
//! with email labels; and one test shows the scanner itself catches a leak.

use crate::common::*;
use crate::fake::{FakeServer, Reply};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};
use std::collections::BTreeSet;

#[derive(Debug, Default, Clone)]
pub struct Secrets {
    tokens: BTreeSet<String>,
    emails: BTreeSet<String>,
}

impl Secrets {
    /// The secrets of the env's auth.json as it is now (none if it is not JSON).
    pub fn of_env(env: &Env) -> Secrets {
        let bytes = std::fs::read(env.auth()).unwrap_or_default();
        match serde_json::from_slice::<Value>(&bytes) {
            Ok(doc) => Secrets::of_doc(&doc),
            Err(_) => Secrets::default(),
        }
    }

    pub fn of_doc(doc: &Value) -> Secrets {
        let mut secrets = Secrets::default();
        let pools = doc["credential_pool"]
            .as_object()
            .cloned()
            .unwrap_or_default();
        for entry in pools.values().filter_map(Value::as_array).flatten() {
            for key in ["access_token", "refresh_token"] {
                if let Some(token) = entry[key].as_str().filter(|t| t.len() >= 8) {
                    secrets.tokens.insert(token.to_string());
                    secrets.emails.extend(jwt_email(token));
                }
            }
            if let Some(label) = entry["label"].as_str().filter(|l| l.contains('@')) {
                secrets.emails.insert(label.to_string());
            }
        }
        secrets
    }

    pub fn extend(&mut self, other: Secrets) {
        self.tokens.extend(other.tokens);
        self.emails.extend(other.emails);
    }

    /// Every rule broken by `run` (and the trace files in `env`), as readable lines.
    pub fn violations(&self, run: &Run, env: Option<&Env>) -> Vec<String> {
        let mut found = Vec::new();
        for (name, text) in [("stdout", &run.stdout), ("stderr", &run.stderr)] {
            if text.contains("panicked at") {
                found.push(format!("{name}: a panic"));
            }
            for token in self.tokens.iter().filter(|t| contains_part(text, t)) {
                found.push(format!("{name}: token {}…", &token[..6]));
            }
            for line in text.lines() {
                let is_event = line.trim_start().starts_with('{')
                    && serde_json::from_str::<Value>(line).is_ok_and(|v| v.get("event").is_some());
                let is_error = name == "stderr" && line.starts_with("rotor:");
                if is_event || is_error {
                    for email in self.emails.iter().filter(|e| line.contains(*e)) {
                        found.push(format!("{name}: email {email} in `{line}`"));
                    }
                }
            }
        }
        let Some(env) = env else {
            return found;
        };
        for entry in std::fs::read_dir(env.dir.path()).unwrap().flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if !(name.ends_with(".jsonl") || name.contains("trace")) {
                continue;
            }
            let text = std::fs::read_to_string(entry.path()).unwrap_or_default();
            for secret in self.tokens.iter().chain(&self.emails) {
                if contains_part(&text, secret) {
                    found.push(format!("trace file {name}: {}…", &secret[..6]));
                }
            }
        }
        found
    }

    #[track_caller]
    pub fn assert_clean(&self, run: &Run, env: &Env) {
        let found = self.violations(run, Some(env));
        assert!(
            found.is_empty(),
            "secrets leaked: {found:#?}\nstdout:\n{}\nstderr:\n{}",
            run.stdout,
            run.stderr
        );
    }
}

/// Whether `text` holds `secret` or a piece of it: messages are cut at 200 characters, so a
/// leaked token may appear only in part. Any 16 consecutive characters of it count.
fn contains_part(text: &str, secret: &str) -> bool {
    const PIECE: usize = 16;
    if secret.len() <= PIECE || !secret.is_ascii() {
        return text.contains(secret);
    }
    (0..=secret.len() - PIECE)
        .step_by(4)
        .any(|i| text.contains(&secret[i..i + PIECE]))
}

/// The `email` claim of a JWT, if it is one.
fn jwt_email(token: &str) -> Option<String> {
    let payload = token.split('.').nth(1)?;
    let bytes = URL_SAFE_NO_PAD.decode(payload.trim_end_matches('=')).ok()?;
    let claims: Value = serde_json::from_slice(&bytes).ok()?;
    claims["email"].as_str().map(str::to_owned)
}

#[test]
fn the_scanner_catches_leaks() {
    // The negative control: without it, a scanner that never fires would pass every run.
    let env = Env::with_fixture("fresh.json");
    let secrets = Secrets::of_env(&env);
    assert!(secrets.tokens.contains("rt_fake_refresh_1"));
    assert!(secrets.emails.contains("pro@example.com"));
    let clean = Run {
        code: 0,
        stdout: "#1 pro@example.com ok\n".into(),
        stderr: String::new(),
    };
    assert_eq!(secrets.violations(&clean, None), Vec::<String>::new());
    for (stdout, stderr) in [
        ("refresh rt_fake_refresh_2\n", ""),
        (
            "",
            "{\"event\":\"attempt\",\"label\":\"team-a@example.com\"}\n",
        ),
        ("", "rotor: cannot use pro@example.com\n"),
        ("", "thread 'main' panicked at src/x.rs:1:1\n"),
    ] {
        let leaky = Run {
            code: 0,
            stdout: stdout.into(),
            stderr: stderr.into(),
        };
        assert!(
            !secrets.violations(&leaky, None).is_empty(),
            "missed: {stdout}{stderr}"
        );
    }
    std::fs::write(
        env.dir.path().join("trace.jsonl"),
        "{\"x\":\"pro@example.com\"}\n",
    )
    .unwrap();
    assert!(!secrets.violations(&clean, Some(&env)).is_empty());
}

fn codex_entry(doc: &Value, i: usize) -> Value {
    doc["credential_pool"]["openai-codex"][i].clone()
}

/// An unsigned JWT with an email claim, expiring in the far future.
fn jwt(account: &str, email: &str) -> String {
    let header = URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#);
    let claims = json!({"exp": 4102444800u64, "email": email,
        "https://api.openai.com/auth": {"chatgpt_plan_type": "team", "chatgpt_account_id": account}});
    format!(
        "{header}.{}.sig",
        URL_SAFE_NO_PAD.encode(claims.to_string())
    )
}

#[test]
fn server_error_bodies_echoing_credentials_are_redacted() {
    let env = Env::with_fixture("fresh.json");
    let doc = env.auth_json();
    let server = FakeServer::start();
    let echo = |i: usize, extra: &str| {
        let e = codex_entry(&doc, i);
        format!(
            "{extra} account={} refresh={} token={}",
            e["label"].as_str().unwrap(),
            e["refresh_token"].as_str().unwrap(),
            e["access_token"].as_str().unwrap(),
        )
    };
    // #1: quota spent, the message echoing everything; #2: a 401 whose refresh fails with the
    // refresh token echoed; #3: transient errors echoing, then the answer.
    let accounts = ["acct-0001", "acct-0002", "acct-0003"];
    let limit = json!({"error": {"type": "usage_limit_reached", "message": echo(0, "usage limit reached for"),
        "resets_in_seconds": 3600}});
    server.on_header(
        "/codex/responses",
        "chatgpt-account-id",
        accounts[0],
        vec![Reply::json(429, &limit.to_string())],
    );
    let unauthorized =
        json!({"error": {"message": echo(1, "bad credentials"), "code": echo(1, "x")}});
    server.on_header(
        "/codex/responses",
        "chatgpt-account-id",
        accounts[1],
        vec![Reply::json(401, &unauthorized.to_string())],
    );
    let refresh_error =
        json!({"error": "invalid_request", "error_description": echo(1, "cannot refresh")});
    server.on(
        "/oauth/token",
        vec![Reply::json(400, &refresh_error.to_string())],
    );
    let transient = format!("<html>{}</html>", echo(2, "upstream exploded"));
    server.on_header(
        "/codex/responses",
        "chatgpt-account-id",
        accounts[2],
        vec![
            Reply::json(500, &transient),
            Reply::json(503, &json!({"detail": echo(2, "again")}).to_string()),
            Reply::codex_text("hello"),
        ],
    );
    let trace = env.dir.path().join("trace.jsonl");
    let base = format!("{}/codex", server.url);
    let token_url = format!("{}/oauth/token", server.url);
    let run = env.run(&[
        "call",
        "--provider",
        "openai-codex",
        "--trace",
        "json",
        "--trace-file",
        trace.to_str().unwrap(),
        "--max-wait",
        "0.05s",
        "--base-url",
        &base,
        "--token-url",
        &token_url,
        "say hello",
    ]);
    run.expect_code(0);
    assert_eq!(run.stdout.trim(), "hello");
    // The server did say it all: the redaction is what kept it out.
    let events = std::fs::read_to_string(&trace).unwrap();
    assert!(events.contains("[redacted]"), "{events}");
    let failed = events
        .lines()
        .filter(|l| l.contains("attempt_failed"))
        .count();
    assert!(failed >= 3, "{events}");
    // And the human trace too.
    let human = env.run(&[
        "call",
        "--provider",
        "openai-codex",
        "--trace",
        "human",
        "--max-wait",
        "0.05s",
        "--base-url",
        &base,
        "--token-url",
        &token_url,
        "say hello",
    ]);
    assert!(!human.stderr.contains("rt_fake"), "{}", human.stderr);
    // What auth.json remembers of the errors is redacted as well.
    let after = env.auth_json();
    let message = codex_entry(&after, 0)["last_error_message"].clone();
    assert!(
        message.as_str().unwrap().contains("[redacted]"),
        "{message}"
    );
    let secrets = Secrets::of_doc(&doc);
    for i in 0..3 {
        let stored = codex_entry(&after, i)["last_error_message"].to_string();
        for secret in secrets.tokens.iter().chain(&secrets.emails) {
            assert!(!stored.contains(secret), "{stored}");
        }
    }
}

#[test]
fn simulate_json_and_errors_carry_no_labels_or_tokens() {
    let env = Env::with_fixture("fresh.json");
    let pool: Vec<Value> = (0..3)
        .map(|i| {
            json!({"id": format!("p{i}"), "label": format!("user{i}@corp.example"), "auth_type": "oauth",
                "priority": i, "access_token": jwt(&format!("acct-{i}"), &format!("user{i}@corp.example")),
                "refresh_token": format!("rt-secret-{i}-0123456789")})
        })
        .collect();
    let scenario = json!({"pool": pool, "scripts": {"p0": [429], "p1": [401, 401]}, "requests": 2});
    let path = env.dir.path().join("scenario.json");
    std::fs::write(&path, scenario.to_string()).unwrap();
    let fake_doc = json!({"credential_pool": {"openai-codex": scenario["pool"]}});
    let secrets = Secrets::of_doc(&fake_doc);
    for format in ["json", "table"] {
        let run = env.run(&["simulate", path.to_str().unwrap(), "--format", format]);
        let found = secrets.violations(&run, Some(&env));
        assert_eq!(found, Vec::<String>::new(), "{format}:\n{}", run.stdout);
    }
    // Error paths: unknown selector, dead profile, ambiguous selector, a broken file.
    env.run(&["cooldown", "set", "nobody@example.com", "--for", "1h"])
        .expect_code(8);
    env.run(&["cooldown", "set", "1", "--for", "1h"])
        .expect_code(8);
    let mut doc = env.auth_json();
    doc["credential_pool"]["openai-codex"][1]["last_status"] = json!("dead");
    std::fs::write(env.auth(), serde_json::to_vec_pretty(&doc).unwrap()).unwrap();
    env.run(&["cooldown", "set", "team-a@example.com", "--for", "1h"])
        .expect_code(2);
    let mut broken = serde_json::to_vec_pretty(&doc).unwrap();
    broken.truncate(broken.len() / 2);
    std::fs::write(env.auth(), &broken).unwrap();
    let run = env.run(&["cooldown", "set", "1", "--for", "1h"]);
    run.expect_code(7);
    let run = env.run(&["profiles", "list", "--format", "json"]);
    run.expect_code(7);
    // The checks that matter ran inside `env.run`; the broken file's own secrets are known
    // from the intact copy.
    assert_eq!(
        Secrets::of_doc(&doc).violations(&run, Some(&env)),
        Vec::<String>::new()
    );
}
