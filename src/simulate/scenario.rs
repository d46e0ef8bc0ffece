//! The scenario file of `rotor simulate`: a pool, a policy, requests on a virtual clock and
//! per-profile scripts of provider responses. The format is documented in the README
//! ("Scenario files"); errors name the file, the JSON path and what was expected (exit 7).
//!
//! The pool is read by the same code that reads auth.json (`store::Document`), so a scenario
//! exercises exactly the profiles `call` would see.

use crate::engine::{Policy, TransportFailure};
use crate::error::{Error, Result};
use crate::pool::{Profile, Strategy};
use crate::sanitize::Redactor;
use crate::store::Document;
use crate::time::{self, Epoch};
use serde_json::{Map, Value, json};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// Where the virtual clock starts unless the scenario says otherwise: 2026-11-28T04:00:00Z, the
/// era of the Hermes fixtures, so traces are the same on every day they run.
pub const DEFAULT_START: Epoch = 1_795_838_400.0;
/// How long a scripted response takes unless it says otherwise.
pub const DEFAULT_LATENCY_S: f64 = 0.1;
/// How long a scripted timeout takes unless it says otherwise.
pub const DEFAULT_TIMEOUT_S: f64 = 30.0;

#[derive(Debug, Clone, PartialEq)]
pub struct Scenario {
    /// The file it came from (`<built-in>` for the default one), for messages.
    pub source: PathBuf,
    pub description: Option<String>,
    pub provider: String,
    pub policy: Policy,
    pub seed: Option<u64>,
    pub start: Epoch,
    /// Profiles in priority order.
    pub profiles: Vec<Profile>,
    pub requests: Vec<RequestSpec>,
    /// Scripts by profile id.
    pub scripts: HashMap<String, Script>,
    /// The secrets and emails of the pool: scripted error bodies are cleaned as a real
    /// server's would be.
    pub redactor: Redactor,
}

#[derive(Debug, Clone, PartialEq)]
pub struct RequestSpec {
    pub id: String,
    /// Seconds after the start of the clock.
    pub at: f64,
}

/// What a profile answers, in order, over the whole scenario.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Script {
    pub responses: Vec<Response>,
    pub then: ScriptEnd,
    /// Results of the token refreshes the engine asks for; `refreshed` once they run out.
    pub refresh: Vec<RefreshSpec>,
}

