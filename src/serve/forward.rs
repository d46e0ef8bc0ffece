//! The ports of `rotor serve`: one client request run through the same engine and drive loop
//! as `rotor call`, with the client's own body sent upstream under a profile's credentials.
//!
//! Each attempt forwards the body as the client wrote it, with the client's headers minus its
//! credentials, plus the profile's auth headers. A streamed answer is cut into whole SSE frames
//! and each frame classified ([`classify_frame`]): frames that carry no output yet are held
//! back; the first that does is the **commit point**, where the answer's head and the held
//! frames go to the client and everything after is passed on as it arrives. A failure before
//! the commit point (an HTTP error, a failure event, a cut) is the engine's to retry or rotate
//! — the held frames are dropped and the client never saw them; after it, nothing is ever
//! replayed: the client gets the API's own error event and the connection is aborted.

use super::App;
use super::reply::{Body, Response, broken_stream_event};
use super::routes::Surface;
use crate::drive::Ports;
use crate::engine::{
    AttemptPlan, Class, Effect, Outcome, ProfileRef, RefreshResult, TransportFailure,
    classify_response, classify_transport,
};
use crate::error::Result;
use crate::pool::Profile;
use crate::providers::frames::{Frame, classify_frame, continues_answer, failure_in_answer};
use crate::providers::sse::{Framer, SseParser};
use crate::providers::{self, Api, Credential};
use crate::sanitize::{Redactor, display_url};
use crate::time::{self, Epoch};
use crate::upstream::http::{describe, failure_kind, header_pairs, read_bounded};
use crate::upstream::refresh::{self, RefreshTarget};
use bytes::Bytes;
use hyper::header::{self, HeaderMap, HeaderName, HeaderValue};
use std::collections::HashMap;
use std::pin::pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, oneshot};

/// Frames queued for a client that reads slower than the upstream sends.
const QUEUED_FRAMES: usize = 16;
/// Most bytes of setup frames held back before the commit point. A stream that sends more
/// without any output is committed anyway (holding more would only cost memory).
const MAX_HELD: usize = 1 << 20;

/// One client request, as the handler read it.
#[derive(Debug)]
pub(crate) struct Exchange {
    pub request_id: String,
    pub surface: Surface,
    pub provider: String,
    /// The body exactly as the client sent it.
    pub body: Bytes,
    /// Its `model`, which availability is evaluated for (per-model cooldowns).
    pub model: Option<String>,
    /// The client's headers that go upstream: its credentials and the hop-by-hop ones are
    /// gone ([`forwardable`]).
    pub headers: HeaderMap,
    pub arrived: Instant,
}

/// The client's end: answered once (at the commit point, or when the request ends before
/// it), and fed the rest of a streamed answer afterwards.
pub(crate) struct Client {
    responder: Option<oneshot::Sender<Response>>,
    stream: Option<StreamTx>,
    /// How long a client may leave a frame unread before it counts as gone.
    timeout: Duration,
    pub first_byte: Option<Instant>,
}

struct StreamTx {
    tx: mpsc::Sender<Bytes>,
    aborted: Arc<AtomicBool>,
}

/// The client went away or stopped reading.
struct Gone;

impl Client {
    pub(crate) fn new(responder: oneshot::Sender<Response>, timeout: Duration) -> Client {
        Client {
            responder: Some(responder),
            stream: None,
            timeout,
            first_byte: None,
        }
    }

    /// Resolves when nobody is waiting for the answer any more.
    async fn gone(&mut self) {
        if let Some(stream) = &self.stream {
            stream.tx.closed().await;
        } else if let Some(responder) = &mut self.responder {
            responder.closed().await;
        } else {
            std::future::pending::<()>().await;
        }
    }

    /// Whether the answer (or its head) was sent.
    pub(crate) fn answered(&self) -> bool {
        self.responder.is_none()
    }

    fn streaming(&self) -> bool {
        self.stream.is_some()
    }

    /// Sends a whole answer; `false` when the client is gone.
    pub(crate) fn answer(&mut self, response: Response) -> bool {
        let Some(responder) = self.responder.take() else {
            return false;
        };
        self.first_byte.get_or_insert_with(Instant::now);
        responder.send(response).is_ok()
    }

