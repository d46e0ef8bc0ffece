//! The engine's events as people and scripts read them: JSON Lines (one object per event, the
//! format of `--trace json`, `--trace-file` and `simulate --format json`) and one readable
//! line per event (`--trace human`, the `simulate` table).
//!
//! JSON events name profiles by profile hash only: tokens and labels never appear in them, so a
//! trace file can be shared. The human form may show labels (the operator's own screen), but
//! every piece of text that came from a server or a file is sanitised first.

use crate::drive::Sink;
use crate::engine::RequestOutcome;
use crate::engine::events::{Event, EventKind};
use crate::pool::Profile;
use crate::sanitize;
use crate::time::{Epoch, compact_duration, push_rfc3339, relative, rfc3339_ms, rfc3339_s};
use serde::Serialize;
use std::cell::RefCell;
use std::io::{self, Write};

/// `,"name":`, the separator and key before a field's value, as one literal.
macro_rules! key {
    ($name:literal) => {
        concat!(",\"", $name, "\":")
    };
}

/// One JSON object per line.
pub struct JsonLines<W: Write> {
    out: W,
    /// The line being written, reused from one event to the next (a simulation writes hundreds
    /// of thousands).
    line: String,
}

impl<W: Write> JsonLines<W> {
    pub fn new(out: W) -> Self {
        JsonLines {
            out,
            line: String::with_capacity(512),
        }
    }

    /// Writes any serialisable record as one line (for summaries that share the stream).
    pub(crate) fn emit_value<T: Serialize + ?Sized>(&mut self, value: &T) -> io::Result<()> {
        serde_json::to_writer(&mut self.out, value)?;
        self.out.write_all(b"\n")
    }
}

impl<W: Write + Send> Sink for JsonLines<W> {
    /// The line is built in memory and written with one `write_all`: one `write(2)` per event
    /// on an unbuffered file or stderr, so lines appended by several processes to one
    /// `--trace-file` never interleave.
    fn emit(&mut self, event: &Event, _profiles: &[Profile]) -> io::Result<()> {
        self.line.clear();
        write_json(event, &mut self.line);
        self.line.push('\n');
        self.out.write_all(self.line.as_bytes())
    }
}

thread_local! {
    /// The last `ts` written, as an instant and as text.
    static TS: RefCell<(Epoch, String)> = const { RefCell::new((0.0, String::new())) };
}

