//! The classification table of docs/engine.md, in one place: what one attempt's result (HTTP status,
//! headers, body, or a transport failure) means for the request and for the profile.
//!
//! Everything a provider tells about its reset time is read here too, in a fixed order of trust:
//! an absolute `resets_at`, then a relative `resets_in_seconds`, then `Retry-After`, then the
//! wording of the message ("resets in 4hr 5min", "try again in 20s"). The engine only decides
//! what to do with the [`Failure`] this produces; it never looks at a body itself.
//!
//! Bodies are untrusted: anything that is not the expected JSON is classified by status alone,
//! and text kept from it is sanitised and bounded.

mod reset;

use crate::providers::TERMINAL_AUTH_CODES;
use crate::sanitize::Redactor;
use crate::time::Epoch;
use reset::reset_hint;
use serde::Serialize;
use serde_json::{Map, Value};

/// The longest server message kept in events and in `last_error_message`.
pub const MESSAGE_MAX_CHARS: usize = 200;
/// The longest error code or type kept (`error_type`, `last_error_reason`).
pub(crate) const CODE_MAX_CHARS: usize = 64;

/// What kind of failure an attempt met; decides retry, cooldown and rotation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Class {
    /// The profile's quota is spent (429 `usage_limit_reached` and kin): cool it and rotate.
    RateLimit,
    /// A plain 429: slow down on the same profile; a second one cools it.
    Throttled,
    /// 402, or 403 about billing: cool for the TTL and rotate.
    Billing,
    /// 401 whose reason says the credential is gone for good: mark dead and rotate.
    AuthDead,
    /// Other 401/403: refresh an OAuth token once, else cool and rotate.
    Auth,
    /// 408, 5xx, timeouts, connection failures: back off and retry the same profile.
    Transient,
    /// Other 4xx: the request itself is wrong; no retry anywhere helps.
    Request,
    /// A Codex 400 saying the ChatGPT account's plan does not include the model: another
    /// account may have it (under newer Hermes's rules, that model is benched on this one).
    Entitlement,
}

impl Class {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Class::RateLimit => "rate_limit",
            Class::Throttled => "throttled",
            Class::Billing => "billing",
            Class::AuthDead => "auth_dead",
            Class::Auth => "auth",
            Class::Transient => "transient",
            Class::Request => "request",
            Class::Entitlement => "model_entitlement",
        }
    }
}

/// Where a cooldown's end time came from (the `source` of a `profile_cooldown` event).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ResetSource {
    ResetsAt,
    ResetsIn,
    RetryAfter,
    /// No hint from the provider: the fixed TTL by status (Hermes's `_exhausted_ttl`).
    Ttl,
    /// Set by an operator with `rotor cooldown set`.
    Manual,
    /// Found by another host, read from the fleet's shared state (`--state`).
    Fleet,
}

impl ResetSource {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            ResetSource::ResetsAt => "resets_at",
            ResetSource::ResetsIn => "resets_in",
            ResetSource::RetryAfter => "retry_after",
            ResetSource::Ttl => "ttl",
            ResetSource::Manual => "manual",
            ResetSource::Fleet => "fleet",
        }
    }
}

/// When the provider says the limit lifts, as an absolute time.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ResetHint {
    pub at: Epoch,
    pub source: ResetSource,
}

impl ResetHint {
    /// Seconds from `now` until the hinted time, never negative.
    pub(crate) fn seconds_from(&self, now: Epoch) -> f64 {
        (self.at - now).max(0.0)
    }
}

/// A classified failed attempt.
#[derive(Debug, Clone, PartialEq)]
pub struct Failure {
    pub class: Class,
    /// HTTP status, `None` for transport failures.
    pub status: Option<u16>,
    /// `error.code`, else `error.type` of the body (the more specific one first).
    pub error_type: Option<String>,
    /// Sanitised server message, at most [`MESSAGE_MAX_CHARS`] characters.
    pub message: Option<String>,
    pub reset: Option<ResetHint>,
    /// Part of the answer already reached the user: the attempt can never be replayed.
    pub output_started: bool,
}

impl Failure {
    /// Marks the failure as happening after output reached the user (e.g. an error event in
    /// the middle of an SSE stream), which makes the engine end the request without retry.
    pub(crate) fn after_output(mut self) -> Self {
        self.output_started = true;
        self
    }
}