    /// Sends the head of a streamed answer; its frames follow with [`Client::send`].
    fn open_stream(&mut self, head: hyper::http::response::Parts) -> bool {
        let (tx, rx) = mpsc::channel(QUEUED_FRAMES);
        let aborted = Arc::new(AtomicBool::new(false));
        let body = Body::Stream {
            rx,
            aborted: aborted.clone(),
            flushed: false,
        };
        if !self.answer(Response::from_parts(head, body)) {
            return false;
        }
        self.stream = Some(StreamTx { tx, aborted });
        true
    }

    async fn send(&mut self, frame: Bytes) -> Result<(), Gone> {
        let Some(stream) = &self.stream else {
            return Err(Gone);
        };
        match tokio::time::timeout(self.timeout, stream.tx.send(frame)).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(_)) | Err(_) => Err(Gone),
        }
    }

    /// Ends a streamed answer so the client sees it broken, not complete.
    fn abort(&mut self) {
        if let Some(stream) = self.stream.take() {
            stream.aborted.store(true, Ordering::Release);
        }
    }

    /// Ends a streamed answer cleanly.
    fn finish(&mut self) {
        self.stream = None;
    }

    /// Sends `event` (best effort, without waiting on a stalled client) and aborts.
    fn break_off(&mut self, event: Bytes) {
        if let Some(stream) = &self.stream {
            let _ = stream.tx.try_send(event);
        }
        self.abort();
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        // A stream still open when its request ends (an error of rotor's own) did not finish.
        self.abort();
    }
}

/// An upstream refusal to pass back to the client when the request ends rejected.
#[derive(Debug, Clone)]
pub(crate) struct Rejection {
    pub status: u16,
    pub content_type: Option<HeaderValue>,
    /// Redacted.
    pub body: Bytes,
}

/// The ports of one served request.
pub(crate) struct ServePorts<'a> {
    app: &'a App,
    exchange: &'a Exchange,
    pub client: Client,
    /// The pool generation this request last saw (see [`super::hub::Hub::news`]).
    generation: u64,
    /// The refresh token of each profile when this request last looked: a different one in
    /// the shared state means another request or process refreshed it (adopted, not redone).
    seen_refresh: HashMap<String, Option<String>>,
    pub rejection: Option<Rejection>,
}

impl<'a> ServePorts<'a> {
    pub(crate) fn new(
        app: &'a App,
        exchange: &'a Exchange,
        client: Client,
        generation: u64,
        pool: &[Profile],
    ) -> Self {
        let snapshot = app.hub.snapshot();
        let seen_refresh = pool
            .iter()
            .map(|p| {
                let token = snapshot.doc.refresh_token(&exchange.provider, &p.id);
                (p.id.clone(), token.map(str::to_owned))
            })
            .collect();
        ServePorts {
            app,
            exchange,
            client,
            generation,
            seen_refresh,
            rejection: None,
        }
    }

    fn gone(&self) -> Outcome {
        Outcome::Failure(classify_transport(
            TransportFailure::ClientGone,
            true,
            None,
            &Redactor::new(),
        ))
    }

    /// A transport failure: retried when nothing reached the client yet; after the commit
    /// point the client gets the API's error event and a broken connection.
    fn broken(&mut self, kind: TransportFailure, detail: &str, redactor: &Redactor) -> Outcome {
        let streaming = self.client.streaming();
        let failure = classify_transport(kind, streaming, Some(detail), redactor);
        if streaming {
            let message = format!(
                "rotor: the upstream answer broke off after it had started ({}); it is not \
                 replayed",
                failure.message.as_deref().unwrap_or("")
            );
            let event = broken_stream_event(self.exchange.surface.api(), &message);
            self.client.break_off(event);
        }
        Outcome::Failure(failure)
    }

    /// The failure of an attempt whose upstream refused it: classified, and kept to pass
    /// back if the request ends rejected.
    fn refused(
        &mut self,
        status: u16,
        headers: &[(String, String)],
        body: &str,
        content_type: Option<HeaderValue>,
        redactor: &Redactor,
    ) -> Outcome {
        let outcome = classify_response(Some(status), headers, body, time::now(), redactor);
        if let Outcome::Failure(f) = &outcome
            && f.class == Class::Request
        {
            self.rejection = Some(Rejection {
                status,
                content_type,
                body: redact_body(redactor, body),
            });
        }
        outcome
    }

