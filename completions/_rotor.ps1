
using namespace System.Management.Automation
using namespace System.Management.Automation.Language

Register-ArgumentCompleter -Native -CommandName 'rotor' -ScriptBlock {
    param($wordToComplete, $commandAst, $cursorPosition)

    $commandElements = $commandAst.CommandElements
    $command = @(
        'rotor'
        for ($i = 1; $i -lt $commandElements.Count; $i++) {
            $element = $commandElements[$i]
            if ($element -isnot [StringConstantExpressionAst] -or
                $element.StringConstantType -ne [StringConstantType]::BareWord -or
                $element.Value.StartsWith('-') -or
                $element.Value -eq $wordToComplete) {
                break
        }
        $element.Value
    }) -join ';'

    $completions = @(switch ($command) {
        'rotor' {
            [CompletionResult]::new('--auth-file', '--auth-file', [CompletionResultType]::ParameterName, 'The auth.json to use [default: $HERMES_HOME/auth.json, else ~/.hermes/auth.json]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'The Hermes config.yaml holding credential_pool_strategies [default: $HERMES_HOME/config.yaml]')
            [CompletionResult]::new('--lock-timeout', '--lock-timeout', [CompletionResultType]::ParameterName, 'Seconds to wait for auth.lock before giving up (exit 6); at most 86400')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colors (NO_COLOR is honoured by `auto`)')
            [CompletionResult]::new('--hermes', '--hermes', [CompletionResultType]::ParameterName, 'Which Hermes''s rules auth.json follows: 0.19, or main (a gateway run from a git checkout) [default: told from the file: model_cooldowns or failure_reason mean main]')
            [CompletionResult]::new('--state', '--state', [CompletionResultType]::ParameterName, 'Share profile status with other hosts through Redis: redis://[user:password@]host:port/db or rediss:// (TLS) [default: this host only]')
            [CompletionResult]::new('--host', '--host', [CompletionResultType]::ParameterName, 'The name this host''s findings carry in the shared state [default: the system''s host name]')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but results and errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but results and errors')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more about what rotor does (every file it uses: auth.json, lock, config.yaml, trace)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more about what rotor does (every file it uses: auth.json, lock, config.yaml, trace)')
            [CompletionResult]::new('--share-tokens', '--share-tokens', [CompletionResultType]::ParameterName, 'With --state, refresh OAuth tokens once for the whole fleet and share the new pair through Redis (refused over plain redis:// to another machine)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('profiles', 'profiles', [CompletionResultType]::ParameterValue, 'List profiles and their health')
            [CompletionResult]::new('cooldown', 'cooldown', [CompletionResultType]::ParameterValue, 'Set or clear a profile''s cooldown by hand, safely while Hermes runs')
            [CompletionResult]::new('simulate', 'simulate', [CompletionResultType]::ParameterValue, 'Run the rotation engine on a scripted scenario, offline (virtual clock, no writes)')
            [CompletionResult]::new('call', 'call', [CompletionResultType]::ParameterValue, 'Send one request through the rotation engine, writing profile state back')
            [CompletionResult]::new('serve', 'serve', [CompletionResultType]::ParameterValue, 'Run a local gateway: clients'' requests go through the rotation engine')
            [CompletionResult]::new('sync', 'sync', [CompletionResultType]::ParameterValue, 'Exchange profile status with the fleet''s Redis (--state): push this host''s, pull the others''')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'rotor;profiles' {
            [CompletionResult]::new('--auth-file', '--auth-file', [CompletionResultType]::ParameterName, 'The auth.json to use [default: $HERMES_HOME/auth.json, else ~/.hermes/auth.json]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'The Hermes config.yaml holding credential_pool_strategies [default: $HERMES_HOME/config.yaml]')
            [CompletionResult]::new('--lock-timeout', '--lock-timeout', [CompletionResultType]::ParameterName, 'Seconds to wait for auth.lock before giving up (exit 6); at most 86400')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colors (NO_COLOR is honoured by `auto`)')
            [CompletionResult]::new('--hermes', '--hermes', [CompletionResultType]::ParameterName, 'Which Hermes''s rules auth.json follows: 0.19, or main (a gateway run from a git checkout) [default: told from the file: model_cooldowns or failure_reason mean main]')
            [CompletionResult]::new('--state', '--state', [CompletionResultType]::ParameterName, 'Share profile status with other hosts through Redis: redis://[user:password@]host:port/db or rediss:// (TLS) [default: this host only]')
            [CompletionResult]::new('--host', '--host', [CompletionResultType]::ParameterName, 'The name this host''s findings carry in the shared state [default: the system''s host name]')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but results and errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but results and errors')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more about what rotor does (every file it uses: auth.json, lock, config.yaml, trace)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more about what rotor does (every file it uses: auth.json, lock, config.yaml, trace)')
            [CompletionResult]::new('--share-tokens', '--share-tokens', [CompletionResultType]::ParameterName, 'With --state, refresh OAuth tokens once for the whole fleet and share the new pair through Redis (refused over plain redis:// to another machine)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'One row per profile: state, cooldown, last error, token expiry, next pick')
            [CompletionResult]::new('probe', 'probe', [CompletionResultType]::ParameterValue, 'Ask the providers how each profile really is (no quota spent) and update the stored state')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'rotor;profiles;list' {
            [CompletionResult]::new('--provider', '--provider', [CompletionResultType]::ParameterName, 'Only this provider (repeatable) [default: every provider in the pool]')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--at', '--at', [CompletionResultType]::ParameterName, 'Evaluate availability at this time instead of now (RFC 3339, @EPOCH, +DURATION)')
            [CompletionResult]::new('--model', '--model', [CompletionResultType]::ParameterName, 'Evaluate availability for requests for this model (newer Hermes''s per-model cooldowns) [default: a request naming no model, which any model cooldown blocks]')
            [CompletionResult]::new('--strategy', '--strategy', [CompletionResultType]::ParameterName, 'Selection strategy [default: from config.yaml credential_pool_strategies, else fill_first]')
            [CompletionResult]::new('--seed', '--seed', [CompletionResultType]::ParameterName, 'Seed for the random strategy, for repeatable picks')
            [CompletionResult]::new('--auth-file', '--auth-file', [CompletionResultType]::ParameterName, 'The auth.json to use [default: $HERMES_HOME/auth.json, else ~/.hermes/auth.json]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'The Hermes config.yaml holding credential_pool_strategies [default: $HERMES_HOME/config.yaml]')
            [CompletionResult]::new('--lock-timeout', '--lock-timeout', [CompletionResultType]::ParameterName, 'Seconds to wait for auth.lock before giving up (exit 6); at most 86400')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colors (NO_COLOR is honoured by `auto`)')
            [CompletionResult]::new('--hermes', '--hermes', [CompletionResultType]::ParameterName, 'Which Hermes''s rules auth.json follows: 0.19, or main (a gateway run from a git checkout) [default: told from the file: model_cooldowns or failure_reason mean main]')
            [CompletionResult]::new('--state', '--state', [CompletionResultType]::ParameterName, 'Share profile status with other hosts through Redis: redis://[user:password@]host:port/db or rediss:// (TLS) [default: this host only]')
            [CompletionResult]::new('--host', '--host', [CompletionResultType]::ParameterName, 'The name this host''s findings carry in the shared state [default: the system''s host name]')
            [CompletionResult]::new('--check', '--check', [CompletionResultType]::ParameterName, 'Exit 3 when a listed provider has no available profile')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but results and errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but results and errors')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more about what rotor does (every file it uses: auth.json, lock, config.yaml, trace)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more about what rotor does (every file it uses: auth.json, lock, config.yaml, trace)')
            [CompletionResult]::new('--share-tokens', '--share-tokens', [CompletionResultType]::ParameterName, 'With --state, refresh OAuth tokens once for the whole fleet and share the new pair through Redis (refused over plain redis:// to another machine)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'rotor;profiles;probe' {
            [CompletionResult]::new('--provider', '--provider', [CompletionResultType]::ParameterName, 'Only this provider (repeatable)')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--base-url', '--base-url', [CompletionResultType]::ParameterName, 'Probe this base URL instead of each profile''s (proxies, tests)')
            [CompletionResult]::new('--token-url', '--token-url', [CompletionResultType]::ParameterName, 'OAuth token endpoint for refreshes [default: https://auth.openai.com/oauth/token]')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Longest wait for one probe')
            [CompletionResult]::new('--concurrency', '--concurrency', [CompletionResultType]::ParameterName, 'Profiles probed at the same time')
            [CompletionResult]::new('--max-cooldown', '--max-cooldown', [CompletionResultType]::ParameterName, 'Longest cooldown stored from a provider''s reset time; a later one is capped')
            [CompletionResult]::new('--strategy', '--strategy', [CompletionResultType]::ParameterName, 'Selection strategy [default: from config.yaml credential_pool_strategies, else fill_first]')
            [CompletionResult]::new('--seed', '--seed', [CompletionResultType]::ParameterName, 'Seed for the random strategy, for repeatable picks')
            [CompletionResult]::new('--auth-file', '--auth-file', [CompletionResultType]::ParameterName, 'The auth.json to use [default: $HERMES_HOME/auth.json, else ~/.hermes/auth.json]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'The Hermes config.yaml holding credential_pool_strategies [default: $HERMES_HOME/config.yaml]')
            [CompletionResult]::new('--lock-timeout', '--lock-timeout', [CompletionResultType]::ParameterName, 'Seconds to wait for auth.lock before giving up (exit 6); at most 86400')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colors (NO_COLOR is honoured by `auto`)')
            [CompletionResult]::new('--hermes', '--hermes', [CompletionResultType]::ParameterName, 'Which Hermes''s rules auth.json follows: 0.19, or main (a gateway run from a git checkout) [default: told from the file: model_cooldowns or failure_reason mean main]')
            [CompletionResult]::new('--state', '--state', [CompletionResultType]::ParameterName, 'Share profile status with other hosts through Redis: redis://[user:password@]host:port/db or rediss:// (TLS) [default: this host only]')
            [CompletionResult]::new('--host', '--host', [CompletionResultType]::ParameterName, 'The name this host''s findings carry in the shared state [default: the system''s host name]')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but results and errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but results and errors')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more about what rotor does (every file it uses: auth.json, lock, config.yaml, trace)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more about what rotor does (every file it uses: auth.json, lock, config.yaml, trace)')
            [CompletionResult]::new('--share-tokens', '--share-tokens', [CompletionResultType]::ParameterName, 'With --state, refresh OAuth tokens once for the whole fleet and share the new pair through Redis (refused over plain redis:// to another machine)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'rotor;profiles;help' {
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'One row per profile: state, cooldown, last error, token expiry, next pick')
            [CompletionResult]::new('probe', 'probe', [CompletionResultType]::ParameterValue, 'Ask the providers how each profile really is (no quota spent) and update the stored state')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'rotor;profiles;help;list' {
            break
        }
        'rotor;profiles;help;probe' {
            break
        }
        'rotor;profiles;help;help' {
            break
        }
        'rotor;cooldown' {
            [CompletionResult]::new('--auth-file', '--auth-file', [CompletionResultType]::ParameterName, 'The auth.json to use [default: $HERMES_HOME/auth.json, else ~/.hermes/auth.json]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'The Hermes config.yaml holding credential_pool_strategies [default: $HERMES_HOME/config.yaml]')
            [CompletionResult]::new('--lock-timeout', '--lock-timeout', [CompletionResultType]::ParameterName, 'Seconds to wait for auth.lock before giving up (exit 6); at most 86400')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colors (NO_COLOR is honoured by `auto`)')
            [CompletionResult]::new('--hermes', '--hermes', [CompletionResultType]::ParameterName, 'Which Hermes''s rules auth.json follows: 0.19, or main (a gateway run from a git checkout) [default: told from the file: model_cooldowns or failure_reason mean main]')
            [CompletionResult]::new('--state', '--state', [CompletionResultType]::ParameterName, 'Share profile status with other hosts through Redis: redis://[user:password@]host:port/db or rediss:// (TLS) [default: this host only]')
            [CompletionResult]::new('--host', '--host', [CompletionResultType]::ParameterName, 'The name this host''s findings carry in the shared state [default: the system''s host name]')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but results and errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but results and errors')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more about what rotor does (every file it uses: auth.json, lock, config.yaml, trace)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more about what rotor does (every file it uses: auth.json, lock, config.yaml, trace)')
            [CompletionResult]::new('--share-tokens', '--share-tokens', [CompletionResultType]::ParameterName, 'With --state, refresh OAuth tokens once for the whole fleet and share the new pair through Redis (refused over plain redis:// to another machine)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('set', 'set', [CompletionResultType]::ParameterValue, 'Put a profile in cooldown until a time or for a duration')
            [CompletionResult]::new('clear', 'clear', [CompletionResultType]::ParameterValue, 'Clear the cooldown of profiles so they are used again')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'rotor;cooldown;set' {
            [CompletionResult]::new('--provider', '--provider', [CompletionResultType]::ParameterName, 'Only look for the profile in this provider')
            [CompletionResult]::new('--until', '--until', [CompletionResultType]::ParameterName, 'Cool until this time (RFC 3339, @EPOCH, +DURATION)')
            [CompletionResult]::new('--for', '--for', [CompletionResultType]::ParameterName, 'Cool for this long from now (90s, 45m, 2h30m, 1d)')
            [CompletionResult]::new('--reason', '--reason', [CompletionResultType]::ParameterName, 'Why; stored as last_error_message (one line, at most 200 characters, no email addresses)')
            [CompletionResult]::new('--model', '--model', [CompletionResultType]::ParameterName, 'Cool only this model on the profile, in newer Hermes''s model_cooldowns (the account keeps serving other models); needs newer Hermes''s rules')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--auth-file', '--auth-file', [CompletionResultType]::ParameterName, 'The auth.json to use [default: $HERMES_HOME/auth.json, else ~/.hermes/auth.json]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'The Hermes config.yaml holding credential_pool_strategies [default: $HERMES_HOME/config.yaml]')
            [CompletionResult]::new('--lock-timeout', '--lock-timeout', [CompletionResultType]::ParameterName, 'Seconds to wait for auth.lock before giving up (exit 6); at most 86400')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colors (NO_COLOR is honoured by `auto`)')
            [CompletionResult]::new('--hermes', '--hermes', [CompletionResultType]::ParameterName, 'Which Hermes''s rules auth.json follows: 0.19, or main (a gateway run from a git checkout) [default: told from the file: model_cooldowns or failure_reason mean main]')
            [CompletionResult]::new('--state', '--state', [CompletionResultType]::ParameterName, 'Share profile status with other hosts through Redis: redis://[user:password@]host:port/db or rediss:// (TLS) [default: this host only]')
            [CompletionResult]::new('--host', '--host', [CompletionResultType]::ParameterName, 'The name this host''s findings carry in the shared state [default: the system''s host name]')
            [CompletionResult]::new('--force', '--force', [CompletionResultType]::ParameterName, 'Allow a cooldown longer than 30 days')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but results and errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but results and errors')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more about what rotor does (every file it uses: auth.json, lock, config.yaml, trace)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more about what rotor does (every file it uses: auth.json, lock, config.yaml, trace)')
            [CompletionResult]::new('--share-tokens', '--share-tokens', [CompletionResultType]::ParameterName, 'With --state, refresh OAuth tokens once for the whole fleet and share the new pair through Redis (refused over plain redis:// to another machine)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'rotor;cooldown;clear' {
            [CompletionResult]::new('--provider', '--provider', [CompletionResultType]::ParameterName, 'Only this provider')
            [CompletionResult]::new('--model', '--model', [CompletionResultType]::ParameterName, 'Clear only this model''s cooldown (the account''s status is left alone); without it, a clear removes the account''s cooldown and every model cooldown')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--auth-file', '--auth-file', [CompletionResultType]::ParameterName, 'The auth.json to use [default: $HERMES_HOME/auth.json, else ~/.hermes/auth.json]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'The Hermes config.yaml holding credential_pool_strategies [default: $HERMES_HOME/config.yaml]')
            [CompletionResult]::new('--lock-timeout', '--lock-timeout', [CompletionResultType]::ParameterName, 'Seconds to wait for auth.lock before giving up (exit 6); at most 86400')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colors (NO_COLOR is honoured by `auto`)')
            [CompletionResult]::new('--hermes', '--hermes', [CompletionResultType]::ParameterName, 'Which Hermes''s rules auth.json follows: 0.19, or main (a gateway run from a git checkout) [default: told from the file: model_cooldowns or failure_reason mean main]')
            [CompletionResult]::new('--state', '--state', [CompletionResultType]::ParameterName, 'Share profile status with other hosts through Redis: redis://[user:password@]host:port/db or rediss:// (TLS) [default: this host only]')
            [CompletionResult]::new('--host', '--host', [CompletionResultType]::ParameterName, 'The name this host''s findings carry in the shared state [default: the system''s host name]')
            [CompletionResult]::new('--all', '--all', [CompletionResultType]::ParameterName, 'Clear every cooling profile (of --provider, if given)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but results and errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but results and errors')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more about what rotor does (every file it uses: auth.json, lock, config.yaml, trace)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more about what rotor does (every file it uses: auth.json, lock, config.yaml, trace)')
            [CompletionResult]::new('--share-tokens', '--share-tokens', [CompletionResultType]::ParameterName, 'With --state, refresh OAuth tokens once for the whole fleet and share the new pair through Redis (refused over plain redis:// to another machine)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'rotor;cooldown;help' {
            [CompletionResult]::new('set', 'set', [CompletionResultType]::ParameterValue, 'Put a profile in cooldown until a time or for a duration')
            [CompletionResult]::new('clear', 'clear', [CompletionResultType]::ParameterValue, 'Clear the cooldown of profiles so they are used again')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'rotor;cooldown;help;set' {
            break
        }
        'rotor;cooldown;help;clear' {
            break
        }
        'rotor;cooldown;help;help' {
            break
        }
        'rotor;simulate' {
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format: readable trace and pool table, or JSON Lines events')
            [CompletionResult]::new('--seed', '--seed', [CompletionResultType]::ParameterName, 'Seed for the random strategy and backoff jitter [default: the scenario''s `seed`, else 0]')
            [CompletionResult]::new('--auth-file', '--auth-file', [CompletionResultType]::ParameterName, 'The auth.json to use [default: $HERMES_HOME/auth.json, else ~/.hermes/auth.json]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'The Hermes config.yaml holding credential_pool_strategies [default: $HERMES_HOME/config.yaml]')
            [CompletionResult]::new('--lock-timeout', '--lock-timeout', [CompletionResultType]::ParameterName, 'Seconds to wait for auth.lock before giving up (exit 6); at most 86400')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colors (NO_COLOR is honoured by `auto`)')
            [CompletionResult]::new('--hermes', '--hermes', [CompletionResultType]::ParameterName, 'Which Hermes''s rules auth.json follows: 0.19, or main (a gateway run from a git checkout) [default: told from the file: model_cooldowns or failure_reason mean main]')
            [CompletionResult]::new('--state', '--state', [CompletionResultType]::ParameterName, 'Share profile status with other hosts through Redis: redis://[user:password@]host:port/db or rediss:// (TLS) [default: this host only]')
            [CompletionResult]::new('--host', '--host', [CompletionResultType]::ParameterName, 'The name this host''s findings carry in the shared state [default: the system''s host name]')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but results and errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but results and errors')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more about what rotor does (every file it uses: auth.json, lock, config.yaml, trace)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more about what rotor does (every file it uses: auth.json, lock, config.yaml, trace)')
            [CompletionResult]::new('--share-tokens', '--share-tokens', [CompletionResultType]::ParameterName, 'With --state, refresh OAuth tokens once for the whole fleet and share the new pair through Redis (refused over plain redis:// to another machine)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'rotor;call' {
            [CompletionResult]::new('--provider', '--provider', [CompletionResultType]::ParameterName, 'The provider whose pool serves the request [default: auth.json''s active_provider, else the only provider]')
            [CompletionResult]::new('--model', '--model', [CompletionResultType]::ParameterName, 'Model name [default: gpt-5.5 for openai-codex, claude-sonnet-4-5 for anthropic, openrouter/auto for openrouter]')
            [CompletionResult]::new('--system', '--system', [CompletionResultType]::ParameterName, 'System prompt (Codex: instructions)')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output: the streamed text, or the final response object as JSON')
            [CompletionResult]::new('--strategy', '--strategy', [CompletionResultType]::ParameterName, 'Selection strategy [default: from config.yaml credential_pool_strategies, else fill_first]')
            [CompletionResult]::new('--seed', '--seed', [CompletionResultType]::ParameterName, 'Seed for the random strategy, for repeatable picks')
            [CompletionResult]::new('--attempts', '--attempts', [CompletionResultType]::ParameterName, 'Attempts per profile for transient failures (5xx, timeouts, throttling)')
            [CompletionResult]::new('--max-profiles', '--max-profiles', [CompletionResultType]::ParameterName, 'Most profiles to try in this request [default: every available profile]')
            [CompletionResult]::new('--max-wait', '--max-wait', [CompletionResultType]::ParameterName, 'Longest single wait for a backoff or Retry-After')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Longest silence within one attempt: connecting, awaiting the answer, between chunks')
            [CompletionResult]::new('--max-output', '--max-output', [CompletionResultType]::ParameterName, 'Most answer taken from one attempt (e.g. 64MiB); past it the request fails (call: exit 4)')
            [CompletionResult]::new('--max-cooldown', '--max-cooldown', [CompletionResultType]::ParameterName, 'Longest cooldown stored from a provider''s reset time; a later one is capped')
            [CompletionResult]::new('--deadline', '--deadline', [CompletionResultType]::ParameterName, 'Limit for the whole request, all attempts and waits included [default: none]')
            [CompletionResult]::new('--base-url', '--base-url', [CompletionResultType]::ParameterName, 'Send every attempt to this base URL instead of the profile''s (proxies, tests)')
            [CompletionResult]::new('--token-url', '--token-url', [CompletionResultType]::ParameterName, 'OAuth token endpoint for refreshes [default: https://auth.openai.com/oauth/token]')
            [CompletionResult]::new('--trace', '--trace', [CompletionResultType]::ParameterName, 'Trace of the rotation on stderr')
            [CompletionResult]::new('--trace-file', '--trace-file', [CompletionResultType]::ParameterName, 'Also append the trace as JSON Lines to this file (not auth.json or its lock)')
            [CompletionResult]::new('--auth-file', '--auth-file', [CompletionResultType]::ParameterName, 'The auth.json to use [default: $HERMES_HOME/auth.json, else ~/.hermes/auth.json]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'The Hermes config.yaml holding credential_pool_strategies [default: $HERMES_HOME/config.yaml]')
            [CompletionResult]::new('--lock-timeout', '--lock-timeout', [CompletionResultType]::ParameterName, 'Seconds to wait for auth.lock before giving up (exit 6); at most 86400')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colors (NO_COLOR is honoured by `auto`)')
            [CompletionResult]::new('--hermes', '--hermes', [CompletionResultType]::ParameterName, 'Which Hermes''s rules auth.json follows: 0.19, or main (a gateway run from a git checkout) [default: told from the file: model_cooldowns or failure_reason mean main]')
            [CompletionResult]::new('--state', '--state', [CompletionResultType]::ParameterName, 'Share profile status with other hosts through Redis: redis://[user:password@]host:port/db or rediss:// (TLS) [default: this host only]')
            [CompletionResult]::new('--host', '--host', [CompletionResultType]::ParameterName, 'The name this host''s findings carry in the shared state [default: the system''s host name]')
            [CompletionResult]::new('--raw', '--raw', [CompletionResultType]::ParameterName, 'Print the answer''s bytes as sent even on a terminal (escape sequences included)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but results and errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but results and errors')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more about what rotor does (every file it uses: auth.json, lock, config.yaml, trace)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more about what rotor does (every file it uses: auth.json, lock, config.yaml, trace)')
            [CompletionResult]::new('--share-tokens', '--share-tokens', [CompletionResultType]::ParameterName, 'With --state, refresh OAuth tokens once for the whole fleet and share the new pair through Redis (refused over plain redis:// to another machine)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'rotor;serve' {
            [CompletionResult]::new('--listen', '--listen', [CompletionResultType]::ParameterName, 'Address and port to listen on; only loopback addresses without --allow-remote')
            [CompletionResult]::new('--key-file', '--key-file', [CompletionResultType]::ParameterName, 'The key clients must send [default: $HERMES_HOME/rotor-serve.key, made on the first start]')
            [CompletionResult]::new('--route', '--route', [CompletionResultType]::ParameterName, 'Which pool answers an API: responses, chat or messages=PROVIDER, or =none (repeatable)')
            [CompletionResult]::new('--max-concurrency', '--max-concurrency', [CompletionResultType]::ParameterName, 'Most requests in flight; one more gets 503 at once')
            [CompletionResult]::new('--max-body', '--max-body', [CompletionResultType]::ParameterName, 'Largest request body taken (e.g. 32MiB); a larger one gets 413')
            [CompletionResult]::new('--drain-timeout', '--drain-timeout', [CompletionResultType]::ParameterName, 'How long requests in flight may finish after SIGTERM or SIGINT')
            [CompletionResult]::new('--client-timeout', '--client-timeout', [CompletionResultType]::ParameterName, 'Longest wait on a client: for its request to arrive, or to read on in its answer')
            [CompletionResult]::new('--strategy', '--strategy', [CompletionResultType]::ParameterName, 'Selection strategy [default: from config.yaml credential_pool_strategies, else fill_first]')
            [CompletionResult]::new('--attempts', '--attempts', [CompletionResultType]::ParameterName, 'Attempts per profile for transient failures (5xx, timeouts, throttling)')
            [CompletionResult]::new('--max-profiles', '--max-profiles', [CompletionResultType]::ParameterName, 'Most profiles to try in this request [default: every available profile]')
            [CompletionResult]::new('--max-wait', '--max-wait', [CompletionResultType]::ParameterName, 'Longest single wait for a backoff or Retry-After')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Longest silence within one attempt: connecting, awaiting the answer, between chunks')
            [CompletionResult]::new('--max-output', '--max-output', [CompletionResultType]::ParameterName, 'Most answer taken from one attempt (e.g. 64MiB); past it the request fails (call: exit 4)')
            [CompletionResult]::new('--max-cooldown', '--max-cooldown', [CompletionResultType]::ParameterName, 'Longest cooldown stored from a provider''s reset time; a later one is capped')
            [CompletionResult]::new('--deadline', '--deadline', [CompletionResultType]::ParameterName, 'Limit for the whole request, all attempts and waits included [default: none]')
            [CompletionResult]::new('--base-url', '--base-url', [CompletionResultType]::ParameterName, 'Send every attempt to this base URL instead of the profile''s (proxies, tests)')
            [CompletionResult]::new('--token-url', '--token-url', [CompletionResultType]::ParameterName, 'OAuth token endpoint for refreshes [default: https://auth.openai.com/oauth/token]')
            [CompletionResult]::new('--trace', '--trace', [CompletionResultType]::ParameterName, 'Trace of the rotation on stderr')
            [CompletionResult]::new('--trace-file', '--trace-file', [CompletionResultType]::ParameterName, 'Also append the trace as JSON Lines to this file (not auth.json or its lock)')
            [CompletionResult]::new('--auth-file', '--auth-file', [CompletionResultType]::ParameterName, 'The auth.json to use [default: $HERMES_HOME/auth.json, else ~/.hermes/auth.json]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'The Hermes config.yaml holding credential_pool_strategies [default: $HERMES_HOME/config.yaml]')
            [CompletionResult]::new('--lock-timeout', '--lock-timeout', [CompletionResultType]::ParameterName, 'Seconds to wait for auth.lock before giving up (exit 6); at most 86400')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colors (NO_COLOR is honoured by `auto`)')
            [CompletionResult]::new('--hermes', '--hermes', [CompletionResultType]::ParameterName, 'Which Hermes''s rules auth.json follows: 0.19, or main (a gateway run from a git checkout) [default: told from the file: model_cooldowns or failure_reason mean main]')
            [CompletionResult]::new('--state', '--state', [CompletionResultType]::ParameterName, 'Share profile status with other hosts through Redis: redis://[user:password@]host:port/db or rediss:// (TLS) [default: this host only]')
            [CompletionResult]::new('--host', '--host', [CompletionResultType]::ParameterName, 'The name this host''s findings carry in the shared state [default: the system''s host name]')
            [CompletionResult]::new('--allow-remote', '--allow-remote', [CompletionResultType]::ParameterName, 'Allow --listen on an address other hosts can reach (clients still need the key)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but results and errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but results and errors')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more about what rotor does (every file it uses: auth.json, lock, config.yaml, trace)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more about what rotor does (every file it uses: auth.json, lock, config.yaml, trace)')
            [CompletionResult]::new('--share-tokens', '--share-tokens', [CompletionResultType]::ParameterName, 'With --state, refresh OAuth tokens once for the whole fleet and share the new pair through Redis (refused over plain redis:// to another machine)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'rotor;sync' {
            [CompletionResult]::new('--watch', '--watch', [CompletionResultType]::ParameterName, 'Keep syncing, every INTERVAL (like 10s), until stopped [default: once]')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format (json: one object per sync)')
            [CompletionResult]::new('--auth-file', '--auth-file', [CompletionResultType]::ParameterName, 'The auth.json to use [default: $HERMES_HOME/auth.json, else ~/.hermes/auth.json]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'The Hermes config.yaml holding credential_pool_strategies [default: $HERMES_HOME/config.yaml]')
            [CompletionResult]::new('--lock-timeout', '--lock-timeout', [CompletionResultType]::ParameterName, 'Seconds to wait for auth.lock before giving up (exit 6); at most 86400')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colors (NO_COLOR is honoured by `auto`)')
            [CompletionResult]::new('--hermes', '--hermes', [CompletionResultType]::ParameterName, 'Which Hermes''s rules auth.json follows: 0.19, or main (a gateway run from a git checkout) [default: told from the file: model_cooldowns or failure_reason mean main]')
            [CompletionResult]::new('--state', '--state', [CompletionResultType]::ParameterName, 'Share profile status with other hosts through Redis: redis://[user:password@]host:port/db or rediss:// (TLS) [default: this host only]')
            [CompletionResult]::new('--host', '--host', [CompletionResultType]::ParameterName, 'The name this host''s findings carry in the shared state [default: the system''s host name]')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but results and errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but results and errors')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more about what rotor does (every file it uses: auth.json, lock, config.yaml, trace)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more about what rotor does (every file it uses: auth.json, lock, config.yaml, trace)')
            [CompletionResult]::new('--share-tokens', '--share-tokens', [CompletionResultType]::ParameterName, 'With --state, refresh OAuth tokens once for the whole fleet and share the new pair through Redis (refused over plain redis:// to another machine)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'rotor;help' {
            [CompletionResult]::new('profiles', 'profiles', [CompletionResultType]::ParameterValue, 'List profiles and their health')
            [CompletionResult]::new('cooldown', 'cooldown', [CompletionResultType]::ParameterValue, 'Set or clear a profile''s cooldown by hand, safely while Hermes runs')
            [CompletionResult]::new('simulate', 'simulate', [CompletionResultType]::ParameterValue, 'Run the rotation engine on a scripted scenario, offline (virtual clock, no writes)')
            [CompletionResult]::new('call', 'call', [CompletionResultType]::ParameterValue, 'Send one request through the rotation engine, writing profile state back')
            [CompletionResult]::new('serve', 'serve', [CompletionResultType]::ParameterValue, 'Run a local gateway: clients'' requests go through the rotation engine')
            [CompletionResult]::new('sync', 'sync', [CompletionResultType]::ParameterValue, 'Exchange profile status with the fleet''s Redis (--state): push this host''s, pull the others''')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'rotor;help;profiles' {
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'One row per profile: state, cooldown, last error, token expiry, next pick')
            [CompletionResult]::new('probe', 'probe', [CompletionResultType]::ParameterValue, 'Ask the providers how each profile really is (no quota spent) and update the stored state')
            break
        }
        'rotor;help;profiles;list' {
            break
        }
        'rotor;help;profiles;probe' {
            break
        }
        'rotor;help;cooldown' {
            [CompletionResult]::new('set', 'set', [CompletionResultType]::ParameterValue, 'Put a profile in cooldown until a time or for a duration')
            [CompletionResult]::new('clear', 'clear', [CompletionResultType]::ParameterValue, 'Clear the cooldown of profiles so they are used again')
            break
        }
        'rotor;help;cooldown;set' {
            break
        }
        'rotor;help;cooldown;clear' {
            break
        }
        'rotor;help;simulate' {
            break
        }
        'rotor;help;call' {
            break
        }
        'rotor;help;serve' {
            break
        }
        'rotor;help;sync' {
            break
        }
        'rotor;help;help' {
            break
        }
    })

    $completions.Where{ $_.CompletionText -like "$wordToComplete*" } |
        Sort-Object -Property ListItemText
}