/// Appends `event` as one JSON object: the one serialiser of events rotor ships. Written by
/// hand because it is the hot path of `simulate` (PERFORMANCE.md: serde's map serialiser,
/// escaping every key, makes the whole of a 100,000-request simulation 18 % slower); the
/// tests hold it to the engine's reference `Serialize`, byte for byte.
pub(crate) fn write_json(event: &Event, out: &mut String) {
    let mut obj = JsonObject::open(out, event.kind.name());
    match &event.kind {
        EventKind::RequestStart {
            strategy,
            eligible_profiles,
            attempts_per_profile,
            max_profiles,
        } => {
            obj.str(key!("strategy"), strategy.as_str());
            obj.uint(key!("eligible_profiles"), *eligible_profiles as u64);
            obj.uint(
                key!("attempts_per_profile"),
                u64::from(*attempts_per_profile),
            );
            obj.uint(key!("max_profiles"), *max_profiles as u64);
        }
        EventKind::Attempt {
            profile,
            try_n,
            of,
            n,
        } => {
            obj.str(key!("profile"), profile);
            obj.uint(key!("try"), u64::from(*try_n));
            obj.uint(key!("of"), u64::from(*of));
            obj.uint(key!("n"), u64::from(*n));
        }
        EventKind::AttemptFailed {
            profile,
            status,
            class,
            error_type,
            message,
            retry_in_ms,
        } => {
            obj.str(key!("profile"), profile);
            obj.opt_uint(key!("status"), status.map(u64::from));
            obj.str(key!("class"), class.as_str());
            obj.opt_str(key!("error_type"), error_type.as_deref());
            obj.opt_str(key!("message"), message.as_deref());
            obj.opt_uint(key!("retry_in_ms"), *retry_in_ms);
        }
        EventKind::ProfileCooldown {
            profile,
            until,
            source,
            reason,
            capped,
            model,
        } => {
            obj.str(key!("profile"), profile);
            obj.time(key!("until"), *until, false);
            obj.str(key!("source"), source.as_str());
            obj.str(key!("reason"), reason);
            obj.bool(key!("capped"), *capped);
            obj.opt_str(key!("model"), model.as_deref());
        }
        EventKind::ProfileRotation {
            from_profile,
            to_profile,
            reason,
            attempt,
            max,
            remaining_profiles,
        } => {
            obj.str(key!("from_profile"), from_profile);
            obj.str(key!("to_profile"), to_profile);
            obj.str(key!("reason"), reason.as_str());
            obj.uint(key!("attempt"), *attempt as u64);
            obj.uint(key!("max"), *max as u64);
            obj.uint(key!("remaining_profiles"), *remaining_profiles as u64);
        }
        EventKind::TokenRefresh { profile, outcome } => {
            obj.str(key!("profile"), profile);
            obj.str(key!("outcome"), outcome.as_str());
        }
        EventKind::SharedState { profiles, hosts } => {
            obj.strs(key!("profiles"), profiles);
            obj.strs(key!("hosts"), hosts);
        }
        EventKind::RequestEnd {
            outcome,
            profile,
            attempts,
            rotations,
            elapsed_ms,
            next_available_at,
        } => {
            obj.str(key!("outcome"), outcome.as_str());
            obj.opt_str(key!("profile"), profile.as_deref());
            obj.uint(key!("attempts"), u64::from(*attempts));
            obj.uint(key!("rotations"), u64::from(*rotations));
            obj.uint(key!("elapsed_ms"), *elapsed_ms);
            match next_available_at {
                Some(at) => obj.time(key!("next_available_at"), *at, false),
                None => obj.opt_str(key!("next_available_at"), None),
            }
        }
    }
    // The events of one engine step share their instant: format it once.
    TS.with_borrow_mut(|(at, text)| {
        if at.to_bits() != event.at.to_bits() || text.is_empty() {
            *at = event.at;
            text.clear();
            push_rfc3339(text, event.at, true);
        }
        obj.key(key!("ts"));
        obj.out.push('"');
        obj.out.push_str(text);
        obj.out.push('"');
    });
    obj.str(key!("request_id"), &event.request_id);
    obj.str(key!("provider"), &event.provider);
    obj.close();
}

/// A compact JSON object written field by field, formatted as `serde_json::to_writer` does.
/// Keys are rotor's own names, plain ASCII without anything to escape: each is written with
/// its comma and colon as one literal (`key!`).
struct JsonObject<'a> {
    out: &'a mut String,
}

impl<'a> JsonObject<'a> {
    /// `{` and the first field, `event`; every later field starts with a comma.
    fn open(out: &'a mut String, event: &str) -> Self {
        out.push_str("{\"event\":");
        json_string(out, event);
        JsonObject { out }
    }

    /// `key` is `key!("name")`.
    fn key(&mut self, key: &str) {
        self.out.push_str(key);
    }

    fn str(&mut self, key: &str, value: &str) {
        self.key(key);
        json_string(self.out, value);
    }

    fn opt_str(&mut self, key: &str, value: Option<&str>) {
        match value {
            Some(value) => self.str(key, value),
            None => {
                self.key(key);
                self.out.push_str("null");
            }
        }
    }

    /// An instant as `rfc3339_ms` (`millis`) or `rfc3339_s` write it.
    fn time(&mut self, key: &str, at: Epoch, millis: bool) {
        self.key(key);
        self.out.push('"');
        push_rfc3339(self.out, at, millis);
        self.out.push('"');
    }

    fn strs(&mut self, key: &str, values: &[String]) {
        self.key(key);
        self.out.push('[');
        for (i, value) in values.iter().enumerate() {
            if i > 0 {
                self.out.push(',');
            }
            json_string(self.out, value);
        }
        self.out.push(']');
    }

    fn bool(&mut self, key: &str, value: bool) {
        self.key(key);
        self.out.push_str(if value { "true" } else { "false" });
    }

    fn uint(&mut self, key: &str, value: u64) {
        self.key(key);
        push_uint(self.out, value);
    }