    async fn forward(&mut self, plan: &AttemptPlan, deadline: Option<Epoch>) -> Result<Outcome> {
        let app = self.app;
        let provider = self.exchange.provider.as_str();
        let id = &plan.profile.id;
        let snapshot = app.hub.snapshot();
        let redactor = snapshot.redactor.clone();
        self.seen_refresh.insert(
            id.clone(),
            snapshot.doc.refresh_token(provider, id).map(str::to_owned),
        );
        let (_, pool) = app.hub.pool(provider);
        let profile = pool.iter().find(|p| &p.id == id);
        let token = snapshot.doc.access_token(provider, id);
        let (Some(profile), Some(token)) = (profile, token) else {
            return Ok(no_credential(
                "the profile has no access token any more",
                &redactor,
            ));
        };
        let base = crate::upstream::call::base_url(
            app.base_url.as_deref(),
            provider,
            &snapshot.doc,
            profile,
        )?;
        let url = self.exchange.surface.upstream_url(&base);
        let credential = Credential::of(profile, token);
        let Some(headers) = upstream_headers(self.exchange, provider, credential) else {
            return Ok(no_credential(
                "the stored token cannot be sent in an HTTP header (it holds control \
                 characters)",
                &redactor,
            ));
        };
        let deadline = deadline
            .map(|d| Instant::now() + Duration::from_secs_f64((d - time::now()).clamp(0.0, 1e9)));
        let mut expired = pin!(until(deadline));
        let request = app
            .transport
            .client()
            .post(&url)
            .headers(headers)
            .body(self.exchange.body.clone())
            .send();
        let sent = tokio::select! {
            biased;
            () = self.client.gone() => return Ok(self.gone()),
            () = &mut expired => return Ok(self.expired(&redactor)),
            sent = request => sent,
        };
        let mut response = match sent {
            Ok(response) => response,
            Err(e) => {
                let detail = format!("{}: {}", display_url(&url), describe(&e));
                return Ok(self.broken(failure_kind(&e), &detail, &redactor));
            }
        };
        let status = response.status().as_u16();
        let content_type = response.headers().get(header::CONTENT_TYPE).cloned();
        if !response.status().is_success() {
            let headers = header_pairs(response.headers());
            let body = tokio::select! {
                biased;
                () = self.client.gone() => return Ok(self.gone()),
                () = &mut expired => return Ok(self.expired(&redactor)),
                body = read_bounded(&mut response) => body,
            };
            return Ok(self.refused(status, &headers, &body, content_type, &redactor));
        }
        let head = answer_head(
            &response,
            &self.exchange.request_id,
            &plan.profile.hash,
            &redactor,
        );
        let encoded = response
            .headers()
            .get(header::CONTENT_ENCODING)
            .is_some_and(|e| !e.as_bytes().eq_ignore_ascii_case(b"identity"));
        let event_stream = content_type
            .as_ref()
            .is_some_and(|t| t.as_bytes().starts_with(b"text/event-stream"));
        if encoded {
            // rotor asked for no compression; an upstream that compresses anyway is relayed
            // as it is, committed at once (its frames cannot be read).
            return Ok(self.relay(response, head, expired, &redactor).await);
        }
        if event_stream {
            // What the stream needs of the upstream's head is copied out: its header values
            // would keep the read buffer they were parsed from for as long as the stream lasts.
            drop(content_type);
            response.headers_mut().clear();
            Ok(self.stream(response, head, expired, &redactor).await)
        } else {
            Ok(self.whole(response, head, expired, &redactor).await)
        }
    }

    /// The next piece of the upstream answer; `Err` with the attempt's outcome when the
    /// client leaves or the deadline passes first.
    async fn next_chunk(
        &mut self,
        response: &mut reqwest::Response,
        expired: &mut std::pin::Pin<&mut impl Future<Output = ()>>,
        redactor: &Redactor,
    ) -> Result<reqwest::Result<Option<Bytes>>, Outcome> {
        tokio::select! {
            biased;
            () = self.client.gone() => Err(self.gone()),
            () = expired.as_mut() => Err(self.expired(redactor)),
            chunk = response.chunk() => Ok(chunk),
        }
    }

    fn expired(&mut self, redactor: &Redactor) -> Outcome {
        self.broken(TransportFailure::Timeout, "the --deadline passed", redactor)
    }

