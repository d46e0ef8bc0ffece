//! `rotor cooldown set` and `rotor cooldown clear`: manual overrides, written under the lock on
//! the freshly re-read file so a concurrent Hermes write is never lost.

use super::{Context, print, selectable_profiles};
use crate::cli::selector::{self, describe};
use crate::cli::{CooldownClearArgs, CooldownSetArgs, ReportFormat};
use crate::engine::ResetSource;
use crate::engine::{Applied, Change, Effect};
use crate::error::{Error, Result};
use crate::pool::{HermesRules, LastStatus, Profile};
use crate::render::{self, sanitize};
use crate::store::Document;
use crate::time::{self, Epoch};
use serde::Serialize;

#[derive(Debug, Serialize)]
struct Changed {
    provider: String,
    position: usize,
    profile: String,
    #[serde(skip)]
    label: String,
    /// For `set`: the end of the cooldown; for `clear`: null.
    until: Option<String>,
    #[serde(skip)]
    until_epoch: Option<Epoch>,
    /// `--model`: the model whose cooldown was set or cleared (the account's is left alone).
    #[serde(skip_serializing_if = "Option::is_none")]
    model: Option<String>,
}

#[derive(Debug, Serialize)]
struct Skipped {
    provider: String,
    position: usize,
    profile: String,
    why: &'static str,
}

#[derive(Debug, Serialize)]
struct CooldownReport {
    action: &'static str,
    changed: Vec<Changed>,
    skipped: Vec<Skipped>,
}

fn changed(p: &Profile, until: Option<Epoch>, model: Option<&str>) -> Changed {
    Changed {
        provider: p.provider.clone(),
        position: p.position,
        profile: p.hash.clone(),
        label: p.label.clone(),
        until: until.map(time::rfc3339_s),
        until_epoch: until,
        model: model.map(str::to_owned),
    }
}

/// `--model` is newer Hermes's: 0.19 neither honours nor keeps `model_cooldowns`, so a model
/// cooldown written into a 0.19 file would look set and do nothing. Judged by the rules of
/// the file that holds `profile` (in a profile home, a borrowed row is the root's).
fn model_allowed(doc: &Document, profile: &Profile, model: Option<&str>) -> Result<()> {
    if model.is_some() && profile.rules != HermesRules::Main {
        return Err(Error::usage(format!(
            "--model needs newer Hermes's per-model cooldowns, and {} follows Hermes 0.19's \
             rules, which neither honour nor keep them; pass --hermes main if the gateway runs \
             Hermes from its main branch",
            doc.path_of(&profile.provider).display()
        )));
    }
    Ok(())
}

/// The longest cooldown `cooldown set` writes without `--force`.
const MANUAL_CAP_S: f64 = crate::engine::DEFAULT_MAX_COOLDOWN_S;

pub(crate) fn set(ctx: &Context, args: &CooldownSetArgs) -> Result<()> {
    let now = time::now();
    let until = match (&args.until, &args.for_) {
        (Some(at), _) => time::parse_time_arg(at, now).map_err(Error::Usage)?,
        (None, Some(duration)) => now + time::parse_duration(duration).map_err(Error::Usage)?,
        (None, None) => return Err(Error::usage("one of --until or --for is required")),
    };
    if until <= now {
        return Err(Error::usage(format!(
            "the cooldown would end at {}, which is not in the future",
            time::rfc3339_s(until)
        )));
    }
    // Written as float epoch seconds, read back by Hermes as milliseconds above 1e12: a time
    // past the year 9999 would silently turn into one in the past.
    if until > time::MAX_EPOCH {
        return Err(Error::usage(
            "the cooldown would end after 9999-12-31T23:59:59Z; rotor never writes a time that \
             Hermes would read back as another one (the entry would be usable again at once)",
        ));
    }
    if until - now > MANUAL_CAP_S && !args.force {
        return Err(Error::usage(format!(
            "the cooldown would end at {} ({}), more than 30 days away; pass --force if you \
             mean it",
            time::rfc3339_s(until),
            time::relative(until, now)
        )));
    }
    // Resolved under the lock, on the file as it is then: the entry written is the one named.
    let model = args.model.as_deref();
    if let Some(model) = model {
        super::profiles::check_model(model)?;
    }
    let (profile, _) = ctx.store.decide_and_write(|doc| {
        let profiles = selectable_profiles(doc, args.provider.as_deref())?;
        let profile = selector::resolve(&args.selector, &profiles)?.clone();
        model_allowed(doc, &profile, model)?;
        if profile.is_dead() {
            // A cooldown on a dead profile would bring it back into rotation when it ends.
            return Err(Error::usage(format!(
                "{} is dead ({}); only a re-login revives it, so no cooldown was set",
                describe(&profile),
                profile
                    .status
                    .last_error_reason
                    .as_deref()
                    .map(sanitize)
                    .unwrap_or_else(|| "no reason".into())
            )));
        }
        // The operator's text is stored like a server's: one line, bounded, no secret of the
        // file (a token pasted by mistake) and no email address.
        let reason = args
            .reason
            .as_deref()
            .map(|r| doc.redactor().clean(r, crate::engine::MESSAGE_MAX_CHARS));
        let effect = match model {
            // The account's status stays as it is; the operator's text has nowhere to go in
            // newer Hermes's shape (a model cooldown is only an end time).
            Some(model) => Effect::CoolModel {
                profile_id: profile.id.clone(),
                at: time::now(),
                model: model.to_string(),
                until,
                reason: "manual".into(),
                source: ResetSource::Manual,
                capped: false,
            },
            None => Effect::manual_cooldown(profile.id.clone(), time::now(), until, reason),
        };
        let change = (profile.provider.clone(), Change::always(effect));
        Ok((profile, vec![change]))
    })?;
    emit(
        ctx,
        args.format,
        &CooldownReport {
            action: "cooldown_set",
            changed: vec![changed(&profile, Some(until), model)],
            skipped: vec![],
        },
        now,
    )
}

