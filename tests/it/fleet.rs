//! Several hosts sharing status through a real `redis-server` (`--state`): each simulated host
//! is a HERMES_HOME of its own, with its own entry ids for the same upstream accounts, and
//! its own `--host` name. The server is started per test on a free loopback port.

use crate::common::*;
use crate::fake::{FakeServer, Reply};
use crate::gateway::{Gateway, metrics};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const RESPONSES: &str = "/codex/responses";
const TOKEN: &str = "/oauth/token";
const ACCOUNTS: [&str; 3] = ["acct-0001", "acct-0002", "acct-0003"];

/// A `redis-server` of the test's own, on a free loopback port, nothing saved to disk.
struct Redis {
    child: std::sync::Mutex<Option<Child>>,
    port: u16,
    dir: tempfile::TempDir,
}

impl Redis {
    fn start() -> Option<Redis> {
        if !prerequisite("redis-server (Debian's redis-server)", tool("redis-server")) {
            return None;
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let redis = Redis {
            child: std::sync::Mutex::new(None),
            port,
            dir: tempfile::tempdir().unwrap(),
        };
        redis.launch();
        Some(redis)
    }

    fn launch(&self) {
        let child = Command::new("redis-server")
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no", "--protected-mode", "no"])
            .arg("--dir")
            .arg(self.dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        *self.child.lock().unwrap() = Some(child);
        let start = Instant::now();
        while self.ask(&["PING"]).as_deref() != Some("+PONG") {
            assert!(
                start.elapsed() < Duration::from_secs(10),
                "redis-server did not start"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Kills the server (SIGKILL: nothing saved, nothing said to clients).
    fn kill(&self) {
        if let Some(mut child) = self.child.lock().unwrap().take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts it again on the same port, empty.
    fn restart_empty(&self) {
        self.kill();
        self.launch();
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/0", self.port)
    }

    /// One command in RESP; the first line of the answer (bulk strings: their value).
    fn ask(&self, args: &[&str]) -> Option<String> {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port)).ok()?;
        stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
        let mut out = format!("*{}\r\n", args.len());
        for a in args {
            out.push_str(&format!("${}\r\n{a}\r\n", a.len()));
        }
        stream.write_all(out.as_bytes()).ok()?;
        let mut reader = BufReader::new(stream);
        let mut line = String::new();
        reader.read_line(&mut line).ok()?;
        let line = line.trim_end().to_string();
        if let Some(len) = line.strip_prefix('$') {
            if len == "-1" {
                return Some(String::new());
            }
            let mut value = String::new();
            reader.read_line(&mut value).ok()?;
            return Some(value.trim_end().to_string());
        }
        Some(line)
    }

    /// The records of every account in Redis.
    fn records(&self) -> Vec<Value> {
        self.keys("rotor:v1:account:*")
            .iter()
            .map(|k| serde_json::from_str(&self.ask(&["GET", k]).unwrap()).unwrap())
            .collect()
    }

    /// The keys matching `pattern` (`KEYS`: a test's server holds a handful).
    fn keys(&self, pattern: &str) -> Vec<String> {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port)).unwrap();
        let command = format!("*2\r\n$4\r\nKEYS\r\n${}\r\n{pattern}\r\n", pattern.len());
        stream.write_all(command.as_bytes()).unwrap();
        let mut reader = BufReader::new(stream);
        let mut line = String::new();
        reader.read_line(&mut line).unwrap();
        let n: usize = line.trim_end()[1..].parse().unwrap();
        (0..n)
            .map(|_| {
                let (mut len, mut key) = (String::new(), String::new());
                reader.read_line(&mut len).unwrap();
                reader.read_line(&mut key).unwrap();
                key.trim_end().to_string()
            })
            .collect()
    }
}

impl Redis {
    /// Every key and value in the server, as text (to look for what must not be there).
    fn dump(&self) -> String {
        self.keys("*")
            .iter()
            .map(|key| format!("{key} = {}\n", self.ask(&["GET", key]).unwrap_or_default()))
            .collect()
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        self.kill();
    }
}

fn now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
}

/// A Codex access token of `account` (ChatGPT account id and subject), expiring at `exp`.
fn jwt(exp: f64, account: &str) -> String {
    let header = URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#);
    let claims = json!({"exp": exp, "sub": format!("user-{account}"),
        "https://api.openai.com/auth": {"chatgpt_plan_type": "team", "chatgpt_account_id": account}});
    format!(
        "{header}.{}.sig",
        URL_SAFE_NO_PAD.encode(claims.to_string())
    )
}

fn entry(id: &str, priority: usize, fields: Value) -> Value {
    let mut e = json!({"id": id, "label": id, "priority": priority, "request_count": 0,
        "last_status": null, "last_status_at": null, "last_error_code": null,
        "last_error_reason": null, "last_error_message": null, "last_error_reset_at": null});
    for (k, v) in fields.as_object().unwrap() {
        e[k] = v.clone();
    }
    e
}

/// One host: three Codex accounts and two OpenRouter keys, the same upstream accounts as
/// every other host's, under entry ids of this host's own.
fn host(name: &str, codex_exp: f64) -> Env {
    let codex: Vec<Value> = ACCOUNTS
        .iter()
        .enumerate()
        .map(|(i, account)| {
            entry(
                &format!("{name}-codex-{i}"),
                i,
                json!({"auth_type": "oauth", "source": "device_code",
                    "access_token": jwt(codex_exp, account),
                    "refresh_token": format!("rt-{account}"), "base_url": "https://chatgpt.com/backend-api/codex"}),
            )
        })
        .collect();
    let keys: Vec<Value> = (0..2)
        .map(|i| {
            entry(
                &format!("{name}-key-{i}"),
                i,
                json!({"auth_type": "api_key", "source": "manual",
                    "access_token": format!("sk-or-v1-fleet-test-key-{i}")}),
            )
        })
        .collect();
    let doc = json!({"version": 1, "providers": {},
        "credential_pool": {"openai-codex": codex, "openrouter": keys}});
    Env::with_auth_bytes(&serde_json::to_vec_pretty(&doc).unwrap())
}

/// One host of the fleet: its HERMES_HOME and its name, sharing state through `redis`.
struct Host<'r> {
    env: Env,
    name: String,
    redis: &'r Redis,
}

