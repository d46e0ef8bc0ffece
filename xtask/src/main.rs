//! rotor's developer tasks, run as `cargo xtask TASK` (an alias in .cargo/config.toml), so the
//! shipped binary carries no developer commands.
//!
//! - `docs`: regenerate completions/ and man/ from the clap definitions;
//! - `docs --check`: fail when the committed files drift from the CLI (CI runs this).

use clap::CommandFactory;
use std::path::Path;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let check = match args.as_slice() {
        ["docs"] => false,
        ["docs", "--check"] => true,
        _ => {
            eprintln!("usage: cargo xtask docs [--check]");
            return ExitCode::from(2);
        }
    };
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives in the project root");
    match rotor::cli::docs::run(&rotor::cli::Cli::command(), root, check) {
        Ok(()) if check => {
            println!("completions/ and man/ match the CLI");
            ExitCode::SUCCESS
        }
        Ok(()) => {
            println!("wrote completions/ and man/");
            ExitCode::SUCCESS
        }
        Err(error) => {
            rotor::print_error(&error);
            ExitCode::FAILURE
        }
    }
}
