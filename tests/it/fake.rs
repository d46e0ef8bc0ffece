//! A scriptable HTTP/1.1 server on 127.0.0.1 (or another loopback address) that plays a
//! provider API for `rotor call` tests: real sockets, real HTTP, SSE streams sent chunk by chunk,
//! delays, hangs, stalls, floods and cut connections.
//!
//! Each test starts its own server on a free port and passes its URL to rotor by flag
//! (`--base-url`, `--token-url`), so tests run in parallel. Replies are scripted per route;
//! a route whose script has run out repeats its last reply. Every request is recorded so tests
//! can check which accounts were used, in which order, how many times.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// One reply of the script.
#[derive(Debug, Clone)]
pub enum Reply {
    /// A complete response after `delay`.
    Full {
        status: u16,
        headers: Vec<(String, String)>,
        body: String,
        delay: Duration,
    },
    /// A 200 `text/event-stream` sent as these pieces, each after its delay; then the
    /// connection closes (cleanly, or with an RST when `reset` is set).
    Stream {
        pieces: Vec<(Duration, String)>,
        reset: bool,
    },
    /// Accept the request and never answer (until the client gives up).
    Hang,
    /// A 200 `text/event-stream` that sends these pieces, each after its delay, then keeps the
    /// connection open in silence (until the client gives up).
    Stall { pieces: Vec<(Duration, String)> },
    /// A 200 `text/event-stream`: `head`, then `piece` over and over until `total` bytes of it
    /// were sent (for ever when `None`, until the client stops reading), then `tail`.
    Flood {
        head: Vec<String>,
        piece: String,
        total: Option<u64>,
        tail: Vec<String>,
    },
    /// Close the connection without answering.
    Drop,
    /// Wait until the server's gate ([`FakeServer::gate`]) has seen its number of gated
    /// requests arrive, then answer with the reply inside.
    Gated(Box<Reply>),
}

impl Reply {
    pub fn json(status: u16, body: &str) -> Reply {
        Reply::Full {
            status,
            headers: vec![("content-type".into(), "application/json".into())],
            body: body.to_string(),
            delay: Duration::ZERO,
        }
    }

    pub fn with_header(mut self, name: &str, value: &str) -> Reply {
        if let Reply::Full { headers, .. } = &mut self {
            headers.push((name.into(), value.into()));
        }
        self
    }

    pub fn delayed(mut self, by: Duration) -> Reply {
        if let Reply::Full { delay, .. } = &mut self {
            *delay = by;
        }
        self
    }

    /// A redirect to `location`, with an empty body.
    pub fn redirect(status: u16, location: &str) -> Reply {
        Reply::Full {
            status,
            headers: vec![("location".into(), location.into())],
            body: String::new(),
            delay: Duration::ZERO,
        }
    }

    /// A complete Codex Responses stream whose text comes as exactly these deltas, each sent
    /// `gap` after the previous piece.
    pub fn codex_deltas(deltas: &[&str], gap: Duration) -> Reply {
        let mut pieces = vec![(Duration::ZERO, codex_event(&codex_created()))];
        for delta in deltas {
            pieces.push((gap, codex_event(&codex_delta(delta))));
        }
        let text: String = deltas.concat();
        pieces.push((Duration::ZERO, codex_event(&codex_completed(&text))));
        Reply::Stream {
            pieces,
            reset: false,
        }
    }

    /// A Codex stream that sends these deltas and then falls silent, the connection open.
    pub fn codex_stall_after(deltas: &[&str]) -> Reply {
        let mut pieces = vec![(Duration::ZERO, codex_event(&codex_created()))];
        for delta in deltas {
            pieces.push((Duration::ZERO, codex_event(&codex_delta(delta))));
        }
        Reply::Stall { pieces }
    }

    /// A Codex stream of text deltas of `delta_len` bytes each: `total` bytes of events in all
    /// and then a completed answer, or without end when `total` is `None`.
    pub fn codex_flood(delta_len: usize, total: Option<u64>) -> Reply {
        let delta: String = "abcdefghijklmnopqrstuvwxyz 0123456789\n"
            .chars()
            .cycle()
            .take(delta_len)
            .collect();
        Reply::Flood {
            head: vec![codex_event(&codex_created())],
            piece: codex_event(&codex_delta(&delta)),
            total,
            tail: vec![codex_event(&codex_completed("(flood)"))],
        }
    }

