//! Time as rotor sees it: float epoch seconds (what Hermes stores), parsing of the forms Hermes
//! accepts in auth.json, of the TIME and DURATION arguments of the CLI, and human renderings.

use chrono::{DateTime, NaiveDateTime, SecondsFormat, TimeZone, Utc};
use serde_json::Value;

/// Seconds since the Unix epoch, fractional, UTC.
pub(crate) type Epoch = f64;

/// Values above this are epoch milliseconds, as Hermes decides (`> 1e12`).
pub(crate) const MILLIS_THRESHOLD: f64 = 1_000_000_000_000.0;

/// 9999-12-31T23:59:59Z: the last instant rotor takes from a server or writes to a file. Later
/// times are lies or bugs, and a stored one would read back as milliseconds beyond 1e12.
pub(crate) const MAX_EPOCH: Epoch = 253_402_300_799.0;

/// The current time from the system clock. Only drivers call this; the engine never does.
pub(crate) fn now() -> Epoch {
    let now = Utc::now();
    now.timestamp() as f64 + f64::from(now.timestamp_subsec_nanos()) / 1e9
}

/// Reads a stored timestamp the way Hermes's `_parse_absolute_timestamp` does: epoch seconds,
/// epoch milliseconds (> 1e12), numeric strings, or ISO-8601 strings. Zero, negatives, empty
/// strings and anything else unparseable mean "no timestamp".
pub(crate) fn parse_stored_timestamp(value: &Value) -> Option<Epoch> {
    match value {
        Value::Number(n) => from_numeric(n.as_f64()?),
        Value::String(s) => parse_timestamp_text(s),
        _ => None,
    }
}

fn from_numeric(numeric: f64) -> Option<Epoch> {
    if !numeric.is_finite() || numeric <= 0.0 {
        return None;
    }
    Some(if numeric > MILLIS_THRESHOLD {
        numeric / 1000.0
    } else {
        numeric
    })
}

/// Parses a timestamp written as text: a number (seconds or milliseconds) or ISO-8601.
/// A naive ISO time (no offset) is taken as UTC.
pub fn parse_timestamp_text(text: &str) -> Option<Epoch> {
    let raw = text.trim();
    if raw.is_empty() {
        return None;
    }
    if let Ok(numeric) = raw.parse::<f64>() {
        return from_numeric(numeric);
    }
    if let Ok(dt) = DateTime::parse_from_rfc3339(&raw.replace(' ', "T")) {
        return Some(to_epoch(&dt.with_timezone(&Utc)));
    }
    for format in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%d %H:%M",
    ] {
        if let Ok(naive) = NaiveDateTime::parse_from_str(raw, format) {
            return Some(to_epoch(&Utc.from_utc_datetime(&naive)));
        }
    }
    if let Ok(date) = chrono::NaiveDate::parse_from_str(raw, "%Y-%m-%d") {
        return Some(to_epoch(
            &Utc.from_utc_datetime(&date.and_hms_opt(0, 0, 0)?),
        ));
    }
    None
}

fn to_epoch(dt: &DateTime<Utc>) -> Epoch {
    dt.timestamp() as f64 + f64::from(dt.timestamp_subsec_nanos()) / 1e9
}

/// Parses a TIME argument (`--at`, `--until`): `now`, a relative `+DURATION` or `-DURATION`,
/// RFC 3339 / ISO-8601 (naive means UTC), or epoch seconds (`@1795838430` or a plain number).
pub(crate) fn parse_time_arg(text: &str, now: Epoch) -> Result<Epoch, String> {
    let raw = text.trim();
    let expected = "expected RFC 3339 (2026-11-28T05:00:00Z), epoch seconds (@1795838430), `now`, or +DURATION";
    if raw.eq_ignore_ascii_case("now") {
        return Ok(now);
    }
    if let Some(rest) = raw.strip_prefix('+') {
        return Ok(now + parse_duration(rest)?);
    }
    if let Some(rest) = raw
        .strip_prefix('-')
        .filter(|r| r.chars().next().is_some_and(|c| c.is_ascii_digit()) && !r.contains(['-', ':']))
    {
        return Ok(now - parse_duration(rest)?);
    }
    let raw = raw.strip_prefix('@').unwrap_or(raw);
    parse_timestamp_text(raw).ok_or_else(|| format!("invalid time `{text}`: {expected}"))
}

/// The longest DURATION rotor accepts: ten years. Nothing rotor waits for or cools lasts
/// longer, and a bound keeps every later conversion (to `Duration`, to a stored epoch) exact.
pub(crate) const MAX_DURATION_S: f64 = 3650.0 * 86_400.0;

