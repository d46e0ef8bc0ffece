//! Profiles of a credential pool and the rules Hermes uses for them: availability, cooldown
//! math and selection strategies. Pure: no I/O, no clock (every function takes `now`).
//!
//! A [`Profile`] is a secret-free snapshot of one `credential_pool.<provider>[i]` entry. Tokens
//! stay in the store's document; nothing here can print one by accident.

mod jwt;
mod strategy;
mod twins;

pub use jwt::TokenClaims;
pub use strategy::Strategy;
pub(crate) use strategy::pick;
pub use twins::TwinHold;
pub(crate) use twins::{account_of_key, account_of_token, link_twins, twins_of};

use crate::time::Epoch;
use serde::Serialize;
use sha2::{Digest, Sha256};

/// Which Hermes's rules a file follows: 0.19 (the release on PyPI) or the `auth/` package of
/// Hermes's main branch (what a gateway run from a git checkout has). They differ in TTLs,
/// in the fields they keep (`model_cooldowns`, `failure_reason`, `status_cleared_at`), and in
/// what they do with a manual dead entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum, Serialize)]
pub enum HermesRules {
    // Hermes 0.19. (Plain comments: clap would show doc comments as a list in `--help`.)
    #[default]
    #[value(name = "0.19")]
    #[serde(rename = "0.19")]
    V019,
    // Hermes's main branch (after 0.19).
    #[value(name = "main")]
    #[serde(rename = "main")]
    Main,
}

impl HermesRules {
    pub fn as_str(self) -> &'static str {
        match self {
            HermesRules::V019 => "0.19",
            HermesRules::Main => "main",
        }
    }
}

/// How long an exhausted entry with no reset time cools: which rules, and (for newer
/// Hermes) whether the entry is its provider's only credential that is not dead.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TtlRule {
    #[default]
    V019,
    Main {
        sole: bool,
    },
}

/// Newer Hermes's verdict that an exhaustion was about billing (`failure_reason`).
pub(crate) const FAILURE_BILLING: &str = "billing";
/// An ambiguous billing verdict: the credential may be healthy, so it cools briefly.
pub(crate) const FAILURE_BILLING_UNVERIFIED: &str = "billing_unverified";
/// A Codex ChatGPT-account plan without the model: a model cooldown of a year.
pub(crate) const FAILURE_MODEL_ENTITLEMENT: &str = "model_entitlement";
/// How long newer Hermes benches a model its plan lacks.
pub(crate) const MODEL_ENTITLEMENT_S: f64 = 365.0 * 86_400.0;
/// Hermes deletes a dead `manual` entry this long after it went dead.
pub(crate) const DEAD_MANUAL_PRUNE_S: f64 = 86_400.0;
/// The short cooldown newer Hermes gives a provider's only credential (and unverified billing).
const SOLE_TTL_S: f64 = 60.0;

/// The longest model name rotor takes from a flag, a request or a file's `model_cooldowns`.
pub(crate) const MAX_MODEL_CHARS: usize = 200;

/// Whether `name` can be a model: one line of printable text without spaces, not too long (it
/// is a key of `model_cooldowns`, shown in tables and events).
pub(crate) fn is_model_name(name: &str) -> bool {
    !name.is_empty()
        && name.chars().count() <= MAX_MODEL_CHARS
        && !name.chars().any(|c| c.is_control() || c.is_whitespace())
}

/// Cooldown when an exhausted entry has no reset time: Hermes's `_exhausted_ttl`. 0.19: 300 s
/// for 401, 3600 s otherwise. Newer Hermes also: unverified billing without a 402 cools 60 s,
/// and so does any failure but billing (402, or `failure_reason` billing) of a provider's only
/// credential that is not dead.
pub(crate) fn exhausted_ttl(
    error_code: Option<i64>,
    rule: TtlRule,
    failure_reason: Option<&str>,
) -> f64 {
    if error_code == Some(401) {
        return 300.0;
    }
    let base = 3600.0;
    let TtlRule::Main { sole } = rule else {
        return base;
    };
    if failure_reason == Some(FAILURE_BILLING_UNVERIFIED) && error_code != Some(402) {
        return SOLE_TTL_S;
    }
    let billing = error_code == Some(402) || failure_reason == Some(FAILURE_BILLING);
    if sole && !billing { SOLE_TTL_S } else { base }
}

