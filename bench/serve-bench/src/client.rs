//! The client side: paired latency (direct to the upstream, then through the gateway, per
//! pair), throughput at N in flight, and N idle streams held open while the gateway's memory
//! is read. Every answer is checked (status 200 and the text the fake upstream sends), so a
//! gateway that answers fast but wrong cannot look good.

use crate::{Args, Fail};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::Request;
use hyper::body::Incoming;
use hyper::client::conn::http1::SendRequest;
use hyper::header::{AUTHORIZATION, CONTENT_TYPE, HOST, HeaderValue};
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::task::JoinSet;

/// Where requests go.
#[derive(Debug, Clone)]
struct Target {
    /// `HOST:PORT`
    addr: String,
    path: String,
    auth: Option<HeaderValue>,
}

impl Target {
    fn parse(url: &str, key: Option<&str>) -> Result<Target, Fail> {
        let rest = url
            .strip_prefix("http://")
            .ok_or_else(|| Fail(format!("{url}: expected http://HOST:PORT/PATH")))?;
        let (addr, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
        let auth = match key {
            Some(key) => Some(
                HeaderValue::from_str(&format!("Bearer {key}"))
                    .map_err(|_| Fail("the key cannot be a header value".into()))?,
            ),
            None => None,
        };
        Ok(Target {
            addr: addr.to_owned(),
            path: if path.is_empty() { "/" } else { path }.to_owned(),
            auth,
        })
    }

    fn request(&self, body: &Bytes) -> Result<Request<Full<Bytes>>, String> {
        let mut builder = Request::post(self.path.as_str())
            .header(HOST, self.addr.as_str())
            .header(CONTENT_TYPE, "application/json");
        if let Some(auth) = &self.auth {
            builder = builder.header(AUTHORIZATION, auth);
        }
        builder
            .body(Full::new(body.clone()))
            .map_err(|e| e.to_string())
    }
}

/// What one API's requests look like, and what their answers must hold.
#[derive(Debug, Clone)]
struct Api {
    whole: Bytes,
    streamed: Bytes,
    /// In a non-streamed answer.
    whole_has: &'static [u8],
    /// In a whole streamed answer (its end).
    stream_has: &'static [u8],
    /// In a streamed answer once its first output has arrived.
    first_output_has: &'static [u8],
}

impl Api {
    fn of(args: &Args) -> Result<Api, Fail> {
        let model = args.text("model", "gpt-5.5");
        // `--instructions BYTES`: a system prompt that long (agents send several KB; the
        // Responses API echoes it in its response objects).
        let mut instructions = String::from("You answer benchmark requests.");
        let long = args.number("instructions", 0)? as usize;
        while instructions.len() < long {
            instructions.push_str(" Answer briefly and exactly what is asked.");
        }
        let body = |api: &str, stream: bool| -> Result<Bytes, Fail> {
            let value: Value = match api {
                "responses" => json!({
                    "model": model,
                    "instructions": instructions,
                    "input": [{"role": "user", "content": [{"type": "input_text", "text": "Say hello."}]}],
                    "stream": stream,
                    "store": false,
                }),
                "chat" => json!({
                    "model": model,
                    "messages": [{"role": "user", "content": "Say hello."}],
                    "stream": stream,
                }),
                other => return Err(Fail(format!("--api {other}: expected chat or responses"))),
            };
            Ok(Bytes::from(value.to_string()))
        };
        let api = args.required("api")?;
        let (stream_has, first_output_has): (&[u8], &[u8]) = if api == "responses" {
            (b"response.completed", b"response.output_text.delta")
        } else {
            (b"[DONE]", b"\"content\":\"Hello\"")
        };
        Ok(Api {
            whole: body(&api, false)?,
            streamed: body(&api, true)?,
            whole_has: b"Hello from the bench.",
            stream_has,
            first_output_has,
        })
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// Opens a keep-alive HTTP/1.1 connection.
async fn connect(addr: &str) -> Result<SendRequest<Full<Bytes>>, String> {
    let stream = tokio::net::TcpStream::connect(addr)
        .await
        .map_err(|e| format!("cannot connect to {addr}: {e}"))?;
    let _ = stream.set_nodelay(true);
    let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| format!("handshake with {addr}: {e}"))?;
    tokio::spawn(async move {
        let _ = connection.await;
    });
    Ok(sender)
}

/// Times of one exchange, from just before the request is written.
#[derive(Debug, Clone, Copy)]
struct Timing {
    first_byte: Duration,
    total: Duration,
}

/// A connection to one target, opened again when the server closed it.
struct Conn {
    target: Target,
    sender: Option<SendRequest<Full<Bytes>>>,
    /// The answer so far (reused).
    seen: Vec<u8>,
}

impl Conn {
    fn new(target: Target) -> Conn {
        Conn {
            target,
            sender: None,
            seen: Vec::with_capacity(8192),
        }
    }

