//! Interoperation with Hermes's lock: a Python process holding `auth.lock` the way Hermes does.

use crate::common::*;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

/// Starts the helper holding `lock` for `seconds` and returns once it holds it.
pub fn hold_lock(lock: &std::path::Path, seconds: f64) -> Child {
    let script =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/helpers/hold_lock.py");
    let mut child = Command::new("python3")
        .arg(script)
        .arg(lock)
        .arg(seconds.to_string())
        .stdout(Stdio::piped())
        .spawn()
        .expect("python3 is needed for the lock tests");
    let mut line = String::new();
    BufReader::new(child.stdout.as_mut().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert_eq!(line.trim(), "locked");
    child
}

#[test]
fn cooldown_set_waits_for_a_held_lock_then_succeeds() {
    let env = Env::with_fixture("fresh.json");
    let mut holder = hold_lock(&env.lock(), 2.0);
    let started = std::time::Instant::now();
    let run = env.run(&["cooldown", "set", "openai-codex#1", "--for", "1h"]);
    let waited = started.elapsed();
    run.expect_code(0);
    assert!(
        run.stderr.contains("waiting for the lock on") && run.stderr.contains("auth.lock"),
        "{}",
        run.stderr
    );
    assert!(
        waited.as_secs_f64() >= 1.0,
        "rotor must have waited for the holder, waited {waited:?}"
    );
    assert_eq!(
        env.auth_json()["credential_pool"]["openai-codex"][0]["last_status"],
        "exhausted"
    );
    holder.wait().unwrap();
}

#[test]
fn lock_timeout_exits_6_and_writes_nothing() {
    let env = Env::with_fixture("fresh.json");
    let before = env.read_auth();
    let mut holder = hold_lock(&env.lock(), 4.0);
    let run = env.run(&[
        "--lock-timeout",
        "1",
        "cooldown",
        "set",
        "openai-codex#1",
        "--for",
        "1h",
    ]);
    run.expect_code(6);
    assert!(
        run.stderr
            .contains("timed out after 1s waiting for the lock on"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("--lock-timeout"),
        "the error names the knob: {}",
        run.stderr
    );
    assert_eq!(env.read_auth(), before);
    holder.kill().unwrap();
    holder.wait().unwrap();
}

#[test]
fn the_lock_file_is_the_sibling_auth_lock() {
    let env = Env::with_fixture("fresh.json");
    env.run(&["cooldown", "set", "openai-codex#1", "--for", "1h"])
        .expect_code(0);
    assert!(env.lock().exists());
    assert!(!env.dir.path().join("auth.json.lock").exists());
    // Reading does not lock: `profiles list` works while Hermes holds the lock.
    let mut holder = hold_lock(&env.lock(), 3.0);
    env.run(&["--lock-timeout", "0", "profiles", "list"])
        .expect_code(0);
    holder.kill().unwrap();
    holder.wait().unwrap();
}
