//! `rotor serve`: a local HTTP gateway that puts the rotation engine in the path of the
//! clients' own traffic (docs/serve.md). Every request a client sends — Responses API, Chat
//! Completions, Anthropic Messages — runs through the same engine and drive loop as
//! `rotor call`, on one pool per provider shared by every request in flight ([`hub`]).
//!
//! - [`routes`]: which paths exist and which pool serves each API;
//! - [`keys`]: the serve key clients must present;
//! - [`forward`]: the ports of one request (the upstream attempt, the commit point);
//! - [`hub`]: the shared pools, their coalesced writes to auth.json and reloads from it;
//! - [`reply`]: rotor's own answers in each API's error format; [`metrics`], [`trace`].
//!
//! Built on hyper's HTTP/1 server (one connection task per client connection, one request
//! task per API request); the upstream side is the reqwest transport of `call`.

mod forward;
mod hub;
mod keys;
mod metrics;
mod reply;
mod routes;
mod trace;

pub(crate) use keys::default_key_file;

use crate::cli::TraceFormat;
use crate::cli::config::Config;
use crate::drive::drive;
use crate::engine::{Engine, Policy, RequestEnd, RequestOutcome};
use crate::error::{Error, Result};
use crate::pool::Strategy;
use crate::store::{AuthStore, Document};
use crate::time;
use crate::upstream::http::Transport;
use bytes::Bytes;
use forward::{Client, Exchange, Rejection, ServePorts};
use http_body_util::BodyExt;
use hub::Hub;
use hyper::body::Incoming;
use hyper::header::{self, HeaderMap, HeaderValue};
use hyper::{Request, StatusCode};
use metrics::Metrics;
use reply::{Body, Refusal, Response, Shape};
use routes::{Endpoint, Miss, Routes, Surface};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::{Semaphore, oneshot};
use trace::{RequestSink, Trace};

/// Everything `rotor serve` was asked to do, checked.
#[derive(Debug)]
pub(crate) struct ServeConfig {
    pub listen: SocketAddr,
    pub key_file: PathBuf,
    pub routes: Vec<String>,
    pub max_concurrency: usize,
    pub max_body: u64,
    pub drain_timeout: Duration,
    pub client_timeout: Duration,
    pub trace: TraceFormat,
    pub trace_file: Option<std::fs::File>,
    /// The policy of every request; `strategy: None` takes each pool's from config.yaml.
    pub policy: Policy,
    pub strategy: Option<Strategy>,
    pub base_url: Option<String>,
    pub token_url: String,
    pub timeout: Duration,
    pub max_output: u64,
}

/// What every request task shares.
pub(crate) struct App {
    hub: Arc<Hub>,
    transport: Transport,
    routes: Routes,
    key: keys::ClientKey,
    policies: Vec<(String, Policy)>,
    base_url: Option<String>,
    token_url: String,
    max_output: u64,
    max_body: u64,
    client_timeout: Duration,
    permits: Arc<Semaphore>,
    max_concurrency: usize,
    draining: AtomicBool,
    metrics: Arc<Metrics>,
    trace: Arc<Trace>,
}

impl App {
    fn policy_for(&self, provider: &str) -> Policy {
        self.policies
            .iter()
            .find(|(p, _)| p == provider)
            .map(|(_, policy)| policy.clone())
            .unwrap_or_default()
    }
}

/// Adds rotor's own headers to an answer: the request id (as in the trace) and, when one was
/// used, the profile hash.
pub(crate) fn tag(headers: &mut HeaderMap, request_id: &str, profile: Option<&str>) {
    if let Ok(id) = HeaderValue::from_str(request_id) {
        headers.insert("x-rotor-request-id", id);
    }
    if let Some(Ok(hash)) = profile.map(HeaderValue::from_str) {
        headers.insert("x-rotor-profile", hash);
    }
}

