//! `rotor profiles list`.

use super::{Context, print};
use crate::cli::{ListArgs, ListFormat};
use crate::error::{Error, Result};
use crate::output;
use crate::report::{PoolReport, provider_report};
use crate::selector;
use crate::time;

pub fn list(ctx: &Context, args: &ListArgs) -> Result<()> {
    let now = match &args.at {
        Some(at) => time::parse_time_arg(at, time::now()).map_err(Error::Usage)?,
        None => time::now(),
    };
    let doc = ctx.store.load()?;
    let config = ctx.config()?;
    let known = doc.providers();
    let providers: Vec<&str> = if args.provider.is_empty() {
        known.clone()
    } else {
        for provider in &args.provider {
            selector::check_provider(provider, &known)?;
        }
        args.provider.iter().map(String::as_str).collect()
    };
    let mut rng = args.selection.seed.map(fastrand::Rng::with_seed);
    let report = PoolReport {
        at: time::rfc3339_s(now),
        providers: providers
            .iter()
            .map(|provider| {
                let strategy = args
                    .selection
                    .strategy
                    .unwrap_or_else(|| config.strategy_for(provider));
                let profiles = doc.profiles(provider).unwrap_or_default();
                provider_report(provider, &profiles, strategy, now, rng.as_mut())
            })
            .collect(),
    };
    print(&match args.format {
        ListFormat::Table => output::pool_table(&report, now, ctx.style),
        ListFormat::Json => output::json(&report),
        ListFormat::Prometheus => output::pool_prometheus(&report),
    })?;
    if args.check {
        check(&report, now)?;
    }
    Ok(())
}

/// `--check`: every listed provider must have an available profile.
fn check(report: &PoolReport, now: time::Epoch) -> Result<()> {
    if report.providers.is_empty() {
        return Err(Error::PoolExhausted {
            message: "no credential pool to check: auth.json has no providers".into(),
        });
    }
    let empty: Vec<String> = report
        .providers
        .iter()
        .filter(|p| p.available == 0)
        .map(|p| {
            match p
                .next_available_at
                .as_deref()
                .and_then(time::parse_timestamp_text)
            {
                Some(at) => format!(
                    "{} has no available profile; next_available_at {} ({})",
                    p.provider,
                    time::rfc3339_s(at),
                    time::relative(at, now)
                ),
                None => format!(
                    "{} has no available profile and none recovers without a re-login",
                    p.provider
                ),
            }
        })
        .collect();
    if empty.is_empty() {
        Ok(())
    } else {
        Err(Error::PoolExhausted {
            message: empty.join("; "),
        })
    }
}
