//! rotor: a command-line tool and state manager for Hermes-compatible credential pools.
//!
//! The binary only parses arguments and maps the result of [`run`] to an exit code; everything
//! else lives here. The layers (ARCHITECTURE.md has the picture):
//!
//! - [`cli`]: the command line (clap types, selectors, config.yaml, sizes, generated docs);
//!   `commands`: one thin handler per subcommand;
//! - [`engine`]: the pure rotation engine (classification, the state machine, the one write
//!   vocabulary, event types); [`drive`]: the one loop every driver runs it with;
//! - [`pool`]: profiles and Hermes's availability rules; [`store`]: auth.json, its lock, atomic
//!   writes, the status-persistence trait; [`providers`]: what rotor knows of each API;
//! - `upstream`: the network half (transport, call's ports, refresh, probe); [`simulate`]: the
//!   scripted ports; `render`: tables, JSON, Prometheus, trace lines; [`sanitize`]: untrusted
//!   text (redaction, terminals).

pub mod cli;
mod commands;
pub mod drive;
pub mod engine;
mod error;
pub mod fleet;
pub mod pool;
pub mod providers;
pub mod render;
pub mod sanitize;
mod serve;
pub mod simulate;
pub mod store;
pub mod time;
mod upstream;

use cli::{Cli, Command, CooldownCommand, ProfilesCommand};
use commands::Context;
pub use error::{Error, Result, exit};

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
        Command::Serve(args) => commands::serve::run(&ctx, args),
        Command::Sync(args) => commands::sync::run(&ctx, args),
    }
}

/// Prints an error as `rotor: message: cause: cause` on stderr.
pub fn print_error(error: &Error) {
    commands::eprint_line(&format!("rotor: {}", error::describe(error)));
}
