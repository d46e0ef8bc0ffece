//! `rotor profiles probe`: real health from the providers, written back, reported like `list`.

use super::profiles::{check, chosen_providers, pool_report, render};
use super::{Context, selectable_profiles};
use crate::cli::{ProbeArgs, selector};
use crate::engine::{Applied, Change, Effect, Guard};
use crate::error::{Error, Result};
use crate::pool::Profile;
use crate::sanitize::Redactor;
use crate::store::StatusStore;
use crate::time;
use crate::upstream::blocking;
use crate::upstream::http::Transport;
use crate::upstream::probe::{self, Answer, ProbeResult, ProbeSettings, Verdict};
use crate::upstream::refresh::{self, RefreshTarget};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

pub(crate) fn run(ctx: &Context, args: &ProbeArgs) -> Result<()> {
    let timeout = super::positive_duration("timeout", &args.timeout)?;
    let settings = ProbeSettings {
        base_url: super::credential_url("base-url", args.base_url.as_deref())?,
        timeout: Duration::from_secs_f64(timeout),
        max_cooldown_s: super::positive_duration("max-cooldown", &args.max_cooldown)?,
    };
    let token_url = super::token_url(args.token_url.as_deref())?;
    let doc = ctx.load()?;
    let redactor = doc.redactor();
    let providers = chosen_providers(&doc, &args.provider)?;
    let candidates: Vec<Profile> = providers
        .iter()
        .flat_map(|p| doc.profiles(p).unwrap_or_default())
        .collect();
    let targets: Vec<Profile> = if args.selectors.is_empty() {
        candidates
    } else {
        let pool = if args.provider.is_empty() {
            selectable_profiles(&doc, None)?
        } else {
            candidates
        };
        let mut chosen: Vec<Profile> = Vec::new();
        for s in &args.selectors {
            let p = selector::resolve(s, &pool)?;
            if !chosen
                .iter()
                .any(|c| c.provider == p.provider && c.id == p.id)
            {
                chosen.push(p.clone());
            }
        }
        chosen
    };
    let transport = Transport::new(settings.timeout).map_err(Error::Internal)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::Internal(format!("cannot start the async runtime: {e}")))?;
    let mut results = runtime.block_on(probe_all(
        ctx,
        &transport,
        &settings,
        &token_url,
        &targets,
        args.concurrency as usize,
        &redactor,
    ))?;

    // Each verdict is a compare-and-set: the probe decided it from the status it saw before,
    // so it applies only if that status is still the one on disk (a gateway may have marked
    // the profile dead meanwhile, and a probe must never undo that). One locked write per
    // provider, on the file as it is then.
    let now = time::now();
    let mut written: Vec<Option<Applied>> = vec![None; targets.len()];
    let mut providers_written: Vec<&str> = Vec::new();
    for (profile, (_, change)) in targets.iter().zip(&results) {
        if change.is_some() && !providers_written.contains(&profile.provider.as_str()) {
            providers_written.push(&profile.provider);
        }
    }
    for provider in providers_written {
        let (indices, changes): (Vec<usize>, Vec<Change>) = targets
            .iter()
            .zip(&results)
            .enumerate()
            .filter(|(_, (p, _))| p.provider == provider)
            .filter_map(|(i, (p, (_, effect)))| {
                let effect: &Effect = effect.as_ref()?;
                // Compared with the file as it was read (a status merged from the fleet's
                // shared state is not in the file: the guard is the file's own).
                let on_disk = doc
                    .file_profiles(&p.provider)
                    .and_then(|ps| ps.into_iter().find(|f| f.id == p.id))
                    .map_or_else(|| p.status.clone(), |f| f.status);
                let change = Change {
                    effect: effect.clone(),
                    guard: Guard::unchanged(&on_disk),
                };
                Some((i, change))
            })
            .unzip();
        for (i, applied) in indices
            .into_iter()
            .zip(ctx.store.write(provider, &changes)?)
        {
            written[i] = Some(applied);
        }
    }
    for ((result, _), written) in results.iter_mut().zip(written) {
        match written {
            Some(Applied::Written) => result.written = true,
            Some(Applied::Changed | Applied::Dead) => {
                result.detail = Some(format!(
                    "{}not written: the status changed on disk while the probe ran",
                    result
                        .detail
                        .as_deref()
                        .map(|d| format!("{d}; "))
                        .unwrap_or_default()
                ));
            }
            Some(Applied::Gone) | None => {}
        }
    }

    let doc = ctx.store.load()?;
    let reported: Vec<String> = if args.selectors.is_empty() {
        providers
    } else {
        let mut ps: Vec<String> = targets.iter().map(|p| p.provider.clone()).collect();
        ps.dedup();
        ps
    };
    let mut report = pool_report(ctx, &doc, &reported, &args.selection, now, None)?;
    let by_profile: HashMap<(&str, &str), &ProbeResult> = targets
        .iter()
        .zip(&results)
        .map(|(p, (r, _))| ((p.provider.as_str(), p.hash.as_str()), r))
        .collect();
    for provider in &mut report.providers {
        for row in &mut provider.profiles {
            row.probe = by_profile
                .get(&(provider.provider.as_str(), row.profile.as_str()))
                .map(|r| (*r).clone());
        }
    }
    render(&report, args.format, now, ctx)?;
    // A probe that reached nobody learned nothing: say so with the code of an unreachable
    // upstream, not with a health verdict.
    let sent = results.iter().any(|(r, _)| r.verdict != Verdict::Skipped);
    let answered = results.iter().any(|(r, _)| r.status.is_some());
    if sent && !answered {
        let first = results
            .iter()
            .find_map(|(r, _)| r.detail.clone())
            .unwrap_or_default();
        return Err(Error::UpstreamUnavailable(format!(
            "no probe got an answer; first failure: {first}"
        )));
    }
    check(&report, now)
}

