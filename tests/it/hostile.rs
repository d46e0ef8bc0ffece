//! Malformed and adversarial auth.json files (docs/locking-and-writes.md "invalid input is never overwritten"):
//! each gives a clear one-line error naming the file, exit code 7, no panic, and leaves the file
//! byte-identical with no temp file beside it. And a symlinked auth.json is written through.

use crate::common::*;
use serde_json::json;

fn fresh_text() -> String {
    String::from_utf8(fixture_bytes("fresh.json")).unwrap()
}

/// `fresh.json` with its first `from` replaced by `to`.
fn patched(from: &str, to: &str) -> Vec<u8> {
    let text = fresh_text();
    assert!(text.contains(from), "{from}");
    text.replacen(from, to, 1).into_bytes()
}

fn hostile_files() -> Vec<(&'static str, Vec<u8>, &'static str)> {
    let deep = format!("{{\"x\": {}1{}}}", "[".repeat(100_000), "]".repeat(100_000));
    let mut non_utf8 = patched("pro@example.com", "pro@example.com\u{1}");
    let at = non_utf8.iter().position(|b| *b == 1).unwrap();
    non_utf8[at] = 0xff;
    let mut huge = b"{\"credential_pool\": {}, \"padding\": \"".to_vec();
    huge.resize(50 << 20, b'a');
    huge.extend_from_slice(b"\"}\n");
    vec![
        (
            "huge integer",
            patched(
                "\"priority\": 0,",
                "\"priority\": 123456789012345678901234567890,",
            ),
            "credential_pool.openai-codex[0].priority: expected an integer",
        ),
        (
            "huge exponent",
            patched("\"request_count\": 0", "\"request_count\": 1e999999"),
            "credential_pool.openai-codex[0].request_count: expected an integer",
        ),
        (
            "deep nesting",
            deep.into_bytes(),
            "recursion limit exceeded",
        ),
        (
            "pool is a list",
            br#"{"credential_pool": []}"#.to_vec(),
            "credential_pool: expected an object",
        ),
        (
            "id is a number",
            patched("\"id\": \"a1b2c3\"", "\"id\": 7"),
            "credential_pool.openai-codex[0].id: expected a string",
        ),
        (
            "token is an object",
            patched(
                "\"refresh_token\": \"rt_fake_refresh_1\"",
                "\"refresh_token\": {}",
            ),
            "credential_pool.openai-codex[0].refresh_token: expected a string",
        ),
        (
            "top level is a list",
            b"[1, 2, 3]".to_vec(),
            "top level: expected a JSON object",
        ),
        (
            "duplicate ids",
            patched("\"id\": \"d4e5f6\"", "\"id\": \"a1b2c3\""),
            "appears twice",
        ),
        ("non-UTF-8", non_utf8, "invalid JSON"),
        ("NUL bytes", b"{\"a\":\0}".to_vec(), "invalid JSON"),
        ("empty", Vec::new(), "invalid JSON"),
        (
            "truncated",
            fixture_bytes("fresh.json")[..1000].to_vec(),
            "invalid JSON",
        ),
        ("50 MB", huge, "larger than 16 MiB"),
    ]
}

#[test]
fn adversarial_files_give_a_clear_error_and_stay_unchanged() {
    for (what, bytes, expected) in hostile_files() {
        let env = Env::with_auth_bytes(&bytes);
        for args in [
            &["cooldown", "set", "openai-codex#1", "--for", "1h"][..],
            &["cooldown", "clear", "--all"],
            &["profiles", "list", "--format", "json"],
        ] {
            let run = env.run(args);
            assert_eq!(run.code, 7, "{what}: {args:?}\n{}", run.stderr);
            let first = run.stderr.lines().next().unwrap_or_default();
            assert!(
                first.starts_with("rotor: ")
                    && first.contains(&env.auth().display().to_string())
                    && first.contains(expected),
                "{what}: {first}"
            );
            assert_eq!(run.stderr.lines().count(), 1, "{what}: {}", run.stderr);
            assert!(run.stdout.is_empty(), "{what}: {}", run.stdout);
            assert!(env.read_auth() == bytes, "{what}: the file changed");
        }
        let names: Vec<String> = std::fs::read_dir(env.dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .filter(|n| n != "auth.json" && n != "auth.lock")
            .collect();
        assert_eq!(names, Vec::<String>::new(), "{what}: files left");
    }
}

#[test]
fn a_symlinked_auth_json_is_written_through_and_the_link_kept() {
    let env = Env::with_fixture("fresh.json");
    let real_dir = env.dir.path().join("real");
    std::fs::create_dir(&real_dir).unwrap();
    let target = real_dir.join("hermes-auth.json");
    std::fs::rename(env.auth(), &target).unwrap();
    std::os::unix::fs::symlink("real/hermes-auth.json", env.auth()).unwrap();
    env.run(&[
        "cooldown",
        "set",
        "openai-codex#2",
        "--for",
        "1h",
        "--reason",
        "linked",
    ])
    .expect_code(0);
    let meta = std::fs::symlink_metadata(env.auth()).unwrap();
    assert!(
        meta.file_type().is_symlink(),
        "the link was replaced by a file"
    );
    assert_eq!(
        std::fs::read_link(env.auth()).unwrap(),
        std::path::Path::new("real/hermes-auth.json")
    );
    let doc: serde_json::Value = serde_json::from_slice(&std::fs::read(&target).unwrap()).unwrap();
    assert_eq!(
        doc["credential_pool"]["openai-codex"][1]["last_error_message"],
        json!("linked")
    );
    // The temp file was made beside the target (same filesystem for the rename) and is gone.
    let left: Vec<_> = std::fs::read_dir(&real_dir).unwrap().collect();
    assert_eq!(left.len(), 1);
    // The lock is still the sibling of the path Hermes uses, as Hermes computes it.
    assert!(env.lock().exists());
}
