//! Crash safety (docs/locking-and-writes.md): rotor killed with SIGKILL at random points while it rewrites
//! auth.json. After every kill the file parses and is either the old state or the new one,
//! never a mix or a torn file; temp files a killed writer leaves are swept by a later write once
//! they are older than ten minutes (and not before).
//!
//! The quick variant runs in CI; the long one (`ROTOR_CRASH_KILLS`, default 2000) is ignored by
//! default: `scripts/reliability-long.sh` runs it.

use crate::common::*;
use serde_json::{Value, json};
use std::time::{Duration, Instant, SystemTime};

/// The fixture plus a large provider, so that one write takes long enough (milliseconds) for
/// kills to land in every phase: lock, read, parse, serialise, write, fsync, rename.
fn big_env() -> Env {
    let mut doc: Value = serde_json::from_slice(&fixture_bytes("fresh.json")).unwrap();
    let entries: Vec<Value> = (0..1500)
        .map(|i| {
            json!({"id": format!("pad{i:05}"), "label": format!("padding {i}"), "auth_type": "api_key",
                "priority": i, "access_token": format!("sk-pad-{i:08}-{}", "x".repeat(200)),
                "last_status": null, "request_count": i, "note": "é ü 😀"})
        })
        .collect();
    doc["credential_pool"]["padding"] = Value::Array(entries);
    Env::with_auth_bytes(serde_json::to_string_pretty(&doc).unwrap().as_bytes())
}

/// The state that matters: the document without `updated_at`, and the first Codex profile's
/// status fields apart.
fn split(doc: &Value) -> (Value, Value) {
    let mut rest = doc.clone();
    rest.as_object_mut().unwrap().remove("updated_at");
    let entry = rest["credential_pool"]["openai-codex"][0]
        .as_object_mut()
        .unwrap();
    let mut status = serde_json::Map::new();
    for key in [
        "last_status",
        "last_status_at",
        "last_error_code",
        "last_error_reason",
        "last_error_message",
        "last_error_reset_at",
    ] {
        status.insert(key.into(), entry.remove(key).unwrap_or(Value::Null));
    }
    (rest, Value::Object(status))
}

fn temp_files(env: &Env) -> Vec<std::path::PathBuf> {
    std::fs::read_dir(env.dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            let name = p.file_name().unwrap().to_string_lossy();
            name.starts_with("auth.json.tmp.")
        })
        .collect()
}

#[derive(Debug, Default)]
struct Tally {
    kills: usize,
    /// Kills that landed mid-write: after the temp file was created, before the rename (the
    /// killed writer left its temp file behind).
    mid_write: usize,
    old: usize,
    new: usize,
    finished: usize,
}

/// Kills that must land mid-write for a run to count: without them the test would only have
/// shown that killing rotor before or after a write is harmless.
const MID_WRITE_KILLS: usize = 3;

fn kill_runs(kills: usize) -> (Env, Tally) {
    let env = big_env();
    // How long one undisturbed write takes here, to spread the kills over all of it.
    let started = Instant::now();
    env.run(&[
        "cooldown",
        "set",
        "openai-codex#1",
        "--for",
        "1h",
        "--reason",
        "warm-up",
    ])
    .expect_code(0);
    let span = started.elapsed();
    let (mut rest, _) = split(&env.auth_json());
    let mut tally = Tally::default();
    let mut rng = fastrand::Rng::with_seed(6);
    // Until `kills` processes were really killed (a few finish before their kill arrives), and
    // some of them in the middle of their write.
    for k in 0.. {
        if tally.kills >= kills && tally.mid_write >= MID_WRITE_KILLS {
            break;
        }
        assert!(
            k < kills * 20,
            "after {k} runs only {} kills landed mid-write: {tally:?}",
            tally.mid_write
        );
        let temps_before = temp_files(&env).len();
        let reason = format!("kill {k}");
        let before = env.read_auth();
        let mut child = env
            .command()
            .args([
                "cooldown",
                "set",
                "openai-codex#1",
                "--for",
                "1h",
                "--reason",
                &reason,
            ])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(span.mul_f64(rng.f64()));
        let _ = child.kill(); // SIGKILL; fails only if it already exited
        let status = child.wait().unwrap();
        if status.success() {
            tally.finished += 1;
        } else {
            assert_eq!(
                std::os::unix::process::ExitStatusExt::signal(&status),
                Some(9),
                "rotor failed on its own: {status}"
            );
            tally.kills += 1;
            if temp_files(&env).len() > temps_before {
                tally.mid_write += 1;
            }
        }
        let after = env.read_auth();
        if after == before {
            tally.old += 1;
            continue;
        }
        let doc: Value = serde_json::from_slice(&after)
            .unwrap_or_else(|e| panic!("kill {k}: auth.json does not parse: {e}"));
        let (after_rest, status_fields) = split(&doc);
        assert!(
            after_rest == rest,
            "kill {k}: fields other than the status changed"
        );
        assert_eq!(status_fields["last_error_message"], reason, "kill {k}");
        assert_eq!(status_fields["last_status"], "exhausted", "kill {k}");
        rest = after_rest;
        tally.new += 1;
    }
    (env, tally)
}

/// Leftover temp files are swept by the next write once older than ten minutes, not before.
fn check_sweep(env: &Env) -> usize {
    let left = temp_files(env);
    // Make sure there is at least one of each kind even if no kill left one.
    let fresh = env.dir.path().join("auth.json.tmp.1.fresh");
    let crashed = env.dir.path().join("auth.json.tmp.2.crashed");
    std::fs::write(&fresh, "{").unwrap();
    std::fs::write(&crashed, "{").unwrap();
    let eleven_minutes_ago = SystemTime::now() - Duration::from_secs(11 * 60);
    for path in left.iter().chain([&crashed]) {
        std::fs::File::options()
            .write(true)
            .open(path)
            .unwrap()
            .set_modified(eleven_minutes_ago)
            .unwrap();
    }
    env.run(&["cooldown", "clear", "openai-codex#1"])
        .expect_code(0);
    assert_eq!(temp_files(env), [fresh], "only the fresh temp file remains");
    left.len()
}

#[test]
fn sigkill_during_writes_leaves_old_or_new_state() {
    let (env, tally) = kill_runs(150);
    let left = check_sweep(&env);
    eprintln!("crash: {tally:?}, temp files left by kills: {left}, all swept");
}

#[test]
#[ignore = "long: scripts/reliability-long.sh (ROTOR_CRASH_KILLS, default 2000)"]
fn sigkill_during_writes_long() {
    let kills = std::env::var("ROTOR_CRASH_KILLS")
        .ok()
        .and_then(|k| k.parse().ok())
        .unwrap_or(2000);
    let (env, tally) = kill_runs(kills);
    let left = check_sweep(&env);
    eprintln!("crash (long): {tally:?}, temp files left by kills: {left}, all swept");
}
