//! The real driver of the rotation engine: `rotor call`. It runs the same [`Engine`] as
//! `simulate`, against real HTTP, the real clock and auth.json.
//!
//! Locking discipline (DESIGN §2): the lock is taken only for the short read-modify-write that
//! persists an engine step's effects, and for a token refresh. It is never held while an
//! inference request is in flight, so Hermes and other rotor processes are never blocked by a
//! slow answer.

use crate::engine::{
    Action, Effect, Engine, Outcome, Policy, RequestEnd, classify_response, classify_transport,
};
use crate::error::{Error, Result};
use crate::events::Sink;
use crate::http::{AttemptResult, Transport};
use crate::pool::{AuthType, Profile};
use crate::providers::{self, Api, Credential, Prompt};
use crate::refresh::{self, RefreshTarget};
use crate::store::{AuthStore, Document, patch};
use crate::{sanitize, time};
use serde_json::Value;
use std::collections::HashMap;
use std::time::Duration;

/// Everything one call needs besides the store and the transport.
#[derive(Debug, Clone)]
pub struct CallPlan {
    pub request_id: String,
    pub provider: String,
    pub prompt: Prompt,
    pub policy: Policy,
    pub seed: u64,
    /// `--base-url`: overrides every profile's base URL.
    pub base_url: Option<String>,
    pub token_url: String,
    /// `--timeout`: the longest silence within one attempt.
    pub timeout: Duration,
}

/// How the call ended, with the answer when there is one.
#[derive(Debug)]
pub struct CallResult {
    pub end: RequestEnd,
    /// The provider's final response object (on success).
    pub response: Option<Value>,
}

/// Runs one request through the engine. `on_text` receives answer text as it streams in.
pub async fn call(
    store: &AuthStore,
    transport: &Transport,
    plan: &CallPlan,
    sink: &mut dyn Sink,
    on_text: &mut dyn FnMut(&str),
) -> Result<CallResult> {
    let api = Api::for_provider(&plan.provider);
    let doc = store.load()?;
    let mut pool = doc.profiles(&plan.provider).unwrap_or_default();
    // The refresh token each profile had when this process last read it: a different one on
    // disk later means another process refreshed, and its pair is adopted (single flight).
    let mut seen_refresh: HashMap<String, Option<String>> = pool
        .iter()
        .map(|p| {
            (
                p.id.clone(),
                doc.refresh_token(&plan.provider, &p.id).map(str::to_owned),
            )
        })
        .collect();
    let session_id = new_id();
    let mut engine = Engine::new(
        &plan.request_id,
        &plan.provider,
        pool.clone(),
        plan.policy.clone(),
        plan.seed,
    );
    let mut step = engine.start(time::now())?;
    let mut response = None;
    loop {
        persist(store, &plan.provider, &step.effects)?;
        for effect in &step.effects {
            crate::engine::apply_effect(&mut pool, effect);
        }
        for event in &step.events {
            sink.emit(event, &pool)
                .map_err(|e| Error::Internal(format!("cannot write the trace: {e}")))?;
        }
        step = match step.action {
            Action::Finish(end) => return Ok(CallResult { end, response }),
            Action::Wait { seconds } => {
                tokio::time::sleep(Duration::from_secs_f64(seconds.max(0.0))).await;
                engine.on_waited(time::now())?
            }
            Action::Refresh(profile) => {
                let loaded = seen_refresh.get(&profile.id).cloned().flatten();
                let target = RefreshTarget {
                    provider: &plan.provider,
                    id: &profile.id,
                    loaded_refresh_token: loaded.as_deref(),
                    token_url: &plan.token_url,
                };
                let result = refresh::refresh(store, transport.client(), target).await?;
                engine.on_refresh(result, time::now())?
            }
            Action::Attempt(attempt) => {
                // Read the token just before use: another process may have refreshed it.
                let doc = store.load()?;
                seen_refresh.insert(
                    attempt.profile.id.clone(),
                    doc.refresh_token(&plan.provider, &attempt.profile.id)
                        .map(str::to_owned),
                );
                let budget = match engine.deadline() {
                    Some(deadline) => plan
                        .timeout
                        .min(Duration::from_secs_f64((deadline - time::now()).max(0.0))),
                    None => plan.timeout,
                };
                let (outcome, answer) = attempt_once(
                    transport,
                    api,
                    plan,
                    &doc,
                    &attempt.profile.id,
                    &session_id,
                    budget,
                    on_text,
                )
                .await?;
                response = answer;
                engine.on_outcome(outcome, time::now())?
            }
        };
    }
}