/// First 12 hex digits of SHA-256 of the entry id: how profiles are named in events and output.
pub fn profile_hash(id: &str) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let digest = Sha256::digest(id.as_bytes());
    let mut hash = String::with_capacity(12);
    for b in digest.iter().take(6) {
        hash.push(char::from(HEX[usize::from(b >> 4)]));
        hash.push(char::from(HEX[usize::from(b & 0xf)]));
    }
    hash
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AuthType {
    Oauth,
    ApiKey,
}

/// `last_status` as stored. Hermes only acts on `exhausted` and `dead`; anything else behaves
/// like `ok`, and rotor keeps the written value untouched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LastStatus {
    Ok,
    Exhausted,
    Dead,
    Other(String),
}

impl LastStatus {
    pub(crate) fn parse(text: &str) -> Self {
        match text {
            "ok" => LastStatus::Ok,
            "exhausted" => LastStatus::Exhausted,
            "dead" => LastStatus::Dead,
            other => LastStatus::Other(other.to_string()),
        }
    }
}

/// The six status fields Hermes always writes.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Status {
    pub last_status: Option<LastStatus>,
    pub last_status_at: Option<Epoch>,
    pub last_error_code: Option<i64>,
    pub last_error_reason: Option<String>,
    pub last_error_message: Option<String>,
    pub last_error_reset_at: Option<Epoch>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Profile {
    pub provider: String,
    /// 1-based position within the provider after the stable sort by priority, as
    /// `hermes auth list` prints it.
    pub position: usize,
    pub id: String,
    pub hash: String,
    pub label: String,
    pub auth_type: AuthType,
    pub priority: i64,
    pub source: Option<String>,
    /// Whether the entry holds a non-empty access token (the token itself is not kept here).
    pub has_token: bool,
    /// Whether the entry holds a refresh token.
    pub has_refresh_token: bool,
    pub status: Status,
    pub request_count: u64,
    pub base_url: Option<String>,
    /// Claims of the access token when it is a JWT (OAuth profiles).
    /// Boxed, as `twin` is: a profile is moved on every round-robin pick, and most of its
    /// optional parts are absent or rarely read.
    pub claims: Option<Box<TokenClaims>>,
    /// `status_cleared_at`: when the status was last cleared on purpose (`cooldown clear`,
    /// `hermes auth reset`). A status older than that was undone by the clear.
    pub status_cleared_at: Option<Epoch>,
    /// `failure_reason`: newer Hermes's verdict on the last exhaustion (`billing`, ...).
    pub failure_reason: Option<String>,
    /// `model_cooldowns`: until when the profile may not serve each model, sorted by model.
    pub model_cooldowns: Vec<(String, Epoch)>,
    /// How an exhaustion without a reset time cools this profile.
    pub ttl: TtlRule,
    /// Which rules the file follows (what Hermes will do next depends on it).
    pub rules: HermesRules,
    /// A digest of the upstream account (Codex: JWT account id and subject; API keys: the
    /// key): two profiles of one provider with the same one are twins sharing one quota.
    pub account: Option<String>,
    /// The strongest status among this profile's twins, which holds for it too.
    pub twin: Option<Box<TwinHold>>,
    /// For an API key taken from the environment (`source: env:NAME`): the variable.
    pub env_key: Option<EnvKey>,
    /// Where the status came from, when the fleet's shared state is in use (`--state`).
    pub origin: Option<Box<crate::fleet::record::Origin>>,
}

/// An API key that Hermes takes from an environment variable, not from the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvKey {
    pub name: String,
    /// Whether the variable is set (non-empty) where rotor looked.
    pub set: bool,
}

/// Whether a profile can serve a request at some time.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Availability {
    Available,
    /// Exhausted until the given time.
    Cooling {
        until: Epoch,
    },
    /// The account is fine, but the model asked for (or, with no model named, some model)
    /// cools until the given time.
    ModelCooling {
        until: Epoch,
    },
    /// Permanently failed; only a re-login clears it.
    Dead,
    /// An API-key entry without a key: Hermes skips it.
    NoKey,
}

/// What `profiles list` shows in its state column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DisplayState {
    Ok,
    Cooling,
    /// Was exhausted, cooldown is over: available again.
    Ready,
    Dead,
    NoKey,
}

impl DisplayState {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            DisplayState::Ok => "ok",
            DisplayState::Cooling => "cooling",
            DisplayState::Ready => "ready",
            DisplayState::Dead => "dead",
            DisplayState::NoKey => "no_key",
        }
    }
}