impl std::ops::Deref for Host<'_> {
    type Target = Env;
    fn deref(&self) -> &Env {
        &self.env
    }
}

impl<'r> Host<'r> {
    /// Host `host-NAME`, its Codex tokens expiring at `codex_exp`.
    fn new(name: &str, codex_exp: f64, redis: &'r Redis) -> Host<'r> {
        Host {
            env: host(name, codex_exp),
            name: format!("host-{name}"),
            redis,
        }
    }

    /// rotor as this host.
    fn command(&self) -> Command {
        let mut command = self.env.command();
        command
            .env("ROTOR_STATE", self.redis.url())
            .env("ROTOR_HOST", &self.name);
        command
    }

    fn run(&self, args: &[&str]) -> Run {
        let run = Run::from(self.command().args(args).output().unwrap());
        assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
        run
    }

    /// `profiles list --format json`: the rows of `provider`.
    fn rows(&self, provider: &str) -> Vec<Value> {
        let list = self.run(&[
            "profiles",
            "list",
            "--format",
            "json",
            "--provider",
            provider,
        ]);
        list.expect_code(0);
        list.json()["providers"][0]["profiles"]
            .as_array()
            .unwrap()
            .clone()
    }

    /// `cooldown set N --provider openrouter` until `when` (`@EPOCH`) or for it (`1h`).
    fn cool(&self, n: &str, when: &str) -> Run {
        let flag = if when.starts_with('@') {
            "--until"
        } else {
            "--for"
        };
        self.run(&["cooldown", "set", n, "--provider", "openrouter", flag, when])
    }

    fn key_entry(&self, n: usize) -> Value {
        self.env.auth_json()["credential_pool"]["openrouter"][n].clone()
    }

    fn call(&self, server: &FakeServer) -> Run {
        let base = format!("{}/codex", server.url);
        let token = format!("{}{TOKEN}", server.url);
        self.run(&[
            "call",
            "--provider",
            "openai-codex",
            "--trace",
            "json",
            "--max-wait",
            "0.1s",
            "--timeout",
            "5s",
            "--base-url",
            &base,
            "--token-url",
            &token,
            "say hello",
        ])
    }
}

fn usage_limit(resets_in: u64) -> Reply {
    let body = json!({"error": {"type": "usage_limit_reached", "message": "The usage limit has been reached",
        "resets_in_seconds": resets_in}});
    Reply::json(429, &body.to_string())
}

fn events(run: &Run, name: &str) -> Vec<Value> {
    run.stderr
        .lines()
        .filter(|l| l.starts_with('{'))
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|e| e["event"] == name)
        .collect()
}

