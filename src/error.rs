//! The one error type of rotor and the one place where exit codes are chosen.
//!
//! Every failure a user can meet maps to exactly one exit code of the contract (DESIGN §7), so a
//! script can branch on `$?` without parsing text. Messages are lowercase fragments; `main` prints
//! them as `rotor: <message>` followed by their cause chain.

use std::path::PathBuf;

/// Exit codes of the contract, as named constants.
pub mod exit {
    pub const SUCCESS: u8 = 0;
    pub const INTERNAL: u8 = 1;
    pub const USAGE: u8 = 2;
    pub const POOL_EXHAUSTED: u8 = 3;
    pub const UPSTREAM_UNAVAILABLE: u8 = 4;
    pub const REQUEST_REJECTED: u8 = 5;
    pub const LOCK_TIMEOUT: u8 = 6;
    pub const INVALID_FILE: u8 = 7;
    pub const NOT_FOUND: u8 = 8;
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

    pub fn usage(message: impl Into<String>) -> Self {
        Error::Usage(message.into())
    }

    pub fn schema(
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