/// Parses a DURATION argument: `90`, `90s`, `500ms`, `5m`, `2h30m`, `1d`, `1.5h`.
/// A bare number is seconds. Returns seconds, at most [`MAX_DURATION_S`].
pub(crate) fn parse_duration(text: &str) -> Result<f64, String> {
    let seconds = parse_duration_unbounded(text)?;
    if seconds > MAX_DURATION_S {
        return Err(format!(
            "invalid duration `{text}`: at most 3650d (ten years)"
        ));
    }
    Ok(seconds)
}

fn parse_duration_unbounded(text: &str) -> Result<f64, String> {
    let err = || format!("invalid duration `{text}`: expected e.g. 90s, 500ms, 5m, 2h30m, 1d");
    let raw = text.trim();
    if let Ok(seconds) = raw.parse::<f64>() {
        return if seconds.is_finite() && seconds >= 0.0 {
            Ok(seconds)
        } else {
            Err(err())
        };
    }
    match read_duration(raw) {
        Some((seconds, used)) if raw[used..].trim().is_empty() => Ok(seconds),
        _ => Err(err()),
    }
}

/// The one duration grammar of rotor, for flags, scenarios and the wording of servers alike:
/// number-and-unit pairs such as `2h30m`, `90s`, `1.5h`, `500ms`, `4hr 5min`, `2.5 seconds`,
/// `1 hour and 5 minutes`, `1h, 30m`. Reads as many pairs as follow from the start of `text`;
/// returns the seconds and how many bytes were read, or `None` if not even one pair was.
pub(crate) fn read_duration(text: &str) -> Option<(f64, usize)> {
    let mut rest = text;
    let mut total = 0.0;
    let mut used = None;
    loop {
        let trimmed = rest.trim_start();
        let digits = trimmed
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(trimmed.len());
        if digits == 0 {
            break;
        }
        let Ok(value) = trimmed[..digits].trim_end_matches('.').parse::<f64>() else {
            break;
        };
        let after = trimmed[digits..].trim_start();
        let unit_len = after
            .find(|c: char| !c.is_ascii_alphabetic())
            .unwrap_or(after.len());
        let scale = match &after[..unit_len] {
            "ms" | "msec" | "millisecond" | "milliseconds" => 0.001,
            "s" | "sec" | "secs" | "second" | "seconds" => 1.0,
            "m" | "min" | "mins" | "minute" | "minutes" => 60.0,
            "h" | "hr" | "hrs" | "hour" | "hours" => 3600.0,
            "d" | "day" | "days" => 86_400.0,
            _ => break,
        };
        total += value * scale;
        rest = &after[unit_len..];
        used = Some(text.len() - rest.len());
        // Allow "1h, 5m" and "1 hour and 5 minutes".
        rest = rest.trim_start().trim_start_matches(',');
        rest = rest.trim_start().strip_prefix("and ").unwrap_or(rest);
    }
    used.filter(|_| total.is_finite()).map(|used| (total, used))
}

/// RFC 3339 in UTC with millisecond precision: `2026-11-28T05:00:30.645Z`.
pub(crate) fn rfc3339_ms(at: Epoch) -> String {
    to_datetime(at).to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// RFC 3339 in UTC to the second: `2026-11-28T05:00:30Z`.
pub(crate) fn rfc3339_s(at: Epoch) -> String {
    to_datetime(at).to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// An instant as RFC 3339 text, written without chrono's formatter and its allocation (a long
/// simulation writes one per event): [`Rfc3339::millis`] is [`rfc3339_ms`], [`Rfc3339::seconds`]
/// is [`rfc3339_s`], character for character.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Rfc3339 {
    at: Epoch,
    millis: bool,
}

impl Rfc3339 {
    pub(crate) fn millis(at: Epoch) -> Self {
        Rfc3339 { at, millis: true }
    }

    pub(crate) fn seconds(at: Epoch) -> Self {
        Rfc3339 { at, millis: false }
    }
}

impl std::fmt::Display for Rfc3339 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match civil_text(self.at, self.millis) {
            Some((text, len)) => f.write_str(std::str::from_utf8(&text[..len]).unwrap_or_default()),
            // Before 1970 or after 9999: chrono renders those.
            None if self.millis => f.write_str(&rfc3339_ms(self.at)),
            None => f.write_str(&rfc3339_s(self.at)),
        }
    }
}