/// What a profile answers once its script has run out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ScriptEnd {
    /// Every later attempt succeeds.
    #[default]
    Success,
    /// The last scripted response repeats forever (success if there was none).
    RepeatLast,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Response {
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
    pub fn success() -> Self {
        Response::Http {
            status: 200,
            headers: vec![],
            body: Body::Raw(String::new()),
            latency: DEFAULT_LATENCY_S,
        }
    }

    pub fn latency(&self) -> f64 {
        match self {
            Response::Http { latency, .. } | Response::Transport { latency, .. } => *latency,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Body {
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
pub enum ResetsAt {
    /// A value put in the body as written (epoch seconds or ms, ISO text).
    Literal(Value),
    /// `+DURATION`: this long after the response, as epoch seconds.
    After(f64),
}

impl Body {
    /// The body text at virtual time `now`.
    pub fn render(&self, now: Epoch) -> String {
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

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefreshSpec {
    Refreshed,
    Adopted,
    /// A passing failure (network, 5xx at the token endpoint).
    Failed,
    /// `invalid_grant`: the grant is gone; the profile is marked dead.
    Dead,
}

const TOP_KEYS: &[&str] = &[
    "description",
    "provider",
    "strategy",
    "seed",
    "start",
    "policy",
    "pool",
    "auth_file",
    "requests",
    "scripts",
    "then",
];
const POLICY_KEYS: &[&str] = &[
    "attempts_per_profile",
    "max_profiles",
    "max_wait",
    "deadline",
    "backoff_base",
    "backoff_cap",
    "max_cooldown",
];
const REQUEST_KEYS: &[&str] = &["id", "at"];
const SCRIPT_KEYS: &[&str] = &["responses", "then", "refresh"];
const HTTP_KEYS: &[&str] = &[
    "status",
    "error_type",
    "message",
    "resets_at",
    "resets_in_seconds",
    "retry_after",
    "headers",
    "body",
    "latency",
];
const TRANSPORT_KEYS: &[&str] = &["transport", "after_output", "latency"];
const SHORTHANDS: &str = "ok, usage_limit, throttled, unavailable, timeout, connect_error, \
                          connection_reset, stream_cut, stream_cut_after_output";

impl Scenario {
    /// Parses a scenario. `path` names it in errors and anchors a relative `auth_file`;
    /// `real_now` only serves a `start` written as `now` or relative to it.
    pub fn parse(path: &Path, bytes: &[u8], real_now: Epoch) -> Result<Scenario> {
        let value: Value = serde_json::from_slice(bytes).map_err(|e| Error::Syntax {
            path: path.to_path_buf(),
            what: "scenario JSON",
            line: e.line(),
            column: e.column(),
            message: strip_position(&e.to_string()),
        })?;
        let top = Obj::new(path, String::new(), &value, "a JSON object (a scenario)")?;
        top.only(TOP_KEYS)?;

        let provider = top
            .string("provider")?
            .unwrap_or_else(|| "openai-codex".into());
        let strategy = match top.get("strategy") {
            None => Strategy::FillFirst,
            Some(Value::String(s)) => Strategy::from_config(s).ok_or_else(|| {
                top.wrong("strategy", "fill_first, round_robin, least_used or random")
            })?,
            Some(_) => {
                return Err(top.wrong("strategy", "fill_first, round_robin, least_used or random"));
            }
        };
        let policy = parse_policy(&top, strategy)?;
        let start = match top.get("start") {
            None => DEFAULT_START,
            Some(Value::String(s)) => time::parse_time_arg(s, real_now)
                .map_err(|_| top.wrong("start", "RFC 3339, @EPOCH, `now` or +DURATION"))?,
            Some(Value::Number(n)) => n
                .as_f64()
                .filter(|n| *n > 0.0)
                .ok_or_else(|| top.wrong("start", "epoch seconds > 0"))?,
            Some(_) => return Err(top.wrong("start", "RFC 3339 text or epoch seconds")),
        };
        let (profiles, redactor) = parse_pool(&top, path, &provider)?;
        let default_end = match top.get("then") {
            None => ScriptEnd::Success,
            Some(_) => parse_then(&top, "then")?,
        };
        let scripts = parse_scripts(&top, &profiles, default_end)?;
        Ok(Scenario {
            source: path.to_path_buf(),
            description: top.string("description")?,
            provider,
            policy,
            seed: top.integer("seed", "an integer ≥ 0")?,
            start,
            requests: parse_requests(&top)?,
            profiles,
            scripts,
            redactor,
        })
    }
}

fn parse_policy(top: &Obj<'_>, strategy: Strategy) -> Result<Policy> {
    let defaults = Policy {
        strategy,
        ..Policy::default()
    };
    let Some(value) = top.get("policy") else {
        return Ok(defaults);
    };
    let p = top.child("policy", value, "an object of policy settings")?;
    p.only(POLICY_KEYS)?;
    let attempts = p.integer("attempts_per_profile", "an integer ≥ 1")?;
    if attempts == Some(0) {
        return Err(p.wrong("attempts_per_profile", "an integer ≥ 1"));
    }
    let max_profiles = p.integer("max_profiles", "an integer ≥ 1")?;
    if max_profiles == Some(0) {
        return Err(p.wrong("max_profiles", "an integer ≥ 1"));
    }
    Ok(Policy {
        strategy,
        attempts_per_profile: attempts.map_or(defaults.attempts_per_profile, |a| {
            a.min(u64::from(u32::MAX)) as u32
        }),
        max_profiles: max_profiles.map(|m| m as usize),
        max_wait_s: p.duration("max_wait")?.unwrap_or(defaults.max_wait_s),
        deadline_s: p.duration("deadline")?,
        backoff_base_s: p
            .duration("backoff_base")?
            .unwrap_or(defaults.backoff_base_s),
        backoff_cap_s: p.duration("backoff_cap")?.unwrap_or(defaults.backoff_cap_s),
        max_cooldown_s: p
            .duration("max_cooldown")?
            .unwrap_or(defaults.max_cooldown_s),
    })
}

/// The pool, inline (`pool`: a list of auth.json entries) or from `auth_file` (read only).
fn parse_pool(top: &Obj<'_>, path: &Path, provider: &str) -> Result<(Vec<Profile>, Redactor)> {
    let (profiles, redactor) = match (top.get("pool"), top.get("auth_file")) {
        (Some(_), Some(_)) => {
            return Err(top.wrong("auth_file", "either `pool` or `auth_file`, not both"));
        }
        (Some(entries), None) => {
            // Wrapped as an auth.json so the store's reader validates it; its messages then
            // name `credential_pool.<provider>`, which in a scenario is `pool`.
            let wrapped = json!({ "credential_pool": { provider: entries } });
            let doc =
                Document::parse(path, wrapped.to_string().as_bytes()).map_err(|e| match e {
                    Error::Schema {
                        path,
                        place,
                        expected,
                    } => Error::Schema {
                        place: place.replacen(&format!("credential_pool.{provider}"), "pool", 1),
                        path,
                        expected,
                    },
                    other => other,
                })?;
            (doc.profiles(provider).unwrap_or_default(), doc.redactor())
        }
        (None, Some(Value::String(file))) => {
            let auth_path = path.parent().unwrap_or(Path::new(".")).join(file);
            let bytes = std::fs::read(&auth_path).map_err(|source| Error::Read {
                path: auth_path.clone(),
                source,
            })?;
            let doc = Document::parse(&auth_path, &bytes)?;
            let profiles = doc.profiles(provider).ok_or_else(|| {
                let known = doc.providers().join(", ");
                top.wrong(
                    "provider",
                    &format!("a provider of {} (it has: {known})", auth_path.display()),
                )
            })?;
            (profiles, doc.redactor())
        }
        (None, Some(_)) => return Err(top.wrong("auth_file", "a path to an auth.json")),
        (None, None) => {
            return Err(top.wrong("pool", "a list of auth.json entries (or `auth_file`)"));
        }
    };
    if profiles.is_empty() {
        return Err(top.wrong("pool", "at least one entry"));
    }
    Ok((profiles, redactor))
}

fn parse_requests(top: &Obj<'_>) -> Result<Vec<RequestSpec>> {
    let named = |i: usize| format!("req-{}", i + 1);
    match top.get("requests") {
        None => Ok(vec![RequestSpec {
            id: named(0),
            at: 0.0,
        }]),
        Some(Value::Number(_)) => {
            let n = top
                .integer("requests", "a count ≥ 1 or a list of requests")?
                .unwrap_or(0);
            if n == 0 || n > 10_000 {
                return Err(top.wrong("requests", "a count from 1 to 10000, or a list of requests"));
            }
            Ok((0..n as usize)
                .map(|i| RequestSpec {
                    id: named(i),
                    at: 0.0,
                })
                .collect())
        }
        Some(Value::Array(items)) if !items.is_empty() => items
            .iter()
            .enumerate()
            .map(|(i, item)| {
                // Built when needed: a long list would spend more on places than on requests.
                let place = || format!("requests[{i}]");
                match item {
                    Value::Number(_) | Value::String(_) => Ok(RequestSpec {
                        id: named(i),
                        at: duration_of(item)
                            .ok_or_else(|| Error::schema(top.path, place(), DURATION_EXPECTED))?,
                    }),
                    Value::Object(_) => {
                        let r = Obj::new(top.path, place(), item, "an object")?;
                        r.only(REQUEST_KEYS)?;
                        Ok(RequestSpec {
                            id: r.string("id")?.unwrap_or_else(|| named(i)),
                            at: r.duration("at")?.unwrap_or(0.0),
                        })
                    }
                    _ => Err(Error::schema(
                        top.path,
                        place(),
                        "seconds after the start, a DURATION, or {\"id\", \"at\"}",
                    )),
                }
            })
            .collect(),
        Some(_) => Err(top.wrong("requests", "a count ≥ 1 or a non-empty list of requests")),
    }
}

fn parse_then(obj: &Obj<'_>, key: &str) -> Result<ScriptEnd> {
    match obj.string(key)?.as_deref() {
        Some("success") => Ok(ScriptEnd::Success),
        Some("repeat_last") => Ok(ScriptEnd::RepeatLast),
        _ => Err(obj.wrong(key, "`success` or `repeat_last`")),
    }
}

fn parse_scripts(
    top: &Obj<'_>,
    profiles: &[Profile],
    default_end: ScriptEnd,
) -> Result<HashMap<String, Script>> {
    let mut scripts = HashMap::new();
    let Some(value) = top.get("scripts") else {
        return Ok(scripts);
    };
    let all = top.child("scripts", value, "an object: profile id or label → script")?;
    for (key, script) in all.map {
        let place = all.place_of(key);
        let id = resolve_profile(top.path, &place, key, profiles)?;
        let parsed = match script {
            Value::Array(items) => Script {
                responses: parse_responses(top.path, &place, items)?,
                then: default_end,
                refresh: vec![],
            },
            Value::Object(_) => {
                let s = Obj::new(top.path, place.clone(), script, "an object")?;
                s.only(SCRIPT_KEYS)?;
                let responses = match s.get("responses") {
                    None => vec![],
                    Some(Value::Array(items)) => {
                        parse_responses(top.path, &s.place_of("responses"), items)?
                    }
                    Some(_) => return Err(s.wrong("responses", "a list of responses")),
                };
                let then = match s.get("then") {
                    None => default_end,
                    Some(_) => parse_then(&s, "then")?,
                };
                Script {
                    responses,
                    then,
                    refresh: parse_refresh(&s)?,
                }
            }
            _ => {
                return Err(Error::schema(
                    top.path,
                    place,
                    "a list of responses or {\"responses\", \"then\", \"refresh\"}",
                ));
            }
        };
        if scripts.insert(id.clone(), parsed).is_some() {
            return Err(Error::schema(
                top.path,
                place,
                format!("one script per profile (`{id}` has two)"),
            ));
        }
    }
    Ok(scripts)
}

/// A script key names a profile by id, else by label (which must then be unique).
fn resolve_profile(path: &Path, place: &str, key: &str, profiles: &[Profile]) -> Result<String> {
    if let Some(p) = profiles.iter().find(|p| p.id == key) {
        return Ok(p.id.clone());
    }
    let by_label: Vec<&Profile> = profiles.iter().filter(|p| p.label == key).collect();
    match by_label[..] {
        [p] => Ok(p.id.clone()),
        [] => {
            let ids: Vec<&str> = profiles.iter().map(|p| p.id.as_str()).collect();
            Err(Error::schema(
                path,
                place,
                format!("the id or label of a pool entry (ids: {})", ids.join(", ")),
            ))
        }
        _ => Err(Error::schema(
            path,
            place,
            "a label used by one entry only (use the id)",
        )),
    }
}

fn parse_refresh(s: &Obj<'_>) -> Result<Vec<RefreshSpec>> {
    let expected = "a list of refreshed, adopted, failed or dead";
    let Some(value) = s.get("refresh") else {
        return Ok(vec![]);
    };
    let Value::Array(items) = value else {
        return Err(s.wrong("refresh", expected));
    };
    items
        .iter()
        .enumerate()
        .map(|(i, item)| match item.as_str() {
            Some("refreshed") => Ok(RefreshSpec::Refreshed),
            Some("adopted") => Ok(RefreshSpec::Adopted),
            Some("failed") => Ok(RefreshSpec::Failed),
            Some("dead") => Ok(RefreshSpec::Dead),
            _ => Err(Error::schema(
                s.path,
                format!("{}[{i}]", s.place_of("refresh")),
                "refreshed, adopted, failed or dead",
            )),
        })
        .collect()
}

fn parse_responses(path: &Path, place: &str, items: &[Value]) -> Result<Vec<Response>> {
    items
        .iter()
        .enumerate()
        .map(|(i, item)| match item {
            // The bulk of a long script, without building the place of an error it cannot have.
            Value::String(s) if s == "ok" || s == "success" => Ok(Response::success()),
            _ => parse_response(path, &format!("{place}[{i}]"), item),
        })
        .collect()
}

fn parse_response(path: &Path, place: &str, item: &Value) -> Result<Response> {
    let http = |status: u16, body: Body| Response::Http {
        status,
        headers: vec![],
        body,
        latency: DEFAULT_LATENCY_S,
    };
    let transport = |kind, after_output| Response::Transport {
        kind,
        after_output,
        latency: if kind == TransportFailure::Timeout {
            DEFAULT_TIMEOUT_S
        } else {
            DEFAULT_LATENCY_S
        },
    };
    match item {
        Value::Number(n) => match n.as_u64().filter(|s| (100..=599).contains(s)) {
            Some(status) => Ok(http(status as u16, Body::Raw(String::new()))),
            None => Err(Error::schema(path, place, "an HTTP status from 100 to 599")),
        },
        Value::String(s) => match s.as_str() {
            "ok" | "success" => Ok(Response::success()),
            "usage_limit" => Ok(http(
                429,
                Body::Error {
                    error_type: Some("usage_limit_reached".into()),
                    message: Some("The usage limit has been reached".into()),
                    resets_at: None,
                    resets_in_seconds: None,
                },
            )),
            "throttled" => Ok(http(429, Body::Raw(String::new()))),
            "unavailable" => Ok(http(503, Body::Raw("Service Unavailable".into()))),
            "timeout" => Ok(transport(TransportFailure::Timeout, false)),
            "connect_error" => Ok(transport(TransportFailure::Connect, false)),
            "connection_reset" => Ok(transport(TransportFailure::Reset, false)),
            "stream_cut" => Ok(transport(TransportFailure::StreamCut, false)),
            "stream_cut_after_output" => Ok(transport(TransportFailure::StreamCut, true)),
            _ => Err(Error::schema(
                path,
                place,
                format!("an HTTP status, an object, or one of: {SHORTHANDS}"),
            )),
        },
        Value::Object(map) if map.contains_key("transport") => {
            let o = Obj::new(path, place.to_string(), item, "an object")?;
            o.only(TRANSPORT_KEYS)?;
            let kind = match o.string("transport")?.as_deref() {
                Some("timeout") => TransportFailure::Timeout,
                Some("connect_error") => TransportFailure::Connect,
                Some("connection_reset") => TransportFailure::Reset,
                Some("stream_cut") => TransportFailure::StreamCut,
                _ => {
                    return Err(o.wrong(
                        "transport",
                        "timeout, connect_error, connection_reset or stream_cut",
                    ));
                }
            };
            let after_output = match o.get("after_output") {
                None => false,
                Some(Value::Bool(b)) => *b,
                Some(_) => return Err(o.wrong("after_output", "true or false")),
            };
            let mut response = transport(kind, after_output);
            if let (Some(latency), Response::Transport { latency: l, .. }) =
                (o.duration("latency")?, &mut response)
            {
                *l = latency;
            }
            Ok(response)
        }
        Value::Object(_) => {
            let o = Obj::new(path, place.to_string(), item, "an object")?;
            o.only(HTTP_KEYS)?;
            let status = match o.integer("status", "an HTTP status from 100 to 599")? {
                Some(s) if (100..=599).contains(&s) => s as u16,
                None => 200,
                Some(_) => return Err(o.wrong("status", "an HTTP status from 100 to 599")),
            };
            let mut headers = vec![];
            match o.get("headers") {
                None => {}
                Some(Value::Object(map)) => {
                    for (name, value) in map {
                        let Some(text) = value
                            .as_str()
                            .map(str::to_owned)
                            .or_else(|| value.as_number().map(|n| n.to_string()))
                        else {
                            return Err(Error::schema(
                                path,
                                format!("{}.{name}", o.place_of("headers")),
                                "a string",
                            ));
                        };
                        headers.push((name.clone(), text));
                    }
                }
                Some(_) => return Err(o.wrong("headers", "an object of header names to values")),
            }
            match o.get("retry_after") {
                None => {}
                Some(Value::Number(n)) => headers.push(("Retry-After".into(), n.to_string())),
                Some(Value::String(s)) => headers.push(("Retry-After".into(), s.clone())),
                Some(_) => return Err(o.wrong("retry_after", "seconds or an HTTP-date")),
            }
            let resets_at = match o.get("resets_at") {
                None => None,
                Some(Value::String(s)) if s.trim_start().starts_with('+') => {
                    let secs = time::parse_duration(&s.trim_start()[1..]).map_err(|_| {
                        o.wrong("resets_at", "epoch seconds, ISO-8601 or +DURATION")
                    })?;
                    Some(ResetsAt::After(secs))
                }
                Some(v @ (Value::String(_) | Value::Number(_))) => {
                    Some(ResetsAt::Literal(v.clone()))
                }
                Some(_) => return Err(o.wrong("resets_at", "epoch seconds, ISO-8601 or +DURATION")),
            };
            let body = match o.get("body") {
                Some(Value::String(text)) => Body::Raw(text.clone()),
                Some(other) => Body::Raw(other.to_string()),
                None => {
                    let error_type = o.string("error_type")?;
                    let message = o.string("message")?;
                    let resets_in_seconds = o.duration("resets_in_seconds")?;
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
                status,
                headers,
                body,
                latency: o.duration("latency")?.unwrap_or(DEFAULT_LATENCY_S),
            })
        }
        _ => Err(Error::schema(
            path,
            place,
            format!("an HTTP status, an object, or one of: {SHORTHANDS}"),
        )),
    }
}

/// A JSON object being read, with its place for messages.
struct Obj<'a> {
    path: &'a Path,
    place: String,
    map: &'a Map<String, Value>,
}

impl<'a> Obj<'a> {
    fn new(path: &'a Path, place: String, value: &'a Value, expected: &str) -> Result<Obj<'a>> {
        match value {
            Value::Object(map) => Ok(Obj { path, place, map }),
            _ => Err(Error::schema(
                path,
                if place.is_empty() {
                    "top level".into()
                } else {
                    place
                },
                expected,
            )),
        }
    }

    fn child(&self, key: &str, value: &'a Value, expected: &str) -> Result<Obj<'a>> {
        Obj::new(self.path, self.place_of(key), value, expected)
    }

    fn place_of(&self, key: &str) -> String {
        if self.place.is_empty() {
            key.to_string()
        } else {
            format!("{}.{key}", self.place)
        }
    }

    fn wrong(&self, key: &str, expected: &str) -> Error {
        Error::schema(self.path, self.place_of(key), expected)
    }

    /// Rejects unknown keys, so a typo is an error rather than a silently ignored setting.
    fn only(&self, known: &[&str]) -> Result<()> {
        match self.map.keys().find(|k| !known.contains(&k.as_str())) {
            Some(key) => Err(self.wrong(key, &format!("one of the keys {}", known.join(", ")))),
            None => Ok(()),
        }
    }

    /// A value that is present and not null.
    fn get(&self, key: &str) -> Option<&'a Value> {
        self.map.get(key).filter(|v| !v.is_null())
    }

    fn string(&self, key: &str) -> Result<Option<String>> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(self.wrong(key, "a string")),
        }
    }

    fn integer(&self, key: &str, expected: &str) -> Result<Option<u64>> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Number(n)) => n
                .as_u64()
                .map(Some)
                .ok_or_else(|| self.wrong(key, expected)),
            Some(_) => Err(self.wrong(key, expected)),
        }
    }

    fn duration(&self, key: &str) -> Result<Option<f64>> {
        self.get(key)
            .map(|v| duration_value(self.path, &self.place_of(key), v))
            .transpose()
    }
}

