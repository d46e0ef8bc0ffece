//! One thin handler per subcommand: settings in, a domain call, a report out.

pub(crate) mod call;
pub(crate) mod cooldown;
pub(crate) mod probe;
pub(crate) mod profiles;
pub(crate) mod serve;
pub(crate) mod simulate;
pub(crate) mod sync;

use crate::cli::config::Config;
use crate::cli::selector;
use crate::cli::{ColorChoice, GlobalArgs, PolicyArgs, TraceArgs};
use crate::engine::Policy;
use crate::error::{Error, Result};
use crate::pool::Profile;
use crate::pool::Strategy;
use crate::render::Style;
use crate::store::{self, AuthStore, Document};
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// The longest `--lock-timeout`: a day. Hermes itself gives up after 15 seconds.
const MAX_LOCK_TIMEOUT_S: f64 = 86_400.0;

/// What every command gets from the global flags, validated.
#[derive(Debug)]
pub(crate) struct Context {
    pub store: AuthStore,
    pub config_path: Option<PathBuf>,
    pub style: Style,
    pub quiet: bool,
    pub verbose: bool,
}

impl Context {
    pub(crate) fn from_args(args: &GlobalArgs) -> Result<Self> {
        if !(args.lock_timeout.is_finite()
            && (0.0..=MAX_LOCK_TIMEOUT_S).contains(&args.lock_timeout))
        {
            return Err(Error::usage(format!(
                "invalid --lock-timeout `{}`: expected seconds from 0 to {MAX_LOCK_TIMEOUT_S}",
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
        let timeout = Duration::from_secs_f64(args.lock_timeout);
        let mut store = AuthStore::new(path, timeout).with_options(store::ReadOptions {
            rules: args.hermes,
            env: store::EnvLookup::Process,
        });
        if args.share_tokens && args.state.is_none() {
            return Err(Error::usage(
                "--share-tokens needs --state (the fleet's Redis)",
            ));
        }
        if let Some(url) = &args.state {
            let url = crate::fleet::StateUrl::parse(url)?;
            let host = crate::fleet::host_name(args.host.as_deref())?;
            let quiet = args.quiet;
            let warn: crate::fleet::Notice = Arc::new(move |text| {
                if !quiet {
                    eprint_line(&format!("rotor: warning: {text}"));
                }
            });
            store = store.with_fleet(crate::fleet::Fleet::new(
                url,
                host,
                args.share_tokens,
                warn,
            )?);
        }
        if !args.quiet {
            store = store.with_wait_notice(Arc::new(move |lock| {
                eprint_line(&format!(
                    "rotor: waiting for the lock on {} (held by another process; up to {}s)",
                    lock.display(),
                    timeout.as_secs_f64()
                ));
            }));
        }
        let ctx = Context {
            store,
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
    pub(crate) fn config(&self) -> Result<Config> {
        let default = store::hermes_home().join("config.yaml");
        let config = Config::load(self.config_path.as_deref(), &default)?;
        match (&self.config_path, default.exists()) {
            (Some(path), _) => self.note(&format!("config {}", path.display())),
            (None, true) => self.note(&format!("config {}", default.display())),
            (None, false) => self.note(&format!(
                "config {} (not found: every provider uses fill_first)",
                default.display()
            )),
        }
        for warning in &config.warnings {
            self.warn(warning);
        }
        Ok(config)
    }

    /// Reads auth.json (without locking) and passes on what is odd about it.
    pub(crate) fn load(&self) -> Result<Document> {
        let doc = self.store.load()?;
        for warning in doc.warnings() {
            self.warn(warning);
        }
        Ok(doc)
    }

    /// A line on stderr with `-v` only.
    pub(crate) fn note(&self, text: &str) {
        if self.verbose {
            eprint_line(&format!("rotor: {text}"));
        }
    }

    /// A line on stderr unless `-q`.
    pub(crate) fn warn(&self, text: &str) {
        if !self.quiet {
            eprint_line(&format!("rotor: warning: {text}"));
        }
    }
}

/// Writes one line to stderr. A closed or broken stderr is not an error: a diagnostic that
/// cannot be shown must not change what the command does or how it exits (`eprintln!` would
/// panic, and exit 101).
///
/// Every line is sanitised here, once for all: messages name providers, ids and JSON paths
/// taken from files, which may carry escape sequences.
pub(crate) fn eprint_line(text: &str) {
    let line = crate::sanitize::cell(text);
    let mut err = std::io::stderr().lock();
    let _ = err
        .write_all(line.as_bytes())
        .and_then(|()| err.write_all(b"\n"));
}

/// A DURATION flag that must be more than zero.
pub(crate) fn positive_duration(flag: &str, text: &str) -> Result<f64> {
    let seconds =
        crate::time::parse_duration(text).map_err(|e| Error::usage(format!("--{flag}: {e}")))?;
    if seconds <= 0.0 {
        return Err(Error::usage(format!("--{flag} must be more than 0s")));
    }
    Ok(seconds)
}

/// A URL flag rotor will send credentials to (`--base-url`): https, or http to loopback.
pub(crate) fn credential_url(flag: &str, url: Option<&str>) -> Result<Option<String>> {
    url.map(|url| {
        crate::upstream::http::check_credential_url(url)
            .map(|_| url.trim().to_string())
            .map_err(|why| Error::usage(format!("--{flag}: {why}")))
    })
    .transpose()
}

/// `--token-url`, checked like `--base-url`, else the Codex token endpoint.
pub(crate) fn token_url(url: Option<&str>) -> Result<String> {
    Ok(credential_url("token-url", url)?
        .unwrap_or_else(|| crate::providers::CODEX_TOKEN_URL.to_string()))
}

/// The checked policy flags of one request (`call`, and each request of `serve`).
#[derive(Debug)]
pub(crate) struct RequestSettings {
    pub policy: Policy,
    pub timeout: Duration,
    pub max_output: u64,
    pub base_url: Option<String>,
    pub token_url: String,
}

impl RequestSettings {
    pub(crate) fn from_args(args: &PolicyArgs, strategy: Strategy) -> Result<Self> {
        let duration = |flag: &str, text: &str| {
            crate::time::parse_duration(text).map_err(|e| Error::usage(format!("--{flag}: {e}")))
        };
        let policy = Policy {
            strategy,
            attempts_per_profile: args.attempts,
            max_profiles: args.max_profiles.map(|n| n as usize),
            max_wait_s: duration("max-wait", &args.max_wait)?,
            deadline_s: args
                .deadline
                .as_deref()
                .map(|d| positive_duration("deadline", d))
                .transpose()?,
            max_cooldown_s: positive_duration("max-cooldown", &args.max_cooldown)?,
            ..Policy::default()
        };
        Ok(RequestSettings {
            policy,
            timeout: Duration::from_secs_f64(positive_duration("timeout", &args.timeout)?),
            max_output: crate::cli::units::parse_size(&args.max_output)
                .map_err(|e| Error::usage(format!("--max-output: {e}")))?,
            base_url: credential_url("base-url", args.base_url.as_deref())?,
            token_url: token_url(args.token_url.as_deref())?,
        })
    }
}

/// `--trace-file`, opened for appending (announced with `-v`).
pub(crate) fn trace_file(ctx: &Context, args: &TraceArgs) -> Result<Option<std::fs::File>> {
    let Some(path) = &args.trace_file else {
        return Ok(None);
    };
    ctx.note(&format!("trace file {}", path.display()));
    open_trace_file(path, ctx.store.path()).map(Some)
}

/// Opens `--trace-file` for appending. It may not be auth.json or auth.lock (appending there
/// would leave invalid JSON, which Hermes then treats as empty, erasing every credential on
/// its next save), nor anything but a regular file (a FIFO would block, a device would take
/// the trace somewhere else).
fn open_trace_file(path: &Path, auth: &Path) -> Result<std::fs::File> {
    use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
    let refused = |why: String| Error::usage(format!("--trace-file {}: {why}", path.display()));
    let identity = |p: &Path| std::fs::metadata(p).ok().map(|m| (m.dev(), m.ino()));
    let protected = [
        (auth.to_path_buf(), "auth.json"),
        (store::lock_path_for(auth), "its lock file"),
    ];
    let same_name = |a: &Path, b: &Path| {
        let canonical = |p: &Path| {
            let parent = p
                .parent()
                .filter(|d| !d.as_os_str().is_empty())
                .unwrap_or(Path::new("."));
            std::fs::canonicalize(parent)
                .ok()
                .map(|d| d.join(p.file_name().unwrap_or_default()))
        };
        canonical(a).is_some() && canonical(a) == canonical(b)
    };
    for (file, what) in &protected {
        let same_inode = identity(path).is_some() && identity(path) == identity(file);
        if same_inode || same_name(path, file) {
            return Err(refused(format!(
                "that is {what}; the trace goes to a file of its own"
            )));
        }
    }
    if let Ok(meta) = std::fs::metadata(path)
        && !meta.is_file()
    {
        return Err(refused("not a regular file".into()));
    }
    let file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o600)
        .custom_flags(libc::O_NONBLOCK | libc::O_CLOEXEC)
        .open(path)
        .map_err(|source| Error::Write {
            path: path.to_path_buf(),
            source,
        })?;
    // Checked again on what was opened: the path may have changed since.
    let meta = file.metadata().map_err(|source| Error::Write {
        path: path.to_path_buf(),
        source,
    })?;
    let opened = Some((meta.dev(), meta.ino()));
    if !meta.is_file() || protected.iter().any(|(f, _)| identity(f) == opened) {
        return Err(refused("not a regular file of its own".into()));
    }
    Ok(file)
}

/// Writes to stdout. A closed pipe (`rotor ... | head`) is not an error: rotor just stops
/// talking.
pub(crate) fn print(text: &str) -> Result<()> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(stdout_error(e)),
        _ => Ok(()),
    }
}

/// Standard output for a report that may be large (`simulate` of a long scenario), written as
/// it is produced through a buffer instead of being held whole in memory. Like [`print`], it
/// treats a closed pipe (`rotor simulate | head`) as the reader having seen enough: the rest
/// is dropped quietly and the command ends as it would have.
pub(crate) struct StdoutStream {
    out: Option<std::io::BufWriter<std::io::Stdout>>,
}

impl StdoutStream {
    pub(crate) fn new() -> Self {
        StdoutStream {
            out: Some(std::io::BufWriter::with_capacity(
                64 * 1024,
                std::io::stdout(),
            )),
        }
    }

    /// Writes what is still buffered.
    pub(crate) fn finish(mut self) -> Result<()> {
        self.flush().map_err(stdout_error)
    }

    fn quiet<T>(&mut self, result: std::io::Result<T>, closed: T) -> std::io::Result<T> {
        match result {
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {
                // Dropping the BufWriter would try to flush into the closed pipe again.
                if let Some(out) = self.out.take() {
                    let _ = out.into_parts();
                }
                Ok(closed)
            }
            other => other,
        }
    }
}

impl Default for StdoutStream {
    fn default() -> Self {
        Self::new()
    }
}

impl Write for StdoutStream {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let Some(out) = &mut self.out else {
            return Ok(buf.len());
        };
        let result = out.write(buf);
        self.quiet(result, buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        let Some(out) = &mut self.out else {
            return Ok(());
        };
        let result = out.flush();
        self.quiet(result, ())
    }
}

/// The error of a failed write to stdout, as [`print`] reports it.
pub(crate) fn stdout_error(e: std::io::Error) -> Error {
    Error::Internal(format!("cannot write to stdout: {e}"))
}

/// The profiles a selector may name: those of `provider` if given (which must exist), else
/// every provider's.
pub(crate) fn selectable_profiles(doc: &Document, provider: Option<&str>) -> Result<Vec<Profile>> {
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
