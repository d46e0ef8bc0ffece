//! rotor: a command-line tool and state manager for Hermes-compatible credential pools.

pub mod error;
pub mod pool;
pub mod time;
pub mod cli;
pub mod store;
