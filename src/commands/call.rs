//! `rotor call`: one request through the rotation engine, with real HTTP and auth.json.

use super::{Context, print};
use crate::cli::{CallArgs, CallFormat, TraceFormat, selector};
use crate::drive::{Discard, Sink};
use crate::engine::Policy;
use crate::engine::events::Event;
use crate::error::{Error, Result};
use crate::pool::Profile;
use crate::providers::{self, Prompt};
use crate::render::events::{Human, JsonLines};
use crate::sanitize::TerminalFilter;
use crate::store::{self, Document};
use crate::time;
use crate::upstream::call::{self, AnswerSink, CallPlan};
use crate::upstream::http::{AttemptLimits, Transport};
use std::io::{IsTerminal, Read, Write};
use std::path::Path;
use std::time::Duration;

pub(crate) fn run(ctx: &Context, args: &CallArgs) -> Result<()> {
    let duration = |flag: &str, text: &str| {
        time::parse_duration(text).map_err(|e| Error::usage(format!("--{flag}: {e}")))
    };
    let timeout = super::positive_duration("timeout", &args.timeout)?;
    let max_output = crate::cli::units::parse_size(&args.max_output)
        .map_err(|e| Error::usage(format!("--max-output: {e}")))?;
    let base_url = super::credential_url("base-url", args.base_url.as_deref())?;
    let token_url = super::token_url(args.token_url.as_deref())?;
    let doc = ctx.load()?;
    let provider = choose_provider(&doc, args.provider.as_deref())?;
    let config = ctx.config()?;
    let plan = CallPlan {
        request_id: uuid::Uuid::new_v4().to_string(),
        prompt: Prompt {
            model: match args
                .model
                .clone()
                .or_else(|| providers::default_model(&provider).map(str::to_owned))
            {
                Some(model) => model,
                None => {
                    return Err(Error::usage(format!(
                        "--model is required for provider {provider}"
                    )));
                }
            },
            system: args.system.clone(),
            text: read_prompt(args.prompt.as_deref())?,
        },
        policy: Policy {
            strategy: args
                .selection
                .strategy
                .unwrap_or_else(|| config.strategy_for(&provider)),
            attempts_per_profile: args.attempts,
            max_profiles: args.max_profiles.map(|n| n as usize),
            max_wait_s: duration("max-wait", &args.max_wait)?,
            deadline_s: args
                .deadline
                .as_deref()
                .map(|d| super::positive_duration("deadline", d))
                .transpose()?,
            max_cooldown_s: super::positive_duration("max-cooldown", &args.max_cooldown)?,
            ..Policy::default()
        },
        seed: args.selection.seed.unwrap_or_else(|| fastrand::u64(..)),
        base_url,
        token_url,
        timeout: Duration::from_secs_f64(timeout),
        limits: AttemptLimits {
            max_output,
            keep_text: args.format == CallFormat::Json,
        },
        provider,
    };
    let transport = Transport::new(plan.timeout).map_err(Error::Internal)?;
    let mut sink = TraceSink::open(ctx, args)?;
    let mut answer = StdoutAnswer::new(args.format == CallFormat::Text, args.raw);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::Internal(format!("cannot start the async runtime: {e}")))?;
    let result = runtime.block_on(call::call(
        &ctx.store,
        &transport,
        &plan,
        &mut sink,
        &mut answer,
    ))?;
    if let (CallFormat::Json, Some(response)) = (args.format, &result.response) {
        print(&crate::render::json(response))?;
    }
    crate::error::request_result(&result.end, &plan.provider)
}

/// The answer on stdout, as it streams. On a terminal, escape sequences and control
/// characters are neutralised (unless `--raw`); a pipe gets the bytes as sent. Either way the
/// answer ends with a newline before the next trace line.
struct StdoutAnswer {
    enabled: bool,
    filter: Option<TerminalFilter>,
    at_line_start: bool,
}

