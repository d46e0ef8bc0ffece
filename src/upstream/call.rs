//! The real ports of the rotation engine: `rotor call`. The same [`Engine`] as `simulate`,
//! run by the same drive loop ([`crate::drive::drive`]), against real HTTP, the real clock and
//! auth.json.
//!
//! Locking discipline: the lock is taken only for the short read-modify-write that persists a
//! step's effects, and for a token refresh. It is never held while an inference request is in
//! flight, so Hermes and other rotor processes are never blocked by a slow answer. Every file
//! and lock operation runs on tokio's blocking pool, never on an async worker.

use super::blocking;
use super::http::{AttemptLimits, AttemptResult, Transport};
use super::refresh::{self, RefreshTarget};
use crate::drive::{Ports, Sink, drive};
use crate::engine::{
    AttemptPlan, Change, Effect, Engine, Outcome, Policy, ProfileRef, RefreshResult, RequestEnd,
    classify_response, classify_transport,
};
use crate::error::{Error, Result};
use crate::pool::Profile;
use crate::providers::{self, Api, Credential, Prompt};
use crate::store::{AuthStore, Document, StatusStore};
use crate::time::{self, Epoch};
use serde_json::Value;
use std::collections::HashMap;
use std::time::Duration;

/// Everything one call needs besides the store and the transport.
#[derive(Debug, Clone)]
pub(crate) struct CallPlan {
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
pub(crate) trait AnswerSink: Send {
    /// A piece of the answer text.
    fn text(&mut self, text: &str);
    /// The attempt that printed text is over (finished or broken): the answer ends here, before
    /// the next trace line.
    fn end(&mut self);
}

/// How the call ended, with the answer when there is one.
#[derive(Debug)]
pub(crate) struct CallResult {
    pub end: RequestEnd,
    /// The provider's final response object (on success).
    pub response: Option<Value>,
}

/// Runs one request through the engine. `answer` receives answer text as it streams in.
pub(crate) async fn call(
    store: &AuthStore,
    transport: &Transport,
    plan: &CallPlan,
    sink: &mut dyn Sink,
    answer: &mut dyn AnswerSink,
) -> Result<CallResult> {
    let doc = {
        let store = store.clone();
        blocking(move || store.load()).await?
    };
    let pool = doc.profiles(&plan.provider).unwrap_or_default();
    // The refresh token each profile had when this process last read it: a different one on
    // disk later means another process refreshed, and its pair is adopted (single flight).
    let seen_refresh: HashMap<String, Option<String>> = pool
        .iter()
        .map(|p| {
            (
                p.id.clone(),
                doc.refresh_token(&plan.provider, &p.id).map(str::to_owned),
            )
        })
        .collect();
    let mut engine = Engine::new(
        &plan.request_id,
        &plan.provider,
        pool,
        plan.policy.clone(),
        plan.seed,
    )
    .with_model(Some(&plan.prompt.model));
    let mut ports = CallPorts {
        store: store.clone(),
        transport,
        plan,
        api: Api::for_provider(&plan.provider),
        session_id: uuid::Uuid::new_v4().to_string(),
        answer,
        seen_refresh,
        response: None,
    };
    let end = drive(&mut engine, &mut ports, sink).await?;
    Ok(CallResult {
        end,
        response: ports.response,
    })
}

/// The outside world of `call`: the wall clock, tokio's timer, HTTP, the token endpoint and
/// auth.json.
pub(crate) struct CallPorts<'a> {
    store: AuthStore,
    transport: &'a Transport,
    plan: &'a CallPlan,
    api: Api,
    session_id: String,
    answer: &'a mut dyn AnswerSink,
    seen_refresh: HashMap<String, Option<String>>,
    /// The provider's final response object of the attempt that succeeded.
    response: Option<Value>,
}

