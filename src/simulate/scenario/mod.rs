//! The scenario file of `rotor simulate`: a pool, a policy, requests on a virtual clock and
//! per-profile scripts of provider responses. The format is documented in the README
//! ("Scenario format"); errors name the file, the JSON path and what was expected (exit 7).
//!
//! The file is read by serde into the types below (every object denies unknown keys, so a typo
//! is an error rather than a silently ignored setting), with the path of a bad value kept by
//! `serde_path_to_error`; what needs the whole file (the pool, which scripts name) is checked
//! after. The pool is read by the same code that reads auth.json (`store::Document`), so a
//! scenario exercises exactly the profiles `call` would see.

mod fields;
mod script;

#[cfg(test)]
pub(crate) use script::Body;
pub(crate) use script::{RefreshSpec, Response, Script, ScriptEnd};

use crate::engine::Policy;
use crate::error::{Error, Result};
use crate::pool::{HermesRules, Profile, Strategy};
use crate::sanitize::Redactor;
use crate::store::{Document, EnvLookup, ReadOptions};
use crate::time::{self, Epoch};
use fields::{
    AtLeast, DURATION_EXPECTED, MapOrNumber, Name, Named, Seconds, Text, map_or_number, object,
};
use script::ScriptSpec;
use serde::Deserialize as DeriveDeserialize;
use serde::de::{self, Deserialize, Deserializer, SeqAccess, Unexpected, Visitor};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};

/// Where the virtual clock starts unless the scenario says otherwise: 2026-11-28T04:00:00Z, the
/// era of the Hermes fixtures, so traces are the same on every day they run.
pub(crate) const DEFAULT_START: Epoch = 1_795_838_400.0;
/// How long a scripted response takes unless it says otherwise.
pub(crate) const DEFAULT_LATENCY_S: f64 = 0.1;
/// How long a scripted timeout takes unless it says otherwise.
pub(crate) const DEFAULT_TIMEOUT_S: f64 = 30.0;

#[derive(Debug, Clone, PartialEq)]
pub struct Scenario {
    /// The file it came from (`<built-in>` for the default one), for messages.
    pub(crate) source: PathBuf,
    pub(crate) description: Option<String>,
    pub(crate) provider: String,
    pub(crate) policy: Policy,
    pub(crate) seed: Option<u64>,
    pub(crate) start: Epoch,
    /// Profiles in priority order.
    pub(crate) profiles: Vec<Profile>,
    pub requests: Vec<RequestSpec>,
    /// Scripts by profile id.
    pub(crate) scripts: HashMap<String, Script>,
    /// The secrets and emails of the pool: scripted error bodies are cleaned as a real
    /// server's would be.
    pub(crate) redactor: Redactor,
}

#[derive(Debug, Clone, PartialEq)]
pub struct RequestSpec {
    pub id: String,
    /// Seconds after the start of the clock.
    pub at: f64,
    /// The model the request asks for (availability is per model under newer Hermes).
    pub model: Option<String>,
}

/// The file as written. The fields are in the order an unknown key's error lists them.
#[derive(DeriveDeserialize)]
#[serde(deny_unknown_fields)]
struct ScenarioFile {
    description: Option<Text>,
    provider: Option<Text>,
    strategy: Option<Name<Strategy>>,
    seed: Option<AtLeast<0>>,
    start: Option<Value>,
    #[serde(default, deserialize_with = "policy")]
    policy: Option<PolicyFile>,
    pool: Option<Value>,
    auth_file: Option<Value>,
    requests: Option<Requests>,
    #[serde(default, deserialize_with = "scripts")]
    scripts: Option<Vec<(String, ScriptSpec)>>,
    then: Option<Name<ScriptEnd>>,
    hermes: Option<Name<HermesRules>>,
}

