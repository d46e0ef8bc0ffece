//! Secrets never leave through output (docs/events.md): no access or refresh token, API key or email
//! address in any JSON event, trace file, error message, stored `last_error_*` field or panic
//! output.
//!
//! [`Secrets::assert_clean`] runs after *every* `Env::run` of the suite (see `common.rs`): the
//! tokens and emails of the env's auth.json, before and after the run, are looked for in what the
//! run printed, in the trace files it left and in the `last_error_message`/`last_error_reason`
//! fields of the auth.json it leaves. A token counts as leaked when any 16 consecutive characters
//! of it show, as written or once decoded the way a reader could decode them (JSON escapes,
//! percent-encoding, terminal escapes and invisible characters removed). JSON events, trace files
//! and stored fields may hold no email address at all: neither one of the pool's (in any case)
//! nor anything shaped like one. The tests below add runs built to provoke leaks: servers that
//! echo the credentials they were sent, failing refreshes, simulations of pools with email
//! labels; and one test shows the scanner itself catches each kind of leak.

use crate::common::*;
use crate::fake::{FakeServer, Reply};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};
use std::collections::{BTreeSet, HashMap};

/// A run of this many characters shared with a token is a leak (rotor redacts any such run).
pub const PIECE: usize = 16;
/// The fields of an entry where rotor stores what a server (or an operator) said.
const STORED_TEXT: [&str; 2] = ["last_error_message", "last_error_reason"];

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
            for key in ["access_token", "refresh_token", "api_key", "agent_key"] {
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

    /// A secret that is not in auth.json (the serve key).
    pub fn add_token(&mut self, token: &str) {
        self.tokens.insert(token.to_string());
    }

    pub fn extend(&mut self, other: Secrets) {
        self.tokens.extend(other.tokens);
        self.emails.extend(other.emails);
    }

    /// The tokens of which `text` shows a piece of [`PIECE`] characters (of at least four
    /// different ones), as written or decoded (see [`decoded`]). Tokens no longer than a piece
    /// count only whole.
    pub fn tokens_in(&self, text: &str) -> Vec<&str> {
        self.index().tokens_in(text)
    }

    fn index(&self) -> Index<'_> {
        let mut index = Index::default();
        for token in &self.tokens {
            if token.len() <= PIECE || !token.is_ascii() {
                index.whole.push(token);
            } else {
                // A piece of a few distinct characters (the zeros of `sk-or-v1-fake-000…`) says
                // nothing about the token: `1000000000000000000` is not a leak.
                for piece in token.as_bytes().windows(PIECE) {
                    if piece.iter().collect::<BTreeSet<_>>().len() >= 4 {
                        index.pieces.insert(piece, token);
                    }
                }
            }
        }
        index
    }

    /// The pool's addresses in `text` (in any case, as written or decoded), and anything else in
    /// it shaped like an address: what may never be in an event or a stored field.
    pub fn emails_in(&self, text: &str) -> Vec<String> {
        let mut found: BTreeSet<String> = self
            .known_emails_in(text)
            .into_iter()
            .map(str::to_owned)
            .collect();
        found.extend(addresses(text));
        found.extend(addresses(&decoded(text)));
        found.into_iter().collect()
    }

    /// The pool's own addresses in `text`, in any case, as written or decoded.
    fn known_emails_in(&self, text: &str) -> Vec<&str> {
        let views = [text.to_lowercase(), decoded(text).to_lowercase()];
        self.emails
            .iter()
            .filter(|e| views.iter().any(|v| v.contains(&e.to_lowercase())))
            .map(String::as_str)
            .collect()
    }

    /// Every rule broken by `run` (and, with `env`, by the trace files and the auth.json it
    /// left), as readable lines.
    pub fn violations(&self, run: &Run, env: Option<&Env>) -> Vec<String> {
        let index = self.index();
        let mut found = Vec::new();
        for (name, text) in [("stdout", &run.stdout), ("stderr", &run.stderr)] {
            if text.contains("panicked at") {
                found.push(format!("{name}: a panic"));
            }
            for token in index.tokens_in(text) {
                found.push(format!("{name}: token {}…", &token[..6]));
            }
            for line in text.lines() {
                let is_event = line.trim_start().starts_with('{')
                    && serde_json::from_str::<Value>(line).is_ok_and(|v| v.get("event").is_some());
                let is_error = name == "stderr" && line.starts_with("rotor:");
                if is_event {
                    for email in self.emails_in(line) {
                        found.push(format!("{name}: email {email} in the event `{line}`"));
                    }
                } else if is_error {
                    for email in self.known_emails_in(line) {
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
            for token in index.tokens_in(&text) {
                found.push(format!("trace file {name}: token {}…", &token[..6]));
            }
            for email in self.emails_in(&text) {
                found.push(format!("trace file {name}: email {email}"));
            }
        }
        found.extend(self.stored_violations(&index, env));
        found
    }

    /// Tokens and addresses in the `last_error_*` fields of the env's auth.json.
    fn stored_violations(&self, index: &Index, env: &Env) -> Vec<String> {
        let mut found = Vec::new();
        let bytes = std::fs::read(env.auth()).unwrap_or_default();
        let Ok(doc) = serde_json::from_slice::<Value>(&bytes) else {
            return found;
        };
        let pools = doc["credential_pool"]
            .as_object()
            .cloned()
            .unwrap_or_default();
        for (provider, entries) in &pools {
            for (i, entry) in entries.as_array().into_iter().flatten().enumerate() {
                for field in STORED_TEXT {
                    let Some(text) = entry[field].as_str() else {
                        continue;
                    };
                    let place = format!("auth.json {provider}[{i}].{field}");
                    for token in index.tokens_in(text) {
                        found.push(format!("{place}: token {}… in {text:?}", &token[..6]));
                    }
                    for email in self.emails_in(text) {
                        found.push(format!("{place}: email {email} in {text:?}"));
                    }
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

/// The tokens of a [`Secrets`], ready to be looked for: every piece of the long ones.
#[derive(Default)]
struct Index<'a> {
    pieces: HashMap<&'a [u8], &'a str>,
    whole: Vec<&'a str>,
}

impl<'a> Index<'a> {
    fn tokens_in(&self, text: &str) -> Vec<&'a str> {
        let mut found = BTreeSet::new();
        for view in [text.to_string(), decoded(text)] {
            for window in view.as_bytes().windows(PIECE) {
                if let Some(token) = self.pieces.get(window) {
                    found.insert(*token);
                }
            }
            found.extend(self.whole.iter().filter(|t| view.contains(**t)));
        }
        found.into_iter().collect()
    }
}

/// `text` as a reader could decode it: JSON string escapes (`\uXXXX`, `\/`, …) and
/// percent-encoding undone, terminal escape sequences, control characters (other than newline)
/// and invisible format characters removed; three rounds, for escapes of escapes. Lossy: bytes
/// that do not form UTF-8 become U+FFFD and do not stop the rest from being decoded.
pub fn decoded(text: &str) -> String {
    let mut current = text.to_string();
    for _ in 0..3 {
        let next = visible(&percent_decoded(&json_unescaped(&current)));
        if next == current {
            break;
        }
        current = next;
    }
    current
}

fn json_unescaped(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.peek().copied() {
            Some('u') => {
                let hex: String = chars.clone().skip(1).take(4).collect();
                if hex.len() == 4 && hex.bytes().all(|b| b.is_ascii_hexdigit()) {
                    let code = u32::from_str_radix(&hex, 16).unwrap();
                    out.push(char::from_u32(code).unwrap_or('\u{fffd}'));
                    for _ in 0..5 {
                        chars.next();
                    }
                } else {
                    out.push(c);
                }
            }
            Some(e @ ('/' | '\\' | '"')) => {
                out.push(e);
                chars.next();
            }
            Some(e @ ('n' | 't' | 'r' | 'b' | 'f')) => {
                out.push(if e == 'n' { '\n' } else { ' ' });
                chars.next();
            }
            _ => out.push(c),
        }
    }
    out
}

fn percent_decoded(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .filter(|h| bytes[i] == b'%' && h.iter().all(u8::is_ascii_hexdigit));
        match hex {
            Some(h) => {
                out.push(u8::from_str_radix(std::str::from_utf8(h).unwrap(), 16).unwrap());
                i += 3;
            }
            None => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// `text` without terminal escape sequences, controls (but newline) and invisible format
/// characters (zero-width, bidi, tags).
fn visible(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\u{1b}' => match chars.next() {
                Some('[') => {
                    for c in chars.by_ref() {
                        if ('\u{40}'..='\u{7e}').contains(&c) {
                            break;
                        }
                    }
                }
                Some(']' | 'P' | '_' | '^' | 'X') => {
                    while let Some(c) = chars.next() {
                        if c == '\u{7}' || (c == '\u{1b}' && chars.next_if_eq(&'\\').is_some()) {
                            break;
                        }
                    }
                }
                _ => {}
            },
            '\n' => out.push(c),
            c if c.is_control() => {}
            '\u{ad}'
            | '\u{34f}'
            | '\u{61c}'
            | '\u{180e}'
            | '\u{200b}'..='\u{200f}'
            | '\u{202a}'..='\u{202e}'
            | '\u{2060}'..='\u{206f}'
            | '\u{feff}'
            | '\u{e0000}'..='\u{e007f}' => {}
            c => out.push(c),
        }
    }
    out
}

/// Everything in `text` shaped like an email address: `local@domain.tld`, the domain dotted
/// and its last part two letters or more.
pub fn addresses(text: &str) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    let local = |c: char| c.is_alphanumeric() || "._%+-'".contains(c);
    let domain = |c: char| c.is_alphanumeric() || c == '.' || c == '-';
    let mut found = Vec::new();
    for (at, c) in chars.iter().enumerate() {
        if *c != '@' {
            continue;
        }
        let mut start = at;
        while start > 0 && local(chars[start - 1]) {
            start -= 1;
        }
        let mut end = at + 1;
        while end < chars.len() && domain(chars[end]) {
            end += 1;
        }
        while end > at + 1 && chars[end - 1] == '.' {
            end -= 1;
        }
        let host: String = chars[at + 1..end].iter().collect();
        let dotted = host.rsplit_once('.').is_some_and(|(name, tld)| {
            !name.is_empty() && tld.chars().count() >= 2 && tld.chars().all(char::is_alphabetic)
        });
        if start < at && dotted {
            found.push(chars[start..end].iter().collect());
        }
    }
    found
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
    let access = codex_entry(&env.auth_json(), 1)["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    // What must pass: labels in human output, harmless text in events, redacted echoes, `@`
    // that is not an address, and 15 characters of a token.
    let clean = Run {
        code: 0,
        stdout: "#1 pro@example.com ok\n".into(),
        stderr: format!(
            "{{\"event\":\"attempt_failed\",\"message\":\"bad key [redacted] for [redacted]; a 5% fee @ noon, user@localhost, 1e30 is 1000000000000000000000000000000, {}\"}}\n",
            &access[100..100 + PIECE - 1]
        ),
    };
    assert_eq!(secrets.violations(&clean, None), Vec::<String>::new());
    assert_eq!(secrets.violations(&clean, Some(&env)), Vec::<String>::new());
    let percent: String = "rt_fake_refresh_2"
        .bytes()
        .map(|b| format!("%{b:02X}"))
        .collect();
    let unicode: String = access[..40]
        .chars()
        .map(|c| format!("\\\\u{:04x}", c as u32))
        .collect();
    let zero_width: String = access[..60].chars().flat_map(|c| [c, '\u{200b}']).collect();
    let escaped = format!("{}\x1b[0m{}", &access[50..60], &access[60..70]);
    let event = |text: &str| format!("{{\"event\":\"attempt_failed\",\"message\":\"{text}\"}}\n");
    for (stdout, stderr) in [
        ("refresh rt_fake_refresh_2\n".to_string(), String::new()),
        // Any 16 consecutive characters, wherever they start in the token.
        (format!("x{}y\n", &access[101..101 + PIECE]), String::new()),
        (String::new(), format!("key {percent}\n")),
        (String::new(), event(&unicode)),
        (String::new(), format!("{zero_width}\n")),
        (String::new(), format!("{escaped}\n")),
        (String::new(), event("label team-a@example.com")),
        (String::new(), event("label TEAM-A@Example.COM")),
        (String::new(), event("write to someone.else@elsewhere.org")),
        (String::new(), event("write to user%40corp.example")),
        (String::new(), "rotor: cannot use pro@example.com\n".into()),
        (
            String::new(),
            "thread 'main' panicked at src/x.rs:1:1\n".into(),
        ),
    ] {
        let leaky = Run {
            code: 0,
            stdout: stdout.clone(),
            stderr: stderr.clone(),
        };
        assert!(
            !secrets.violations(&leaky, None).is_empty(),
            "missed: {stdout}{stderr}"
        );
    }
    // What auth.json keeps of server messages is scanned too.
    let fixture = env.read_auth();
    for (field, text) in [
        (
            "last_error_message",
            format!("bad token {}", &access[20..60]),
        ),
        ("last_error_message", "ask Pro@Example.com".to_string()),
        ("last_error_reason", "mail ops@corp.example".to_string()),
        ("last_error_message", format!("refresh {percent}")),
    ] {
        let mut doc = env.auth_json();
        doc["credential_pool"]["openai-codex"][2][field] = json!(text);
        std::fs::write(env.auth(), serde_json::to_vec_pretty(&doc).unwrap()).unwrap();
        assert!(
            !secrets.violations(&clean, Some(&env)).is_empty(),
            "missed {field}: {text}"
        );
        std::fs::write(env.auth(), &fixture).unwrap();
    }
    assert_eq!(secrets.violations(&clean, Some(&env)), Vec::<String>::new());
    std::fs::write(
        env.dir.path().join("trace.jsonl"),
        "{\"x\":\"pro@example.com\"}\n",
    )
    .unwrap();
    assert!(!secrets.violations(&clean, Some(&env)).is_empty());
    std::fs::write(
        env.dir.path().join("trace.jsonl"),
        "{\"event\":\"x\",\"message\":\"from bob@other.org\"}\n",
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
