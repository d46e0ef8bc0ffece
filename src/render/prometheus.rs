//! A pool report in the Prometheus text exposition format, for node_exporter's textfile
//! collector.

use super::report::{PoolReport, ProfileRow, ProviderReport};
use super::sanitize;
use crate::pool::DisplayState;
use std::fmt::Write as _;

/// The Prometheus text exposition format, for node_exporter's textfile collector.
pub(crate) fn pool_prometheus(report: &PoolReport) -> String {
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
    fn label_values_are_escaped() {
        assert_eq!(label_value("a\"b\\c"), "a\\\"b\\\\c");
        assert_eq!(label_value("x\ny\x1b[2J\u{202e}z"), "x?y?z");
    }
}
