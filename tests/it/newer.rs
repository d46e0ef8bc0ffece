//! Newer Hermes (its main branch, after 0.19): per-model cooldowns, `status_cleared_at`, the
//! newer TTLs, env-sourced keys, twins and the deletion of manual dead entries, read and
//! written through the CLI on tests/fixtures/hermes-main (see its README), beside the same
//! commands on 0.19 files.

use crate::common::*;
use crate::fake::{FakeServer, Reply};
use serde_json::{Value, json};
use std::path::Path;

/// T of the fixtures' README: 2026-11-28T04:26:40Z.
const T: f64 = 1795840000.0;

fn newer(name: &str) -> Vec<u8> {
    std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/hermes-main")
            .join(name),
    )
    .unwrap()
}

fn at(offset: f64) -> String {
    format!("@{}", T + offset)
}

fn rows<'a>(report: &'a Value, provider: &str) -> &'a Vec<Value> {
    report["providers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["provider"] == provider)
        .unwrap()["profiles"]
        .as_array()
        .unwrap()
}

fn list(env: &Env, extra: &[&str]) -> Value {
    let mut args = vec!["profiles", "list", "--format", "json"];
    args.extend_from_slice(extra);
    let run = env.run(&args);
    run.expect_code(0);
    run.json()
}

/// The wall clock, for commands that run on it (`call`, `serve`).
fn wall_clock() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
}

/// `pool.json` with claude-opus-4-5 cooling for an hour from now on the fixture key (anthropic
/// #1 and its twin #3): the fixture's own model cooldowns are long over by the wall clock.
fn opus_cooling_on_the_fixture_key() -> (Env, f64) {
    let mut doc: Value = serde_json::from_slice(&newer("pool.json")).unwrap();
    let now = wall_clock();
    for i in [0, 2] {
        doc["credential_pool"]["anthropic"][i]["model_cooldowns"] =
            json!({"claude-opus-4-5": now + 3600.0});
    }
    (
        Env::with_auth_bytes(&serde_json::to_vec_pretty(&doc).unwrap()),
        now,
    )
}

fn entry<'a>(doc: &'a Value, provider: &str, id: &str) -> &'a Value {
    doc["credential_pool"][provider]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["id"] == id)
        .unwrap()
}

#[test]
fn a_newer_file_is_read_under_newer_rules_and_a_019_one_under_019s() {
    let env = Env::with_auth_bytes(&newer("pool.json"));
    let report = list(&env, &["--at", &at(30.0)]);
    assert_eq!(report["hermes"], "main");
    let codex = rows(&report, "openai-codex");
    let states: Vec<&str> = codex.iter().map(|r| r["state"].as_str().unwrap()).collect();
    // #1 cools 60 s (unverified billing); #2 is its twin; #3's cooldown was cleared after it
    // was written; #4 is dead.
    assert_eq!(states, ["cooling", "cooling", "ok", "dead"]);
    assert_eq!(codex[0]["cooldown_until"], "2026-11-28T04:27:40Z");
    assert_eq!(
        codex[1]["cooldown_until"], "2026-11-28T04:27:40Z",
        "the twin's cooldown"
    );
    assert_eq!(codex[0]["twins"], json!([2]));
    assert_eq!(codex[1]["twins"], json!([1]));
    assert_eq!(
        codex[2]["twins"],
        json!([]),
        "same workspace, another subject"
    );
    assert_eq!(codex[3]["hermes_deletes_at"], "2026-11-29T04:26:40Z");
    // A minute later the short cooldown is over, for both twins.
    let later = list(&env, &["--at", &at(61.0)]);
    let states: Vec<&str> = rows(&later, "openai-codex")
        .iter()
        .map(|r| r["state"].as_str().unwrap())
        .collect();
    assert_eq!(states, ["ready", "ok", "ok", "dead"]);

    // Told it is a 0.19 file, the same bytes cool an hour (0.19 prunes manual dead entries too).
    let old = list(&env, &["--hermes", "0.19", "--at", &at(30.0)]);
    assert_eq!(old["hermes"], "0.19");
    let codex = rows(&old, "openai-codex");
    assert_eq!(codex[0]["cooldown_until"], "2026-11-28T05:26:40Z");
    assert_eq!(codex[3]["hermes_deletes_at"], "2026-11-29T04:26:40Z");

    // A real 0.19 file reads as one: no marker of newer Hermes in it.
    let env = Env::with_fixture("all-unavailable.json");
    assert_eq!(list(&env, &["--at", AT_0430])["hermes"], "0.19");
    // The environment says so too.
    let run = Run::from(
        env.command()
            .env("ROTOR_HERMES", "main")
            .args(["profiles", "list", "--format", "json"])
            .output()
            .unwrap(),
    );
    run.expect_code(0);
    assert_eq!(run.json()["hermes"], "main");
    env.run(&["--hermes", "0.20", "profiles", "list"])
        .expect_code(2);
}

