//! The system calls of one update, seen with strace (docs/locking-and-writes.md): take the lock, write a temp
//! file, fsync it, rename it over auth.json, fsync the directory, release the lock; auth.json
//! itself is never opened for writing, truncated or written in place. Skipped, with a message,
//! where strace is missing or cannot trace.

use crate::common::*;

/// One traced call: its name, argument text (with `-y` paths), and result.
#[derive(Debug)]
struct Call {
    name: String,
    args: String,
    ret: String,
}

fn parse(trace: &str) -> Vec<Call> {
    trace
        .lines()
        .filter_map(|line| {
            let line = line.split_once(' ')?.1.trim_start(); // drop the pid
            let (name, rest) = line.split_once('(')?;
            // strace pads short calls with spaces before ` = `.
            let (args, ret) = rest.rsplit_once(" = ")?;
            let args = args.trim_end().strip_suffix(')')?;
            Some(Call {
                name: name.to_string(),
                args: args.to_string(),
                ret: ret.to_string(),
            })
        })
        .collect()
}

fn position(calls: &[Call], what: &str, test: impl Fn(&Call) -> bool) -> usize {
    calls
        .iter()
        .position(test)
        .unwrap_or_else(|| panic!("no {what} in the trace:\n{calls:#?}"))
}

#[test]
fn one_update_is_lock_temp_fsync_rename_fsync_dir_unlock() {
    let env = Env::with_fixture("fresh.json");
    let out = env.dir.path().join("strace.out");
    let traced = env
        .command_of("strace")
        .args(["-f", "-qq", "-y", "-s", "8", "-o"])
        .arg(&out)
        .args([
            "-e",
            "trace=open,openat,creat,flock,write,pwrite64,writev,fsync,fdatasync,\
             rename,renameat,renameat2,truncate,ftruncate",
        ])
        .arg(&*BIN)
        .args(["cooldown", "set", "openai-codex#1", "--for", "1h"])
        .output();
    let traced = match traced {
        Ok(output) => Run::from(output),
        Err(e) => {
            prerequisite("strace, to see the syscalls", Err(e.to_string()));
            return;
        }
    };
    if traced.code != 0 && traced.stderr.contains("ptrace") {
        prerequisite("ptrace, for strace", Err(traced.stderr.clone()));
        return;
    }
    traced.expect_code(0);
    let calls = parse(&std::fs::read_to_string(&out).unwrap());
    let dir = env.dir.path().display().to_string();
    let auth = format!("{dir}/auth.json");
    let lock = format!("{dir}/auth.lock");
    let temp = format!("{dir}/auth.json.tmp.");

    let locked = position(&calls, "flock LOCK_EX", |c| {
        c.name == "flock"
            && c.args.contains(&format!("<{lock}>"))
            && c.args.contains("LOCK_EX")
            && c.ret.starts_with('0')
    });
    let created = position(&calls, "temp file creation", |c| {
        c.name == "openat"
            && c.args.contains(&format!("\"{temp}"))
            && c.args.contains("O_EXCL")
            && c.args.contains("0600")
    });
    let writes: Vec<usize> = (0..calls.len())
        .filter(|i| calls[*i].name.starts_with("write") || calls[*i].name == "pwrite64")
        .filter(|i| calls[*i].args.contains(&format!("<{temp}")))
        .collect();
    assert!(!writes.is_empty(), "no write to the temp file");
    let synced = position(&calls, "fsync of the temp file", |c| {
        (c.name == "fsync" || c.name == "fdatasync") && c.args.contains(&format!("<{temp}"))
    });
    let renamed = position(&calls, "rename over auth.json", |c| {
        c.name.starts_with("rename")
            && c.args.contains(&format!("\"{temp}"))
            && c.args.ends_with(&format!("\"{auth}\""))
            && c.ret.starts_with('0')
    });
    let dir_synced = position(&calls, "fsync of the directory", |c| {
        c.name == "fsync" && c.args == format!("{}<{dir}>", c.args.split('<').next().unwrap())
    });
    let unlocked = position(&calls, "flock LOCK_UN", |c| {
        c.name == "flock" && c.args.contains(&format!("<{lock}>")) && c.args.contains("LOCK_UN")
    });
    let last_write = *writes.last().unwrap();
    let order = [
        locked, created, writes[0], synced, renamed, dir_synced, unlocked,
    ];
    assert!(last_write < synced, "a write after the fsync: {calls:#?}");
    assert!(
        order.windows(2).all(|w| w[0] < w[1]),
        "order lock, create temp, write, fsync, rename, fsync dir, unlock broken: {order:?}\n{calls:#?}"
    );
    for c in &calls {
        let on_auth =
            c.args.contains(&format!("\"{auth}\"")) || c.args.contains(&format!("<{auth}>"));
        let opened_for_writing = (c.name.starts_with("open") || c.name == "creat")
            && c.args.starts_with("AT_FDCWD")
            && c.args.contains(&format!("\"{auth}\""))
            && (c.args.contains("O_WRONLY")
                || c.args.contains("O_RDWR")
                || c.args.contains("O_TRUNC"));
        assert!(!opened_for_writing, "auth.json opened for writing: {c:?}");
        assert!(
            !(on_auth
                && (c.name.contains("truncate")
                    || c.name.starts_with("write")
                    || c.name == "pwrite64")),
            "auth.json written in place: {c:?}"
        );
    }
    eprintln!(
        "syscalls: {} traced calls, order ok, no O_TRUNC on auth.json",
        calls.len()
    );
}
