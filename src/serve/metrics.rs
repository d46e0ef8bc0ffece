//! `/metrics`: the gauges of `profiles list --format prometheus`, computed from the served
//! pools at scrape time, then the gateway's own counters and latency histograms
//! (prometheus-client), in the OpenMetrics text format Prometheus scrapes.

use crate::engine::events::{Event, EventKind};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

/// The content type of the `/metrics` answer.
pub(crate) const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct RouteOutcome {
    pub route: String,
    pub outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct ProviderKind {
    pub provider: String,
    pub kind: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct Route {
    pub route: String,
}

/// Latency buckets from 1 ms to about 2 minutes.
fn latency() -> Histogram {
    Histogram::new(exponential_buckets(0.001, 2.0, 18))
}

/// Everything `/metrics` counts. Each metric is an atomic shared by its clones.
pub(crate) struct Metrics {
    registry: Registry,
    /// Requests that ran through the engine, by route and `request_end` outcome.
    pub requests: Family<RouteOutcome, Counter>,
    /// Requests answered by rotor itself before the engine (bad key, too large, busy, …).
    pub refused: Family<RouteOutcome, Counter>,
    /// Attempts by provider and class (`success` for the attempt that answered).
    pub attempts: Family<ProviderKind, Counter>,
    pub rotations: Family<ProviderKind, Counter>,
    pub cooldowns: Family<ProviderKind, Counter>,
    pub refreshes: Family<ProviderKind, Counter>,
    /// Clients that went away before their answer was complete.
    pub disconnects: Family<Route, Counter>,
    /// From the request's arrival to the end of its answer.
    pub duration: Family<Route, Histogram, fn() -> Histogram>,
    /// From the request's arrival to the first byte of the answer (the commit point).
    pub first_byte: Family<Route, Histogram, fn() -> Histogram>,
    pub in_flight: Gauge,
    pub state_writes: Counter,
    pub state_write_failures: Counter,
    pub reloads: Counter,
    /// Trace lines dropped because stderr or the trace file could not keep up.
    pub trace_dropped: Counter,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Metrics {
    /// Adds the shared state's metrics (`--state`): whether Redis answers, and what was
    /// read, pushed and merged through it.
    pub(crate) fn register_fleet(&mut self, counters: &crate::fleet::Counters) {
        let r = &mut self.registry;
        r.register(
            "shared_state_up",
            "1 while the fleet's Redis answers, 0 while rotor goes on with auth.json alone",
            counters.up.clone(),
        );
        r.register(
            "shared_state_reads",
            "Account records read from the fleet's Redis",
            counters.reads.clone(),
        );
        r.register(
            "shared_state_pushes",
            "Account records this host changed in the fleet's Redis",
            counters.pushed.clone(),
        );
        r.register(
            "shared_state_merged",
            "Profiles whose status came from another host through Redis, per read of the pools",
            counters.merged.clone(),
        );
        r.register(
            "shared_state_failures",
            "Redis operations that failed or timed out",
            counters.failures.clone(),
        );
    }

    pub(crate) fn new() -> Metrics {
        let mut registry = Registry::with_prefix("rotor_serve");
        let requests = Family::<RouteOutcome, Counter>::default();
        let refused = Family::<RouteOutcome, Counter>::default();
        let attempts = Family::<ProviderKind, Counter>::default();
        let rotations = Family::<ProviderKind, Counter>::default();
        let cooldowns = Family::<ProviderKind, Counter>::default();
        let refreshes = Family::<ProviderKind, Counter>::default();
        let disconnects = Family::<Route, Counter>::default();
        let duration = Family::<Route, Histogram, fn() -> Histogram>::new_with_constructor(latency);
        let first_byte =
            Family::<Route, Histogram, fn() -> Histogram>::new_with_constructor(latency);
        let in_flight = Gauge::default();
        let state_writes = Counter::default();
        let state_write_failures = Counter::default();
        let reloads = Counter::default();
        let trace_dropped = Counter::default();
        registry.register(
            "requests",
            "Requests run through the engine, by route and outcome (request_end)",
            requests.clone(),
        );
        registry.register(
            "refused",
            "Requests rotor answered itself before the engine, by route and reason",
            refused.clone(),
        );
        registry.register(
            "attempts",
            "Upstream attempts by provider and class (kind)",
            attempts.clone(),
        );
        registry.register(
            "rotations",
            "Rotations to another profile by provider and reason (kind)",
            rotations.clone(),
        );
        registry.register(
            "cooldowns",
            "Profiles cooled by provider and reason (kind)",
            cooldowns.clone(),
        );
        registry.register(
            "token_refreshes",
            "OAuth token refreshes by provider and outcome (kind)",
            refreshes.clone(),
        );
        registry.register(
            "client_disconnects",
            "Clients gone before their answer was complete",
            disconnects.clone(),
        );
        registry.register(
            "request_duration_seconds",
            "From a request's arrival to the end of its answer",
            duration.clone(),
        );
        registry.register(
            "first_byte_seconds",
            "From a request's arrival to the first byte of its answer",
            first_byte.clone(),
        );
        registry.register("in_flight", "Requests being served", in_flight.clone());
        registry.register(
            "state_writes",
            "Coalesced writes of the pools' state to auth.json",
            state_writes.clone(),
        );
        registry.register(
            "state_write_failures",
            "Writes of the pools' state that failed (retried)",
            state_write_failures.clone(),
        );
        registry.register(
            "state_reloads",
            "Reads of auth.json after a change on disk",
            reloads.clone(),
        );
        registry.register(
            "trace_dropped",
            "Trace lines dropped because their output could not keep up",
            trace_dropped.clone(),
        );
        Metrics {
            registry,
            requests,
            refused,
            attempts,
            rotations,
            cooldowns,
            refreshes,
            disconnects,
            duration,
            first_byte,
            in_flight,
            state_writes,
            state_write_failures,
            reloads,
            trace_dropped,
        }
    }

    /// Counts what an event of a request on `route` says.
    pub(crate) fn observe(&self, route: &str, event: &Event) {
        let by = |kind: &str| ProviderKind {
            provider: event.provider.to_string(),
            kind: kind.to_string(),
        };
        match &event.kind {
            EventKind::AttemptFailed { class, .. } => {
                self.attempts.get_or_create(&by(class.as_str())).inc();
            }
            EventKind::ProfileRotation { reason, .. } => {
                self.rotations.get_or_create(&by(reason.as_str())).inc();
            }
            EventKind::ProfileCooldown { reason, .. } => {
                self.cooldowns.get_or_create(&by(reason)).inc();
            }
            EventKind::TokenRefresh { outcome, .. } => {
                self.refreshes.get_or_create(&by(outcome.as_str())).inc();
            }
            EventKind::RequestEnd { outcome, .. } => {
                if *outcome == crate::engine::RequestOutcome::Success {
                    self.attempts.get_or_create(&by("success")).inc();
                }
                self.requests
                    .get_or_create(&RouteOutcome {
                        route: route.to_string(),
                        outcome: outcome.as_str().to_string(),
                    })
                    .inc();
            }
            EventKind::RequestStart { .. }
            | EventKind::Attempt { .. }
            | EventKind::SharedState { .. } => {}
        }
    }

    pub(crate) fn refuse(&self, route: &str, reason: &str) {
        self.refused
            .get_or_create(&RouteOutcome {
                route: route.to_string(),
                outcome: reason.to_string(),
            })
            .inc();
    }

    /// The whole `/metrics` text: the pool gauges (`pools`, already rendered) and then the
    /// registry, ending with `# EOF`.
    pub(crate) fn render(&self, pools: &str) -> String {
        let mut out = String::with_capacity(pools.len() + 4096);
        out.push_str(pools);
        // Writing to a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }
}
