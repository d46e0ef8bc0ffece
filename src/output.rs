//! Rendering reports for people (tables), scripts (JSON) and monitoring (Prometheus text).
//! Commands build data; only this module decides how it looks.

use crate::pool::DisplayState;
use crate::probe::{ProbeResult, Verdict};
use crate::report::{PoolReport, ProfileRow, ProviderReport};
use crate::time::{self, Epoch};
use comfy_table::{Cell, Color, ContentArrangement, Table, presets};
use serde::Serialize;
use std::fmt::Write as _;

/// Longest label shown in a table; longer ones are cut with an ellipsis.
const MAX_LABEL: usize = 32;

/// Whether to color terminal output, decided once from `--color`, `NO_COLOR` and the terminal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Style {
    pub color: bool,
}

impl Style {
    pub fn plain() -> Self {
        Style { color: false }
    }
}

pub use crate::sanitize::cell as sanitize;

/// Cuts `text` to at most `max` characters, ending with `…` when cut.
pub fn truncate(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut cut: String = text.chars().take(max.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

/// Pretty JSON with a trailing newline.
pub fn json<T: Serialize>(value: &T) -> String {
    let mut text =
        serde_json::to_string_pretty(value).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
    text.push('\n');
    text
}

fn new_table(style: Style) -> Table {
    let mut table = Table::new();
    table
        .load_style(presets::NOTHING)
        .set_content_arrangement(ContentArrangement::Disabled);
    if style.color {
        table.enforce_styling();
    } else {
        table.force_no_tty();
    }
    table
}

fn state_cell(state: DisplayState, style: Style) -> Cell {
    let cell = Cell::new(state.as_str());
    if !style.color {
        return cell;
    }
    match state {
        DisplayState::Ok | DisplayState::Ready => cell.fg(Color::Green),
        DisplayState::Cooling => cell.fg(Color::Yellow),
        DisplayState::Dead | DisplayState::NoKey => cell.fg(Color::Red),
    }
}

fn when(at: Option<Epoch>, now: Epoch) -> String {
    at.map(|at| format!("{} ({})", time::rfc3339_s(at), time::relative(at, now)))
        .unwrap_or_else(|| "-".into())
}

fn last_error(row: &ProfileRow) -> String {
    // The reason is a short code; when a writer left it null, the message says what happened.
    let reason = row
        .last_error_reason
        .as_deref()
        .or(row.last_error_message.as_deref())
        .map(|text| truncate(&sanitize(text), 28));
    match (row.last_error_code, reason) {
        (Some(code), Some(reason)) => format!("{code} {reason}"),
        (Some(code), None) => code.to_string(),
        (None, Some(reason)) => reason,
        (None, None) => "-".into(),
    }
}

/// The human table of a pool report: a heading line per provider, then one row per profile.
pub fn pool_table(report: &PoolReport, now: Epoch, style: Style) -> String {
    let mut out = String::new();
    for (i, provider) in report.providers.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        let _ = writeln!(out, "{}", provider_heading(provider, now));
        let mut table = new_table(style);
        let probed = provider.profiles.iter().any(|r| r.probe.is_some());
        let mut header = vec![
            "",
            "#",
            "PROFILE",
            "LABEL",
            "TYPE",
            "PLAN",
            "STATE",
            "COOLDOWN UNTIL",
            "LAST ERROR",
            "LAST STATUS",
            "REQS",
            "TOKEN EXPIRES",
        ];
        if probed {
            header.extend(["PROBE", "USED"]);
        }
        table.set_header(header);
        for row in &provider.profiles {
            let mut cells = vec![
                Cell::new(if row.next { "→" } else { "" }),
                Cell::new(row.position),
                Cell::new(&row.profile),
                Cell::new(truncate(&sanitize(&row.label), MAX_LABEL)),
                Cell::new(match row.auth_type {
                    crate::pool::AuthType::Oauth => "oauth",
                    crate::pool::AuthType::ApiKey => "api_key",
                }),
                Cell::new(
                    row.plan
                        .as_deref()
                        .map(sanitize)
                        .unwrap_or_else(|| "-".into()),
                ),
                state_cell(row.state, style),
                Cell::new(when(row.times.cooldown_until, now)),
                Cell::new(last_error(row)),
                Cell::new(
                    row.times
                        .last_status_at
                        .map(|at| time::relative(at, now))
                        .unwrap_or_else(|| "-".into()),
                ),
                Cell::new(row.request_count),
                Cell::new(
                    row.times
                        .token_expires_at
                        .map(|at| time::rfc3339_s(at).chars().take(10).collect::<String>())
                        .unwrap_or_else(|| "-".into()),
                ),
            ];
            if probed {
                cells.extend(probe_cells(row.probe.as_ref(), style));
            }
            table.add_row(cells);
        }
        let _ = writeln!(out, "{}", table.trim_fmt());
    }
    out
}

/// The PROBE and USED cells: the verdict (with the status, and for a probe that changed
/// nothing, why), and the fullest usage window.
fn probe_cells(probe: Option<&ProbeResult>, style: Style) -> [Cell; 2] {
    let Some(probe) = probe else {
        return [Cell::new("-"), Cell::new("-")];
    };
    let mut text = probe.verdict.as_str().to_string();
    if let Some(status) = probe.status {
        let _ = write!(text, " {status}");
    }
    if matches!(probe.verdict, Verdict::Unreachable | Verdict::Skipped)
        && let Some(detail) = &probe.detail
    {
        let _ = write!(text, ": {}", truncate(&sanitize(detail), 40));
    }
    let mut verdict = Cell::new(text);
    if style.color {
        verdict = verdict.fg(match probe.verdict {
            Verdict::Healthy => Color::Green,
            Verdict::Exhausted | Verdict::Failed | Verdict::Unreachable => Color::Yellow,
            Verdict::Dead => Color::Red,
            Verdict::Skipped => Color::Reset,
        });
    }
    let used = probe
        .used_percent
        .map(|u| format!("{u:.0}%"))
        .unwrap_or_else(|| "-".into());
    [verdict, Cell::new(used)]
}

fn provider_heading(p: &ProviderReport, now: Epoch) -> String {
    let next = match (&p.next_profile, p.available) {
        (_, 0) => match &p.next_available_at {
            Some(at) => format!("none available; next at {at}{}", relative_suffix(at, now)),
            None => "none available; none will recover without a re-login".into(),
        },
        (Some(hash), _) => format!("next: {hash}"),
        (None, n) => format!("next: random among {n}"),
    };
    format!(
        "{}: {}/{} available, strategy {}, {next}",
        sanitize(&p.provider),
        p.available,
        p.total,
        p.strategy.as_str()
    )
}

fn relative_suffix(rfc3339: &str, now: Epoch) -> String {
    time::parse_timestamp_text(rfc3339)
        .map(|at| format!(" ({})", time::relative(at, now)))
        .unwrap_or_default()
}

/// The Prometheus text exposition format, for node_exporter's textfile collector.
pub fn pool_prometheus(report: &PoolReport) -> String {
    let mut out = String::new();
    let mut family = |name: &str, help: &str, samples: &mut dyn Iterator<Item = (String, f64)>| {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} gauge");
        for (labels, value) in samples {
            let _ = writeln!(out, "{name}{{{labels}}} {value}");
        }
    };
    let profile_labels = |p: &ProviderReport, r: &ProfileRow| {
        format!(
            "provider=\"{}\",profile=\"{}\",position=\"{}\"",
            label_value(&p.provider),
            r.profile,
            r.position
        )
    };
    let rows = || {
        report
            .providers
            .iter()
            .flat_map(|p| p.profiles.iter().map(move |r| (p, r)))
    };
    family(
        "rotor_profile_info",
        "Static facts about a profile (always 1).",
        &mut rows().map(|(p, r)| {
            let labels = format!(
                "{},auth_type=\"{}\",plan=\"{}\"",
                profile_labels(p, r),
                match r.auth_type {
                    crate::pool::AuthType::Oauth => "oauth",
                    crate::pool::AuthType::ApiKey => "api_key",
                },
                label_value(r.plan.as_deref().unwrap_or(""))
            );
            (labels, 1.0)
        }),
    );
    family(
        "rotor_profile_available",
        "Whether the profile can serve a request now (1) or not (0).",
        &mut rows().map(|(p, r)| (profile_labels(p, r), f64::from(u8::from(r.available)))),
    );
    family(
        "rotor_profile_dead",
        "Whether the profile failed permanently and needs a re-login (1) or not (0).",
        &mut rows().map(|(p, r)| {
            (
                profile_labels(p, r),
                f64::from(u8::from(r.state == DisplayState::Dead)),
            )
        }),
    );
    family(
        "rotor_profile_cooldown_seconds",
        "Seconds until the profile's cooldown ends (0 when it is not cooling).",
        &mut rows().map(|(p, r)| (profile_labels(p, r), r.cooldown_seconds_left.unwrap_or(0.0))),
    );
    let mut used = rows()
        .filter_map(|(p, r)| {
            let used = r.probe.as_ref()?.used_percent?;
            Some((profile_labels(p, r), used))
        })
        .peekable();
    if used.peek().is_some() {
        family(
            "rotor_profile_used_percent",
            "Highest used percent of the profile's usage windows, as the provider last reported it.",
            &mut used,
        );
    }
    family(
        "rotor_provider_available_profiles",
        "Number of profiles of the provider that can serve a request now.",
        &mut report.providers.iter().map(|p| {
            (
                format!("provider=\"{}\"", label_value(&p.provider)),
                p.available as f64,
            )
        }),
    );
    family(
        "rotor_provider_profiles",
        "Number of profiles of the provider.",
        &mut report.providers.iter().map(|p| {
            (
                format!("provider=\"{}\"", label_value(&p.provider)),
                p.total as f64,
            )
        }),
    );
    out
}

/// A Prometheus label value: made safe for a terminal first (a provider name or plan comes
/// from a file or a token), then escaped as the exposition format requires (backslash, double
/// quote, newline).
fn label_value(text: &str) -> String {
    sanitize(text)
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sanitize_neutralises_terminal_escapes() {
        assert_eq!(sanitize("ok \x1b[31mred\x07\n"), "ok ?red??");
    }

    #[test]
    fn truncate_cuts_with_ellipsis() {
        assert_eq!(truncate("short", 10), "short");
        assert_eq!(truncate("a-very-long-label@example.com", 10), "a-very-lo…");
    }

    #[test]
    fn prometheus_label_values_are_escaped() {
        assert_eq!(label_value("a\"b\\c"), "a\\\"b\\\\c");
        assert_eq!(label_value("x\ny\x1b[2J\u{202e}z"), "x?y?z");
    }
}
