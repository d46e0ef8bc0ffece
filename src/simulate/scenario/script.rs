//! What a profile answers in a simulation: its script of responses, what happens once the
//! script runs out, and its token refreshes; each response as the shorthand, the status or the
//! object a scenario writes.

use super::fields::{MapOrNumber, Name, Named, Seconds, Text, map_or_number, object};
use super::{DEFAULT_LATENCY_S, DEFAULT_TIMEOUT_S};
use crate::engine::TransportFailure;
use crate::time::Epoch;
use serde::Deserialize as DeriveDeserialize;
use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Unexpected, Visitor};
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;
use std::fmt;

/// What a profile answers, in order, over the whole scenario.
#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct Script {
    pub responses: Vec<Response>,
    pub then: ScriptEnd,
    /// Results of the token refreshes the engine asks for; `refreshed` once they run out.
    pub refresh: Vec<RefreshSpec>,
}

/// What a profile answers once its script has run out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum ScriptEnd {
    /// Every later attempt succeeds.
    #[default]
    Success,
    /// The last scripted response repeats forever (success if there was none).
    RepeatLast,
}

impl Named for ScriptEnd {
    const EXPECTED: &'static str = "`success` or `repeat_last`";
    fn from_name(name: &str) -> Option<Self> {
        match name {
            "success" => Some(ScriptEnd::Success),
            "repeat_last" => Some(ScriptEnd::RepeatLast),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RefreshSpec {
    Refreshed,
    Adopted,
    /// A passing failure (network, 5xx at the token endpoint).
    Failed,
    /// `invalid_grant`: the grant is gone; the profile is marked dead.
    Dead,
}

impl Named for RefreshSpec {
    const EXPECTED: &'static str = "refreshed, adopted, failed or dead";
    fn from_name(name: &str) -> Option<Self> {
        match name {
            "refreshed" => Some(RefreshSpec::Refreshed),
            "adopted" => Some(RefreshSpec::Adopted),
            "failed" => Some(RefreshSpec::Failed),
            "dead" => Some(RefreshSpec::Dead),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Response {
    Http {
        status: u16,
        headers: Vec<(String, String)>,
        body: Body,
        latency: f64,
    },
    Transport {
        kind: TransportFailure,
        after_output: bool,
        latency: f64,
    },
}

impl Response {
    pub(crate) fn success() -> Self {
        Response::http(200, Body::Raw(String::new()))
    }

    fn http(status: u16, body: Body) -> Self {
        Response::Http {
            status,
            headers: vec![],
            body,
            latency: DEFAULT_LATENCY_S,
        }
    }

    fn transport(kind: TransportFailure, after_output: bool, latency: Option<f64>) -> Self {
        let default = if kind == TransportFailure::Timeout {
            DEFAULT_TIMEOUT_S
        } else {
            DEFAULT_LATENCY_S
        };
        Response::Transport {
            kind,
            after_output,
            latency: latency.unwrap_or(default),
        }
    }

    pub(crate) fn latency(&self) -> f64 {
        match self {
            Response::Http { latency, .. } | Response::Transport { latency, .. } => *latency,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Body {
    /// Sent as written.
    Raw(String),
    /// An OpenAI/Codex-style `{"error": {...}}` body built from these fields.
    Error {
        error_type: Option<String>,
        message: Option<String>,
        resets_at: Option<ResetsAt>,
        resets_in_seconds: Option<f64>,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum ResetsAt {
    /// A value put in the body as written (epoch seconds or ms, ISO text).
    Literal(Value),
    /// `+DURATION`: this long after the response, as epoch seconds.
    After(f64),
}

impl Body {
    /// The body text at virtual time `now`.
    pub(crate) fn render(&self, now: Epoch) -> String {
        match self {
            Body::Raw(text) => text.clone(),
            Body::Error {
                error_type,
                message,
                resets_at,
                resets_in_seconds,
            } => {
                let mut error = Map::new();
                if let Some(t) = error_type {
                    error.insert("type".into(), json!(t));
                }
                if let Some(m) = message {
                    error.insert("message".into(), json!(m));
                }
                match resets_at {
                    Some(ResetsAt::Literal(v)) => {
                        error.insert("resets_at".into(), v.clone());
                    }
                    Some(ResetsAt::After(secs)) => {
                        error.insert("resets_at".into(), json!((now + secs).round() as i64));
                    }
                    None => {}
                }
                if let Some(secs) = resets_in_seconds {
                    error.insert("resets_in_seconds".into(), json!(secs));
                }
                json!({ "error": error }).to_string()
            }
        }
    }
}

/// The shorthands a response may be written as.
pub(crate) const SHORTHANDS: &str = "ok, usage_limit, throttled, unavailable, timeout, connect_error, \
                              connection_reset, stream_cut, stream_cut_after_output";

/// The keys of a response object: an HTTP answer's, then a transport failure's (the order of
/// [`ResponseObject`]'s fields, which an unknown key's error lists).
#[cfg(test)]
pub(crate) const HTTP_KEYS: &[&str] = &[
    "status",
    "error_type",
    "message",
    "resets_at",
    "resets_in_seconds",
    "retry_after",
    "headers",
    "body",
    "latency",
    "transport",
    "after_output",
];

/// A response written as an object: an HTTP answer, or (with `transport`) a failure below HTTP.
/// The fields are in the order of [`HTTP_KEYS`], which an unknown key's error lists.
#[derive(DeriveDeserialize)]
#[serde(deny_unknown_fields)]
struct ResponseObject {
    status: Option<Status>,
    error_type: Option<Text>,
    message: Option<Text>,
    resets_at: Option<ResetsAtSpec>,
    resets_in_seconds: Option<Seconds>,
    retry_after: Option<RetryAfter>,
    headers: Option<Headers>,
    body: Option<Value>,
    latency: Option<Seconds>,
    transport: Option<Name<TransportFailure>>,
    after_output: Option<bool>,
}

impl Named for TransportFailure {
    const EXPECTED: &'static str = "timeout, connect_error, connection_reset or stream_cut";
    fn from_name(name: &str) -> Option<Self> {
        match name {
            "timeout" => Some(TransportFailure::Timeout),
            "connect_error" => Some(TransportFailure::Connect),
            "connection_reset" => Some(TransportFailure::Reset),
            "stream_cut" => Some(TransportFailure::StreamCut),
            _ => None,
        }
    }
}

/// An HTTP status from 100 to 599.
struct Status(u16);

impl<'de> Deserialize<'de> for Status {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Status;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an HTTP status from 100 to 599")
            }
            fn visit_u64<E: de::Error>(self, n: u64) -> Result<Status, E> {
                status(n)
                    .map(Status)
                    .ok_or_else(|| E::invalid_value(Unexpected::Unsigned(n), &self))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Status, A::Error> {
                match map_or_number(map)? {
                    MapOrNumber::Number(n) => {
                        Err(de::Error::invalid_value(Unexpected::Float(n), &self))
                    }
                    MapOrNumber::Map(_) => Err(de::Error::invalid_type(Unexpected::Map, &self)),
                }
            }
        }
        d.deserialize_any(V)
    }
}

fn status(n: u64) -> Option<u16> {
    (100..=599).contains(&n).then_some(n as u16)
}

/// `resets_at`: epoch seconds or ms, ISO-8601 text (both put in the body as written), or
/// `+DURATION` after the response.
struct ResetsAtSpec(ResetsAt);

impl<'de> Deserialize<'de> for ResetsAtSpec {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match Value::deserialize(d)? {
            Value::String(s) if s.trim_start().starts_with('+') => {
                crate::time::parse_duration(&s.trim_start()[1..])
                    .map(|secs| ResetsAtSpec(ResetsAt::After(secs)))
                    .map_err(|_| {
                        de::Error::invalid_value(
                            Unexpected::Str(&s),
                            &"epoch seconds, ISO-8601 or +DURATION",
                        )
                    })
            }
            v @ (Value::String(_) | Value::Number(_)) => Ok(ResetsAtSpec(ResetsAt::Literal(v))),
            _ => Err(de::Error::invalid_type(
                Unexpected::Other("that value"),
                &"epoch seconds, ISO-8601 or +DURATION",
            )),
        }
    }
}

/// `retry_after`: seconds or an HTTP-date, sent as a `Retry-After` header.
struct RetryAfter(String);

impl<'de> Deserialize<'de> for RetryAfter {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match Value::deserialize(d)? {
            Value::Number(n) => Ok(RetryAfter(n.to_string())),
            Value::String(s) => Ok(RetryAfter(s)),
            _ => Err(de::Error::invalid_type(
                Unexpected::Other("that value"),
                &"seconds or an HTTP-date",
            )),
        }
    }
}

/// `headers`: names to values (strings, or numbers written as text).
struct Headers(Vec<(String, String)>);

impl<'de> Deserialize<'de> for Headers {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let map: BTreeMap<String, HeaderValue> = object(d, "an object of header names to values")?;
        Ok(Headers(map.into_iter().map(|(k, v)| (k, v.0)).collect()))
    }
}

struct HeaderValue(String);

impl<'de> Deserialize<'de> for HeaderValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match Value::deserialize(d)? {
            Value::String(s) => Ok(HeaderValue(s)),
            Value::Number(n) => Ok(HeaderValue(n.to_string())),
            _ => Err(de::Error::invalid_type(
                Unexpected::Other("that value"),
                &"a string",
            )),
        }
    }
}

impl ResponseObject {
    fn into_response<E: de::Error>(self) -> Result<Response, E> {
        if let Some(Name(kind)) = self.transport {
            // A failure below HTTP has no status, body or headers.
            let http_only = [
                ("status", self.status.is_some()),
                ("error_type", self.error_type.is_some()),
                ("message", self.message.is_some()),
                ("resets_at", self.resets_at.is_some()),
                ("resets_in_seconds", self.resets_in_seconds.is_some()),
                ("retry_after", self.retry_after.is_some()),
                ("headers", self.headers.is_some()),
                ("body", self.body.is_some()),
            ];
            if let Some((key, _)) = http_only.iter().find(|(_, set)| *set) {
                return Err(E::custom(format!(
                    "expected `transport` with only `after_output` and `latency` (not `{key}`)"
                )));
            }
            return Ok(Response::transport(
                kind,
                self.after_output.unwrap_or(false),
                self.latency.map(|s| s.0),
            ));
        }
        if self.after_output.is_some() {
            return Err(E::custom("expected `after_output` only beside `transport`"));
        }
        let mut headers = self.headers.map(|h| h.0).unwrap_or_default();
        if let Some(RetryAfter(value)) = self.retry_after {
            headers.push(("Retry-After".into(), value));
        }
        let body = match self.body {
            Some(Value::String(text)) => Body::Raw(text),
            Some(other) => Body::Raw(other.to_string()),
            None => {
                let error_type = self.error_type.map(|t| t.0);
                let message = self.message.map(|m| m.0);
                let resets_at = self.resets_at.map(|r| r.0);
                let resets_in_seconds = self.resets_in_seconds.map(|s| s.0);
                if error_type.is_none()
                    && message.is_none()
                    && resets_at.is_none()
                    && resets_in_seconds.is_none()
                {
                    Body::Raw(String::new())
                } else {
                    Body::Error {
                        error_type,
                        message,
                        resets_at,
                        resets_in_seconds,
                    }
                }
            }
        };
        Ok(Response::Http {
            status: self.status.map_or(200, |s| s.0),
            headers,
            body,
            latency: self.latency.map_or(DEFAULT_LATENCY_S, |s| s.0),
        })
    }
}

impl<'de> Deserialize<'de> for Response {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Response;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "an HTTP status, an object, or one of: {SHORTHANDS}")
            }
            fn visit_u64<E: de::Error>(self, n: u64) -> Result<Response, E> {
                match status(n) {
                    Some(code) => Ok(Response::http(code, Body::Raw(String::new()))),
                    None => Err(E::invalid_value(
                        Unexpected::Unsigned(n),
                        &"an HTTP status from 100 to 599",
                    )),
                }
            }
            fn visit_i64<E: de::Error>(self, n: i64) -> Result<Response, E> {
                Err(E::invalid_value(
                    Unexpected::Signed(n),
                    &"an HTTP status from 100 to 599",
                ))
            }
            fn visit_f64<E: de::Error>(self, n: f64) -> Result<Response, E> {
                Err(E::invalid_value(
                    Unexpected::Float(n),
                    &"an HTTP status from 100 to 599",
                ))
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Response, E> {
                let http = Response::http;
                let transport = |kind, after| Response::transport(kind, after, None);
                Ok(match s {
                    "ok" | "success" => Response::success(),
                    "usage_limit" => http(
                        429,
                        Body::Error {
                            error_type: Some("usage_limit_reached".into()),
                            message: Some("The usage limit has been reached".into()),
                            resets_at: None,
                            resets_in_seconds: None,
                        },
                    ),
                    "throttled" => http(429, Body::Raw(String::new())),
                    "unavailable" => http(503, Body::Raw("Service Unavailable".into())),
                    "timeout" => transport(TransportFailure::Timeout, false),
                    "connect_error" => transport(TransportFailure::Connect, false),
                    "connection_reset" => transport(TransportFailure::Reset, false),
                    "stream_cut" => transport(TransportFailure::StreamCut, false),
                    "stream_cut_after_output" => transport(TransportFailure::StreamCut, true),
                    _ => return Err(E::invalid_value(Unexpected::Str(s), &self)),
                })
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Response, A::Error> {
                match map_or_number(map)? {
                    MapOrNumber::Number(n) => Err(de::Error::invalid_value(
                        Unexpected::Float(n),
                        &"an HTTP status from 100 to 599",
                    )),
                    MapOrNumber::Map(map) => {
                        ResponseObject::deserialize(de::value::MapAccessDeserializer::new(map))?
                            .into_response()
                    }
                }
            }
        }
        d.deserialize_any(V)
    }
}

/// A script as written: a list of responses, or an object with `responses`, `then` and
/// `refresh`. `then` is `None` when the script does not say (the scenario's default applies).
pub(super) struct ScriptSpec {
    pub responses: Vec<Response>,
    pub then: Option<ScriptEnd>,
    pub refresh: Vec<RefreshSpec>,
}

#[derive(DeriveDeserialize)]
#[serde(deny_unknown_fields)]
struct ScriptObject {
    responses: Option<Responses>,
    then: Option<Name<ScriptEnd>>,
    refresh: Option<Refreshes>,
}

/// `responses`: a list of responses.
struct Responses(Vec<Response>);

impl<'de> Deserialize<'de> for Responses {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        list(d, "a list of responses").map(Responses)
    }
}

/// `refresh`: a list of refresh results.
struct Refreshes(Vec<RefreshSpec>);

impl<'de> Deserialize<'de> for Refreshes {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let names: Vec<Name<RefreshSpec>> =
            list(d, "a list of refreshed, adopted, failed or dead")?;
        Ok(Refreshes(names.into_iter().map(|n| n.0).collect()))
    }
}