impl Named for HermesRules {
    const EXPECTED: &'static str = "0.19 or main";
    fn from_name(name: &str) -> Option<Self> {
        match name {
            "0.19" => Some(HermesRules::V019),
            "main" => Some(HermesRules::Main),
            _ => None,
        }
    }
}

impl Named for Strategy {
    const EXPECTED: &'static str = "fill_first, round_robin, least_used or random";
    fn from_name(name: &str) -> Option<Self> {
        Strategy::from_config(name)
    }
}

#[derive(DeriveDeserialize)]
#[serde(deny_unknown_fields)]
struct PolicyFile {
    attempts_per_profile: Option<AtLeast<1>>,
    max_profiles: Option<AtLeast<1>>,
    max_wait: Option<Seconds>,
    deadline: Option<Seconds>,
    backoff_base: Option<Seconds>,
    backoff_cap: Option<Seconds>,
    max_cooldown: Option<Seconds>,
}

fn policy<'de, D: Deserializer<'de>>(d: D) -> Result<Option<PolicyFile>, D::Error> {
    Option::<PolicyObject>::deserialize(d).map(|p| p.map(|p| p.0))
}

struct PolicyObject(PolicyFile);

impl<'de> Deserialize<'de> for PolicyObject {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        object(d, "an object of policy settings").map(PolicyObject)
    }
}

/// `scripts`: profile id or label → script, in file order (a later key naming the same profile
/// is an error found after parsing).
fn scripts<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<(String, ScriptSpec)>>, D::Error> {
    Option::<ScriptMap>::deserialize(d).map(|s| s.map(|s| s.0))
}

struct ScriptMap(Vec<(String, ScriptSpec)>);

impl<'de> Deserialize<'de> for ScriptMap {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = ScriptMap;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object: profile id or label → script")
            }
            fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> Result<ScriptMap, A::Error> {
                let mut scripts = Vec::new();
                while let Some((key, script)) = map.next_entry::<String, ScriptSpec>()? {
                    scripts.push((key, script));
                }
                Ok(ScriptMap(scripts))
            }
        }
        d.deserialize_map(V)
    }
}

/// `requests`: a count (all at 0), or a list of arrival times / `{"id", "at"}` objects.
enum Requests {
    Count(u64),
    List(Vec<RequestItem>),
}

/// The most requests a count may ask for (a list may hold more).
const MAX_COUNT: u64 = 10_000;

impl<'de> Deserialize<'de> for Requests {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Requests;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a count ≥ 1 or a non-empty list of requests")
            }
            fn visit_u64<E: de::Error>(self, n: u64) -> Result<Requests, E> {
                if (1..=MAX_COUNT).contains(&n) {
                    Ok(Requests::Count(n))
                } else {
                    Err(E::invalid_value(
                        Unexpected::Unsigned(n),
                        &"a count from 1 to 10000, or a list of requests",
                    ))
                }
            }
            fn visit_i64<E: de::Error>(self, n: i64) -> Result<Requests, E> {
                Err(E::invalid_value(
                    Unexpected::Signed(n),
                    &"a count from 1 to 10000, or a list of requests",
                ))
            }
            fn visit_f64<E: de::Error>(self, n: f64) -> Result<Requests, E> {
                Err(E::invalid_value(
                    Unexpected::Float(n),
                    &"a count from 1 to 10000, or a list of requests",
                ))
            }
            fn visit_map<A: de::MapAccess<'de>>(self, map: A) -> Result<Requests, A::Error> {
                match map_or_number(map)? {
                    MapOrNumber::Number(n) => self.visit_f64(n),
                    MapOrNumber::Map(_) => Err(de::Error::invalid_type(Unexpected::Map, &self)),
                }
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Requests, A::Error> {
                let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(1 << 20));
                while let Some(item) = seq.next_element::<RequestItem>()? {
                    items.push(item);
                }
                if items.is_empty() {
                    return Err(de::Error::invalid_length(0, &self));
                }
                Ok(Requests::List(items))
            }
        }
        d.deserialize_any(V)
    }
}