impl Profile {
    /// Whether a clear (`status_cleared_at`) came after the stored status: the status was
    /// written by somebody who had not seen the clear, and newer Hermes's merge drops it.
    fn status_undone_by_clear(&self) -> bool {
        match (self.status_cleared_at, self.status.last_status_at) {
            (Some(cleared), Some(at)) => cleared > at,
            (Some(_), None) => true,
            _ => false,
        }
    }

    /// When an exhausted profile's cooldown ends: `last_error_reset_at` if set, else
    /// `last_status_at` + TTL by error code; `None` if not exhausted or no time is known
    /// (Hermes then treats it as available).
    pub(crate) fn cooldown_until(&self) -> Option<Epoch> {
        if self.status.last_status != Some(LastStatus::Exhausted) || self.status_undone_by_clear() {
            return None;
        }
        if let Some(reset_at) = self.status.last_error_reset_at {
            return Some(reset_at);
        }
        self.status
            .last_status_at
            .filter(|at| *at != 0.0)
            .map(|at| {
                at + exhausted_ttl(
                    self.status.last_error_code,
                    self.ttl,
                    self.failure_reason.as_deref(),
                )
            })
    }

    /// Whether the entry's own status is dead (and not undone by a later clear).
    pub(crate) fn is_dead(&self) -> bool {
        self.status.last_status == Some(LastStatus::Dead) && !self.status_undone_by_clear()
    }

    /// The latest end of a model cooldown active at `now` that blocks `model`: that model's
    /// own, or with no model named, any (a request that names none could be for any model).
    /// A twin's model cooldowns count too: they are one account.
    pub(crate) fn model_cooldown_until(&self, now: Epoch, model: Option<&str>) -> Option<Epoch> {
        let twins = self.twin.iter().flat_map(|t| t.models.iter());
        self.model_cooldowns
            .iter()
            .chain(twins)
            .filter(|(m, until)| *until > now && model.is_none_or(|want| m == want))
            .map(|(_, until)| *until)
            .max_by(f64::total_cmp)
    }

    /// The model cooldowns still active at `now`.
    pub(crate) fn active_model_cooldowns(
        &self,
        now: Epoch,
    ) -> impl Iterator<Item = &(String, Epoch)> {
        self.model_cooldowns
            .iter()
            .filter(move |(_, until)| *until > now)
    }

    /// Whether the profile can serve a request for `model` at `now` (`None`: a request that
    /// names no model). A twin's dead mark or cooldown holds for this profile too.
    pub(crate) fn availability(&self, now: Epoch, model: Option<&str>) -> Availability {
        if self.auth_type == AuthType::ApiKey && !self.has_token {
            return Availability::NoKey;
        }
        if self.is_dead() || self.twin.as_ref().is_some_and(|t| t.dead) {
            return Availability::Dead;
        }
        let own = self.cooldown_until().filter(|until| now < *until);
        let twin = self
            .twin
            .as_ref()
            .and_then(|t| t.until)
            .filter(|until| now < *until);
        if let Some(until) = own.into_iter().chain(twin).max_by(f64::total_cmp) {
            return Availability::Cooling { until };
        }
        if self.model_cooldowns.is_empty() && self.twin.is_none() {
            // The common case, on every choice of every request: nothing per model to look at.
            return Availability::Available;
        }
        match self.model_cooldown_until(now, model) {
            Some(until) => Availability::ModelCooling { until },
            None => Availability::Available,
        }
    }

    pub fn is_available(&self, now: Epoch, model: Option<&str>) -> bool {
        self.availability(now, model) == Availability::Available
    }

    /// Whether the account can serve at `now`, for some model at least (a pool's readiness).
    pub(crate) fn account_available(&self, now: Epoch) -> bool {
        matches!(
            self.availability(now, None),
            Availability::Available | Availability::ModelCooling { .. }
        )
    }

    /// The account's state (model cooldowns are shown beside it, not in it).
    pub fn display_state(&self, now: Epoch) -> DisplayState {
        match self.availability(now, None) {
            Availability::NoKey => DisplayState::NoKey,
            Availability::Dead => DisplayState::Dead,
            Availability::Cooling { .. } => DisplayState::Cooling,
            Availability::Available | Availability::ModelCooling { .. }
                if self.status.last_status == Some(LastStatus::Exhausted)
                    && !self.status_undone_by_clear() =>
            {
                DisplayState::Ready
            }
            Availability::Available | Availability::ModelCooling { .. } => DisplayState::Ok,
        }
    }

