//! What `profiles list` (and later `probe`) report about a pool at one instant: plain data,
//! serialisable as the JSON output, rendered by `output` as a table or Prometheus text.

use crate::pool::{self, AuthType, DisplayState, Profile, Strategy};
use crate::time::{self, Epoch};
use serde::Serialize;

#[derive(Debug, Serialize)]
pub(crate) struct PoolReport {
    /// The instant availability was evaluated at (`--at`, else now), RFC 3339.
    pub at: String,
    /// The model availability was evaluated for (`--model`); null: a request naming no
    /// model, which any active model cooldown keeps off a profile.
    pub model: Option<String>,
    /// The Hermes rules the file was read under (`0.19` or `main`).
    pub hermes: crate::pool::HermesRules,
    pub providers: Vec<ProviderReport>,
}

#[derive(Debug, Serialize)]
pub(crate) struct ProviderReport {
    pub provider: String,
    pub strategy: Strategy,
    pub total: usize,
    pub available: usize,
    /// Hash of the profile the strategy would pick next; null when none is available, or for
    /// `random` without `--seed` (any available profile may be picked).
    pub next_profile: Option<String>,
    /// Earliest time a profile becomes available (the evaluation time if one is already);
    /// null when every profile is dead or keyless.
    pub next_available_at: Option<String>,
    /// In a Hermes profile home, the root's auth.json when the rows are borrowed from it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rows_from: Option<String>,
    pub profiles: Vec<ProfileRow>,
}

#[derive(Debug, Serialize)]
pub(crate) struct ProfileRow {
    pub position: usize,
    pub profile: String,
    pub id: String,
    pub label: String,
    pub auth_type: AuthType,
    pub plan: Option<String>,
    pub state: DisplayState,
    pub available: bool,
    pub cooldown_until: Option<String>,
    pub cooldown_seconds_left: Option<f64>,
    pub last_error_code: Option<i64>,
    pub last_error_reason: Option<String>,
    pub last_error_message: Option<String>,
    pub last_status_at: Option<String>,
    pub request_count: u64,
    pub token_expires_at: Option<String>,
    /// Active model cooldowns (newer Hermes): the account serves other models meanwhile.
    pub model_cooldowns: Vec<ModelCooldownRow>,
    /// Positions of the profiles that are the same upstream account (one quota): a
    /// cooldown or dead mark of one holds for all.
    pub twins: Vec<usize>,
    /// For a key Hermes takes from the environment: the variable, and whether it is set.
    pub env_key: Option<EnvKeyRow>,
    /// When Hermes deletes this entry (a dead `manual` entry, a day after it died).
    pub hermes_deletes_at: Option<String>,
    pub next: bool,
    /// With shared state (`--state`): where the status came from.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state_from: Option<StateFromRow>,
    /// What `profiles probe` found; absent from `profiles list`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub probe: Option<crate::upstream::probe::ProbeResult>,
    /// Seconds, for renderers; not part of the JSON.
    #[serde(skip)]
    pub times: RowTimes,
}

/// Where a status came from: `local` (this host's auth.json alone), `redis` (the fleet's
/// shared state: another host's finding), or `both`; and the host that recorded it.
#[derive(Debug, Serialize)]
pub(crate) struct StateFromRow {
    pub source: crate::fleet::record::Source,
    pub host: Option<String>,
    /// Whether that host is this one.
    pub this_host: bool,
}

#[derive(Debug, Serialize)]
pub(crate) struct ModelCooldownRow {
    pub model: String,
    pub until: String,
    #[serde(skip)]
    pub until_epoch: Epoch,
}

#[derive(Debug, Serialize)]
pub(crate) struct EnvKeyRow {
    pub name: String,
    pub set: bool,
}

/// Raw epoch values behind the row's strings, so renderers can show relative times.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct RowTimes {
    pub cooldown_until: Option<Epoch>,
    pub last_status_at: Option<Epoch>,
    pub token_expires_at: Option<Epoch>,
    pub hermes_deletes_at: Option<Epoch>,
}

/// Builds the report of one provider's `profiles` (priority order) at `now`, for requests
/// for `model`. `rng` is `None` for `random` without a seed.
pub(crate) fn provider_report(
    provider: &str,
    profiles: &[Profile],
    strategy: Strategy,
    now: Epoch,
    model: Option<&str>,
    rng: Option<&mut fastrand::Rng>,
) -> ProviderReport {
    // Without a model, the pool's health is its accounts': a model cooldown (a month-long
    // entitlement bench, say) leaves the account serving every other model.
    let usable = |p: &Profile| match model {
        Some(_) => p.is_available(now, model),
        None => p.account_available(now),
    };
    let candidates: Vec<&Profile> = profiles.iter().filter(|p| usable(p)).collect();
    let next = match (strategy, rng) {
        (Strategy::Random, None) => None,
        (_, Some(rng)) => pool::pick(strategy, &candidates, rng),
        (_, None) => pool::pick(strategy, &candidates, &mut fastrand::Rng::with_seed(0)),
    }
    .map(|i| candidates[i].id.clone());
    let rows = profiles
        .iter()
        .map(|p| {
            let cooling_until = match p.display_state(now) {
                DisplayState::Cooling => p.cooling_until(now),
                _ => None,
            };
            let times = RowTimes {
                cooldown_until: cooling_until,
                last_status_at: p.status.last_status_at,
                token_expires_at: p.token_expires_at(),
                hermes_deletes_at: p.deleted_by_hermes_at(),
            };
            ProfileRow {
                position: p.position,
                profile: p.hash.clone(),
                id: p.id.clone(),
                label: p.label.clone(),
                auth_type: p.auth_type,
                plan: p.plan().map(str::to_owned),
                state: p.display_state(now),
                available: usable(p),
                cooldown_until: cooling_until.map(time::rfc3339_s),
                cooldown_seconds_left: cooling_until
                    .map(|until| ((until - now) * 1000.0).round() / 1000.0),
                last_error_code: p.status.last_error_code,
                last_error_reason: p.status.last_error_reason.clone(),
                last_error_message: p.status.last_error_message.clone(),
                last_status_at: times.last_status_at.map(time::rfc3339_s),
                request_count: p.request_count,
                token_expires_at: times.token_expires_at.map(time::rfc3339_s),
                model_cooldowns: p
                    .active_model_cooldowns(now)
                    .map(|(model, until)| ModelCooldownRow {
                        model: model.clone(),
                        until: time::rfc3339_s(*until),
                        until_epoch: *until,
                    })
                    .collect(),
                twins: pool::twins_of(p, profiles).collect(),
                env_key: p.env_key.as_ref().map(|e| EnvKeyRow {
                    name: e.name.clone(),
                    set: e.set,
                }),
                hermes_deletes_at: times.hermes_deletes_at.map(time::rfc3339_s),
                next: next.as_deref() == Some(p.id.as_str()),
                state_from: p.origin.as_ref().map(|o| StateFromRow {
                    source: o.source,
                    host: o.host.clone(),
                    this_host: o.this_host,
                }),
                probe: None,
                times,
            }
        })
        .collect();
    ProviderReport {
        provider: provider.to_string(),
        strategy,
        total: profiles.len(),
        available: candidates.len(),
        next_profile: next.map(|id| pool::profile_hash(&id)),
        next_available_at: if candidates.is_empty() {
            pool::next_available_at(profiles, now, model)
        } else {
            Some(now)
        }
        .map(time::rfc3339_s),
        rows_from: None,
        profiles: rows,
    }
}