/// A JSON list of `T`; `expected` names it when the value is something else.
fn list<'de, T: Deserialize<'de>, D: Deserializer<'de>>(
    d: D,
    expected: &'static str,
) -> Result<Vec<T>, D::Error> {
    struct V<T>(&'static str, std::marker::PhantomData<T>);
    impl<'de, T: Deserialize<'de>> Visitor<'de> for V<T> {
        type Value = Vec<T>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str(self.0)
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<T>, A::Error> {
            let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(1 << 16));
            while let Some(item) = seq.next_element()? {
                items.push(item);
            }
            Ok(items)
        }
    }
    d.deserialize_seq(V(expected, std::marker::PhantomData))
}

impl<'de> Deserialize<'de> for ScriptSpec {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = ScriptSpec;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a list of responses or {\"responses\", \"then\", \"refresh\"}")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<ScriptSpec, A::Error> {
                let responses =
                    Vec::<Response>::deserialize(de::value::SeqAccessDeserializer::new(seq))?;
                Ok(ScriptSpec {
                    responses,
                    then: None,
                    refresh: vec![],
                })
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<ScriptSpec, A::Error> {
                let o = ScriptObject::deserialize(de::value::MapAccessDeserializer::new(map))?;
                Ok(ScriptSpec {
                    responses: o.responses.map(|r| r.0).unwrap_or_default(),
                    then: o.then.map(|n| n.0),
                    refresh: o.refresh.map(|r| r.0).unwrap_or_default(),
                })
            }
        }
        d.deserialize_any(V)
    }
}