/// The result of one attempt, as the engine consumes it.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Success,
    Failure(Failure),
}

/// Failures below HTTP: no status and no body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransportFailure {
    Timeout,
    Connect,
    Reset,
    /// The response stream ended before it was complete.
    StreamCut,
    /// The answer grew past `--max-output`: rotor stopped reading it.
    OutputCapped,
    /// The client of `rotor serve` went away (or stopped reading): nobody is left to answer,
    /// and the profile did nothing wrong.
    ClientGone,
}

/// Classifies a transport failure. `output_started` says whether any of the answer had already
/// been written out; such a failure ends the request (no replay). `detail` says what happened
/// (the URL and the cause chain); it is cleaned like any text from outside.
pub(crate) fn classify_transport(
    kind: TransportFailure,
    output_started: bool,
    detail: Option<&str>,
    redactor: &Redactor,
) -> Failure {
    let summary = match kind {
        TransportFailure::Timeout => "timed out",
        TransportFailure::Connect => "could not connect",
        TransportFailure::Reset => "connection reset",
        TransportFailure::StreamCut if output_started => "stream cut after output started",
        TransportFailure::StreamCut => "stream cut before any output",
        TransportFailure::OutputCapped => "the answer exceeded --max-output",
        TransportFailure::ClientGone => "the client went away",
    };
    // Nobody is waiting for a retry of a request whose client is gone.
    let gone = kind == TransportFailure::ClientGone;
    let message = match detail {
        Some(detail) => redactor.clean(&format!("{summary}: {detail}"), MESSAGE_MAX_CHARS),
        None => summary.to_string(),
    };
    Failure {
        class: Class::Transient,
        status: None,
        error_type: gone.then(|| "client_closed".to_string()),
        message: Some(message),
        reset: None,
        output_started: output_started || gone,
    }
}

/// Classifies an HTTP response. `status` is `None` when the client got no status line at all
/// (treated as a transient failure). Header names are matched case-insensitively. Never panics,
/// whatever the body holds. Text kept from the body goes through `redactor` (decoded, every
/// secret and email of the pool removed, then bounded).
pub fn classify_response<K, V>(
    status: Option<u16>,
    headers: &[(K, V)],
    body: &str,
    now: Epoch,
    redactor: &Redactor,
) -> Outcome
where
    K: AsRef<str>,
    V: AsRef<str>,
{
    let Some(code) = status else {
        return Outcome::Failure(Failure {
            class: Class::Transient,
            status: None,
            error_type: None,
            message: Some("no HTTP status in the response".into()),
            reset: None,
            output_started: false,
        });
    };
    if (200..300).contains(&code) {
        return Outcome::Success;
    }
    let mut info = BodyInfo::parse(body);
    if (300..400).contains(&code) {
        // rotor follows no redirects (a credential must not travel to another origin): say
        // where the server wanted the request to go instead.
        let location = header(headers, "location")
            .map_or_else(|| "no Location".to_string(), crate::sanitize::display_url);
        info.message = Some(format!(
            "redirected to {location}; rotor follows no redirects"
        ));
    }
    let class = classify_status(code, &info);
    let reset = reset_hint(&info, headers, now);
    Outcome::Failure(Failure {
        class,
        status: Some(code),
        error_type: info.error_type(redactor),
        message: info
            .message
            .as_deref()
            .map(|m| redactor.clean(m, MESSAGE_MAX_CHARS))
            .filter(|m| !m.is_empty()),
        reset,
        output_started: false,
    })
}

/// The first header called `name` (case-insensitively), trimmed.
fn header<'a, K: AsRef<str>, V: AsRef<str>>(headers: &'a [(K, V)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k.as_ref().trim().eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_ref().trim())
}

/// Error codes that mean "this account's quota is spent", on a 429.
const RATE_LIMIT_CODES: &[&str] = &[
    "usage_limit_reached",
    "usage_not_included",
    "insufficient_quota",
];

/// Wording of a 403 that is about money, not identity.
const BILLING_WORDS: &[&str] = &[
    "billing",
    "spending limit",
    "spending-limit",
    "spend limit",
    "payment",
    "insufficient_quota",
    "insufficient credits",
    "insufficient_credits",
    "credit balance",
    "exceeded your current quota",
];

