//! `rotor sync [--watch INTERVAL]`: this host's auth.json and the fleet's Redis, both ways.

use super::{Context, positive_duration, print};
use crate::cli::{ReportFormat, SyncArgs};
use crate::error::{Error, Result};
use crate::fleet::sync::{Report, sync_once};
use crate::sanitize;
use crate::time;

pub(crate) fn run(ctx: &Context, args: &SyncArgs) -> Result<()> {
    let fleet = ctx.store.fleet().ok_or_else(|| {
        Error::usage("sync needs --state (or ROTOR_STATE): the fleet's Redis URL")
    })?;
    let interval = args
        .watch
        .as_deref()
        .map(|w| positive_duration("watch", w))
        .transpose()?;
    let Some(interval) = interval else {
        let report = sync_once(&ctx.store, fleet)?;
        return show(&report, args.format);
    };
    // A long-running service: a failed round (Redis down, the lock busy, a file being
    // fixed) is said on stderr and tried again next round; only a usage error stops it.
    loop {
        fleet.retry();
        match sync_once(&ctx.store, fleet) {
            Ok(report) => show(&report, args.format)?,
            Err(e) => ctx.warn(&format!(
                "sync failed, trying again in {}: {}",
                time::compact_duration(interval),
                crate::error::describe(&e)
            )),
        }
        std::thread::sleep(std::time::Duration::from_secs_f64(interval));
    }
}

fn show(report: &Report, format: ReportFormat) -> Result<()> {
    match format {
        ReportFormat::Json => {
            let mut text = serde_json::to_string(report)
                .map_err(|e| Error::Internal(format!("cannot render the sync report: {e}")))?;
            text.push('\n');
            print(&text)
        }
        ReportFormat::Table => {
            let mut text = format!(
                "pushed: {} record(s) changed in Redis; pulled: {} change(s) into auth.json\n",
                report.pushed,
                report.pulled.len()
            );
            for p in &report.pulled {
                let what = match (&p.model, p.until) {
                    (Some(model), Some(until)) => {
                        format!("{} {} until {}", p.change, model, time::rfc3339_s(until))
                    }
                    (None, Some(until)) => format!("{} until {}", p.change, time::rfc3339_s(until)),
                    _ => p.change.to_string(),
                };
                text.push_str(&sanitize::cell(&format!(
                    "  {} {} ({}): {} (from {})",
                    p.provider,
                    p.profile,
                    p.label,
                    what,
                    p.from_host.as_deref().unwrap_or("?")
                )));
                text.push('\n');
            }
            print(&text)
        }
    }
}