    fn opt_uint(&mut self, key: &str, value: Option<u64>) {
        match value {
            Some(value) => self.uint(key, value),
            None => {
                self.key(key);
                self.out.push_str("null");
            }
        }
    }

    fn close(self) {
        self.out.push('}');
    }
}

/// Decimal digits without going through `fmt`.
fn push_uint(out: &mut String, mut value: u64) {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    loop {
        at -= 1;
        digits[at] = b'0' + (value % 10) as u8;
        value /= 10;
        if value == 0 {
            break;
        }
    }
    out.push_str(std::str::from_utf8(&digits[at..]).unwrap_or_default());
}

/// A JSON string with serde_json's escapes: `"`, `\\`, the short forms `\b \f \n \r \t`,
/// `\u00XX` (lowercase hex) for other control characters; everything else as is.
fn json_string(out: &mut String, text: &str) {
    let needs_escape = |b: u8| b < 0x20 || b == b'"' || b == b'\\';
    out.push('"');
    // Hashes, ids and enum names never need an escape: copy them whole.
    if !text.bytes().any(needs_escape) {
        out.push_str(text);
        out.push('"');
        return;
    }
    let mut start = 0;
    for (i, byte) in text.bytes().enumerate() {
        let escape = match byte {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0x08 => "\\b",
            0x0c => "\\f",
            0x00..=0x1f => "",
            _ => continue,
        };
        out.push_str(&text[start..i]);
        if escape.is_empty() {
            use std::fmt::Write as _;
            let _ = write!(out, "\\u{byte:04x}");
        } else {
            out.push_str(escape);
        }
        start = i + 1;
    }
    out.push_str(&text[start..]);
    out.push('"');
}

/// One readable line per event.
pub(crate) struct Human<W: Write>(pub W);

impl<W: Write + Send> Sink for Human<W> {
    fn emit(&mut self, event: &Event, profiles: &[Profile]) -> io::Result<()> {
        writeln!(self.0, "{}", human_line(event, profiles))
    }
}

/// `#2 d4e5f6a1… team-a@example.com`: position, short hash and (sanitised) label when the
/// profile is in `profiles`, else the short hash alone.
pub(crate) fn profile_name(hash: &str, profiles: &[Profile]) -> String {
    let short: String = hash.chars().take(8).collect();
    match profiles.iter().find(|p| p.hash == hash) {
        Some(p) => format!(
            "#{} {short}… {}",
            p.position,
            sanitize::one_line(&p.label, 48)
        ),
        None => format!("{short}…"),
    }
}

