//! Writes that cannot complete (docs/locking-and-writes.md, docs/exit-codes.md): a full filesystem, a file size limit, a read-only
//! directory or filesystem, a directory that vanishes while rotor waits for the lock. Each time:
//! a clear error naming the file, exit code 7, auth.json byte-identical, no temp file left.
//!
//! Tests run as root in CI, and root ignores permission bits: the read-only directory test then
//! runs rotor as an unprivileged user (setpriv), and the filesystem tests mount a small tmpfs.
//! Where neither is possible the test says why on stderr and skips that part, except under
//! `CI=true`, where a missing prerequisite fails the test (see `common::prerequisite`).

use crate::common::*;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

const SET: &[&str] = &["cooldown", "set", "openai-codex#1", "--for", "1h"];

/// Files in `dir` besides auth.json and auth.lock (a temp file left behind would be one).
fn others(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n != "auth.json" && n != "auth.lock" && n != "filler")
        .collect()
}

#[track_caller]
fn assert_refused(run: &Run, auth: &Path, before: &[u8], cause: &str) {
    run.expect_code(7);
    let line = run.stderr.trim_end();
    assert!(
        line.starts_with("rotor: cannot ") && line.contains(cause) && !line.contains('\n'),
        "{line}"
    );
    assert!(
        line.contains(&auth.parent().unwrap().display().to_string()),
        "{line}"
    );
    assert!(std::fs::read(auth).unwrap() == before, "auth.json changed");
    assert_eq!(others(auth.parent().unwrap()), Vec::<String>::new());
}

/// A tmpfs mounted on a fresh directory, unmounted when dropped.
struct Tmpfs {
    dir: tempfile::TempDir,
}

impl Tmpfs {
    fn mount(size: &str) -> Result<Tmpfs, String> {
        if !is_root() {
            return Err("not root, cannot mount a tmpfs".into());
        }
        let dir = tempfile::tempdir().unwrap();
        let out = Command::new("mount")
            .args([
                "-t",
                "tmpfs",
                "-o",
                &format!("size={size},mode=0700"),
                "tmpfs",
            ])
            .arg(dir.path())
            .output()
            .map_err(|e| format!("cannot run mount: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "mount -t tmpfs failed: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            ));
        }
        Ok(Tmpfs { dir })
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn remount_read_only(&self) {
        let status = Command::new("mount")
            .args(["-o", "remount,ro"])
            .arg(self.path())
            .status()
            .unwrap();
        assert!(status.success());
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(self.dir.path()).status();
    }
}

/// Fills the filesystem holding `dir` until a write fails with ENOSPC.
fn fill(dir: &Path) {
    use std::io::Write;
    let mut filler = std::fs::File::create(dir.join("filler")).unwrap();
    let block = vec![0u8; 4096];
    loop {
        match filler.write_all(&block) {
            Ok(()) => {}
            Err(e) if e.raw_os_error() == Some(28) => break, // ENOSPC
            Err(e) => panic!("filling the tmpfs: {e}"),
        }
    }
    let _ = filler.sync_all();
}

#[test]
fn a_full_filesystem_fails_cleanly() {
    let fs = Tmpfs::mount("256k");
    if !prerequisite(
        "a tmpfs to fill",
        fs.as_ref().map(|_| ()).map_err(Clone::clone),
    ) {
        return;
    }
    let Ok(fs) = fs else { return };
    let env = Env::with_fixture("fresh.json");
    let auth = fs.path().join("auth.json");
    let before = fixture_bytes("fresh.json");
    std::fs::write(&auth, &before).unwrap();
    std::fs::write(fs.path().join("auth.lock"), "").unwrap();
    fill(fs.path());
    let mut args = vec!["--auth-file", auth.to_str().unwrap()];
    args.extend_from_slice(SET);
    let run = env.run(&args);
    assert_refused(&run, &auth, &before, "No space left on device");
}

#[test]
fn a_file_size_limit_fails_cleanly() {
    // An injected write failure that needs no privilege: RLIMIT_FSIZE of 1 KiB makes writing
    // the ~4 KiB temp file fail with EFBIG (SIGXFSZ ignored, so the write returns an error).
    let env = Env::with_fixture("fresh.json");
    let before = env.read_auth();
    let mut cmd = env.command_of("sh");
    cmd.arg("-c")
        .arg("trap '' XFSZ; ulimit -f 2; exec \"$@\"")
        .arg("sh")
        .arg(&*BIN)
        .args(SET);
    let run = Run::from(cmd.output().unwrap());
    assert_refused(&run, &env.auth(), &before, "File too large");
}