pub(crate) fn clear(ctx: &Context, args: &CooldownClearArgs) -> Result<()> {
    // Decided under the lock, on the file as it is then: only what is cooling is cleared.
    let model = args.model.as_deref();
    if let Some(model) = model {
        super::profiles::check_model(model)?;
    }
    let ((targets, mut skipped), applied) = ctx.store.decide_and_write(|doc| {
        let profiles = selectable_profiles(doc, args.provider.as_deref())?;
        let chosen: Vec<&Profile> = if args.all {
            profiles.iter().collect()
        } else {
            let mut chosen: Vec<&Profile> = Vec::new();
            for selector in &args.selectors {
                let p = selector::resolve(selector, &profiles)?;
                if !chosen
                    .iter()
                    .any(|c| c.provider == p.provider && c.id == p.id)
                {
                    chosen.push(p);
                }
            }
            chosen
        };
        let (mut targets, mut skipped, mut changes) = (Vec::new(), Vec::new(), Vec::new());
        for p in &chosen {
            model_allowed(doc, p, model)?;
        }
        for p in chosen {
            let effect = match model {
                _ if p.is_dead() => {
                    skipped.push(skip(p, "dead: only a re-login clears it"));
                    continue;
                }
                Some(model) if p.model_cooldowns.iter().any(|(m, _)| m == model) => {
                    Effect::ClearModel {
                        profile_id: p.id.clone(),
                        model: model.to_string(),
                    }
                }
                Some(_) => {
                    skipped.push(skip(p, "that model is not cooling"));
                    continue;
                }
                // Every model cooldown goes with the account's, as `hermes auth reset` does.
                None if p.status.last_status == Some(LastStatus::Exhausted)
                    || !p.model_cooldowns.is_empty() =>
                {
                    Effect::Clear {
                        profile_id: p.id.clone(),
                        // Taken under the lock: no status written while rotor waited for it
                        // can be newer than the clear.
                        at: time::now(),
                        models: true,
                    }
                }
                None => {
                    skipped.push(skip(p, "not cooling"));
                    continue;
                }
            };
            changes.push((p.provider.clone(), Change::always(effect)));
            targets.push(p.clone());
        }
        Ok(((targets, skipped), changes))
    })?;
    let mut cleared = Vec::new();
    for (p, applied) in targets.iter().zip(applied) {
        match applied {
            Applied::Written => cleared.push(changed(p, None, model)),
            // Decided under the same lock: these cannot happen, but are named if they do.
            Applied::Dead => skipped.push(skip(p, "dead: only a re-login clears it")),
            Applied::Changed => skipped.push(skip(p, "not cooling")),
            Applied::Gone => skipped.push(skip(p, "no longer in auth.json")),
        }
    }
    emit(
        ctx,
        args.format,
        &CooldownReport {
            action: "cooldown_clear",
            changed: cleared,
            skipped,
        },
        time::now(),
    )
}

fn skip(p: &Profile, why: &'static str) -> Skipped {
    Skipped {
        provider: p.provider.clone(),
        position: p.position,
        profile: p.hash.clone(),
        why,
    }
}

fn emit(ctx: &Context, format: ReportFormat, report: &CooldownReport, now: Epoch) -> Result<()> {
    let text = match format {
        ReportFormat::Json => render::json(report),
        ReportFormat::Table => {
            let mut lines = Vec::new();
            for c in &report.changed {
                let name = format!(
                    "{}#{} ({}) {}",
                    sanitize(&c.provider),
                    c.position,
                    c.profile,
                    sanitize(&c.label)
                );
                let what = match &c.model {
                    Some(model) => format!("model {}", sanitize(model)),
                    None => "cooling".into(),
                };
                lines.push(match (c.until_epoch, &c.model) {
                    (Some(until), _) => format!(
                        "{name}: {what} until {} ({})",
                        time::rfc3339_s(until),
                        time::relative(until, now)
                    ),
                    (None, Some(_)) => format!("{name}: {what} cleared"),
                    (None, None) => format!("{name}: cleared"),
                });
            }
            for s in &report.skipped {
                lines.push(format!(
                    "{}#{} ({}): left as is, {}",
                    sanitize(&s.provider),
                    s.position,
                    s.profile,
                    s.why
                ));
            }
            if lines.is_empty() {
                lines.push("nothing to clear".into());
            }
            if ctx.quiet {
                return Ok(());
            }
            lines.join("\n") + "\n"
        }
    };
    print(&text)
}
