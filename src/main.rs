use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = rotor::cli::Cli::parse();
    match rotor::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            rotor::print_error(&error);
            ExitCode::from(error.exit_code())
        }
    }
}