type Judged = (ProbeResult, Option<Effect>);

/// Probes every target, at most `concurrency` at a time. Token refreshes happen one at a time
/// (they take the lock anyway), before the probe for expiring tokens and after a plain 401.
async fn probe_all(
    ctx: &Context,
    transport: &Transport,
    settings: &ProbeSettings,
    token_url: &str,
    targets: &[Profile],
    concurrency: usize,
    redactor: &Redactor,
) -> Result<Vec<Judged>> {
    let judge = |profile: &Profile, answer: Answer| {
        probe::judge(
            profile,
            answer,
            time::now(),
            redactor,
            settings.max_cooldown_s,
        )
    };
    let mut results: Vec<Option<Judged>> = vec![None; targets.len()];
    let mut refreshed = vec![false; targets.len()];
    for (i, profile) in targets.iter().enumerate() {
        if let Some(why) = probe::skip_reason(profile) {
            results[i] = Some((skipped(why), None));
        } else if probe::wants_refresh(profile, None, time::now()) {
            refreshed[i] = true;
            results[i] = refresh_one(ctx, transport, token_url, profile, redactor).await?;
        }
    }
    let pending: Vec<usize> = (0..targets.len())
        .filter(|i| results[*i].is_none())
        .collect();
    let answers = send_all(ctx, transport, settings, targets, &pending, concurrency).await?;
    for (i, answer) in pending.iter().zip(answers) {
        // A plain 401 is worth a refresh; one whose reason says the grant is gone is not.
        let unauthorized = matches!(&answer, Ok((401, headers, body)) if matches!(
            crate::engine::classify_response(Some(401), headers, body, time::now(), redactor),
            crate::engine::Outcome::Failure(f) if f.class == crate::engine::Class::Auth
        ));
        let profile = &targets[*i];
        if unauthorized && !refreshed[*i] && probe::wants_refresh(profile, Some(401), time::now()) {
            if let Some(failed) = refresh_one(ctx, transport, token_url, profile, redactor).await? {
                results[*i] = Some(failed);
                continue;
            }
            let again = send_all(ctx, transport, settings, targets, &[*i], 1).await?;
            results[*i] = again.into_iter().next().map(|a| judge(profile, a));
        } else {
            results[*i] = Some(judge(profile, answer));
        }
    }
    Ok(results
        .into_iter()
        .map(|r| r.unwrap_or_else(|| (skipped("not probed"), None)))
        .collect())
}

fn skipped(why: &str) -> ProbeResult {
    ProbeResult {
        verdict: Verdict::Skipped,
        status: None,
        used_percent: None,
        until: None,
        detail: Some(why.to_string()),
        written: false,
    }
}

/// Refreshes one profile's token; `Some` verdict when the refresh failed.
async fn refresh_one(
    ctx: &Context,
    transport: &Transport,
    token_url: &str,
    profile: &Profile,
    redactor: &Redactor,
) -> Result<Option<Judged>> {
    let doc = load(ctx).await?;
    let loaded = doc
        .refresh_token(&profile.provider, &profile.id)
        .map(str::to_owned);
    let target = RefreshTarget {
        provider: &profile.provider,
        id: &profile.id,
        loaded_refresh_token: loaded.as_deref(),
        token_url,
    };
    let result = refresh::refresh(&ctx.store, transport.client(), target).await?;
    Ok(probe::refresh_failed(
        profile,
        &result,
        time::now(),
        redactor,
    ))
}

/// Reads auth.json on the blocking pool, as every file operation of an async driver.
async fn load(ctx: &Context) -> Result<crate::store::Document> {
    let store = ctx.store.clone();
    blocking(move || store.load()).await
}

/// Sends the probes of `indices` concurrently, reading each token from disk just before.
async fn send_all(
    ctx: &Context,
    transport: &Transport,
    settings: &ProbeSettings,
    targets: &[Profile],
    indices: &[usize],
    concurrency: usize,
) -> Result<Vec<Answer>> {
    let doc = load(ctx).await?;
    let permits = Arc::new(tokio::sync::Semaphore::new(concurrency.max(1)));
    let mut tasks = tokio::task::JoinSet::new();
    for (slot, i) in indices.iter().enumerate() {
        let profile = targets[*i].clone();
        let token = doc
            .access_token(&profile.provider, &profile.id)
            .unwrap_or_default()
            .to_string();
        let (client, settings, permits) = (
            transport.client().clone(),
            settings.clone(),
            permits.clone(),
        );
        tasks.spawn(async move {
            let _permit = permits.acquire_owned().await;
            (
                slot,
                probe::send(&client, &settings, &profile, &token).await,
            )
        });
    }
    let mut answers: Vec<Answer> = vec![Err("not sent".into()); indices.len()];
    while let Some(joined) = tasks.join_next().await {
        let (slot, answer) =
            joined.map_err(|e| Error::Internal(format!("a probe task failed: {e}")))?;
        answers[slot] = answer;
    }
    Ok(answers)
}
