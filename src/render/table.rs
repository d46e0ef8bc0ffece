//! The human table of a pool report: a heading line per provider, then one row per profile.

use super::report::{PoolReport, ProfileRow, ProviderReport};
use super::{Style, sanitize, truncate};
use crate::pool::DisplayState;
use crate::time::{self, Epoch};
use crate::upstream::probe::{ProbeResult, Verdict};
use comfy_table::{Cell, Color, ContentArrangement, Table, presets};
use std::fmt::Write as _;

/// Longest label shown in a table; longer ones are cut with an ellipsis.
const MAX_LABEL: usize = 32;

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
pub(crate) fn pool_table(report: &PoolReport, now: Epoch, style: Style) -> String {
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
        let shared = provider.profiles.iter().any(|r| r.state_from.is_some());
        if shared {
            header.push("FROM");
        }
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
            if let Some(from) = row.state_from.as_ref().filter(|_| shared) {
                cells.push(Cell::new(state_from(from)));
            }
            if probed {
                cells.extend(probe_cells(row.probe.as_ref(), style));
            }
            table.add_row(cells);
        }
        let _ = writeln!(out, "{}", table.trim_fmt());
        for row in &provider.profiles {
            for note in row_notes(row, now) {
                let _ = writeln!(out, "  #{}: {note}", row.position);
            }
        }
    }
    out
}

/// The FROM cell: `local`, `redis: HOST`, `local+redis: HOST` (`this host` for this one's).
fn state_from(from: &crate::render::report::StateFromRow) -> String {
    use crate::fleet::record::Source;
    let host = match (&from.host, from.this_host) {
        (_, true) => "this host".to_string(),
        (Some(h), false) => truncate(&sanitize(h), 24),
        (None, false) => "?".to_string(),
    };
    match from.source {
        Source::Local => "local".to_string(),
        Source::Redis => format!("redis: {host}"),
        Source::Both => format!("local+redis: {host}"),
    }
}

/// What a row's columns cannot say: model cooldowns, twins, env-sourced keys, and a dead
/// entry newer Hermes will delete.
fn row_notes(row: &ProfileRow, now: Epoch) -> Vec<String> {
    let mut notes = Vec::new();
    for cooldown in &row.model_cooldowns {
        notes.push(format!(
            "model {} cooling until {}",
            truncate(&sanitize(&cooldown.model), 60),
            when(Some(cooldown.until_epoch), now)
        ));
    }
    if !row.twins.is_empty() {
        let others: Vec<String> = row.twins.iter().map(|p| format!("#{p}")).collect();
        notes.push(format!(
            "same account as {} (one quota: a cooldown or dead mark of one holds for all)",
            others.join(", ")
        ));
    }
    if let Some(env) = &row.env_key {
        notes.push(format!(
            "key from ${} ({})",
            sanitize(&env.name),
            if env.set { "set" } else { "not set: no key" }
        ));
    }
    if let Some(at) = row.times.hermes_deletes_at {
        notes.push(format!(
            "Hermes deletes this dead entry at {}",
            when(Some(at), now)
        ));
    }
    notes
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
    let from = p
        .rows_from
        .as_deref()
        .map(|root| format!(" (rows of {})", sanitize(root)))
        .unwrap_or_default();
    format!(
        "{}{from}: {}/{} available, strategy {}, {next}",
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
