//! The tools of `bench/run.sh`'s `rotor serve` rows (see PERFORMANCE.md):
//!
//! ```text
//! serve-bench upstream [--listen ADDR] [--threads N] [--delay-us US] [--deltas N] [--silent]
//! serve-bench latency --direct URL --through URL [--key KEY] --api chat|responses
//!                     [--model M] [--instructions BYTES] [--pairs N] [--warmup N]
//! serve-bench load --direct URL --through URL [--key KEY] --api chat|responses [--stream]
//!                  [--concurrency N] [--seconds S] [--rounds N] [--threads N]
//! serve-bench idle --url URL [--key KEY] --api chat|responses --streams N [--warmup N] --pid PID
//! ```
//!
//! `upstream` prints `listening on http://ADDR` and serves until it is killed; the others print
//! one JSON object on stdout. URLs are plain `http://HOST:PORT/PATH` (loopback, no TLS).
//! `--key` is sent as `Authorization: Bearer KEY` to the `--through` (or `--url`) side only.

mod client;
mod upstream;

use std::collections::HashMap;

/// A failure of the bench itself, said on stderr (exit status 2).
#[derive(Debug)]
pub(crate) struct Fail(pub String);

/// `--name value` options and `--flag` switches.
pub(crate) struct Args {
    values: HashMap<String, String>,
    flags: Vec<String>,
}

/// Options that take no value.
const FLAGS: &[&str] = &["silent", "stream"];

impl Args {
    fn parse(words: impl Iterator<Item = String>) -> Result<Args, Fail> {
        let mut values = HashMap::new();
        let mut flags = Vec::new();
        let mut words = words.peekable();
        while let Some(word) = words.next() {
            let Some(name) = word.strip_prefix("--") else {
                return Err(Fail(format!("unexpected argument `{word}`")));
            };
            if FLAGS.contains(&name) {
                flags.push(name.to_owned());
                continue;
            }
            let Some(value) = words.next() else {
                return Err(Fail(format!("--{name} needs a value")));
            };
            values.insert(name.to_owned(), value);
        }
        Ok(Args { values, flags })
    }

    pub(crate) fn text(&self, name: &str, default: &str) -> String {
        self.values
            .get(name)
            .cloned()
            .unwrap_or_else(|| default.to_owned())
    }

    pub(crate) fn required(&self, name: &str) -> Result<String, Fail> {
        self.values
            .get(name)
            .cloned()
            .ok_or_else(|| Fail(format!("--{name} is required")))
    }

    pub(crate) fn optional(&self, name: &str) -> Option<String> {
        self.values.get(name).cloned()
    }

    pub(crate) fn number(&self, name: &str, default: u64) -> Result<u64, Fail> {
        match self.values.get(name) {
            None => Ok(default),
            Some(v) => v
                .parse()
                .map_err(|_| Fail(format!("--{name} {v}: not a whole number"))),
        }
    }

    pub(crate) fn flag(&self, name: &str) -> bool {
        self.flags.iter().any(|f| f == name)
    }
}

/// A tokio runtime of `threads` workers (one: the current thread only).
pub(crate) fn runtime(threads: usize) -> Result<tokio::runtime::Runtime, Fail> {
    let mut builder = if threads <= 1 {
        tokio::runtime::Builder::new_current_thread()
    } else {
        let mut builder = tokio::runtime::Builder::new_multi_thread();
        builder.worker_threads(threads);
        builder
    };
    builder
        .enable_all()
        .build()
        .map_err(|e| Fail(format!("cannot start the runtime: {e}")))
}

fn main() {
    let mut words = std::env::args().skip(1);
    let command = words.next().unwrap_or_default();
    let result = Args::parse(words).and_then(|args| match command.as_str() {
        "upstream" => upstream::run(&args),
        "latency" => client::latency(&args),
        "load" => client::load(&args),
        "idle" => client::idle(&args),
        _ => Err(Fail(
            "usage: serve-bench upstream|latency|load|idle [OPTIONS] (see src/main.rs)".into(),
        )),
    });
    if let Err(Fail(message)) = result {
        eprintln!("serve-bench {command}: {message}");
        std::process::exit(2);
    }
}
