#!/usr/bin/env bash
# The long variants of the reliability suite (RELIABILITY.md), one command:
#   - crash safety: ROTOR_CRASH_KILLS (default 2000) SIGKILLs during writes
#   - contention: the contention tests repeated ROTOR_CONTENTION_ROUNDS times (default 10)
#   - fuzzing: FUZZ_SECONDS (default 600) per target, corpus kept in fuzz/corpus
# Usage: scripts/reliability-long.sh [crash|contention|fuzz]...   (default: all three)
set -euo pipefail
cd "$(dirname "$0")/.."
parts=("$@")
[ ${#parts[@]} -eq 0 ] && parts=(crash contention fuzz)
for part in "${parts[@]}"; do
    case "$part" in
        crash)
            echo "== crash: ${ROTOR_CRASH_KILLS:-2000} kills"
            cargo test --locked --test it crash::sigkill_during_writes_long -- --ignored --nocapture
            ;;
        contention)
            rounds="${ROTOR_CONTENTION_ROUNDS:-10}"
            for round in $(seq 1 "$rounds"); do
                echo "== contention round $round/$rounds"
                cargo test --locked --test it contention:: -- --nocapture --test-threads=1
            done
            ;;
        fuzz)
            bash scripts/fuzz.sh long
            ;;
        *)
            echo "unknown part: $part (crash, contention or fuzz)" >&2
            exit 2
            ;;
    esac
done
