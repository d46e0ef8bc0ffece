//! The command line: clap derive types (parsing only: commands validate what they take into
//! their own settings, so this stays a plain description of the surface, and the source of the
//! completions and man pages), and what reads the operator's words: profile selectors,
//! config.yaml, sizes, and the generated docs.

pub(crate) mod config;
pub mod docs;
pub(crate) mod selector;
pub(crate) mod units;

use crate::pool::Strategy;
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(
    name = "rotor",
    version,
    about = "See, change and exercise the health of Hermes credential pools",
    long_about = "rotor reads and safely updates the credential pools in a Hermes auth.json \
                  (several profiles per provider), shows which profile is healthy, cooling or \
                  dead, and runs requests through a rotation engine that moves to the next \
                  healthy profile within the same request.",
    after_help = "Exit codes: 0 ok, 1 internal error, 2 usage, 3 pool exhausted, 4 upstream \
                  unavailable, 5 request rejected, 6 lock timeout, 7 invalid or unreadable file, \
                  8 no such provider or profile."
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args)]
#[command(next_help_heading = "Global options")]
pub struct GlobalArgs {
    /// The auth.json to use [default: $HERMES_HOME/auth.json, else ~/.hermes/auth.json]
    #[arg(
        long,
        global = true,
        value_name = "PATH",
        env = "ROTOR_AUTH_FILE",
        hide_env_values = true
    )]
    pub auth_file: Option<PathBuf>,

    /// The Hermes config.yaml holding credential_pool_strategies [default: $HERMES_HOME/config.yaml]
    #[arg(long, global = true, value_name = "PATH")]
    pub config: Option<PathBuf>,

    /// Seconds to wait for auth.lock before giving up (exit 6); at most 86400
    #[arg(long, global = true, value_name = "SECS", default_value_t = 15.0)]
    pub lock_timeout: f64,

    /// When to use colors (NO_COLOR is honoured by `auto`)
    #[arg(long, global = true, value_name = "WHEN", default_value = "auto")]
    pub color: ColorChoice,

    /// Print nothing but results and errors
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,

    /// Print more about what rotor does (every file it uses: auth.json, lock, config.yaml, trace)
    #[arg(short, long, global = true)]
    pub verbose: bool,

    /// Which Hermes's rules auth.json follows: 0.19, or main (a gateway run from a git
    /// checkout) [default: told from the file: model_cooldowns or failure_reason mean main]
    #[arg(long, global = true, value_name = "RULES", env = "ROTOR_HERMES")]
    pub hermes: Option<crate::pool::HermesRules>,

    /// Share profile status with other hosts through Redis:
    /// redis://[user:password@]host:port/db or rediss:// (TLS) [default: this host only]
    #[arg(
        long,
        global = true,
        value_name = "URL",
        env = "ROTOR_STATE",
        hide_env_values = true
    )]
    pub state: Option<String>,

    /// With --state, refresh OAuth tokens once for the whole fleet and share the new pair
    /// through Redis (refused over plain redis:// to another machine)
    #[arg(long, global = true, env = "ROTOR_SHARE_TOKENS", value_parser = clap::builder::BoolishValueParser::new(), num_args = 0, default_missing_value = "true", default_value = "false")]
    pub share_tokens: bool,

    /// The name this host's findings carry in the shared state [default: the system's host name]
    #[arg(long, global = true, value_name = "NAME", env = "ROTOR_HOST")]
    pub host: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// List profiles and their health
    #[command(subcommand)]
    Profiles(ProfilesCommand),

    /// Set or clear a profile's cooldown by hand, safely while Hermes runs
    #[command(subcommand)]
    Cooldown(CooldownCommand),

    /// Run the rotation engine on a scripted scenario, offline (virtual clock, no writes)
    Simulate(SimulateArgs),

    /// Send one request through the rotation engine, writing profile state back
    Call(CallArgs),

    /// Run a local gateway: clients' requests go through the rotation engine
    Serve(ServeArgs),

    /// Exchange profile status with the fleet's Redis (--state): push this host's, pull the others'
    Sync(SyncArgs),
}