    /// When the account's cooldown (its own or a twin's) ends, if it cools at `now`.
    pub(crate) fn cooling_until(&self, now: Epoch) -> Option<Epoch> {
        match self.availability(now, None) {
            Availability::Cooling { until } => Some(until),
            _ => None,
        }
    }

    /// When the profile can serve `model` again: `now` if available, the cooldown end if
    /// cooling, `None` if it never will on its own (dead, no key).
    pub(crate) fn available_from(&self, now: Epoch, model: Option<&str>) -> Option<Epoch> {
        match self.availability(now, model) {
            Availability::Available => Some(now),
            Availability::Cooling { until } => Some(
                // A model cooldown may outlast the account's.
                self.model_cooldown_until(until, model)
                    .map_or(until, |m| m.max(until)),
            ),
            Availability::ModelCooling { until } => Some(until),
            Availability::Dead | Availability::NoKey => None,
        }
    }

    /// When Hermes will delete this entry: a dead entry added by hand (`manual`, `manual:*`)
    /// is removed a day after it went dead (0.19 when it next selects a profile of the
    /// provider, newer Hermes when it next loads the pool).
    pub(crate) fn deleted_by_hermes_at(&self) -> Option<Epoch> {
        let manual = self.source.as_deref().is_some_and(|s| {
            let s = s.trim().to_ascii_lowercase();
            s == "manual" || s.starts_with("manual:")
        });
        if !manual || !self.is_dead() {
            return None;
        }
        self.status
            .last_status_at
            .map(|at| at + DEAD_MANUAL_PRUNE_S)
    }

    /// The plan name from the OAuth JWT (`chatgpt_plan_type`), e.g. `prolite`, `team`.
    pub(crate) fn plan(&self) -> Option<&str> {
        self.claims.as_ref()?.plan.as_deref()
    }

    /// Access-token expiry from the JWT `exp` claim.
    pub(crate) fn token_expires_at(&self) -> Option<Epoch> {
        self.claims.as_ref()?.expires_at
    }
}

/// Sets what each profile of one provider's pool owes to the others: its TTL rule (under
/// newer Hermes, whether it is the only credential that is not dead) and its twins' hold.
/// Called when the pool is read and whenever a status in it changes.
pub(crate) fn link(profiles: &mut [Profile]) {
    let live = profiles.iter().filter(|p| !p.is_dead()).count();
    for p in profiles.iter_mut() {
        p.ttl = match p.rules {
            HermesRules::V019 => TtlRule::V019,
            HermesRules::Main => TtlRule::Main { sole: live <= 1 },
        };
    }
    link_twins(profiles);
}

