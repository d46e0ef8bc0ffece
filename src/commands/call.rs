//! `rotor call`: one request through the rotation engine, with real HTTP and auth.json.

use super::{Context, print};
use crate::cli::{CallArgs, CallFormat, TraceFormat, selector};
use crate::drive::{Discard, Sink};
use crate::engine::events::Event;
use crate::error::{Error, Result};
use crate::pool::Profile;
use crate::providers::{self, Prompt};
use crate::render::events::{Human, JsonLines};
use crate::sanitize::TerminalFilter;
use crate::store::Document;
use crate::upstream::call::{self, AnswerSink, CallPlan};
use crate::upstream::http::{AttemptLimits, Transport};
use std::io::{IsTerminal, Read, Write};

pub(crate) fn run(ctx: &Context, args: &CallArgs) -> Result<()> {
    let doc = ctx.load()?;
    let provider = choose_provider(&doc, args.provider.as_deref())?;
    let config = ctx.config()?;
    let strategy = args
        .selection
        .strategy
        .unwrap_or_else(|| config.strategy_for(&provider));
    let settings = super::RequestSettings::from_args(&args.policy, strategy)?;
    let model = match args
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
    };
    // It may become a key of model_cooldowns: one bounded line.
    super::profiles::check_model(&model)?;
    let plan = CallPlan {
        request_id: uuid::Uuid::new_v4().to_string(),
        prompt: Prompt {
            model,
            system: args.system.clone(),
            text: read_prompt(args.prompt.as_deref())?,
        },
        policy: settings.policy,
        seed: args.selection.seed.unwrap_or_else(|| fastrand::u64(..)),
        base_url: settings.base_url,
        token_url: settings.token_url,
        timeout: settings.timeout,
        limits: AttemptLimits {
            max_output: settings.max_output,
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
        let stderr: Box<dyn Sink> = match args.trace.trace {
            TraceFormat::Human => Box::new(Human(std::io::stderr())),
            TraceFormat::Json => Box::new(JsonLines::new(std::io::stderr())),
            TraceFormat::Off => Box::new(Discard),
        };
        let file = super::trace_file(ctx, &args.trace)?.map(JsonLines::new);
        Ok(TraceSink { stderr, file })
    }
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
