//! `profiles probe`: asks each provider how a profile really is, without spending quota where
//! the provider allows it, and turns the answer into the same state changes `call` makes.
//!
//! - `openai-codex`: `GET <base without /codex>/wham/usage` with the profile's bearer token and
//!   `ChatGPT-Account-ID`; a usage window at 100 % means exhausted until that window resets.
//! - `anthropic`: `GET <base>/v1/models` (lists models; spends no tokens).
//! - OpenAI-compatible providers: `GET <base>/models`.
//!
//! Non-2xx answers go through the engine's classifier, so a probe and a real call agree on what
//! a 401 `token_revoked` or a 429 `usage_limit_reached` means.

use super::http::{describe, header_pairs, read_bounded};
use crate::engine::{
    Class, Effect, MESSAGE_MAX_CHARS, Outcome, RefreshResult, ResetHint, ResetSource,
    classify_response, classify_transport,
};
use crate::pool::{AuthType, LastStatus, Profile, exhausted_ttl};
use crate::providers::{self, Api, Credential};
use crate::sanitize::{Redactor, display_url};
use crate::time::{self, Epoch};
use serde::Serialize;
use serde_json::Value;
use std::time::Duration;

/// What the probe found for one profile.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Verdict {
    /// The provider accepts the credential and reports quota left.
    Healthy,
    /// Out of quota until `until`.
    Exhausted,
    /// The credential is revoked or otherwise gone for good.
    Dead,
    /// Authentication or billing failed; cooled like a real call would.
    Failed,
    /// No usable answer (network, 5xx, unexpected body): nothing is changed.
    Unreachable,
    /// Not probed (dead already, or no key).
    Skipped,
}