/// Runs the gateway on the pools of `doc` (auth.json as read at start) until SIGTERM or
/// SIGINT; then drains, flushes the pools' state and returns.
pub(crate) fn run(
    store: AuthStore,
    doc: Document,
    config: ServeConfig,
    pool_config: &Config,
) -> Result<()> {
    let providers: Vec<&str> = doc.providers();
    let routes = Routes::resolve(&providers, &config.routes)?;
    let (key, created) = keys::load_or_create(&config.key_file)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("rotor-serve")
        .build()
        .map_err(|e| Error::Internal(format!("cannot start the async runtime: {e}")))?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(config.listen)
            .await
            .map_err(|e| {
                Error::usage(format!(
                    "--listen {}: cannot listen there: {e}",
                    config.listen
                ))
            })?;
        let listening = listener.local_addr().unwrap_or(config.listen);
        let mut metrics = Metrics::new();
        if let Some(fleet) = store.fleet() {
            metrics.register_fleet(fleet.counters());
        }
        let metrics = Arc::new(metrics);
        let (trace, writer) = Trace::start(config.trace, config.trace_file, metrics.clone())
            .map_err(|e| Error::Internal(format!("cannot start the trace writer: {e}")))?;
        let trace = Arc::new(trace);
        let report: hub::Report = {
            let trace = trace.clone();
            Arc::new(move |text: &str| trace.note(text))
        };
        let served = routes.providers();
        let (hub, keeper) = Hub::new(
            store,
            doc,
            served.clone(),
            vec![key.as_secret().to_string()],
            metrics.clone(),
            report,
        );
        let keeper = tokio::spawn(keeper.run());
        if let Some(fleet) = hub.store().fleet() {
            hub::watch_fleet(&hub, fleet);
        }
        let policies = served
            .iter()
            .map(|p| {
                let mut policy = config.policy.clone();
                policy.strategy = config
                    .strategy
                    .unwrap_or_else(|| pool_config.strategy_for(p));
                (p.clone(), policy)
            })
            .collect();
        let app = Arc::new(App {
            hub: hub.clone(),
            transport: Transport::new(config.timeout).map_err(Error::Internal)?,
            routes,
            key,
            policies,
            base_url: config.base_url,
            token_url: config.token_url,
            max_output: config.max_output,
            max_body: config.max_body,
            client_timeout: config.client_timeout,
            permits: Arc::new(Semaphore::new(config.max_concurrency)),
            max_concurrency: config.max_concurrency,
            draining: AtomicBool::new(false),
            metrics,
            trace: trace.clone(),
        });
        announce(&app, listening, &config.key_file, created);
        let served = accept_until_signal(&app, listener, config.client_timeout).await;
        let drained = drain(&app, config.drain_timeout).await;
        let flushed = hub.flush().await;
        if let Err(e) = &flushed {
            trace.note(&format!(
                "the last {} change(s) to the pools could not be written to auth.json: {}",
                hub.pending(),
                crate::error::describe(e)
            ));
        }
        trace.note(&format!(
            "stopped{}",
            if drained {
                String::new()
            } else {
                " (requests still in flight were cut at --drain-timeout)".to_string()
            }
        ));
        drop(app);
        hub.stop();
        let _ = keeper.await;
        trace.close();
        drop(trace);
        writer.finish();
        served.and(flushed)
    })
}

fn announce(app: &App, listening: SocketAddr, key_file: &std::path::Path, created: bool) {
    let routes: Vec<String> = app
        .routes
        .iter()
        .map(|(surface, provider)| format!("{} → {provider}", surface.paths().join(", ")))
        .collect();
    app.trace.note(&format!(
        "listening on http://{listening} ({}); clients send the key in {}{}",
        routes.join("; "),
        key_file.display(),
        if created { " (created now)" } else { "" }
    ));
}