/// What Codex says when a ChatGPT account's plan lacks the model asked for (lower case).
const ENTITLEMENT_WORDS: &[&str] = &["not supported when using codex with a chatgpt account"];

fn classify_status(code: u16, info: &BodyInfo) -> Class {
    match code {
        400 if info.mentions_any(ENTITLEMENT_WORDS) => Class::Entitlement,
        429 if info.has_code(RATE_LIMIT_CODES) || info.says_usage_limit_reached() => {
            Class::RateLimit
        }
        429 => Class::Throttled,
        402 => Class::Billing,
        403 if info.mentions_any(BILLING_WORDS) => Class::Billing,
        401 if info.has_code(TERMINAL_AUTH_CODES) => Class::AuthDead,
        401 | 403 => Class::Auth,
        408 | 500..=599 => Class::Transient,
        // Other 4xx, and the 1xx/3xx a client should never hand over: retrying cannot help.
        100..=499 => Class::Request,
        // Not HTTP at all: a broken upstream, which may be better on the next try.
        _ => Class::Transient,
    }
}

/// What rotor reads from an error body. Every field is optional: bodies vary by provider and
/// may be HTML, empty or garbage.
#[derive(Debug, Default)]
struct BodyInfo {
    code: Option<String>,
    kind: Option<String>,
    message: Option<String>,
    resets_at: Option<Value>,
    resets_in: Option<f64>,
    retry_after: Option<f64>,
}

impl BodyInfo {
    fn parse(body: &str) -> Self {
        let text = body.trim();
        let Ok(Value::Object(top)) = serde_json::from_str::<Value>(text) else {
            // Not a JSON object: keep the text itself as the message, classify by status.
            return BodyInfo {
                message: Some(text.to_string()).filter(|t| !t.is_empty()),
                ..BodyInfo::default()
            };
        };
        let mut info = BodyInfo::default();
        // OpenAI/Codex/Anthropic nest the details in `error`; FastAPI-style servers in `detail`;
        // OAuth token endpoints put a string code in `error` beside `error_description`.
        let nested = match (top.get("error"), top.get("detail")) {
            (Some(Value::Object(inner)), _) | (None, Some(Value::Object(inner))) => Some(inner),
            _ => None,
        };
        if let Some(inner) = nested {
            info.read_fields(inner);
        }
        if nested.is_none() {
            // A flat body: `type` at the top is only a code when nothing is nested (Anthropic's
            // top-level `"type": "error"` is an envelope marker, not a reason).
            info.read_fields(&top);
        }
        if let Some(error) = text_field(&top, "error") {
            // OAuth endpoints: `{"error": "invalid_grant"}` is the code. xAI puts a string
            // `error` beside a structured `code`: then it is the message.
            if info.code.is_none() {
                info.code = Some(error);
            } else if info.message.is_none() {
                info.message = Some(error);
            }
        }
        for key in ["message", "error_description", "detail"] {
            if info.message.is_none() {
                info.message = text_field(&top, key);
            }
        }
        info.resets_at = info.resets_at.or_else(|| non_null(&top, "resets_at"));
        info.resets_in = info
            .resets_in
            .or_else(|| number_field(&top, "resets_in_seconds"));
        info.retry_after = info
            .retry_after
            .or_else(|| number_field(&top, "retry_after"));
        info
    }

    fn read_fields(&mut self, obj: &Map<String, Value>) {
        self.code = self.code.take().or_else(|| text_field(obj, "code"));
        self.kind = self.kind.take().or_else(|| text_field(obj, "type"));
        self.message = self.message.take().or_else(|| text_field(obj, "message"));
        self.resets_at = self
            .resets_at
            .take()
            .or_else(|| non_null(obj, "resets_at").or_else(|| non_null(obj, "reset_at")));
        self.resets_in = self
            .resets_in
            .or_else(|| number_field(obj, "resets_in_seconds"));
        self.retry_after = self
            .retry_after
            .or_else(|| number_field(obj, "retry_after"));
    }

