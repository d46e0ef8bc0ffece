#!/usr/bin/env bash
# Fuzzes rotor's parsers of untrusted input with cargo-fuzz (libFuzzer):
#   auth_json   the auth.json parser (Document::parse) and rotor's re-serialisation
#   scenario    the scenario parser of `rotor simulate`, and the simulation it drives
#   sse         the SSE parser and the Codex / Anthropic / Chat Completions stream decoders
#   error_body  the classifier of provider error bodies (status + headers + body)
#   redact      the redaction of secrets and emails echoed in any disguise (Redactor::clean)
#   fleet       the fleet's records read from Redis and the --state URL
#
#   scripts/fuzz.sh            smoke: FUZZ_RUNS inputs per target (default 20000), as CI runs it
#   scripts/fuzz.sh long       FUZZ_SECONDS per target (default 600), corpus kept in fuzz/corpus
#   scripts/fuzz.sh long sse   only the named targets
#
# No nightly toolchain is needed: RUSTC_BOOTSTRAP=1 lets stable rustc accept the sanitizer
# coverage flags cargo-fuzz passes. Inputs that crash are saved in fuzz/artifacts/<target>/.
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
export RUSTC_BOOTSTRAP=1 CARGO_TERM_COLOR=never

mode=smoke
if [ "${1:-}" = long ]; then
    mode=long
    shift
fi
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    targets=(auth_json scenario sse error_body redact fleet)
fi
if ! command -v cargo-fuzz >/dev/null && [ ! -x "$HOME/.cargo/bin/cargo-fuzz" ]; then
    echo "cargo-fuzz is missing: cargo install cargo-fuzz --locked" >&2
    exit 1
fi

# Safe Rust: panics are what is looked for, so no sanitizer (faster to build and to run).
cargo fuzz build -s none

for target in "${targets[@]}"; do
    corpus="corpus/$target"
    mkdir -p "$corpus"
    dict=json.dict
    [ "$target" = sse ] && dict=sse.dict
    if [ "$mode" = long ]; then
        limit="-max_total_time=${FUZZ_SECONDS:-600}"
    else
        limit="-runs=${FUZZ_RUNS:-20000}"
    fi
    log="$(mktemp)"
    if ! cargo fuzz run -s none "$target" "$corpus" "seeds/$target" -- \
        "$limit" -max_len=65536 -dict="$dict" -print_final_stats=1 >"$log" 2>&1; then
        tail -n 40 "$log"
        echo "fuzz $target: FAILED (crash saved under fuzz/artifacts/$target/)" >&2
        exit 1
    fi
    runs="$(grep -o 'Done [0-9]* runs' "$log" | tail -n 1 | awk '{print $2}')"
    echo "fuzz $target: ${runs:-?} inputs, 0 crashes"
    rm -f "$log"
done
