//! A worker process for the multi-process tests: this test binary, re-run with
//! `ROTOR_IT_WORKER` set, becomes a small program that does locked read-modify-write cycles on
//! an auth.json through rotor's own store (`AuthStore::update`: lock `auth.lock`, sweep, re-read,
//! patch, atomic write, unlock). No test hook lives in rotor itself.
//!
//! Each cycle adds 1 to `request_count` of the worker's own entry and, when `ROTOR_IT_SHARED`
//! names one, of a shared entry too. An update lost to a concurrent writer shows up as a count
//! below the number of cycles.
//!
//! Mode `ROTOR_IT_WORKER=wrong-lock` is the negative control: the same cycle, but locking
//! `auth.json.lock` (the name Hermes does NOT lock) and writing by temp file + rename by hand,
//! as rotor would if its lock name were wrong. The contention tests must see it lose updates.

use rotor::store::{AuthStore, Document};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

pub const PROVIDER: &str = "openai-codex";

/// What one worker process does.
#[derive(Debug, Clone)]
pub struct Job {
    pub auth: PathBuf,
    pub entry: String,
    pub shared: Option<String>,
    pub cycles: u32,
    /// Longest pause between two cycles (a random part of it is slept), so that waiting
    /// processes polling the lock every 50 ms get their turn.
    pub max_pause_ms: u64,
    pub wrong_lock: bool,
}

impl Job {
    /// This test binary, told to run only the worker entry point below.
    pub fn command(&self) -> Command {
        let mut cmd = Command::new(std::env::current_exe().unwrap());
        cmd.args([
            "--exact",
            "worker::worker",
            "--ignored",
            "--nocapture",
            "-q",
        ])
        .env(
            "ROTOR_IT_WORKER",
            if self.wrong_lock {
                "wrong-lock"
            } else {
                "locked"
            },
        )
        .env("ROTOR_IT_AUTH", &self.auth)
        .env("ROTOR_IT_ENTRY", &self.entry)
        .env("ROTOR_IT_SHARED", self.shared.as_deref().unwrap_or(""))
        .env("ROTOR_IT_CYCLES", self.cycles.to_string())
        .env("ROTOR_IT_PAUSE_MS", self.max_pause_ms.to_string());
        cmd
    }
}

#[test]
#[ignore = "the worker process of the contention tests; they start it, it does nothing alone"]
fn worker() {
    let Ok(mode) = std::env::var("ROTOR_IT_WORKER") else {
        return;
    };
    let var = |name: &str| std::env::var(name).unwrap();
    let job = Job {
        auth: PathBuf::from(var("ROTOR_IT_AUTH")),
        entry: var("ROTOR_IT_ENTRY"),
        shared: Some(var("ROTOR_IT_SHARED")).filter(|s| !s.is_empty()),
        cycles: var("ROTOR_IT_CYCLES").parse().unwrap(),
        max_pause_ms: var("ROTOR_IT_PAUSE_MS").parse().unwrap(),
        wrong_lock: mode == "wrong-lock",
    };
    let store = AuthStore::new(job.auth.clone(), Duration::from_secs(300));
    let mut rng = fastrand::Rng::new();
    for _ in 0..job.cycles {
        if job.wrong_lock {
            wrong_lock_cycle(&job);
        } else {
            // A writer that ignores the lock (the negative controls) may replace auth.json
            // between rotor's read and its rename: rotor then refuses to write, and the
            // increment is tried again, as an operator would rerun the command.
            loop {
                match store.update(|doc| increment(doc, &job)) {
                    Err(rotor::Error::Write { source, .. })
                        if source.to_string().contains("replaced") => {}
                    other => break other.unwrap(),
                }
            }
        }
        if job.max_pause_ms > 0 {
            std::thread::sleep(Duration::from_micros(rng.u64(..job.max_pause_ms * 1000)));
        }
    }
}

fn increment(doc: &mut Document, job: &Job) -> rotor::Result<()> {
    for id in std::iter::once(&job.entry).chain(job.shared.as_ref()) {
        let count = request_count(doc, id);
        doc.set_fields(
            PROVIDER,
            id,
            vec![("request_count", Value::from(count + 1))],
        )?;
    }
    Ok(())
}

fn request_count(doc: &Document, id: &str) -> u64 {
    doc.profiles(PROVIDER)
        .unwrap()
        .into_iter()
        .find(|p| p.id == id)
        .unwrap_or_else(|| panic!("no entry {id}"))
        .request_count
}

/// The negative control's cycle: the wrong lock file, then the same read-modify-write.
fn wrong_lock_cycle(job: &Job) {
    let wrong = job.auth.with_file_name("auth.json.lock");
    let lock = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(wrong)
        .unwrap();
    lock.lock().unwrap();
    let mut doc = Document::parse(&job.auth, &std::fs::read(&job.auth).unwrap()).unwrap();
    increment(&mut doc, job).unwrap();
    replace(&job.auth, &doc.to_bytes(0.0));
    lock.unlock().unwrap();
}

/// Temp file + fsync + rename, as an atomic writer does.
fn replace(path: &Path, bytes: &[u8]) {
    use std::io::Write;
    let mut temp = tempfile::NamedTempFile::new_in(path.parent().unwrap()).unwrap();
    temp.write_all(bytes).unwrap();
    temp.as_file().sync_all().unwrap();
    temp.persist(path).unwrap();
}
