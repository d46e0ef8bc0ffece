//! Carrying status between a host's auth.json and the fleet's Redis, both ways.
//!
//! - Every status change rotor writes is told to the fleet right after ([`ops_of_changes`]).
//! - `rotor sync` pushes what the file holds that the fleet may lack (the local Hermes's own
//!   findings, rotor's writes made while Redis was down), then pulls the fleet's findings
//!   into the file, under the lock and status fields only, so an unmodified Hermes honours
//!   them ([`sync_once`]). A dead mark pulled is stamped with the time of the pull: Hermes
//!   0.19 deletes a `manual:*` row, tokens included, 24 h after its `last_status_at` says it
//!   died, and another host's older finding must not start that clock early.

use super::record::{self, Op};
use super::{Fleet, Record};
use crate::engine::{Applied, Change};
use crate::error::{Error, Result};
use crate::pool::HermesRules;
use crate::store::{AuthStore, Document};
use crate::time::Epoch;
use serde::Serialize;
use std::collections::HashMap;

/// The fleet's op of each change that has one: (index of the change, account key, op).
pub(crate) fn ops_of_changes(
    fleet: &Fleet,
    doc: &Document,
    changes: &[(String, Change)],
) -> Vec<(usize, String, Op)> {
    let now = crate::time::now();
    let mut ops = Vec::new();
    for (i, (provider, change)) in changes.iter().enumerate() {
        let id = change.effect.profile_id();
        let Some(profile) = doc
            .file_profiles(provider)
            .and_then(|ps| ps.into_iter().find(|p| p.id == id))
        else {
            continue;
        };
        let credential = doc.credential_digest(provider, id);
        if let Some(op) =
            record::op_of_effect(&change.effect, fleet.host(), credential.as_deref(), now)
        {
            ops.push((i, doc.account_key(provider, &profile), op));
        }
    }
    ops
}

/// What the file holds that the fleet should know, per account.
fn ops_of_file(fleet: &Fleet, doc: &Document, now: Epoch) -> Vec<(String, Vec<Op>)> {
    let written_at = doc.updated_at().unwrap_or(0.0).min(now);
    let redactor = doc.redactor();
    let clean = |text: &str| redactor.clean(text, crate::engine::MESSAGE_MAX_CHARS);
    let mut batch: HashMap<String, Vec<Op>> = HashMap::new();
    for provider in doc.providers() {
        for p in doc.file_profiles(provider).unwrap_or_default() {
            let credential = doc.credential_digest(provider, &p.id);
            let ops = record::ops_of_entry(
                &p,
                fleet.host(),
                credential.as_deref(),
                now,
                written_at,
                &clean,
            );
            if !ops.is_empty() {
                batch
                    .entry(doc.account_key(provider, &p))
                    .or_default()
                    .extend(ops);
            }
        }
    }
    batch.into_iter().collect()
}

/// Pushes what auth.json holds to the fleet: how many records changed, `None` if Redis is down.
pub(crate) fn push_file(fleet: &Fleet, store: &AuthStore) -> Result<Option<usize>> {
    let doc = store.load_file()?;
    Ok(fleet.push(ops_of_file(fleet, &doc, crate::time::now())))
}

/// One status the pull wrote into auth.json.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Pulled {
    pub provider: String,
    pub profile: String,
    pub label: String,
    /// `cooling`, `dead`, `cleared` or `model_cooling`.
    pub change: &'static str,
    pub until: Option<Epoch>,
    pub model: Option<String>,
    /// The host whose finding it was.
    pub from_host: Option<String>,
}

/// What one sync did.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Report {
    /// Records in Redis that the push changed.
    pub pushed: usize,
    pub pulled: Vec<Pulled>,
}

/// Pushes the file's findings, then pulls the fleet's into the file. Redis down is an error
/// here (exit 4): it is the whole job.
pub(crate) fn sync_once(store: &AuthStore, fleet: &Fleet) -> Result<Report> {
    let unreachable = || {
        Error::UpstreamUnavailable(format!(
            "shared state {} unreachable: nothing synced",
            fleet.shown_url()
        ))
    };
    let pushed = push_file(fleet, store)?.ok_or_else(unreachable)?;
    let doc = store.load_file()?;
    let view = fleet.view(doc.fleet_entries());
    if !view.up {
        return Err(unreachable());
    }
    let records = view.records;
    let pulled = pull(store, &records)?;
    Ok(Report { pushed, pulled })
}

/// Writes the fleet's findings into auth.json: decided under the lock from the file as it
/// is then, status fields only.
fn pull(store: &AuthStore, records: &HashMap<String, Record>) -> Result<Vec<Pulled>> {
    if records.is_empty() {
        return Ok(Vec::new());
    }
    let now = crate::time::now();
    let (notes, applied) = store.decide_and_write_local(|doc| {
        let models = doc.rules() == HermesRules::Main;
        let mut changes = Vec::new();
        let mut notes = Vec::new();
        for provider in doc.providers() {
            for p in doc.file_profiles(provider).unwrap_or_default() {
                let Some(record) = records.get(&doc.account_key(provider, &p)) else {
                    continue;
                };
                let credential = doc.credential_digest(provider, &p.id);
                for effect in
                    record::overlay(&p, record, credential.as_deref(), now, Some(now), models)
                {
                    notes.push(note(provider, &p, record, &effect));
                    changes.push((provider.to_string(), Change::always(effect)));
                }
            }
        }
        Ok((notes, changes))
    })?;
    Ok(notes
        .into_iter()
        .zip(applied)
        .filter(|(_, a)| *a == Applied::Written)
        .map(|(n, _)| n)
        .collect())
}

fn note(
    provider: &str,
    p: &crate::pool::Profile,
    record: &Record,
    effect: &crate::engine::Effect,
) -> Pulled {
    use crate::engine::Effect;
    let (change, until, model, host) = match effect {
        Effect::MarkDead { .. } => ("dead", None, None, record.dead.as_ref().map(|d| &d.host)),
        Effect::MarkExhausted { until, .. } => (
            "cooling",
            Some(*until),
            None,
            record.exhausted.as_ref().map(|m| &m.host),
        ),
        Effect::Clear { .. } => (
            "cleared",
            None,
            None,
            record.cleared.as_ref().map(|c| &c.host),
        ),
        Effect::CoolModel { until, model, .. } => (
            "model_cooling",
            Some(*until),
            Some(model.clone()),
            record.models.get(model).map(|m| &m.host),
        ),
        _ => ("changed", None, None, None),
    };
    Pulled {
        provider: provider.to_string(),
        profile: p.hash.clone(),
        label: p.label.clone(),
        change,
        until,
        model,
        from_host: host.cloned(),
    }
}