/// The earliest time any of `profiles` can serve `model` (`now` if one is available already).
pub(crate) fn next_available_at<'a>(
    profiles: impl IntoIterator<Item = &'a Profile>,
    now: Epoch,
    model: Option<&str>,
) -> Option<Epoch> {
    profiles
        .into_iter()
        .filter_map(|p| p.available_from(now, model))
        .min_by(f64::total_cmp)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A healthy OAuth profile for tests; adjust fields as needed.
    pub(crate) fn profile(id: &str, priority: i64) -> Profile {
        Profile {
            provider: "openai-codex".into(),
            position: 1,
            id: id.into(),
            hash: profile_hash(id),
            label: format!("{id}@example.com"),
            auth_type: AuthType::Oauth,
            priority,
            source: Some("manual:device_code".into()),
            has_token: true,
            has_refresh_token: true,
            status: Status::default(),
            request_count: 0,
            base_url: None,
            claims: None,
            status_cleared_at: None,
            failure_reason: None,
            model_cooldowns: Vec::new(),
            ttl: TtlRule::V019,
            rules: HermesRules::V019,
            account: None,
            twin: None,
            env_key: None,
            origin: None,
        }
    }

    fn exhausted(code: Option<i64>, at: Option<f64>, reset: Option<f64>) -> Profile {
        let mut p = profile("a", 0);
        p.status = Status {
            last_status: Some(LastStatus::Exhausted),
            last_status_at: at,
            last_error_code: code,
            last_error_reset_at: reset,
            ..Status::default()
        };
        p
    }

    #[test]
    fn hash_is_first_12_hex_of_sha256() {
        // sha256("a1b2c3") starts 4f32044a655f (`printf a1b2c3 | sha256sum`).
        assert_eq!(profile_hash("a1b2c3").len(), 12);
        assert_eq!(profile_hash(""), "e3b0c44298fc");
    }

    #[test]
    fn cooldown_prefers_reset_at_then_ttl_by_code() {
        assert_eq!(
            exhausted(Some(429), Some(1000.0), Some(5000.0)).cooldown_until(),
            Some(5000.0)
        );
        assert_eq!(
            exhausted(Some(401), Some(1000.0), None).cooldown_until(),
            Some(1300.0)
        );
        assert_eq!(
            exhausted(Some(429), Some(1000.0), None).cooldown_until(),
            Some(4600.0)
        );
        assert_eq!(
            exhausted(Some(402), Some(1000.0), None).cooldown_until(),
            Some(4600.0)
        );
        assert_eq!(
            exhausted(None, Some(1000.0), None).cooldown_until(),
            Some(4600.0)
        );
        // No time known at all: Hermes treats the entry as available.
        assert_eq!(exhausted(Some(429), None, None).cooldown_until(), None);
        assert!(exhausted(Some(429), None, None).is_available(0.0, None));
    }

    #[test]
    fn availability_and_display_states() {
        let p = exhausted(Some(429), Some(1000.0), None);
        assert_eq!(
            p.availability(4599.0, None),
            Availability::Cooling { until: 4600.0 }
        );
        assert_eq!(p.display_state(4599.0), DisplayState::Cooling);
        assert_eq!(p.availability(4600.0, None), Availability::Available);
        assert_eq!(p.display_state(4600.0), DisplayState::Ready);

        let mut dead = profile("d", 0);
        dead.status.last_status = Some(LastStatus::Dead);
        assert_eq!(dead.availability(0.0, None), Availability::Dead);
        assert_eq!(dead.available_from(0.0, None), None);

        let mut keyless = profile("k", 0);
        keyless.auth_type = AuthType::ApiKey;
        keyless.has_token = false;
        assert_eq!(keyless.display_state(0.0), DisplayState::NoKey);

        let mut odd = profile("o", 0);
        odd.status.last_status = Some(LastStatus::Other("weird".into()));
        assert_eq!(odd.display_state(0.0), DisplayState::Ok);
    }

    #[test]
    fn next_available_is_the_earliest() {
        let a = exhausted(Some(429), Some(1000.0), Some(9000.0));
        let b = exhausted(Some(402), Some(1000.0), None);
        let mut dead = profile("d", 0);
        dead.status.last_status = Some(LastStatus::Dead);
        assert_eq!(
            next_available_at([&a, &b, &dead], 2000.0, None),
            Some(4600.0)
        );
        assert_eq!(next_available_at([&dead], 2000.0, None), None);
        assert_eq!(
            next_available_at([&a, &profile("x", 1)], 2000.0, None),
            Some(2000.0)
        );
    }

    #[test]
    fn newer_hermes_ttls() {
        let sole = TtlRule::Main { sole: true };
        let many = TtlRule::Main { sole: false };
        // 0.19: 300 s for 401, an hour for everything else, whatever the pool.
        assert_eq!(
            exhausted_ttl(Some(429), TtlRule::V019, Some("billing_unverified")),
            3600.0
        );
        assert_eq!(exhausted_ttl(Some(401), sole, None), 300.0);
        // The only credential cools a minute, unless billing.
        assert_eq!(exhausted_ttl(Some(429), sole, None), 60.0);
        assert_eq!(exhausted_ttl(Some(503), sole, None), 60.0);
        assert_eq!(exhausted_ttl(Some(402), sole, None), 3600.0);
        assert_eq!(
            exhausted_ttl(Some(403), sole, Some(FAILURE_BILLING)),
            3600.0
        );
        assert_eq!(exhausted_ttl(Some(429), many, None), 3600.0);
        // Unverified billing: a minute whatever the pool, unless a real 402.
        assert_eq!(
            exhausted_ttl(Some(400), many, Some(FAILURE_BILLING_UNVERIFIED)),
            60.0
        );
        assert_eq!(
            exhausted_ttl(Some(402), many, Some(FAILURE_BILLING_UNVERIFIED)),
            3600.0
        );

        let mut p = exhausted(Some(429), Some(1000.0), None);
        p.ttl = sole;
        assert_eq!(p.cooldown_until(), Some(1060.0));
    }

    #[test]
    fn a_clear_newer_than_the_status_undoes_it() {
        let mut p = exhausted(Some(429), Some(1000.0), Some(9000.0));
        p.status_cleared_at = Some(1500.0);
        assert_eq!(p.availability(2000.0, None), Availability::Available);
        assert_eq!(p.display_state(2000.0), DisplayState::Ok);
        // A cooldown written after the clear holds.
        p.status_cleared_at = Some(900.0);
        assert_eq!(
            p.availability(2000.0, None),
            Availability::Cooling { until: 9000.0 }
        );

        let mut dead = profile("d", 0);
        dead.status.last_status = Some(LastStatus::Dead);
        dead.status.last_status_at = Some(1000.0);
        dead.status_cleared_at = Some(1000.5);
        assert_eq!(dead.availability(2000.0, None), Availability::Available);
        dead.status_cleared_at = Some(999.0);
        assert_eq!(dead.availability(2000.0, None), Availability::Dead);
    }

    #[test]
    fn model_cooldowns_block_their_model_and_unnamed_requests() {
        let mut p = profile("m", 0);
        p.model_cooldowns = vec![
            ("claude-opus".into(), 5000.0),
            ("claude-sonnet".into(), 3000.0),
        ];
        assert_eq!(
            p.availability(2000.0, Some("claude-haiku")),
            Availability::Available
        );
        assert_eq!(
            p.availability(2000.0, Some("claude-sonnet")),
            Availability::ModelCooling { until: 3000.0 }
        );
        // No model named: any active model cooldown blocks, until the latest ends.
        assert_eq!(
            p.availability(2000.0, None),
            Availability::ModelCooling { until: 5000.0 }
        );
        assert_eq!(
            p.availability(4000.0, None),
            Availability::ModelCooling { until: 5000.0 }
        );
        assert_eq!(p.availability(5000.0, None), Availability::Available);
        // The account's state is not the model's.
        assert_eq!(p.display_state(2000.0), DisplayState::Ok);
        assert_eq!(
            p.available_from(2000.0, Some("claude-sonnet")),
            Some(3000.0)
        );
        // An account cooldown shorter than the model's: the model's end is when it serves.
        p.status = exhausted(Some(429), Some(1000.0), Some(2500.0)).status;
        assert_eq!(
            p.available_from(2000.0, Some("claude-sonnet")),
            Some(3000.0)
        );
        assert_eq!(p.available_from(2000.0, Some("claude-haiku")), Some(2500.0));
    }

    #[test]
    fn a_twins_hold_holds_for_the_profile() {
        let mut p = profile("t", 0);
        p.twin = Some(Box::new(TwinHold {
            until: Some(5000.0),
            ..TwinHold::default()
        }));
        assert_eq!(
            p.availability(2000.0, None),
            Availability::Cooling { until: 5000.0 }
        );
        assert_eq!(p.display_state(2000.0), DisplayState::Cooling);
        assert!(p.is_available(5000.0, None));
        p.twin = Some(Box::new(TwinHold {
            dead: true,
            ..TwinHold::default()
        }));
        assert_eq!(p.availability(2000.0, None), Availability::Dead);
        // A twin's model cooldown keeps that model off this profile too.
        p.twin = Some(Box::new(TwinHold {
            models: vec![("m".into(), 5000.0)],
            ..TwinHold::default()
        }));
        assert!(!p.is_available(2000.0, Some("m")));
        assert!(p.is_available(2000.0, Some("other")));
    }

    #[test]
    fn hermes_deletes_manual_dead_entries_a_day_later() {
        let mut p = profile("x", 0);
        p.status.last_status = Some(LastStatus::Dead);
        p.status.last_status_at = Some(1000.0);
        assert_eq!(p.deleted_by_hermes_at(), Some(1000.0 + 86_400.0));
        p.source = Some("device_code".into());
        assert_eq!(
            p.deleted_by_hermes_at(),
            None,
            "re-seeded from the singleton, not pruned"
        );
        p.source = Some("manual".into());
        p.status.last_status = Some(LastStatus::Exhausted);
        assert_eq!(p.deleted_by_hermes_at(), None);
    }
}
