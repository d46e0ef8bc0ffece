//! The harness: a temporary HERMES_HOME holding a copy of a fixture, and a way to run rotor in
//! it with nothing of the developer's own environment leaking in.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The rotor binary under test: this build's, or the one `ROTOR_IT_BIN` names (to show that a
/// new test fails on an older build: build the old commit, point `ROTOR_IT_BIN` at it).
pub static BIN: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    std::env::var("ROTOR_IT_BIN").unwrap_or_else(|_| env!("CARGO_BIN_EXE_rotor").to_string())
});

/// Fixed evaluation times used with `--at` (see tests/fixtures/hermes-0.19/README.md).
pub const AT_0430: &str = "2026-11-28T04:30:00Z";
pub const AT_0600: &str = "2026-11-28T06:00:00Z";

pub fn fixture_path(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/hermes-0.19")
        .join(name)
}

pub fn fixture_bytes(name: &str) -> Vec<u8> {
    std::fs::read(fixture_path(name)).unwrap()
}

pub struct Env {
    pub dir: tempfile::TempDir,
}

impl Env {
    /// A HERMES_HOME holding `auth.json` copied from the named fixture, mode 0600.
    pub fn with_fixture(name: &str) -> Env {
        Env::with_auth_bytes(&fixture_bytes(name))
    }

    pub fn with_auth_bytes(bytes: &[u8]) -> Env {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let auth = dir.path().join("auth.json");
        std::fs::write(&auth, bytes).unwrap();
        std::fs::set_permissions(&auth, std::fs::Permissions::from_mode(0o600)).unwrap();
        Env { dir }
    }

    pub fn auth(&self) -> PathBuf {
        self.dir.path().join("auth.json")
    }

    pub fn lock(&self) -> PathBuf {
        self.dir.path().join("auth.lock")
    }

    pub fn read_auth(&self) -> Vec<u8> {
        std::fs::read(self.auth()).unwrap()
    }

    pub fn auth_json(&self) -> Value {
        serde_json::from_slice(&self.read_auth()).unwrap()
    }

    /// A rotor command with HERMES_HOME (and HOME) set to this env and a fixed terminal width.
    pub fn command(&self) -> Command {
        self.command_of(&*BIN)
    }

    /// Any program (a wrapper such as `sh`, `strace`, `setpriv`) in the same environment.
    pub fn command_of(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut cmd = Command::new(program);
        cmd.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HERMES_HOME", self.dir.path())
            .env("HOME", self.dir.path())
            .env("COLUMNS", "100");
        cmd
    }

    /// Runs rotor and checks what every run must satisfy (see [`crate::secrets`]): no fixture
    /// secret in its output or in trace files it left in this env, and no panic.
    pub fn run(&self, args: &[&str]) -> Run {
        let before = crate::secrets::Secrets::of_env(self);
        let run = Run::from(self.command().args(args).output().unwrap());
        let mut secrets = crate::secrets::Secrets::of_env(self);
        secrets.extend(before);
        secrets.assert_clean(&run, self);
        run
    }
}

/// A finished rotor process.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl From<Output> for Run {
    fn from(out: Output) -> Self {
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }
}

impl Run {
    #[track_caller]
    pub fn expect_code(&self, code: i32) -> &Self {
        assert_eq!(
            self.code, code,
            "exit code\nstdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        self
    }

    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{}", self.stdout))
    }
}

/// Whether a test's prerequisite (a tool, root, a kernel feature) is here. Without it the test
/// says so on stderr and skips what needs it, on a developer's machine. Under `CI=true` a
/// missing prerequisite fails the test instead: CI installs everything the tests need, so a
/// skip there would hide a test that no longer runs.
#[track_caller]
pub fn prerequisite(what: &str, available: Result<(), String>) -> bool {
    match available {
        Ok(()) => true,
        Err(why) if std::env::var("CI").is_ok_and(|v| v == "true") => {
            panic!("prerequisite missing under CI=true: {what}: {why}")
        }
        Err(why) => {
            eprintln!("SKIPPED ({what}): {why}");
            false
        }
    }
}

/// Whether the tests run as root (CI does: the ownership and filesystem tests need it).
pub fn is_root() -> bool {
    std::process::Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// `Ok` when `program` runs (`program --version`).
pub fn tool(program: &str) -> Result<(), String> {
    match std::process::Command::new(program)
        .arg("--version")
        .output()
    {
        Ok(_) => Ok(()),
        Err(e) => Err(format!("cannot run {program}: {e}")),
    }
}

/// rotor run outside any env, for `--help` and the like.
pub fn bare(args: &[&str]) -> Run {
    let dir = tempfile::tempdir().unwrap();
    Run::from(
        Command::new(&*BIN)
            .env_clear()
            .env("HOME", dir.path())
            .env("COLUMNS", "100")
            .args(args)
            .output()
            .unwrap(),
    )
}
