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
use crate::http::{AttemptLimits, AttemptResult, Transport};
use crate::pool::{AuthType, LastStatus, Profile};
use crate::providers::{self, Api, Credential, Prompt};
use crate::refresh::{self, RefreshTarget};
use crate::store::{AuthStore, Document, patch};
use crate::time;
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
    /// `--max-output` and whether the answer text is kept (`--format json`).
    pub limits: AttemptLimits,
}

/// Where the answer goes as it streams in.
pub trait AnswerSink {
    /// A piece of the answer text.
    fn text(&mut self, text: &str);
    /// The attempt that printed text is over (finished or broken): the answer ends here, before
    /// the next trace line.
    fn end(&mut self);
}

/// How the call ended, with the answer when there is one.
#[derive(Debug)]
pub struct CallResult {
    pub end: RequestEnd,
    /// The provider's final response object (on success).
    pub response: Option<Value>,
}

/// Runs one request through the engine. `answer` receives answer text as it streams in.
pub async fn call(
    store: &AuthStore,
    transport: &Transport,
    plan: &CallPlan,
    sink: &mut dyn Sink,
    answer: &mut dyn AnswerSink,
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
                // The silence between bytes is bounded by the client's read timeout; only a
                // deadline bounds the attempt as a whole.
                let budget = engine
                    .deadline()
                    .map(|deadline| Duration::from_secs_f64((deadline - time::now()).max(0.0)));
                let (outcome, completed) = attempt_once(
                    transport,
                    api,
                    plan,
                    &doc,
                    &attempt.profile.id,
                    &session_id,
                    budget,
                    answer,
                )
                .await?;
                response = completed;
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
    budget: Option<Duration>,
    answer: &mut dyn AnswerSink,
) -> Result<(Outcome, Option<Value>)> {
    // A server may echo what it was sent (or what it knows of the account) in an error body:
    // no secret or email of the pool reaches an event, the trace or `last_error_message`.
    let redactor = doc.redactor();
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
            &redactor,
        );
        return Ok((outcome, None));
    };
    let base_url = base_url_for(plan, doc, &profile)?;
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
    let request = providers::build_request(api, &base_url, credential, &plan.prompt, session_id);
    let mut output_started = false;
    let mut forward = |text: &str| {
        output_started = true;
        answer.text(text);
    };
    let sent = transport.attempt(api, &request, plan.limits, &mut forward);
    let result = match budget {
        Some(budget) => tokio::time::timeout(budget, sent).await.ok(),
        None => Some(sent.await),
    };
    if output_started {
        answer.end();
    }
    let now = time::now();
    Ok(match result {
        None => (
            Outcome::Failure(classify_transport(
                crate::engine::TransportFailure::Timeout,
                output_started,
                Some("the --deadline passed during the attempt"),
                &redactor,
            )),
            None,
        ),
        Some(AttemptResult::Completed { response }) => (Outcome::Success, Some(response)),
        Some(AttemptResult::HttpError {
            status,
            headers,
            body,
        }) => (
            classify_response(Some(status), &headers, &body, now, &redactor),
            None,
        ),
        Some(AttemptResult::StreamFailed {
            status,
            body,
            output_started,
        }) => {
            let outcome = match classify_response(
                Some(status),
                &[] as &[(&str, &str)],
                &body,
                now,
                &redactor,
            ) {
                Outcome::Failure(f) if output_started => Outcome::Failure(f.after_output()),
                other => other,
            };
            (outcome, None)
        }
        Some(AttemptResult::Transport {
            kind,
            output_started,
            detail,
        }) => (
            Outcome::Failure(classify_transport(
                kind,
                output_started,
                Some(&detail),
                &redactor,
            )),
            None,
        ),
    })
}

/// Where an attempt for `profile` goes: `--base-url`, else the entry's `base_url`, else the
/// provider's. The flag was checked when the command started; a stored URL is checked here,
/// before a credential is sent to it (https, or http to loopback only).
fn base_url_for(plan: &CallPlan, doc: &Document, profile: &Profile) -> Result<String> {
    if let Some(url) = &plan.base_url {
        return Ok(url.clone());
    }
    let stored = profile.base_url.as_deref();
    let url = stored
        .or_else(|| providers::default_base_url(&plan.provider))
        .ok_or_else(|| {
            Error::usage(format!(
                "no base URL for provider {}: the entry has no base_url; pass --base-url",
                plan.provider
            ))
        })?;
    if stored.is_some() {
        crate::http::check_credential_url(url).map_err(|why| Error::Schema {
            path: doc.path().to_path_buf(),
            place: format!(
                "credential_pool.{}, entry {} (profile {}), base_url",
                crate::sanitize::one_line(&plan.provider, 40),
                crate::selector::describe(profile),
                profile.hash
            ),
            expected: format!("a URL credentials may be sent to: {why}"),
        })?;
    }
    Ok(url.to_string())
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
/// meanwhile is skipped: there is nothing left to mark. So is any change to an entry that is
/// dead on disk, except another dead mark: only a re-login (which rewrites the entry) undoes
/// `dead`, never a success, a cooldown or a probe of rotor's.
pub fn write_effect(doc: &mut Document, provider: &str, effect: &Effect) -> Result<()> {
    let id = effect.profile_id();
    let Some(current) = doc
        .profiles(provider)
        .and_then(|ps| ps.into_iter().find(|p| p.id == id))
    else {
        return Ok(());
    };
    let dead = current.status.last_status == Some(LastStatus::Dead);
    if dead && matches!(effect, Effect::MarkOk { .. } | Effect::MarkExhausted { .. }) {
        return Ok(());
    }
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