    /// A non-streamed answer: read whole (up to `--max-output`), checked for an error inside,
    /// then committed.
    async fn whole(
        &mut self,
        mut response: reqwest::Response,
        head: hyper::http::response::Parts,
        mut expired: std::pin::Pin<&mut impl Future<Output = ()>>,
        redactor: &Redactor,
    ) -> Outcome {
        let limit = self.app.max_output;
        let mut body = Vec::new();
        loop {
            let chunk = match self.next_chunk(&mut response, &mut expired, redactor).await {
                Ok(chunk) => chunk,
                Err(ended) => return ended,
            };
            match chunk {
                Ok(Some(bytes)) => {
                    body.extend_from_slice(&bytes);
                    if body.len() as u64 > limit {
                        return Outcome::Failure(classify_transport(
                            TransportFailure::OutputCapped,
                            true,
                            Some(&format!("more than {limit} bytes of answer")),
                            redactor,
                        ));
                    }
                }
                Ok(None) => break,
                Err(e) => return self.broken(failure_kind(&e), &describe(&e), redactor),
            }
        }
        if let Some((status, error)) = failure_in_answer(&body) {
            let content_type = Some(HeaderValue::from_static("application/json"));
            return self.refused(status, &[], &error, content_type, redactor);
        }
        let response = Response::from_parts(head, Body::full(body));
        if self.client.answer(response) {
            Outcome::Success
        } else {
            self.gone()
        }
    }

    /// A streamed answer, frame by frame, through the commit point.
    async fn stream(
        &mut self,
        mut response: reqwest::Response,
        head: hyper::http::response::Parts,
        mut expired: std::pin::Pin<&mut impl Future<Output = ()>>,
        redactor: &Redactor,
    ) -> Outcome {
        let api = self.exchange.surface.api();
        let limit = self.app.max_output;
        let mut framer = Framer::new();
        let mut parser = SseParser::new();
        let mut head = Some(head);
        let mut held: Vec<Bytes> = Vec::new();
        let mut held_bytes = 0usize;
        let mut sent: u64 = 0;
        // A chat chunk with a finish_reason completes the answer even without `[DONE]`.
        let mut complete = false;
        loop {
            let chunk = match self.next_chunk(&mut response, &mut expired, redactor).await {
                Ok(chunk) => chunk,
                Err(ended) => return ended,
            };
            let (frames, ended) = match chunk {
                Ok(Some(bytes)) => match framer.feed(&bytes) {
                    Ok(frames) => (frames, false),
                    Err(e) => {
                        return self.broken(TransportFailure::Reset, &e.to_string(), redactor);
                    }
                },
                Ok(None) => (framer.finish().into_iter().collect(), true),
                Err(e) => {
                    let detail =
                        format!("{}: {}", display_url(response.url().as_str()), describe(&e));
                    return self.broken(failure_kind(&e), &detail, redactor);
                }
            };
            for (i, frame) in frames.iter().enumerate() {
                let mut events = parser.feed_frame(frame);
                if ended && i + 1 == frames.len() {
                    events.extend(parser.finish());
                }
                let kind = match events.first() {
                    // After the commit point most frames are only passed on: no need to parse
                    // them to know that they neither end nor fail the answer.
                    Some(event) if self.client.streaming() && continues_answer(api, event) => {
                        Frame::Output { last: false }
                    }
                    event => classify_frame(api, event),
                };
                if !self.client.streaming() {
                    match &kind {
                        Frame::Setup if held_bytes + frame.len() <= MAX_HELD => {
                            held_bytes += frame.len();
                            held.push(frame.clone());
                            continue;
                        }
                        Frame::Failed { status, body } => {
                            let (status, body) = (*status, body.clone());
                            return self.stream_refused(status, &body, redactor);
                        }
                        _ => {}
                    }
                    // The commit point: the head and what was held go out first.
                    let Some(head) = head.take() else {
                        return self.gone();
                    };
                    if !self.client.open_stream(head) {
                        return self.gone();
                    }
                    for frame in held.drain(..) {
                        sent += frame.len() as u64;
                        if self.client.send(frame).await.is_err() {
                            return self.gone();
                        }
                    }
                }
                sent += frame.len() as u64;
                if sent > limit {
                    let detail = format!("more than {limit} bytes of answer");
                    return self.broken(TransportFailure::OutputCapped, &detail, redactor);
                }
                if self.client.send(frame.clone()).await.is_err() {
                    return self.gone();
                }
                match kind {
                    Frame::Done => {
                        self.client.finish();
                        drain(&mut response).await;
                        return Outcome::Success;
                    }
                    Frame::Failed { status, body } => {
                        // Passed on as the upstream sent it, in the API's own form; the
                        // request ends there (no replay).
                        self.client.finish();
                        let outcome = classify_response(
                            Some(status),
                            &[] as &[(&str, &str)],
                            &body,
                            time::now(),
                            redactor,
                        );
                        return match outcome {
                            Outcome::Failure(f) => Outcome::Failure(f.after_output()),
                            Outcome::Success => Outcome::Success,
                        };
                    }
                    Frame::Output { last: true } => complete = true,
                    Frame::Output { last: false } | Frame::Setup => {}
                }
            }
            if ended {
                if self.client.streaming() && complete {
                    self.client.finish();
                    return Outcome::Success;
                }
                let detail = "the stream ended before the answer was complete";
                return self.broken(TransportFailure::StreamCut, detail, redactor);
            }
        }
    }

