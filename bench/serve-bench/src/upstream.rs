//! A fake upstream that answers as fast as it can: the Responses API and Chat Completions,
//! streamed (SSE) or not, with a short answer ("Hello from the bench"). `--delay MS` waits
//! that long before each answer (an upstream's own work); `--silent` sends the setup frames
//! and the first output frame of every streamed answer, then nothing more, keeping the
//! connection open (an answer that stalls after its commit point).

use crate::{Args, Fail};
use bytes::Bytes;
use http_body_util::BodyExt;
use hyper::body::{Body, Frame, Incoming, SizeHint};
use hyper::header::{CONTENT_TYPE, HeaderValue};
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::convert::Infallible;
use std::io::Write;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

/// The answer's text, cut into the deltas of a streamed answer; `--deltas N` (N > 5) adds
/// N - 5 deltas of filler after them (a longer answer).
const WORDS: [&str; 5] = ["Hello", " from", " the", " bench", "."];
const FILLER: &str = " word";

struct Config {
    delay: Duration,
    silent: bool,
    words: Vec<&'static str>,
    /// The answers already written, by endpoint, model and usage chunk: built once each.
    answers: Mutex<HashMap<(bool, String, bool, String), Answer>>,
}

/// One answer in its three forms: the streamed frames up to the first output, the whole
/// stream, and the non-streamed body.
#[derive(Clone)]
struct Answer {
    first: Bytes,
    stream: Bytes,
    whole: Bytes,
}

/// An answer body: whole with a length, whole but chunked (as SSE is sent), or one chunk and
/// then silence for as long as the client keeps the connection.
enum Reply {
    Sized(Option<Bytes>),
    Chunked(Option<Bytes>),
    Silent(Option<Bytes>),
}

impl Body for Reply {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        match self.get_mut() {
            Reply::Sized(bytes) | Reply::Chunked(bytes) => {
                Poll::Ready(bytes.take().map(|b| Ok(Frame::data(b))))
            }
            Reply::Silent(bytes) => match bytes.take() {
                Some(b) => Poll::Ready(Some(Ok(Frame::data(b)))),
                // Never woken: the answer stalls here until the connection closes.
                None => Poll::Pending,
            },
        }
    }

    fn is_end_stream(&self) -> bool {
        matches!(self, Reply::Sized(None) | Reply::Chunked(None))
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            Reply::Sized(Some(b)) => SizeHint::with_exact(b.len() as u64),
            Reply::Sized(None) => SizeHint::with_exact(0),
            Reply::Chunked(_) | Reply::Silent(_) => SizeHint::default(),
        }
    }
}