/// Accepts connections until SIGTERM or SIGINT.
async fn accept_until_signal(
    app: &Arc<App>,
    listener: tokio::net::TcpListener,
    client_timeout: Duration,
) -> Result<()> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut terminate = signal(SignalKind::terminate())
        .map_err(|e| Error::Internal(format!("cannot watch SIGTERM: {e}")))?;
    let mut interrupt = signal(SignalKind::interrupt())
        .map_err(|e| Error::Internal(format!("cannot watch SIGINT: {e}")))?;
    // Connections beyond this wait in the kernel's backlog rather than exhaust descriptors.
    let connections = Arc::new(Semaphore::new(
        app.max_concurrency.saturating_mul(4).max(64),
    ));
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    loop {
        let permit = tokio::select! {
            permit = connections.clone().acquire_owned() => permit,
            _ = terminate.recv() => break,
            _ = interrupt.recv() => break,
        };
        let Ok(permit) = permit else { break };
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            _ = terminate.recv() => break,
            _ = interrupt.recv() => break,
        };
        let (stream, _peer) = match accepted {
            Ok(accepted) => accepted,
            Err(e) => {
                // Out of descriptors, or a connection reset before it was accepted: wait a
                // moment rather than spin.
                app.trace.note(&format!("cannot accept a connection: {e}"));
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let app = app.clone();
        let service = hyper::service::service_fn(move |request| {
            let app = app.clone();
            async move { Ok::<_, std::convert::Infallible>(handle(app, request).await) }
        });
        let mut builder = hyper::server::conn::http1::Builder::new();
        builder
            .timer(hyper_util::rt::TokioTimer::new())
            .header_read_timeout(client_timeout)
            .max_buf_size(256 * 1024);
        let connection = builder.serve_connection(hyper_util::rt::TokioIo::new(stream), service);
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            let _ = connection.await;
            drop(permit);
        });
    }
    drop(listener);
    app.draining.store(true, Ordering::SeqCst);
    // Idle keep-alive connections close now; busy ones after their current answer.
    tokio::spawn(graceful.shutdown());
    Ok(())
}

/// Waits for the requests in flight, up to `timeout`; `false` if some were still running.
async fn drain(app: &App, timeout: Duration) -> bool {
    let in_flight = app.max_concurrency - app.permits.available_permits();
    if in_flight > 0 {
        app.trace.note(&format!(
            "stopping: {in_flight} request(s) in flight, waiting up to {}",
            time::compact_duration(timeout.as_secs_f64())
        ));
    }
    let all = u32::try_from(app.max_concurrency).unwrap_or(u32::MAX);
    tokio::time::timeout(timeout, app.permits.acquire_many(all))
        .await
        .is_ok()
}

/// Answers one HTTP request.
async fn handle(app: Arc<App>, request: Request<Incoming>) -> Response {
    let endpoint = routes::endpoint(request.method(), request.uri().path());
    let shape = Shape::of(endpoint.ok());
    let route = endpoint.map_or("other", Endpoint::name);
    if endpoint == Ok(Endpoint::Healthz) {
        return json_answer(StatusCode::OK, &serde_json::json!({"status": "ok"}));
    }
    if !keys::presented(request.headers(), &app.key) {
        app.metrics.refuse(route, Refusal::Unauthorized.code());
        let message = "rotor: this gateway needs its key, as `Authorization: Bearer KEY` or \
                       `x-api-key: KEY` (the key is in the file rotor serve printed at start)";
        return Refusal::Unauthorized.reply(shape, message);
    }
    let endpoint = match endpoint {
        Ok(endpoint) => endpoint,
        Err(Miss::NotFound) => {
            app.metrics.refuse(route, Refusal::NotFound.code());
            let path = crate::sanitize::one_line(request.uri().path(), 80);
            let hint = routes::hint_for(request.uri().path())
                .map(|h| format!("; {h}"))
                .unwrap_or_default();
            return Refusal::NotFound.reply(shape, &format!("rotor: no endpoint {path}{hint}"));
        }
        Err(Miss::Method(allowed)) => {
            app.metrics.refuse(route, Refusal::Method(allowed).code());
            return Refusal::Method(allowed).reply(shape, &format!("rotor: use {allowed} here"));
        }
    };
    match endpoint {
        Endpoint::Api(surface) => api(&app, surface, request).await,
        Endpoint::Models => json_answer(StatusCode::OK, &models(&app)),
        Endpoint::Readyz => readiness(&app),
        Endpoint::Metrics => metrics_answer(&app),
        Endpoint::Healthz => json_answer(StatusCode::OK, &serde_json::json!({"status": "ok"})),
    }
}

