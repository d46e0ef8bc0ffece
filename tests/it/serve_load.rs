//! `rotor serve` under load with random upstream failures: a thousand requests at 64 in
//! flight, every one ending in a documented way, no state write lost, memory flat.

use crate::common::*;
use crate::fake::{FakeServer, Reply};
use crate::gateway::{Gateway, stream};
use serde_json::json;
use std::collections::BTreeMap;
use std::time::Duration;

const ACCOUNTS: [&str; 3] = ["acct-0001", "acct-0002", "acct-0003"];
const RESPONSES: &str = "/v1/responses";
const REQUESTS: usize = 1000;
const IN_FLIGHT: usize = 64;

/// One upstream answer drawn at random: mostly fine, else every kind of failure.
fn random_reply(rng: &mut fastrand::Rng, n: usize) -> Reply {
    let failed_before_output = || Reply::Stream {
        pieces: vec![(
            Duration::ZERO,
            format!(
                "event: response.failed\ndata: {}\n\n",
                json!({"type": "response.failed", "response": {"error": {"code": "server_error", "message": "boom"}}})
            ),
        )],
        reset: false,
    };
    match rng.u32(0..100) {
        0..70 => Reply::codex_text(&format!("answer {n}")),
        70..80 => Reply::json(503, r#"{"error":{"message":"overloaded"}}"#),
        80..85 => Reply::codex_cut_after("half an answer", true),
        85..90 => failed_before_output(),
        90..95 => Reply::json(400, r#"{"error":{"type":"invalid_request_error","message":"bad"}}"#),
        95..98 => Reply::json(429, r#"{"error":{"type":"rate_limit_exceeded","message":"slow down"}}"#),
        _ => Reply::json(
            429,
            &json!({"error": {"type": "usage_limit_reached", "message": "limit", "resets_in_seconds": 1}})
                .to_string(),
        ),
    }
}

fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap()
}

#[test]
fn a_thousand_requests_with_random_failures_end_in_documented_ways_and_lose_no_write() {
    let env = Env::with_fixture("fresh.json");
    let server = FakeServer::start();
    let mut rng = fastrand::Rng::with_seed(20261202);
    for account in ACCOUNTS {
        let script: Vec<Reply> = (0..4 * REQUESTS)
            .map(|n| random_reply(&mut rng, n))
            .collect();
        server.on_header(RESPONSES, "chatgpt-account-id", account, script);
    }
    let gateway = Gateway::with_upstream(&env, &server, &["--max-wait", "0.02s"]);
    let url = format!("{}{RESPONSES}", gateway.url);
    let body = r#"{"model":"gpt-5.5","input":"hi","stream":true}"#;
    let next = std::sync::atomic::AtomicUsize::new(0);
    let mut rss = Vec::new();
    let endings: Vec<String> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..IN_FLIGHT)
            .map(|_| {
                scope.spawn(|| {
                    let mut seen = Vec::new();
                    while next.fetch_add(1, std::sync::atomic::Ordering::SeqCst) < REQUESTS {
                        let got = stream(&url, &gateway.key, body);
                        let ending = match (got.status, got.clean_end) {
                            (200, true) if got.text.contains("response.completed") => "success",
                            // Broken after output: the API's error event, then an abort.
                            (200, false) if got.text.contains("stream_interrupted") => "broken",
                            (503, true) if got.text.contains("upstream_unavailable") => {
                                "unavailable"
                            }
                            (429, true) if got.text.contains("pool_exhausted") => "exhausted",
                            (400, true) if got.text.contains("invalid_request_error") => "rejected",
                            other => panic!("undocumented ending {other:?}: {}", got.text),
                        };
                        seen.push(ending.to_string());
                    }
                    seen
                })
            })
            .collect();
        // Memory after the first fifth, while the rest run.
        while next.load(std::sync::atomic::Ordering::SeqCst) < REQUESTS / 5 {
            std::thread::sleep(Duration::from_millis(5));
        }
        rss.push(rss_kib(gateway.pid()));
        workers
            .into_iter()
            .flat_map(|w| w.join().unwrap())
            .collect()
    });
    rss.push(rss_kib(gateway.pid()));
    assert_eq!(endings.len(), REQUESTS);
    let mut by_ending: BTreeMap<&str, usize> = BTreeMap::new();
    for ending in &endings {
        *by_ending.entry(ending.as_str()).or_default() += 1;
    }
    let ends = gateway.wait_for("request_end", REQUESTS, Duration::from_secs(10));
    let mut by_outcome: BTreeMap<String, usize> = BTreeMap::new();
    for end in &ends {
        *by_outcome
            .entry(end["outcome"].as_str().unwrap().to_string())
            .or_default() += 1;
    }
    let count = |m: &BTreeMap<&str, usize>, k: &str| m.get(k).copied().unwrap_or(0);
    let outcome = |k: &str| by_outcome.get(k).copied().unwrap_or(0);
    // What the clients saw is what the trace says, request for request.
    assert_eq!(
        outcome("success"),
        count(&by_ending, "success"),
        "{by_ending:?} {by_outcome:?}"
    );
    assert_eq!(
        outcome("upstream_unavailable"),
        count(&by_ending, "unavailable") + count(&by_ending, "broken"),
        "{by_ending:?} {by_outcome:?}"
    );
    assert_eq!(outcome("pool_exhausted"), count(&by_ending, "exhausted"));
    assert_eq!(outcome("request_rejected"), count(&by_ending, "rejected"));
    assert!(count(&by_ending, "success") > REQUESTS / 2, "{by_ending:?}");
    gateway.stop().expect_code(0);
    // Every success was counted in auth.json: no write lost to coalescing or reloads.
    let stored: u64 = env.auth_json()["credential_pool"]["openai-codex"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["request_count"].as_u64().unwrap())
        .sum();
    assert_eq!(stored, count(&by_ending, "success") as u64);
    let growth = rss[1].saturating_sub(rss[0]);
    eprintln!(
        "load: {by_ending:?}; RSS {} KiB after {} requests, {} KiB after {REQUESTS}",
        rss[0],
        REQUESTS / 5,
        rss[1]
    );
    assert!(
        growth < 8 * 1024,
        "memory grew by {growth} KiB over 800 requests"
    );
}
