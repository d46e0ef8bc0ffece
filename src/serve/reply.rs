//! What `rotor serve` answers itself: error bodies in each API's own format (so every SDK
//! raises its usual exception with rotor's message in it), the error event that ends a stream
//! broken after its commit point, and the body type of every answer.

use super::routes::Endpoint;
use crate::providers::Api;
use bytes::Bytes;
use http_body::{Frame, SizeHint};
use hyper::StatusCode;
use hyper::header::{HeaderValue, RETRY_AFTER};
use serde_json::json;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use tokio::sync::mpsc;

pub(crate) type Response = hyper::Response<Body>;

/// An answer body: whole, or streamed from the request's task as frames arrive. An `Err` in
/// the stream makes hyper abort the connection, so a client can tell a broken answer from a
/// complete one (a clean end would look like success to every SDK).
#[derive(Debug)]
pub(crate) enum Body {
    Full(Option<Bytes>),
    /// Frames as the request's task sends them; when the sender is gone, the body ends
    /// cleanly, or broken if `aborted` was set first.
    Stream {
        rx: mpsc::Receiver<Bytes>,
        aborted: Arc<AtomicBool>,
        /// Whether hyper was given one chance to write out the last frames before the abort.
        flushed: bool,
    },
}

impl Body {
    pub(crate) fn full(bytes: impl Into<Bytes>) -> Body {
        Body::Full(Some(bytes.into()))
    }
}

/// The answer broke off after its commit point.
#[derive(Debug, Clone, Copy, thiserror::Error)]
#[error("the answer broke off after it had started")]
pub(crate) struct Abort;

impl http_body::Body for Body {
    type Data = Bytes;
    type Error = Abort;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Abort>>> {
        match self.get_mut() {
            Body::Full(bytes) => Poll::Ready(bytes.take().map(|b| Ok(Frame::data(b)))),
            Body::Stream {
                rx,
                aborted,
                flushed,
            } => match rx.poll_recv(cx) {
                Poll::Ready(Some(frame)) => Poll::Ready(Some(Ok(Frame::data(frame)))),
                Poll::Ready(None) if aborted.load(Ordering::Acquire) => {
                    if *flushed {
                        aborted.store(false, Ordering::Release);
                        return Poll::Ready(Some(Err(Abort)));
                    }
                    // hyper drops what it has not written yet when a body fails: pending
                    // once lets it flush the last frames (the error event) to the socket
                    // first; the abort comes on the next poll.
                    *flushed = true;
                    cx.waker().wake_by_ref();
                    Poll::Pending
                }
                Poll::Ready(None) => Poll::Ready(None),
                Poll::Pending => Poll::Pending,
            },
        }
    }

    fn is_end_stream(&self) -> bool {
        matches!(self, Body::Full(None))
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            Body::Full(Some(bytes)) => SizeHint::with_exact(bytes.len() as u64),
            Body::Full(None) => SizeHint::with_exact(0),
            Body::Stream { .. } => SizeHint::default(),
        }
    }
}

/// The longest `Retry-After` of an exhausted pool that still leaves the retry to the client.
pub(crate) const CLIENT_RETRY_MAX_S: u64 = 60;

/// Whose error format an answer uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Shape {
    /// `{"error": {"message", "type", "param", "code"}}`
    OpenAi,
    /// `{"type": "error", "error": {"type", "message"}}`
    Anthropic,
}

impl Shape {
    pub(crate) fn of(endpoint: Option<Endpoint>) -> Shape {
        match endpoint {
            Some(Endpoint::Api(super::routes::Surface::Messages)) => Shape::Anthropic,
            _ => Shape::OpenAi,
        }
    }
}

/// The errors rotor answers itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// No key, or the wrong one.
    Unauthorized,
    NotFound,
    /// The path exists with this other method.
    Method(&'static str),
    /// The body is not one JSON object.
    BadRequest,
    /// The body is larger than `--max-body`.
    TooLarge,
    /// The client took longer than `--client-timeout` to send its request.
    ClientTimeout,
    /// `--max-concurrency` requests are in flight.
    Busy,
    /// Every profile of the pool is cooling or dead; `retry_after` in seconds when one will
    /// be available again.
    PoolExhausted {
        retry_after: Option<u64>,
    },
    /// The transient budget was spent, or the network failed.
    UpstreamUnavailable,
    /// The upstream answered with a redirect, which rotor never follows or passes on.
    BadGateway,
    /// The gateway is shutting down.
    ShuttingDown,
    Internal,
}