#[test]
fn the_only_credential_cools_a_minute_under_newer_rules() {
    // No marker in the file: 0.19's hour unless told otherwise.
    let env = Env::with_auth_bytes(&newer("sole-env-key.json"));
    let row = |args: &[&str], key: Option<&str>| -> Value {
        let mut cmd = env.command();
        if let Some(key) = key {
            cmd.env("ROTOR_FIXTURE_OPENROUTER_KEY", key);
        }
        let run = Run::from(
            cmd.args(args)
                .args(["profiles", "list", "--format", "json", "--at", &at(30.0)])
                .output()
                .unwrap(),
        );
        run.expect_code(0);
        assert!(!run.stdout.contains("from-the-environment"));
        rows(&run.json(), "openrouter")[0].clone()
    };
    const KEY: &str = "sk-or-v1-from-the-environment-0001";
    let unset = row(&["--hermes", "main"], None);
    assert_eq!(unset["state"], "no_key", "the variable is not set");
    assert_eq!(
        unset["env_key"],
        json!({"name": "ROTOR_FIXTURE_OPENROUTER_KEY", "set": false})
    );
    let old = row(&[], Some(KEY));
    assert_eq!(old["cooldown_until"], "2026-11-28T05:26:40Z");
    assert_eq!(old["env_key"]["set"], true);
    let new = row(&["--hermes", "main"], Some(KEY));
    assert_eq!(new["state"], "cooling");
    assert_eq!(new["cooldown_until"], "2026-11-28T04:27:40Z");
}

#[test]
fn newer_rules_stay_after_rotor_s_writes_remove_their_markers() {
    // Told once, a file rotor writes remembers it (a clear would drop the markers otherwise).
    let env = Env::with_auth_bytes(&newer("sole-env-key.json"));
    env.run(&["--hermes", "main", "cooldown", "clear", "openrouter#1"])
        .expect_code(0);
    assert_eq!(env.auth_json()["rotor_hermes"], "main");
    assert_eq!(list(&env, &[])["hermes"], "main");
    // A 0.19 file rotor writes under 0.19 rules gets no such key.
    let old = Env::with_fixture("one-exhausted-resets-at.json");
    old.run(&["cooldown", "clear", "openai-codex#1"])
        .expect_code(0);
    assert!(old.auth_json().get("rotor_hermes").is_none());
}

