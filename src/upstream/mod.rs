//! The upstream half of rotor: everything that talks to a provider over the network, and the
//! ports that let the engine's drive loop do so.
//!
//! - [`http`]: the transport (reqwest over rustls; no redirects; where credentials may go);
//! - [`call`]: the ports of `rotor call` (HTTP, the wall clock, auth.json) and its attempt;
//! - [`refresh`]: OAuth token refresh, single-flight across processes;
//! - [`probe`]: `profiles probe`'s requests and verdicts.

pub mod call;
pub mod http;
pub mod probe;
pub mod refresh;
