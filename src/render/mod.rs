//! Rendering for people (tables, trace lines), scripts (JSON) and monitoring (Prometheus
//! text). Commands and drivers build data; only this module decides how it looks.
//!
//! - [`events`]: the engine's events as JSON Lines and as readable lines;
//! - [`report`]: what `profiles list` and `probe` report, as plain serialisable data;
//! - [`table`] and [`prometheus`]: that report for a terminal and for node_exporter.

pub mod events;
pub(crate) mod prometheus;
pub(crate) mod report;
pub(crate) mod table;

use serde::Serialize;

/// Whether to color terminal output, decided once from `--color`, `NO_COLOR` and the terminal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Style {
    pub color: bool,
}

pub(crate) use crate::sanitize::cell as sanitize;

/// Cuts `text` to at most `max` characters, ending with `…` when cut.
pub(crate) fn truncate(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut cut: String = text.chars().take(max.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

/// Pretty JSON with a trailing newline.
pub(crate) fn json<T: Serialize>(value: &T) -> String {
    let mut text =
        serde_json::to_string_pretty(value).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
    text.push('\n');
    text
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
}