    /// The reason reported in events and stored as `last_error_reason`.
    fn error_type(&self, redactor: &Redactor) -> Option<String> {
        self.code
            .as_deref()
            .or(self.kind.as_deref())
            .map(|t| redactor.clean(t, CODE_MAX_CHARS))
            .filter(|t| !t.is_empty())
    }

    fn has_code(&self, codes: &[&str]) -> bool {
        [&self.code, &self.kind].into_iter().flatten().any(|c| {
            codes
                .iter()
                .any(|known| c.trim().eq_ignore_ascii_case(known))
        })
    }

    fn haystack(&self) -> String {
        [&self.code, &self.kind, &self.message]
            .into_iter()
            .flatten()
            .map(|s| s.to_lowercase())
            .collect::<Vec<_>>()
            .join(" ")
    }

    fn mentions_any(&self, words: &[&str]) -> bool {
        let hay = self.haystack();
        words.iter().any(|w| hay.contains(w))
    }

    /// "The usage limit has been reached", "usage limit reached": the wording Codex and
    /// Hermes use when no code is given.
    fn says_usage_limit_reached(&self) -> bool {
        let Some(message) = &self.message else {
            return false;
        };
        let lower = message.to_lowercase();
        lower
            .find("usage limit")
            .is_some_and(|at| lower[at..].contains("reached"))
    }
}

fn text_field(obj: &Map<String, Value>, key: &str) -> Option<String> {
    match obj.get(key)? {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
        _ => None,
    }
}

fn non_null(obj: &Map<String, Value>, key: &str) -> Option<Value> {
    obj.get(key).filter(|v| !v.is_null()).cloned()
}