impl StdoutAnswer {
    fn new(enabled: bool, raw: bool) -> Self {
        let terminal = std::io::stdout().is_terminal();
        StdoutAnswer {
            enabled,
            filter: (terminal && !raw).then(TerminalFilter::new),
            at_line_start: true,
        }
    }

    fn write(&mut self, text: &str) {
        if text.is_empty() {
            return;
        }
        let mut out = std::io::stdout().lock();
        // A closed stdout must not turn into a retry: the answer keeps being read.
        let _ = out.write_all(text.as_bytes()).and_then(|()| out.flush());
        self.at_line_start = text.ends_with('\n');
    }
}

impl AnswerSink for StdoutAnswer {
    fn text(&mut self, text: &str) {
        if !self.enabled {
            return;
        }
        match &mut self.filter {
            Some(filter) => {
                let shown = filter.filter(text);
                self.write(&shown);
            }
            None => self.write(text),
        }
    }

    fn end(&mut self) {
        if !self.enabled {
            return;
        }
        if let Some(filter) = &mut self.filter {
            let rest = filter.finish();
            self.write(&rest);
        }
        if !self.at_line_start {
            self.write("\n");
        }
    }
}

/// `--provider`, else auth.json's `active_provider` when it has a pool, else the only provider.
fn choose_provider(doc: &Document, wanted: Option<&str>) -> Result<String> {
    let known = doc.providers();
    if let Some(provider) = wanted {
        selector::check_provider(provider, &known)?;
        return Ok(provider.to_string());
    }
    if let Some(active) = doc.active_provider().filter(|a| known.contains(a)) {
        return Ok(active.to_string());
    }
    match known.as_slice() {
        [only] => Ok((*only).to_string()),
        [] => Err(Error::NotFound("auth.json has no credential pool".into())),
        many => Err(Error::usage(format!(
            "several providers and no active_provider: pass --provider ({})",
            many.join(", ")
        ))),
    }
}

/// The prompt argument, or stdin for `-` or no argument (not from a terminal: that would hang
/// silently waiting for input the user did not know was wanted).
fn read_prompt(arg: Option<&str>) -> Result<String> {
    match arg {
        Some(text) if text != "-" => Ok(text.to_string()),
        _ => {
            let stdin = std::io::stdin();
            if arg.is_none() && stdin.is_terminal() {
                return Err(Error::usage(
                    "no prompt: pass PROMPT, or `-` to read it from stdin",
                ));
            }
            let mut text = String::new();
            stdin
                .lock()
                .read_to_string(&mut text)
                .map_err(|e| Error::usage(format!("cannot read the prompt from stdin: {e}")))?;
            if text.trim().is_empty() {
                return Err(Error::usage("the prompt is empty"));
            }
            Ok(text)
        }
    }
}

/// `--trace` on stderr plus, with `--trace-file`, JSON Lines appended to a file.
struct TraceSink {
    stderr: Box<dyn Sink>,
    file: Option<JsonLines<std::fs::File>>,
}

impl TraceSink {
    fn open(ctx: &Context, args: &CallArgs) -> Result<Self> {
        let stderr: Box<dyn Sink> = match args.trace {
            TraceFormat::Human => Box::new(Human(std::io::stderr())),
            TraceFormat::Json => Box::new(JsonLines::new(std::io::stderr())),
            TraceFormat::Off => Box::new(Discard),
        };
        let file = match &args.trace_file {
            Some(path) => {
                ctx.note(&format!("trace file {}", path.display()));
                Some(JsonLines::new(open_trace_file(path, ctx.store.path())?))
            }
            None => None,
        };
        Ok(TraceSink { stderr, file })
    }
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

impl Sink for TraceSink {
    fn emit(&mut self, event: &Event, profiles: &[Profile]) -> std::io::Result<()> {
        // A broken stderr must not fail the request; the trace file is the durable record.
        let _ = self.stderr.emit(event, profiles);
        match &mut self.file {
            Some(file) => file.emit(event, profiles),
            None => Ok(()),
        }
    }
}
