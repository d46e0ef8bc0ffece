//! The real transport of `rotor call`: reqwest over rustls on tokio. It sends one attempt,
//! streams answer text to the caller as it arrives, and reports what happened in terms the
//! classifier understands. It decides nothing about retries.
//!
//! Where credentials may go: no client of rotor follows a redirect (a 3xx is answered as it
//! is, and classified as a rejected request naming its `Location`), and a credential is only
//! ever sent over `https`, or plain `http` to a loopback address ([`check_credential_url`]).

use crate::engine::TransportFailure;
use crate::providers::{Api, Chunk, HttpRequest, StreamDecoder};
use crate::sanitize::display_url;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};
use rustls_platform_verifier::Verifier;
use serde_json::Value;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

/// Most of an error body rotor reads: enough for any provider's JSON error, bounded so a
/// hostile server cannot make rotor buffer without end.
const MAX_ERROR_BODY: usize = 64 * 1024;

/// How one attempt ended.
#[derive(Debug)]
pub(crate) enum AttemptResult {
    /// The provider finished the answer.
    Completed { response: Value },
    /// A non-2xx answer.
    HttpError {
        status: u16,
        headers: Vec<(String, String)>,
        body: String,
    },
    /// A failure event inside a 200 stream.
    StreamFailed {
        status: u16,
        body: String,
        output_started: bool,
    },
    /// No usable answer at the transport level.
    Transport {
        kind: TransportFailure,
        output_started: bool,
        detail: String,
    },
}

#[derive(Debug, Clone)]
pub(crate) struct Transport {
    client: reqwest::Client,
}

impl Transport {
    /// `timeout` bounds each silence of an attempt: connecting, waiting for the answer to start,
    /// and the gap between two chunks of the stream. A long answer that keeps streaming is fine.
    pub(crate) fn new(timeout: Duration) -> Result<Self, String> {
        // rotor ships ring as its only TLS crypto provider; installing it twice is harmless.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client = reqwest::Client::builder()
            .tls_backend_preconfigured(tls_config()?)
            // reqwest's default policy follows up to ten redirects and strips only
            // `Authorization`: an `x-api-key` or a refresh-token form would travel on to
            // wherever the server points. rotor follows none.
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(timeout)
            // Per read, reset by every byte that arrives: the longest silence, not a cap on a
            // long answer that keeps streaming.
            .read_timeout(timeout)
            .build()
            .map_err(|e| format!("cannot set up the HTTP client: {e}"))?;
        Ok(Transport { client })
    }

    pub(crate) fn client(&self) -> &reqwest::Client {
        &self.client
    }

    /// Sends `request` and reads the answer as `api` streams it, calling `on_text` for every
    /// text delta as soon as it arrives. At most `limits.max_output` bytes of text are taken;
    /// past that the attempt fails (after output).
    pub(crate) async fn attempt(
        &self,
        api: Api,
        request: &HttpRequest,
        limits: AttemptLimits,
        mut on_text: impl FnMut(&str),
    ) -> AttemptResult {
        let mut builder = self
            .client
            .post(&request.url)
            .header("content-type", "application/json")
            .body(request.body.to_string());
        for (name, value) in &request.headers {
            builder = builder.header(*name, value);
        }
        let mut response = match builder.send().await {
            Ok(response) => response,
            Err(e) => return transport_failure(&e, false, &request.url),
        };
        let status = response.status().as_u16();
        if !response.status().is_success() {
            let headers = header_pairs(response.headers());
            let body = read_bounded(&mut response).await;
            return AttemptResult::HttpError {
                status,
                headers,
                body,
            };
        }
        let mut decoder = StreamDecoder::new(api, limits.keep_text);
        let mut output_started = false;
        let mut output_bytes: u64 = 0;
        let mut ended = false;
        while !ended {
            let chunks = match response.chunk().await {
                Ok(Some(bytes)) => decoder.feed(&bytes),
                Ok(None) => {
                    ended = true;
                    decoder.finish()
                }
                Err(e) => return transport_failure(&e, output_started, &request.url),
            };
            for chunk in chunks {
                match chunk {
                    Chunk::Text(text) => {
                        output_bytes += text.len() as u64;
                        if output_bytes > limits.max_output {
                            // Never retried, even when nothing was shown yet: another
                            // attempt would spend quota on the same flood.
                            return AttemptResult::Transport {
                                kind: TransportFailure::OutputCapped,
                                output_started: true,
                                detail: format!(
                                    "more than {} bytes of answer text",
                                    limits.max_output
                                ),
                            };
                        }
                        output_started = true;
                        on_text(&text);
                    }
                    Chunk::Done => {
                        return AttemptResult::Completed {
                            response: decoder.response(),
                        };
                    }
                    Chunk::Failed { status, body } => {
                        return AttemptResult::StreamFailed {
                            status,
                            body,
                            output_started,
                        };
                    }
                }
            }
        }
        AttemptResult::Transport {
            kind: TransportFailure::StreamCut,
            output_started,
            detail: "the stream ended before the answer was complete".into(),
        }
    }
}

/// Bounds of one attempt's answer.
#[derive(Debug, Clone, Copy)]
pub(crate) struct AttemptLimits {
    /// Most bytes of answer text taken (`--max-output`).
    pub max_output: u64,
    /// Whether the text is also kept to build the final response object (`--format json`);
    /// without it memory stays flat however long the answer.
    pub keep_text: bool,
}