impl serde::Serialize for Rfc3339 {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match civil_text(self.at, self.millis) {
            // Written from a stack buffer: no formatter on the hot path of `simulate`.
            Some((text, len)) => {
                serializer.serialize_str(std::str::from_utf8(&text[..len]).unwrap_or_default())
            }
            None => serializer.collect_str(self),
        }
    }
}

/// Appends [`rfc3339_ms`] (`millis`) or [`rfc3339_s`] of `at` to `out`, without chrono.
pub(crate) fn push_rfc3339(out: &mut String, at: Epoch, millis: bool) {
    match civil_text(at, millis) {
        Some((text, len)) => out.push_str(std::str::from_utf8(&text[..len]).unwrap_or_default()),
        None if millis => out.push_str(&rfc3339_ms(at)),
        None => out.push_str(&rfc3339_s(at)),
    }
}

/// `YYYY-MM-DDTHH:MM:SS[.mmm]Z` for an instant from 1970 to 9999, and its length.
fn civil_text(at: Epoch, millis: bool) -> Option<([u8; 24], usize)> {
    let micros = (at.clamp(-8.2e12, 8.2e12) * 1e6).round() as i64;
    if !(0..253_402_300_800_000_000).contains(&micros) {
        return None;
    }
    let seconds = micros / 1_000_000;
    let (year, month, day) = civil_from_days(seconds / 86_400);
    let of_day = seconds % 86_400;
    let mut text = *b"0000-00-00T00:00:00.000Z";
    put_digits(&mut text[0..4], year);
    put_digits(&mut text[5..7], month);
    put_digits(&mut text[8..10], day);
    put_digits(&mut text[11..13], of_day / 3600);
    put_digits(&mut text[14..16], of_day / 60 % 60);
    put_digits(&mut text[17..19], of_day % 60);
    let len = if millis {
        put_digits(&mut text[20..23], micros % 1_000_000 / 1000);
        24
    } else {
        text[19] = b'Z';
        20
    };
    Some((text, len))
}

/// `value` (≥ 0) as decimal digits filling `slot`, zero-padded.
fn put_digits(slot: &mut [u8], mut value: i64) {
    for digit in slot.iter_mut().rev() {
        *digit = b'0' + (value % 10) as u8;
        value /= 10;
    }
}

/// Year, month and day of a day count since 1970-01-01 in the proleptic Gregorian calendar
/// (Howard Hinnant's `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// What Hermes writes in `updated_at`: Python's `datetime.now(timezone.utc).isoformat()`,
/// microseconds and a `+00:00` offset.
pub(crate) fn python_isoformat(at: Epoch) -> String {
    to_datetime(at).to_rfc3339_opts(SecondsFormat::Micros, false)
}

fn to_datetime(at: Epoch) -> DateTime<Utc> {
    // Round to whole microseconds first: float seconds such as 1795842030.645 are stored as
    // 1795842030.644999..., which must still render as .645.
    let micros = (at.clamp(-8.2e12, 8.2e12) * 1e6).round() as i64;
    DateTime::from_timestamp_micros(micros).unwrap_or_default()
}

/// A compact duration: `2h13m`, `45s`, `3d4h`. Rounds down to whole seconds.
pub(crate) fn compact_duration(seconds: f64) -> String {
    let total = seconds.max(0.0).floor() as u64;
    let (d, h, m, s) = (
        total / 86_400,
        total / 3600 % 24,
        total / 60 % 60,
        total % 60,
    );
    match (d, h, m) {
        (0, 0, 0) => format!("{s}s"),
        (0, 0, _) if s == 0 => format!("{m}m"),
        (0, 0, _) => format!("{m}m{s}s"),
        (0, _, _) => format!("{h}h{m:02}m"),
        _ => format!("{d}d{h}h"),
    }
}