fn accounts_seen(server: &FakeServer) -> Vec<String> {
    server
        .seen_at(RESPONSES)
        .iter()
        .map(|s| s.header("chatgpt-account-id").unwrap_or("-").to_string())
        .collect()
}

#[test]
fn a_usage_limit_found_on_host_a_benches_the_account_on_host_b() {
    let Some(redis) = Redis::start() else { return };
    let (a, b) = (
        Host::new("a", 4102444800.0, &redis),
        Host::new("b", 4102444800.0, &redis),
    );
    let server = FakeServer::start();
    server.on_header(
        RESPONSES,
        "chatgpt-account-id",
        ACCOUNTS[0],
        vec![usage_limit(3600)],
    );
    server.on(RESPONSES, vec![Reply::codex_text("hello")]);
    let started = now();
    a.call(&server).expect_code(0);
    assert_eq!(accounts_seen(&server), [ACCOUNTS[0], ACCOUNTS[1]]);

    // Host B's file knows nothing of it; its view of the pool does.
    assert_eq!(
        b.auth_json()["credential_pool"]["openai-codex"][0]["last_status"],
        Value::Null
    );
    let rows = b.rows("openai-codex");
    assert_eq!(rows[0]["state"], "cooling");
    assert_eq!(rows[0]["last_error_reason"], "usage_limit_reached");
    assert_eq!(
        rows[0]["state_from"],
        json!({"source": "redis", "host": "host-a", "this_host": false})
    );
    assert_eq!(rows[1]["state_from"]["source"], "local");
    let until = rows[0]["cooldown_seconds_left"].as_f64().unwrap();
    assert!((until - 3600.0).abs() < 60.0 + (now() - started), "{until}");

    // B's own request goes straight to the second account, and says why.
    let called = b.call(&server);
    called.expect_code(0);
    assert_eq!(
        accounts_seen(&server),
        [ACCOUNTS[0], ACCOUNTS[1], ACCOUNTS[1]]
    );
    let shared = events(&called, "shared_state");
    assert_eq!(shared.len(), 1, "{}", called.stderr);
    assert_eq!(
        shared[0]["profiles"],
        json!([rotor::pool::profile_hash("b-codex-0")])
    );
    assert_eq!(shared[0]["hosts"], json!(["host-a"]));
    // The table says it too.
    let table = b.run(&["profiles", "list"]);
    assert!(table.stdout.contains("redis: host-a"), "{}", table.stdout);
}

#[test]
fn without_state_nothing_is_shared_and_the_output_is_unchanged() {
    let Some(redis) = Redis::start() else { return };
    let (a, b) = (
        Host::new("a", 4102444800.0, &redis),
        Host::new("b", 4102444800.0, &redis),
    );
    a.cool("1", "1h").expect_code(0);
    let plain = b.env.run(&[
        "profiles",
        "list",
        "--format",
        "json",
        "--provider",
        "openrouter",
    ]);
    plain.expect_code(0);
    let profiles = &plain.json()["providers"][0]["profiles"];
    assert_eq!(profiles[0]["state"], "ok");
    assert!(profiles[0].get("state_from").is_none());
}

/// Real Hermes 0.19 (`agent.credential_pool` of hermes-agent from PyPI) on host B.
fn hermes_pool(env: &Env, args: &[&str]) -> Option<Value> {
    let python = PathBuf::from(
        std::env::var("ROTOR_TEST_HERMES_PYTHON")
            .unwrap_or_else(|_| "target/clients/hermes/bin/python".into()),
    );
    let python = if python.is_absolute() {
        python
    } else {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(python)
    };
    if !prerequisite(
        "hermes-agent 0.19.0 (scripts/test-clients.sh)",
        match python.exists() {
            true => Ok(()),
            false => Err(format!("{} is missing", python.display())),
        },
    ) {
        return None;
    }
    let helper = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/helpers/hermes_pool.py");
    let out = env
        .command_of(python)
        .arg(helper)
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(serde_json::from_slice(&out.stdout).unwrap())
}