#[derive(Debug, Args)]
pub struct SyncArgs {
    /// Keep syncing, every INTERVAL (like 10s), until stopped [default: once]
    #[arg(long, value_name = "INTERVAL")]
    pub watch: Option<String>,

    /// Output format (json: one object per sync)
    #[arg(long, value_name = "FORMAT", default_value = "table")]
    pub format: ReportFormat,
}

#[derive(Debug, Subcommand)]
pub enum ProfilesCommand {
    /// One row per profile: state, cooldown, last error, token expiry, next pick
    List(ListArgs),
    /// Ask the providers how each profile really is (no quota spent) and update the stored state
    Probe(ProbeArgs),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ListFormat {
    Table,
    Json,
    Prometheus,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    Table,
    Json,
}

#[derive(Debug, Args)]
pub struct ListArgs {
    /// Only this provider (repeatable) [default: every provider in the pool]
    #[arg(long, value_name = "P")]
    pub provider: Vec<String>,

    /// Output format
    #[arg(long, value_name = "FORMAT", default_value = "table")]
    pub format: ListFormat,

    /// Evaluate availability at this time instead of now (RFC 3339, @EPOCH, +DURATION)
    #[arg(long, value_name = "TIME")]
    pub at: Option<String>,

    /// Exit 3 when a listed provider has no available profile
    #[arg(long)]
    pub check: bool,

    /// Evaluate availability for requests for this model (newer Hermes's per-model
    /// cooldowns) [default: a request naming no model, which any model cooldown blocks]
    #[arg(long, value_name = "M")]
    pub model: Option<String>,

    #[command(flatten)]
    pub selection: SelectionArgs,
}

#[derive(Debug, Args)]
pub struct ProbeArgs {
    /// Profiles to probe (N, #N, PROVIDER#N, id, label or hash prefix) [default: all of --provider, else all]
    #[arg(value_name = "SELECTOR")]
    pub selectors: Vec<String>,

    /// Only this provider (repeatable)
    #[arg(long, value_name = "P")]
    pub provider: Vec<String>,

    /// Output format
    #[arg(long, value_name = "FORMAT", default_value = "table")]
    pub format: ListFormat,

    /// Probe this base URL instead of each profile's (proxies, tests)
    #[arg(long, value_name = "URL")]
    pub base_url: Option<String>,

    /// OAuth token endpoint for refreshes [default: https://auth.openai.com/oauth/token]
    #[arg(long, value_name = "URL")]
    pub token_url: Option<String>,

    /// Longest wait for one probe
    #[arg(long, value_name = "DURATION", default_value = "10s")]
    pub timeout: String,

    /// Profiles probed at the same time
    #[arg(long, value_name = "N", default_value_t = 4, value_parser = clap::value_parser!(u32).range(1..=64))]
    pub concurrency: u32,

    /// Longest cooldown stored from a provider's reset time; a later one is capped
    #[arg(long, value_name = "DURATION", default_value = "30d")]
    pub max_cooldown: String,

    #[command(flatten)]
    pub selection: SelectionArgs,
}

/// How the next profile is chosen; shared by every command that selects.
#[derive(Debug, Args)]
pub struct SelectionArgs {
    /// Selection strategy [default: from config.yaml credential_pool_strategies, else fill_first]
    #[arg(long, value_name = "STRATEGY")]
    pub strategy: Option<Strategy>,

    /// Seed for the random strategy, for repeatable picks
    #[arg(long, value_name = "N")]
    pub seed: Option<u64>,
}

#[derive(Debug, Subcommand)]
pub enum CooldownCommand {
    /// Put a profile in cooldown until a time or for a duration
    Set(CooldownSetArgs),
    /// Clear the cooldown of profiles so they are used again
    Clear(CooldownClearArgs),
}

#[derive(Debug, Args)]
pub struct CooldownSetArgs {
    /// The profile: N or #N (position), PROVIDER#N, entry id, label, or a profile-hash prefix (4+ hex)
    #[arg(value_name = "SELECTOR")]
    pub selector: String,