    async fn ready(&mut self) -> Result<&mut SendRequest<Full<Bytes>>, String> {
        let open = self.sender.as_ref().is_some_and(|s| !s.is_closed());
        if !open {
            self.sender = Some(connect(&self.target.addr).await?);
        }
        let Some(sender) = self.sender.as_mut() else {
            return Err("no connection".into());
        };
        sender.ready().await.map_err(|e| e.to_string())?;
        Ok(sender)
    }

    /// One request, read to its end; the answer must be a 200 holding `expect`.
    async fn exchange(&mut self, body: &Bytes, expect: &[u8]) -> Result<Timing, String> {
        let request = self.target.request(body)?;
        let result = self.send(request, expect).await;
        if result.is_err() {
            self.sender = None;
        }
        result
    }

    async fn send(
        &mut self,
        request: Request<Full<Bytes>>,
        expect: &[u8],
    ) -> Result<Timing, String> {
        let sender = self.ready().await?;
        let start = Instant::now();
        let response = sender
            .send_request(request)
            .await
            .map_err(|e| e.to_string())?;
        let status = response.status();
        let mut body = response.into_body();
        let mut first_byte = None;
        self.seen.clear();
        while let Some(frame) = body.frame().await {
            let frame = frame.map_err(|e| format!("the answer broke off: {e}"))?;
            if let Ok(data) = frame.into_data()
                && !data.is_empty()
            {
                first_byte.get_or_insert_with(|| start.elapsed());
                self.seen.extend_from_slice(&data);
            }
        }
        let total = start.elapsed();
        if status != 200 || !contains(&self.seen, expect) {
            return Err(format!(
                "{} answered {status}: {}",
                self.target.path,
                String::from_utf8_lossy(&self.seen[..self.seen.len().min(300)])
            ));
        }
        Ok(Timing {
            first_byte: first_byte.unwrap_or(total),
            total,
        })
    }
}

/// The `q` quantile (nearest rank) of `values`, sorted.
fn quantile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = (q * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn sorted(mut values: Vec<f64>) -> Vec<f64> {
    values.sort_by(f64::total_cmp);
    values
}

/// Paired samples (ms) of one kind of request: direct and through, pair by pair.
#[derive(Default)]
struct Pairs {
    direct: Vec<f64>,
    through: Vec<f64>,
}

impl Pairs {
    fn push(&mut self, direct: Duration, through: Duration) {
        self.direct.push(direct.as_secs_f64() * 1e3);
        self.through.push(through.as_secs_f64() * 1e3);
    }

    fn summary(&self) -> Value {
        let added = sorted(
            self.through
                .iter()
                .zip(&self.direct)
                .map(|(t, d)| t - d)
                .collect(),
        );
        let direct = sorted(self.direct.clone());
        let through = sorted(self.through.clone());
        json!({
            "pairs": added.len(),
            "direct_p50_ms": quantile(&direct, 0.5),
            "direct_p99_ms": quantile(&direct, 0.99),
            "through_p50_ms": quantile(&through, 0.5),
            "through_p99_ms": quantile(&through, 0.99),
            "added_p50_ms": quantile(&added, 0.5),
            "added_p90_ms": quantile(&added, 0.9),
            "added_p99_ms": quantile(&added, 0.99),
        })
    }
}

/// `latency`: per pair, a non-streamed request direct then through, then a streamed one direct
/// then through (time to the first byte of the body). A pair in which either request failed
/// is measured again (a server that closed an idle keep-alive connection); the count is
/// reported.
pub(crate) fn latency(args: &Args) -> Result<(), Fail> {
    let key = args.optional("key");
    let direct = Target::parse(&args.required("direct")?, None)?;
    let through = Target::parse(&args.required("through")?, key.as_deref())?;
    let api = Api::of(args)?;
    let pairs = args.number("pairs", 2000)? as usize;
    let warmup = args.number("warmup", 200)? as usize;
    let report = crate::runtime(1)?.block_on(async move {
        let mut d = Conn::new(direct);
        let mut t = Conn::new(through);
        let mut whole = Pairs::default();
        let mut streamed = Pairs::default();
        let mut redone = 0usize;
        let mut n = 0usize;
        while n < warmup + pairs {
            let once = async {
                let dw = d.exchange(&api.whole, api.whole_has).await?;
                let tw = t.exchange(&api.whole, api.whole_has).await?;
                let ds = d.exchange(&api.streamed, api.stream_has).await?;
                let ts = t.exchange(&api.streamed, api.stream_has).await?;
                Ok::<_, String>((dw, tw, ds, ts))
            };
            match once.await {
                Ok((dw, tw, ds, ts)) => {
                    if n >= warmup {
                        whole.push(dw.total, tw.total);
                        streamed.push(ds.first_byte, ts.first_byte);
                    }
                    n += 1;
                }
                Err(e) if redone < 10 => {
                    eprintln!("serve-bench latency: measuring a pair again: {e}");
                    redone += 1;
                }
                Err(e) => return Err(Fail(e)),
            }
        }
        Ok(json!({
            "whole": whole.summary(),
            "stream_first_byte": streamed.summary(),
            "redone_pairs": redone,
        }))
    })?;
    println!("{report}");
    Ok(())
}

/// What one round of load did.
#[derive(Debug, Default, Clone, Copy)]
struct Round {
    /// Answers completed within the round.
    done: u64,
    /// Every answer, also those completed after the round's end (what the server did).
    answered: u64,
    failed: u64,
}

/// One round of load: `concurrency` connections, each sending its next request as soon as the
/// last one is answered, for `length`.
async fn round(
    target: &Target,
    body: &Bytes,
    expect: &'static [u8],
    concurrency: usize,
    length: Duration,
) -> Round {
    let start = Instant::now();
    let end = start + length;
    let mut tasks = JoinSet::new();
    for _ in 0..concurrency {
        let mut conn = Conn::new(target.clone());
        let body = body.clone();
        tasks.spawn(async move {
            let mut round = Round::default();
            while Instant::now() < end {
                match conn.exchange(&body, expect).await {
                    Ok(_) => {
                        round.answered += 1;
                        if Instant::now() <= end {
                            round.done += 1;
                        }
                    }
                    Err(e) => {
                        if round.failed == 0 {
                            eprintln!("serve-bench load: {e}");
                        }
                        round.failed += 1;
                    }
                }
            }
            round
        });
    }
    let mut total = Round::default();
    while let Some(joined) = tasks.join_next().await {
        if let Ok(r) = joined {
            total.done += r.done;
            total.answered += r.answered;
            total.failed += r.failed;
        }
    }
    total
}

/// `load`: rounds direct and through, alternating (after one unrecorded warm-up round of each),
/// so that drift of the machine's load affects both alike.
pub(crate) fn load(args: &Args) -> Result<(), Fail> {
    let key = args.optional("key");
    let direct = Target::parse(&args.required("direct")?, None)?;
    let through = Target::parse(&args.required("through")?, key.as_deref())?;
    let api = Api::of(args)?;
    let (body, expect) = if args.flag("stream") {
        (api.streamed.clone(), api.stream_has)
    } else {
        (api.whole.clone(), api.whole_has)
    };
    let concurrency = args.number("concurrency", 64)? as usize;
    let length = Duration::from_millis(args.number("round-ms", 3000)?);
    let rounds = args.number("rounds", 3)?;
    let threads = args.number("threads", 1)? as usize;
    let report = crate::runtime(threads)?.block_on(async move {
        let warm = Duration::from_millis(500);
        let mut direct_answered = round(&direct, &body, expect, concurrency, warm)
            .await
            .answered;
        let mut through_answered = round(&through, &body, expect, concurrency, warm)
            .await
            .answered;
        let mut direct_rates = Vec::new();
        let mut through_rates = Vec::new();
        let mut failed = 0;
        let secs = length.as_secs_f64();
        for _ in 0..rounds {
            let r = round(&direct, &body, expect, concurrency, length).await;
            direct_rates.push(r.done as f64 / secs);
            direct_answered += r.answered;
            failed += r.failed;
            let r = round(&through, &body, expect, concurrency, length).await;
            through_rates.push(r.done as f64 / secs);
            through_answered += r.answered;
            failed += r.failed;
        }
        let direct_median = quantile(&sorted(direct_rates.clone()), 0.5);
        let through_median = quantile(&sorted(through_rates.clone()), 0.5);
        json!({
            "concurrency": concurrency,
            "round_s": length.as_secs_f64(),
            "direct_rps": direct_rates,
            "through_rps": through_rates,
            "direct_median_rps": direct_median,
            "through_median_rps": through_median,
            // Every answer of the run, warm-up rounds included (the work each side did).
            "direct_answered": direct_answered,
            "through_answered": through_answered,
            "failed": failed,
        })
    });
    println!("{report}");
    Ok(())
}

/// A streamed answer held open: its connection, and the body left unread after the first
/// output.
struct Held {
    _sender: SendRequest<Full<Bytes>>,
    _body: Incoming,
}

/// Opens `n` streamed requests, at most 64 connecting at once, each read up to its first
/// output (the gateway's commit point) and then left open.
async fn hold(target: &Target, api: &Api, n: usize) -> Result<Vec<Held>, Fail> {
    let gate = Arc::new(tokio::sync::Semaphore::new(64));
    let mut tasks = JoinSet::new();
    for _ in 0..n {
        let target = target.clone();
        let body = api.streamed.clone();
        let expect = api.first_output_has;
        let gate = gate.clone();
        tasks.spawn(async move {
            let _turn = gate.acquire().await.map_err(|e| e.to_string())?;
            let mut sender = connect(&target.addr).await?;
            sender.ready().await.map_err(|e| e.to_string())?;
            let response = sender
                .send_request(target.request(&body)?)
                .await
                .map_err(|e| e.to_string())?;
            if response.status() != 200 {
                return Err(format!("answered {}", response.status()));
            }
            let mut body = response.into_body();
            let mut seen = Vec::new();
            while !contains(&seen, expect) {
                match body.frame().await {
                    Some(Ok(frame)) => {
                        if let Ok(data) = frame.into_data() {
                            seen.extend_from_slice(&data);
                        }
                    }
                    Some(Err(e)) => return Err(format!("the stream broke off: {e}")),
                    None => return Err("the stream ended; it should have stalled".into()),
                }
            }
            Ok(Held {
                _sender: sender,
                _body: body,
            })
        });
    }
    let mut held = Vec::with_capacity(n);
    while let Some(joined) = tasks.join_next().await {
        match joined {
            Ok(Ok(one)) => held.push(one),
            Ok(Err(e)) => return Err(Fail(e)),
            Err(e) => return Err(Fail(e.to_string())),
        }
    }
    Ok(held)
}

/// VmRSS of `pid`, in KiB.
fn rss_kib(pid: &str) -> Result<u64, Fail> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .map_err(|e| Fail(format!("/proc/{pid}/status: {e}")))?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| Fail("no VmRSS line".into()))
}

/// `idle`: `--warmup` streams held open first (the costs of a first request are not a
/// stream's), the gateway's RSS read, `--streams` more opened and committed, the RSS read
/// again with all of them still open.
pub(crate) fn idle(args: &Args) -> Result<(), Fail> {
    let key = args.optional("key");
    let target = Target::parse(&args.required("url")?, key.as_deref())?;
    let api = Api::of(args)?;
    let streams = args.number("streams", 1000)? as usize;
    let warmup = args.number("warmup", 16)? as usize;
    let pid = args.required("pid")?;
    let settle = Duration::from_millis(args.number("settle-ms", 1000)?);
    let report = crate::runtime(1)?.block_on(async move {
        let first = hold(&target, &api, warmup).await?;
        tokio::time::sleep(settle).await;
        let before = rss_kib(&pid)?;
        let started = Instant::now();
        let more = hold(&target, &api, streams).await?;
        let opened_in = started.elapsed();
        tokio::time::sleep(settle).await;
        let after = rss_kib(&pid)?;
        let report = json!({
            "warmup": first.len(),
            "streams": more.len(),
            "opened_in_s": opened_in.as_secs_f64(),
            "rss_before_kib": before,
            "rss_after_kib": after,
            "per_stream_kib": (after as f64 - before as f64) / more.len().max(1) as f64,
        });
        drop(more);
        drop(first);
        Ok::<_, Fail>(report)
    })?;
    println!("{report}");
    Ok(())
}