fn json_answer(status: StatusCode, value: &serde_json::Value) -> Response {
    let mut response = Response::new(Body::full(value.to_string()));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

/// An API request: checked, read, and handed to a request task of its own, whose answer (at
/// its commit point, or when it ends before) is the response.
async fn api(app: &Arc<App>, surface: Surface, request: Request<Incoming>) -> Response {
    let shape = Shape::of(Some(Endpoint::Api(surface)));
    let refuse = |refusal: Refusal, message: String| {
        app.metrics.refuse(surface.name(), refusal.code());
        refusal.reply(shape, &message)
    };
    if app.draining.load(Ordering::SeqCst) {
        return refuse(
            Refusal::ShuttingDown,
            "rotor: the gateway is shutting down".into(),
        );
    }
    let Some(provider) = app.routes.provider(surface) else {
        return refuse(
            Refusal::NotFound,
            format!(
                "rotor: no pool serves the {} API here (start rotor serve with --route {}=PROVIDER)",
                surface.name(),
                surface.name()
            ),
        );
    };
    let Ok(permit) = app.permits.clone().try_acquire_owned() else {
        return refuse(
            Refusal::Busy,
            format!(
                "rotor: {} requests are in flight, the most --max-concurrency allows",
                app.max_concurrency
            ),
        );
    };
    let arrived = Instant::now();
    let (parts, body) = request.into_parts();
    let body = match read_body(body, &parts.headers, app.max_body, app.client_timeout).await {
        Ok(body) => body,
        Err(refusal) => {
            let message = match refusal {
                Refusal::TooLarge => format!(
                    "rotor: the request body is larger than --max-body ({} bytes)",
                    app.max_body
                ),
                Refusal::ClientTimeout => format!(
                    "rotor: the request body did not arrive within --client-timeout ({})",
                    time::compact_duration(app.client_timeout.as_secs_f64())
                ),
                _ => "rotor: the request body could not be read".into(),
            };
            return refuse(refusal, message);
        }
    };
    // A small body that came in one read is a slice of the connection's read buffer; a copy
    // lets that buffer go while the request runs (a long stream would keep it otherwise).
    let body = if body.len() <= SMALL_BODY {
        Bytes::copy_from_slice(&body)
    } else {
        body
    };
    let model = match json_object(&body) {
        Ok(model) => model,
        Err(why) => {
            return refuse(
                Refusal::BadRequest,
                format!("rotor: the request body is not a JSON object: {why}"),
            );
        }
    };
    let exchange = Exchange {
        request_id: uuid::Uuid::new_v4().to_string(),
        surface,
        provider: provider.to_string(),
        body,
        model,
        headers: forward::forwardable(&parts.headers),
        arrived,
    };
    let request_id = exchange.request_id.clone();
    let (tx, rx) = oneshot::channel();
    tokio::spawn(run_request(app.clone(), exchange, tx, permit));
    match rx.await {
        Ok(mut response) => {
            tag(response.headers_mut(), &request_id, None);
            response
        }
        Err(_) => Refusal::Internal.reply(shape, "rotor: the request ended without an answer"),
    }
}

/// Request bodies up to this size are copied out of the connection's read buffer.
const SMALL_BODY: usize = 64 * 1024;

/// Checks that `body` is one JSON object, without building it (bodies of agents run to
/// hundreds of kilobytes; they are forwarded as they are).
/// Checks that `body` is one JSON object, and returns its `model` when that is a plausible
/// model name (a string of one line, at most 200 characters); anything else there is the
/// upstream's to judge, and availability is then evaluated for no model.
fn json_object(body: &[u8]) -> std::result::Result<Option<String>, String> {
    #[derive(serde::Deserialize)]
    struct Head {
        #[serde(default)]
        model: serde_json::Value,
    }
    let first = body.iter().find(|b| !b.is_ascii_whitespace());
    if first != Some(&b'{') {
        return Err("it does not start with `{`".into());
    }
    let head: Head = serde_json::from_slice(body).map_err(|e| e.to_string())?;
    Ok(head
        .model
        .as_str()
        .filter(|m| crate::pool::is_model_name(m))
        .map(str::to_owned))
}

/// Reads a request body of at most `max` bytes within `timeout`.
async fn read_body(
    body: Incoming,
    headers: &HeaderMap,
    max: u64,
    timeout: Duration,
) -> Result<Bytes, Refusal> {
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|len| len > max) {
        return Err(Refusal::TooLarge);
    }
    let limited = http_body_util::Limited::new(body, usize::try_from(max).unwrap_or(usize::MAX));
    match tokio::time::timeout(timeout, limited.collect()).await {
        Err(_) => Err(Refusal::ClientTimeout),
        Ok(Ok(collected)) => Ok(collected.to_bytes()),
        Ok(Err(e)) if e.is::<http_body_util::LengthLimitError>() => Err(Refusal::TooLarge),
        Ok(Err(_)) => Err(Refusal::BadRequest),
    }
}