#[test]
fn model_cooldowns_decide_availability_per_model() {
    let env = Env::with_auth_bytes(&newer("pool.json"));
    let available = |extra: &[&str]| -> Vec<bool> {
        let mut args = vec!["--provider", "anthropic", "--at"];
        let when = at(60.0);
        args.push(&when);
        args.extend_from_slice(extra);
        rows(&list(&env, &args), "anthropic")
            .iter()
            .map(|r| r["available"].as_bool().unwrap())
            .collect()
    };
    // #2 has no key here (its variable is unset). Opus cools on #1, and so on #3, its twin
    // (one account); the haiku cooldown is over. Without --model the list judges accounts: a
    // model cooldown leaves the account serving the other models.
    assert_eq!(
        available(&["--model", "claude-opus-4-5"]),
        [false, false, false]
    );
    assert_eq!(
        available(&["--model", "claude-sonnet-4-5"]),
        [true, false, true]
    );
    assert_eq!(
        available(&["--model", "claude-haiku-4-5"]),
        [true, false, true]
    );
    assert_eq!(available(&[]), [true, false, true]);
    let report = list(&env, &["--provider", "anthropic", "--at", &at(60.0)]);
    let first = &rows(&report, "anthropic")[0];
    assert_eq!(
        first["state"], "ok",
        "a model cooldown leaves the account's state alone"
    );
    assert_eq!(
        first["model_cooldowns"],
        json!([{"model": "claude-opus-4-5", "until": "2026-11-28T05:26:40Z"}])
    );
    assert_eq!(first["twins"], json!([3]));
    // The table says the same in words.
    let table = env.run(&[
        "profiles",
        "list",
        "--provider",
        "anthropic",
        "--at",
        &at(60.0),
    ]);
    table.expect_code(0);
    for note in [
        "#1: model claude-opus-4-5 cooling until 2026-11-28T05:26:40Z",
        "#1: same account as #3",
        "#2: key from $ROTOR_FIXTURE_ANTHROPIC_KEY (not set: no key)",
    ] {
        assert!(table.stdout.contains(note), "{note}\n{}", table.stdout);
    }
    assert!(
        !table.stdout.contains("claude-haiku-4-5"),
        "an ended cooldown is not shown"
    );
    // `--check` judges the pool for the model asked about.
    let when = at(60.0);
    for (model, code) in [("claude-opus-4-5", 3), ("claude-sonnet-4-5", 0)] {
        let args = [
            "profiles",
            "list",
            "--provider",
            "anthropic",
            "--check",
            "-q",
            "--model",
            model,
            "--at",
            &when,
        ];
        env.run(&args).expect_code(code);
    }
    env.run(&["profiles", "list", "--model", "two words"])
        .expect_code(2);
}

#[test]
fn cooldown_set_and_clear_of_one_model_write_newer_hermess_shape() {
    let env = Env::with_auth_bytes(&newer("pool.json"));
    let before = env.auth_json();
    env.run(&[
        "cooldown",
        "set",
        "anthropic#3",
        "--model",
        "claude-opus-4-5",
        "--for",
        "2h",
    ])
    .expect_code(0);
    let after = env.auth_json();
    let third = entry(&after, "anthropic", "an7h03");
    let until = third["model_cooldowns"]["claude-opus-4-5"]
        .as_f64()
        .unwrap();
    let now = wall_clock();
    assert!((until - (now + 7200.0)).abs() < 60.0, "{until}");
    // The account's status fields are untouched, and so is every other entry and key.
    for key in [
        "last_status",
        "last_status_at",
        "last_error_reason",
        "request_count",
    ] {
        assert_eq!(
            third[key],
            entry(&before, "anthropic", "an7h03")[key],
            "{key}"
        );
    }
    for (provider, id) in [("anthropic", "an7h01"), ("openai-codex", "c0d3x2")] {
        assert_eq!(entry(&after, provider, id), entry(&before, provider, id));
    }
    assert_eq!(
        after["x_unknown_future_key"],
        before["x_unknown_future_key"]
    );

    // Merges keep the later end: a shorter cooldown of the same model changes nothing.
    env.run(&[
        "cooldown",
        "set",
        "anthropic#3",
        "--model",
        "claude-opus-4-5",
        "--for",
        "10m",
    ])
    .expect_code(0);
    assert_eq!(
        entry(&env.auth_json(), "anthropic", "an7h03")["model_cooldowns"]["claude-opus-4-5"]
            .as_f64(),
        Some(until)
    );

    // Clearing one model leaves the others; a clear without --model removes them all.
    let cleared = env.run(&[
        "cooldown",
        "clear",
        "anthropic#1",
        "--model",
        "claude-opus-4-5",
        "--format",
        "json",
    ]);
    cleared.expect_code(0);
    assert_eq!(cleared.json()["changed"][0]["model"], "claude-opus-4-5");
    let first = entry(&env.auth_json(), "anthropic", "an7h01").clone();
    assert_eq!(
        first["model_cooldowns"],
        json!({"claude-haiku-4-5": T - 60.0})
    );
    assert_eq!(
        first["status_cleared_at"],
        Value::Null,
        "the account was not cleared"
    );
    let skipped = env.run(&[
        "cooldown",
        "clear",
        "anthropic#2",
        "--model",
        "claude-opus-4-5",
        "--format",
        "json",
    ]);
    skipped.expect_code(0);
    assert_eq!(
        skipped.json()["skipped"][0]["why"],
        "that model is not cooling"
    );
    env.run(&["cooldown", "clear", "anthropic#1"])
        .expect_code(0);
    let first = entry(&env.auth_json(), "anthropic", "an7h01").clone();
    assert!(first.get("model_cooldowns").is_none(), "{first}");
    assert!(first["status_cleared_at"].as_f64().is_some());
}

