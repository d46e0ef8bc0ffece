//! When a provider says a limit lifts, read in a fixed order of trust: an absolute `resets_at`,
//! then a relative `resets_in_seconds`, then `Retry-After` (or OpenAI's `retry-after-ms`), then
//! the wording of the message ("resets in 4hr 5min", "try again in 20s").

use super::{BodyInfo, ResetHint, ResetSource, header};
use crate::time::{Epoch, MAX_EPOCH, parse_stored_timestamp, parse_timestamp_text};

/// The provider's reset hint, if it gave a usable one. A time outside 1970–9999 is a lie or a
/// bug (`resets_at: 1e300`), not a plan: it is ignored, and the TTL applies.
pub(super) fn reset_hint<K: AsRef<str>, V: AsRef<str>>(
    info: &BodyInfo,
    headers: &[(K, V)],
    now: Epoch,
) -> Option<ResetHint> {
    read_reset_hint(info, headers, now)
        .filter(|h| h.at.is_finite() && (0.0..=MAX_EPOCH).contains(&h.at))
}

fn read_reset_hint<K: AsRef<str>, V: AsRef<str>>(
    info: &BodyInfo,
    headers: &[(K, V)],
    now: Epoch,
) -> Option<ResetHint> {
    let hint = |at, source| Some(ResetHint { at, source });
    if let Some(at) = info.resets_at.as_ref().and_then(parse_stored_timestamp) {
        return hint(at, ResetSource::ResetsAt);
    }
    if let Some(secs) = info.resets_in.filter(|s| *s > 0.0) {
        return hint(now + secs, ResetSource::ResetsIn);
    }
    if let Some(at) = retry_after_header(headers, now) {
        return hint(at, ResetSource::RetryAfter);
    }
    if let Some(secs) = info.retry_after.filter(|s| *s >= 0.0) {
        return hint(now + secs, ResetSource::RetryAfter);
    }
    let message = info.message.as_deref()?.to_lowercase();
    if let Some(secs) =
        duration_after_any(&message, &["resets in ", "reset in ", "quotaresetdelay"])
    {
        return hint(now + secs, ResetSource::ResetsIn);
    }
    if let Some(secs) =
        duration_after_any(&message, &["try again in ", "retry after ", "retry in "])
    {
        return hint(now + secs, ResetSource::RetryAfter);
    }
    None
}

/// `Retry-After` as delay-seconds or an HTTP-date; `retry-after-ms` (sent by OpenAI) when the
/// standard header is absent.
fn retry_after_header<K: AsRef<str>, V: AsRef<str>>(
    headers: &[(K, V)],
    now: Epoch,
) -> Option<Epoch> {
    let find = |name: &str| header(headers, name);
    if let Some(value) = find("retry-after") {
        if let Ok(secs) = value.parse::<f64>() {
            return (secs.is_finite() && secs >= 0.0).then_some(now + secs);
        }
        if let Ok(date) = chrono::DateTime::parse_from_rfc2822(value) {
            let at = date.timestamp() as f64;
            return Some(at.max(now));
        }
        // Some servers send an ISO time here; accept what the stored-timestamp parser reads.
        return parse_timestamp_text(value).map(|at| at.max(now));
    }
    let ms = find("retry-after-ms")?.parse::<f64>().ok()?;
    (ms.is_finite() && ms >= 0.0).then_some(now + ms / 1000.0)
}

fn duration_after_any(text: &str, phrases: &[&str]) -> Option<f64> {
    phrases.iter().find_map(|phrase| {
        text.match_indices(phrase).find_map(|(at, _)| {
            parse_spoken_duration(
                text[at + phrase.len()..].trim_start_matches([' ', ':', '"', '=']),
            )
        })
    })
}

/// Reads a duration as servers word it (`4hr 5min`, `20s`, `1m30s`, `2.5 seconds`, `6ms`) with
/// rotor's one duration grammar; `None` if not even one number and unit follow.
fn parse_spoken_duration(text: &str) -> Option<f64> {
    crate::time::read_duration(text).map(|(seconds, _)| seconds)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spoken_durations() {
        assert_eq!(parse_spoken_duration("4hr 5min."), Some(14_700.0));
        assert_eq!(parse_spoken_duration("2.5 seconds"), Some(2.5));
        assert_eq!(parse_spoken_duration("1h, 30m"), Some(5400.0));
        assert_eq!(parse_spoken_duration("20s."), Some(20.0));
        assert_eq!(parse_spoken_duration("soon"), None);
        assert_eq!(parse_spoken_duration("5 parsecs"), None);
        assert_eq!(parse_spoken_duration(""), None);
        assert_eq!(parse_spoken_duration("..."), None);
    }
}