    /// A failure event before the commit point: classified like the HTTP error it stands
    /// for; a rejected request passes it back in the API's error format.
    fn stream_refused(&mut self, status: u16, body: &str, redactor: &Redactor) -> Outcome {
        let body = match self.exchange.surface {
            // `failure_of` writes `{"error": {...}}`; Anthropic's clients read the type too.
            Surface::Messages => serde_json::from_str::<serde_json::Value>(body)
                .map(|v| serde_json::json!({"type": "error", "error": v["error"]}).to_string())
                .unwrap_or_else(|_| body.to_string()),
            Surface::Responses | Surface::Chat => body.to_string(),
        };
        let content_type = Some(HeaderValue::from_static("application/json"));
        self.refused(status, &[], &body, content_type, redactor)
    }

    /// An answer relayed byte for byte, committed at once (it cannot be read).
    async fn relay(
        &mut self,
        mut response: reqwest::Response,
        head: hyper::http::response::Parts,
        mut expired: std::pin::Pin<&mut impl Future<Output = ()>>,
        redactor: &Redactor,
    ) -> Outcome {
        let mut head = head;
        if let Some(encoding) = response.headers().get(header::CONTENT_ENCODING) {
            head.headers
                .insert(header::CONTENT_ENCODING, encoding.clone());
        }
        if !self.client.open_stream(head) {
            return self.gone();
        }
        let limit = self.app.max_output;
        let mut sent = 0u64;
        loop {
            let chunk = match self.next_chunk(&mut response, &mut expired, redactor).await {
                Ok(chunk) => chunk,
                Err(ended) => return ended,
            };
            match chunk {
                Ok(Some(bytes)) => {
                    sent += bytes.len() as u64;
                    if sent > limit {
                        let detail = format!("more than {limit} bytes of answer");
                        return self.broken(TransportFailure::OutputCapped, &detail, redactor);
                    }
                    if self.client.send(bytes).await.is_err() {
                        return self.gone();
                    }
                }
                Ok(None) => {
                    self.client.finish();
                    return Outcome::Success;
                }
                Err(e) => return self.broken(failure_kind(&e), &describe(&e), redactor),
            }
        }
    }
}