#[test]
fn sync_makes_an_unmodified_hermes_skip_an_account_benched_on_another_host() {
    let Some(redis) = Redis::start() else { return };
    let (a, b) = (
        Host::new("a", 4102444800.0, &redis),
        Host::new("b", 4102444800.0, &redis),
    );
    let Some(picked) = hermes_pool(&b, &["select", "openrouter"]) else {
        return;
    };
    assert_eq!(picked["id"], "b-key-0", "Hermes picks the first key");
    a.cool("1", "2h").expect_code(0);
    let synced = b.run(&["sync", "--format", "json"]);
    synced.expect_code(0);
    let pulled = &synced.json()["pulled"];
    assert_eq!(pulled.as_array().unwrap().len(), 1, "{pulled}");
    assert_eq!(pulled[0]["change"], "cooling");
    assert_eq!(pulled[0]["from_host"], "host-a");
    // Status fields only: the key and everything else of the entry are as they were.
    let entry = b.key_entry(0);
    assert_eq!(entry["last_status"], "exhausted");
    assert_eq!(entry["access_token"], "sk-or-v1-fleet-test-key-0");
    assert_eq!(entry["id"], "b-key-0");
    let picked = hermes_pool(&b, &["select", "openrouter"]).unwrap();
    assert_eq!(picked["id"], "b-key-1", "Hermes skips the benched key");
    // A second sync has nothing to do.
    let again = b.run(&["sync", "--format", "json"]);
    assert_eq!(again.json(), json!({"pushed": 0, "pulled": []}));
}

#[test]
fn a_cooldown_hermes_wrote_on_host_b_reaches_host_a_through_sync() {
    let Some(redis) = Redis::start() else { return };
    let (a, b) = (
        Host::new("a", 4102444800.0, &redis),
        Host::new("b", 4102444800.0, &redis),
    );
    let reset = (now() + 5400.0).round();
    let Some(marked) = hermes_pool(&b, &["exhaust", "openrouter", "429", &reset.to_string()])
    else {
        return;
    };
    assert_eq!(marked["id"], "b-key-0");
    let synced = b.run(&["sync", "--format", "json"]);
    synced.expect_code(0);
    assert_eq!(synced.json()["pushed"], 1);
    let rows = a.rows("openrouter");
    assert_eq!(rows[0]["state"], "cooling");
    assert_eq!(rows[0]["state_from"]["host"], "host-b");
    assert_eq!(rows[0]["last_error_code"], 429);
    let left = rows[0]["cooldown_seconds_left"].as_f64().unwrap();
    assert!((left - (reset - now())).abs() < 5.0, "{left}");
}

#[test]
fn the_later_cooldown_wins_whichever_host_writes_last() {
    let Some(redis) = Redis::start() else { return };
    let (a, b) = (
        Host::new("a", 4102444800.0, &redis),
        Host::new("b", 4102444800.0, &redis),
    );
    let long = format!("@{}", (now() + 7200.0).round());
    let short = format!("@{}", (now() + 3600.0).round());
    a.cool("1", &long).expect_code(0);
    b.cool("1", &short).expect_code(0);
    // B's own file holds its shorter cooldown; the fleet's longer one shows through.
    for host in [&a, &b] {
        let rows = host.rows("openrouter");
        let until = rotor::time::parse_timestamp_text(rows[0]["cooldown_until"].as_str().unwrap());
        assert_eq!(until, Some(long[1..].parse().unwrap()), "{}", host.name);
    }
    assert_eq!(redis.records()[0]["exhausted"]["host"], "host-a");
}

#[test]
fn a_newer_clear_wins_over_an_older_mark_and_an_older_mark_stays_beaten() {
    let Some(redis) = Redis::start() else { return };
    let (a, b) = (
        Host::new("a", 4102444800.0, &redis),
        Host::new("b", 4102444800.0, &redis),
    );
    a.cool("1", "1h").expect_code(0);
    assert_eq!(b.rows("openrouter")[0]["state"], "cooling");
    b.run(&["cooldown", "clear", "1", "--provider", "openrouter"])
        .expect_code(0);
    // A's file still holds its mark, older than B's clear: the clear wins on A.
    assert_eq!(a.key_entry(0)["last_status"], "exhausted");
    let rows_a = a.rows("openrouter");
    assert_eq!(rows_a[0]["state"], "ok", "{}", rows_a[0]);
    // A's sync pushes its old mark (beaten in Redis) and pulls the clear into its file.
    let synced = a.run(&["sync", "--format", "json"]);
    synced.expect_code(0);
    assert_eq!(synced.json()["pulled"][0]["change"], "cleared");
    assert_ne!(a.key_entry(0)["last_status"], "exhausted");
    assert_eq!(b.rows("openrouter")[0]["state"], "ok");
    // A mark made after the clear counts again.
    a.cool("1", "1h").expect_code(0);
    assert_eq!(b.rows("openrouter")[0]["state"], "cooling");
}