#[test]
fn a_clear_removes_newer_hermess_verdict_and_a_019_file_refuses_model_flags() {
    let env = Env::with_auth_bytes(&newer("pool.json"));
    env.run(&["cooldown", "clear", "openai-codex#1"])
        .expect_code(0);
    let first = entry(&env.auth_json(), "openai-codex", "c0d3x1").clone();
    assert!(first.get("failure_reason").is_none(), "{first}");
    assert_eq!(first["last_status"], "ok");
    // A dead entry stays dead, and a cooldown cannot be put on it either.
    env.run(&["cooldown", "set", "openai-codex#4", "--for", "1h"])
        .expect_code(2);

    let old = Env::with_fixture("fresh.json");
    let before = old.read_auth();
    let refused = old.run(&[
        "cooldown",
        "set",
        "openai-codex#1",
        "--model",
        "gpt-5.5",
        "--for",
        "1h",
    ]);
    refused.expect_code(2);
    assert!(
        refused.stderr.contains("--hermes main"),
        "{}",
        refused.stderr
    );
    old.run(&["cooldown", "clear", "openai-codex#1", "--model", "gpt-5.5"])
        .expect_code(2);
    assert_eq!(old.read_auth(), before, "nothing written");
    // Told the gateway runs newer Hermes, the same command writes the model's cooldown.
    old.run(&[
        "--hermes",
        "main",
        "cooldown",
        "set",
        "openai-codex#1",
        "--model",
        "gpt-5.5",
        "--for",
        "1h",
    ])
    .expect_code(0);
    let doc = old.auth_json();
    let first = entry(&doc, "openai-codex", "a1b2c3");
    assert!(first["model_cooldowns"]["gpt-5.5"].as_f64().is_some());
    assert_eq!(first["last_status"], Value::Null);
    // A bad model cooldown in the file is an error that names its place; nothing is written.
    let mut bad = serde_json::from_slice::<Value>(&newer("pool.json")).unwrap();
    bad["credential_pool"]["anthropic"][0]["model_cooldowns"] = json!({"claude-opus-4-5": [1]});
    let env = Env::with_auth_bytes(&serde_json::to_vec(&bad).unwrap());
    let run = env.run(&["cooldown", "set", "anthropic#1", "--for", "1h"]);
    run.expect_code(7);
    assert!(
        run.stderr
            .contains("credential_pool.anthropic[0].model_cooldowns.claude-opus-4-5"),
        "{}",
        run.stderr
    );
}

#[test]
fn an_env_sourced_key_is_used_and_never_written_or_printed() {
    const KEY: &str = "sk-ant-api03-from-the-environment-0002";
    let (env, _) = opus_cooling_on_the_fixture_key();
    let server = FakeServer::start();
    server.on("/v1/messages", vec![Reply::anthropic_text("from claude")]);
    // #1 and #3 (one key) are kept off by the model cooldown; #2 takes its key from the
    // variable, and from the `.env` beside auth.json when the variable is not set.
    for from_dotenv in [false, true] {
        let mut cmd = env.command();
        if from_dotenv {
            std::fs::write(
                env.dir.path().join(".env"),
                format!("# Hermes's .env\nexport ROTOR_FIXTURE_ANTHROPIC_KEY=\"{KEY}\"\n"),
            )
            .unwrap();
        } else {
            cmd.env("ROTOR_FIXTURE_ANTHROPIC_KEY", KEY);
        }
        let before = env.read_auth();
        let run = Run::from(
            cmd.args([
                "--hermes",
                "main",
                "call",
                "--provider",
                "anthropic",
                "--model",
                "claude-opus-4-5",
                "--base-url",
                &server.url,
                "--trace",
                "json",
                "hi",
            ])
            .output()
            .unwrap(),
        );
        run.expect_code(0);
        assert_eq!(run.stdout, "from claude\n");
        assert!(!run.stderr.contains(KEY) && !run.stdout.contains(KEY));
        let seen = server.seen_at("/v1/messages");
        assert_eq!(seen.last().unwrap().header("x-api-key"), Some(KEY));
        let after = env.auth_json();
        assert_eq!(entry(&after, "anthropic", "an7h02")["access_token"], "");
        assert!(!String::from_utf8_lossy(&env.read_auth()).contains(KEY));
        assert_ne!(before, env.read_auth(), "the success was recorded");
    }
}

