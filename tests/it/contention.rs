//! Concurrent writers (docs/locking-and-writes.md): many rotor processes, and Hermes itself (a Python process
//! locking `auth.lock` exactly as Hermes does), doing read-modify-write cycles on one auth.json
//! at the same time. Every update must survive: counts are exact at the end.
//!
//! The negative controls run the same harness with one writer locking the wrong file
//! (`auth.json.lock`, or auth.json itself) and require that the harness sees updates lost:
//! proof that the exact counts above could fail.

use crate::common::*;
use crate::worker::{Job, PROVIDER};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

fn entry(id: &str, priority: usize) -> Value {
    json!({
        "id": id, "label": id, "auth_type": "api_key", "priority": priority,
        "source": "manual", "access_token": format!("sk-test-{id}"),
        "last_status": null, "last_status_at": null, "last_error_code": null,
        "last_error_reason": null, "last_error_message": null, "last_error_reset_at": null,
        "request_count": 0, "extra_key": [1.50, {"kept": true}]
    })
}

/// A pool with one entry per worker (`w00`…), a shared entry, `bins` entries for rotor binary
/// runs (`b00`…), an unknown top-level key and another provider: all must come through.
fn contention_env(workers: usize, bins: usize) -> Env {
    let mut entries: Vec<Value> = (0..workers)
        .map(|i| entry(&format!("w{i:02}"), i))
        .collect();
    entries.push(entry("shared", workers));
    entries.extend((0..bins).map(|i| entry(&format!("b{i:02}"), workers + 1 + i)));
    let doc = json!({
        "version": 1, "providers": {}, "active_provider": PROVIDER,
        "credential_pool": {PROVIDER: entries, "openrouter": [entry("or1", 0)]},
        "unknown_top_level": {"kept": 4102358400.0}
    });
    Env::with_auth_bytes(serde_json::to_string_pretty(&doc).unwrap().as_bytes())
}

fn spawn_workers(env: &Env, count: usize, cycles: u32, pause_ms: u64, wrong: usize) -> Vec<Child> {
    (0..count)
        .map(|i| {
            Job {
                auth: env.auth(),
                entry: format!("w{i:02}"),
                shared: Some("shared".into()),
                cycles,
                max_pause_ms: pause_ms,
                wrong_lock: i < wrong,
            }
            .command()
            .stdout(Stdio::null())
            .spawn()
            .unwrap()
        })
        .collect()
}

fn spawn_hermes(env: &Env, lock: &Path, rounds: u32, hold_ms: u32) -> Child {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/helpers/hermes_writer.py");
    Command::new("python3")
        .arg(script)
        .arg(lock)
        .arg(env.auth())
        .arg(rounds.to_string())
        .arg(hold_ms.to_string())
        .stdout(Stdio::null())
        .spawn()
        .expect("python3 is needed for the contention tests")
}

fn wait_all(children: Vec<Child>) {
    for mut child in children {
        let status = child.wait().unwrap();
        assert!(status.success(), "a writer process failed: {status}");
    }
}

fn count(doc: &Value, id: &str) -> u64 {
    doc["credential_pool"][PROVIDER]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["id"] == id)
        .unwrap()["request_count"]
        .as_u64()
        .unwrap()
}

/// Updates missing at the end: `(what, expected, found)` for every short count.
fn losses(doc: &Value, workers: usize, cycles: u64, hermes_rounds: u64) -> Vec<(String, u64, u64)> {
    let mut short = Vec::new();
    for i in 0..workers {
        let id = format!("w{i:02}");
        let found = count(doc, &id);
        if found != cycles {
            short.push((id, cycles, found));
        }
    }
    let shared = count(doc, "shared");
    if shared != workers as u64 * cycles {
        short.push(("shared".into(), workers as u64 * cycles, shared));
    }
    let counter = doc["counter"].as_u64().unwrap_or(0);
    if counter != hermes_rounds {
        short.push(("counter".into(), hermes_rounds, counter));
    }
    short
}

/// What must hold of the file after any run, lost updates or not.
fn assert_intact(doc: &Value) {
    assert_eq!(doc["unknown_top_level"], json!({"kept": 4102358400.0}));
    assert_eq!(doc["credential_pool"]["openrouter"][0]["id"], "or1");
    assert_eq!(
        doc["credential_pool"][PROVIDER][0]["extra_key"],
        json!([1.50, {"kept": true}])
    );
}

