
use builtin;
use str;

set edit:completion:arg-completer[rotor] = {|@words|
    fn spaces {|n|
        builtin:repeat $n ' ' | str:join ''
    }
    fn cand {|text desc|
        edit:complex-candidate $text &display=$text' '(spaces (- 14 (wcswidth $text)))$desc
    }
    var command = 'rotor'
    for word $words[1..-1] {
        if (str:has-prefix $word '-') {
            break
        }
        set command = $command';'$word
    }
    var completions = [
        &'rotor'= {
            cand --auth-file 'The auth.json to use [default: $HERMES_HOME/auth.json, else ~/.hermes/auth.json]'
            cand --config 'The Hermes config.yaml holding credential_pool_strategies [default: $HERMES_HOME/config.yaml]'
            cand --lock-timeout 'Seconds to wait for auth.lock before giving up (exit 6); at most 86400'
            cand --color 'When to use colors (NO_COLOR is honoured by `auto`)'
            cand --hermes 'Which Hermes''s rules auth.json follows: 0.19, or main (a gateway run from a git checkout) [default: told from the file: model_cooldowns or failure_reason mean main]'
            cand --state 'Share profile status with other hosts through Redis: redis://[user:password@]host:port/db or rediss:// (TLS) [default: this host only]'
            cand --host 'The name this host''s findings carry in the shared state [default: the system''s host name]'
            cand -q 'Print nothing but results and errors'
            cand --quiet 'Print nothing but results and errors'
            cand -v 'Print more about what rotor does (every file it uses: auth.json, lock, config.yaml, trace)'
            cand --verbose 'Print more about what rotor does (every file it uses: auth.json, lock, config.yaml, trace)'
            cand --share-tokens 'With --state, refresh OAuth tokens once for the whole fleet and share the new pair through Redis (refused over plain redis:// to another machine)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
            cand profiles 'List profiles and their health'
            cand cooldown 'Set or clear a profile''s cooldown by hand, safely while Hermes runs'
            cand simulate 'Run the rotation engine on a scripted scenario, offline (virtual clock, no writes)'
            cand call 'Send one request through the rotation engine, writing profile state back'
            cand serve 'Run a local gateway: clients'' requests go through the rotation engine'
            cand sync 'Exchange profile status with the fleet''s Redis (--state): push this host''s, pull the others'''
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'rotor;profiles'= {
            cand --auth-file 'The auth.json to use [default: $HERMES_HOME/auth.json, else ~/.hermes/auth.json]'
            cand --config 'The Hermes config.yaml holding credential_pool_strategies [default: $HERMES_HOME/config.yaml]'
            cand --lock-timeout 'Seconds to wait for auth.lock before giving up (exit 6); at most 86400'
            cand --color 'When to use colors (NO_COLOR is honoured by `auto`)'
            cand --hermes 'Which Hermes''s rules auth.json follows: 0.19, or main (a gateway run from a git checkout) [default: told from the file: model_cooldowns or failure_reason mean main]'
            cand --state 'Share profile status with other hosts through Redis: redis://[user:password@]host:port/db or rediss:// (TLS) [default: this host only]'
            cand --host 'The name this host''s findings carry in the shared state [default: the system''s host name]'
            cand -q 'Print nothing but results and errors'
            cand --quiet 'Print nothing but results and errors'
            cand -v 'Print more about what rotor does (every file it uses: auth.json, lock, config.yaml, trace)'
            cand --verbose 'Print more about what rotor does (every file it uses: auth.json, lock, config.yaml, trace)'
            cand --share-tokens 'With --state, refresh OAuth tokens once for the whole fleet and share the new pair through Redis (refused over plain redis:// to another machine)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand list 'One row per profile: state, cooldown, last error, token expiry, next pick'
            cand probe 'Ask the providers how each profile really is (no quota spent) and update the stored state'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'rotor;profiles;list'= {
            cand --provider 'Only this provider (repeatable) [default: every provider in the pool]'
            cand --format 'Output format'
            cand --at 'Evaluate availability at this time instead of now (RFC 3339, @EPOCH, +DURATION)'
            cand --model 'Evaluate availability for requests for this model (newer Hermes''s per-model cooldowns) [default: a request naming no model, which any model cooldown blocks]'
            cand --strategy 'Selection strategy [default: from config.yaml credential_pool_strategies, else fill_first]'
            cand --seed 'Seed for the random strategy, for repeatable picks'
            cand --auth-file 'The auth.json to use [default: $HERMES_HOME/auth.json, else ~/.hermes/auth.json]'
            cand --config 'The Hermes config.yaml holding credential_pool_strategies [default: $HERMES_HOME/config.yaml]'
            cand --lock-timeout 'Seconds to wait for auth.lock before giving up (exit 6); at most 86400'
            cand --color 'When to use colors (NO_COLOR is honoured by `auto`)'
            cand --hermes 'Which Hermes''s rules auth.json follows: 0.19, or main (a gateway run from a git checkout) [default: told from the file: model_cooldowns or failure_reason mean main]'
            cand --state 'Share profile status with other hosts through Redis: redis://[user:password@]host:port/db or rediss:// (TLS) [default: this host only]'
            cand --host 'The name this host''s findings carry in the shared state [default: the system''s host name]'
            cand --check 'Exit 3 when a listed provider has no available profile'
            cand -q 'Print nothing but results and errors'
            cand --quiet 'Print nothing but results and errors'
            cand -v 'Print more about what rotor does (every file it uses: auth.json, lock, config.yaml, trace)'
            cand --verbose 'Print more about what rotor does (every file it uses: auth.json, lock, config.yaml, trace)'
            cand --share-tokens 'With --state, refresh OAuth tokens once for the whole fleet and share the new pair through Redis (refused over plain redis:// to another machine)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'rotor;profiles;probe'= {
            cand --provider 'Only this provider (repeatable)'
            cand --format 'Output format'
            cand --base-url 'Probe this base URL instead of each profile''s (proxies, tests)'
            cand --token-url 'OAuth token endpoint for refreshes [default: https://auth.openai.com/oauth/token]'
            cand --timeout 'Longest wait for one probe'
            cand --concurrency 'Profiles probed at the same time'
            cand --max-cooldown 'Longest cooldown stored from a provider''s reset time; a later one is capped'
            cand --strategy 'Selection strategy [default: from config.yaml credential_pool_strategies, else fill_first]'
            cand --seed 'Seed for the random strategy, for repeatable picks'
            cand --auth-file 'The auth.json to use [default: $HERMES_HOME/auth.json, else ~/.hermes/auth.json]'
            cand --config 'The Hermes config.yaml holding credential_pool_strategies [default: $HERMES_HOME/config.yaml]'
            cand --lock-timeout 'Seconds to wait for auth.lock before giving up (exit 6); at most 86400'
            cand --color 'When to use colors (NO_COLOR is honoured by `auto`)'
            cand --hermes 'Which Hermes''s rules auth.json follows: 0.19, or main (a gateway run from a git checkout) [default: told from the file: model_cooldowns or failure_reason mean main]'
            cand --state 'Share profile status with other hosts through Redis: redis://[user:password@]host:port/db or rediss:// (TLS) [default: this host only]'
            cand --host 'The name this host''s findings carry in the shared state [default: the system''s host name]'
            cand -q 'Print nothing but results and errors'
            cand --quiet 'Print nothing but results and errors'
            cand -v 'Print more about what rotor does (every file it uses: auth.json, lock, config.yaml, trace)'
            cand --verbose 'Print more about what rotor does (every file it uses: auth.json, lock, config.yaml, trace)'
            cand --share-tokens 'With --state, refresh OAuth tokens once for the whole fleet and share the new pair through Redis (refused over plain redis:// to another machine)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'rotor;profiles;help'= {
            cand list 'One row per profile: state, cooldown, last error, token expiry, next pick'
            cand probe 'Ask the providers how each profile really is (no quota spent) and update the stored state'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'rotor;profiles;help;list'= {
        }
        &'rotor;profiles;help;probe'= {
        }
        &'rotor;profiles;help;help'= {
        }
        &'rotor;cooldown'= {
            cand --auth-file 'The auth.json to use [default: $HERMES_HOME/auth.json, else ~/.hermes/auth.json]'
            cand --config 'The Hermes config.yaml holding credential_pool_strategies [default: $HERMES_HOME/config.yaml]'
            cand --lock-timeout 'Seconds to wait for auth.lock before giving up (exit 6); at most 86400'
            cand --color 'When to use colors (NO_COLOR is honoured by `auto`)'
            cand --hermes 'Which Hermes''s rules auth.json follows: 0.19, or main (a gateway run from a git checkout) [default: told from the file: model_cooldowns or failure_reason mean main]'
            cand --state 'Share profile status with other hosts through Redis: redis://[user:password@]host:port/db or rediss:// (TLS) [default: this host only]'
            cand --host 'The name this host''s findings carry in the shared state [default: the system''s host name]'
            cand -q 'Print nothing but results and errors'
            cand --quiet 'Print nothing but results and errors'
            cand -v 'Print more about what rotor does (every file it uses: auth.json, lock, config.yaml, trace)'
            cand --verbose 'Print more about what rotor does (every file it uses: auth.json, lock, config.yaml, trace)'
            cand --share-tokens 'With --state, refresh OAuth tokens once for the whole fleet and share the new pair through Redis (refused over plain redis:// to another machine)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand set 'Put a profile in cooldown until a time or for a duration'
            cand clear 'Clear the cooldown of profiles so they are used again'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'rotor;cooldown;set'= {
            cand --provider 'Only look for the profile in this provider'
            cand --until 'Cool until this time (RFC 3339, @EPOCH, +DURATION)'
            cand --for 'Cool for this long from now (90s, 45m, 2h30m, 1d)'
            cand --reason 'Why; stored as last_error_message (one line, at most 200 characters, no email addresses)'
            cand --model 'Cool only this model on the profile, in newer Hermes''s model_cooldowns (the account keeps serving other models); needs newer Hermes''s rules'
            cand --format 'Output format'
            cand --auth-file 'The auth.json to use [default: $HERMES_HOME/auth.json, else ~/.hermes/auth.json]'
            cand --config 'The Hermes config.yaml holding credential_pool_strategies [default: $HERMES_HOME/config.yaml]'
            cand --lock-timeout 'Seconds to wait for auth.lock before giving up (exit 6); at most 86400'
            cand --color 'When to use colors (NO_COLOR is honoured by `auto`)'
            cand --hermes 'Which Hermes''s rules auth.json follows: 0.19, or main (a gateway run from a git checkout) [default: told from the file: model_cooldowns or failure_reason mean main]'
            cand --state 'Share profile status with other hosts through Redis: redis://[user:password@]host:port/db or rediss:// (TLS) [default: this host only]'
            cand --host 'The name this host''s findings carry in the shared state [default: the system''s host name]'
            cand --force 'Allow a cooldown longer than 30 days'
            cand -q 'Print nothing but results and errors'
            cand --quiet 'Print nothing but results and errors'
            cand -v 'Print more about what rotor does (every file it uses: auth.json, lock, config.yaml, trace)'
            cand --verbose 'Print more about what rotor does (every file it uses: auth.json, lock, config.yaml, trace)'
            cand --share-tokens 'With --state, refresh OAuth tokens once for the whole fleet and share the new pair through Redis (refused over plain redis:// to another machine)'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'rotor;cooldown;clear'= {
            cand --provider 'Only this provider'
            cand --model 'Clear only this model''s cooldown (the account''s status is left alone); without it, a clear removes the account''s cooldown and every model cooldown'
            cand --format 'Output format'
            cand --auth-file 'The auth.json to use [default: $HERMES_HOME/auth.json, else ~/.hermes/auth.json]'
            cand --config 'The Hermes config.yaml holding credential_pool_strategies [default: $HERMES_HOME/config.yaml]'
            cand --lock-timeout 'Seconds to wait for auth.lock before giving up (exit 6); at most 86400'
            cand --color 'When to use colors (NO_COLOR is honoured by `auto`)'
            cand --hermes 'Which Hermes''s rules auth.json follows: 0.19, or main (a gateway run from a git checkout) [default: told from the file: model_cooldowns or failure_reason mean main]'
            cand --state 'Share profile status with other hosts through Redis: redis://[user:password@]host:port/db or rediss:// (TLS) [default: this host only]'
            cand --host 'The name this host''s findings carry in the shared state [default: the system''s host name]'
            cand --all 'Clear every cooling profile (of --provider, if given)'
            cand -q 'Print nothing but results and errors'
            cand --quiet 'Print nothing but results and errors'
            cand -v 'Print more about what rotor does (every file it uses: auth.json, lock, config.yaml, trace)'
            cand --verbose 'Print more about what rotor does (every file it uses: auth.json, lock, config.yaml, trace)'
            cand --share-tokens 'With --state, refresh OAuth tokens once for the whole fleet and share the new pair through Redis (refused over plain redis:// to another machine)'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'rotor;cooldown;help'= {
            cand set 'Put a profile in cooldown until a time or for a duration'
            cand clear 'Clear the cooldown of profiles so they are used again'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'rotor;cooldown;help;set'= {
        }
        &'rotor;cooldown;help;clear'= {
        }
        &'rotor;cooldown;help;help'= {
        }
        &'rotor;simulate'= {
            cand --format 'Output format: readable trace and pool table, or JSON Lines events'
            cand --seed 'Seed for the random strategy and backoff jitter [default: the scenario''s `seed`, else 0]'
            cand --auth-file 'The auth.json to use [default: $HERMES_HOME/auth.json, else ~/.hermes/auth.json]'
            cand --config 'The Hermes config.yaml holding credential_pool_strategies [default: $HERMES_HOME/config.yaml]'
            cand --lock-timeout 'Seconds to wait for auth.lock before giving up (exit 6); at most 86400'
            cand --color 'When to use colors (NO_COLOR is honoured by `auto`)'
            cand --hermes 'Which Hermes''s rules auth.json follows: 0.19, or main (a gateway run from a git checkout) [default: told from the file: model_cooldowns or failure_reason mean main]'
            cand --state 'Share profile status with other hosts through Redis: redis://[user:password@]host:port/db or rediss:// (TLS) [default: this host only]'
            cand --host 'The name this host''s findings carry in the shared state [default: the system''s host name]'
            cand -q 'Print nothing but results and errors'
            cand --quiet 'Print nothing but results and errors'
            cand -v 'Print more about what rotor does (every file it uses: auth.json, lock, config.yaml, trace)'
            cand --verbose 'Print more about what rotor does (every file it uses: auth.json, lock, config.yaml, trace)'
            cand --share-tokens 'With --state, refresh OAuth tokens once for the whole fleet and share the new pair through Redis (refused over plain redis:// to another machine)'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'rotor;call'= {
            cand --provider 'The provider whose pool serves the request [default: auth.json''s active_provider, else the only provider]'
            cand --model 'Model name [default: gpt-5.5 for openai-codex, claude-sonnet-4-5 for anthropic, openrouter/auto for openrouter]'
            cand --system 'System prompt (Codex: instructions)'
            cand --format 'Output: the streamed text, or the final response object as JSON'
            cand --strategy 'Selection strategy [default: from config.yaml credential_pool_strategies, else fill_first]'
            cand --seed 'Seed for the random strategy, for repeatable picks'
            cand --attempts 'Attempts per profile for transient failures (5xx, timeouts, throttling)'
            cand --max-profiles 'Most profiles to try in this request [default: every available profile]'
            cand --max-wait 'Longest single wait for a backoff or Retry-After'
            cand --timeout 'Longest silence within one attempt: connecting, awaiting the answer, between chunks'
            cand --max-output 'Most answer taken from one attempt (e.g. 64MiB); past it the request fails (call: exit 4)'
            cand --max-cooldown 'Longest cooldown stored from a provider''s reset time; a later one is capped'
            cand --deadline 'Limit for the whole request, all attempts and waits included [default: none]'
            cand --base-url 'Send every attempt to this base URL instead of the profile''s (proxies, tests)'
            cand --token-url 'OAuth token endpoint for refreshes [default: https://auth.openai.com/oauth/token]'
            cand --trace 'Trace of the rotation on stderr'
            cand --trace-file 'Also append the trace as JSON Lines to this file (not auth.json or its lock)'
            cand --auth-file 'The auth.json to use [default: $HERMES_HOME/auth.json, else ~/.hermes/auth.json]'
            cand --config 'The Hermes config.yaml holding credential_pool_strategies [default: $HERMES_HOME/config.yaml]'
            cand --lock-timeout 'Seconds to wait for auth.lock before giving up (exit 6); at most 86400'
            cand --color 'When to use colors (NO_COLOR is honoured by `auto`)'
            cand --hermes 'Which Hermes''s rules auth.json follows: 0.19, or main (a gateway run from a git checkout) [default: told from the file: model_cooldowns or failure_reason mean main]'
            cand --state 'Share profile status with other hosts through Redis: redis://[user:password@]host:port/db or rediss:// (TLS) [default: this host only]'
            cand --host 'The name this host''s findings carry in the shared state [default: the system''s host name]'
            cand --raw 'Print the answer''s bytes as sent even on a terminal (escape sequences included)'
            cand -q 'Print nothing but results and errors'
            cand --quiet 'Print nothing but results and errors'
            cand -v 'Print more about what rotor does (every file it uses: auth.json, lock, config.yaml, trace)'
            cand --verbose 'Print more about what rotor does (every file it uses: auth.json, lock, config.yaml, trace)'
            cand --share-tokens 'With --state, refresh OAuth tokens once for the whole fleet and share the new pair through Redis (refused over plain redis:// to another machine)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'rotor;serve'= {
            cand --listen 'Address and port to listen on; only loopback addresses without --allow-remote'
            cand --key-file 'The key clients must send [default: $HERMES_HOME/rotor-serve.key, made on the first start]'
            cand --route 'Which pool answers an API: responses, chat or messages=PROVIDER, or =none (repeatable)'
            cand --max-concurrency 'Most requests in flight; one more gets 503 at once'
            cand --max-body 'Largest request body taken (e.g. 32MiB); a larger one gets 413'
            cand --drain-timeout 'How long requests in flight may finish after SIGTERM or SIGINT'
            cand --client-timeout 'Longest wait on a client: for its request to arrive, or to read on in its answer'
            cand --strategy 'Selection strategy [default: from config.yaml credential_pool_strategies, else fill_first]'
            cand --attempts 'Attempts per profile for transient failures (5xx, timeouts, throttling)'
            cand --max-profiles 'Most profiles to try in this request [default: every available profile]'
            cand --max-wait 'Longest single wait for a backoff or Retry-After'
            cand --timeout 'Longest silence within one attempt: connecting, awaiting the answer, between chunks'
            cand --max-output 'Most answer taken from one attempt (e.g. 64MiB); past it the request fails (call: exit 4)'
            cand --max-cooldown 'Longest cooldown stored from a provider''s reset time; a later one is capped'
            cand --deadline 'Limit for the whole request, all attempts and waits included [default: none]'
            cand --base-url 'Send every attempt to this base URL instead of the profile''s (proxies, tests)'
            cand --token-url 'OAuth token endpoint for refreshes [default: https://auth.openai.com/oauth/token]'
            cand --trace 'Trace of the rotation on stderr'
            cand --trace-file 'Also append the trace as JSON Lines to this file (not auth.json or its lock)'
            cand --auth-file 'The auth.json to use [default: $HERMES_HOME/auth.json, else ~/.hermes/auth.json]'
            cand --config 'The Hermes config.yaml holding credential_pool_strategies [default: $HERMES_HOME/config.yaml]'
            cand --lock-timeout 'Seconds to wait for auth.lock before giving up (exit 6); at most 86400'
            cand --color 'When to use colors (NO_COLOR is honoured by `auto`)'
            cand --hermes 'Which Hermes''s rules auth.json follows: 0.19, or main (a gateway run from a git checkout) [default: told from the file: model_cooldowns or failure_reason mean main]'
            cand --state 'Share profile status with other hosts through Redis: redis://[user:password@]host:port/db or rediss:// (TLS) [default: this host only]'
            cand --host 'The name this host''s findings carry in the shared state [default: the system''s host name]'
            cand --allow-remote 'Allow --listen on an address other hosts can reach (clients still need the key)'
            cand -q 'Print nothing but results and errors'
            cand --quiet 'Print nothing but results and errors'
            cand -v 'Print more about what rotor does (every file it uses: auth.json, lock, config.yaml, trace)'
            cand --verbose 'Print more about what rotor does (every file it uses: auth.json, lock, config.yaml, trace)'
            cand --share-tokens 'With --state, refresh OAuth tokens once for the whole fleet and share the new pair through Redis (refused over plain redis:// to another machine)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'rotor;sync'= {
            cand --watch 'Keep syncing, every INTERVAL (like 10s), until stopped [default: once]'
            cand --format 'Output format (json: one object per sync)'
            cand --auth-file 'The auth.json to use [default: $HERMES_HOME/auth.json, else ~/.hermes/auth.json]'
            cand --config 'The Hermes config.yaml holding credential_pool_strategies [default: $HERMES_HOME/config.yaml]'
            cand --lock-timeout 'Seconds to wait for auth.lock before giving up (exit 6); at most 86400'
            cand --color 'When to use colors (NO_COLOR is honoured by `auto`)'
            cand --hermes 'Which Hermes''s rules auth.json follows: 0.19, or main (a gateway run from a git checkout) [default: told from the file: model_cooldowns or failure_reason mean main]'
            cand --state 'Share profile status with other hosts through Redis: redis://[user:password@]host:port/db or rediss:// (TLS) [default: this host only]'
            cand --host 'The name this host''s findings carry in the shared state [default: the system''s host name]'
            cand -q 'Print nothing but results and errors'
            cand --quiet 'Print nothing but results and errors'
            cand -v 'Print more about what rotor does (every file it uses: auth.json, lock, config.yaml, trace)'
            cand --verbose 'Print more about what rotor does (every file it uses: auth.json, lock, config.yaml, trace)'
            cand --share-tokens 'With --state, refresh OAuth tokens once for the whole fleet and share the new pair through Redis (refused over plain redis:// to another machine)'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'rotor;help'= {
            cand profiles 'List profiles and their health'
            cand cooldown 'Set or clear a profile''s cooldown by hand, safely while Hermes runs'
            cand simulate 'Run the rotation engine on a scripted scenario, offline (virtual clock, no writes)'
            cand call 'Send one request through the rotation engine, writing profile state back'
            cand serve 'Run a local gateway: clients'' requests go through the rotation engine'
            cand sync 'Exchange profile status with the fleet''s Redis (--state): push this host''s, pull the others'''
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'rotor;help;profiles'= {
            cand list 'One row per profile: state, cooldown, last error, token expiry, next pick'
            cand probe 'Ask the providers how each profile really is (no quota spent) and update the stored state'
        }
        &'rotor;help;profiles;list'= {
        }
        &'rotor;help;profiles;probe'= {
        }
        &'rotor;help;cooldown'= {
            cand set 'Put a profile in cooldown until a time or for a duration'
            cand clear 'Clear the cooldown of profiles so they are used again'
        }
        &'rotor;help;cooldown;set'= {
        }
        &'rotor;help;cooldown;clear'= {
        }
        &'rotor;help;simulate'= {
        }
        &'rotor;help;call'= {
        }
        &'rotor;help;serve'= {
        }
        &'rotor;help;sync'= {
        }
        &'rotor;help;help'= {
        }
    ]
    $completions[$command]
}