#[test]
fn a_twins_cooldown_keeps_a_call_off_it() {
    let env = Env::with_auth_bytes(&newer("pool.json"));
    // #1 of openai-codex is cooling for a minute (at T); at a later clock both twins are free,
    // so cool #2 by hand and see a call skip #1 as well.
    env.run(&["cooldown", "set", "openai-codex#2", "--for", "1h"])
        .expect_code(0);
    let server = FakeServer::start();
    server.on("/codex/responses", vec![Reply::codex_text("from team-b")]);
    let run = env.run(&[
        "call",
        "--provider",
        "openai-codex",
        "--base-url",
        &format!("{}/codex", server.url),
        "--trace",
        "json",
        "hi",
    ]);
    run.expect_code(0);
    assert_eq!(run.stdout, "from team-b\n");
    let seen = server.seen_at("/codex/responses");
    assert_eq!(
        seen.len(),
        1,
        "no request went to a twin of the cooling profile"
    );
    let starts: Vec<Value> = run
        .stderr
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|e| e["event"] == "request_start")
        .collect();
    assert_eq!(starts[0]["eligible_profiles"], 1, "{}", run.stderr);
}

#[test]
fn serve_evaluates_availability_for_each_request_s_model() {
    use crate::gateway::Gateway;
    const ENV_KEY: &str = "sk-ant-api03-from-the-environment-0003";
    const FIXTURE_KEY: &str = "sk-ant-api03-fake-key-one-000000000000";
    let (env, now) = opus_cooling_on_the_fixture_key();
    let server = FakeServer::start();
    let limited = r#"{"type":"error","error":{"type":"rate_limit_error","message":"Number of request tokens has exceeded your per-minute rate limit"}}"#;
    server.on_header(
        "/v1/messages",
        "x-api-key",
        FIXTURE_KEY,
        vec![Reply::json(429, limited)],
    );
    server.on("/v1/messages", vec![Reply::anthropic_text("from claude")]);
    let base = format!("{}/v1", server.url);
    let gateway = Gateway::start_with_env(
        &env,
        &["--base-url", &base, "--max-wait", "0.05s"],
        &[("ROTOR_FIXTURE_ANTHROPIC_KEY", ENV_KEY)],
    );
    let ask = |model: &str| {
        gateway.request(
            "POST",
            "/v1/messages",
            &[("x-api-key", &gateway.key), ("anthropic-version", "2023-06-01")],
            &format!(r#"{{"model":"{model}","max_tokens":10,"stream":true,"messages":[{{"role":"user","content":"hi"}}]}}"#),
        )
    };
    // Opus cools on the fixture key (#1 and its twin #3): the env-sourced #2 serves it.
    let opus = ask("claude-opus-4-5");
    assert_eq!(opus.status, 200, "{}", opus.body);
    assert_eq!(server.seen_at("/v1/messages").len(), 1);
    assert_eq!(
        server.seen_at("/v1/messages")[0].header("x-api-key"),
        Some(ENV_KEY)
    );
    // Sonnet goes to #1, whose per-minute limit is hit: that model cools on #1 and its twin,
    // and #2 answers within the same request.
    let sonnet = ask("claude-sonnet-4-5");
    assert_eq!(sonnet.status, 200, "{}", sonnet.body);
    let keys: Vec<String> = server.seen_at("/v1/messages")[1..]
        .iter()
        .map(|s| s.header("x-api-key").unwrap_or("-").to_string())
        .collect();
    assert_eq!(keys, [FIXTURE_KEY, FIXTURE_KEY, ENV_KEY]);
    // The trace is written by its own thread, a moment after the answer may be complete.
    let cooldowns = gateway.wait_for("profile_cooldown", 2, std::time::Duration::from_secs(5));
    assert_eq!(cooldowns.len(), 2, "{cooldowns:?}");
    assert!(cooldowns.iter().all(|e| e["model"] == "claude-sonnet-4-5"));
    gateway.stop().expect_code(0);
    let after = env.auth_json();
    for id in ["an7h01", "an7h03"] {
        let e = entry(&after, "anthropic", id);
        assert!(
            e["model_cooldowns"]["claude-sonnet-4-5"].as_f64().unwrap() > now,
            "{e}"
        );
        assert_eq!(
            e["last_status"],
            Value::Null,
            "the account keeps its standing"
        );
    }
    assert_eq!(entry(&after, "anthropic", "an7h02")["access_token"], "");
}

#[test]
fn a_profile_home_borrows_the_root_s_rows_and_writes_them_back_there() {
    // <root>/auth.json holds the Codex accounts; the profile `work` has its own OpenRouter key
    // and no Codex rows (an empty list), so it borrows the root's.
    let env = Env::with_fixture("fresh.json");
    let home = env.dir.path().join("profiles/work");
    std::fs::create_dir_all(&home).unwrap();
    let own = json!({"version": 1, "credential_pool": {
        "openai-codex": [],
        "openrouter": [{"id": "w0rk01", "label": "work key", "auth_type": "api_key", "priority": 0,
            "source": "manual", "access_token": "sk-or-v1-work-key-0000000000000", "last_status": null,
            "last_status_at": null, "last_error_code": null, "last_error_reason": null,
            "last_error_message": null, "last_error_reset_at": null, "request_count": 0}]}});
    let own_path = home.join("auth.json");
    std::fs::write(&own_path, serde_json::to_vec_pretty(&own).unwrap()).unwrap();
    let own_bytes = std::fs::read(&own_path).unwrap();
    let in_home = |args: &[&str]| {
        let run = Run::from(
            env.command()
                .env("HERMES_HOME", &home)
                .args(args)
                .output()
                .unwrap(),
        );
        for secret in ["rt_fake_refresh_1", "sk-or-v1-work-key", "sk-or-v1-fake"] {
            assert!(!run.stdout.contains(secret) && !run.stderr.contains(secret));
        }
        run
    };

    let listed = in_home(&["profiles", "list", "--format", "json", "--at", AT_0430]);
    listed.expect_code(0);
    let report = listed.json();
    let codex = report["providers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["provider"] == "openai-codex")
        .unwrap();
    assert_eq!(codex["total"], 3);
    assert_eq!(codex["rows_from"], env.auth().display().to_string());
    let router = rows(&report, "openrouter");
    assert_eq!(router.len(), 1, "the profile's own rows, not the root's");
    assert_eq!(router[0]["label"], "work key");

    // A cooldown of a borrowed row is written into the root's file; the profile's is untouched.
    in_home(&["cooldown", "set", "openai-codex#2", "--for", "1h"]).expect_code(0);
    let root = env.auth_json();
    assert_eq!(
        entry(&root, "openai-codex", "d4e5f6")["last_status"],
        "exhausted"
    );
    assert_eq!(std::fs::read(&own_path).unwrap(), own_bytes);

    // So is what a call learns: #1 hits its usage limit, #3 serves (#2 is cooling).
    let server = FakeServer::start();
    let limit = json!({"error": {"type": "usage_limit_reached", "message": "The usage limit has been reached", "resets_in_seconds": 3600}});
    server.on_header(
        "/codex/responses",
        "chatgpt-account-id",
        "acct-0001",
        vec![Reply::json(429, &limit.to_string())],
    );
    server.on("/codex/responses", vec![Reply::codex_text("from team-b")]);
    let base = format!("{}/codex", server.url);
    let call = in_home(&[
        "call",
        "--provider",
        "openai-codex",
        "--base-url",
        &base,
        "--trace",
        "off",
        "hi",
    ]);
    call.expect_code(0);
    assert_eq!(call.stdout, "from team-b\n");
    let root = env.auth_json();
    assert_eq!(
        entry(&root, "openai-codex", "a1b2c3")["last_status"],
        "exhausted"
    );
    assert_eq!(entry(&root, "openai-codex", "0789ab")["request_count"], 1);
    assert_eq!(std::fs::read(&own_path).unwrap(), own_bytes);
    // The profile's own provider is written into its own file.
    in_home(&["cooldown", "set", "openrouter#1", "--for", "1h"]).expect_code(0);
    let own_after: Value = serde_json::from_slice(&std::fs::read(&own_path).unwrap()).unwrap();
    assert_eq!(
        own_after["credential_pool"]["openrouter"][0]["last_status"],
        "exhausted"
    );
    assert_eq!(
        entry(&env.auth_json(), "openrouter", "k1x2y3")["last_status"],
        Value::Null
    );
}

#[test]
fn twins_in_a_019_file_share_their_cooldown_too() {
    // The same OpenRouter key added twice to a 0.19 file.
    let mut doc: Value = serde_json::from_slice(&fixture_bytes("fresh.json")).unwrap();
    let mut twin = doc["credential_pool"]["openrouter"][0].clone();
    twin["id"] = json!("k9twin");
    twin["label"] = json!("the same key again");
    twin["priority"] = json!(1);
    doc["credential_pool"]["openrouter"]
        .as_array_mut()
        .unwrap()
        .push(twin);
    let env = Env::with_auth_bytes(&serde_json::to_vec_pretty(&doc).unwrap());
    env.run(&["cooldown", "set", "openrouter#1", "--for", "1h"])
        .expect_code(0);
    let report = list(&env, &["--provider", "openrouter"]);
    assert_eq!(report["hermes"], "0.19");
    let router = rows(&report, "openrouter");
    assert_eq!(router[1]["state"], "cooling", "{router:?}");
    assert_eq!(router[1]["twins"], json!([1]));
    assert_eq!(router[1]["cooldown_until"], router[0]["cooldown_until"]);
    env.run(&["profiles", "list", "--provider", "openrouter", "--check"])
        .expect_code(3);
    // Its own row is left as it was: removing the duplicate later loses nothing.
    assert_eq!(
        entry(&env.auth_json(), "openrouter", "k9twin")["last_status"],
        Value::Null
    );
}

#[test]
fn every_key_of_both_shapes_survives_a_write() {
    /// Every (provider, id, key) of a document.
    fn keys(doc: &Value) -> Vec<(String, String, String)> {
        let mut out = Vec::new();
        for (provider, entries) in doc["credential_pool"].as_object().unwrap() {
            for e in entries.as_array().unwrap() {
                for key in e.as_object().unwrap().keys() {
                    out.push((
                        provider.clone(),
                        e["id"].as_str().unwrap().into(),
                        key.clone(),
                    ));
                }
            }
        }
        out
    }
    for (bytes, set, clear, cleared_id) in [
        (
            fixture_bytes("all-unavailable.json"),
            "openai-codex#3",
            "openai-codex#1",
            "a1b2c3",
        ),
        (
            newer("pool.json"),
            "anthropic#2",
            "openai-codex#3",
            "c0d3x3",
        ),
    ] {
        let env = Env::with_auth_bytes(&bytes);
        let before: Value = serde_json::from_slice(&bytes).unwrap();
        env.run(&["cooldown", "set", set, "--for", "1h"])
            .expect_code(0);
        env.run(&["cooldown", "clear", clear]).expect_code(0);
        let after = env.auth_json();
        let (old, new) = (keys(&before), keys(&after));
        // Only what a clear removes (newer Hermes's verdict and model cooldowns) may go, and
        // only from the entry cleared.
        let lost: Vec<_> = old
            .iter()
            .filter(|k| {
                let excused = k.1 == cleared_id
                    && ["failure_reason", "model_cooldowns"].contains(&k.2.as_str());
                !new.contains(k) && !excused
            })
            .collect();
        assert!(lost.is_empty(), "{lost:?}");
        for (key, value) in before.as_object().unwrap() {
            if !["credential_pool", "updated_at"].contains(&key.as_str()) {
                assert_eq!(&after[key], value, "{key}");
            }
        }
    }
}
