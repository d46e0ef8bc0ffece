//! rotor: a command-line tool and state manager for Hermes-compatible credential pools.
//!
//! The binary only parses arguments and maps the result of [`run`] to an exit code; everything
//! else lives here so tests and benchmarks can use it.

pub mod cli;
pub mod commands;
pub mod config;
pub mod docs;
pub mod driver;
pub mod engine;
pub mod error;
pub mod events;
pub mod http;
pub mod output;
pub mod pool;
pub mod probe;
pub mod providers;
pub mod refresh;
pub mod report;
pub mod sanitize;
pub mod selector;
pub mod simulate;
pub mod store;
pub mod time;
pub mod units;

use cli::{Cli, Command, CooldownCommand, ProfilesCommand};
use commands::Context;
pub use error::{Error, Result};

/// Runs one parsed command line.
pub fn run(cli: Cli) -> Result<()> {
    let ctx = Context::from_args(&cli.global)?;
    match &cli.command {
        Command::Profiles(ProfilesCommand::List(args)) => commands::profiles::list(&ctx, args),
        Command::Profiles(ProfilesCommand::Probe(args)) => commands::probe::run(&ctx, args),
        Command::Cooldown(CooldownCommand::Set(args)) => commands::cooldown::set(&ctx, args),
        Command::Cooldown(CooldownCommand::Clear(args)) => commands::cooldown::clear(&ctx, args),
        Command::Simulate(args) => commands::simulate::run(&ctx, args),
        Command::Call(args) => commands::call::run(&ctx, args),
    }
}

/// Prints an error as `rotor: message: cause: cause` on stderr.
pub fn print_error(error: &Error) {
    let mut text = format!("rotor: {error}");
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        text.push_str(&format!(": {cause}"));
        source = cause.source();
    }
    commands::eprint_line(&text);
}
