//! Root on a service user's files (docs/locking-and-writes.md "other users' files"): operators run the gateway as
//! a service user and `sudo rotor …` as root. A write by root keeps auth.json's owner, group and
//! mode, a lock file root creates belongs to the directory's owner, and the service user can
//! still read auth.json and take the lock afterwards. Whatever the umask, a file rotor writes
//! stays readable and writable by its owner.
//!
//! CI runs as root; elsewhere these tests skip (and fail under `CI=true`).

use crate::common::*;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;
use std::process::Command;

/// nobody:nogroup on Debian, the service user of these tests.
const SERVICE: u32 = 65534;

fn owner(path: &Path) -> (u32, u32, u32) {
    let meta = std::fs::metadata(path).unwrap();
    (meta.uid(), meta.gid(), meta.mode() & 0o777)
}

fn as_root() -> bool {
    prerequisite(
        "root, to write another user's files",
        if is_root() {
            Ok(())
        } else {
            Err("not running as root".into())
        },
    ) && prerequisite("setpriv, to run as the service user", tool("setpriv"))
}

/// rotor run as the service user in `env`.
fn as_service(env: &Env, args: &[&str]) -> Run {
    let mut cmd = env.command_of("setpriv");
    cmd.args([
        &format!("--reuid={SERVICE}"),
        &format!("--regid={SERVICE}"),
        "--clear-groups",
        "--",
    ])
    .arg(&*BIN)
    .args(args);
    Run::from(cmd.output().unwrap())
}

/// A HERMES_HOME owned by the service user, auth.json mode 0640, no lock file yet.
fn service_home() -> Env {
    let env = Env::with_fixture("fresh.json");
    let status = Command::new("chown")
        .args(["-R", &format!("{SERVICE}:{SERVICE}")])
        .arg(env.dir.path())
        .status()
        .unwrap();
    assert!(status.success());
    std::fs::set_permissions(env.auth(), std::fs::Permissions::from_mode(0o640)).unwrap();
    env
}

#[test]
fn a_root_write_keeps_owner_group_and_mode_and_the_service_user_still_can_use_it() {
    if !as_root() {
        return;
    }
    let env = service_home();
    assert!(!env.lock().exists());
    env.run(&["cooldown", "set", "openai-codex#1", "--for", "1h"])
        .expect_code(0);
    assert_eq!(owner(&env.auth()), (SERVICE, SERVICE, 0o640), "auth.json");
    let (uid, gid, mode) = owner(&env.lock());
    assert_eq!(
        (uid, gid),
        (SERVICE, SERVICE),
        "a new auth.lock belongs to the directory's owner"
    );
    assert_eq!(mode & 0o600, 0o600, "the owner can take the lock: {mode:o}");
    assert_eq!(
        env.auth_json()["credential_pool"]["openai-codex"][0]["last_status"],
        "exhausted"
    );

    // The service user reads the file, takes the lock and writes, as its gateway would.
    as_service(&env, &["profiles", "list"]).expect_code(0);
    as_service(&env, &["cooldown", "clear", "openai-codex#1"]).expect_code(0);
    assert_eq!(
        env.auth_json()["credential_pool"]["openai-codex"][0]["last_status"],
        "ok"
    );
    assert_eq!(owner(&env.auth()), (SERVICE, SERVICE, 0o640));
}

#[test]
fn a_root_write_into_an_existing_lock_leaves_the_lock_alone() {
    if !as_root() {
        return;
    }
    let env = service_home();
    std::fs::write(env.lock(), "").unwrap();
    let status = Command::new("chown")
        .arg(format!("{SERVICE}:{SERVICE}"))
        .arg(env.lock())
        .status()
        .unwrap();
    assert!(status.success());
    std::fs::set_permissions(env.lock(), std::fs::Permissions::from_mode(0o644)).unwrap();
    env.run(&["cooldown", "set", "openai-codex#2", "--for", "10m"])
        .expect_code(0);
    assert_eq!(owner(&env.lock()), (SERVICE, SERVICE, 0o644));
    assert_eq!(owner(&env.auth()), (SERVICE, SERVICE, 0o640));
}