/// The human rendering of one event, without a trailing newline.
pub(crate) fn human_line(event: &Event, profiles: &[Profile]) -> String {
    let clock = rfc3339_ms(event.at);
    let clock = clock.get(11..23).unwrap_or(&clock);
    // A UUID request id is 36 characters; its first 8 tell concurrent requests apart at a glance
    // (the JSON trace keeps the whole id).
    let request = match event.request_id.get(..8) {
        Some(head) if event.request_id.len() == 36 => head.to_string(),
        _ => sanitize::one_line(&event.request_id, 40),
    };
    let name = |hash: &str| profile_name(hash, profiles);
    let plural = |n: u64, one: &str, many: &str| {
        if n == 1 {
            format!("1 {one}")
        } else {
            format!("{n} {many}")
        }
    };
    let (verb, text) = match &event.kind {
        EventKind::RequestStart {
            strategy,
            eligible_profiles,
            attempts_per_profile,
            max_profiles,
        } => (
            "start",
            format!(
                "{}: {}, {} eligible, up to {} × {}",
                sanitize::one_line(&event.provider, 40),
                strategy.as_str(),
                eligible_profiles,
                plural(*max_profiles as u64, "profile", "profiles"),
                plural(u64::from(*attempts_per_profile), "attempt", "attempts"),
            ),
        ),
        EventKind::Attempt {
            profile,
            try_n,
            of,
            n,
        } => (
            "attempt",
            format!("{} try {try_n}/{of} (attempt {n})", name(profile)),
        ),
        EventKind::AttemptFailed {
            profile,
            status,
            class,
            error_type,
            message,
            retry_in_ms,
        } => {
            let mut text = format!(
                "{} {}",
                name(profile),
                status.map_or_else(|| "—".to_string(), |s| s.to_string())
            );
            text.push(' ');
            text.push_str(class.as_str());
            if let Some(t) = error_type {
                text.push_str(&format!(" {}", sanitize::one_line(t, 64)));
            }
            if let Some(m) = message {
                text.push_str(&format!(": {}", sanitize::one_line(m, 200)));
            }
            match retry_in_ms {
                Some(0) => text.push_str("; retrying now"),
                Some(ms) => text.push_str(&format!(
                    "; retry in {}",
                    short_duration(*ms as f64 / 1000.0)
                )),
                None => {}
            }
            ("failed", text)
        }
        EventKind::ProfileCooldown {
            profile,
            until,
            source,
            reason,
            capped,
            model,
        } => (
            "cooldown",
            format!(
                "{}{} {} until {} ({}, source {}{})",
                name(profile),
                match model {
                    Some(model) => format!(" for model {}", sanitize::one_line(model, 60)),
                    None => String::new(),
                },
                sanitize::one_line(reason, 40),
                rfc3339_s(*until),
                relative(*until, event.at),
                source.as_str(),
                if *capped {
                    "; the provider's hint was later, capped by --max-cooldown"
                } else {
                    ""
                },
            ),
        ),
        EventKind::ProfileRotation {
            from_profile,
            to_profile,
            reason,
            attempt,
            max,
            remaining_profiles,
        } => (
            "rotate",
            format!(
                "{} → {} ({}; profile {attempt} of {max}, {remaining_profiles} left)",
                name(from_profile),
                name(to_profile),
                reason.as_str()
            ),
        ),
        EventKind::TokenRefresh { profile, outcome } => {
            ("refresh", format!("{} {}", name(profile), outcome.as_str()))
        }
        EventKind::SharedState { profiles, hosts } => (
            "shared",
            format!(
                "status of {} from Redis (hosts {})",
                profiles
                    .iter()
                    .map(|p| name(p))
                    .collect::<Vec<_>>()
                    .join(", "),
                sanitize::one_line(&hosts.join(", "), 200)
            ),
        ),
        EventKind::RequestEnd {
            outcome,
            profile,
            attempts,
            rotations,
            elapsed_ms,
            next_available_at,
        } => {
            let mut text = outcome.as_str().to_string();
            let success = *outcome == RequestOutcome::Success;
            if let (Some(p), true) = (profile, success) {
                text.push_str(&format!(" on {}", name(p)));
            }
            text.push_str(&format!(
                " after {}, {}, {}",
                plural(u64::from(*attempts), "attempt", "attempts"),
                plural(u64::from(*rotations), "rotation", "rotations"),
                short_duration(*elapsed_ms as f64 / 1000.0)
            ));
            if let (Some(p), false) = (profile, success) {
                text.push_str(&format!(" (last profile {})", name(p)));
            }
            if *outcome == RequestOutcome::PoolExhausted {
                match next_available_at {
                    Some(at) => text.push_str(&format!(
                        "; next available {} ({})",
                        rfc3339_s(*at),
                        relative(*at, event.at)
                    )),
                    None => text.push_str("; no profile will become available on its own"),
                }
            }
            ("end", text)
        }
    };
    format!("{clock} {request} {verb:<8} {text}")
}