#[test]
fn sixteen_processes_times_200_cycles_lose_no_update() {
    const WORKERS: usize = 16;
    const CYCLES: u32 = 200;
    const BINS: usize = 12;
    let env = contention_env(WORKERS, BINS);
    let workers = spawn_workers(&env, WORKERS, CYCLES, 3, 0);
    // Meanwhile the real binary writes too: one `cooldown set` per entry b00…, each of which
    // must still be there at the end.
    for i in 0..BINS {
        let id = format!("b{i:02}");
        let reason = format!("contention {id}");
        env.run(&[
            "-q",
            "cooldown",
            "set",
            &id,
            "--provider",
            PROVIDER,
            "--for",
            "1h",
            "--reason",
            &reason,
        ])
        .expect_code(0);
    }
    wait_all(workers);
    let doc = env.auth_json();
    assert_intact(&doc);
    assert_eq!(losses(&doc, WORKERS, u64::from(CYCLES), 0), []);
    for i in 0..BINS {
        let e = &doc["credential_pool"][PROVIDER][WORKERS + 1 + i];
        assert_eq!(e["last_status"], "exhausted", "{e}");
        assert_eq!(
            e["last_error_message"],
            format!("contention b{i:02}"),
            "{e}"
        );
    }
    let leftovers: Vec<PathBuf> = std::fs::read_dir(env.dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().unwrap().to_string_lossy().contains(".tmp"))
        .collect();
    assert_eq!(leftovers, Vec::<PathBuf>::new(), "temp files left behind");
    eprintln!(
        "contention: {WORKERS} processes x {CYCLES} cycles + {BINS} rotor cooldown set runs, 0 lost"
    );
}

#[test]
fn rotor_and_hermes_writers_lose_no_update() {
    const WORKERS: usize = 8;
    const CYCLES: u32 = 100;
    const HERMES: usize = 4;
    const ROUNDS: u32 = 25;
    let env = contention_env(WORKERS, 0);
    let mut children = spawn_workers(&env, WORKERS, CYCLES, 30, 0);
    children.extend((0..HERMES).map(|_| spawn_hermes(&env, &env.lock(), ROUNDS, 5)));
    wait_all(children);
    let doc = env.auth_json();
    assert_intact(&doc);
    assert_eq!(
        losses(
            &doc,
            WORKERS,
            u64::from(CYCLES),
            (HERMES as u64) * u64::from(ROUNDS)
        ),
        []
    );
    eprintln!(
        "mixed: {WORKERS} rotor x {CYCLES} + {HERMES} hermes x {ROUNDS}, counter exact, 0 lost"
    );
}

/// Runs rotor workers (some possibly on the wrong lock) and Hermes writers on `hermes_lock`
/// until updates are lost, at most `tries` times; returns the losses of the last run.
fn run_until_loss(
    hermes_lock: impl Fn(&Env) -> PathBuf,
    wrong_rotor: usize,
    hermes: usize,
) -> Vec<(String, u64, u64)> {
    const WORKERS: usize = 4;
    const CYCLES: u32 = 40;
    const ROUNDS: u32 = 10;
    let mut found = Vec::new();
    for _ in 0..5 {
        let env = contention_env(WORKERS, 0);
        let lock = hermes_lock(&env);
        let mut children = spawn_workers(&env, WORKERS, CYCLES, 5, wrong_rotor);
        children.extend((0..hermes).map(|_| spawn_hermes(&env, &lock, ROUNDS, 20)));
        wait_all(children);
        let doc = env.auth_json();
        assert_intact(&doc);
        found = losses(
            &doc,
            WORKERS,
            u64::from(CYCLES),
            hermes as u64 * u64::from(ROUNDS),
        );
        if !found.is_empty() {
            break;
        }
    }
    found
}

#[test]
fn negative_control_hermes_on_auth_json_lock_loses_updates() {
    let lost = run_until_loss(|env| env.dir.path().join("auth.json.lock"), 0, 2);
    assert!(!lost.is_empty(), "the harness must detect lost updates");
    eprintln!("negative control (auth.json.lock): lost {lost:?}");
}

#[test]
fn negative_control_hermes_locking_auth_json_itself_loses_updates() {
    let lost = run_until_loss(|env| env.auth(), 0, 2);
    assert!(!lost.is_empty(), "the harness must detect lost updates");
    eprintln!("negative control (auth.json itself): lost {lost:?}");
}

#[test]
fn negative_control_rotor_on_the_wrong_lock_loses_updates() {
    // Two of the four rotor workers lock auth.json.lock instead of auth.lock; no Hermes.
    let lost = run_until_loss(|env| env.lock(), 2, 0);
    assert!(!lost.is_empty(), "the harness must detect lost updates");
    eprintln!("negative control (rotor on auth.json.lock): lost {lost:?}");
}