impl Verdict {
    pub(crate) fn as_str(&self) -> &'static str {
        match self {
            Verdict::Healthy => "healthy",
            Verdict::Exhausted => "exhausted",
            Verdict::Dead => "dead",
            Verdict::Failed => "failed",
            Verdict::Unreachable => "unreachable",
            Verdict::Skipped => "skipped",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct ProbeResult {
    pub verdict: Verdict,
    /// HTTP status of the (last) probe request.
    pub status: Option<u16>,
    /// Highest `used_percent` of the usage windows (Codex only).
    pub used_percent: Option<f64>,
    /// When the profile recovers, for `exhausted` and `failed`.
    #[serde(serialize_with = "opt_ts")]
    pub until: Option<Epoch>,
    /// Sanitised detail for a person.
    pub detail: Option<String>,
    /// Whether what the probe found was written to auth.json. `false` when it changed nothing,
    /// and when the entry's status changed on disk while the probe ran (the probe's verdict is
    /// stale then, and is not written over what another writer decided).
    pub written: bool,
}

fn opt_ts<S: serde::Serializer>(at: &Option<Epoch>, s: S) -> Result<S::Ok, S::Error> {
    match at {
        Some(at) => s.serialize_str(&time::rfc3339_s(*at)),
        None => s.serialize_none(),
    }
}

/// Where and how to probe.
#[derive(Debug, Clone)]
pub(crate) struct ProbeSettings {
    pub base_url: Option<String>,
    pub timeout: Duration,
    /// `--max-cooldown`: the longest cooldown a probe stores.
    pub max_cooldown_s: f64,
}

impl ProbeResult {
    fn new(verdict: Verdict, status: Option<u16>, detail: Option<String>) -> Self {
        ProbeResult {
            verdict,
            status,
            used_percent: None,
            until: None,
            detail,
            written: false,
        }
    }
}

/// What one probe request got: status, headers and (bounded) body, or why nothing came.
pub(crate) type Answer = Result<(u16, Vec<(String, String)>, String), String>;

/// Sends one probe request for `profile` with `token`.
pub(crate) async fn send(
    client: &reqwest::Client,
    settings: &ProbeSettings,
    profile: &Profile,
    token: &str,
) -> Answer {
    let base = settings
        .base_url
        .clone()
        .or_else(|| profile.base_url.clone())
        .or_else(|| providers::default_base_url(&profile.provider).map(str::to_owned))
        .ok_or_else(|| "no base URL: the entry has none; pass --base-url".to_string())?;
    let url = providers::probe_url(&profile.provider, &base);
    // The token goes only over https, or plain http to loopback.
    super::http::check_credential_url(&url).map_err(|why| format!("not probed: {why}"))?;
    let mut request = client
        .get(&url)
        .timeout(settings.timeout)
        .header("accept", "application/json")
        .header("user-agent", providers::USER_AGENT);
    let credential = Credential::of(profile, token);
    for (name, value) in providers::auth_headers(Api::for_provider(&profile.provider), credential) {
        request = request.header(name, value);
    }
    let mut response = request
        .send()
        .await
        .map_err(|e| format!("{}: {}", display_url(&url), describe(&e)))?;
    let status = response.status().as_u16();
    let headers = header_pairs(response.headers());
    // Raw: the judge decodes and redacts what it keeps of it.
    let body = read_bounded(&mut response).await;
    Ok((status, headers, body))
}

/// Judges one probe answer for `profile` at `now`: the verdict, and the change to store. Text
/// kept from the answer goes through `redactor`, like everything a server says.
pub(crate) fn judge(
    profile: &Profile,
    answer: Answer,
    now: Epoch,
    redactor: &Redactor,
    max_cooldown_s: f64,
) -> (ProbeResult, Option<Effect>) {
    let (status, headers, body) = match answer {
        Ok(answer) => answer,
        Err(detail) => {
            let failure = classify_transport(
                crate::engine::TransportFailure::Connect,
                false,
                Some(&detail),
                redactor,
            );
            return (
                ProbeResult::new(Verdict::Unreachable, None, failure.message),
                None,
            );
        }
    };
    if (200..300).contains(&status) {
        return judge_success(profile, &body, now, max_cooldown_s);
    }
    let Outcome::Failure(failure) = classify_response(Some(status), &headers, &body, now, redactor)
    else {
        return (
            ProbeResult::new(Verdict::Healthy, Some(status), None),
            clear_if_cooling(profile, now),
        );
    };
    let detail = [failure.error_type.clone(), failure.message.clone()]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(": ");
    let detail = (!detail.is_empty()).then_some(detail);
    let reason = failure
        .error_type
        .clone()
        .unwrap_or_else(|| failure.class.as_str().to_string());
    match failure.class {
        Class::AuthDead => {
            let effect = Effect::MarkDead {
                profile_id: profile.id.clone(),
                at: now,
                code: Some(status),
                reason,
                message: failure.message.clone(),
            };
            (
                ProbeResult::new(Verdict::Dead, Some(status), detail),
                Some(effect),
            )
        }
        Class::RateLimit | Class::Billing | Class::Auth => {
            let effect = Effect::cooldown(
                profile.id.clone(),
                now,
                Some(status),
                reason,
                failure.message.clone(),
                failure.reset,
                max_cooldown_s,
                profile.ttl,
            );
            let Effect::MarkExhausted { until, .. } = effect else {
                return (
                    ProbeResult::new(Verdict::Unreachable, Some(status), detail),
                    None,
                );
            };
            let verdict = if failure.class == Class::RateLimit {
                Verdict::Exhausted
            } else {
                Verdict::Failed
            };
            let mut result = ProbeResult::new(verdict, Some(status), detail);
            result.until = Some(until);
            (result, Some(effect))
        }
        // Throttling, server trouble or a request the endpoint refused say nothing about the
        // account: report them, change nothing.
        Class::Throttled | Class::Transient | Class::Request | Class::Entitlement => (
            ProbeResult::new(Verdict::Unreachable, Some(status), detail),
            None,
        ),
    }
}

fn judge_success(
    profile: &Profile,
    body: &str,
    now: Epoch,
    max_cooldown_s: f64,
) -> (ProbeResult, Option<Effect>) {
    if Api::for_provider(&profile.provider) != Api::CodexResponses {
        return (
            ProbeResult::new(Verdict::Healthy, Some(200), None),
            clear_if_cooling(profile, now),
        );
    }
    let json: Value = serde_json::from_str(body).unwrap_or(Value::Null);
    let limits = &json["rate_limit"];
    let windows: Vec<(f64, Option<Epoch>)> = ["primary_window", "secondary_window"]
        .iter()
        .filter_map(|key| {
            let window = &limits[*key];
            let used = window["used_percent"].as_f64().filter(|u| u.is_finite())?;
            let reset = time::parse_stored_timestamp(&window["reset_at"])
                .or_else(|| window["reset_after_seconds"].as_f64().map(|s| now + s))
                // A time outside 1970–9999 is no plan: the TTL applies.
                .filter(|at| at.is_finite() && (0.0..=time::MAX_EPOCH).contains(at));
            Some((used, reset))
        })
        .collect();
    if windows.is_empty() {
        let detail = Some("the usage report has no usage windows".to_string());
        return (
            ProbeResult::new(Verdict::Unreachable, Some(200), detail),
            None,
        );
    }
    let used = windows.iter().map(|(u, _)| *u).fold(f64::MIN, f64::max);
    // The profile is blocked until the latest reset among its full windows.
    let blocked_until = windows
        .iter()
        .filter(|(u, _)| *u >= 100.0)
        .map(|(_, reset)| reset.unwrap_or(now + exhausted_ttl(Some(429), profile.ttl, None)))
        .fold(None, |acc: Option<f64>, r| {
            Some(acc.map_or(r, |a| a.max(r)))
        });
    let mut result = ProbeResult::new(Verdict::Healthy, Some(200), None);
    result.used_percent = Some(used);
    match blocked_until {
        Some(blocked_until) => {
            let effect = Effect::cooldown(
                profile.id.clone(),
                now,
                Some(429),
                "usage_limit_reached".into(),
                Some(format!("usage window at {used}% (rotor probe)")),
                Some(ResetHint {
                    at: blocked_until,
                    source: ResetSource::ResetsAt,
                }),
                max_cooldown_s,
                profile.ttl,
            );
            let Effect::MarkExhausted { until, .. } = effect else {
                return (result, None);
            };
            result.verdict = Verdict::Exhausted;
            result.until = Some(until);
            result.detail = Some(format!("usage at {used}% until {}", time::rfc3339_s(until)));
            (result, Some(effect))
        }
        None => (result, clear_if_cooling(profile, now)),
    }
}

/// A healthy answer clears a cooldown (current or already over); other states stay.
fn clear_if_cooling(profile: &Profile, now: Epoch) -> Option<Effect> {
    (profile.status.last_status == Some(LastStatus::Exhausted)).then(|| Effect::Clear {
        models: false,
        profile_id: profile.id.clone(),
        at: now,
    })
}

/// Whether a profile is worth probing: dead ones need a re-login, keyless ones have nothing
/// to send.
pub(crate) fn skip_reason(profile: &Profile) -> Option<&'static str> {
    if profile.status.last_status == Some(LastStatus::Dead) {
        Some("dead: only a re-login revives it")
    } else if !profile.has_token {
        Some("no access token")
    } else {
        None
    }
}

/// Whether a failed probe should be retried once after a token refresh.
pub(crate) fn wants_refresh(profile: &Profile, status: Option<u16>, now: Epoch) -> bool {
    let expiring = profile
        .token_expires_at()
        .is_some_and(|exp| exp <= now + crate::engine::REFRESH_SKEW_S);
    profile.auth_type == AuthType::Oauth
        && profile.has_refresh_token
        && (expiring || status == Some(401))
}

/// The verdict a refresh failure leads to.
pub(crate) fn refresh_failed(
    profile: &Profile,
    result: &RefreshResult,
    now: Epoch,
    redactor: &Redactor,
) -> Option<(ProbeResult, Option<Effect>)> {
    let RefreshResult::Failed {
        dead,
        reason,
        message,
    } = result
    else {
        return None;
    };
    let detail = Some(redactor.clean(
        &format!(
            "token refresh failed{}",
            message.as_deref().map(|m| format!(": {m}")).unwrap_or_default()
        ),
        MESSAGE_MAX_CHARS,
    ));
    if !dead {
        return Some((ProbeResult::new(Verdict::Unreachable, None, detail), None));
    }
    let effect = Effect::MarkDead {
        profile_id: profile.id.clone(),
        at: now,
        code: None,
        reason: reason.clone().unwrap_or_else(|| "refresh_failed".into()),
        message: message.clone(),
    };
    Some((ProbeResult::new(Verdict::Dead, None, detail), Some(effect)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pool::tests::profile;

    const MAX: f64 = crate::engine::DEFAULT_MAX_COOLDOWN_S;

    fn usage(primary: f64, secondary: f64) -> Answer {
        let body = serde_json::json!({"rate_limit": {
            "primary_window": {"used_percent": primary, "reset_at": 2000},
            "secondary_window": {"used_percent": secondary, "reset_after_seconds": 5000}}});
        Ok((200, vec![], body.to_string()))
    }

    #[test]
    fn full_window_means_exhausted_until_its_reset() {
        let p = profile("a", 0);
        let (result, change) = judge(&p, usage(100.0, 40.0), 1000.0, &Redactor::new(), MAX);
        assert_eq!(
            (result.verdict, result.until, result.used_percent),
            (Verdict::Exhausted, Some(2000.0), Some(100.0))
        );
        assert!(matches!(change, Some(Effect::MarkExhausted { until, .. }) if until == 2000.0));
        let (result, _) = judge(&p, usage(100.0, 100.0), 1000.0, &Redactor::new(), MAX);
        assert_eq!(result.until, Some(6000.0), "the later of two full windows");
    }

    #[test]
    fn healthy_clears_only_a_cooldown() {
        let mut p = profile("a", 0);
        assert_eq!(
            judge(&p, usage(10.0, 20.0), 1000.0, &Redactor::new(), MAX).1,
            None
        );
        p.status.last_status = Some(LastStatus::Exhausted);
        let (result, change) = judge(&p, usage(10.0, 20.0), 1000.0, &Redactor::new(), MAX);
        assert_eq!(
            (result.verdict, change),
            (
                Verdict::Healthy,
                Some(Effect::Clear {
                    models: false,
                    profile_id: "a".into(),
                    at: 1000.0
                })
            )
        );
    }

    #[test]
    fn errors_classify_like_a_call() {
        let p = profile("a", 0);
        let revoked = Ok((
            401,
            vec![],
            r#"{"error":{"code":"token_revoked"}}"#.to_string(),
        ));
        assert_eq!(
            judge(&p, revoked, 0.0, &Redactor::new(), MAX).0.verdict,
            Verdict::Dead
        );
        let server = Ok((503, vec![], "<html>".to_string()));
        let (result, change) = judge(&p, server, 0.0, &Redactor::new(), MAX);
        assert_eq!(
            (result.verdict, result.status, change),
            (Verdict::Unreachable, Some(503), None)
        );
        assert_eq!(
            judge(&p, Err("refused".into()), 0.0, &Redactor::new(), MAX)
                .0
                .verdict,
            Verdict::Unreachable
        );
    }
}
