//! rotor's one integration test binary: the CLI contract (exit codes, files, output) exercised
//! through the real binary, with a hermetic environment per test.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod call;
mod clients;
mod common;
mod contention;
mod cooldown;
mod crash;
mod docs;
mod fake;
mod faults;
mod fleet;
mod footguns;
mod gateway;
mod help;
mod hostile;
mod hostile_server;
mod lock;
mod newcomer;
mod newer;
mod ownership;
mod probe;
mod profiles;
mod sdk;
mod secrets;
mod serve;
mod serve_load;
mod simulate;
mod syscalls;
mod worker;