/// One request of the list: its arrival time, or `{"id", "at"}`.
struct RequestItem {
    id: Option<String>,
    at: f64,
    model: Option<String>,
}

#[derive(DeriveDeserialize)]
#[serde(deny_unknown_fields)]
struct RequestObject {
    id: Option<Text>,
    at: Option<Seconds>,
    model: Option<Text>,
}

impl<'de> Deserialize<'de> for RequestItem {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = RequestItem;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("seconds after the start, a DURATION, or {\"id\", \"at\"}")
            }
            fn visit_u64<E: de::Error>(self, n: u64) -> Result<RequestItem, E> {
                self.visit_f64(n as f64)
            }
            fn visit_i64<E: de::Error>(self, n: i64) -> Result<RequestItem, E> {
                self.visit_f64(n as f64)
            }
            fn visit_f64<E: de::Error>(self, n: f64) -> Result<RequestItem, E> {
                let at = Seconds::deserialize(de::value::F64Deserializer::<E>::new(n))
                    .map_err(|_| E::invalid_value(Unexpected::Float(n), &DURATION_EXPECTED))?;
                Ok(RequestItem {
                    id: None,
                    at: at.0,
                    model: None,
                })
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<RequestItem, E> {
                let at = time::parse_duration(s)
                    .map_err(|_| E::invalid_value(Unexpected::Str(s), &DURATION_EXPECTED))?;
                Ok(RequestItem {
                    id: None,
                    at,
                    model: None,
                })
            }
            fn visit_map<A: de::MapAccess<'de>>(self, map: A) -> Result<RequestItem, A::Error> {
                match map_or_number(map)? {
                    MapOrNumber::Number(n) => self.visit_f64(n),
                    MapOrNumber::Map(map) => {
                        let r =
                            RequestObject::deserialize(de::value::MapAccessDeserializer::new(map))?;
                        Ok(RequestItem {
                            id: r.id.map(|t| t.0),
                            at: r.at.map_or(0.0, |s| s.0),
                            model: r.model.map(|t| t.0),
                        })
                    }
                }
            }
        }
        d.deserialize_any(V)
    }
}

/// The scenario as a whole must be an object.
struct TopObject(ScenarioFile);

impl<'de> Deserialize<'de> for TopObject {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        object(d, "a JSON object (a scenario)").map(TopObject)
    }
}