impl Refusal {
    pub(crate) fn status(self) -> StatusCode {
        match self {
            Refusal::Unauthorized => StatusCode::UNAUTHORIZED,
            Refusal::NotFound => StatusCode::NOT_FOUND,
            Refusal::Method(_) => StatusCode::METHOD_NOT_ALLOWED,
            Refusal::BadRequest => StatusCode::BAD_REQUEST,
            Refusal::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Refusal::ClientTimeout => StatusCode::REQUEST_TIMEOUT,
            Refusal::PoolExhausted { .. } => StatusCode::TOO_MANY_REQUESTS,
            Refusal::Busy | Refusal::UpstreamUnavailable | Refusal::ShuttingDown => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            Refusal::BadGateway => StatusCode::BAD_GATEWAY,
            Refusal::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The metrics label and the OpenAI `code`.
    pub(crate) fn code(self) -> &'static str {
        match self {
            Refusal::Unauthorized => "invalid_api_key",
            Refusal::NotFound => "not_found",
            Refusal::Method(_) => "method_not_allowed",
            Refusal::BadRequest => "invalid_json",
            Refusal::TooLarge => "request_too_large",
            Refusal::ClientTimeout => "request_timeout",
            Refusal::Busy => "too_many_requests",
            Refusal::PoolExhausted { .. } => "pool_exhausted",
            Refusal::UpstreamUnavailable => "upstream_unavailable",
            Refusal::BadGateway => "upstream_redirect",
            Refusal::ShuttingDown => "shutting_down",
            Refusal::Internal => "internal_error",
        }
    }

    /// The error `type` in the OpenAI and the Anthropic formats.
    fn types(self) -> (&'static str, &'static str) {
        match self {
            Refusal::Unauthorized => ("invalid_request_error", "authentication_error"),
            Refusal::NotFound => ("invalid_request_error", "not_found_error"),
            Refusal::Method(_) | Refusal::BadRequest => {
                ("invalid_request_error", "invalid_request_error")
            }
            Refusal::TooLarge => ("invalid_request_error", "request_too_large"),
            Refusal::ClientTimeout => ("invalid_request_error", "timeout_error"),
            Refusal::PoolExhausted { .. } => ("rate_limit_error", "rate_limit_error"),
            Refusal::Busy | Refusal::ShuttingDown => ("server_error", "overloaded_error"),
            Refusal::UpstreamUnavailable | Refusal::BadGateway | Refusal::Internal => {
                ("server_error", "api_error")
            }
        }
    }

    /// Whether a client should send the same request again by itself. rotor has already
    /// retried and rotated as far as its policy allows: the SDKs' own retries would only
    /// multiply the load. Only "wait a moment and retry" answers (a busy gateway, an exhausted
    /// pool whose next profile is back within [`CLIENT_RETRY_MAX_S`]) leave the SDK to decide:
    /// the Anthropic SDK sleeps a whole `Retry-After` however long, so an hour's wait would
    /// hang its caller for hours instead of raising.
    fn retryable(self) -> bool {
        match self {
            Refusal::Busy => true,
            Refusal::PoolExhausted {
                retry_after: Some(seconds),
            } => seconds <= CLIENT_RETRY_MAX_S,
            _ => false,
        }
    }

    /// The whole answer: status, error body in `shape`, and the headers that go with it.
    pub(crate) fn reply(self, shape: Shape, message: &str) -> Response {
        let (openai_type, anthropic_type) = self.types();
        let body = match shape {
            Shape::OpenAi => json!({"error": {
                "message": message,
                "type": openai_type,
                "param": null,
                "code": self.code(),
            }}),
            Shape::Anthropic => json!({"type": "error", "error": {
                "type": anthropic_type,
                "message": message,
            }}),
        };
        let mut response = Response::new(Body::full(body.to_string()));
        *response.status_mut() = self.status();
        let headers = response.headers_mut();
        headers.insert(
            hyper::header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        let retry_after = match self {
            Refusal::PoolExhausted { retry_after } => retry_after,
            Refusal::Busy => Some(1),
            _ => None,
        };
        if let Some(seconds) = retry_after {
            headers.insert(RETRY_AFTER, HeaderValue::from(seconds));
        }
        if !self.retryable() {
            headers.insert("x-should-retry", HeaderValue::from_static("false"));
        }
        if let Refusal::Method(allowed) = self {
            headers.insert(hyper::header::ALLOW, HeaderValue::from_static(allowed));
        }
        response
    }
}

/// The event that tells a client its stream broke after output had been sent, in the API's
/// own form; the connection is aborted right after it.
pub(crate) fn broken_stream_event(api: Api, message: &str) -> Bytes {
    let text = match api {
        Api::CodexResponses => format!(
            "event: error\ndata: {}\n\n",
            json!({"type": "error", "code": "stream_interrupted", "message": message, "param": null})
        ),
        Api::ChatCompletions => format!(
            "data: {}\n\n",
            json!({"error": {"message": message, "type": "server_error", "param": null, "code": "stream_interrupted"}})
        ),
        Api::AnthropicMessages => format!(
            "event: error\ndata: {}\n\n",
            json!({"type": "error", "error": {"type": "api_error", "message": message}})
        ),
    };
    Bytes::from(text)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use http_body_util::BodyExt;

    async fn body_of(response: Response) -> serde_json::Value {
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        serde_json::from_slice(&bytes).unwrap()
    }

    #[tokio::test]
    async fn errors_come_in_the_api_s_own_format() {
        let r = Refusal::Unauthorized.reply(Shape::OpenAi, "no key");
        assert_eq!(r.status(), 401);
        assert_eq!(r.headers()["x-should-retry"], "false");
        let body = body_of(r).await;
        assert_eq!(body["error"]["message"], "no key");
        assert_eq!(body["error"]["code"], "invalid_api_key");
        assert!(body["error"]["param"].is_null());
        let r = Refusal::Unauthorized.reply(Shape::Anthropic, "no key");
        let body = body_of(r).await;
        assert_eq!(body["type"], "error");
        assert_eq!(body["error"]["type"], "authentication_error");
    }

    #[tokio::test]
    async fn an_exhausted_pool_says_when_to_come_back() {
        let r = Refusal::PoolExhausted {
            retry_after: Some(30),
        }
        .reply(Shape::OpenAi, "m");
        assert_eq!(r.status(), 429);
        assert_eq!(r.headers()[RETRY_AFTER], "30");
        assert!(r.headers().get("x-should-retry").is_none());
        // An SDK must not sleep an hour inside one call: it is told not to retry.
        let r = Refusal::PoolExhausted {
            retry_after: Some(3600),
        }
        .reply(Shape::Anthropic, "m");
        assert_eq!(r.headers()[RETRY_AFTER], "3600");
        assert_eq!(r.headers()["x-should-retry"], "false");
        let r = Refusal::PoolExhausted { retry_after: None }.reply(Shape::OpenAi, "m");
        assert!(r.headers().get(RETRY_AFTER).is_none());
        assert_eq!(r.headers()["x-should-retry"], "false");
        let r = Refusal::Method("GET").reply(Shape::OpenAi, "m");
        assert_eq!(r.headers()[hyper::header::ALLOW], "GET");
    }

    #[test]
    fn broken_stream_events_parse_as_their_api_s_errors() {
        for api in [
            Api::CodexResponses,
            Api::ChatCompletions,
            Api::AnthropicMessages,
        ] {
            let event = broken_stream_event(api, "cut");
            let mut parser = crate::providers::sse::SseParser::new();
            let events = parser.feed(&event);
            assert_eq!(events.len(), 1, "{api:?}");
            let frame = crate::providers::frames::classify_frame(api, events.first());
            assert!(
                matches!(frame, crate::providers::frames::Frame::Failed { .. }),
                "{api:?}: {frame:?}"
            );
        }
    }
}
