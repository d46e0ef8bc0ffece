//! `rotor simulate [SCENARIO] [--format table|json] [--seed N]`.
//!
//! Prints the event trace and the pool it leaves; exits as the scenario's last request would
//! with `rotor call` (0, 3 with the earliest `next_available_at` on stderr, 4 or 5).

use super::{Context, StdoutStream, stdout_error};
use crate::cli::{ReportFormat, SimulateArgs};
use crate::error::{Error, Result};
use crate::render::events::{Human, JsonLines};
use crate::render::report::{PoolReport, ProviderReport, provider_report};
use crate::simulate::{self, Report, Scenario};
use crate::{render, sanitize, time};
use serde::Serialize;
use std::io::{Read, Write};
use std::path::Path;

pub(crate) fn run(ctx: &Context, args: &SimulateArgs) -> Result<()> {
    let real_now = time::now();
    let scenario = load(args.scenario.as_deref(), real_now)?;
    let seed = args.seed.or(scenario.seed).unwrap_or(0);
    // Streamed: a long scenario prints tens of megabytes of events; a closed pipe drops the
    // rest quietly and the simulation still ends with its last request's exit code.
    let mut out = StdoutStream::new();
    let report = match args.format {
        ReportFormat::Table => {
            let heading = scenario.description.as_deref().unwrap_or("scenario");
            writeln!(
                out,
                "{} ({}, {}, seed {seed})",
                sanitize::one_line(heading, 200),
                scenario.source.display(),
                scenario.policy.strategy.as_str()
            )
            .map_err(stdout_error)?;
            let report = simulate::run(&scenario, seed, &mut Human(&mut out))?;
            let pool = final_pool(&scenario, &report);
            write!(
                out,
                "\npool after {} request(s), at {}:\n",
                report.ends.len(),
                time::rfc3339_s(report.clock)
            )
            .map_err(stdout_error)?;
            let table = PoolReport {
                at: time::rfc3339_s(report.clock),
                model: None,
                hermes: report.profiles.first().map(|p| p.rules).unwrap_or_default(),
                providers: vec![pool],
            };
            out.write_all(render::table::pool_table(&table, report.clock, ctx.style).as_bytes())
                .map_err(stdout_error)?;
            report
        }
        ReportFormat::Json => {
            let report = simulate::run(&scenario, seed, &mut JsonLines::new(&mut out))?;
            let summary = Summary {
                event: "simulation_end",
                ts: time::rfc3339_ms(report.clock),
                provider: &scenario.provider,
                seed,
                requests: report.ends.len(),
                exit_code: report
                    .last_end()
                    .map_or(0, |e| crate::error::exit_code_of(e.outcome)),
                pool: hashes_only(&final_pool(&scenario, &report)),
            };
            JsonLines::new(&mut out)
                .emit_value(&summary)
                .map_err(|e| Error::Internal(format!("cannot render the summary: {e}")))?;
            report
        }
    };
    out.finish()?;
    match report.last_end() {
        Some(end) => crate::error::request_result(end, &scenario.provider),
        None => Ok(()),
    }
}

/// The last line of `--format json`: not an engine event but the simulation's result, with the
/// pool as `profiles list --format json` shows it.
#[derive(Serialize)]
struct Summary<'a> {
    event: &'static str,
    ts: String,
    provider: &'a str,
    seed: u64,
    requests: usize,
    exit_code: u8,
    pool: serde_json::Value,
}

/// The pool as `profiles list --format json` shows it, minus each profile's `label` and `id`:
/// JSON lines of a simulation are events, and events name profiles by hash only (labels are
/// often email addresses). The human table keeps the labels.
fn hashes_only(pool: &ProviderReport) -> serde_json::Value {
    let mut value = serde_json::to_value(pool).unwrap_or_default();
    if let Some(profiles) = value["profiles"].as_array_mut() {
        for profile in profiles.iter_mut().filter_map(|p| p.as_object_mut()) {
            // shift_remove keeps the other keys in the report's order.
            profile.shift_remove("label");
            profile.shift_remove("id");
        }
    }
    value
}

fn final_pool(scenario: &Scenario, report: &Report) -> ProviderReport {
    let mut rng = fastrand::Rng::with_seed(report.seed);
    provider_report(
        &scenario.provider,
        &report.profiles,
        scenario.policy.strategy,
        report.clock,
        None,
        Some(&mut rng),
    )
}

fn load(path: Option<&Path>, real_now: f64) -> Result<Scenario> {
    let Some(path) = path else {
        return simulate::builtin(real_now);
    };
    if path == Path::new("-") {
        let mut bytes = Vec::new();
        std::io::stdin()
            .read_to_end(&mut bytes)
            .map_err(|source| Error::Read {
                path: "<stdin>".into(),
                source,
            })?;
        return Scenario::parse(Path::new("<stdin>"), &bytes, real_now);
    }
    let bytes = std::fs::read(path).map_err(|source| Error::Read {
        path: path.to_path_buf(),
        source,
    })?;
    Scenario::parse(path, &bytes, real_now)
}