impl Ports for ServePorts<'_> {
    fn now(&self) -> Epoch {
        time::now()
    }

    async fn sleep(&mut self, seconds: f64) {
        let seconds = seconds.clamp(0.0, time::MAX_DURATION_S);
        // A client that leaves during a backoff ends the wait; the next attempt sees it gone.
        tokio::select! {
            () = tokio::time::sleep(Duration::from_secs_f64(seconds)) => {}
            () = self.client.gone() => {}
        }
    }

    async fn attempt(&mut self, plan: &AttemptPlan, deadline: Option<Epoch>) -> Result<Outcome> {
        self.forward(plan, deadline).await
    }

    async fn refresh(&mut self, profile: &ProfileRef) -> Result<RefreshResult> {
        let app = self.app;
        let provider = self.exchange.provider.as_str();
        let lock = app.hub.refresh_lock(provider, &profile.id);
        let _one_at_a_time = lock.lock().await;
        let seen = self.seen_refresh.get(&profile.id).cloned().flatten();
        let current = app
            .hub
            .snapshot()
            .doc
            .refresh_token(provider, &profile.id)
            .map(str::to_owned);
        if current.is_some() && current != seen {
            // Another request of this gateway refreshed it while this one waited.
            self.seen_refresh.insert(profile.id.clone(), current);
            return Ok(RefreshResult::Adopted);
        }
        let target = RefreshTarget {
            provider,
            id: &profile.id,
            loaded_refresh_token: seen.as_deref(),
            token_url: &app.token_url,
        };
        let result = refresh::refresh(app.hub.store(), app.transport.client(), target).await?;
        if matches!(result, RefreshResult::Refreshed | RefreshResult::Adopted) {
            // The new pair is on disk: have every request use it from now on.
            app.hub.reload().await;
            let fresh = app.hub.snapshot();
            self.seen_refresh.insert(
                profile.id.clone(),
                fresh
                    .doc
                    .refresh_token(provider, &profile.id)
                    .map(str::to_owned),
            );
        }
        Ok(result)
    }

    async fn persist(&mut self, effects: &[Effect]) -> Result<()> {
        self.app.hub.record(&self.exchange.provider, effects);
        Ok(())
    }

    fn pool_news(&mut self) -> Option<Arc<Vec<Profile>>> {
        self.app
            .hub
            .news(&self.exchange.provider, &mut self.generation)
    }
}

/// Reads what an upstream sends after the end of its answer (its chunked body's terminator),
/// briefly and boundedly, so its connection can serve the next request instead of being
/// closed. The client's answer is complete already.
async fn drain(response: &mut reqwest::Response) {
    const MOST: usize = 64 * 1024;
    let mut read = 0;
    let rest = async {
        while let Ok(Some(bytes)) = response.chunk().await {
            read += bytes.len();
            if read > MOST {
                break;
            }
        }
    };
    let _ = tokio::time::timeout(Duration::from_millis(100), rest).await;
}

/// Resolves at `deadline`, or never.
async fn until(deadline: Option<Instant>) {
    match deadline {
        Some(at) => tokio::time::sleep_until(at.into()).await,
        None => std::future::pending().await,
    }
}

/// A profile that cannot be used (its token vanished, or cannot travel in a header): an auth
/// failure of that profile, so the engine moves on.
fn no_credential(message: &str, redactor: &Redactor) -> Outcome {
    let body = serde_json::json!({"error": {"message": message}}).to_string();
    classify_response(
        Some(401),
        &[] as &[(&str, &str)],
        &body,
        time::now(),
        redactor,
    )
}

/// Request headers never passed upstream: hop-by-hop ones, those rotor sets itself, and
/// whatever identifies the client rather than the request.
const NOT_FORWARDED: &[&str] = &[
    "connection",
    "keep-alive",
    "proxy-connection",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "host",
    "content-length",
    "expect",
    "accept-encoding",
    "forwarded",
    "via",
    "x-real-ip",
    "openai-organization",
    "openai-project",
    "chatgpt-account-id",
];

/// The client headers that may go upstream. Anything whose name says it holds a credential
/// (`authorization`, `x-api-key`, `cookie`, `*-token`, …: the words of
/// [`providers::SECRET_KEY_WORDS`]) is dropped: the client's key is rotor's serve key, and
/// its other credentials belong to other services.
pub(crate) fn forwardable(headers: &HeaderMap) -> HeaderMap {
    let mut out = HeaderMap::with_capacity(headers.len());
    for (name, value) in headers {
        let n = name.as_str();
        let secret = providers::SECRET_KEY_WORDS.iter().any(|w| n.contains(w));
        let dropped = NOT_FORWARDED.contains(&n)
            || n.starts_with("x-forwarded-")
            || n.starts_with("x-rotor-")
            || n.starts_with("proxy-");
        if !secret && !dropped {
            out.append(name.clone(), owned(value));
        }
    }
    out
}

/// `value` in an allocation of its own. Header values parsed by hyper share the connection's
/// read buffer: a request that keeps one (for as long as its stream lasts) keeps that whole
/// buffer, and the connection reads on into a new one.
fn owned(value: &HeaderValue) -> HeaderValue {
    let mut copy = HeaderValue::from_bytes(value.as_bytes()).unwrap_or_else(|_| value.clone());
    copy.set_sensitive(value.is_sensitive());
    copy
}

