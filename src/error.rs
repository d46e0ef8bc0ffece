//! The one error type of rotor and the one place where exit codes are chosen.
//!
//! Every failure a user can meet maps to exactly one exit code of the contract (docs/exit-codes.md), so a
//! script can branch on `$?` without parsing text. Messages are lowercase fragments; `main` prints
//! them as `rotor: <message>` followed by their cause chain.

use crate::engine::{EngineError, RequestEnd, RequestOutcome};
use crate::time::{relative, rfc3339_s};
use std::path::PathBuf;

/// Exit codes of the contract, as named constants.
pub mod exit {
    pub(crate) const SUCCESS: u8 = 0;
    pub(crate) const INTERNAL: u8 = 1;
    pub(crate) const USAGE: u8 = 2;
    pub(crate) const POOL_EXHAUSTED: u8 = 3;
    pub(crate) const UPSTREAM_UNAVAILABLE: u8 = 4;
    pub(crate) const REQUEST_REJECTED: u8 = 5;
    pub(crate) const LOCK_TIMEOUT: u8 = 6;
    pub(crate) const INVALID_FILE: u8 = 7;
    pub(crate) const NOT_FOUND: u8 = 8;
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Bad flags or arguments that clap could not catch (e.g. an unparseable time).
    #[error("{0}")]
    Usage(String),

    /// auth.json, config.yaml or a scenario could not be read.
    #[error("cannot read {}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// The file was read but is not valid JSON/YAML; `line`/`column` are 1-based.
    #[error("{}:{line}:{column}: invalid {what}: {message}", path.display())]
    Syntax {
        path: PathBuf,
        what: &'static str,
        line: usize,
        column: usize,
        message: String,
    },

    /// The file parsed but a known field has the wrong shape. `place` is a JSON path
    /// such as `credential_pool.openai-codex[1].priority`.
    #[error("{}: {place}: expected {expected}", path.display())]
    Schema {
        path: PathBuf,
        place: String,
        expected: String,
    },

    /// Writing auth.json failed; the old file is untouched.
    #[error("cannot write {}", path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error("timed out after {seconds}s waiting for the lock on {} (raise --lock-timeout to wait longer)", path.display())]
    LockTimeout { path: PathBuf, seconds: f64 },

    #[error("{0}")]
    NotFound(String),

    /// No profile of a provider can serve now. `next_available_at` is the earliest time one will.
    #[error("{message}")]
    PoolExhausted { message: String },

    #[error("{0}")]
    UpstreamUnavailable(String),

    #[error("{0}")]
    RequestRejected(String),

    #[error("{0}")]
    Internal(String),
}

impl Error {
    /// The exit code of the contract for this error.
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::Usage(_) => exit::USAGE,
            // Unreadable, invalid or unwritable auth/config/scenario files share one code:
            // "fix the file or its directory", and in each case nothing was written.
            Error::Read { .. }
            | Error::Syntax { .. }
            | Error::Schema { .. }
            | Error::Write { .. } => exit::INVALID_FILE,
            Error::LockTimeout { .. } => exit::LOCK_TIMEOUT,
            Error::NotFound(_) => exit::NOT_FOUND,
            Error::PoolExhausted { .. } => exit::POOL_EXHAUSTED,
            Error::UpstreamUnavailable(_) => exit::UPSTREAM_UNAVAILABLE,
            Error::RequestRejected(_) => exit::REQUEST_REJECTED,
            Error::Internal(_) => exit::INTERNAL,
        }
    }

    pub(crate) fn usage(message: impl Into<String>) -> Self {
        Error::Usage(message.into())
    }

    pub(crate) fn schema(
        path: &std::path::Path,
        place: impl Into<String>,
        expected: impl Into<String>,
    ) -> Self {
        Error::Schema {
            path: path.to_path_buf(),
            place: place.into(),
            expected: expected.into(),
        }
    }
}

impl From<EngineError> for Error {
    fn from(e: EngineError) -> Self {
        Error::Internal(e.to_string())
    }
}

/// The exit code of a request that ended with `outcome`.
/// An error and its causes on one line: `message: cause: cause`.
pub(crate) fn describe(error: &Error) -> String {
    let mut text = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        text.push_str(&format!(": {cause}"));
        source = cause.source();
    }
    text
}

pub(crate) fn exit_code_of(outcome: RequestOutcome) -> u8 {
    match outcome {
        RequestOutcome::Success => exit::SUCCESS,
        RequestOutcome::PoolExhausted => exit::POOL_EXHAUSTED,
        RequestOutcome::UpstreamUnavailable => exit::UPSTREAM_UNAVAILABLE,
        RequestOutcome::RequestRejected => exit::REQUEST_REJECTED,
    }
}

/// A request's end as a command's result: `Ok` on success, else the error whose exit code and
/// sentence the contract asks for (exit 3 names `next_available_at`; 4 and 5 the last failure).
pub(crate) fn request_result(end: &RequestEnd, provider: &str) -> Result<()> {
    let failure = || {
        end.last_failure.as_ref().map_or_else(String::new, |f| {
            let detail = [f.error_type.as_deref(), f.message.as_deref()]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(": ");
            // `429 rate_limit usage_limit_reached: …`, or `transient: could not connect: …`
            // when no HTTP status came back.
            let (what, sep) = match f.status {
                Some(status) => (format!("{status} {}", f.class.as_str()), " "),
                None => (f.class.as_str().to_string(), ": "),
            };
            let sep = if detail.is_empty() { "" } else { sep };
            format!(" (last failure: {what}{sep}{detail})")
        })
    };
    match end.outcome {
        RequestOutcome::Success => Ok(()),
        RequestOutcome::PoolExhausted => {
            let when = match end.next_available_at {
                Some(at) if at > end.at => {
                    format!(
                        "next available at {} ({})",
                        rfc3339_s(at),
                        relative(at, end.at)
                    )
                }
                Some(_) => {
                    "profiles are available but the --max-profiles cap was reached".to_string()
                }
                None => {
                    "no profile will become available on its own (dead or without key)".to_string()
                }
            };
            Err(Error::PoolExhausted {
                message: format!("pool exhausted for {provider}: {when}"),
            })
        }
        RequestOutcome::UpstreamUnavailable => Err(Error::UpstreamUnavailable(format!(
            "upstream unavailable for {provider} after {} attempt(s){}",
            end.attempts,
            failure()
        ))),
        RequestOutcome::RequestRejected => Err(Error::RequestRejected(format!(
            "request rejected by {provider}{}",
            failure()
        ))),
    }
}
