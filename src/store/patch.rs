//! How a status change is written into an entry: the six status fields Hermes always writes
//! (null where unset), times as float epoch seconds, plus what else the change sets.

use crate::engine::effect::Extra;
use crate::pool::{LastStatus, Status};
use serde_json::Value;

pub(crate) type Fields = Vec<(&'static str, Value)>;

fn opt_str(text: Option<&str>) -> Value {
    text.map_or(Value::Null, Value::from)
}

/// The fields of `status` (and `extra`) in the order Hermes writes them.
pub(crate) fn fields(status: &Status, extra: Extra) -> Fields {
    let last_status = match &status.last_status {
        None => Value::Null,
        Some(LastStatus::Ok) => Value::from("ok"),
        Some(LastStatus::Exhausted) => Value::from("exhausted"),
        Some(LastStatus::Dead) => Value::from("dead"),
        Some(LastStatus::Other(text)) => Value::from(text.as_str()),
    };
    let mut fields = vec![
        ("last_status", last_status),
        (
            "last_status_at",
            status.last_status_at.map_or(Value::Null, Value::from),
        ),
        (
            "last_error_code",
            status.last_error_code.map_or(Value::Null, Value::from),
        ),
        (
            "last_error_reason",
            opt_str(status.last_error_reason.as_deref()),
        ),
        (
            "last_error_message",
            opt_str(status.last_error_message.as_deref()),
        ),
        (
            "last_error_reset_at",
            status.last_error_reset_at.map_or(Value::Null, Value::from),
        ),
    ];
    if let Some(count) = extra.request_count {
        fields.push(("request_count", Value::from(count)));
    }
    if let Some(at) = extra.cleared_at {
        fields.push(("status_cleared_at", Value::from(at)));
    }
    fields
}