    /// A complete Codex Responses stream answering `text`.
    pub fn codex_text(text: &str) -> Reply {
        Reply::Stream {
            pieces: codex_events(text, true)
                .into_iter()
                .map(|e| (Duration::ZERO, e))
                .collect(),
            reset: false,
        }
    }

    /// A Codex stream that sends `text` and then breaks off (cleanly or with a reset).
    pub fn codex_cut_after(text: &str, reset: bool) -> Reply {
        Reply::Stream {
            pieces: codex_events(text, false)
                .into_iter()
                .map(|e| (Duration::from_millis(20), e))
                .collect(),
            reset,
        }
    }

    /// A complete Chat Completions stream answering `text`.
    pub fn chat_text(text: &str) -> Reply {
        let chunk = serde_json::json!({"id": "c1", "model": "m", "choices": [{"delta": {"content": text}, "finish_reason": "stop"}]});
        Reply::Stream {
            pieces: vec![
                (Duration::ZERO, format!("data: {chunk}\n\n")),
                (Duration::ZERO, "data: [DONE]\n\n".into()),
            ],
            reset: false,
        }
    }

    /// A complete Anthropic Messages stream answering `text`.
    pub fn anthropic_text(text: &str) -> Reply {
        let events = [
            (
                "message_start",
                serde_json::json!({"type": "message_start", "message": {"id": "m1", "role": "assistant", "content": []}}),
            ),
            (
                "content_block_delta",
                serde_json::json!({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": text}}),
            ),
            (
                "message_delta",
                serde_json::json!({"type": "message_delta", "delta": {"stop_reason": "end_turn"}}),
            ),
            ("message_stop", serde_json::json!({"type": "message_stop"})),
        ];
        Reply::Stream {
            pieces: events
                .iter()
                .map(|(e, d)| (Duration::ZERO, format!("event: {e}\ndata: {d}\n\n")))
                .collect(),
            reset: false,
        }
    }
}

fn codex_events(text: &str, complete: bool) -> Vec<String> {
    let mut events = vec![codex_event(&codex_created())];
    for word in text.split_inclusive(' ') {
        events.push(codex_event(&codex_delta(word)));
    }
    if complete {
        events.push(codex_event(&codex_completed(text)));
    }
    events
}

fn codex_event(v: &serde_json::Value) -> String {
    format!("event: {}\ndata: {v}\n\n", v["type"].as_str().unwrap_or(""))
}

fn codex_created() -> serde_json::Value {
    serde_json::json!({"type": "response.created", "response": {"id": "resp_1"}})
}

fn codex_delta(text: &str) -> serde_json::Value {
    serde_json::json!({"type": "response.output_text.delta", "delta": text})
}

fn codex_completed(text: &str) -> serde_json::Value {
    serde_json::json!({"type": "response.completed", "response": {"id": "resp_1", "status": "completed", "output_text": text}})
}

/// A request the server received.
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Seen {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Which requests a script answers: a path, and optionally a header value (e.g. the account).
#[derive(Debug, Clone)]
struct Route {
    path: String,
    header: Option<(String, String)>,
    script: VecDeque<Reply>,
    last: Option<Reply>,
}

#[derive(Default)]
struct State {
    routes: Vec<Route>,
    seen: Vec<Seen>,
    /// Gated requests needed before any is answered, and how many arrived.
    gate: (usize, usize),
    /// Streams whose client closed the connection before the stream ended.
    closed_by_client: usize,
}

pub struct FakeServer {
    pub url: String,
    state: Arc<Mutex<State>>,
    gate: Arc<tokio::sync::Notify>,
}

impl FakeServer {
    /// Starts a server on a free port of 127.0.0.1, on a thread of its own.
    pub fn start() -> FakeServer {
        FakeServer::start_on("127.0.0.1")
    }

    /// Starts a server on a free port of another loopback address (`127.0.0.2`, …): a second
    /// origin, e.g. the target of a redirect.
    pub fn start_on(ip: &str) -> FakeServer {
        let ip: std::net::Ipv4Addr = ip.parse().unwrap();
        assert!(ip.is_loopback(), "the fake server listens on loopback only");
        let std_listener = std::net::TcpListener::bind((ip, 0)).unwrap();
        std_listener.set_nonblocking(true).unwrap();
        let url = format!("http://{}", std_listener.local_addr().unwrap());
        let state = Arc::new(Mutex::new(State::default()));
        let gate = Arc::new(tokio::sync::Notify::new());
        let shared = state.clone();
        let shared_gate = gate.clone();
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async move {
                let listener = TcpListener::from_std(std_listener).unwrap();
                while let Ok((socket, _)) = listener.accept().await {
                    tokio::spawn(serve(socket, shared.clone(), shared_gate.clone()));
                }
            });
        });
        FakeServer { url, state, gate }
    }