#[test]
fn a_read_only_directory_fails_cleanly() {
    use std::os::unix::fs::PermissionsExt;
    let env = Env::with_fixture("fresh.json");
    std::fs::write(env.lock(), "").unwrap();
    let before = env.read_auth();
    let dir = env.dir.path();
    let mut cmd = if is_root() {
        // Root ignores the mode bits: run rotor as nobody, owner of the files, in a 0555 dir.
        if !prerequisite(
            "setpriv, to run as nobody: root ignores a read-only directory",
            tool("setpriv"),
        ) {
            return;
        }
        let chown = Command::new("chown")
            .args(["-R", "65534:65534"])
            .arg(dir)
            .status()
            .unwrap();
        assert!(chown.success());
        let mut cmd = env.command_of("setpriv");
        cmd.args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
            .arg(&*BIN);
        cmd
    } else {
        env.command()
    };
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o555)).unwrap();
    let run = Run::from(cmd.args(SET).output().unwrap());
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)).unwrap();
    assert_refused(&run, &env.auth(), &before, "Permission denied");
}

#[test]
fn a_read_only_filesystem_fails_cleanly() {
    let fs = Tmpfs::mount("1m");
    if !prerequisite(
        "a tmpfs to remount read-only",
        fs.as_ref().map(|_| ()).map_err(Clone::clone),
    ) {
        return;
    }
    let Ok(fs) = fs else { return };
    let env = Env::with_fixture("fresh.json");
    let auth = fs.path().join("auth.json");
    let before = fixture_bytes("fresh.json");
    std::fs::write(&auth, &before).unwrap();
    std::fs::write(fs.path().join("auth.lock"), "").unwrap();
    fs.remount_read_only();
    let mut args = vec!["--auth-file", auth.to_str().unwrap()];
    args.extend_from_slice(SET);
    let run = env.run(&args);
    assert_refused(&run, &auth, &before, "Read-only file system");
}

#[test]
fn a_directory_that_vanishes_while_rotor_waits_fails_cleanly() {
    let env = Env::with_fixture("fresh.json");
    let home = env.dir.path().join("home");
    std::fs::create_dir(&home).unwrap();
    let auth = home.join("auth.json");
    let before = env.read_auth();
    std::fs::rename(env.auth(), &auth).unwrap();
    // Hermes holds the lock (auth.lock beside the auth file) while rotor starts.
    let mut holder = crate::lock::hold_lock(&home.join("auth.lock"), 60.0);
    let mut rotor = env
        .command()
        .args([
            "--auth-file",
            auth.to_str().unwrap(),
            "--lock-timeout",
            "60",
        ])
        .args(SET)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = std::io::BufReader::new(rotor.stderr.take().unwrap());
    let mut line = String::new();
    std::io::BufRead::read_line(&mut stderr, &mut line).unwrap();
    assert!(line.contains("waiting for the lock"), "{line}");
    // While rotor waits, the directory is moved away (an operator's `mv`, a volume going).
    let moved: PathBuf = env.dir.path().join("moved");
    std::fs::rename(&home, &moved).unwrap();
    holder.kill().unwrap();
    holder.wait().unwrap();
    let status = rotor.wait().unwrap();
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut stderr, &mut rest).unwrap();
    assert_eq!(status.code(), Some(7), "{rest}");
    assert!(
        rest.starts_with("rotor: cannot read ") && rest.contains("No such file or directory"),
        "{rest}"
    );
    assert!(!home.exists(), "rotor re-created the vanished directory");
    assert_eq!(std::fs::read(moved.join("auth.json")).unwrap(), before);
    assert_eq!(others(&moved), Vec::<String>::new());
}

#[test]
fn a_missing_directory_fails_cleanly() {
    let env = Env::with_fixture("fresh.json");
    let gone = env.dir.path().join("gone");
    let auth = gone.join("auth.json");
    let mut args = vec!["--auth-file", auth.to_str().unwrap()];
    args.extend_from_slice(SET);
    let run = env.run(&args);
    run.expect_code(7);
    assert!(
        run.stderr.contains("No such file or directory"),
        "{}",
        run.stderr
    );
    assert!(!gone.exists());
}