#[test]
fn a_dead_key_is_dead_on_every_host_that_holds_it() {
    let Some(redis) = Redis::start() else { return };
    let (a, b) = (
        Host::new("a", 4102444800.0, &redis),
        Host::new("b", 4102444800.0, &redis),
    );
    // Host A finds the key dead (as a probe or a 401 would), here written by hand into its
    // file and pushed by sync, as Hermes's own finding would be.
    let mut doc = a.auth_json();
    let e = &mut doc["credential_pool"]["openrouter"][0];
    e["last_status"] = json!("dead");
    e["last_status_at"] = json!(now() - 30.0 * 3600.0);
    e["last_error_code"] = json!(401);
    e["last_error_reason"] = json!("invalid_api_key");
    std::fs::write(a.auth(), serde_json::to_vec_pretty(&doc).unwrap()).unwrap();
    a.run(&["sync"]).expect_code(0);
    assert_eq!(b.rows("openrouter")[0]["state"], "dead");
    // Pulled into B's file stamped with the time of the pull: B's Hermes would delete a
    // dead manual row 24 h after that, not at once from A's 30-hour-old finding.
    let before = now();
    b.run(&["sync"]).expect_code(0);
    let entry = b.key_entry(0);
    assert_eq!(entry["last_status"], "dead");
    assert!(entry["last_status_at"].as_f64().unwrap() >= before - 1.0);
    assert_eq!(entry["access_token"], "sk-or-v1-fleet-test-key-0");
}

#[test]
fn redis_killed_mid_run_and_restarted_empty_loses_nothing() {
    let Some(redis) = Redis::start() else {
        return;
    };
    let (a, b) = (
        Host::new("a", 4102444800.0, &redis),
        Host::new("b", 4102444800.0, &redis),
    );
    a.cool("1", "1h").expect_code(0);
    redis.kill();
    // Down: the command goes on with auth.json, says so once, keeps its exit code.
    let set = a.cool("2", "2h");
    set.expect_code(0);
    assert_eq!(
        set.stderr.matches("unreachable").count(),
        1,
        "{}",
        set.stderr
    );
    let list = a.run(&["profiles", "list", "--check", "--provider", "openrouter"]);
    list.expect_code(3);
    assert_eq!(
        list.stderr.matches("unreachable").count(),
        1,
        "{}",
        list.stderr
    );
    let sync = a.run(&["sync"]);
    sync.expect_code(4);
    // Back, and empty: A's next sync pushes both cooldowns from its file.
    redis.restart_empty();
    assert!(redis.records().is_empty());
    let synced = a.run(&["sync", "--format", "json"]);
    synced.expect_code(0);
    assert_eq!(synced.json()["pushed"], 2);
    let rows = b.rows("openrouter");
    assert_eq!(
        rows.iter()
            .map(|r| r["state"].as_str().unwrap())
            .collect::<Vec<_>>(),
        ["cooling", "cooling"]
    );
}