/// `in 2h13m` for a future time, `3m ago` for a past one, `now` within a second of `now`.
pub(crate) fn relative(at: Epoch, now: Epoch) -> String {
    if (at - now).abs() < 1.0 {
        "now".to_string()
    } else if at >= now {
        format!("in {}", compact_duration(at - now))
    } else {
        format!("{} ago", compact_duration(now - at))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn rfc3339_without_chrono_is_chronos() {
        let mut rng = fastrand::Rng::with_seed(7);
        let mut values = vec![
            0.0,
            0.0004,
            0.9995,
            -1.0,
            951_782_400.0,   // 2000-02-29
            4_107_456_000.0, // 2100-02-28
            1_795_842_030.645,
            253_402_300_799.999_6, // rounds to the year 10000: chrono's text
            253_402_300_799.999,
            1e15,
            f64::NAN,
        ];
        values.extend((0..20_000).map(|_| rng.f64() * 253_402_300_800.0));
        values.extend((0..2_000).map(|_| rng.i64(0..253_402_300_800) as f64));
        for at in values {
            assert_eq!(Rfc3339::millis(at).to_string(), rfc3339_ms(at), "{at}");
            assert_eq!(Rfc3339::seconds(at).to_string(), rfc3339_s(at), "{at}");
        }
    }

    #[test]
    fn stored_timestamps_follow_hermes() {
        assert_eq!(
            parse_stored_timestamp(&json!(4102358400.0)),
            Some(4102358400.0)
        );
        assert_eq!(
            parse_stored_timestamp(&json!(1795838430640_i64)),
            Some(1795838430.64)
        );
        assert_eq!(
            parse_stored_timestamp(&json!("1795838430")),
            Some(1795838430.0)
        );
        assert_eq!(
            parse_stored_timestamp(&json!("2026-11-28T05:00:30Z")),
            Some(1795842030.0)
        );
        assert_eq!(
            parse_stored_timestamp(&json!("2026-11-28T05:00:30+00:00")),
            Some(1795842030.0)
        );
        assert_eq!(parse_stored_timestamp(&json!(0)), None);
        assert_eq!(parse_stored_timestamp(&json!(-5)), None);
        assert_eq!(parse_stored_timestamp(&json!("")), None);
        assert_eq!(parse_stored_timestamp(&json!("soon")), None);
        assert_eq!(parse_stored_timestamp(&Value::Null), None);
    }

    #[test]
    fn time_arguments() {
        let now = 1_795_838_400.0;
        assert_eq!(parse_time_arg("now", now), Ok(now));
        assert_eq!(parse_time_arg("+1h", now), Ok(now + 3600.0));
        assert_eq!(parse_time_arg("-90s", now), Ok(now - 90.0));
        assert_eq!(parse_time_arg("@1795838430", now), Ok(1795838430.0));
        assert_eq!(
            parse_time_arg("2026-11-28T04:30:00Z", now),
            Ok(1795840200.0)
        );
        assert_eq!(parse_time_arg("2026-11-28 04:30", now), Ok(1795840200.0));
        assert!(parse_time_arg("tomorrow", now).is_err());
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("90"), Ok(90.0));
        assert_eq!(parse_duration("90s"), Ok(90.0));
        assert_eq!(parse_duration("500ms"), Ok(0.5));
        assert_eq!(parse_duration("2h30m"), Ok(9000.0));
        assert_eq!(parse_duration("1d"), Ok(86400.0));
        assert_eq!(parse_duration("1.5h"), Ok(5400.0));
        assert!(parse_duration("").is_err());
        assert!(parse_duration("5 parsecs").is_err());
        assert!(parse_duration("-5s").is_err());
        assert!(parse_duration("h").is_err());
        assert_eq!(parse_duration("2h 30m"), Ok(9000.0));
        assert_eq!(parse_duration("1 hour and 5 minutes"), Ok(3900.0));
        assert!(parse_duration("4hr 5min.").is_err());
        assert_eq!(parse_duration("3650d"), Ok(MAX_DURATION_S));
        assert!(parse_duration("3651d").is_err());
        assert!(parse_duration("12000000d").is_err());
        assert!(parse_duration("1e30").is_err());
    }

    #[test]
    fn renderings() {
        assert_eq!(rfc3339_ms(1795842030.645), "2026-11-28T05:00:30.645Z");
        assert_eq!(rfc3339_s(1795842030.645), "2026-11-28T05:00:30Z");
        assert_eq!(
            python_isoformat(1795842030.5),
            "2026-11-28T05:00:30.500000+00:00"
        );
        assert_eq!(compact_duration(7980.0), "2h13m");
        assert_eq!(compact_duration(45.9), "45s");
        assert_eq!(compact_duration(180.0), "3m");
        assert_eq!(compact_duration(190.0), "3m10s");
        assert_eq!(compact_duration(3.0 * 86400.0 + 4.0 * 3600.0), "3d4h");
        assert_eq!(relative(100.0 + 7980.0, 100.0), "in 2h13m");
        assert_eq!(relative(100.0, 280.0), "3m ago");
        assert_eq!(relative(100.2, 100.0), "now");
        assert_eq!(relative(99.9, 100.0), "now");
    }
}