    /// Holds every [`Reply::Gated`] until `n` of them have arrived (at most 20 s).
    pub fn gate(&self, n: usize) {
        self.state.lock().unwrap().gate = (n, 0);
        self.gate.notify_waiters();
    }

    /// Streams the client closed before they ended (a stall or flood it stopped reading).
    pub fn closed_by_client(&self) -> usize {
        self.state.lock().unwrap().closed_by_client
    }

    /// Answers requests to `path` with `script`, in order; the last reply repeats.
    pub fn on(&self, path: &str, script: Vec<Reply>) -> &Self {
        self.add(path, None, script)
    }

    /// Like [`on`](Self::on), only for requests carrying `header: value` (e.g. an account id).
    pub fn on_header(&self, path: &str, header: &str, value: &str, script: Vec<Reply>) -> &Self {
        self.add(
            path,
            Some((header.to_ascii_lowercase(), value.to_string())),
            script,
        )
    }

    fn add(&self, path: &str, header: Option<(String, String)>, script: Vec<Reply>) -> &Self {
        self.state.lock().unwrap().routes.push(Route {
            path: path.to_string(),
            header,
            script: script.into(),
            last: None,
        });
        self
    }

    /// Every request received so far, in arrival order.
    pub fn seen(&self) -> Vec<Seen> {
        self.state.lock().unwrap().seen.clone()
    }

    /// Requests to `path`.
    pub fn seen_at(&self, path: &str) -> Vec<Seen> {
        self.seen().into_iter().filter(|s| s.path == path).collect()
    }
}

async fn serve(mut socket: TcpStream, state: Arc<Mutex<State>>, gate: Arc<tokio::sync::Notify>) {
    let Some(seen) = read_request(&mut socket).await else {
        return;
    };
    let reply = {
        let mut state = state.lock().unwrap();
        state.seen.push(seen.clone());
        let route = state.routes.iter_mut().find(|r| {
            r.path == seen.path
                && r.header
                    .as_ref()
                    .is_none_or(|(n, v)| seen.header(n) == Some(v.as_str()))
        });
        match route {
            Some(route) => {
                if let Some(next) = route.script.pop_front() {
                    route.last = Some(next);
                }
                route.last.clone().unwrap_or(Reply::Drop)
            }
            None => Reply::json(
                404,
                "{\"error\":{\"type\":\"not_found\",\"message\":\"no route in the fake server\"}}",
            ),
        }
    };
    let reply = match reply {
        Reply::Gated(inner) => {
            state.lock().unwrap().gate.1 += 1;
            gate.notify_waiters();
            let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
            loop {
                let notified = gate.notified();
                let (needed, arrived) = state.lock().unwrap().gate;
                if arrived >= needed {
                    break;
                }
                if tokio::time::timeout_at(deadline, notified).await.is_err() {
                    break;
                }
            }
            *inner
        }
        other => other,
    };
    match reply {
        Reply::Full {
            status,
            headers,
            body,
            delay,
        } => {
            tokio::time::sleep(delay).await;
            let mut head = format!(
                "HTTP/1.1 {status} {}\r\ncontent-length: {}\r\nconnection: close\r\n",
                reason(status),
                body.len()
            );
            for (n, v) in headers {
                head.push_str(&format!("{n}: {v}\r\n"));
            }
            head.push_str("\r\n");
            let _ = socket.write_all(head.as_bytes()).await;
            let _ = socket.write_all(body.as_bytes()).await;
            let _ = socket.shutdown().await;
        }
        Reply::Stream { pieces, reset } => {
            let head = "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n";
            let _ = socket.write_all(head.as_bytes()).await;
            for (delay, piece) in pieces {
                tokio::time::sleep(delay).await;
                let _ = socket
                    .write_all(format!("{:x}\r\n{piece}\r\n", piece.len()).as_bytes())
                    .await;
                let _ = socket.flush().await;
            }
            if reset {
                // An abortive close: the client sees a connection reset mid-body.
                let _ = socket.set_zero_linger();
                drop(socket);
                return;
            }
            let _ = socket.write_all(b"0\r\n\r\n").await;
            let _ = socket.shutdown().await;
        }
        Reply::Hang => {
            tokio::time::sleep(Duration::from_secs(120)).await;
        }
        Reply::Stall { pieces } => {
            let head = "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n";
            let _ = socket.write_all(head.as_bytes()).await;
            for (delay, piece) in pieces {
                tokio::time::sleep(delay).await;
                let _ = socket.write_all(&chunk(piece.as_bytes())).await;
                let _ = socket.flush().await;
            }
            // Silence until the client gives up (and closes), or two minutes.
            let mut byte = [0u8; 1];
            if let Ok(Ok(0) | Err(_)) =
                tokio::time::timeout(Duration::from_secs(120), socket.read(&mut byte)).await
            {
                state.lock().unwrap().closed_by_client += 1;
            }
        }
        Reply::Flood {
            head,
            piece,
            total,
            tail,
        } => {
            if !flood(&mut socket, &head, &piece, total, &tail).await {
                state.lock().unwrap().closed_by_client += 1;
            }
        }
        Reply::Drop => drop(socket),
        Reply::Gated(_) => unreachable!("a gated reply was opened above"),
    }
}

