//! Inputs an attacker (or a tired operator) can hand rotor, and what it does with each
//! (docs/locking-and-writes.md, docs/security.md, docs/exit-codes.md): a FIFO, directory or device where auth.json should be, a symlinked lock, a
//! symlink swapped while rotor writes, a trace file that is auth.json, absurd numbers in flags,
//! a closed or broken stderr, cooldowns that would read back as another time, a write that
//! would outgrow the read limit. Each is refused with a clear error and the right exit code,
//! and nothing is written; nothing hangs and nothing panics.

use crate::common::*;
use crate::fake::{FakeServer, Reply};
use serde_json::{Value, json};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Runs `cmd`, killing it after `limit`: `None` when it had to be killed (it hung).
fn run_within(mut cmd: Command, limit: Duration) -> Option<Run> {
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    loop {
        if child.try_wait().unwrap().is_some() {
            return Some(Run::from(child.wait_with_output().unwrap()));
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            return None;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn mkfifo(path: &Path) {
    let status = Command::new("mkfifo").arg(path).status().unwrap();
    assert!(status.success());
}

#[test]
fn a_fifo_a_directory_or_a_device_as_auth_json_is_refused_without_waiting() {
    type Make = fn(&Path);
    let kinds: [(&str, Make); 3] = [
        ("a FIFO", mkfifo),
        ("a directory", |p| std::fs::create_dir(p).unwrap()),
        ("a device", |p| {
            std::os::unix::fs::symlink("/dev/zero", p).unwrap()
        }),
    ];
    for (kind, make) in kinds {
        let env = Env::with_fixture("fresh.json");
        std::fs::remove_file(env.auth()).unwrap();
        make(&env.auth());
        for args in [
            &["profiles", "list"][..],
            &["cooldown", "set", "1", "--for", "1h"],
            &["cooldown", "clear", "--all"],
        ] {
            let mut cmd = env.command();
            cmd.args(args);
            let run = run_within(cmd, Duration::from_secs(10))
                .unwrap_or_else(|| panic!("{kind}: `rotor {}` hung", args.join(" ")));
            run.expect_code(7);
            assert!(
                run.stderr.contains(kind) && run.stderr.contains("not a regular file"),
                "{kind}: {}",
                run.stderr
            );
        }
    }
}

#[test]
fn a_symlinked_lock_is_refused_and_creates_nothing() {
    let env = Env::with_fixture("fresh.json");
    let elsewhere = env.dir.path().join("elsewhere.txt");
    std::os::unix::fs::symlink(&elsewhere, env.lock()).unwrap();
    let before = env.read_auth();
    let run = env.run(&["cooldown", "set", "1", "--for", "1h"]);
    run.expect_code(7);
    assert!(
        run.stderr.contains("auth.lock") && run.stderr.contains("symbolic link"),
        "{}",
        run.stderr
    );
    assert!(
        !elsewhere.exists(),
        "a dangling lock link made rotor create a file"
    );
    assert_eq!(env.read_auth(), before);

    // A link to an existing file: that file is neither locked through nor changed.
    std::fs::write(&elsewhere, "victim").unwrap();
    env.run(&["cooldown", "set", "1", "--for", "1h"])
        .expect_code(7);
    assert_eq!(std::fs::read_to_string(&elsewhere).unwrap(), "victim");
}

#[test]
fn a_link_swapped_during_writes_never_puts_one_file_into_another() {
    // auth.json is a symlink that a hostile process keeps pointing at one of two files while
    // rotor writes. Whatever the link says at any moment, each write must replace the very file
    // it read: a file's own marker never ends up in the other one.
    let env = Env::with_fixture("fresh.json");
    let mut doc: Value = env.auth_json();
    for marker in ["real", "decoy"] {
        doc["marker"] = json!(marker);
        std::fs::write(
            env.dir.path().join(format!("{marker}.json")),
            serde_json::to_vec_pretty(&doc).unwrap(),
        )
        .unwrap();
    }
    std::fs::remove_file(env.auth()).unwrap();
    std::os::unix::fs::symlink("real.json", env.auth()).unwrap();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let flipper = {
        let (dir, stop) = (env.dir.path().to_path_buf(), stop.clone());
        std::thread::spawn(move || {
            let mut flips = 0u64;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let target = if flips.is_multiple_of(2) {
                    "decoy.json"
                } else {
                    "real.json"
                };
                let tmp = dir.join("link.tmp");
                let _ = std::fs::remove_file(&tmp);
                std::os::unix::fs::symlink(target, &tmp).unwrap();
                std::fs::rename(&tmp, dir.join("auth.json")).unwrap();
                flips += 1;
            }
            flips
        })
    };
    for i in 0..80 {
        let reason = format!("write {i}");
        env.run(&[
            "cooldown",
            "set",
            "openai-codex#1",
            "--for",
            "1h",
            "--reason",
            &reason,
        ])
        .expect_code(0);
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let flips = flipper.join().unwrap();
    assert!(flips > 80, "the link barely moved: {flips} flips");
    for marker in ["real", "decoy"] {
        let text = std::fs::read(env.dir.path().join(format!("{marker}.json"))).unwrap();
        let doc: Value = serde_json::from_slice(&text).unwrap();
        assert_eq!(
            doc["marker"], marker,
            "{marker}.json got the other file's content"
        );
    }
}

/// A `call` that would fail to connect (nothing listens on port 9) unless refused earlier.
fn call_with_trace(env: &Env, trace: &Path) -> Option<Run> {
    let mut cmd = env.command();
    cmd.args([
        "call",
        "--provider",
        "openai-codex",
        "--base-url",
        "http://127.0.0.1:9/codex",
    ])
    .args(["--attempts", "1", "--trace", "off", "--trace-file"])
    .arg(trace)
    .arg("hello");
    run_within(cmd, Duration::from_secs(20))
}

#[test]
fn the_trace_file_may_not_be_auth_json_its_lock_or_a_fifo() {
    let env = Env::with_fixture("fresh.json");
    std::fs::write(env.lock(), "").unwrap();
    let link = env.dir.path().join("innocent.jsonl");
    std::os::unix::fs::symlink(env.auth(), &link).unwrap();
    let fifo = env.dir.path().join("trace.fifo");
    mkfifo(&fifo);
    let before = env.read_auth();
    for target in [env.auth(), env.lock(), link, fifo] {
        let run = call_with_trace(&env, &target)
            .unwrap_or_else(|| panic!("{}: rotor hung", target.display()));
        run.expect_code(2);
        assert!(run.stderr.contains("--trace-file"), "{}", run.stderr);
        assert_eq!(env.read_auth(), before, "{}", target.display());
    }
    assert_eq!(
        std::fs::read(env.lock()).unwrap(),
        b"",
        "auth.lock was appended to"
    );
}

#[test]
fn absurd_numbers_in_flags_are_usage_errors() {
    let env = Env::with_fixture("fresh.json");
    let before = env.read_auth();
    for args in [
        &["--lock-timeout", "1e30", "profiles", "list"][..],
        &["--lock-timeout", "-1", "profiles", "list"],
        &["--lock-timeout", "NaN", "profiles", "list"],
        &["cooldown", "set", "1", "--for", "12000000d"],
        &["cooldown", "set", "1", "--for", "1e300"],
        &[
            "call",
            "--timeout",
            "1e30",
            "--base-url",
            "http://127.0.0.1:9",
            "hi",
        ],
        &[
            "call",
            "--max-wait",
            "99999999999d",
            "--base-url",
            "http://127.0.0.1:9",
            "hi",
        ],
        &[
            "call",
            "--max-output",
            "1e40",
            "--base-url",
            "http://127.0.0.1:9",
            "hi",
        ],
        &[
            "call",
            "--max-output",
            "0",
            "--base-url",
            "http://127.0.0.1:9",
            "hi",
        ],
        &[
            "call",
            "--deadline",
            "0s",
            "--base-url",
            "http://127.0.0.1:9",
            "hi",
        ],
    ] {
        let run = env.run(args);
        run.expect_code(2);
        assert!(
            run.stderr.starts_with("rotor: ") || run.stderr.contains("error:"),
            "{args:?}: {}",
            run.stderr
        );
    }
    assert_eq!(env.read_auth(), before);
}

#[test]
fn manual_cooldowns_are_bounded_and_read_back_as_written() {
    let env = Env::with_fixture("fresh.json");
    let before = env.read_auth();
    // Beyond 30 days needs --force.
    let run = env.run(&[
        "cooldown",
        "set",
        "1",
        "--provider",
        "openai-codex",
        "--for",
        "31d",
    ]);
    run.expect_code(2);
    assert!(run.stderr.contains("--force"), "{}", run.stderr);
    assert_eq!(env.read_auth(), before);
    // Past the year 9999 a stored time would read back as milliseconds: never written.
    let run = env.run(&[
        "cooldown",
        "set",
        "1",
        "--provider",
        "openai-codex",
        "--until",
        "@999999999999",
        "--force",
    ]);
    run.expect_code(2);
    assert_eq!(env.read_auth(), before);
    // Far, but within the calendar, with --force: written and read back exactly.
    env.run(&[
        "cooldown",
        "set",
        "1",
        "--provider",
        "openai-codex",
        "--until",
        "@250000000000",
        "--force",
    ])
    .expect_code(0);
    let entry = &env.auth_json()["credential_pool"]["openai-codex"][0];
    assert_eq!(
        entry["last_error_reset_at"].as_f64(),
        Some(250_000_000_000.0)
    );
    let list = env.run(&["profiles", "list", "--format", "json"]);
    list.expect_code(0);
    let row = &list.json()["providers"][0]["profiles"][0];
    assert_eq!(row["state"], "cooling");
    assert_eq!(row["cooldown_until"], "9892-03-08T12:26:40Z");
}

#[test]
fn the_reason_of_a_manual_cooldown_is_one_bounded_line_without_addresses() {
    let env = Env::with_fixture("fresh.json");
    let reason = format!("moved to ops@corp.example\n{}", "x".repeat(500));
    env.run(&[
        "cooldown",
        "set",
        "openai-codex#2",
        "--for",
        "1h",
        "--reason",
        &reason,
    ])
    .expect_code(0);
    let message = env.auth_json()["credential_pool"]["openai-codex"][1]["last_error_message"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(message.chars().count() <= 200, "{}", message.len());
    assert!(
        !message.contains('@') && !message.contains('\n'),
        "{message}"
    );
    assert!(message.starts_with("moved to [redacted] xxx"), "{message}");
}

#[test]
fn a_write_that_would_outgrow_the_read_limit_is_refused() {
    // 3.5 million `é` are 7 MB of UTF-8, and 21 MB once written with Python's ASCII escapes:
    // rotor would write a file it then refuses to read.
    let mut doc: Value = serde_json::from_slice(&fixture_bytes("fresh.json")).unwrap();
    doc["notes"] = json!("é".repeat(3_500_000));
    let env = Env::with_auth_bytes(&serde_json::to_vec(&doc).unwrap());
    env.run(&["profiles", "list"]).expect_code(0);
    let before = env.read_auth();
    let run = env.run(&["cooldown", "set", "openai-codex#1", "--for", "1h"]);
    run.expect_code(7);
    assert!(run.stderr.contains("16 MiB"), "{}", run.stderr);
    assert_eq!(env.read_auth(), before);
}

/// A Python process runs rotor with the given stderr: `closed` (fd 2 closed) or `broken` (a
/// pipe whose reader is gone, so every write fails with EPIPE). Returns rotor's exit code.
fn exit_with_stderr(env: &Env, how: &str, args: &[&str]) -> i32 {
    let script = r#"
import os, subprocess, sys
how, argv = sys.argv[1], sys.argv[2:]
if how == "closed":
    code = subprocess.call(argv, stdout=subprocess.DEVNULL, preexec_fn=lambda: os.close(2))
else:
    r, w = os.pipe()
    os.close(r)
    code = subprocess.call(argv, stdout=subprocess.DEVNULL, stderr=w)
print(code)
"#;
    let out = env
        .command_of("python3")
        .arg("-c")
        .arg(script)
        .arg(how)
        .arg(&*BIN)
        .args(args)
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .unwrap_or(-1)
}

#[test]
fn a_closed_or_broken_stderr_keeps_the_exit_code() {
    if !prerequisite("python3, to hand rotor a broken stderr", tool("python3")) {
        return;
    }
    let env = Env::with_fixture("all-unavailable.json");
    let missing = env.dir.path().join("missing.json");
    let missing = missing.to_str().unwrap();
    for how in ["closed", "broken"] {
        assert_eq!(
            exit_with_stderr(&env, how, &["--auth-file", missing, "profiles", "list"]),
            7,
            "{how}"
        );
        assert_eq!(
            exit_with_stderr(&env, how, &["profiles", "list", "--check", "--at", AT_0430]),
            3,
            "{how}"
        );
    }
}

#[test]
fn a_long_refresh_error_is_stored_bounded() {
    let env = Env::with_fixture("fresh.json");
    // Profile 1's token expires now, so `call` refreshes it first; the endpoint refuses the
    // grant with a 5,000-character description.
    let mut doc = env.auth_json();
    let expired = crate::call::jwt(1.0, "acct-0001");
    doc["credential_pool"]["openai-codex"][0]["access_token"] = json!(expired);
    std::fs::write(env.auth(), serde_json::to_vec_pretty(&doc).unwrap()).unwrap();
    let server = FakeServer::start();
    let description = "y".repeat(5000);
    server.on(
        "/oauth/token",
        vec![Reply::json(
            400,
            &json!({"error": "invalid_grant", "error_description": description}).to_string(),
        )],
    );
    server.on("/codex/responses", vec![Reply::codex_text("hello")]);
    let base = format!("{}/codex", server.url);
    let token = format!("{}/oauth/token", server.url);
    env.run(&[
        "call",
        "--provider",
        "openai-codex",
        "--base-url",
        &base,
        "--token-url",
        &token,
        "--trace",
        "off",
        "hi",
    ])
    .expect_code(0);
    let entry = &env.auth_json()["credential_pool"]["openai-codex"][0];
    assert_eq!(entry["last_status"], "dead");
    let message = entry["last_error_message"].as_str().unwrap();
    assert!(
        message.chars().count() <= 200,
        "{} characters",
        message.chars().count()
    );
    assert!(
        message.starts_with("token refresh failed with HTTP 400: yyy"),
        "{message}"
    );
}