/// The TLS settings reqwest would build for itself (ring, TLS 1.2 and 1.3, SNI, ALPN
/// `http/1.1`, the platform's trust store through rustls-platform-verifier), except that the
/// trust store is loaded on the first TLS handshake instead of when the client is built.
/// Loading it parses every system root certificate, the largest part of a `call` against a
/// plain-HTTP endpoint (a proxy or a loopback server), which then never pays for it.
fn tls_config() -> Result<rustls::ClientConfig, String> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(rustls::ALL_VERSIONS)
        .map_err(|e| format!("cannot set up TLS: {e}"))?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(LazyPlatformVerifier::new(provider)))
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}

/// rustls-platform-verifier's `Verifier`, built when the first certificate is checked.
#[derive(Debug)]
struct LazyPlatformVerifier {
    provider: Arc<CryptoProvider>,
    verifier: OnceLock<Result<Verifier, rustls::Error>>,
}

impl LazyPlatformVerifier {
    fn new(provider: Arc<CryptoProvider>) -> Self {
        LazyPlatformVerifier {
            provider,
            verifier: OnceLock::new(),
        }
    }

    /// The platform verifier; the error of building it (no trust store) fails the handshake,
    /// as it failed the client's construction before.
    fn get(&self) -> Result<&Verifier, rustls::Error> {
        self.verifier
            .get_or_init(|| Verifier::new(self.provider.clone()))
            .as_ref()
            .map_err(Clone::clone)
    }
}

impl ServerCertVerifier for LazyPlatformVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        self.get()?
            .verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.get()?.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.get()?.verify_tls13_signature(message, cert, dss)
    }

    /// What the platform verifier answers too (its WebPKI verifier's schemes are the
    /// provider's), without loading the trust store to say it.
    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// Reads at most [`MAX_ERROR_BODY`] bytes of a body; a body that fails half-way keeps what came.
pub(crate) async fn read_bounded(response: &mut reqwest::Response) -> String {
    let mut body = Vec::new();
    while let Ok(Some(bytes)) = response.chunk().await {
        body.extend_from_slice(&bytes);
        if body.len() >= MAX_ERROR_BODY {
            body.truncate(MAX_ERROR_BODY);
            break;
        }
    }
    String::from_utf8_lossy(&body).into_owned()
}

fn transport_failure(error: &reqwest::Error, output_started: bool, url: &str) -> AttemptResult {
    AttemptResult::Transport {
        kind: failure_kind(error),
        output_started,
        detail: format!("{}: {}", display_url(url), describe(error)),
    }
}

/// What kind of transport failure a reqwest error is.
pub(crate) fn failure_kind(error: &reqwest::Error) -> TransportFailure {
    if error.is_timeout() {
        TransportFailure::Timeout
    } else if error.is_connect() {
        TransportFailure::Connect
    } else {
        // The connection broke after the request was sent: reset, or a body cut mid-chunk.
        TransportFailure::Reset
    }
}

/// reqwest's message plus its causes ("error sending request: connection refused"), without
/// the URL, which may carry a query string an operator did not mean to log.
pub(crate) fn describe(error: &reqwest::Error) -> String {
    let mut text = error.to_string();
    if let Some(url) = error.url() {
        text = text.replace(&format!(" for url ({url})"), "");
    }
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        // hyper and reqwest repeat their cause's words in their own message at times.
        if !text.ends_with(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

/// Checks a URL rotor is about to send a credential to: it must be `https`, or `http` to a
/// loopback address (a local proxy, a test server). The error says why, for the operator.
pub(crate) fn check_credential_url(text: &str) -> Result<reqwest::Url, String> {
    let url = reqwest::Url::parse(text.trim()).map_err(|e| {
        format!(
            "`{}` is not a URL ({e})",
            crate::sanitize::one_line(text, 100)
        )
    })?;
    match url.scheme() {
        "https" if url.host().is_some() => Ok(url),
        "http" if url.host().is_some_and(is_loopback) => Ok(url),
        "http" => Err(format!(
            "{} is plain http to a host that is not loopback: rotor sends credentials only \
             over https (or http to 127.0.0.1, ::1 or localhost)",
            display_url(text)
        )),
        "https" => Err(format!("{} has no host", display_url(text))),
        other => Err(format!(
            "{} uses `{}`: expected an https URL (or http to a loopback address)",
            display_url(text),
            crate::sanitize::one_line(other, 20)
        )),
    }
}

fn is_loopback(host: url::Host<&str>) -> bool {
    match host {
        url::Host::Ipv4(ip) => ip.is_loopback(),
        url::Host::Ipv6(ip) => ip.is_loopback(),
        url::Host::Domain(name) => {
            let name = name.trim_end_matches('.');
            name.eq_ignore_ascii_case("localhost")
                || name.to_ascii_lowercase().ends_with(".localhost")
        }
    }
}

/// Response headers as owned (name, value) pairs for the classifier; values that are not UTF-8
/// are read lossily (they only matter when they are a Retry-After or similar).
pub(crate) fn header_pairs(headers: &reqwest::header::HeaderMap) -> Vec<(String, String)> {
    headers
        .iter()
        .map(|(n, v)| {
            (
                n.as_str().to_string(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect()
}