pub(crate) fn run(args: &Args) -> Result<(), Fail> {
    let listen = args.text("listen", "127.0.0.1:0");
    let threads = args.number("threads", 1)?;
    let config = Arc::new(Config {
        delay: Duration::from_micros(args.number("delay-us", 0)?),
        silent: args.flag("silent"),
        words: {
            let deltas = args.number("deltas", WORDS.len() as u64)? as usize;
            let mut words = WORDS.to_vec();
            words.resize(deltas.max(WORDS.len()), FILLER);
            words
        },
        answers: Mutex::new(HashMap::new()),
    });
    crate::runtime(threads as usize)?.block_on(async move {
        let listener = tokio::net::TcpListener::bind(&listen)
            .await
            .map_err(|e| Fail(format!("cannot listen on {listen}: {e}")))?;
        let addr = listener
            .local_addr()
            .map_err(|e| Fail(format!("no local address: {e}")))?;
        let mut out = std::io::stdout();
        let _ = writeln!(out, "listening on http://{addr}");
        let _ = out.flush();
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            };
            let _ = stream.set_nodelay(true);
            let config = config.clone();
            tokio::spawn(async move {
                let service = hyper::service::service_fn(move |request| {
                    let config = config.clone();
                    async move { Ok::<_, Infallible>(answer(request, &config).await) }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    })
}

async fn answer(request: Request<Incoming>, config: &Config) -> Response<Reply> {
    let path = request.uri().path().to_owned();
    let body = match request.into_body().collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(_) => return plain(StatusCode::BAD_REQUEST, "the body did not arrive"),
    };
    let Ok(asked) = serde_json::from_slice::<Value>(&body) else {
        return plain(StatusCode::BAD_REQUEST, "the body is not JSON");
    };
    let model = asked["model"].as_str().unwrap_or("bench-model");
    let stream = asked["stream"].as_bool() == Some(true);
    let usage = asked["stream_options"]["include_usage"].as_bool() == Some(true);
    // Echoed in the Responses API's response objects, as the real one does.
    let instructions = asked["instructions"].as_str().unwrap_or_default();
    if !config.delay.is_zero() {
        tokio::time::sleep(config.delay).await;
    }
    let responses_api = if path.ends_with("/responses") {
        true
    } else if path.ends_with("/chat/completions") {
        false
    } else {
        return plain(StatusCode::NOT_FOUND, "no such endpoint");
    };
    let key = (
        responses_api,
        model.to_owned(),
        usage,
        instructions.to_owned(),
    );
    let cached = config
        .answers
        .lock()
        .ok()
        .and_then(|answers| answers.get(&key).cloned());
    let answer = cached.unwrap_or_else(|| {
        let (first, rest, whole) = if responses_api {
            responses(model, instructions, &config.words)
        } else {
            chat(model, usage, &config.words)
        };
        let answer = Answer {
            stream: Bytes::from(first.clone() + &rest),
            first: Bytes::from(first),
            whole: Bytes::from(whole),
        };
        if let Ok(mut answers) = config.answers.lock() {
            answers.insert(key, answer.clone());
        }
        answer
    });
    if !stream {
        let mut response = Response::new(Reply::Sized(Some(answer.whole)));
        response
            .headers_mut()
            .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        return with_upstream_headers(response);
    }
    let body = if config.silent {
        Reply::Silent(Some(answer.first))
    } else {
        Reply::Chunked(Some(answer.stream))
    };
    let mut response = Response::new(body);
    response.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/event-stream; charset=utf-8"),
    );
    with_upstream_headers(response)
}

/// Headers an OpenAI-style upstream sends with an answer besides its content type: request
/// ids, rate limits, its CDN's cookies and tracing. A gateway sees all of them.
const UPSTREAM_HEADERS: &[(&str, &str)] = &[
    ("openai-organization", "user-bench0000000000000000"),
    ("openai-processing-ms", "212"),
    ("openai-project", "proj_bench000000000000000000"),
    ("openai-version", "2020-10-01"),
    ("x-ratelimit-limit-requests", "10000"),
    ("x-ratelimit-limit-tokens", "30000000"),
    ("x-ratelimit-remaining-requests", "9999"),
    ("x-ratelimit-remaining-tokens", "29999986"),
    ("x-ratelimit-reset-requests", "6ms"),
    ("x-ratelimit-reset-tokens", "0s"),
    ("x-request-id", "req_0123456789abcdef0123456789abcdef"),
    (
        "strict-transport-security",
        "max-age=31536000; includeSubDomains; preload",
    ),
    ("cf-cache-status", "DYNAMIC"),
    (
        "set-cookie",
        "__cf_bm=bench.cookie.value.0123456789abcdef; path=/; expires=Wed, 02-Dec-26 06:00:00 GMT; domain=.example.com; HttpOnly; Secure; SameSite=None",
    ),
    (
        "set-cookie",
        "_cfuvid=bench.cookie.value.fedcba9876543210-1767225600000-0.0.1.1-604800000; path=/; domain=.example.com; HttpOnly; Secure; SameSite=None",
    ),
    ("x-content-type-options", "nosniff"),
    ("server", "cloudflare"),
    ("cf-ray", "8f0123456789abcd-FRA"),
    ("alt-svc", "h3=\":443\"; ma=86400"),
];

fn with_upstream_headers(mut response: Response<Reply>) -> Response<Reply> {
    let headers = response.headers_mut();
    for (name, value) in UPSTREAM_HEADERS {
        headers.append(*name, HeaderValue::from_static(value));
    }
    response
}

fn plain(status: StatusCode, message: &str) -> Response<Reply> {
    let body = json!({"error": {"message": message, "type": "invalid_request_error"}});
    let mut response = Response::new(Reply::Sized(Some(Bytes::from(body.to_string()))));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

fn sse(out: &mut String, data: &Value) {
    out.push_str("event: ");
    out.push_str(data["type"].as_str().unwrap_or("message"));
    out.push_str("\ndata: ");
    out.push_str(&data.to_string());
    out.push_str("\n\n");
}

/// A Responses-API answer: the streamed frames up to and including the first output delta,
/// the frames after it, and the non-streamed response object.
fn responses(model: &str, instructions: &str, words: &[&str]) -> (String, String, String) {
    let text: String = words.concat();
    let id = "resp_bench";
    let item = "msg_bench";
    let message = |status: &str, text: &str| {
        json!({"id": item, "type": "message", "status": status, "role": "assistant",
               "content": if text.is_empty() { json!([]) } else {
                   json!([{"type": "output_text", "text": text, "annotations": []}]) }})
    };
    let response = |status: &str, output: Value| {
        json!({"id": id, "object": "response", "created_at": 1_767_225_600, "status": status,
               "model": model, "instructions": instructions, "output": output, "error": null,
               "usage": {"input_tokens": 9, "output_tokens": 5, "total_tokens": 14}})
    };
    let mut first = String::new();
    sse(
        &mut first,
        &json!({"type": "response.created", "sequence_number": 0,
                "response": response("in_progress", json!([]))}),
    );
    sse(
        &mut first,
        &json!({"type": "response.in_progress", "sequence_number": 1,
                "response": response("in_progress", json!([]))}),
    );
    sse(
        &mut first,
        &json!({"type": "response.output_item.added", "sequence_number": 2, "output_index": 0,
                "item": message("in_progress", "")}),
    );
    sse(
        &mut first,
        &json!({"type": "response.content_part.added", "sequence_number": 3, "item_id": item,
                "output_index": 0, "content_index": 0,
                "part": {"type": "output_text", "text": "", "annotations": []}}),
    );
    let delta = |n: usize, word: &str| {
        json!({"type": "response.output_text.delta", "sequence_number": 4 + n, "item_id": item,
               "output_index": 0, "content_index": 0, "delta": word})
    };
    sse(&mut first, &delta(0, words[0]));
    let mut rest = String::new();
    for (n, word) in words.iter().enumerate().skip(1) {
        sse(&mut rest, &delta(n, word));
    }
    let seq = 4 + words.len();
    sse(
        &mut rest,
        &json!({"type": "response.output_text.done", "sequence_number": seq, "item_id": item,
                "output_index": 0, "content_index": 0, "text": text}),
    );
    sse(
        &mut rest,
        &json!({"type": "response.content_part.done", "sequence_number": seq + 1, "item_id": item,
                "output_index": 0, "content_index": 0,
                "part": {"type": "output_text", "text": text, "annotations": []}}),
    );
    sse(
        &mut rest,
        &json!({"type": "response.output_item.done", "sequence_number": seq + 2, "output_index": 0,
                "item": message("completed", &text)}),
    );
    let done = response("completed", json!([message("completed", &text)]));
    sse(
        &mut rest,
        &json!({"type": "response.completed", "sequence_number": seq + 3, "response": done}),
    );
    (first, rest, done.to_string())
}

/// A Chat Completions answer, cut the same way; `usage`: the stream ends with a usage chunk
/// (`stream_options.include_usage`).
fn chat(model: &str, usage: bool, words: &[&str]) -> (String, String, String) {
    let id = "chatcmpl-bench";
    let created = 1_767_225_600;
    let chunk = |delta: Value, finish: Value| {
        let data = json!({"id": id, "object": "chat.completion.chunk", "created": created,
                          "model": model,
                          "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]});
        format!("data: {data}\n\n")
    };
    let totals = json!({"prompt_tokens": 9, "completion_tokens": 5, "total_tokens": 14});
    let mut first = chunk(json!({"role": "assistant", "content": ""}), Value::Null);
    first.push_str(&chunk(json!({"content": words[0]}), Value::Null));
    let mut rest = String::new();
    for word in &words[1..] {
        rest.push_str(&chunk(json!({"content": word}), Value::Null));
    }
    rest.push_str(&chunk(json!({}), json!("stop")));
    if usage {
        let data = json!({"id": id, "object": "chat.completion.chunk", "created": created,
                          "model": model, "choices": [], "usage": totals});
        rest.push_str(&format!("data: {data}\n\n"));
    }
    rest.push_str("data: [DONE]\n\n");
    let whole = json!({"id": id, "object": "chat.completion", "created": created, "model": model,
                       "choices": [{"index": 0, "finish_reason": "stop",
                                    "message": {"role": "assistant", "content": words.concat()}}],
                       "usage": totals});
    (first, rest, whole.to_string())
}
