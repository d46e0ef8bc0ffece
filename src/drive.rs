//! The one drive loop of the engine. Every driver — `call` over HTTP, `simulate` on a script,
//! the engine's tests, the benchmark, and later `serve` — runs a request with [`drive`]; they
//! differ only in their [`Ports`]: where time comes from, how a wait passes, how an attempt is
//! sent, how a token is refreshed, where state changes go.
//!
//! ```text
//! step = engine.start(now)
//! loop:
//!     persist(step.effects); report(step.events)
//!     Attempt  → outcome = send(plan);        step = engine.on_outcome(outcome, now)
//!     Wait     → sleep(seconds);              step = engine.on_waited(now)
//!     Refresh  → result = refresh(profile);   step = engine.on_refresh(result, now)
//!     Finish   → return the request's end
//! ```
//!
//! Effects are persisted before the step's events are reported, so a trace line never claims a
//! state the store does not hold yet. Before each decision the engine takes the shared pool's
//! news ([`Ports::pool_news`]), so a request served beside others never starts an attempt on a
//! profile another one has just cooled. The future of [`drive`] is `Send` when the ports' are, so
//! a multi-threaded server can run many requests at once.

use crate::engine::events::Event;
use crate::engine::{
    Action, AttemptPlan, Effect, Engine, Outcome, ProfileRef, RefreshResult, RequestEnd,
};
use crate::error::{Error, Result};
use crate::pool::Profile;
use crate::time::Epoch;
use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

/// Where events go. `profiles` is the pool as the engine sees it after the step's effects, for
/// renderers that name profiles by label.
pub trait Sink: Send {
    fn emit(&mut self, event: &Event, profiles: &[Profile]) -> std::io::Result<()>;
}

/// Drops every event (`--trace off`, benchmarks).
pub struct Discard;

impl Sink for Discard {
    fn emit(&mut self, _event: &Event, _profiles: &[Profile]) -> std::io::Result<()> {
        Ok(())
    }
}

/// The outside world of one request, as the drive loop sees it.
pub trait Ports: Send {
    /// The time now: the wall clock, or a virtual one.
    fn now(&self) -> Epoch;

    /// Lets `seconds` pass.
    fn sleep(&mut self, seconds: f64) -> impl Future<Output = ()> + Send;

    /// Sends one attempt and classifies how it ended. `deadline`, when set, is when the whole
    /// request must be over.
    fn attempt(
        &mut self,
        plan: &AttemptPlan,
        deadline: Option<Epoch>,
    ) -> impl Future<Output = Result<Outcome>> + Send;

    /// Refreshes (or adopts) a profile's OAuth token.
    fn refresh(
        &mut self,
        profile: &ProfileRef,
    ) -> impl Future<Output = Result<RefreshResult>> + Send;

    /// Makes the state changes of one step durable (auth.json, a shared store) before its
    /// events are reported.
    fn persist(&mut self, effects: &[Effect]) -> impl Future<Output = Result<()>> + Send;

    /// The pool as a store shared by many requests holds it now, when it changed since this
    /// request last asked (`serve`: other requests' cooldowns, an operator's clear, a refreshed
    /// token); `None` when nothing changed or the driver serves one request alone.
    fn pool_news(&mut self) -> Option<Arc<Vec<Profile>>> {
        None
    }
}

/// A driver loop that never ends is a bug in the engine's budgets; this bounds it anyway.
const MAX_STEPS: usize = 100_000;

/// Runs one request of `engine` to its end.
pub async fn drive<P: Ports>(
    engine: &mut Engine,
    ports: &mut P,
    sink: &mut dyn Sink,
) -> Result<RequestEnd> {
    sync(engine, ports);
    let mut step = engine.start(ports.now())?;
    for _ in 0..MAX_STEPS {
        if !step.effects.is_empty() {
            ports.persist(&step.effects).await?;
        }
        for event in &step.events {
            sink.emit(event, engine.profiles())
                .map_err(|e| Error::Internal(format!("cannot write the trace: {e}")))?;
        }
        step = match step.action {
            Action::Finish(end) => return Ok(end),
            Action::Wait { seconds } => {
                ports.sleep(seconds).await;
                sync(engine, ports);
                engine.on_waited(ports.now())?
            }
            Action::Refresh(profile) => {
                let result = ports.refresh(&profile).await?;
                sync(engine, ports);
                engine.on_refresh(result, ports.now())?
            }
            Action::Attempt(plan) => {
                let outcome = ports.attempt(&plan, engine.deadline()).await?;
                sync(engine, ports);
                engine.on_outcome(outcome, ports.now())?
            }
        };
    }
    Err(Error::Internal(format!(
        "engine: the request did not finish within {MAX_STEPS} steps"
    )))
}

/// Gives the engine the shared pool's news, if any, before its next decision.
fn sync<P: Ports>(engine: &mut Engine, ports: &mut P) {
    if let Some(pool) = ports.pool_news() {
        engine.resync(&pool);
    }
}

/// Runs `future` to its end on the spot, for drivers whose ports never wait on anything
/// outside (a virtual clock and a script: `simulate`, the engine's tests, the benchmark). A
/// port that does suspend is a bug of such a driver, reported rather than spun on.
pub fn now_or_never<T>(future: impl Future<Output = Result<T>>) -> Result<T> {
    let mut future = pin!(future);
    match future
        .as_mut()
        .poll(&mut Context::from_waker(Waker::noop()))
    {
        Poll::Ready(result) => result,
        Poll::Pending => Err(Error::Internal(
            "a port of a synchronous driver suspended".into(),
        )),
    }
}