/// One API request through the engine, in a task of its own: it outlives the handler's wait
/// for the answer's head, streaming the rest.
async fn run_request(
    app: Arc<App>,
    exchange: Exchange,
    responder: oneshot::Sender<Response>,
    permit: tokio::sync::OwnedSemaphorePermit,
) {
    app.metrics.in_flight.inc();
    let provider = exchange.provider.clone();
    let (generation, pool) = app.hub.pool(&provider);
    let mut engine = Engine::new(
        exchange.request_id.clone(),
        provider.clone(),
        pool.to_vec(),
        app.policy_for(&provider),
        fastrand::u64(..),
    )
    .with_model(exchange.model.as_deref());
    let client = Client::new(responder, app.client_timeout);
    let mut ports = ServePorts::new(&app, &exchange, client, generation, &pool);
    let mut sink = RequestSink {
        route: exchange.surface.name(),
        trace: app.trace.clone(),
        metrics: app.metrics.clone(),
    };
    let ended = drive(&mut engine, &mut ports, &mut sink).await;
    let shape = Shape::of(Some(Endpoint::Api(exchange.surface)));
    let route = metrics::Route {
        route: exchange.surface.name().to_string(),
    };
    match ended {
        Ok(end) => {
            if end
                .last_failure
                .as_ref()
                .and_then(|f| f.error_type.as_deref())
                == Some("client_closed")
            {
                app.metrics.disconnects.get_or_create(&route).inc();
            }
            if !ports.client.answered() {
                let response = ending(&end, &provider, ports.rejection.take(), shape);
                ports.client.answer(response);
            }
        }
        Err(e) => {
            let message = format!("rotor: {}", crate::error::describe(&e));
            app.trace.note(&format!(
                "request {} failed inside rotor: {}",
                exchange.request_id,
                crate::error::describe(&e)
            ));
            if !ports.client.answered() {
                ports
                    .client
                    .answer(Refusal::Internal.reply(shape, &message));
            }
        }
    }
    if let Some(first) = ports.client.first_byte {
        app.metrics
            .first_byte
            .get_or_create(&route)
            .observe((first - exchange.arrived).as_secs_f64());
    }
    app.metrics
        .duration
        .get_or_create(&route)
        .observe(exchange.arrived.elapsed().as_secs_f64());
    drop(ports);
    app.metrics.in_flight.dec();
    drop(permit);
}

/// The answer of a request that ended before its commit point.
fn ending(
    end: &RequestEnd,
    provider: &str,
    rejection: Option<Rejection>,
    shape: Shape,
) -> Response {
    let message = match crate::error::request_result(end, provider) {
        Ok(()) => "rotor: the request ended without an answer".to_string(),
        Err(e) => format!("rotor: {e}"),
    };
    match end.outcome {
        RequestOutcome::PoolExhausted => {
            let retry_after = end
                .next_available_at
                .map(|at| (at - time::now()).ceil().clamp(1.0, 86_400.0 * 365.0) as u64);
            Refusal::PoolExhausted { retry_after }.reply(shape, &message)
        }
        RequestOutcome::UpstreamUnavailable => Refusal::UpstreamUnavailable.reply(shape, &message),
        RequestOutcome::RequestRejected => match rejection {
            // A redirect is never passed on: the client would follow it, maybe with its key.
            Some(r) if (300..400).contains(&r.status) => Refusal::BadGateway.reply(shape, &message),
            Some(r) => {
                let mut response = Response::new(Body::full(r.body));
                *response.status_mut() =
                    StatusCode::from_u16(r.status).unwrap_or(StatusCode::BAD_REQUEST);
                let headers = response.headers_mut();
                headers.insert(
                    header::CONTENT_TYPE,
                    r.content_type
                        .unwrap_or(HeaderValue::from_static("application/json")),
                );
                headers.insert("x-should-retry", HeaderValue::from_static("false"));
                response
            }
            None => Refusal::BadGateway.reply(shape, &message),
        },
        RequestOutcome::Success => Refusal::Internal.reply(shape, &message),
    }
}