/// `850ms`, `1.2s`, `2m30s`: waits are short, so sub-second precision matters here.
fn short_duration(seconds: f64) -> String {
    if seconds < 1.0 {
        format!("{}ms", (seconds * 1000.0).round() as u64)
    } else if seconds < 60.0 {
        format!("{:.1}s", seconds)
    } else {
        compact_duration(seconds)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::engine::events::RefreshOutcome;
    use crate::engine::{Class, ResetSource};
    use crate::pool::{Strategy, profile_hash, tests::profile};
    use serde_json::{Value, json};

    const AT: Epoch = 1_795_838_400.123; // 2026-11-28T04:00:00.123Z

    fn event(kind: EventKind) -> Event {
        Event {
            kind,
            at: AT,
            request_id: "req-1".into(),
            provider: "openai-codex".into(),
        }
    }

    fn json(kind: EventKind) -> Value {
        let mut buf = Vec::new();
        JsonLines::new(&mut buf).emit(&event(kind), &[]).unwrap();
        assert!(buf.ends_with(b"\n") && buf.iter().filter(|b| **b == b'\n').count() == 1);
        serde_json::from_slice(&buf).unwrap()
    }

    #[test]
    fn profile_rotation_has_exactly_the_contract_fields() {
        let value = json(EventKind::ProfileRotation {
            from_profile: "aaaaaaaaaaaa".into(),
            to_profile: "bbbbbbbbbbbb".into(),
            reason: Class::RateLimit.into(),
            attempt: 2,
            max: 3,
            remaining_profiles: 1,
        });
        assert_eq!(
            value,
            json!({
                "event": "profile_rotation", "from_profile": "aaaaaaaaaaaa", "to_profile": "bbbbbbbbbbbb",
                "reason": "rate_limit", "attempt": 2, "max": 3, "remaining_profiles": 1,
                "ts": "2026-11-28T04:00:00.123Z", "request_id": "req-1", "provider": "openai-codex"
            })
        );
        // `event` comes first, so a line is recognisable at a glance.
        let text = serde_json::to_string(&event(EventKind::TokenRefresh {
            profile: "x".into(),
            outcome: RefreshOutcome::Adopted,
        }))
        .unwrap();
        assert!(
            text.starts_with(r#"{"event":"token_refresh","profile":"x","outcome":"adopted","ts":"#),
            "{text}"
        );
    }

    #[test]
    fn every_kind_has_its_fields() {
        let keys = |v: Value| -> Vec<String> { v.as_object().unwrap().keys().cloned().collect() };
        let common = ["ts", "request_id", "provider"];
        let cases = [
            (
                EventKind::RequestStart {
                    strategy: Strategy::FillFirst,
                    eligible_profiles: 3,
                    attempts_per_profile: 4,
                    max_profiles: 3,
                },
                vec![
                    "event",
                    "strategy",
                    "eligible_profiles",
                    "attempts_per_profile",
                    "max_profiles",
                ],
            ),
            (
                EventKind::Attempt {
                    profile: "p".into(),
                    try_n: 1,
                    of: 4,
                    n: 1,
                },
                vec!["event", "profile", "try", "of", "n"],
            ),
            (
                EventKind::AttemptFailed {
                    profile: "p".into(),
                    status: None,
                    class: Class::Transient,
                    error_type: None,
                    message: None,
                    retry_in_ms: None,
                },
                vec![
                    "event",
                    "profile",
                    "status",
                    "class",
                    "error_type",
                    "message",
                    "retry_in_ms",
                ],
            ),
            (
                EventKind::ProfileCooldown {
                    profile: "p".into(),
                    until: AT,
                    source: ResetSource::Ttl,
                    reason: "billing".into(),
                    capped: false,
                    model: None,
                },
                vec![
                    "event", "profile", "until", "source", "reason", "capped", "model",
                ],
            ),
            (
                EventKind::RequestEnd {
                    outcome: RequestOutcome::PoolExhausted,
                    profile: None,
                    attempts: 3,
                    rotations: 2,
                    elapsed_ms: 10,
                    next_available_at: Some(AT),
                },
                vec![
                    "event",
                    "outcome",
                    "profile",
                    "attempts",
                    "rotations",
                    "elapsed_ms",
                    "next_available_at",
                ],
            ),
        ];
        for (kind, expected) in cases {
            let mut expected: Vec<String> = expected.into_iter().map(String::from).collect();
            expected.extend(common.map(String::from));
            assert_eq!(keys(json(kind)), expected);
        }
        let end = json(EventKind::RequestEnd {
            outcome: RequestOutcome::PoolExhausted,
            profile: None,
            attempts: 3,
            rotations: 2,
            elapsed_ms: 10,
            next_available_at: Some(1795842030.64),
        });
        assert_eq!(end["next_available_at"], "2026-11-28T05:00:30Z");
        assert_eq!(end["outcome"], "pool_exhausted");
    }

    #[test]
    fn every_kind_is_one_line_of_json_whose_text_comes_back_exactly() {
        let tricky = "q\"b\\s/\n\r\t\u{8}\u{c}\u{1}\u{1f}\u{7f} é 😀";
        let kinds = [
            EventKind::RequestStart {
                strategy: Strategy::RoundRobin,
                eligible_profiles: 10_000,
                attempts_per_profile: u32::MAX,
                max_profiles: 0,
            },
            EventKind::Attempt {
                profile: "abc".into(),
                try_n: 1,
                of: 4,
                n: 7,
            },
            EventKind::AttemptFailed {
                profile: "p".into(),
                status: Some(429),
                class: Class::RateLimit,
                error_type: Some(tricky.into()),
                message: Some(tricky.into()),
                retry_in_ms: Some(u64::MAX),
            },
            EventKind::AttemptFailed {
                profile: "p".into(),
                status: None,
                class: Class::Transient,
                error_type: None,
                message: None,
                retry_in_ms: None,
            },
            EventKind::ProfileCooldown {
                profile: "p".into(),
                until: 1795842030.64,
                source: ResetSource::RetryAfter,
                reason: tricky.into(),
                capped: true,
                model: Some(tricky.into()),
            },
            EventKind::ProfileRotation {
                from_profile: "a".into(),
                to_profile: "b".into(),
                reason: Class::AuthDead.into(),
                attempt: 2,
                max: 3,
                remaining_profiles: 1,
            },
            EventKind::TokenRefresh {
                profile: "x".into(),
                outcome: RefreshOutcome::Failed,
            },
            EventKind::RequestEnd {
                outcome: RequestOutcome::PoolExhausted,
                profile: Some("p".into()),
                attempts: 3,
                rotations: 2,
                elapsed_ms: 10,
                next_available_at: Some(AT),
            },
            EventKind::RequestEnd {
                outcome: RequestOutcome::Success,
                profile: None,
                attempts: 1,
                rotations: 0,
                elapsed_ms: 0,
                next_available_at: None,
            },
        ];
        for kind in kinds {
            let mut event = event(kind);
            event.request_id = tricky.into();
            let mut line = Vec::new();
            JsonLines::new(&mut line).emit(&event, &[]).unwrap();
            assert_eq!(line.iter().filter(|b| **b == b'\n').count(), 1, "one line");
            // Byte for byte what the engine's reference `Serialize` writes.
            let reference = serde_json::to_string(&event).unwrap() + "\n";
            assert_eq!(String::from_utf8(line.clone()).unwrap(), reference);
            let value: Value = serde_json::from_slice(&line).unwrap();
            assert_eq!(value["request_id"], tricky);
            assert_eq!(value["event"], event.kind.name());
            for key in ["error_type", "message", "reason"] {
                if value[key].is_string() && value[key] != "retry_after" {
                    assert!(
                        value[key] == tricky || !value[key].as_str().unwrap().contains('q'),
                        "{key}: {value}"
                    );
                }
            }
            let keys: Vec<String> = value.as_object().unwrap().keys().cloned().collect();
            assert_eq!(keys[0], "event");
            assert_eq!(keys[keys.len() - 3..], ["ts", "request_id", "provider"]);
        }
    }

    #[test]
    fn human_lines_name_profiles_and_sanitise() {
        let mut p = profile("d4e5f6", 1);
        p.position = 2;
        p.label = "team-a@example.com\x1b[2J".into();
        let hash = profile_hash("d4e5f6");
        let line = human_line(
            &event(EventKind::AttemptFailed {
                profile: hash.clone(),
                status: Some(429),
                class: Class::RateLimit,
                error_type: Some("usage_limit_reached".into()),
                message: Some("limit\nreached".into()),
                retry_in_ms: None,
            }),
            &[p],
        );
        assert_eq!(
            line,
            format!(
                "04:00:00.123 req-1 failed   #2 {}… team-a@example.com 429 rate_limit usage_limit_reached: limit reached",
                &hash[..8]
            )
        );
        let unknown = human_line(
            &event(EventKind::TokenRefresh {
                profile: hash.clone(),
                outcome: RefreshOutcome::Failed,
            }),
            &[],
        );
        assert!(
            unknown.ends_with(&format!("refresh  {}… failed", &hash[..8])),
            "{unknown}"
        );
    }
}
