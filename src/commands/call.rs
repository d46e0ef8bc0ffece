//! `rotor call`: one request through the rotation engine, with real HTTP and auth.json.

use super::{Context, print};
use crate::cli::{CallArgs, CallFormat, TraceFormat};
use crate::driver::{self, CallPlan};
use crate::engine::Policy;
use crate::error::{Error, Result};
use crate::events::{Discard, Human, JsonLines, Sink};
use crate::http::Transport;
use crate::output;
use crate::pool::Profile;
use crate::providers::{self, Prompt};
use crate::refresh::CODEX_TOKEN_URL;
use crate::selector;
use crate::store::Document;
use crate::time;
use std::io::{IsTerminal, Read, Write};
use std::time::Duration;

pub fn run(ctx: &Context, args: &CallArgs) -> Result<()> {
    let doc = ctx.store.load()?;
    let provider = choose_provider(&doc, args.provider.as_deref())?;
    let config = ctx.config()?;
    let duration = |flag: &str, text: &str| {
        time::parse_duration(text).map_err(|e| Error::usage(format!("--{flag}: {e}")))
    };
    let timeout = duration("timeout", &args.timeout)?;
    if timeout <= 0.0 {
        return Err(Error::usage("--timeout must be more than 0s"));
    }
    let plan = CallPlan {
        request_id: driver::new_id(),
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
                .map(|d| duration("deadline", d))
                .transpose()?,
            ..Policy::default()
        },
        seed: args.selection.seed.unwrap_or_else(driver::random_seed),
        base_url: args.base_url.clone(),
        token_url: args
            .token_url
            .clone()
            .unwrap_or_else(|| CODEX_TOKEN_URL.to_string()),
        timeout: Duration::from_secs_f64(timeout),
        provider,
    };
    let transport = Transport::new(plan.timeout).map_err(Error::Internal)?;
    let mut sink = TraceSink::open(args)?;
    let stream_text = args.format == CallFormat::Text;
    let mut printed_newline = true;
    let mut on_text = |text: &str| {
        if stream_text {
            let mut out = std::io::stdout().lock();
            // A closed stdout must not turn into a retry: the answer keeps being read.
            let _ = out.write_all(text.as_bytes()).and_then(|()| out.flush());
            printed_newline = text.ends_with('\n');
        }
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::Internal(format!("cannot start the async runtime: {e}")))?;
    let result = runtime.block_on(driver::call(
        &ctx.store,
        &transport,
        &plan,
        &mut sink,
        &mut on_text,
    ))?;
    if stream_text && !printed_newline {
        print("\n")?;
    }
    if let (CallFormat::Json, Some(response)) = (args.format, &result.response) {
        print(&output::json(response))?;
    }
    result.end.into_result(&plan.provider)
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
    fn open(args: &CallArgs) -> Result<Self> {
        let stderr: Box<dyn Sink> = match args.trace {
            TraceFormat::Human => Box::new(Human(std::io::stderr())),
            TraceFormat::Json => Box::new(JsonLines(std::io::stderr())),
            TraceFormat::Off => Box::new(Discard),
        };
        let file = match &args.trace_file {
            Some(path) => {
                use std::os::unix::fs::OpenOptionsExt;
                let file = std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .mode(0o600)
                    .open(path)
                    .map_err(|source| Error::Write {
                        path: path.clone(),
                        source,
                    })?;
                Some(JsonLines(file))
            }
            None => None,
        };
        Ok(TraceSink { stderr, file })
    }
}

impl Sink for TraceSink {
    fn emit(&mut self, event: &crate::events::Event, profiles: &[Profile]) -> std::io::Result<()> {
        // A broken stderr must not fail the request; the trace file is the durable record.
        let _ = self.stderr.emit(event, profiles);
        match &mut self.file {
            Some(file) => file.emit(event, profiles),
            None => Ok(()),
        }
    }
}
