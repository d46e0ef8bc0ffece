//! The upstream half of rotor: everything that talks to a provider over the network, and the
//! ports that let the engine's drive loop do so.
//!
//! - [`http`]: the transport (reqwest over rustls; no redirects; where credentials may go);
//! - [`call`]: the ports of `rotor call` (HTTP, the wall clock, auth.json) and its attempt;
//! - [`refresh`]: OAuth token refresh, single-flight across processes;
//! - [`probe`]: `profiles probe`'s requests and verdicts.

pub(crate) mod call;
pub(crate) mod http;
pub(crate) mod probe;
pub(crate) mod refresh;

use crate::error::{Error, Result};

/// Runs `work` (a file or lock operation) on tokio's blocking pool: no async worker ever waits
/// on a lock or a disk.
pub(crate) async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T> + Send + 'static,
) -> Result<T> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| Error::Internal(format!("a file operation did not finish: {e}")))?
}