/// A number, or a string holding one; finite values only.
fn number_field(obj: &Map<String, Value>, key: &str) -> Option<f64> {
    let n = match obj.get(key)? {
        Value::Number(n) => n.as_f64()?,
        Value::String(s) => s.trim().parse().ok()?,
        _ => return None,
    };
    n.is_finite().then_some(n)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    const NOW: Epoch = 1_795_838_400.0; // 2026-11-28T04:00:00Z
    const NO_HEADERS: &[(&str, &str)] = &[];

    fn failure(status: u16, headers: &[(&str, &str)], body: &str) -> Failure {
        match classify_response(Some(status), headers, body, NOW, &Redactor::new()) {
            Outcome::Failure(f) => f,
            Outcome::Success => panic!("{status} classified as success"),
        }
    }

    fn class(status: u16, body: &str) -> Class {
        failure(status, NO_HEADERS, body).class
    }

    #[test]
    fn success_is_any_2xx() {
        for status in [200, 201, 204, 299] {
            assert_eq!(
                classify_response(Some(status), NO_HEADERS, "garbage", NOW, &Redactor::new()),
                Outcome::Success
            );
        }
    }

    #[test]
    fn the_table_of_design_section_5() {
        let codex = r#"{"error":{"type":"usage_limit_reached","message":"The usage limit has been reached"}}"#;
        assert_eq!(class(429, codex), Class::RateLimit);
        assert_eq!(
            class(429, r#"{"error":{"code":"usage_not_included"}}"#),
            Class::RateLimit
        );
        assert_eq!(
            class(
                429,
                r#"{"error":{"type":"insufficient_quota","code":"insufficient_quota"}}"#
            ),
            Class::RateLimit
        );
        assert_eq!(
            class(
                429,
                r#"{"error":{"message":"Your usage limit has been reached."}}"#
            ),
            Class::RateLimit
        );
        assert_eq!(
            class(
                429,
                r#"{"error":{"message":"Rate limit reached for requests"}}"#
            ),
            Class::Throttled
        );
        assert_eq!(class(429, ""), Class::Throttled);
        assert_eq!(class(402, ""), Class::Billing);
        assert_eq!(
            class(
                403,
                r#"{"error":{"message":"Billing hard limit has been reached"}}"#
            ),
            Class::Billing
        );
        assert_eq!(
            class(
                403,
                r#"{"code":"personal-team-blocked:spending-limit","error":"blocked"}"#
            ),
            Class::Billing
        );
        assert_eq!(
            class(403, r#"{"error":{"message":"forbidden"}}"#),
            Class::Auth
        );
        assert_eq!(
            class(
                401,
                r#"{"error":{"message":"Your authentication token has been invalidated.","type":"invalid_request_error","code":"token_invalidated"}}"#
            ),
            Class::AuthDead
        );
        assert_eq!(
            class(
                401,
                r#"{"error":"invalid_grant","error_description":"bad"}"#
            ),
            Class::AuthDead
        );
        assert_eq!(
            class(401, r#"{"error":{"code":"REFRESH_TOKEN_REUSED"}}"#),
            Class::AuthDead
        );
        assert_eq!(
            class(401, r#"{"error":{"code":"invalid_api_key"}}"#),
            Class::Auth
        );
        assert_eq!(class(401, ""), Class::Auth);
        for status in [408, 500, 502, 503, 504, 529] {
            assert_eq!(
                class(status, "<html>bad gateway</html>"),
                Class::Transient,
                "{status}"
            );
        }
        for status in [400, 404, 409, 413, 422, 301] {
            assert_eq!(
                class(status, r#"{"error":{"type":"invalid_request_error"}}"#),
                Class::Request,
                "{status}"
            );
        }
        assert_eq!(class(600, ""), Class::Transient);
    }

    #[test]
    fn no_status_and_transport_failures_are_transient() {
        let Outcome::Failure(f) = classify_response(None, NO_HEADERS, "", NOW, &Redactor::new())
        else {
            panic!()
        };
        assert_eq!((f.class, f.status), (Class::Transient, None));
        for kind in [
            TransportFailure::Timeout,
            TransportFailure::Connect,
            TransportFailure::Reset,
            TransportFailure::StreamCut,
        ] {
            let f = classify_transport(kind, false, None, &Redactor::new());
            assert_eq!(f.class, Class::Transient);
            assert!(!f.output_started);
        }
        assert!(
            classify_transport(TransportFailure::StreamCut, true, None, &Redactor::new())
                .output_started
        );
        assert!(failure(500, NO_HEADERS, "").after_output().output_started);
    }

    #[test]
    fn error_type_prefers_code_and_reads_each_body_style() {
        let openai = failure(
            401,
            NO_HEADERS,
            r#"{"error":{"type":"invalid_request_error","code":"invalid_api_key","message":"Incorrect API key"}}"#,
        );
        assert_eq!(openai.error_type.as_deref(), Some("invalid_api_key"));
        assert_eq!(openai.message.as_deref(), Some("Incorrect API key"));
        let anthropic = failure(
            529,
            NO_HEADERS,
            r#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#,
        );
        assert_eq!(anthropic.error_type.as_deref(), Some("overloaded_error"));
        assert_eq!(anthropic.message.as_deref(), Some("Overloaded"));
        let oauth = failure(
            400,
            NO_HEADERS,
            r#"{"error":"invalid_request","error_description":"missing param"}"#,
        );
        assert_eq!(oauth.error_type.as_deref(), Some("invalid_request"));
        assert_eq!(oauth.message.as_deref(), Some("missing param"));
        let detail = failure(400, NO_HEADERS, r#"{"detail":"Unsupported model"}"#);
        assert_eq!(
            (detail.error_type, detail.message.as_deref()),
            (None, Some("Unsupported model"))
        );
        let numeric_code = failure(
            500,
            NO_HEADERS,
            r#"{"error":{"code":500,"message":"oops"}}"#,
        );
        assert_eq!(numeric_code.error_type, None);
    }

    #[test]
    fn garbage_bodies_classify_by_status_alone() {
        for body in [
            "",
            "null",
            "[]",
            "42",
            "\"text\"",
            "{",
            "{\"error\": [1,2]}",
            "\u{0}\u{1b}[2J",
            "<html><body>502</body></html>",
        ] {
            assert_eq!(class(429, body), Class::Throttled, "{body:?}");
            assert_eq!(class(503, body), Class::Transient, "{body:?}");
            assert_eq!(class(400, body), Class::Request, "{body:?}");
        }
        let html = failure(502, NO_HEADERS, "<html>\n<b>Bad\x1b[31m gateway</b></html>");
        assert_eq!(
            html.message.as_deref(),
            Some("<html> <b>Bad gateway</b></html>")
        );
        let long = failure(500, NO_HEADERS, &"y".repeat(5000));
        assert_eq!(long.message.unwrap().chars().count(), MESSAGE_MAX_CHARS);
    }

    #[test]
    fn reset_hints_in_order_of_trust() {
        let body = |inner: &str| format!(r#"{{"error":{{"type":"usage_limit_reached"{inner}}}}}"#);
        let at = |f: Failure| f.reset.map(|r| (r.at, r.source.as_str()));
        // Epoch seconds, epoch milliseconds, ISO-8601, and the top-level placement.
        assert_eq!(
            at(failure(
                429,
                NO_HEADERS,
                &body(r#","resets_at":1795846500"#)
            )),
            Some((1795846500.0, "resets_at"))
        );
        assert_eq!(
            at(failure(
                429,
                NO_HEADERS,
                &body(r#","resets_at":1795846500000"#)
            )),
            Some((1795846500.0, "resets_at"))
        );
        assert_eq!(
            at(failure(
                429,
                NO_HEADERS,
                &body(r#","resets_at":"2026-11-28T06:15:00Z""#)
            )),
            Some((1795846500.0, "resets_at"))
        );
        assert_eq!(
            at(failure(
                429,
                NO_HEADERS,
                r#"{"error":{"type":"usage_limit_reached"},"resets_at":1795846500}"#
            )),
            Some((1795846500.0, "resets_at"))
        );
        // resets_at wins over resets_in_seconds, which wins over Retry-After.
        let both = body(r#","resets_at":1795846500,"resets_in_seconds":60"#);
        assert_eq!(
            at(failure(429, &[("Retry-After", "5")], &both)),
            Some((1795846500.0, "resets_at"))
        );
        let rel = body(r#","resets_in_seconds":8100"#);
        assert_eq!(
            at(failure(429, &[("Retry-After", "5")], &rel)),
            Some((NOW + 8100.0, "resets_in"))
        );
        assert_eq!(
            at(failure(429, &[("retry-after", "5")], "")),
            Some((NOW + 5.0, "retry_after"))
        );
        assert_eq!(
            at(failure(429, &[("RETRY-AFTER", " 2.5 ")], "")),
            Some((NOW + 2.5, "retry_after"))
        );
        assert_eq!(
            at(failure(
                503,
                &[("Retry-After", "Sat, 28 Nov 2026 04:01:00 GMT")],
                ""
            )),
            Some((NOW + 60.0, "retry_after"))
        );
        assert_eq!(
            at(failure(429, &[("retry-after-ms", "1500")], "")),
            Some((NOW + 1.5, "retry_after"))
        );
        // Unparseable hints are ignored, never fatal.
        assert_eq!(
            at(failure(
                429,
                &[("Retry-After", "soon")],
                &body(r#","resets_at":"whenever""#)
            )),
            None
        );
        assert_eq!(
            at(failure(
                429,
                NO_HEADERS,
                &body(r#","resets_in_seconds":-5"#)
            )),
            None
        );
    }

    #[test]
    fn reset_wording_in_messages() {
        let msg = |m: &str| {
            failure(
                429,
                NO_HEADERS,
                &format!(r#"{{"error":{{"message":"{m}"}}}}"#),
            )
            .reset
            .map(|r| (((r.at - NOW) * 1000.0).round() / 1000.0, r.source.as_str()))
        };
        assert_eq!(
            msg("Usage limit reached. Resets in 4hr 5min."),
            Some((4.0 * 3600.0 + 300.0, "resets_in"))
        );
        assert_eq!(msg("resets in 45 minutes"), Some((2700.0, "resets_in")));
        assert_eq!(
            msg("Rate limit reached. Please try again in 20s."),
            Some((20.0, "retry_after"))
        );
        assert_eq!(
            msg("Please try again in 1m30s"),
            Some((90.0, "retry_after"))
        );
        assert_eq!(msg("try again in 6ms"), Some((0.006, "retry_after")));
        assert_eq!(msg("Retry after 12 seconds"), Some((12.0, "retry_after")));
        assert_eq!(
            msg("resets in 1 hour and 5 minutes"),
            Some((3900.0, "resets_in"))
        );
        assert_eq!(msg("quotaResetDelay: 500ms"), Some((0.5, "resets_in")));
        assert_eq!(msg("try again later"), None);
        assert_eq!(msg("try again in a few minutes"), None);
    }
}