/// `GET /v1/models`: each routed pool's default model, in a list both the OpenAI and the
/// Anthropic SDKs read.
fn models(app: &App) -> serde_json::Value {
    let mut data: Vec<serde_json::Value> = Vec::new();
    for (surface, provider) in app.routes.iter() {
        let Some(model) = crate::providers::default_model(provider) else {
            continue;
        };
        if data.iter().any(|m| m["id"] == model) {
            continue;
        }
        data.push(serde_json::json!({
            "id": model,
            "object": "model",
            "type": "model",
            "created": 0,
            "created_at": "1970-01-01T00:00:00Z",
            "owned_by": provider,
            "display_name": model,
            "rotor_route": surface.name(),
        }));
    }
    let first = data.first().map(|m| m["id"].clone());
    let last = data.last().map(|m| m["id"].clone());
    serde_json::json!({
        "object": "list",
        "data": data,
        "has_more": false,
        "first_id": first,
        "last_id": last,
    })
}

/// `GET /readyz`: 200 when every routed pool has a profile available now, else 503 naming
/// when the first will be.
fn readiness(app: &App) -> Response {
    let now = time::now();
    let mut ready = true;
    let pools: Vec<serde_json::Value> = app
        .routes
        .providers()
        .iter()
        .map(|provider| {
            let (_, profiles) = app.hub.pool(provider);
            // Ready for some model: a model cooldown leaves the account serving the others.
            let available = profiles.iter().filter(|p| p.account_available(now)).count();
            ready &= available > 0;
            serde_json::json!({
                "provider": provider,
                "available": available,
                "total": profiles.len(),
                "next_available_at": crate::pool::next_available_at(profiles.iter(), now, None).map(time::rfc3339_s),
            })
        })
        .collect();
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let mut body = serde_json::json!({"ready": ready, "pools": pools});
    // Redis down does not make the gateway unready: it serves from auth.json meanwhile.
    if let Some(fleet) = app.hub.store().fleet() {
        body["shared_state"] = serde_json::json!({
            "url": fleet.shown_url(),
            "host": fleet.host(),
            "up": fleet.is_up(),
        });
    }
    json_answer(status, &body)
}

/// `GET /metrics`.
fn metrics_answer(app: &App) -> Response {
    let now = time::now();
    let providers = app
        .routes
        .providers()
        .iter()
        .map(|provider| {
            let (_, profiles) = app.hub.pool(provider);
            let strategy = app.policy_for(provider).strategy;
            crate::render::report::provider_report(provider, &profiles, strategy, now, None, None)
        })
        .collect();
    let report = crate::render::report::PoolReport {
        at: time::rfc3339_s(now),
        model: None,
        hermes: app.hub.rules(),
        providers,
    };
    let pools = crate::render::prometheus::pool_prometheus(&report);
    let mut response = Response::new(Body::full(app.metrics.render(&pools)));
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(metrics::CONTENT_TYPE),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::json_object;

    #[test]
    fn a_body_must_be_one_json_object() {
        assert_eq!(
            json_object(br#" {"model":"m","input":[{"a":1}]} "#),
            Ok(Some("m".into()))
        );
        assert_eq!(json_object(br#"{"input":"x"}"#), Ok(None));
        assert_eq!(json_object(br#"{"model":7}"#), Ok(None));
        assert_eq!(json_object(br#"{"model":"a b\n"}"#), Ok(None));
        for bad in [&b"[1]"[..], b"", b"{", b"{} {}", b"\"x\"", b"{\"a\":}"] {
            assert!(
                json_object(bad).is_err(),
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
    }
}
