//! `rotor serve` as its users run it: a process listening on a free loopback port of an
//! [`Env`], talked to over real HTTP, stopped with SIGTERM. Its stderr (the JSON trace and its
//! own notes) is collected as it comes; when it stops, everything it printed is checked for
//! secrets like every other run of the suite, the serve key included.

use crate::common::*;
use crate::fake::FakeServer;
use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::process::{Child, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub struct Gateway<'e> {
    env: &'e Env,
    child: Option<Child>,
    /// `http://127.0.0.1:PORT`
    pub url: String,
    pub key: String,
    lines: Arc<Mutex<Vec<String>>>,
    reader: Option<std::thread::JoinHandle<()>>,
}

/// An HTTP answer as a client got it.
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Answer {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }
}

impl<'e> Gateway<'e> {
    /// `rotor serve --listen 127.0.0.1:0 --trace json ARGS` in `env`, once it listens.
    pub fn start(env: &'e Env, args: &[&str]) -> Gateway<'e> {
        Gateway::start_with_env(env, args, &[])
    }

    /// [`Gateway::start`] with every upstream URL pointing at `upstream` (`/v1` under it) and
    /// short waits.
    pub fn with_upstream(env: &'e Env, upstream: &FakeServer, extra: &[&str]) -> Gateway<'e> {
        let base = format!("{}/v1", upstream.url);
        let token = format!("{}/oauth/token", upstream.url);
        let mut args = vec!["--base-url", &base, "--token-url", &token];
        for (flag, default) in [("--max-wait", "0.05s"), ("--timeout", "5s")] {
            if !extra.contains(&flag) {
                args.extend([flag, default]);
            }
        }
        args.extend_from_slice(extra);
        Gateway::start(env, &args)
    }

    pub fn start_with_env(env: &'e Env, args: &[&str], vars: &[(&str, &str)]) -> Gateway<'e> {
        let mut command = env.command();
        command
            .args(["serve", "--listen", "127.0.0.1:0", "--trace", "json"])
            .args(args)
            .envs(vars.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        let mut child = command.spawn().unwrap();
        let stderr = child.stderr.take().unwrap();
        let lines = Arc::new(Mutex::new(Vec::new()));
        let sink = lines.clone();
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                sink.lock().unwrap().push(line);
            }
        });
        let mut gateway = Gateway {
            env,
            child: Some(child),
            url: String::new(),
            key: String::new(),
            lines,
            reader: Some(reader),
        };
        let start = Instant::now();
        loop {
            let listening = gateway.stderr().lines().find_map(|l| {
                let rest = l.strip_prefix("rotor: listening on ")?;
                Some(rest.split_whitespace().next()?.to_string())
            });
            if let Some(url) = listening {
                gateway.url = url;
                break;
            }
            let exited = gateway.child.as_mut().unwrap().try_wait().unwrap();
            assert!(
                exited.is_none() && start.elapsed() < Duration::from_secs(20),
                "rotor serve did not start ({exited:?}):\n{}",
                gateway.stderr()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        gateway.key = std::fs::read_to_string(gateway.key_file())
            .unwrap()
            .trim()
            .to_string();
        gateway
    }

    pub fn key_file(&self) -> std::path::PathBuf {
        self.env.dir.path().join("rotor-serve.key")
    }

    /// Everything on stderr so far.
    pub fn stderr(&self) -> String {
        self.lines.lock().unwrap().join("\n")
    }

    /// The JSON events so far.
    pub fn events(&self) -> Vec<Value> {
        self.lines
            .lock()
            .unwrap()
            .iter()
            .filter(|l| l.starts_with('{'))
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect()
    }

    /// Events named `name`.
    pub fn events_named(&self, name: &str) -> Vec<Value> {
        self.events()
            .into_iter()
            .filter(|e| e["event"] == name)
            .collect()
    }

    /// Waits until `count` events named `name` were written (at most `within`).
    #[track_caller]
    pub fn wait_for(&self, name: &str, count: usize, within: Duration) -> Vec<Value> {
        let start = Instant::now();
        loop {
            let found = self.events_named(name);
            if found.len() >= count {
                return found;
            }
            assert!(
                start.elapsed() < within,
                "{count} `{name}` events did not come within {within:?}:\n{}",
                self.stderr()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// A POST of `body` to `path` with the key as a bearer token.
    pub fn post(&self, path: &str, body: &str) -> Answer {
        let auth = format!("Bearer {}", self.key);
        self.request("POST", path, &[("authorization", &auth)], body)
    }

    /// A GET of `path` with the key.
    pub fn get(&self, path: &str) -> Answer {
        let auth = format!("Bearer {}", self.key);
        self.request("GET", path, &[("authorization", &auth)], "")
    }

    /// Any request, with exactly these headers.
    pub fn request(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &str,
    ) -> Answer {
        http(method, &format!("{}{path}", self.url), headers, body)
    }

    /// SIGTERM; waits for the exit (at most 60 s); checks what it printed for secrets.
    pub fn stop(mut self) -> Run {
        let mut child = self.child.take().unwrap();
        signal(&child, "TERM");
        let start = Instant::now();
        let status = loop {
            if let Some(status) = child.try_wait().unwrap() {
                break status;
            }
            if start.elapsed() > Duration::from_secs(60) {
                let _ = child.kill();
                panic!("rotor serve did not stop on SIGTERM:\n{}", self.stderr());
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        if let Some(reader) = self.reader.take() {
            let _ = reader.join();
        }
        let run = Run {
            code: status.code().unwrap_or(-1),
            stdout: String::new(),
            stderr: self.stderr(),
        };
        let mut secrets = crate::secrets::Secrets::of_env(self.env);
        secrets.add_token(&self.key);
        secrets.assert_clean(&run, self.env);
        run
    }

    /// The pid, for signals.
    pub fn pid(&self) -> u32 {
        self.child.as_ref().unwrap().id()
    }
}

impl Drop for Gateway<'_> {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Sends `SIG<name>` to `child`.
pub fn signal(child: &Child, name: &str) {
    let _ = std::process::Command::new("kill")
        .args([&format!("-{name}"), &child.id().to_string()])
        .status();
}

/// One HTTP request with reqwest (no proxy, no retries), on a runtime of its own.
pub fn http(method: &str, url: &str, headers: &[(&str, &str)], body: &str) -> Answer {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    // rotor's reqwest ships without a default TLS provider; plain HTTP still wants one set.
    let _ = rustls::crypto::ring::default_provider().install_default();
    runtime.block_on(async {
        let client = reqwest::Client::builder()
            .no_proxy()
            .timeout(Duration::from_secs(60))
            .build()
            .unwrap();
        let mut request = client.request(method.parse().unwrap(), url);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        if !body.is_empty() {
            request = request
                .header("content-type", "application/json")
                .body(body.to_string());
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let headers = response
            .headers()
            .iter()
            .map(|(n, v)| {
                (
                    n.as_str().to_string(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect();
        let body = response.text().await.unwrap_or_default();
        Answer {
            status,
            headers,
            body,
        }
    })
}

/// The `rotor_serve_*` and `rotor_profile_*` samples of a `/metrics` answer, as
/// `name{labels}` → value, after checking the OpenMetrics text is well formed: one block per
/// family, a TYPE for each, samples of their family, `# EOF` last.
pub fn metrics(text: &str) -> std::collections::BTreeMap<String, f64> {
    let mut samples = std::collections::BTreeMap::new();
    let mut typed: Vec<(String, String)> = Vec::new();
    assert!(
        text.ends_with("# EOF\n"),
        "OpenMetrics ends with # EOF:\n{text}"
    );
    for line in text.lines() {
        if line == "# EOF" {
            continue;
        }
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').unwrap();
            assert!(
                !typed.iter().any(|(n, _)| n == name),
                "family {name} twice:\n{text}"
            );
            typed.push((name.to_string(), kind.to_string()));
            continue;
        }
        if line.starts_with("# HELP ") || line.starts_with("# UNIT ") {
            continue;
        }
        let (series, value) = line.rsplit_once(' ').unwrap();
        let name = series.split('{').next().unwrap();
        let (family, kind) = typed.last().expect("a sample before any TYPE");
        let belongs = match kind.as_str() {
            "counter" => name == format!("{family}_total") || name == format!("{family}_created"),
            "histogram" => ["_bucket", "_sum", "_count", "_created"]
                .iter()
                .any(|s| name == format!("{family}{s}")),
            _ => name == family,
        };
        assert!(
            belongs,
            "sample {name} outside its family {family}:\n{text}"
        );
        samples.insert(series.to_string(), value.parse::<f64>().unwrap());
    }
    samples
}

/// A streamed answer as a client read it: what arrived before the end, and whether the body
/// ended cleanly (`false`: the connection was aborted mid-body).
#[derive(Debug)]
pub struct Streamed {
    pub status: u16,
    pub text: String,
    pub clean_end: bool,
}

/// POSTs `body` and reads the answer chunk by chunk, noting how it ended.
pub fn stream(url: &str, key: &str, body: &str) -> Streamed {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let _ = rustls::crypto::ring::default_provider().install_default();
    runtime.block_on(async {
        let client = reqwest::Client::builder().no_proxy().build().unwrap();
        let mut response = client
            .post(url)
            .header("authorization", format!("Bearer {key}"))
            .header("content-type", "application/json")
            .body(body.to_string())
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        let mut bytes = Vec::new();
        let clean_end = loop {
            match response.chunk().await {
                Ok(Some(chunk)) => bytes.extend_from_slice(&chunk),
                Ok(None) => break true,
                Err(_) => break false,
            }
        };
        Streamed {
            status,
            text: String::from_utf8_lossy(&bytes).into_owned(),
            clean_end,
        }
    })
}