    /// Only look for the profile in this provider
    #[arg(long, value_name = "P")]
    pub provider: Option<String>,

    /// Cool until this time (RFC 3339, @EPOCH, +DURATION)
    #[arg(
        long,
        value_name = "TIME",
        required_unless_present = "for_",
        conflicts_with = "for_"
    )]
    pub until: Option<String>,

    /// Cool for this long from now (90s, 45m, 2h30m, 1d)
    #[arg(long = "for", id = "for_", value_name = "DURATION")]
    pub for_: Option<String>,

    /// Why; stored as last_error_message (one line, at most 200 characters, no email addresses)
    #[arg(long, value_name = "TEXT")]
    pub reason: Option<String>,

    /// Allow a cooldown longer than 30 days
    #[arg(long)]
    pub force: bool,

    /// Cool only this model on the profile, in newer Hermes's model_cooldowns (the account
    /// keeps serving other models); needs newer Hermes's rules
    #[arg(long, value_name = "M")]
    pub model: Option<String>,

    /// Output format
    #[arg(long, value_name = "FORMAT", default_value = "table")]
    pub format: ReportFormat,
}

#[derive(Debug, Args)]
pub struct CooldownClearArgs {
    /// Profiles to clear (same forms as `cooldown set`)
    #[arg(
        value_name = "SELECTOR",
        required_unless_present = "all",
        conflicts_with = "all"
    )]
    pub selectors: Vec<String>,

    /// Clear every cooling profile (of --provider, if given)
    #[arg(long)]
    pub all: bool,

    /// Only this provider
    #[arg(long, value_name = "P")]
    pub provider: Option<String>,

    /// Clear only this model's cooldown (the account's status is left alone); without it,
    /// a clear removes the account's cooldown and every model cooldown
    #[arg(long, value_name = "M")]
    pub model: Option<String>,

    /// Output format
    #[arg(long, value_name = "FORMAT", default_value = "table")]
    pub format: ReportFormat,
}

#[derive(Debug, Args)]
pub struct SimulateArgs {
    /// Scenario file (JSON), `-` for stdin [default: a built-in scenario: three Codex profiles,
    /// the first out of quota]
    #[arg(value_name = "SCENARIO")]
    pub scenario: Option<PathBuf>,

    /// Output format: readable trace and pool table, or JSON Lines events
    #[arg(long, value_name = "FORMAT", default_value = "table")]
    pub format: ReportFormat,

