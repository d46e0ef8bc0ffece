//! One thin handler per subcommand: settings in, a domain call, a report out.

pub mod call;
pub mod cooldown;
pub mod probe;
pub mod profiles;
pub mod simulate;

use crate::cli::{ColorChoice, GlobalArgs};
use crate::config::Config;
use crate::error::{Error, Result};
use crate::output::Style;
use crate::pool::Profile;
use crate::selector;
use crate::store::{self, AuthStore, Document};
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::time::Duration;

/// What every command gets from the global flags, validated.
#[derive(Debug)]
pub struct Context {
    pub store: AuthStore,
    pub config_path: Option<PathBuf>,
    pub style: Style,
    pub quiet: bool,
    pub verbose: bool,
}

impl Context {
    pub fn from_args(args: &GlobalArgs) -> Result<Self> {
        if !(args.lock_timeout.is_finite() && args.lock_timeout >= 0.0) {
            return Err(Error::usage(format!(
                "invalid --lock-timeout `{}`: expected a number of seconds ≥ 0",
                args.lock_timeout
            )));
        }
        let path = args
            .auth_file
            .clone()
            .unwrap_or_else(store::default_auth_file);
        let color = match args.color {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => {
                std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                    && std::io::stdout().is_terminal()
            }
        };
        let ctx = Context {
            store: AuthStore::new(path, Duration::from_secs_f64(args.lock_timeout), args.quiet),
            config_path: args.config.clone(),
            style: Style { color },
            quiet: args.quiet,
            verbose: args.verbose,
        };
        ctx.note(&format!(
            "auth file {} (lock {})",
            ctx.store.path().display(),
            store::lock_path_for(ctx.store.path()).display()
        ));
        Ok(ctx)
    }

    /// Loads config.yaml and passes on its warnings.
    pub fn config(&self) -> Result<Config> {
        let config = Config::load(
            self.config_path.as_deref(),
            &store::hermes_home().join("config.yaml"),
        )?;
        for warning in &config.warnings {
            self.warn(warning);
        }
        Ok(config)
    }

    /// A line on stderr with `-v` only.
    pub fn note(&self, text: &str) {
        if self.verbose {
            eprintln!("rotor: {text}");
        }
    }

    /// A line on stderr unless `-q`.
    pub fn warn(&self, text: &str) {
        if !self.quiet {
            eprintln!("rotor: warning: {text}");
        }
    }
}

/// Writes to stdout. A closed pipe (`rotor ... | head`) is not an error: rotor just stops
/// talking.
pub fn print(text: &str) -> Result<()> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(Error::Internal(format!("cannot write to stdout: {e}")))
        }
        _ => Ok(()),
    }
}

/// The profiles a selector may name: those of `provider` if given (which must exist), else
/// every provider's.
pub fn selectable_profiles(doc: &Document, provider: Option<&str>) -> Result<Vec<Profile>> {
    let providers = doc.providers();
    match provider {
        Some(provider) => {
            selector::check_provider(provider, &providers)?;
            Ok(doc.profiles(provider).unwrap_or_default())
        }
        None => Ok(providers
            .iter()
            .flat_map(|p| doc.profiles(p).unwrap_or_default())
            .collect()),
    }
}
