//! rotor: a command-line tool and state manager for Hermes-compatible credential pools.

pub mod cli;
pub mod engine;
pub mod error;
pub mod events;
pub mod pool;
pub mod sanitize;
pub mod time;
