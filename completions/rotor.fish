# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_rotor_global_optspecs
    string join \n auth-file= config= lock-timeout= color= q/quiet v/verbose hermes= state= share-tokens host= h/help V/version
end

function __fish_rotor_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_rotor_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_rotor_using_subcommand
    set -l cmd (__fish_rotor_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c rotor -n "__fish_rotor_needs_command" -l auth-file -d 'The auth.json to use [default: $HERMES_HOME/auth.json, else ~/.hermes/auth.json]' -r -F
complete -c rotor -n "__fish_rotor_needs_command" -l config -d 'The Hermes config.yaml holding credential_pool_strategies [default: $HERMES_HOME/config.yaml]' -r -F
complete -c rotor -n "__fish_rotor_needs_command" -l lock-timeout -d 'Seconds to wait for auth.lock before giving up (exit 6); at most 86400' -r
complete -c rotor -n "__fish_rotor_needs_command" -l color -d 'When to use colors (NO_COLOR is honoured by `auto`)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c rotor -n "__fish_rotor_needs_command" -l hermes -d 'Which Hermes\'s rules auth.json follows: 0.19, or main (a gateway run from a git checkout) [default: told from the file: model_cooldowns or failure_reason mean main]' -r -f -a "0.19\t''
main\t''"
complete -c rotor -n "__fish_rotor_needs_command" -l state -d 'Share profile status with other hosts through Redis: redis://[user:password@]host:port/db or rediss:// (TLS) [default: this host only]' -r
complete -c rotor -n "__fish_rotor_needs_command" -l host -d 'The name this host\'s findings carry in the shared state [default: the system\'s host name]' -r
complete -c rotor -n "__fish_rotor_needs_command" -s q -l quiet -d 'Print nothing but results and errors'
complete -c rotor -n "__fish_rotor_needs_command" -s v -l verbose -d 'Print more about what rotor does (every file it uses: auth.json, lock, config.yaml, trace)'
complete -c rotor -n "__fish_rotor_needs_command" -l share-tokens -d 'With --state, refresh OAuth tokens once for the whole fleet and share the new pair through Redis (refused over plain redis:// to another machine)'
complete -c rotor -n "__fish_rotor_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c rotor -n "__fish_rotor_needs_command" -s V -l version -d 'Print version'
complete -c rotor -n "__fish_rotor_needs_command" -f -a "profiles" -d 'List profiles and their health'
complete -c rotor -n "__fish_rotor_needs_command" -f -a "cooldown" -d 'Set or clear a profile\'s cooldown by hand, safely while Hermes runs'
complete -c rotor -n "__fish_rotor_needs_command" -f -a "simulate" -d 'Run the rotation engine on a scripted scenario, offline (virtual clock, no writes)'
complete -c rotor -n "__fish_rotor_needs_command" -f -a "call" -d 'Send one request through the rotation engine, writing profile state back'
complete -c rotor -n "__fish_rotor_needs_command" -f -a "serve" -d 'Run a local gateway: clients\' requests go through the rotation engine'
complete -c rotor -n "__fish_rotor_needs_command" -f -a "sync" -d 'Exchange profile status with the fleet\'s Redis (--state): push this host\'s, pull the others\''
complete -c rotor -n "__fish_rotor_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c rotor -n "__fish_rotor_using_subcommand profiles; and not __fish_seen_subcommand_from list probe help" -l auth-file -d 'The auth.json to use [default: $HERMES_HOME/auth.json, else ~/.hermes/auth.json]' -r -F
complete -c rotor -n "__fish_rotor_using_subcommand profiles; and not __fish_seen_subcommand_from list probe help" -l config -d 'The Hermes config.yaml holding credential_pool_strategies [default: $HERMES_HOME/config.yaml]' -r -F
complete -c rotor -n "__fish_rotor_using_subcommand profiles; and not __fish_seen_subcommand_from list probe help" -l lock-timeout -d 'Seconds to wait for auth.lock before giving up (exit 6); at most 86400' -r
complete -c rotor -n "__fish_rotor_using_subcommand profiles; and not __fish_seen_subcommand_from list probe help" -l color -d 'When to use colors (NO_COLOR is honoured by `auto`)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c rotor -n "__fish_rotor_using_subcommand profiles; and not __fish_seen_subcommand_from list probe help" -l hermes -d 'Which Hermes\'s rules auth.json follows: 0.19, or main (a gateway run from a git checkout) [default: told from the file: model_cooldowns or failure_reason mean main]' -r -f -a "0.19\t''
main\t''"
complete -c rotor -n "__fish_rotor_using_subcommand profiles; and not __fish_seen_subcommand_from list probe help" -l state -d 'Share profile status with other hosts through Redis: redis://[user:password@]host:port/db or rediss:// (TLS) [default: this host only]' -r
complete -c rotor -n "__fish_rotor_using_subcommand profiles; and not __fish_seen_subcommand_from list probe help" -l host -d 'The name this host\'s findings carry in the shared state [default: the system\'s host name]' -r
complete -c rotor -n "__fish_rotor_using_subcommand profiles; and not __fish_seen_subcommand_from list probe help" -s q -l quiet -d 'Print nothing but results and errors'
complete -c rotor -n "__fish_rotor_using_subcommand profiles; and not __fish_seen_subcommand_from list probe help" -s v -l verbose -d 'Print more about what rotor does (every file it uses: auth.json, lock, config.yaml, trace)'
complete -c rotor -n "__fish_rotor_using_subcommand profiles; and not __fish_seen_subcommand_from list probe help" -l share-tokens -d 'With --state, refresh OAuth tokens once for the whole fleet and share the new pair through Redis (refused over plain redis:// to another machine)'
complete -c rotor -n "__fish_rotor_using_subcommand profiles; and not __fish_seen_subcommand_from list probe help" -s h -l help -d 'Print help'
complete -c rotor -n "__fish_rotor_using_subcommand profiles; and not __fish_seen_subcommand_from list probe help" -f -a "list" -d 'One row per profile: state, cooldown, last error, token expiry, next pick'
complete -c rotor -n "__fish_rotor_using_subcommand profiles; and not __fish_seen_subcommand_from list probe help" -f -a "probe" -d 'Ask the providers how each profile really is (no quota spent) and update the stored state'
complete -c rotor -n "__fish_rotor_using_subcommand profiles; and not __fish_seen_subcommand_from list probe help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c rotor -n "__fish_rotor_using_subcommand profiles; and __fish_seen_subcommand_from list" -l provider -d 'Only this provider (repeatable) [default: every provider in the pool]' -r
complete -c rotor -n "__fish_rotor_using_subcommand profiles; and __fish_seen_subcommand_from list" -l format -d 'Output format' -r -f -a "table\t''
json\t''
prometheus\t''"
complete -c rotor -n "__fish_rotor_using_subcommand profiles; and __fish_seen_subcommand_from list" -l at -d 'Evaluate availability at this time instead of now (RFC 3339, @EPOCH, +DURATION)' -r
complete -c rotor -n "__fish_rotor_using_subcommand profiles; and __fish_seen_subcommand_from list" -l model -d 'Evaluate availability for requests for this model (newer Hermes\'s per-model cooldowns) [default: a request naming no model, which any model cooldown blocks]' -r
complete -c rotor -n "__fish_rotor_using_subcommand profiles; and __fish_seen_subcommand_from list" -l strategy -d 'Selection strategy [default: from config.yaml credential_pool_strategies, else fill_first]' -r -f -a "fill_first\t'First available profile by priority'
round_robin\t'First available, then it moves to the end of the pool (priorities renumbered)'
least_used\t'Fewest requests served (`request_count`), ties by priority'
random\t'Uniformly random among the available (`--seed` makes it repeatable)'"
complete -c rotor -n "__fish_rotor_using_subcommand profiles; and __fish_seen_subcommand_from list" -l seed -d 'Seed for the random strategy, for repeatable picks' -r
complete -c rotor -n "__fish_rotor_using_subcommand profiles; and __fish_seen_subcommand_from list" -l auth-file -d 'The auth.json to use [default: $HERMES_HOME/auth.json, else ~/.hermes/auth.json]' -r -F
complete -c rotor -n "__fish_rotor_using_subcommand profiles; and __fish_seen_subcommand_from list" -l config -d 'The Hermes config.yaml holding credential_pool_strategies [default: $HERMES_HOME/config.yaml]' -r -F
complete -c rotor -n "__fish_rotor_using_subcommand profiles; and __fish_seen_subcommand_from list" -l lock-timeout -d 'Seconds to wait for auth.lock before giving up (exit 6); at most 86400' -r
complete -c rotor -n "__fish_rotor_using_subcommand profiles; and __fish_seen_subcommand_from list" -l color -d 'When to use colors (NO_COLOR is honoured by `auto`)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c rotor -n "__fish_rotor_using_subcommand profiles; and __fish_seen_subcommand_from list" -l hermes -d 'Which Hermes\'s rules auth.json follows: 0.19, or main (a gateway run from a git checkout) [default: told from the file: model_cooldowns or failure_reason mean main]' -r -f -a "0.19\t''
main\t''"
complete -c rotor -n "__fish_rotor_using_subcommand profiles; and __fish_seen_subcommand_from list" -l state -d 'Share profile status with other hosts through Redis: redis://[user:password@]host:port/db or rediss:// (TLS) [default: this host only]' -r
complete -c rotor -n "__fish_rotor_using_subcommand profiles; and __fish_seen_subcommand_from list" -l host -d 'The name this host\'s findings carry in the shared state [default: the system\'s host name]' -r
complete -c rotor -n "__fish_rotor_using_subcommand profiles; and __fish_seen_subcommand_from list" -l check -d 'Exit 3 when a listed provider has no available profile'
complete -c rotor -n "__fish_rotor_using_subcommand profiles; and __fish_seen_subcommand_from list" -s q -l quiet -d 'Print nothing but results and errors'
complete -c rotor -n "__fish_rotor_using_subcommand profiles; and __fish_seen_subcommand_from list" -s v -l verbose -d 'Print more about what rotor does (every file it uses: auth.json, lock, config.yaml, trace)'
complete -c rotor -n "__fish_rotor_using_subcommand profiles; and __fish_seen_subcommand_from list" -l share-tokens -d 'With --state, refresh OAuth tokens once for the whole fleet and share the new pair through Redis (refused over plain redis:// to another machine)'
complete -c rotor -n "__fish_rotor_using_subcommand profiles; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c rotor -n "__fish_rotor_using_subcommand profiles; and __fish_seen_subcommand_from probe" -l provider -d 'Only this provider (repeatable)' -r
complete -c rotor -n "__fish_rotor_using_subcommand profiles; and __fish_seen_subcommand_from probe" -l format -d 'Output format' -r -f -a "table\t''
json\t''
prometheus\t''"
complete -c rotor -n "__fish_rotor_using_subcommand profiles; and __fish_seen_subcommand_from probe" -l base-url -d 'Probe this base URL instead of each profile\'s (proxies, tests)' -r
complete -c rotor -n "__fish_rotor_using_subcommand profiles; and __fish_seen_subcommand_from probe" -l token-url -d 'OAuth token endpoint for refreshes [default: https://auth.openai.com/oauth/token]' -r
complete -c rotor -n "__fish_rotor_using_subcommand profiles; and __fish_seen_subcommand_from probe" -l timeout -d 'Longest wait for one probe' -r
complete -c rotor -n "__fish_rotor_using_subcommand profiles; and __fish_seen_subcommand_from probe" -l concurrency -d 'Profiles probed at the same time' -r
complete -c rotor -n "__fish_rotor_using_subcommand profiles; and __fish_seen_subcommand_from probe" -l max-cooldown -d 'Longest cooldown stored from a provider\'s reset time; a later one is capped' -r
complete -c rotor -n "__fish_rotor_using_subcommand profiles; and __fish_seen_subcommand_from probe" -l strategy -d 'Selection strategy [default: from config.yaml credential_pool_strategies, else fill_first]' -r -f -a "fill_first\t'First available profile by priority'
round_robin\t'First available, then it moves to the end of the pool (priorities renumbered)'
least_used\t'Fewest requests served (`request_count`), ties by priority'
random\t'Uniformly random among the available (`--seed` makes it repeatable)'"
complete -c rotor -n "__fish_rotor_using_subcommand profiles; and __fish_seen_subcommand_from probe" -l seed -d 'Seed for the random strategy, for repeatable picks' -r
complete -c rotor -n "__fish_rotor_using_subcommand profiles; and __fish_seen_subcommand_from probe" -l auth-file -d 'The auth.json to use [default: $HERMES_HOME/auth.json, else ~/.hermes/auth.json]' -r -F
complete -c rotor -n "__fish_rotor_using_subcommand profiles; and __fish_seen_subcommand_from probe" -l config -d 'The Hermes config.yaml holding credential_pool_strategies [default: $HERMES_HOME/config.yaml]' -r -F
complete -c rotor -n "__fish_rotor_using_subcommand profiles; and __fish_seen_subcommand_from probe" -l lock-timeout -d 'Seconds to wait for auth.lock before giving up (exit 6); at most 86400' -r
complete -c rotor -n "__fish_rotor_using_subcommand profiles; and __fish_seen_subcommand_from probe" -l color -d 'When to use colors (NO_COLOR is honoured by `auto`)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c rotor -n "__fish_rotor_using_subcommand profiles; and __fish_seen_subcommand_from probe" -l hermes -d 'Which Hermes\'s rules auth.json follows: 0.19, or main (a gateway run from a git checkout) [default: told from the file: model_cooldowns or failure_reason mean main]' -r -f -a "0.19\t''
main\t''"
complete -c rotor -n "__fish_rotor_using_subcommand profiles; and __fish_seen_subcommand_from probe" -l state -d 'Share profile status with other hosts through Redis: redis://[user:password@]host:port/db or rediss:// (TLS) [default: this host only]' -r
complete -c rotor -n "__fish_rotor_using_subcommand profiles; and __fish_seen_subcommand_from probe" -l host -d 'The name this host\'s findings carry in the shared state [default: the system\'s host name]' -r
complete -c rotor -n "__fish_rotor_using_subcommand profiles; and __fish_seen_subcommand_from probe" -s q -l quiet -d 'Print nothing but results and errors'
complete -c rotor -n "__fish_rotor_using_subcommand profiles; and __fish_seen_subcommand_from probe" -s v -l verbose -d 'Print more about what rotor does (every file it uses: auth.json, lock, config.yaml, trace)'
complete -c rotor -n "__fish_rotor_using_subcommand profiles; and __fish_seen_subcommand_from probe" -l share-tokens -d 'With --state, refresh OAuth tokens once for the whole fleet and share the new pair through Redis (refused over plain redis:// to another machine)'
complete -c rotor -n "__fish_rotor_using_subcommand profiles; and __fish_seen_subcommand_from probe" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c rotor -n "__fish_rotor_using_subcommand profiles; and __fish_seen_subcommand_from help" -f -a "list" -d 'One row per profile: state, cooldown, last error, token expiry, next pick'
complete -c rotor -n "__fish_rotor_using_subcommand profiles; and __fish_seen_subcommand_from help" -f -a "probe" -d 'Ask the providers how each profile really is (no quota spent) and update the stored state'
complete -c rotor -n "__fish_rotor_using_subcommand profiles; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c rotor -n "__fish_rotor_using_subcommand cooldown; and not __fish_seen_subcommand_from set clear help" -l auth-file -d 'The auth.json to use [default: $HERMES_HOME/auth.json, else ~/.hermes/auth.json]' -r -F
complete -c rotor -n "__fish_rotor_using_subcommand cooldown; and not __fish_seen_subcommand_from set clear help" -l config -d 'The Hermes config.yaml holding credential_pool_strategies [default: $HERMES_HOME/config.yaml]' -r -F
complete -c rotor -n "__fish_rotor_using_subcommand cooldown; and not __fish_seen_subcommand_from set clear help" -l lock-timeout -d 'Seconds to wait for auth.lock before giving up (exit 6); at most 86400' -r
complete -c rotor -n "__fish_rotor_using_subcommand cooldown; and not __fish_seen_subcommand_from set clear help" -l color -d 'When to use colors (NO_COLOR is honoured by `auto`)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c rotor -n "__fish_rotor_using_subcommand cooldown; and not __fish_seen_subcommand_from set clear help" -l hermes -d 'Which Hermes\'s rules auth.json follows: 0.19, or main (a gateway run from a git checkout) [default: told from the file: model_cooldowns or failure_reason mean main]' -r -f -a "0.19\t''
main\t''"
complete -c rotor -n "__fish_rotor_using_subcommand cooldown; and not __fish_seen_subcommand_from set clear help" -l state -d 'Share profile status with other hosts through Redis: redis://[user:password@]host:port/db or rediss:// (TLS) [default: this host only]' -r
complete -c rotor -n "__fish_rotor_using_subcommand cooldown; and not __fish_seen_subcommand_from set clear help" -l host -d 'The name this host\'s findings carry in the shared state [default: the system\'s host name]' -r
complete -c rotor -n "__fish_rotor_using_subcommand cooldown; and not __fish_seen_subcommand_from set clear help" -s q -l quiet -d 'Print nothing but results and errors'
complete -c rotor -n "__fish_rotor_using_subcommand cooldown; and not __fish_seen_subcommand_from set clear help" -s v -l verbose -d 'Print more about what rotor does (every file it uses: auth.json, lock, config.yaml, trace)'
complete -c rotor -n "__fish_rotor_using_subcommand cooldown; and not __fish_seen_subcommand_from set clear help" -l share-tokens -d 'With --state, refresh OAuth tokens once for the whole fleet and share the new pair through Redis (refused over plain redis:// to another machine)'
complete -c rotor -n "__fish_rotor_using_subcommand cooldown; and not __fish_seen_subcommand_from set clear help" -s h -l help -d 'Print help'
complete -c rotor -n "__fish_rotor_using_subcommand cooldown; and not __fish_seen_subcommand_from set clear help" -f -a "set" -d 'Put a profile in cooldown until a time or for a duration'
complete -c rotor -n "__fish_rotor_using_subcommand cooldown; and not __fish_seen_subcommand_from set clear help" -f -a "clear" -d 'Clear the cooldown of profiles so they are used again'
complete -c rotor -n "__fish_rotor_using_subcommand cooldown; and not __fish_seen_subcommand_from set clear help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c rotor -n "__fish_rotor_using_subcommand cooldown; and __fish_seen_subcommand_from set" -l provider -d 'Only look for the profile in this provider' -r
complete -c rotor -n "__fish_rotor_using_subcommand cooldown; and __fish_seen_subcommand_from set" -l until -d 'Cool until this time (RFC 3339, @EPOCH, +DURATION)' -r
complete -c rotor -n "__fish_rotor_using_subcommand cooldown; and __fish_seen_subcommand_from set" -l for -d 'Cool for this long from now (90s, 45m, 2h30m, 1d)' -r
complete -c rotor -n "__fish_rotor_using_subcommand cooldown; and __fish_seen_subcommand_from set" -l reason -d 'Why; stored as last_error_message (one line, at most 200 characters, no email addresses)' -r
complete -c rotor -n "__fish_rotor_using_subcommand cooldown; and __fish_seen_subcommand_from set" -l model -d 'Cool only this model on the profile, in newer Hermes\'s model_cooldowns (the account keeps serving other models); needs newer Hermes\'s rules' -r
complete -c rotor -n "__fish_rotor_using_subcommand cooldown; and __fish_seen_subcommand_from set" -l format -d 'Output format' -r -f -a "table\t''
json\t''"
complete -c rotor -n "__fish_rotor_using_subcommand cooldown; and __fish_seen_subcommand_from set" -l auth-file -d 'The auth.json to use [default: $HERMES_HOME/auth.json, else ~/.hermes/auth.json]' -r -F
complete -c rotor -n "__fish_rotor_using_subcommand cooldown; and __fish_seen_subcommand_from set" -l config -d 'The Hermes config.yaml holding credential_pool_strategies [default: $HERMES_HOME/config.yaml]' -r -F
complete -c rotor -n "__fish_rotor_using_subcommand cooldown; and __fish_seen_subcommand_from set" -l lock-timeout -d 'Seconds to wait for auth.lock before giving up (exit 6); at most 86400' -r
complete -c rotor -n "__fish_rotor_using_subcommand cooldown; and __fish_seen_subcommand_from set" -l color -d 'When to use colors (NO_COLOR is honoured by `auto`)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c rotor -n "__fish_rotor_using_subcommand cooldown; and __fish_seen_subcommand_from set" -l hermes -d 'Which Hermes\'s rules auth.json follows: 0.19, or main (a gateway run from a git checkout) [default: told from the file: model_cooldowns or failure_reason mean main]' -r -f -a "0.19\t''
main\t''"
complete -c rotor -n "__fish_rotor_using_subcommand cooldown; and __fish_seen_subcommand_from set" -l state -d 'Share profile status with other hosts through Redis: redis://[user:password@]host:port/db or rediss:// (TLS) [default: this host only]' -r
complete -c rotor -n "__fish_rotor_using_subcommand cooldown; and __fish_seen_subcommand_from set" -l host -d 'The name this host\'s findings carry in the shared state [default: the system\'s host name]' -r
complete -c rotor -n "__fish_rotor_using_subcommand cooldown; and __fish_seen_subcommand_from set" -l force -d 'Allow a cooldown longer than 30 days'
complete -c rotor -n "__fish_rotor_using_subcommand cooldown; and __fish_seen_subcommand_from set" -s q -l quiet -d 'Print nothing but results and errors'
complete -c rotor -n "__fish_rotor_using_subcommand cooldown; and __fish_seen_subcommand_from set" -s v -l verbose -d 'Print more about what rotor does (every file it uses: auth.json, lock, config.yaml, trace)'
complete -c rotor -n "__fish_rotor_using_subcommand cooldown; and __fish_seen_subcommand_from set" -l share-tokens -d 'With --state, refresh OAuth tokens once for the whole fleet and share the new pair through Redis (refused over plain redis:// to another machine)'
complete -c rotor -n "__fish_rotor_using_subcommand cooldown; and __fish_seen_subcommand_from set" -s h -l help -d 'Print help'
complete -c rotor -n "__fish_rotor_using_subcommand cooldown; and __fish_seen_subcommand_from clear" -l provider -d 'Only this provider' -r
complete -c rotor -n "__fish_rotor_using_subcommand cooldown; and __fish_seen_subcommand_from clear" -l model -d 'Clear only this model\'s cooldown (the account\'s status is left alone); without it, a clear removes the account\'s cooldown and every model cooldown' -r
complete -c rotor -n "__fish_rotor_using_subcommand cooldown; and __fish_seen_subcommand_from clear" -l format -d 'Output format' -r -f -a "table\t''
json\t''"
complete -c rotor -n "__fish_rotor_using_subcommand cooldown; and __fish_seen_subcommand_from clear" -l auth-file -d 'The auth.json to use [default: $HERMES_HOME/auth.json, else ~/.hermes/auth.json]' -r -F
complete -c rotor -n "__fish_rotor_using_subcommand cooldown; and __fish_seen_subcommand_from clear" -l config -d 'The Hermes config.yaml holding credential_pool_strategies [default: $HERMES_HOME/config.yaml]' -r -F
complete -c rotor -n "__fish_rotor_using_subcommand cooldown; and __fish_seen_subcommand_from clear" -l lock-timeout -d 'Seconds to wait for auth.lock before giving up (exit 6); at most 86400' -r
complete -c rotor -n "__fish_rotor_using_subcommand cooldown; and __fish_seen_subcommand_from clear" -l color -d 'When to use colors (NO_COLOR is honoured by `auto`)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c rotor -n "__fish_rotor_using_subcommand cooldown; and __fish_seen_subcommand_from clear" -l hermes -d 'Which Hermes\'s rules auth.json follows: 0.19, or main (a gateway run from a git checkout) [default: told from the file: model_cooldowns or failure_reason mean main]' -r -f -a "0.19\t''
main\t''"
complete -c rotor -n "__fish_rotor_using_subcommand cooldown; and __fish_seen_subcommand_from clear" -l state -d 'Share profile status with other hosts through Redis: redis://[user:password@]host:port/db or rediss:// (TLS) [default: this host only]' -r
complete -c rotor -n "__fish_rotor_using_subcommand cooldown; and __fish_seen_subcommand_from clear" -l host -d 'The name this host\'s findings carry in the shared state [default: the system\'s host name]' -r
complete -c rotor -n "__fish_rotor_using_subcommand cooldown; and __fish_seen_subcommand_from clear" -l all -d 'Clear every cooling profile (of --provider, if given)'
complete -c rotor -n "__fish_rotor_using_subcommand cooldown; and __fish_seen_subcommand_from clear" -s q -l quiet -d 'Print nothing but results and errors'
complete -c rotor -n "__fish_rotor_using_subcommand cooldown; and __fish_seen_subcommand_from clear" -s v -l verbose -d 'Print more about what rotor does (every file it uses: auth.json, lock, config.yaml, trace)'
complete -c rotor -n "__fish_rotor_using_subcommand cooldown; and __fish_seen_subcommand_from clear" -l share-tokens -d 'With --state, refresh OAuth tokens once for the whole fleet and share the new pair through Redis (refused over plain redis:// to another machine)'
complete -c rotor -n "__fish_rotor_using_subcommand cooldown; and __fish_seen_subcommand_from clear" -s h -l help -d 'Print help'
complete -c rotor -n "__fish_rotor_using_subcommand cooldown; and __fish_seen_subcommand_from help" -f -a "set" -d 'Put a profile in cooldown until a time or for a duration'
complete -c rotor -n "__fish_rotor_using_subcommand cooldown; and __fish_seen_subcommand_from help" -f -a "clear" -d 'Clear the cooldown of profiles so they are used again'
complete -c rotor -n "__fish_rotor_using_subcommand cooldown; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c rotor -n "__fish_rotor_using_subcommand simulate" -l format -d 'Output format: readable trace and pool table, or JSON Lines events' -r -f -a "table\t''
json\t''"
complete -c rotor -n "__fish_rotor_using_subcommand simulate" -l seed -d 'Seed for the random strategy and backoff jitter [default: the scenario\'s `seed`, else 0]' -r
complete -c rotor -n "__fish_rotor_using_subcommand simulate" -l auth-file -d 'The auth.json to use [default: $HERMES_HOME/auth.json, else ~/.hermes/auth.json]' -r -F
complete -c rotor -n "__fish_rotor_using_subcommand simulate" -l config -d 'The Hermes config.yaml holding credential_pool_strategies [default: $HERMES_HOME/config.yaml]' -r -F
complete -c rotor -n "__fish_rotor_using_subcommand simulate" -l lock-timeout -d 'Seconds to wait for auth.lock before giving up (exit 6); at most 86400' -r
complete -c rotor -n "__fish_rotor_using_subcommand simulate" -l color -d 'When to use colors (NO_COLOR is honoured by `auto`)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c rotor -n "__fish_rotor_using_subcommand simulate" -l hermes -d 'Which Hermes\'s rules auth.json follows: 0.19, or main (a gateway run from a git checkout) [default: told from the file: model_cooldowns or failure_reason mean main]' -r -f -a "0.19\t''
main\t''"
complete -c rotor -n "__fish_rotor_using_subcommand simulate" -l state -d 'Share profile status with other hosts through Redis: redis://[user:password@]host:port/db or rediss:// (TLS) [default: this host only]' -r
complete -c rotor -n "__fish_rotor_using_subcommand simulate" -l host -d 'The name this host\'s findings carry in the shared state [default: the system\'s host name]' -r
complete -c rotor -n "__fish_rotor_using_subcommand simulate" -s q -l quiet -d 'Print nothing but results and errors'
complete -c rotor -n "__fish_rotor_using_subcommand simulate" -s v -l verbose -d 'Print more about what rotor does (every file it uses: auth.json, lock, config.yaml, trace)'
complete -c rotor -n "__fish_rotor_using_subcommand simulate" -l share-tokens -d 'With --state, refresh OAuth tokens once for the whole fleet and share the new pair through Redis (refused over plain redis:// to another machine)'
complete -c rotor -n "__fish_rotor_using_subcommand simulate" -s h -l help -d 'Print help'
complete -c rotor -n "__fish_rotor_using_subcommand call" -l provider -d 'The provider whose pool serves the request [default: auth.json\'s active_provider, else the only provider]' -r
complete -c rotor -n "__fish_rotor_using_subcommand call" -l model -d 'Model name [default: gpt-5.5 for openai-codex, claude-sonnet-4-5 for anthropic, openrouter/auto for openrouter]' -r
complete -c rotor -n "__fish_rotor_using_subcommand call" -l system -d 'System prompt (Codex: instructions)' -r
complete -c rotor -n "__fish_rotor_using_subcommand call" -l format -d 'Output: the streamed text, or the final response object as JSON' -r -f -a "text\t'The answer text, streamed as it arrives'
json\t'The provider\'s final response object, once complete'"
complete -c rotor -n "__fish_rotor_using_subcommand call" -l strategy -d 'Selection strategy [default: from config.yaml credential_pool_strategies, else fill_first]' -r -f -a "fill_first\t'First available profile by priority'
round_robin\t'First available, then it moves to the end of the pool (priorities renumbered)'
least_used\t'Fewest requests served (`request_count`), ties by priority'
random\t'Uniformly random among the available (`--seed` makes it repeatable)'"
complete -c rotor -n "__fish_rotor_using_subcommand call" -l seed -d 'Seed for the random strategy, for repeatable picks' -r
complete -c rotor -n "__fish_rotor_using_subcommand call" -l attempts -d 'Attempts per profile for transient failures (5xx, timeouts, throttling)' -r
complete -c rotor -n "__fish_rotor_using_subcommand call" -l max-profiles -d 'Most profiles to try in this request [default: every available profile]' -r
complete -c rotor -n "__fish_rotor_using_subcommand call" -l max-wait -d 'Longest single wait for a backoff or Retry-After' -r
complete -c rotor -n "__fish_rotor_using_subcommand call" -l timeout -d 'Longest silence within one attempt: connecting, awaiting the answer, between chunks' -r
complete -c rotor -n "__fish_rotor_using_subcommand call" -l max-output -d 'Most answer taken from one attempt (e.g. 64MiB); past it the request fails (call: exit 4)' -r
complete -c rotor -n "__fish_rotor_using_subcommand call" -l max-cooldown -d 'Longest cooldown stored from a provider\'s reset time; a later one is capped' -r
complete -c rotor -n "__fish_rotor_using_subcommand call" -l deadline -d 'Limit for the whole request, all attempts and waits included [default: none]' -r
complete -c rotor -n "__fish_rotor_using_subcommand call" -l base-url -d 'Send every attempt to this base URL instead of the profile\'s (proxies, tests)' -r
complete -c rotor -n "__fish_rotor_using_subcommand call" -l token-url -d 'OAuth token endpoint for refreshes [default: https://auth.openai.com/oauth/token]' -r
complete -c rotor -n "__fish_rotor_using_subcommand call" -l trace -d 'Trace of the rotation on stderr' -r -f -a "human\t'One readable line per event'
json\t'One JSON object per event (JSON Lines)'
off\t'No trace'"
complete -c rotor -n "__fish_rotor_using_subcommand call" -l trace-file -d 'Also append the trace as JSON Lines to this file (not auth.json or its lock)' -r -F
complete -c rotor -n "__fish_rotor_using_subcommand call" -l auth-file -d 'The auth.json to use [default: $HERMES_HOME/auth.json, else ~/.hermes/auth.json]' -r -F
complete -c rotor -n "__fish_rotor_using_subcommand call" -l config -d 'The Hermes config.yaml holding credential_pool_strategies [default: $HERMES_HOME/config.yaml]' -r -F
complete -c rotor -n "__fish_rotor_using_subcommand call" -l lock-timeout -d 'Seconds to wait for auth.lock before giving up (exit 6); at most 86400' -r
complete -c rotor -n "__fish_rotor_using_subcommand call" -l color -d 'When to use colors (NO_COLOR is honoured by `auto`)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c rotor -n "__fish_rotor_using_subcommand call" -l hermes -d 'Which Hermes\'s rules auth.json follows: 0.19, or main (a gateway run from a git checkout) [default: told from the file: model_cooldowns or failure_reason mean main]' -r -f -a "0.19\t''
main\t''"
complete -c rotor -n "__fish_rotor_using_subcommand call" -l state -d 'Share profile status with other hosts through Redis: redis://[user:password@]host:port/db or rediss:// (TLS) [default: this host only]' -r
complete -c rotor -n "__fish_rotor_using_subcommand call" -l host -d 'The name this host\'s findings carry in the shared state [default: the system\'s host name]' -r
complete -c rotor -n "__fish_rotor_using_subcommand call" -l raw -d 'Print the answer\'s bytes as sent even on a terminal (escape sequences included)'
complete -c rotor -n "__fish_rotor_using_subcommand call" -s q -l quiet -d 'Print nothing but results and errors'
complete -c rotor -n "__fish_rotor_using_subcommand call" -s v -l verbose -d 'Print more about what rotor does (every file it uses: auth.json, lock, config.yaml, trace)'
complete -c rotor -n "__fish_rotor_using_subcommand call" -l share-tokens -d 'With --state, refresh OAuth tokens once for the whole fleet and share the new pair through Redis (refused over plain redis:// to another machine)'
complete -c rotor -n "__fish_rotor_using_subcommand call" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c rotor -n "__fish_rotor_using_subcommand serve" -l listen -d 'Address and port to listen on; only loopback addresses without --allow-remote' -r
complete -c rotor -n "__fish_rotor_using_subcommand serve" -l key-file -d 'The key clients must send [default: $HERMES_HOME/rotor-serve.key, made on the first start]' -r -F
complete -c rotor -n "__fish_rotor_using_subcommand serve" -l route -d 'Which pool answers an API: responses, chat or messages=PROVIDER, or =none (repeatable)' -r
complete -c rotor -n "__fish_rotor_using_subcommand serve" -l max-concurrency -d 'Most requests in flight; one more gets 503 at once' -r
complete -c rotor -n "__fish_rotor_using_subcommand serve" -l max-body -d 'Largest request body taken (e.g. 32MiB); a larger one gets 413' -r
complete -c rotor -n "__fish_rotor_using_subcommand serve" -l drain-timeout -d 'How long requests in flight may finish after SIGTERM or SIGINT' -r
complete -c rotor -n "__fish_rotor_using_subcommand serve" -l client-timeout -d 'Longest wait on a client: for its request to arrive, or to read on in its answer' -r
complete -c rotor -n "__fish_rotor_using_subcommand serve" -l strategy -d 'Selection strategy [default: from config.yaml credential_pool_strategies, else fill_first]' -r -f -a "fill_first\t'First available profile by priority'
round_robin\t'First available, then it moves to the end of the pool (priorities renumbered)'
least_used\t'Fewest requests served (`request_count`), ties by priority'
random\t'Uniformly random among the available (`--seed` makes it repeatable)'"
complete -c rotor -n "__fish_rotor_using_subcommand serve" -l attempts -d 'Attempts per profile for transient failures (5xx, timeouts, throttling)' -r
complete -c rotor -n "__fish_rotor_using_subcommand serve" -l max-profiles -d 'Most profiles to try in this request [default: every available profile]' -r
complete -c rotor -n "__fish_rotor_using_subcommand serve" -l max-wait -d 'Longest single wait for a backoff or Retry-After' -r
complete -c rotor -n "__fish_rotor_using_subcommand serve" -l timeout -d 'Longest silence within one attempt: connecting, awaiting the answer, between chunks' -r
complete -c rotor -n "__fish_rotor_using_subcommand serve" -l max-output -d 'Most answer taken from one attempt (e.g. 64MiB); past it the request fails (call: exit 4)' -r
complete -c rotor -n "__fish_rotor_using_subcommand serve" -l max-cooldown -d 'Longest cooldown stored from a provider\'s reset time; a later one is capped' -r
complete -c rotor -n "__fish_rotor_using_subcommand serve" -l deadline -d 'Limit for the whole request, all attempts and waits included [default: none]' -r
complete -c rotor -n "__fish_rotor_using_subcommand serve" -l base-url -d 'Send every attempt to this base URL instead of the profile\'s (proxies, tests)' -r
complete -c rotor -n "__fish_rotor_using_subcommand serve" -l token-url -d 'OAuth token endpoint for refreshes [default: https://auth.openai.com/oauth/token]' -r
complete -c rotor -n "__fish_rotor_using_subcommand serve" -l trace -d 'Trace of the rotation on stderr' -r -f -a "human\t'One readable line per event'
json\t'One JSON object per event (JSON Lines)'
off\t'No trace'"
complete -c rotor -n "__fish_rotor_using_subcommand serve" -l trace-file -d 'Also append the trace as JSON Lines to this file (not auth.json or its lock)' -r -F
complete -c rotor -n "__fish_rotor_using_subcommand serve" -l auth-file -d 'The auth.json to use [default: $HERMES_HOME/auth.json, else ~/.hermes/auth.json]' -r -F
complete -c rotor -n "__fish_rotor_using_subcommand serve" -l config -d 'The Hermes config.yaml holding credential_pool_strategies [default: $HERMES_HOME/config.yaml]' -r -F
complete -c rotor -n "__fish_rotor_using_subcommand serve" -l lock-timeout -d 'Seconds to wait for auth.lock before giving up (exit 6); at most 86400' -r
complete -c rotor -n "__fish_rotor_using_subcommand serve" -l color -d 'When to use colors (NO_COLOR is honoured by `auto`)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c rotor -n "__fish_rotor_using_subcommand serve" -l hermes -d 'Which Hermes\'s rules auth.json follows: 0.19, or main (a gateway run from a git checkout) [default: told from the file: model_cooldowns or failure_reason mean main]' -r -f -a "0.19\t''
main\t''"
complete -c rotor -n "__fish_rotor_using_subcommand serve" -l state -d 'Share profile status with other hosts through Redis: redis://[user:password@]host:port/db or rediss:// (TLS) [default: this host only]' -r
complete -c rotor -n "__fish_rotor_using_subcommand serve" -l host -d 'The name this host\'s findings carry in the shared state [default: the system\'s host name]' -r
complete -c rotor -n "__fish_rotor_using_subcommand serve" -l allow-remote -d 'Allow --listen on an address other hosts can reach (clients still need the key)'
complete -c rotor -n "__fish_rotor_using_subcommand serve" -s q -l quiet -d 'Print nothing but results and errors'
complete -c rotor -n "__fish_rotor_using_subcommand serve" -s v -l verbose -d 'Print more about what rotor does (every file it uses: auth.json, lock, config.yaml, trace)'
complete -c rotor -n "__fish_rotor_using_subcommand serve" -l share-tokens -d 'With --state, refresh OAuth tokens once for the whole fleet and share the new pair through Redis (refused over plain redis:// to another machine)'
complete -c rotor -n "__fish_rotor_using_subcommand serve" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c rotor -n "__fish_rotor_using_subcommand sync" -l watch -d 'Keep syncing, every INTERVAL (like 10s), until stopped [default: once]' -r
complete -c rotor -n "__fish_rotor_using_subcommand sync" -l format -d 'Output format (json: one object per sync)' -r -f -a "table\t''
json\t''"
complete -c rotor -n "__fish_rotor_using_subcommand sync" -l auth-file -d 'The auth.json to use [default: $HERMES_HOME/auth.json, else ~/.hermes/auth.json]' -r -F
complete -c rotor -n "__fish_rotor_using_subcommand sync" -l config -d 'The Hermes config.yaml holding credential_pool_strategies [default: $HERMES_HOME/config.yaml]' -r -F
complete -c rotor -n "__fish_rotor_using_subcommand sync" -l lock-timeout -d 'Seconds to wait for auth.lock before giving up (exit 6); at most 86400' -r
complete -c rotor -n "__fish_rotor_using_subcommand sync" -l color -d 'When to use colors (NO_COLOR is honoured by `auto`)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c rotor -n "__fish_rotor_using_subcommand sync" -l hermes -d 'Which Hermes\'s rules auth.json follows: 0.19, or main (a gateway run from a git checkout) [default: told from the file: model_cooldowns or failure_reason mean main]' -r -f -a "0.19\t''
main\t''"
complete -c rotor -n "__fish_rotor_using_subcommand sync" -l state -d 'Share profile status with other hosts through Redis: redis://[user:password@]host:port/db or rediss:// (TLS) [default: this host only]' -r
complete -c rotor -n "__fish_rotor_using_subcommand sync" -l host -d 'The name this host\'s findings carry in the shared state [default: the system\'s host name]' -r
complete -c rotor -n "__fish_rotor_using_subcommand sync" -s q -l quiet -d 'Print nothing but results and errors'
complete -c rotor -n "__fish_rotor_using_subcommand sync" -s v -l verbose -d 'Print more about what rotor does (every file it uses: auth.json, lock, config.yaml, trace)'
complete -c rotor -n "__fish_rotor_using_subcommand sync" -l share-tokens -d 'With --state, refresh OAuth tokens once for the whole fleet and share the new pair through Redis (refused over plain redis:// to another machine)'
complete -c rotor -n "__fish_rotor_using_subcommand sync" -s h -l help -d 'Print help'
complete -c rotor -n "__fish_rotor_using_subcommand help; and not __fish_seen_subcommand_from profiles cooldown simulate call serve sync help" -f -a "profiles" -d 'List profiles and their health'
complete -c rotor -n "__fish_rotor_using_subcommand help; and not __fish_seen_subcommand_from profiles cooldown simulate call serve sync help" -f -a "cooldown" -d 'Set or clear a profile\'s cooldown by hand, safely while Hermes runs'
complete -c rotor -n "__fish_rotor_using_subcommand help; and not __fish_seen_subcommand_from profiles cooldown simulate call serve sync help" -f -a "simulate" -d 'Run the rotation engine on a scripted scenario, offline (virtual clock, no writes)'
complete -c rotor -n "__fish_rotor_using_subcommand help; and not __fish_seen_subcommand_from profiles cooldown simulate call serve sync help" -f -a "call" -d 'Send one request through the rotation engine, writing profile state back'
complete -c rotor -n "__fish_rotor_using_subcommand help; and not __fish_seen_subcommand_from profiles cooldown simulate call serve sync help" -f -a "serve" -d 'Run a local gateway: clients\' requests go through the rotation engine'
complete -c rotor -n "__fish_rotor_using_subcommand help; and not __fish_seen_subcommand_from profiles cooldown simulate call serve sync help" -f -a "sync" -d 'Exchange profile status with the fleet\'s Redis (--state): push this host\'s, pull the others\''
complete -c rotor -n "__fish_rotor_using_subcommand help; and not __fish_seen_subcommand_from profiles cooldown simulate call serve sync help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c rotor -n "__fish_rotor_using_subcommand help; and __fish_seen_subcommand_from profiles" -f -a "list" -d 'One row per profile: state, cooldown, last error, token expiry, next pick'
complete -c rotor -n "__fish_rotor_using_subcommand help; and __fish_seen_subcommand_from profiles" -f -a "probe" -d 'Ask the providers how each profile really is (no quota spent) and update the stored state'
complete -c rotor -n "__fish_rotor_using_subcommand help; and __fish_seen_subcommand_from cooldown" -f -a "set" -d 'Put a profile in cooldown until a time or for a duration'
complete -c rotor -n "__fish_rotor_using_subcommand help; and __fish_seen_subcommand_from cooldown" -f -a "clear" -d 'Clear the cooldown of profiles so they are used again'