/// One chunk of a chunked body.
fn chunk(data: &[u8]) -> Vec<u8> {
    let mut out = format!("{:x}\r\n", data.len()).into_bytes();
    out.extend_from_slice(data);
    out.extend_from_slice(b"\r\n");
    out
}

/// Sends a flood: `piece` repeated in chunks of about 1 MiB, until `total` bytes of it or until
/// a write fails (the client closed the connection: `false`).
async fn flood(
    socket: &mut TcpStream,
    head: &[String],
    piece: &str,
    total: Option<u64>,
    tail: &[String],
) -> bool {
    let start = "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n";
    if socket.write_all(start.as_bytes()).await.is_err() {
        return false;
    }
    for part in head {
        if socket.write_all(&chunk(part.as_bytes())).await.is_err() {
            return false;
        }
    }
    let per_chunk = (1 << 20) / piece.len().max(1) + 1;
    let batch = chunk(piece.repeat(per_chunk).as_bytes());
    let batch_len = (piece.len() * per_chunk) as u64;
    let mut sent = 0u64;
    while total.is_none_or(|t| sent + batch_len <= t) {
        if socket.write_all(&batch).await.is_err() {
            return false;
        }
        sent += batch_len;
    }
    while total.is_some_and(|t| sent + piece.len() as u64 <= t) {
        if socket.write_all(&chunk(piece.as_bytes())).await.is_err() {
            return false;
        }
        sent += piece.len() as u64;
    }
    for part in tail {
        if socket.write_all(&chunk(part.as_bytes())).await.is_err() {
            return false;
        }
    }
    let _ = socket.write_all(b"0\r\n\r\n").await;
    let _ = socket.shutdown().await;
    true
}

async fn read_request(socket: &mut TcpStream) -> Option<Seen> {
    let mut buffer = Vec::new();
    let mut chunk = [0u8; 8192];
    let header_end = loop {
        if let Some(i) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        let n = socket.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buffer.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buffer[..header_end]).into_owned();
    let mut lines = head.split("\r\n");
    let mut request_line = lines.next()?.split(' ');
    let (method, path) = (
        request_line.next()?.to_string(),
        request_line.next()?.to_string(),
    );
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let length: usize = headers
        .iter()
        .find(|(n, _)| n == "content-length")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    while buffer.len() < header_end + length {
        let n = socket.read(&mut chunk).await.ok()?;
        if n == 0 {
            break;
        }
        buffer.extend_from_slice(&chunk[..n]);
    }
    let body = String::from_utf8_lossy(&buffer[header_end..]).into_owned();
    Some(Seen {
        method,
        path,
        headers,
        body,
    })
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        301 => "Moved Permanently",
        302 => "Found",
        303 => "See Other",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        400 => "Bad Request",
        401 => "Unauthorized",
        402 => "Payment Required",
        403 => "Forbidden",
        404 => "Not Found",
        408 => "Request Timeout",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        _ => "Status",
    }
}
