//! The status writes rotor makes, as field lists for [`super::Document::set_fields`]. Each is
//! written the way Hermes writes its own, so Hermes honours it: the six status fields always
//! present (null where unset), times as float epoch seconds.

use crate::time::Epoch;
use serde_json::Value;

pub type Fields = Vec<(&'static str, Value)>;

fn opt_str(text: Option<&str>) -> Value {
    text.map_or(Value::Null, Value::from)
}

fn status(
    last_status: &str,
    at: Option<Epoch>,
    code: Option<i64>,
    reason: Option<&str>,
    message: Option<&str>,
    reset_at: Option<Epoch>,
) -> Fields {
    vec![
        ("last_status", Value::from(last_status)),
        ("last_status_at", at.map_or(Value::Null, Value::from)),
        ("last_error_code", code.map_or(Value::Null, Value::from)),
        ("last_error_reason", opt_str(reason)),
        ("last_error_message", opt_str(message)),
        (
            "last_error_reset_at",
            reset_at.map_or(Value::Null, Value::from),
        ),
    ]
}

/// `cooldown set`: exhausted until `until`, reason `manual`, the operator's text as message.
pub fn manual_cooldown(now: Epoch, until: Epoch, message: Option<&str>) -> Fields {
    status(
        "exhausted",
        Some(now),
        None,
        Some("manual"),
        message,
        Some(until),
    )
}

/// `cooldown clear`: status fields null, `last_status` ok, and `status_cleared_at` so newer
/// Hermes versions do not undo the clear when they merge their in-memory copy on write.
pub fn clear(now: Epoch) -> Fields {
    let mut fields = status("ok", None, None, None, None, None);
    fields.push(("status_cleared_at", Value::from(now)));
    fields
}

/// A served request: ok, now, and one more request counted.
pub fn success(now: Epoch, request_count: u64) -> Fields {
    let mut fields = status("ok", Some(now), None, None, None, None);
    fields.push(("request_count", Value::from(request_count)));
    fields
}

/// A profile-level failure that cools the profile until `reset_at` (or the TTL Hermes derives
/// from the code when `reset_at` is `None`).
pub fn exhausted(
    now: Epoch,
    code: Option<i64>,
    reason: Option<&str>,
    message: Option<&str>,
    reset_at: Option<Epoch>,
) -> Fields {
    status("exhausted", Some(now), code, reason, message, reset_at)
}

/// A terminal auth failure: never selected again until a re-login rewrites the entry.
pub fn dead(now: Epoch, code: Option<i64>, reason: Option<&str>, message: Option<&str>) -> Fields {
    status("dead", Some(now), code, reason, message, None)
}