impl Scenario {
    /// Parses a scenario. `path` names it in errors and anchors a relative `auth_file`;
    /// `real_now` only serves a `start` written as `now` or relative to it.
    pub fn parse(path: &Path, bytes: &[u8], real_now: Epoch) -> Result<Scenario> {
        let mut reader = serde_json::Deserializer::from_slice(bytes);
        let TopObject(file) =
            serde_path_to_error::deserialize(&mut reader).map_err(|e| fields::error(path, e))?;
        // Characters after the object are a syntax error, as anywhere in JSON.
        reader.end().map_err(|e| fields::syntax(path, &e))?;
        let wrong = |place: &str, expected: &str| Error::schema(path, place, expected);

        let provider = file.provider.map_or_else(|| "openai-codex".into(), |t| t.0);
        let strategy = file.strategy.map_or(Strategy::FillFirst, |s| s.0);
        let defaults = Policy {
            strategy,
            ..Policy::default()
        };
        let policy = match file.policy {
            None => defaults,
            Some(p) => Policy {
                strategy,
                attempts_per_profile: p
                    .attempts_per_profile
                    .map_or(defaults.attempts_per_profile, |a| {
                        a.0.min(u64::from(u32::MAX)) as u32
                    }),
                max_profiles: p.max_profiles.map(|m| m.0 as usize),
                max_wait_s: p.max_wait.map_or(defaults.max_wait_s, |s| s.0),
                deadline_s: p.deadline.map(|s| s.0),
                backoff_base_s: p.backoff_base.map_or(defaults.backoff_base_s, |s| s.0),
                backoff_cap_s: p.backoff_cap.map_or(defaults.backoff_cap_s, |s| s.0),
                max_cooldown_s: p.max_cooldown.map_or(defaults.max_cooldown_s, |s| s.0),
            },
        };
        let start = match file.start {
            None | Some(Value::Null) => DEFAULT_START,
            Some(Value::String(s)) => time::parse_time_arg(&s, real_now)
                .map_err(|_| wrong("start", "RFC 3339, @EPOCH, `now` or +DURATION"))?,
            Some(Value::Number(n)) => n
                .as_f64()
                .filter(|n| *n > 0.0)
                .ok_or_else(|| wrong("start", "epoch seconds > 0"))?,
            Some(_) => return Err(wrong("start", "RFC 3339 text or epoch seconds")),
        };
        let options = ReadOptions {
            rules: file.hermes.map(|h| h.0),
            env: EnvLookup::Nowhere,
        };
        let (profiles, redactor) = read_pool(path, file.pool, file.auth_file, &provider, &options)?;
        let default_end = file.then.map_or(ScriptEnd::Success, |t| t.0);
        let scripts = resolve_scripts(
            path,
            file.scripts.unwrap_or_default(),
            &profiles,
            default_end,
        )?;
        let named = |i: usize| format!("req-{}", i + 1);
        let requests = match file.requests {
            None => vec![RequestSpec {
                id: named(0),
                at: 0.0,
                model: None,
            }],
            Some(Requests::Count(n)) => (0..n as usize)
                .map(|i| RequestSpec {
                    id: named(i),
                    at: 0.0,
                    model: None,
                })
                .collect(),
            Some(Requests::List(items)) => items
                .into_iter()
                .enumerate()
                .map(|(i, r)| match r.model {
                    Some(model) if !crate::pool::is_model_name(&model) => Err(wrong(
                        &format!("requests[{i}].model"),
                        "a model name (1 to 200 characters, no spaces or control characters)",
                    )),
                    model => Ok(RequestSpec {
                        id: r.id.unwrap_or_else(|| named(i)),
                        at: r.at,
                        model,
                    }),
                })
                .collect::<Result<_>>()?,
        };
        Ok(Scenario {
            source: path.to_path_buf(),
            description: file.description.map(|t| t.0),
            provider,
            policy,
            seed: file.seed.map(|s| s.0),
            start,
            requests,
            profiles,
            scripts,
            redactor,
        })
    }
}

/// The pool, inline (`pool`: a list of auth.json entries) or from `auth_file` (read only), with
/// the redactor of its secrets.
fn read_pool(
    path: &Path,
    pool: Option<Value>,
    auth_file: Option<Value>,
    provider: &str,
    options: &ReadOptions,
) -> Result<(Vec<Profile>, Redactor)> {
    let wrong = |place: &str, expected: &str| Error::schema(path, place, expected);
    let (profiles, redactor) = match (
        pool.filter(|v| !v.is_null()),
        auth_file.filter(|v| !v.is_null()),
    ) {
        (Some(_), Some(_)) => {
            return Err(wrong("auth_file", "either `pool` or `auth_file`, not both"));
        }
        (Some(entries @ Value::Array(_)), None) => {
            // Wrapped as an auth.json so the store's reader validates it; its messages then
            // name `credential_pool.<provider>`, which in a scenario is `pool`.
            let wrapped = json!({ "credential_pool": { provider: entries } });
            let doc = Document::parse_with(path, wrapped.to_string().as_bytes(), options).map_err(
                |e| match e {
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
                },
            )?;
            (doc.profiles(provider).unwrap_or_default(), doc.redactor())
        }
        (None, Some(Value::String(file))) => {
            let auth_path = path.parent().unwrap_or(Path::new(".")).join(file);
            let bytes = std::fs::read(&auth_path).map_err(|source| Error::Read {
                path: auth_path.clone(),
                source,
            })?;
            let doc = Document::parse_with(&auth_path, &bytes, options)?;
            let profiles = doc.profiles(provider).ok_or_else(|| {
                let known = doc.providers().join(", ");
                wrong(
                    "provider",
                    &format!("a provider of {} (it has: {known})", auth_path.display()),
                )
            })?;
            (profiles, doc.redactor())
        }
        (None, Some(_)) => return Err(wrong("auth_file", "a path to an auth.json")),
        (_, None) => {
            return Err(wrong(
                "pool",
                "a list of auth.json entries (or `auth_file`)",
            ));
        }
    };
    if profiles.is_empty() {
        return Err(wrong("pool", "at least one entry"));
    }
    Ok((profiles, redactor))
}

