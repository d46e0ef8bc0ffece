//! `rotor profiles list`, and the report plumbing `profiles probe` shares with it.

use super::{Context, print};
use crate::cli::selector;
use crate::cli::{ListArgs, ListFormat, SelectionArgs};
use crate::error::{Error, Result};
use crate::render;
use crate::render::report::{PoolReport, provider_report};
use crate::store::Document;
use crate::time::{self, Epoch};

pub(crate) fn list(ctx: &Context, args: &ListArgs) -> Result<()> {
    let now = match &args.at {
        Some(at) => time::parse_time_arg(at, time::now()).map_err(Error::Usage)?,
        None => time::now(),
    };
    let doc = ctx.load()?;
    let providers = chosen_providers(&doc, &args.provider)?;
    let model = args.model.as_deref();
    if let Some(model) = model {
        check_model(model)?;
    }
    let report = pool_report(ctx, &doc, &providers, &args.selection, now, model)?;
    // The parsed file is the largest thing in memory: free it before rendering, which then
    // reuses its pages (a third fewer page faults on 10,000 profiles).
    drop(doc);
    render(&report, args.format, now, ctx)?;
    if args.check {
        check(&report, now)
    } else {
        Ok(())
    }
}

/// A `--model` value, checked as [`crate::pool::is_model_name`] does.
pub(crate) fn check_model(model: &str) -> Result<()> {
    if !crate::pool::is_model_name(model) {
        return Err(Error::usage(format!(
            "invalid --model `{}`: expected a model name (1 to {} characters, no spaces or control characters)",
            crate::sanitize::one_line(model, 60),
            crate::pool::MAX_MODEL_CHARS
        )));
    }
    Ok(())
}

/// The `--provider` values, each checked to exist, or every provider of the pool.
pub(crate) fn chosen_providers(doc: &Document, wanted: &[String]) -> Result<Vec<String>> {
    let known = doc.providers();
    if wanted.is_empty() {
        return Ok(known.iter().map(|p| p.to_string()).collect());
    }
    for provider in wanted {
        selector::check_provider(provider, &known)?;
    }
    Ok(wanted.to_vec())
}

/// The report of `providers` at `now`, each with its strategy (flag, else config.yaml).
pub(crate) fn pool_report(
    ctx: &Context,
    doc: &Document,
    providers: &[String],
    selection: &SelectionArgs,
    now: Epoch,
    model: Option<&str>,
) -> Result<PoolReport> {
    let config = ctx.config()?;
    let mut rng = selection.seed.map(fastrand::Rng::with_seed);
    Ok(PoolReport {
        at: time::rfc3339_s(now),
        model: model.map(str::to_owned),
        hermes: doc.rules(),
        providers: providers
            .iter()
            .map(|provider| {
                let strategy = selection
                    .strategy
                    .unwrap_or_else(|| config.strategy_for(provider));
                let profiles = doc.profiles(provider).unwrap_or_default();
                let mut report =
                    provider_report(provider, &profiles, strategy, now, model, rng.as_mut());
                report.rows_from = doc
                    .is_borrowed(provider)
                    .then(|| doc.path_of(provider).display().to_string());
                report
            })
            .collect(),
    })
}

pub(crate) fn render(
    report: &PoolReport,
    format: ListFormat,
    now: Epoch,
    ctx: &Context,
) -> Result<()> {
    print(&match format {
        ListFormat::Table => render::table::pool_table(report, now, ctx.style),
        ListFormat::Json => render::json(report),
        ListFormat::Prometheus => render::prometheus::pool_prometheus(report),
    })
}

/// `--check`: every listed provider must have an available profile.
pub(crate) fn check(report: &PoolReport, now: Epoch) -> Result<()> {
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