impl Ports for CallPorts<'_> {
    fn now(&self) -> Epoch {
        time::now()
    }

    async fn sleep(&mut self, seconds: f64) {
        let seconds = seconds.clamp(0.0, time::MAX_DURATION_S);
        tokio::time::sleep(Duration::from_secs_f64(seconds)).await;
    }

    async fn attempt(&mut self, plan: &AttemptPlan, deadline: Option<Epoch>) -> Result<Outcome> {
        // Read the token just before use: another process may have refreshed it.
        let doc = {
            let store = self.store.clone();
            blocking(move || store.load()).await?
        };
        let id = &plan.profile.id;
        self.seen_refresh.insert(
            id.clone(),
            doc.refresh_token(&self.plan.provider, id)
                .map(str::to_owned),
        );
        // The silence between bytes is bounded by the client's read timeout; only a deadline
        // bounds the attempt as a whole.
        let budget =
            deadline.map(|deadline| Duration::from_secs_f64((deadline - time::now()).max(0.0)));
        let (outcome, completed) = attempt_once(
            self.transport,
            self.api,
            self.plan,
            &doc,
            id,
            &self.session_id,
            budget,
            &mut *self.answer,
        )
        .await?;
        self.response = completed;
        Ok(outcome)
    }

    async fn refresh(&mut self, profile: &ProfileRef) -> Result<RefreshResult> {
        let loaded = self.seen_refresh.get(&profile.id).cloned().flatten();
        let target = RefreshTarget {
            provider: &self.plan.provider,
            id: &profile.id,
            loaded_refresh_token: loaded.as_deref(),
            token_url: &self.plan.token_url,
        };
        refresh::refresh(&self.store, self.transport.client(), target).await
    }

    async fn persist(&mut self, effects: &[Effect]) -> Result<()> {
        let changes: Vec<Change> = effects.iter().cloned().map(Change::always).collect();
        let (store, provider) = (self.store.clone(), self.plan.provider.clone());
        blocking(move || store.write(&provider, &changes)).await?;
        Ok(())
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
    let base_url = base_url(plan.base_url.as_deref(), &plan.provider, doc, &profile)?;
    let credential = Credential::of(&profile, token);
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

/// Where an attempt for `profile` goes: `--base-url` (`flag`), else the entry's `base_url`,
/// else the provider's. The flag was checked when the command started; a stored URL is
/// checked here, before a credential is sent to it (https, or http to loopback only).
pub(crate) fn base_url(
    flag: Option<&str>,
    provider: &str,
    doc: &Document,
    profile: &Profile,
) -> Result<String> {
    if let Some(url) = flag {
        return Ok(url.to_string());
    }
    let stored = profile.base_url.as_deref();
    let url = stored
        .or_else(|| providers::default_base_url(provider))
        .ok_or_else(|| {
            Error::usage(format!(
                "no base URL for provider {provider}: the entry has no base_url; pass --base-url"
            ))
        })?;
    if stored.is_some() {
        crate::upstream::http::check_credential_url(url).map_err(|why| Error::Schema {
            path: doc.path().to_path_buf(),
            place: format!(
                "credential_pool.{}, entry {} (profile {}), base_url",
                crate::sanitize::one_line(provider, 40),
                crate::cli::selector::describe(profile),
                profile.hash
            ),
            expected: format!("a URL credentials may be sent to: {why}"),
        })?;
    }
    Ok(url.to_string())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::drive::Discard;

    struct Nowhere;

    impl AnswerSink for Nowhere {
        fn text(&mut self, _text: &str) {}
        fn end(&mut self) {}
    }

    fn assert_send<T: Send>(_: &T) {}

    #[test]
    fn the_drive_loop_of_a_call_is_send() {
        // A multi-threaded server runs many of these at once: the future must be `Send`. This
        // is a compile-time check; the future is never polled.
        let store = AuthStore::new("/nonexistent/auth.json".into(), Duration::from_secs(1));
        let transport = Transport::new(Duration::from_secs(1)).unwrap();
        let plan = CallPlan {
            request_id: "r".into(),
            provider: "openai-codex".into(),
            prompt: Prompt {
                model: "m".into(),
                system: None,
                text: "hi".into(),
            },
            policy: Policy::default(),
            seed: 0,
            base_url: None,
            token_url: providers::CODEX_TOKEN_URL.into(),
            timeout: Duration::from_secs(1),
            limits: AttemptLimits {
                max_output: 1,
                keep_text: false,
            },
        };
        let (mut sink, mut answer) = (Discard, Nowhere);
        let future = call(&store, &transport, &plan, &mut sink, &mut answer);
        assert_send(&future);
    }
}