#[test]
fn serve_sees_another_host_s_change_at_once_and_reports_redis_down() {
    let Some(redis) = Redis::start() else {
        return;
    };
    let (a, b) = (
        Host::new("a", 4102444800.0, &redis),
        Host::new("b", 4102444800.0, &redis),
    );
    let url = redis.url();
    let gateway = Gateway::start_with_env(
        &b,
        &[
            "--route",
            "chat=openrouter",
            "--route",
            "responses=none",
            "--route",
            "messages=none",
        ],
        &[("ROTOR_STATE", url.as_str()), ("ROTOR_HOST", "host-b")],
    );
    let ready = |gateway: &Gateway| gateway.get("/readyz");
    let answer = ready(&gateway);
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.json()["shared_state"]["up"], true);
    // Host A benches both keys: B's gateway has no key left, without touching its file.
    let stamp = std::fs::metadata(b.auth()).unwrap().modified().unwrap();
    let started = Instant::now();
    for n in ["1", "2"] {
        a.cool(n, "1h").expect_code(0);
    }
    while ready(&gateway).status != 503 {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the gateway never saw host A's cooldowns:\n{}",
            gateway.stderr()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    eprintln!("serve saw host A's change after {:?}", started.elapsed());
    assert_eq!(
        std::fs::metadata(b.auth()).unwrap().modified().unwrap(),
        stamp
    );
    let m = metrics(&gateway.get("/metrics").body);
    assert_eq!(m.get("rotor_serve_shared_state_up"), Some(&1.0));
    assert!(
        m.get("rotor_serve_shared_state_merged_total")
            .is_some_and(|n| *n >= 2.0),
        "{m:?}"
    );
    // Redis goes away: the gateway says so and goes on.
    redis.kill();
    let started = Instant::now();
    while ready(&gateway).json()["shared_state"]["up"] != false {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "{}",
            gateway.stderr()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let m = metrics(&gateway.get("/metrics").body);
    assert_eq!(m.get("rotor_serve_shared_state_up"), Some(&0.0));
    // A cooldown B's operator sets meanwhile is pushed when Redis is back, empty.
    b.cool("1", "3h").expect_code(0);
    redis.restart_empty();
    let started = Instant::now();
    while redis.records().is_empty() {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "{}",
            gateway.stderr()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(redis.records()[0]["exhausted"]["host"], "host-b");
    gateway.stop().expect_code(0);
}

#[test]
fn eight_calls_on_two_hosts_with_one_expiring_account_make_one_token_request() {
    let Some(redis) = Redis::start() else { return };
    // Both hosts hold the same pair of the first account, about to expire.
    let (a, b) = (
        Host::new("a", now() + 60.0, &redis),
        Host::new("b", now() + 60.0, &redis),
    );
    let server = FakeServer::start();
    let fresh = jwt(4102444800.0, ACCOUNTS[0]);
    let reused = json!({"error": "invalid_grant", "error_description": "refresh_token_reused"});
    server.on(
        TOKEN,
        vec![
            Reply::json(
                200,
                &json!({"access_token": fresh, "refresh_token": "rt-rotated"}).to_string(),
            )
            .delayed(Duration::from_millis(300)),
            Reply::json(400, &reused.to_string()),
        ],
    );
    server.on(RESPONSES, vec![Reply::codex_text("shared")]);
    let base = format!("{}/codex", server.url);
    let token = format!("{}{TOKEN}", server.url);
    let args = [
        "--share-tokens",
        "call",
        "--provider",
        "openai-codex",
        "--max-profiles",
        "1",
        "--trace",
        "off",
        "--lock-timeout",
        "30",
        "--timeout",
        "5s",
        "--base-url",
        &base,
        "--token-url",
        &token,
        "go",
    ];
    let children: Vec<_> = (0..8)
        .map(|i| {
            let host = if i % 2 == 0 { &a } else { &b };
            host.command()
                .args(args)
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
        "one token request for the fleet"
    );
    for r in server.seen_at(RESPONSES) {
        assert_eq!(
            r.header("authorization"),
            Some(format!("Bearer {fresh}").as_str())
        );
    }
    for env in [&a, &b] {
        let entry = &env.auth_json()["credential_pool"]["openai-codex"][0];
        assert_eq!(entry["refresh_token"], "rt-rotated");
        assert_ne!(entry["last_status"], "dead");
    }
}

#[test]
fn share_tokens_is_refused_over_plain_redis_to_another_machine_before_connecting() {
    let env = host("a", 4102444800.0);
    for url in [
        "redis://10.9.8.7:6379/0",
        "redis://user:hunter2@redis.example:6379",
    ] {
        let run = Run::from(
            env.command()
                .env("ROTOR_STATE", url)
                .args(["--share-tokens", "profiles", "list"])
                .output()
                .unwrap(),
        );
        run.expect_code(2);
        assert!(run.stderr.contains("--share-tokens"), "{}", run.stderr);
        assert!(run.stderr.contains("rediss://"), "{}", run.stderr);
        assert!(
            !run.stderr.contains("hunter2"),
            "the password is never shown"
        );
        assert!(
            !run.stderr.contains("unreachable"),
            "refused before connecting"
        );
    }
    // Without --state it means nothing, and says so.
    env.run(&["--share-tokens", "profiles", "list"])
        .expect_code(2);
}

#[test]
fn a_bad_state_url_is_a_usage_error_naming_what_was_expected() {
    let env = host("a", 4102444800.0);
    for url in [
        "http://127.0.0.1:6379",
        "redis://",
        "redis://127.0.0.1:6379/x",
        "nonsense",
    ] {
        let run = Run::from(
            env.command()
                .env("ROTOR_STATE", url)
                .args(["profiles", "list"])
                .output()
                .unwrap(),
        );
        run.expect_code(2);
        assert!(run.stderr.contains("--state"), "{url}: {}", run.stderr);
    }
    let run = Run::from(
        env.command()
            .args([
                "--state",
                "redis://127.0.0.1:1/0",
                "--host",
                "bad host!",
                "profiles",
                "list",
            ])
            .output()
            .unwrap(),
    );
    run.expect_code(2);
    assert!(run.stderr.contains("--host"), "{}", run.stderr);
}

#[test]
fn many_concurrent_writers_on_several_hosts_lose_no_cooldown() {
    let Some(redis) = Redis::start() else { return };
    let hosts: Vec<Host> = (0..3)
        .map(|i| Host::new(&i.to_string(), 4102444800.0, &redis))
        .collect();
    let base = now().round() + 3600.0;
    // 24 writers, 8 per account spread over the 3 hosts: each sets its account's cooldown to
    // a time of its own; per account the latest must survive, whatever order the writers
    // reach Redis in.
    let mut expected = [0.0f64; 3];
    let mut children = Vec::new();
    for w in 0..24usize {
        let account = w % 3;
        // Earlier writers set later ends: a merge where the last writer won would shorten.
        let until = base + ((23 - w) as f64) * 7.0;
        expected[account] = expected[account].max(until);
        let child = hosts[(w / 3) % hosts.len()]
            .command()
            .args([
                "--lock-timeout",
                "60",
                "cooldown",
                "set",
                "--provider",
                "openai-codex",
            ])
            .arg((account + 1).to_string())
            .args(["--until", &format!("@{until}")])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        children.push(child);
    }
    for child in children {
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let rows = Host::new("fresh", 4102444800.0, &redis).rows("openai-codex");
    for (account, want) in expected.iter().enumerate() {
        let until =
            rotor::time::parse_timestamp_text(rows[account]["cooldown_until"].as_str().unwrap());
        assert_eq!(until, Some(*want), "account {account}");
    }
}

#[test]
fn serve_writes_what_its_requests_find_to_the_fleet() {
    let Some(redis) = Redis::start() else { return };
    let (a, b) = (
        Host::new("a", 4102444800.0, &redis),
        Host::new("b", 4102444800.0, &redis),
    );
    let server = FakeServer::start();
    let spent = json!({"error": {"type": "insufficient_quota", "code": "insufficient_quota",
        "message": "You exceeded your current quota"}});
    server.on_header(
        "/v1/chat/completions",
        "authorization",
        "Bearer sk-or-v1-fleet-test-key-0",
        vec![Reply::json(429, &spent.to_string())],
    );
    server.on("/v1/chat/completions", vec![Reply::chat_text("from key 1")]);
    let base = format!("{}/v1", server.url);
    let url = redis.url();
    let gateway = Gateway::start_with_env(
        &b,
        &[
            "--base-url",
            &base,
            "--max-wait",
            "0.05s",
            "--route",
            "chat=openrouter",
            "--route",
            "responses=none",
            "--route",
            "messages=none",
        ],
        &[("ROTOR_STATE", url.as_str()), ("ROTOR_HOST", "host-b")],
    );
    let chat = gateway.post(
        "/v1/chat/completions",
        r#"{"model":"m","stream":true,"messages":[{"role":"user","content":"hi"}]}"#,
    );
    assert_eq!(chat.status, 200, "{}", gateway.stderr());
    assert!(chat.body.contains("from key 1"));
    // The keeper writes auth.json (coalesced), then Redis: host A sees the spent key.
    let started = Instant::now();
    while a.rows("openrouter")[0]["state"] != "cooling" {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "{}",
            gateway.stderr()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(a.rows("openrouter")[0]["state_from"]["host"], "host-b");
    gateway.stop().expect_code(0);
}

#[test]
fn sync_watch_keeps_the_file_up_to_date_and_survives_redis_going_away() {
    let Some(redis) = Redis::start() else { return };
    let (a, b) = (
        Host::new("a", 4102444800.0, &redis),
        Host::new("b", 4102444800.0, &redis),
    );
    let mut watch = b
        .command()
        .args(["sync", "--watch", "200ms", "--format", "json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let wait_for = |what: &str, done: &dyn Fn() -> bool| {
        let started = Instant::now();
        while !done() {
            assert!(started.elapsed() < Duration::from_secs(10), "{what}");
            std::thread::sleep(Duration::from_millis(50));
        }
    };
    a.cool("1", "1h").expect_code(0);
    wait_for("the first cooldown reaches B's file", &|| {
        b.key_entry(0)["last_status"] == "exhausted"
    });
    // Redis goes away and comes back empty: the service keeps running and pushes B's file.
    redis.kill();
    std::thread::sleep(Duration::from_millis(600));
    redis.restart_empty();
    wait_for("B's sync pushes its file to the empty Redis", &|| {
        !redis.records().is_empty()
    });
    a.cool("2", "2h").expect_code(0);
    wait_for("a later cooldown reaches B's file", &|| {
        b.key_entry(1)["last_status"] == "exhausted"
    });
    assert!(
        watch.try_wait().unwrap().is_none(),
        "sync --watch is still running"
    );
    watch.kill().unwrap();
    let out = watch.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("unreachable"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    // One JSON object per round on stdout.
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let round: Value = serde_json::from_str(line).unwrap();
        assert!(round["pushed"].is_u64(), "{line}");
    }
}

#[test]
fn without_share_tokens_no_token_or_key_reaches_redis() {
    let Some(redis) = Redis::start() else { return };
    let a = Host::new("a", now() + 60.0, &redis);
    let server = FakeServer::start();
    let fresh = jwt(4102444800.0, ACCOUNTS[0]);
    server.on(
        TOKEN,
        vec![Reply::json(
            200,
            &json!({"access_token": fresh, "refresh_token": "rt-rotated"}).to_string(),
        )],
    );
    server.on(RESPONSES, vec![Reply::codex_text("hello")]);
    // A refresh, a cooldown set by hand, a sync: the finding goes to Redis,
    // tokens and keys stay home.
    a.call(&server).expect_code(0);
    assert_eq!(server.seen_at(TOKEN).len(), 1);
    a.cool("1", "1h").expect_code(0);
    a.run(&["sync"]).expect_code(0);
    let dump = redis.dump();
    assert!(dump.contains("rotor:v1:account:"), "{dump}");
    assert!(!dump.contains("rotor:v1:tokens:"), "{dump}");
    for secret in [
        "rt-rotated",
        "rt-acct",
        "eyJ",
        "sk-or-v1-fleet-test-key",
        "@example",
    ] {
        assert!(!dump.contains(secret), "{secret} reached Redis:\n{dump}");
    }
}

#[test]
fn a_clear_that_arrives_late_does_not_undo_a_finding_made_after_it() {
    let Some(redis) = Redis::start() else { return };
    let (a, b, c) = (
        Host::new("a", 4102444800.0, &redis),
        Host::new("b", 4102444800.0, &redis),
        Host::new("c", 4102444800.0, &redis),
    );
    // A finds the key spent for 2 h; B pulls it, then clears it while Redis is out of its
    // reach (its own auth.json only).
    a.cool("1", "2h").expect_code(0);
    b.run(&["sync"]).expect_code(0);
    let clear = Run::from(
        b.env
            .command()
            .env("ROTOR_STATE", "redis://127.0.0.1:1/0")
            .env("ROTOR_HOST", "host-b")
            .args(["cooldown", "clear", "1", "--provider", "openrouter"])
            .output()
            .unwrap(),
    );
    clear.expect_code(0);
    assert!(clear.stderr.contains("unreachable"), "{}", clear.stderr);
    std::thread::sleep(Duration::from_millis(20));
    // Then C finds it spent again, for a shorter time.
    c.cool("1", "1h").expect_code(0);
    // B's clear reaches Redis only now: it is older than C's finding, which stands.
    b.run(&["sync"]).expect_code(0);
    let fresh = Host::new("fresh", 4102444800.0, &redis);
    assert_eq!(fresh.rows("openrouter")[0]["state"], "cooling");
    // And on B itself, its own older clear gives way to C's newer finding.
    assert_eq!(b.rows("openrouter")[0]["state"], "cooling");
}