/// The headers of one attempt: the client's forwardable ones plus the profile's credential
/// headers (which replace any of the same name, except that a client's `anthropic-version`
/// is kept and its `anthropic-beta` flags are added to the credential's). `None` when the
/// credential cannot be a header value.
fn upstream_headers(
    exchange: &Exchange,
    provider: &str,
    credential: Credential<'_>,
) -> Option<HeaderMap> {
    let mut headers = exchange.headers.clone();
    for (name, value) in providers::auth_headers(Api::for_provider(provider), credential) {
        let name = HeaderName::from_static(name);
        let value = match name.as_str() {
            "anthropic-version" if headers.contains_key(&name) => continue,
            "anthropic-beta" => match headers.get(&name).and_then(|v| v.to_str().ok()) {
                Some(theirs) => format!("{value},{theirs}"),
                None => value,
            },
            _ => value,
        };
        let mut value = HeaderValue::from_str(&value).ok()?;
        value.set_sensitive(true);
        headers.insert(name, value);
    }
    // Asked for uncompressed: the frames must be readable (reqwest here decompresses nothing).
    headers.insert(
        header::ACCEPT_ENCODING,
        HeaderValue::from_static("identity"),
    );
    if !headers.contains_key(header::CONTENT_TYPE) {
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
    }
    if !headers.contains_key(header::USER_AGENT) {
        headers.insert(
            header::USER_AGENT,
            HeaderValue::from_static(providers::USER_AGENT),
        );
    }
    if Api::for_provider(provider) == Api::CodexResponses
        && !headers.contains_key("session_id")
        && !headers.contains_key("session-id")
        && let Ok(id) = HeaderValue::from_str(&exchange.request_id)
    {
        headers.insert("session_id", id);
    }
    Some(headers)
}

/// Response headers passed back to the client: the content type and the provider's request
/// ids and rate-limit reports, none whose value holds a secret of the pool.
const PASSED_BACK: &[&str] = &[
    "x-request-id",
    "request-id",
    "openai-",
    "anthropic-",
    "x-ratelimit-",
    "x-codex-",
];

/// The head of a successful answer.
fn answer_head(
    response: &reqwest::Response,
    request_id: &str,
    profile_hash: &str,
    redactor: &Redactor,
) -> hyper::http::response::Parts {
    let (mut head, ()) = hyper::Response::new(()).into_parts();
    head.status = response.status();
    // Room for what is passed back and rotor's own two, so the map is not grown as it fills.
    head.headers.reserve(response.headers().len() + 2);
    for (name, value) in response.headers() {
        let n = name.as_str();
        let passed = n == "content-type" || PASSED_BACK.iter().any(|p| n.starts_with(p));
        // Only the headers passed back are searched for secrets (dates, cookies, trace ids of
        // the upstream are dropped anyway).
        let clean = || {
            value
                .to_str()
                .is_ok_and(|text| redactor.redact(text) == text)
        };
        if passed && clean() {
            head.headers.append(name, value.clone());
        }
    }
    super::tag(&mut head.headers, request_id, Some(profile_hash));
    if head.headers.get(header::CONTENT_TYPE).is_none() {
        head.headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
    }
    head
}