#[test]
fn a_umask_never_takes_the_owners_read_and_write_away() {
    let env = Env::with_fixture("fresh.json");
    let mut cmd = env.command_of("sh");
    cmd.arg("-c")
        .arg("umask 0777; exec \"$@\"")
        .arg("sh")
        .arg(&*BIN)
        .args(["cooldown", "set", "openai-codex#1", "--for", "1h"]);
    Run::from(cmd.output().unwrap()).expect_code(0);
    for path in [env.auth(), env.lock()] {
        let (_, _, mode) = owner(&path);
        assert_eq!(mode & 0o600, 0o600, "{}: {mode:o}", path.display());
    }
    assert_eq!(owner(&env.auth()).2, 0o600, "auth.json kept its mode");
    // And the owner (whoever runs the tests) can read it back.
    env.run(&["profiles", "list"]).expect_code(0);
}

#[test]
fn root_takes_no_env_sourced_key_from_its_own_environment_or_a_planted_env_file() {
    if !as_root() {
        return;
    }
    // The service user's auth.json names a variable; root must not hand its own value of it
    // (or a root file's, through a symlinked .env) to a file the service user controls.
    const SECRET: &str = "root-only-secret-value-0001";
    let env = Env::with_auth_bytes(
        &std::fs::read(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("tests/fixtures/hermes-main/sole-env-key.json"),
        )
        .unwrap(),
    );
    let root_file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(
        root_file.path(),
        format!("ROTOR_FIXTURE_OPENROUTER_KEY={SECRET}\n"),
    )
    .unwrap();
    std::os::unix::fs::symlink(root_file.path(), env.dir.path().join(".env")).unwrap();
    let status = Command::new("chown")
        .args(["-R", "-h", &format!("{SERVICE}:{SERVICE}")])
        .arg(env.dir.path())
        .status()
        .unwrap();
    assert!(status.success());
    let key_state = |with_env: bool| {
        let mut cmd = env.command();
        if with_env {
            cmd.env("ROTOR_FIXTURE_OPENROUTER_KEY", SECRET);
        }
        let run = Run::from(
            cmd.args(["profiles", "list", "--format", "json"])
                .output()
                .unwrap(),
        );
        run.expect_code(0);
        assert!(!run.stdout.contains(SECRET));
        run.json()["providers"][0]["profiles"][0]["env_key"]["set"].clone()
    };
    assert_eq!(
        key_state(true),
        false,
        "root's environment is not the service user's"
    );
    assert_eq!(key_state(false), false, "a symlinked .env is not read");
    // The service user's own .env is.
    std::fs::remove_file(env.dir.path().join(".env")).unwrap();
    std::fs::write(
        env.dir.path().join(".env"),
        "ROTOR_FIXTURE_OPENROUTER_KEY=sk-or-v1-service-key\n",
    )
    .unwrap();
    let status = Command::new("chown")
        .arg(format!("{SERVICE}:{SERVICE}"))
        .arg(env.dir.path().join(".env"))
        .status()
        .unwrap();
    assert!(status.success());
    assert_eq!(key_state(false), true);
    // The service user itself still gets its own environment's value.
    std::fs::remove_file(env.dir.path().join(".env")).unwrap();
    let run = Run::from(
        env.command_of("setpriv")
            .args([
                &format!("--reuid={SERVICE}"),
                &format!("--regid={SERVICE}"),
                "--clear-groups",
                "--",
            ])
            .arg(&*BIN)
            .args(["profiles", "list", "--format", "json"])
            .env("ROTOR_FIXTURE_OPENROUTER_KEY", "sk-or-v1-from-its-env")
            .output()
            .unwrap(),
    );
    run.expect_code(0);
    assert_eq!(
        run.json()["providers"][0]["profiles"][0]["env_key"]["set"],
        true
    );
}