/// Sends one attempt with the profile's credentials and classifies how it ended.
#[expect(
    clippy::too_many_arguments,
    reason = "one attempt needs all of these; a struct would only rename them"
)]
async fn attempt_once(
    transport: &Transport,
    api: Api,
    plan: &CallPlan,
    doc: &Document,
    id: &str,
    session_id: &str,
    budget: Duration,
    on_text: &mut dyn FnMut(&str),
) -> Result<(Outcome, Option<Value>)> {
    let profile: Option<Profile> = doc
        .profiles(&plan.provider)
        .and_then(|ps| ps.into_iter().find(|p| p.id == id));
    let (Some(profile), Some(token)) = (profile, doc.access_token(&plan.provider, id)) else {
        // The entry or its token vanished since the request started (removed by the operator
        // or Hermes): an auth failure of this profile, so the engine moves on.
        let outcome = classify_response(
            Some(401),
            &[] as &[(&str, &str)],
            r#"{"error":{"message":"the profile has no access token any more"}}"#,
            time::now(),
        );
        return Ok((outcome, None));
    };
    let base_url = plan
        .base_url
        .clone()
        .or_else(|| profile.base_url.clone())
        .or_else(|| providers::default_base_url(&plan.provider).map(str::to_owned))
        .ok_or_else(|| {
            Error::usage(format!(
                "no base URL for provider {}: the entry has no base_url; pass --base-url",
                plan.provider
            ))
        })?;
    let credential = Credential {
        token,
        auth_type: profile.auth_type,
        account_id: match profile.auth_type {
            AuthType::Oauth => profile
                .claims
                .as_ref()
                .and_then(|c| c.account_id.as_deref()),
            AuthType::ApiKey => None,
        },
    };
    // A server may echo what it was sent (or what it knows of the account) in an error body:
    // those words never reach an event, the trace or auth.json's `last_error_message`.
    let secrets = profile_secrets(doc, &plan.provider, &profile, token);
    let secrets: Vec<&str> = secrets.iter().map(String::as_str).collect();
    let request = providers::build_request(api, &base_url, credential, &plan.prompt, session_id);
    let mut output_started = false;
    let mut forward = |text: &str| {
        output_started = true;
        on_text(text);
    };
    let result = tokio::time::timeout(budget, transport.attempt(api, &request, &mut forward)).await;
    let now = time::now();
    Ok(match result {
        Err(_elapsed) => (
            Outcome::Failure(classify_transport(
                crate::engine::TransportFailure::Timeout,
                output_started,
            )),
            None,
        ),
        Ok(AttemptResult::Completed { response, .. }) => (Outcome::Success, Some(response)),
        Ok(AttemptResult::HttpError {
            status,
            headers,
            body,
        }) => {
            let body = sanitize::redact(&body, &secrets);
            let outcome = classify_response(Some(status), &headers, &body, now);
            (redact_outcome(outcome, &secrets), None)
        }
        Ok(AttemptResult::StreamFailed {
            status,
            body,
            output_started,
        }) => {
            let body = sanitize::redact(&body, &secrets);
            let outcome = match classify_response(Some(status), &[] as &[(&str, &str)], &body, now)
            {
                Outcome::Failure(f) if output_started => Outcome::Failure(f.after_output()),
                other => other,
            };
            (redact_outcome(outcome, &secrets), None)
        }
        Ok(AttemptResult::Transport {
            kind,
            output_started,
            ..
        }) => (
            Outcome::Failure(classify_transport(kind, output_started)),
            None,
        ),
    })
}

/// What must never be repeated from a server's answer about `profile`: its access and refresh
/// tokens and its email address (the label when it is one, and the token's `email` claim).
pub fn profile_secrets(
    doc: &Document,
    provider: &str,
    profile: &Profile,
    token: &str,
) -> Vec<String> {
    let mut secrets = vec![token.to_string()];
    secrets.extend(doc.refresh_token(provider, &profile.id).map(str::to_owned));
    if profile.label.contains('@') {
        secrets.push(profile.label.clone());
    }
    secrets.extend(profile.claims.as_ref().and_then(|c| c.email.clone()));
    secrets
}

/// Redacts the text a classified failure kept from the body (it may have been JSON-escaped in
/// the body, so the raw redaction alone is not enough).
fn redact_outcome(outcome: Outcome, secrets: &[&str]) -> Outcome {
    match outcome {
        Outcome::Failure(mut f) => {
            f.message = f.message.map(|m| sanitize::redact(&m, secrets));
            f.error_type = f.error_type.map(|t| sanitize::redact(&t, secrets));
            Outcome::Failure(f)
        }
        other => other,
    }
}

/// Writes a step's effects to auth.json in one locked read-modify-write, patching the entries
/// as they are on disk now.
fn persist(store: &AuthStore, provider: &str, effects: &[Effect]) -> Result<()> {
    if effects.is_empty() {
        return Ok(());
    }
    store.update(|doc| {
        for effect in effects {
            write_effect(doc, provider, effect)?;
        }
        Ok(())
    })
}

/// Writes one engine effect into `doc` the way Hermes writes the same state. An entry removed
/// meanwhile is skipped: there is nothing left to mark.
pub fn write_effect(doc: &mut Document, provider: &str, effect: &Effect) -> Result<()> {
    let id = effect.profile_id();
    let Some(current) = doc
        .profiles(provider)
        .and_then(|ps| ps.into_iter().find(|p| p.id == id))
    else {
        return Ok(());
    };
    match effect {
        Effect::MarkOk { at, .. } => {
            doc.set_fields(provider, id, patch::success(*at, current.request_count + 1))
        }
        Effect::MarkExhausted {
            at,
            code,
            reason,
            message,
            reset_at,
            ..
        } => doc.set_fields(
            provider,
            id,
            patch::exhausted(
                *at,
                code.map(i64::from),
                Some(reason),
                message.as_deref(),
                *reset_at,
            ),
        ),
        Effect::MarkDead {
            at,
            code,
            reason,
            message,
            ..
        } => doc.set_fields(
            provider,
            id,
            patch::dead(*at, code.map(i64::from), Some(reason), message.as_deref()),
        ),
        Effect::MoveToEnd { .. } => doc.move_to_end(provider, id),
    }
}

/// A random 128-bit id in UUID v4 form, for request and session ids.
pub fn new_id() -> String {
    let mut rng = fastrand::Rng::new();
    let (a, b) = (rng.u64(..), rng.u64(..));
    format!(
        "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xffff,
        a & 0x0fff,
        ((b >> 48) & 0x3fff) | 0x8000,
        b & 0xffff_ffff_ffff
    )
}

/// The engine seed when `--seed` is not given.
pub fn random_seed() -> u64 {
    fastrand::u64(..)
}