/// An upstream error body with every secret and email address of the pool removed, still in
/// its format: JSON string by JSON string when it is JSON, as text otherwise.
pub(crate) fn redact_body(redactor: &Redactor, body: &str) -> Bytes {
    fn walk(value: &mut serde_json::Value, redactor: &Redactor) {
        match value {
            serde_json::Value::String(text) => *text = redactor.redact(text),
            serde_json::Value::Array(items) => items.iter_mut().for_each(|v| walk(v, redactor)),
            serde_json::Value::Object(map) => {
                let entries = std::mem::take(map);
                for (key, mut v) in entries {
                    walk(&mut v, redactor);
                    map.insert(redactor.redact(&key), v);
                }
            }
            _ => {}
        }
    }
    match serde_json::from_str::<serde_json::Value>(body) {
        Ok(mut value) => {
            walk(&mut value, redactor);
            Bytes::from(value.to_string())
        }
        Err(_) => Bytes::from(redactor.redact(body)),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::pool::AuthType;

    #[test]
    fn client_credentials_and_hop_by_hop_headers_stay_behind() {
        let mut headers = HeaderMap::new();
        for (n, v) in [
            ("authorization", "Bearer client-key"),
            ("x-api-key", "client-key"),
            ("cookie", "a=b"),
            ("x-goog-api-key", "k"),
            ("x-amz-security-token", "t"),
            ("proxy-authorization", "Basic x"),
            ("connection", "keep-alive"),
            ("host", "127.0.0.1"),
            ("content-length", "10"),
            ("accept-encoding", "gzip"),
            ("x-forwarded-for", "10.0.0.1"),
            ("openai-organization", "org-client"),
            ("chatgpt-account-id", "someone-else"),
            ("anthropic-version", "2023-06-01"),
            ("session-id", "s1"),
            ("x-stainless-retry-count", "0"),
            ("user-agent", "OpenAI/Python 3"),
            ("openai-beta", "responses=v1"),
        ] {
            headers.append(HeaderName::from_static(n), HeaderValue::from_static(v));
        }
        let kept = forwardable(&headers);
        let names: Vec<&str> = kept.keys().map(HeaderName::as_str).collect();
        assert_eq!(
            names,
            [
                "anthropic-version",
                "session-id",
                "x-stainless-retry-count",
                "user-agent",
                "openai-beta"
            ]
        );
    }

    fn exchange(headers: HeaderMap) -> Exchange {
        Exchange {
            request_id: "req-1".into(),
            surface: Surface::Responses,
            provider: "openai-codex".into(),
            body: Bytes::from_static(b"{}"),
            model: None,
            headers,
            arrived: Instant::now(),
        }
    }

    #[test]
    fn the_profile_s_credential_headers_are_added() {
        let codex = Credential {
            token: "tok",
            auth_type: AuthType::Oauth,
            account_id: Some("acct"),
        };
        let headers = upstream_headers(&exchange(HeaderMap::new()), "openai-codex", codex).unwrap();
        assert_eq!(headers["authorization"], "Bearer tok");
        assert!(headers["authorization"].is_sensitive());
        assert_eq!(headers["chatgpt-account-id"], "acct");
        assert_eq!(headers["originator"], "codex_cli_rs");
        assert_eq!(headers["session_id"], "req-1");
        assert_eq!(headers["accept-encoding"], "identity");
        let bad = Credential {
            token: "tok\r\nx-evil: 1",
            ..codex
        };
        assert!(upstream_headers(&exchange(HeaderMap::new()), "openai-codex", bad).is_none());
    }

    #[test]
    fn anthropic_keeps_the_client_s_version_and_adds_its_betas() {
        let mut client = HeaderMap::new();
        client.insert("anthropic-version", HeaderValue::from_static("2026-10-21"));
        client.insert("anthropic-beta", HeaderValue::from_static("tools-1"));
        let mut exchange = exchange(client);
        exchange.provider = "anthropic".into();
        let oauth = Credential {
            token: "sk-ant-oat",
            auth_type: AuthType::Oauth,
            account_id: None,
        };
        let headers = upstream_headers(&exchange, "anthropic", oauth).unwrap();
        assert_eq!(headers["anthropic-version"], "2026-10-21");
        assert_eq!(headers["anthropic-beta"], "oauth-2025-04-20,tools-1");
        assert_eq!(headers["authorization"], "Bearer sk-ant-oat");
        assert!(headers.get("session_id").is_none());
    }

    #[test]
    fn error_bodies_lose_their_secrets_and_keep_their_format() {
        let mut redactor = Redactor::new();
        redactor.secret("sk-secret-0123456789abcdef");
        redactor.email("owner@example.com");
        let body = r#"{"error":{"message":"key sk-secret-0123456789abcdef of owner@example.com is bad","type":"invalid_request_error"}}"#;
        let out = redact_body(&redactor, body);
        let value: serde_json::Value = serde_json::from_slice(&out).unwrap();
        let message = value["error"]["message"].as_str().unwrap();
        assert!(!message.contains("sk-secret"), "{message}");
        assert!(!message.contains("owner@"), "{message}");
        assert_eq!(value["error"]["type"], "invalid_request_error");
        let text = redact_body(&redactor, "plain sk-secret-0123456789abcdef");
        assert!(!String::from_utf8_lossy(&text).contains("sk-secret"));
    }
}