    /// Seed for the random strategy and backoff jitter [default: the scenario's `seed`, else 0]
    #[arg(long, value_name = "N")]
    pub seed: Option<u64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CallFormat {
    /// The answer text, streamed as it arrives
    Text,
    /// The provider's final response object, once complete
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TraceFormat {
    /// One readable line per event
    Human,
    /// One JSON object per event (JSON Lines)
    Json,
    /// No trace
    Off,
}

#[derive(Debug, Args)]
pub struct CallArgs {
    /// The prompt; `-` or nothing reads it from stdin
    #[arg(value_name = "PROMPT")]
    pub prompt: Option<String>,

    /// The provider whose pool serves the request [default: auth.json's active_provider, else the only provider]
    #[arg(long, value_name = "P")]
    pub provider: Option<String>,

    /// Model name [default: gpt-5.5 for openai-codex, claude-sonnet-4-5 for anthropic, openrouter/auto for openrouter]
    #[arg(long, value_name = "M")]
    pub model: Option<String>,

    /// System prompt (Codex: instructions)
    #[arg(long, value_name = "TEXT")]
    pub system: Option<String>,

    /// Output: the streamed text, or the final response object as JSON
    #[arg(long, value_name = "FORMAT", default_value = "text")]
    pub format: CallFormat,

    #[command(flatten)]
    pub selection: SelectionArgs,

    #[command(flatten)]
    pub policy: PolicyArgs,

    #[command(flatten)]
    pub trace: TraceArgs,

    /// Print the answer's bytes as sent even on a terminal (escape sequences included)
    #[arg(long)]
    pub raw: bool,
}

/// The rotation policy of each request, shared by `call` and `serve`.
#[derive(Debug, Args)]
pub struct PolicyArgs {
    /// Attempts per profile for transient failures (5xx, timeouts, throttling)
    #[arg(long, value_name = "N", default_value_t = 4, value_parser = clap::value_parser!(u32).range(1..))]
    pub attempts: u32,

    /// Most profiles to try in this request [default: every available profile]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub max_profiles: Option<u32>,

    /// Longest single wait for a backoff or Retry-After
    #[arg(long, value_name = "DURATION", default_value = "60s")]
    pub max_wait: String,

    /// Longest silence within one attempt: connecting, awaiting the answer, between chunks
    #[arg(long, value_name = "DURATION", default_value = "60s")]
    pub timeout: String,

    /// Most answer taken from one attempt (e.g. 64MiB); past it the request fails (call: exit 4)
    #[arg(long, value_name = "SIZE", default_value = "64MiB")]
    pub max_output: String,

    /// Longest cooldown stored from a provider's reset time; a later one is capped
    #[arg(long, value_name = "DURATION", default_value = "30d")]
    pub max_cooldown: String,

    /// Limit for the whole request, all attempts and waits included [default: none]
    #[arg(long, value_name = "DURATION")]
    pub deadline: Option<String>,

    /// Send every attempt to this base URL instead of the profile's (proxies, tests)
    #[arg(long, value_name = "URL")]
    pub base_url: Option<String>,

    /// OAuth token endpoint for refreshes [default: https://auth.openai.com/oauth/token]
    #[arg(long, value_name = "URL")]
    pub token_url: Option<String>,
}

/// Where the events of each request go, shared by `call` and `serve`.
#[derive(Debug, Args)]
pub struct TraceArgs {
    /// Trace of the rotation on stderr
    #[arg(long, value_name = "FORMAT", default_value = "human")]
    pub trace: TraceFormat,

    /// Also append the trace as JSON Lines to this file (not auth.json or its lock)
    #[arg(long, value_name = "PATH")]
    pub trace_file: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address and port to listen on; only loopback addresses without --allow-remote
    #[arg(long, value_name = "ADDR:PORT", default_value = "127.0.0.1:7686")]
    pub listen: String,

    /// The key clients must send [default: $HERMES_HOME/rotor-serve.key, made on the first start]
    #[arg(long, value_name = "PATH")]
    pub key_file: Option<PathBuf>,

    /// Allow --listen on an address other hosts can reach (clients still need the key)
    #[arg(long)]
    pub allow_remote: bool,

    /// Which pool answers an API: responses, chat or messages=PROVIDER, or =none (repeatable)
    #[arg(long, value_name = "API=PROVIDER")]
    pub route: Vec<String>,

    /// Most requests in flight; one more gets 503 at once
    #[arg(long, value_name = "N", default_value_t = 256, value_parser = clap::value_parser!(u32).range(1..=65536))]
    pub max_concurrency: u32,

    /// Largest request body taken (e.g. 32MiB); a larger one gets 413
    #[arg(long, value_name = "SIZE", default_value = "32MiB")]
    pub max_body: String,

    /// How long requests in flight may finish after SIGTERM or SIGINT
    #[arg(long, value_name = "DURATION", default_value = "30s")]
    pub drain_timeout: String,

    /// Longest wait on a client: for its request to arrive, or to read on in its answer
    #[arg(long, value_name = "DURATION", default_value = "60s")]
    pub client_timeout: String,

    /// Selection strategy [default: from config.yaml credential_pool_strategies, else fill_first]
    #[arg(long, value_name = "STRATEGY")]
    pub strategy: Option<Strategy>,

    #[command(flatten)]
    pub policy: PolicyArgs,

    #[command(flatten)]
    pub trace: TraceArgs,
}