/// Seconds as a number ≥ 0, or a DURATION string (`90s`, `2h30m`).
fn duration_value(path: &Path, place: &str, value: &Value) -> Result<f64> {
    duration_of(value).ok_or_else(|| Error::schema(path, place, DURATION_EXPECTED))
}

const DURATION_EXPECTED: &str = "seconds ≥ 0 or a DURATION such as 90s, 5m, 2h30m";

fn duration_of(value: &Value) -> Option<f64> {
    match value {
        Value::Number(n) => n
            .as_f64()
            .filter(|s| s.is_finite() && (0.0..=time::MAX_DURATION_S).contains(s)),
        Value::String(s) => time::parse_duration(s).ok(),
        _ => None,
    }
}

/// serde_json appends " at line L column C"; the error carries the position itself.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_string(),
        None => message.to_string(),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn parse(text: &str) -> Result<Scenario> {
        Scenario::parse(Path::new("s.json"), text.as_bytes(), DEFAULT_START)
    }

    fn err(text: &str) -> String {
        let e = parse(text).unwrap_err();
        assert_eq!(e.exit_code(), 7, "{e}");
        e.to_string()
    }

    const POOL: &str = r#""pool": [
        {"id": "a", "label": "a@example.com", "auth_type": "oauth", "access_token": "x", "refresh_token": "r", "priority": 0},
        {"id": "b", "label": "b@example.com", "auth_type": "oauth", "access_token": "x", "refresh_token": "r", "priority": 1}
    ]"#;

    #[test]
    fn defaults() {
        let s = parse(&format!("{{{POOL}}}")).unwrap();
        assert_eq!(s.provider, "openai-codex");
        assert_eq!(s.policy, Policy::default());
        assert_eq!(s.start, DEFAULT_START);
        assert_eq!(
            s.requests,
            [RequestSpec {
                id: "req-1".into(),
                at: 0.0
            }]
        );
        assert!(s.scripts.is_empty());
        assert_eq!(
            s.profiles.iter().map(|p| p.id.as_str()).collect::<Vec<_>>(),
            ["a", "b"]
        );
    }

    #[test]
    fn full_form() {
        let s = parse(&format!(
            r#"{{ {POOL}, "strategy": "round_robin", "seed": 9, "start": "2026-11-28T05:00:00Z",
                "policy": {{"attempts_per_profile": 2, "max_profiles": 1, "max_wait": "5s", "deadline": 90}},
                "requests": [0, "10m", {{"id": "late", "at": "2h"}}],
                "then": "repeat_last",
                "scripts": {{
                    "a": [429, "usage_limit", {{"status": 429, "error_type": "usage_limit_reached", "resets_at": "+1h", "retry_after": 3}},
                          {{"transport": "timeout", "latency": "2s"}}],
                    "b@example.com": {{"responses": ["unavailable"], "then": "success", "refresh": ["dead"]}}
                }} }}"#
        ))
        .unwrap();
        assert_eq!(s.policy.strategy, Strategy::RoundRobin);
        assert_eq!(
            (
                s.policy.attempts_per_profile,
                s.policy.max_profiles,
                s.policy.max_wait_s,
                s.policy.deadline_s
            ),
            (2, Some(1), 5.0, Some(90.0))
        );
        assert_eq!(s.seed, Some(9));
        assert_eq!(s.start, DEFAULT_START + 3600.0);
        assert_eq!(
            s.requests
                .iter()
                .map(|r| (r.id.as_str(), r.at))
                .collect::<Vec<_>>(),
            [("req-1", 0.0), ("req-2", 600.0), ("late", 7200.0)]
        );
        let a = &s.scripts["a"];
        assert_eq!((a.responses.len(), a.then), (4, ScriptEnd::RepeatLast));
        assert_eq!(
            a.responses[3],
            Response::Transport {
                kind: TransportFailure::Timeout,
                after_output: false,
                latency: 2.0
            }
        );
        let Response::Http { headers, body, .. } = &a.responses[2] else {
            panic!()
        };
        assert_eq!(headers, &[("Retry-After".to_string(), "3".to_string())]);
        assert_eq!(
            body.render(1000.0),
            r#"{"error":{"type":"usage_limit_reached","resets_at":4600}}"#
        );
        let b = &s.scripts["b"];
        assert_eq!(
            (b.then, b.refresh.as_slice()),
            (ScriptEnd::Success, &[RefreshSpec::Dead][..])
        );
    }

    #[test]
    fn errors_name_the_place_and_what_was_expected() {
        let e = err("{\n  \"pool\": [\n}");
        assert!(e.starts_with("s.json:3:1: invalid scenario JSON: "), "{e}");
        assert_eq!(
            err("[]"),
            "s.json: top level: expected a JSON object (a scenario)"
        );
        assert!(
            err(&format!(r#"{{ {POOL}, "polcy": {{}} }}"#))
                .starts_with("s.json: polcy: expected one of the keys description, provider,")
        );
        assert_eq!(
            err(&format!(
                r#"{{ {POOL}, "policy": {{"attempts_per_profile": 0}} }}"#
            )),
            "s.json: policy.attempts_per_profile: expected an integer ≥ 1"
        );
        assert_eq!(
            err(&format!(
                r#"{{ {POOL}, "policy": {{"max_wait": "soon"}} }}"#
            )),
            "s.json: policy.max_wait: expected seconds ≥ 0 or a DURATION such as 90s, 5m, 2h30m"
        );
        assert_eq!(
            err(r#"{"pool": [{"id": "a", "priority": "high"}]}"#),
            "s.json: pool[0].priority: expected an integer or null"
        );
        assert_eq!(
            err(r#"{"pool": []}"#),
            "s.json: pool: expected at least one entry"
        );
        assert_eq!(
            err(r#"{}"#),
            "s.json: pool: expected a list of auth.json entries (or `auth_file`)"
        );
        assert_eq!(
            err(&format!(r#"{{ {POOL}, "scripts": {{"zz": []}} }}"#)),
            "s.json: scripts.zz: expected the id or label of a pool entry (ids: a, b)"
        );
        assert_eq!(
            err(&format!(r#"{{ {POOL}, "scripts": {{"a": [200, 700]}} }}"#)),
            "s.json: scripts.a[1]: expected an HTTP status from 100 to 599"
        );
        assert!(
            err(&format!(r#"{{ {POOL}, "scripts": {{"a": ["boom"]}} }}"#)).starts_with(
                "s.json: scripts.a[0]: expected an HTTP status, an object, or one of: ok,"
            )
        );
        assert_eq!(
            err(&format!(
                r#"{{ {POOL}, "scripts": {{"a": [{{"status": 429, "colour": 1}}]}} }}"#
            )),
            format!(
                "s.json: scripts.a[0].colour: expected one of the keys {}",
                HTTP_KEYS.join(", ")
            )
        );
        assert_eq!(
            err(&format!(r#"{{ {POOL}, "strategy": "fastest" }}"#)),
            "s.json: strategy: expected fill_first, round_robin, least_used or random"
        );
        assert_eq!(
            err(&format!(r#"{{ {POOL}, "requests": 0 }}"#)),
            "s.json: requests: expected a count from 1 to 10000, or a list of requests"
        );
        assert_eq!(
            err(&format!(r#"{{ {POOL}, "then": "explode" }}"#)),
            "s.json: then: expected `success` or `repeat_last`"
        );
    }

    #[test]
    fn auth_file_is_read_relative_to_the_scenario() {
        let dir = tempfile::tempdir().unwrap();
        let fixture = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/hermes-0.19/all-unavailable.json");
        std::fs::copy(&fixture, dir.path().join("auth.json")).unwrap();
        let scenario = dir.path().join("s.json");
        let s =
            Scenario::parse(&scenario, br#"{"auth_file": "auth.json"}"#, DEFAULT_START).unwrap();
        assert_eq!(s.profiles.len(), 3);
        let e = Scenario::parse(
            &scenario,
            br#"{"auth_file": "auth.json", "provider": "nope"}"#,
            DEFAULT_START,
        )
        .unwrap_err();
        assert!(
            e.to_string().contains("provider: expected a provider of"),
            "{e}"
        );
        assert!(
            e.to_string()
                .ends_with("(it has: openai-codex, openrouter)"),
            "{e}"
        );
        let e = Scenario::parse(
            &scenario,
            br#"{"auth_file": "missing.json"}"#,
            DEFAULT_START,
        )
        .unwrap_err();
        assert_eq!(e.exit_code(), 7);
    }
}