/// Each script's key names a profile by id, else by label (which must then be unique); one
/// script per profile.
fn resolve_scripts(
    path: &Path,
    written: Vec<(String, ScriptSpec)>,
    profiles: &[Profile],
    default_end: ScriptEnd,
) -> Result<HashMap<String, Script>> {
    let mut scripts = HashMap::new();
    for (key, spec) in written {
        let place = format!("scripts.{key}");
        let id = resolve_profile(path, &place, &key, profiles)?;
        let script = Script {
            responses: spec.responses,
            then: spec.then.unwrap_or(default_end),
            refresh: spec.refresh,
        };
        if scripts.insert(id.clone(), script).is_some() {
            return Err(Error::schema(
                path,
                place,
                format!("one script per profile (`{id}` has two)"),
            ));
        }
    }
    Ok(scripts)
}

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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::engine::TransportFailure;
    use script::HTTP_KEYS;

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
                at: 0.0,
                model: None,
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
    fn numbers_that_are_not_integers_are_read_as_numbers() {
        // auth.json's number handling (serde_json's `arbitrary_precision`) hands such numbers
        // over in a form of their own; a scenario still reads them as the numbers they are.
        let s = parse(&format!(
            r#"{{ {POOL}, "start": 1795838400.5,
                "policy": {{"max_wait": 2.5, "backoff_base": 0.25, "deadline": 1e2}},
                "requests": [0.5, {{"at": 1.25}}],
                "scripts": {{"a": [{{"status": 503, "latency": 0.75}}, {{"transport": "timeout", "latency": 1.5}}]}} }}"#
        ))
        .unwrap();
        assert_eq!(s.start, 1_795_838_400.5);
        assert_eq!(
            (
                s.policy.max_wait_s,
                s.policy.backoff_base_s,
                s.policy.deadline_s
            ),
            (2.5, 0.25, Some(100.0))
        );
        assert_eq!(
            s.requests.iter().map(|r| r.at).collect::<Vec<_>>(),
            [0.5, 1.25]
        );
        let latencies: Vec<f64> = s.scripts["a"]
            .responses
            .iter()
            .map(Response::latency)
            .collect();
        assert_eq!(latencies, [0.75, 1.5]);
        assert_eq!(
            err(&format!(r#"{{ {POOL}, "scripts": {{"a": [429.5]}} }}"#)),
            "s.json: scripts.a[0]: expected an HTTP status from 100 to 599"
        );
        assert_eq!(
            err(&format!(
                r#"{{ {POOL}, "policy": {{"attempts_per_profile": 2.5}} }}"#
            )),
            "s.json: policy.attempts_per_profile: expected an integer ≥ 1"
        );
        assert_eq!(
            err(&format!(r#"{{ {POOL}, "policy": 1.5 }}"#)),
            "s.json: policy: expected an object of policy settings"
        );
        assert_eq!(
            err(&format!(
                r#"{{ {POOL}, "scripts": {{"a": [{{"colour": 1, "status": 500}}]}} }}"#
            )),
            format!(
                "s.json: scripts.a[0].colour: expected one of the keys {}",
                HTTP_KEYS.join(", ")
            )
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
