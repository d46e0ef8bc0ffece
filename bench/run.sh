#!/usr/bin/env bash
# rotor against what a user would run instead, measured side by side with hyperfine, and the
# budgets of issue 7 checked on the way. The numbers and what was done to reach them are in
# PERFORMANCE.md.
#
#   bench/run.sh               the full run (about eight minutes, most of it Hermes's and
#                              LiteLLM's start-up and LiteLLM's latency pairs)
#   bench/run.sh --quick       fewer runs, a shorter scenario, fewer pairs (about three minutes)
#   bench/run.sh --serve-only  only the `rotor serve` rows (section 6; with --quick too)
#
# Needs: cargo, python3 (with venv), hyperfine, jq and curl (the last three are installed with
# apt-get when missing), and network access to PyPI for hermes-agent==0.19.0 and
# litellm[proxy]==1.108.7, which go into temporary virtualenvs (set HERMES_VENV=DIR and
# LITELLM_VENV=DIR to keep and reuse them). Everything else lives in a temporary directory that
# is removed at the end. ROTOR_BIN=PATH measures that binary instead of building this checkout
# (the serve rows' tools, bench/serve-bench, are still built from it). CARGO_TARGET_DIR is
# honoured.
#
# Exit status: 0 when every budget is met, 1 when one is missed, 2 when the bench itself failed.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}

QUICK=0
SERVE_ONLY=0
STATE_ONLY=0
for arg in "$@"; do
    case "$arg" in
        --quick) QUICK=1 ;;
        --serve-only) SERVE_ONLY=1 ;;
        --state-only) STATE_ONLY=1 ;;
        *) echo "usage: bench/run.sh [--quick] [--serve-only | --state-only]" >&2; exit 2 ;;
    esac
done

say() { printf '== %s\n' "$*" >&2; }
die() { printf 'bench: %s\n' "$*" >&2; exit 2; }

# --- tools -------------------------------------------------------------------------------------
missing=()
for tool in hyperfine jq curl redis-server; do
    command -v "$tool" >/dev/null || missing+=("$tool")
done
command -v python3 >/dev/null || missing+=(python3)
if ! python3 -c 'import ensurepip, venv' 2>/dev/null; then missing+=(python3-venv); fi
if ((${#missing[@]})); then
    say "installing ${missing[*]} with apt-get"
    SUDO=""
    if [[ $(id -u) != 0 ]]; then SUDO=sudo; fi
    $SUDO apt-get update -qq && $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

if [[ -n ${ROTOR_BIN:-} ]]; then
    # Another build of rotor, e.g. an older commit's, measured the same way.
    ROTOR=$(realpath "$ROTOR_BIN")
else
    say "cargo build --release"
    cargo build --release --locked --quiet
    ROTOR=$TARGET/release/rotor
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/rotor-bench.XXXXXX")
SERVER_PID=""
# Every other background process the bench starts (section 6), stopped at the end.
PIDS=()
cleanup() {
    if [[ -n $SERVER_PID ]]; then kill "$SERVER_PID" 2>/dev/null || true; fi
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    rm -rf "$WORK"
}
trap cleanup EXIT

if ((QUICK)); then
    RUNS=(--warmup 3 --min-runs 15 --max-runs 40)
    SLOW_RUNS=(--warmup 1 --runs 8)
    SIM_REQUESTS=20000
else
    RUNS=(--warmup 10 --min-runs 60 --max-runs 200)
    SLOW_RUNS=(--warmup 2 --runs 25)
    SIM_REQUESTS=100000
fi

FIXTURE=$ROOT/tests/fixtures/hermes-0.19/fresh.json
# hyperfine --export-json of each group goes here; the report at the end reads them all.
RESULTS=$WORK/results
mkdir -p "$RESULTS"

PYTHON=python3
# Sections 1 to 5 (the CLI's rows), skipped by --serve-only and --state-only; left unindented.
if ((!SERVE_ONLY && !STATE_ONLY)); then

# --- Hermes in a virtualenv --------------------------------------------------------------------
VENV=${HERMES_VENV:-$WORK/venv}
if [[ ! -x $VENV/bin/hermes ]]; then
    say "pip install hermes-agent==0.19.0 into $VENV"
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install --quiet --disable-pip-version-check hermes-agent==0.19.0
fi
# The interpreter itself, not a wrapper script (pyenv shims cost ~100 ms per start).
PYTHON=$("$VENV/bin/python" -c 'import os, sys; print(os.path.realpath(sys.executable))')

# --- 1. profiles list on the 3-profile fixture -------------------------------------------------
# Hermes and rotor both find auth.json through HERMES_HOME; `hermes auth list` rewrites the file
# (it strips env-sourced keys and adds fingerprints), so every run starts from the fixture.
export HERMES_HOME=$WORK/home
mkdir -p "$HERMES_HOME"
AUTH=$HERMES_HOME/auth.json
cp "$FIXTURE" "$AUTH"

say "checking that each lister really lists"
hermes_out=$("$VENV/bin/hermes" auth list 2>&1) || die "hermes auth list failed: $hermes_out"
for want in "openai-codex (3 credentials)" "pro@example.com" "team-a@example.com" "team-b@example.com"; do
    grep -qF "$want" <<<"$hermes_out" || die "hermes auth list did not print '$want': $hermes_out"
done
cp "$FIXTURE" "$AUTH"
rotor_out=$("$ROTOR" profiles list --color never)
for want in "openai-codex: 3/3 available" "pro@example.com" "team-a@example.com" "team-b@example.com"; do
    grep -qF "$want" <<<"$rotor_out" || die "rotor profiles list did not print '$want': $rotor_out"
done

say "profiles list vs cat, jq, hermes auth list"
hyperfine -N "${RUNS[@]}" --style basic --export-json "$RESULTS/list.json" \
    --prepare "cp $FIXTURE $AUTH" \
    -n cat "cat $AUTH" \
    -n rotor_list "$ROTOR profiles list" \
    -n jq "jq . $AUTH" >&2
hyperfine -N "${SLOW_RUNS[@]}" --style basic --export-json "$RESULTS/hermes.json" \
    --prepare "cp $FIXTURE $AUTH" \
    -n rotor_list_again "$ROTOR profiles list" \
    -n hermes_list "$VENV/bin/hermes auth list" >&2

# --- 2. one locked, fsynced update -------------------------------------------------------------
say "cooldown set vs Hermes's lock-and-replace in Python"
mkdir -p "$WORK/cd-rotor" "$WORK/cd-python"
cp "$FIXTURE" "$WORK/cd-rotor/auth.json"
cp "$FIXTURE" "$WORK/cd-python/auth.json"
"$ROTOR" --auth-file "$WORK/cd-rotor/auth.json" cooldown set 'openai-codex#1' --for 1h --reason bench >/dev/null
"$PYTHON" bench/hermes_update.py "$WORK/cd-python/auth.json"
for f in "$WORK/cd-rotor/auth.json" "$WORK/cd-python/auth.json"; do
    [[ $(jq -r '.credential_pool["openai-codex"][0].last_status' "$f") == exhausted ]] ||
        die "the update did not reach $f"
done
hyperfine -N "${RUNS[@]}" --style basic --export-json "$RESULTS/update.json" \
    -n rotor_cooldown_set "$ROTOR --auth-file $WORK/cd-rotor/auth.json cooldown set openai-codex#1 --for 1h --reason bench" \
    -n python_locked_update "$PYTHON bench/hermes_update.py $WORK/cd-python/auth.json" >&2

# --- 3. call with one rotation against a loopback server ---------------------------------------
say "call with one rotation vs two curl requests"
PORT=$("$PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
FAKE_EXHAUSTED=acct-0001 "$PYTHON" examples/fake_codex.py "$PORT" 2>/dev/null &
SERVER_PID=$!
BASE=http://127.0.0.1:$PORT/codex
for _ in $(seq 50); do
    curl -s -o /dev/null "http://127.0.0.1:$PORT/wham/usage" && break
    sleep 0.1
done
mkdir -p "$WORK/call"
CALL_AUTH=$WORK/call/auth.json
cp "$FIXTURE" "$CALL_AUTH"
call_out=$("$ROTOR" --auth-file "$CALL_AUTH" call --base-url "$BASE" --trace json --trace-file "$WORK/call/trace.jsonl" hi 2>/dev/null) ||
    die "rotor call failed"
grep -qF "acct-0002 answers" <<<"$call_out" || die "rotor call did not answer from the second profile: $call_out"
[[ $(grep -c '"event":"profile_rotation"' "$WORK/call/trace.jsonl") == 1 ]] || die "rotor call did not rotate once"
BODY=$WORK/call/body.json
echo '{"model":"gpt-5","input":[{"role":"user","content":[{"type":"input_text","text":"hi"}]}],"stream":true,"store":false}' >"$BODY"
CURL="curl -s -o /dev/null -X POST -H content-type:application/json --data-binary @$BODY"
codes=$($CURL -w '%{http_code} ' -H chatgpt-account-id:acct-0001 "$BASE/responses"; $CURL -w '%{http_code}' -H chatgpt-account-id:acct-0002 "$BASE/responses")
[[ $codes == "429 200" ]] || die "the fake server answered $codes to curl, not 429 200"
# Both through the shell (hyperfine subtracts its start-up): the curl pair needs one.
hyperfine "${RUNS[@]}" --style basic --export-json "$RESULTS/call.json" \
    --prepare "cp $FIXTURE $CALL_AUTH" \
    -n rotor_call "$ROTOR --auth-file $CALL_AUTH call --base-url $BASE hi" \
    -n two_curls "$CURL -H chatgpt-account-id:acct-0001 $BASE/responses; $CURL -H chatgpt-account-id:acct-0002 $BASE/responses" >&2
kill "$SERVER_PID" 2>/dev/null || true
SERVER_PID=""

# --- 4. simulate throughput --------------------------------------------------------------------
say "simulate: $SIM_REQUESTS requests on a 10-profile pool"
SCENARIO=$WORK/scenario.json
"$PYTHON" bench/gen.py scenario "$SIM_REQUESTS" "$SCENARIO"
"$ROTOR" simulate "$SCENARIO" --format json >"$WORK/sim.jsonl" || die "the scenario did not end in success"
[[ $(grep -c '"event":"request_end"' "$WORK/sim.jsonl") == "$SIM_REQUESTS" ]] || die "simulate did not run every request"
SIM_ROTATIONS=$(grep -c '"event":"profile_rotation"' "$WORK/sim.jsonl")
SIM_EVENTS=$(($(wc -l <"$WORK/sim.jsonl") - 1))
hyperfine -N "${SLOW_RUNS[@]}" --style basic --export-json "$RESULTS/simulate.json" \
    -n rotor_simulate "$ROTOR simulate $SCENARIO --format json" >&2

# --- 5. list cost against pool size ------------------------------------------------------------
say "profiles list on 10, 100, 1000, 10000 profiles"
SIZES=(10 100 1000 10000)
list_cmds=()
for n in "${SIZES[@]}"; do
    "$PYTHON" bench/gen.py pool "$n" "$WORK/pool-$n.json"
    [[ $("$ROTOR" --auth-file "$WORK/pool-$n.json" profiles list --format json | jq '.providers[0].total') == "$n" ]] ||
        die "rotor did not list $n profiles"
    list_cmds+=(-n "list_$n" "$ROTOR --auth-file $WORK/pool-$n.json profiles list")
done
hyperfine -N "${RUNS[@]}" --style basic --export-json "$RESULTS/scale.json" "${list_cmds[@]}" >&2

fi # sections 1 to 5

# --- 5b. what --state adds ---------------------------------------------------------------------
# The same `profiles list` and `call` with and without a shared state on a local redis-server
# (loopback: the figure is rotor's own cost, a remote Redis adds its round trips), the host's
# records already in Redis. Skipped by --serve-only.
if ((!SERVE_ONLY)); then
say "shared state: profiles list and call with and without --state"
REDIS_PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no --dir "$WORK" >/dev/null 2>&1 &
PIDS+=($!)
STATE=redis://127.0.0.1:$REDIS_PORT/0
for _ in $(seq 100); do
    "$ROTOR" --state "$STATE" --auth-file "$FIXTURE" profiles list >/dev/null 2>"$WORK/state.err" &&
        ! grep -q unreachable "$WORK/state.err" && break
    sleep 0.05
done
grep -q unreachable "$WORK/state.err" && die "redis-server did not start"
mkdir -p "$WORK/state"
STATE_AUTH=$WORK/state/auth.json
cp "$FIXTURE" "$STATE_AUTH"
# One account benched by another host, so the merge has work to do.
cp "$FIXTURE" "$WORK/state/other.json"
"$ROTOR" --state "$STATE" --host bench-other --auth-file "$WORK/state/other.json" cooldown set 'openai-codex#3' --for 1h >/dev/null
"$ROTOR" --state "$STATE" --auth-file "$STATE_AUTH" profiles list --color never | grep -qF "redis: bench-other" ||
    die "rotor profiles list --state did not merge the other host's cooldown"
SPORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
FAKE_EXHAUSTED=acct-0001 python3 examples/fake_codex.py "$SPORT" 2>/dev/null &
PIDS+=($!)
SBASE=http://127.0.0.1:$SPORT/codex
for _ in $(seq 50); do
    curl -s -o /dev/null "http://127.0.0.1:$SPORT/wham/usage" && break
    sleep 0.1
done
state_out=$("$ROTOR" --state "$STATE" --auth-file "$STATE_AUTH" call --base-url "$SBASE" hi 2>/dev/null) ||
    die "rotor call --state failed"
grep -qF "acct-0002 answers" <<<"$state_out" || die "rotor call --state did not answer from the second profile: $state_out"
hyperfine -N "${RUNS[@]}" --style basic --export-json "$RESULTS/state.json" \
    -n state_list_local "$ROTOR --auth-file $STATE_AUTH profiles list" \
    -n state_list_shared "$ROTOR --state $STATE --auth-file $STATE_AUTH profiles list" >&2
hyperfine -N "${RUNS[@]}" --style basic --export-json "$RESULTS/state-call.json" \
    --prepare "cp $FIXTURE $STATE_AUTH" \
    -n state_call_local "$ROTOR --auth-file $STATE_AUTH call --base-url $SBASE hi" \
    -n state_call_shared "$ROTOR --state $STATE --auth-file $STATE_AUTH call --base-url $SBASE hi" >&2
fi # section 5b

# --- 6. rotor serve ----------------------------------------------------------------------------
# rotor serve as a gateway: the latency it adds (paired with direct requests to the same fake
# upstream, so drift cancels), next to LiteLLM's proxy measured the same way; throughput at 64
# in flight; memory per idle stream. One gateway runs at a time: on two cores a second one
# would skew the figures. The fake upstream, the latency probe, the load generator and the
# idle-stream holder are bench/serve-bench (Rust, on hyper): a Python fake serves a few
# thousand requests per second, too few to measure a gateway with.
SERVE=$WORK/serve
mkdir -p "$SERVE"
if ((!STATE_ONLY)); then
say "rotor serve: building bench/serve-bench"
cargo build --release --locked --quiet -p serve-bench
SB=$TARGET/release/serve-bench

if ((QUICK)); then
    PAIRS=500 LITELLM_PAIRS=100 ROUND_MS=2000 ROUNDS=2
else
    PAIRS=3000 LITELLM_PAIRS=400 ROUND_MS=4000 ROUNDS=3
fi
# The upstream's own time to answer in the throughput rows (µs). Real model APIs take hundreds
# of milliseconds to their first token; 5 ms is a fast upstream that still answers at ~12,800
# requests/s at 64 in flight, and whose own cost keeps the direct run far from the CPU limit.
UPSTREAM_DELAY_US=5000

# serve-bench upstream ARGS in the background; sets UPSTREAM (http://ADDR).
start_upstream() {
    local out
    out=$(mktemp "$SERVE/upstream.XXXXXX")
    "$SB" upstream "$@" >"$out" 2>&1 &
    PIDS+=($!)
    UPSTREAM_PID=$!
    for _ in $(seq 100); do
        UPSTREAM=$(sed -n 's/^listening on //p' "$out")
        [[ -n $UPSTREAM ]] && return
        sleep 0.05
    done
    die "the fake upstream did not start: $(cat "$out")"
}

# rotor serve in a fresh HERMES_HOME (the fixture, a new key) with every profile pointed at
# UPSTREAM; sets ROTOR_URL, ROTOR_PID and KEY.
start_rotor() {
    local home=$SERVE/home
    rm -rf "$home"
    mkdir -p "$home"
    cp "$FIXTURE" "$home/auth.json"
    HERMES_HOME=$home "$ROTOR" serve --listen 127.0.0.1:0 --base-url "$UPSTREAM/v1" --trace off "$@" \
        2>"$SERVE/rotor.err" &
    ROTOR_PID=$!
    PIDS+=("$ROTOR_PID")
    ROTOR_URL=""
    for _ in $(seq 200); do
        ROTOR_URL=$(sed -n 's/^rotor: listening on \(http:[^ ]*\).*/\1/p' "$SERVE/rotor.err")
        [[ -n $ROTOR_URL ]] && break
        sleep 0.05
    done
    [[ -n $ROTOR_URL ]] || die "rotor serve did not start: $(cat "$SERVE/rotor.err")"
    KEY=$(cat "$home/rotor-serve.key")
}

stop() {
    kill "$1" 2>/dev/null || true
    wait "$1" 2>/dev/null || true
}

# One answer through a gateway, checked: a 200 with the fake's text (and, for rotor, the
# profile it used).
check_answer() { # URL KEY BODY WANT [HEADER]
    local got
    got=$(curl -s -i --max-time 20 -H "authorization: Bearer $2" -H content-type:application/json \
        --data-binary "$3" "$1") || die "no answer from $1"
    grep -q "^HTTP/1.1 200" <<<"$got" || die "$1 did not answer 200: $got"
    grep -qF "$4" <<<"$got" || die "$1 did not answer '$4': $got"
    if [[ -n ${5:-} ]]; then grep -qi "^$5:" <<<"$got" || die "$1 answered without $5: $got"; fi
}

RESPONSES_BODY='{"model":"gpt-5.5","input":"Say hello.","stream":true,"store":false}'
CHAT_BODY='{"model":"fake-model","messages":[{"role":"user","content":"Say hello."}],"stream":false}'

# --- 6a. added latency: rotor, then LiteLLM, against one fake upstream ---
start_upstream
FAST_UPSTREAM=$UPSTREAM
FAST_UPSTREAM_PID=$UPSTREAM_PID
say "rotor serve: added latency, $PAIRS pairs per API"
start_rotor
check_answer "$ROTOR_URL/v1/responses" "$KEY" "$RESPONSES_BODY" "response.completed" x-rotor-profile
check_answer "$ROTOR_URL/v1/chat/completions" "$KEY" "$CHAT_BODY" "Hello from the bench." x-rotor-profile
"$SB" latency --api responses --pairs "$PAIRS" --key "$KEY" \
    --direct "$UPSTREAM/v1/responses" --through "$ROTOR_URL/v1/responses" >"$SERVE/latency-rotor-responses.json"
"$SB" latency --api chat --pairs "$PAIRS" --key "$KEY" \
    --direct "$UPSTREAM/v1/chat/completions" --through "$ROTOR_URL/v1/chat/completions" >"$SERVE/latency-rotor-chat.json"
stop "$ROTOR_PID"

LITELLM_VENV=${LITELLM_VENV:-$WORK/venv-litellm}
if [[ ! -x $LITELLM_VENV/bin/litellm ]]; then
    say "pip install litellm[proxy]==1.108.7 into $LITELLM_VENV"
    python3 -m venv "$LITELLM_VENV"
    "$LITELLM_VENV/bin/pip" install --quiet --disable-pip-version-check 'litellm[proxy]==1.108.7'
fi
"$LITELLM_VENV/bin/python" -c 'import importlib.metadata as m, sys; sys.exit(m.version("litellm") != "1.108.7")' ||
    die "$LITELLM_VENV does not hold litellm 1.108.7"
LITELLM_PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
LITELLM_KEY=sk-bench-litellm-master
cat >"$SERVE/litellm.yaml" <<YAML
model_list:
  - model_name: fake-model
    litellm_params:
      model: openai/fake-model
      api_base: $UPSTREAM/v1
      api_key: sk-bench-upstream
litellm_settings:
  num_retries: 0
router_settings:
  num_retries: 0
general_settings:
  master_key: $LITELLM_KEY
YAML
say "LiteLLM proxy: starting (about 10 s)"
# The local cost map: without it LiteLLM fetches one from GitHub at start.
LITELLM_LOCAL_MODEL_COST_MAP=True "$LITELLM_VENV/bin/litellm" --config "$SERVE/litellm.yaml" \
    --host 127.0.0.1 --port "$LITELLM_PORT" >"$SERVE/litellm.log" 2>&1 &
LITELLM_PID=$!
PIDS+=("$LITELLM_PID")
LITELLM_URL=http://127.0.0.1:$LITELLM_PORT
for _ in $(seq 240); do
    curl -sf -o /dev/null "$LITELLM_URL/health/liveliness" && break
    kill -0 "$LITELLM_PID" 2>/dev/null || die "LiteLLM exited: $(tail -20 "$SERVE/litellm.log")"
    sleep 0.5
done
check_answer "$LITELLM_URL/v1/chat/completions" "$LITELLM_KEY" "$CHAT_BODY" "Hello from the bench."
say "LiteLLM proxy: added latency, $LITELLM_PAIRS pairs"
"$SB" latency --api chat --model fake-model --pairs "$LITELLM_PAIRS" --warmup 50 --key "$LITELLM_KEY" \
    --direct "$UPSTREAM/v1/chat/completions" --through "$LITELLM_URL/v1/chat/completions" >"$SERVE/latency-litellm-chat.json"
stop "$LITELLM_PID"

# --- 6b. throughput at 64 in flight ---
say "rotor serve: throughput at 64 in flight, upstream answering in $((UPSTREAM_DELAY_US / 1000)) ms"
start_upstream --delay-us "$UPSTREAM_DELAY_US"
SLOW_UPSTREAM_PID=$UPSTREAM_PID
start_rotor
"$SB" load --api responses --stream --concurrency 64 --round-ms "$ROUND_MS" --rounds "$ROUNDS" --key "$KEY" \
    --direct "$UPSTREAM/v1/responses" --through "$ROTOR_URL/v1/responses" >"$SERVE/load-delay.json"
stop "$ROTOR_PID"
stop "$SLOW_UPSTREAM_PID"
say "rotor serve: throughput at 64 in flight, upstream answering at once (rotor's CPU limit)"
UPSTREAM=$FAST_UPSTREAM
start_rotor
"$SB" load --api responses --stream --concurrency 64 --round-ms "$ROUND_MS" --rounds "$ROUNDS" --key "$KEY" \
    --direct "$UPSTREAM/v1/responses" --through "$ROTOR_URL/v1/responses" >"$SERVE/load-fast.json"
stop "$ROTOR_PID"

# --- 6c. memory per idle stream ---
say "rotor serve: 1,000 streams committed and then silent"
# rotor holds two sockets per stream, the holder and the fake one each.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
files=$(ulimit -n)
[[ $files == unlimited ]] || ((files >= 4096)) || die "open files are limited to $files; 1,000 streams need 4,096"
start_upstream --silent
SILENT_UPSTREAM_PID=$UPSTREAM_PID
start_rotor --timeout 1h --client-timeout 1h --max-concurrency 4096 --drain-timeout 2s
"$SB" idle --api responses --streams 1000 --warmup 16 --pid "$ROTOR_PID" --key "$KEY" \
    --url "$ROTOR_URL/v1/responses" >"$SERVE/idle.json"
stop "$ROTOR_PID"
stop "$SILENT_UPSTREAM_PID"
stop "$FAST_UPSTREAM_PID"
fi # section 6

# --- report ------------------------------------------------------------------------------------
export RESULTS SIM_REQUESTS SIM_ROTATIONS SIM_EVENTS QUICK ROTOR_BIN SERVE UPSTREAM_DELAY_US
"$PYTHON" - <<'EOF'
import json, math, os, platform, subprocess

results = os.environ["RESULTS"]
median = {}
for name in os.listdir(results):
    for r in json.load(open(os.path.join(results, name)))["results"]:
        median[r["command"]] = r["median"]
ms = lambda s: f"{s * 1000:.2f} ms"

def cpu():
    for line in open("/proc/cpuinfo"):
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "?"

commit = subprocess.run(["git", "describe", "--always", "--dirty"], capture_output=True, text=True).stdout.strip()
binary = os.environ.get("ROTOR_BIN") or f"rotor {commit or '?'}"
print(f"machine: {os.cpu_count()} CPUs, {cpu()}, Linux {platform.release()}; {binary}"
      + (" (--quick)" if os.environ["QUICK"] == "1" else ""))
print()

rows, verdicts = [], []
def row(what, value, versus, ratio, budget, ok):
    rows.append((what, value, versus, ratio, budget, "met" if ok else "MISSED"))
    verdicts.append(ok)

if "rotor_list" in median:
    lst, cat, jq = median["rotor_list"], median["cat"], median["jq"]
    row("`profiles list`, 3 profiles", ms(lst), f"`cat auth.json` {ms(cat)}", f"{lst / cat:.2f}×", "≤ 3× cat", lst <= 3 * cat)
    rows.append(("", "", f"`jq . auth.json` {ms(jq)}", f"{lst / jq:.2f}× ({jq / lst:.0f}× faster)", "", ""))
    again, hermes = median["rotor_list_again"], median["hermes_list"]
    row("", ms(again), f"`hermes auth list` {ms(hermes)}", f"{again / hermes:.4f}× ({hermes / again:.0f}× faster)", "≥ 100× faster", hermes >= 100 * again)
    upd, py = median["rotor_cooldown_set"], median["python_locked_update"]
    row("`cooldown set` (locked, fsynced)", ms(upd), f"Hermes's sequence in Python {ms(py)}", f"{upd / py:.2f}× ({py / upd:.0f}× faster)", "≤ 2 ms median", upd <= 0.002)
    call, curls = median["rotor_call"], median["two_curls"]
    row("`call`, one rotation", ms(call), f"two `curl` requests {ms(curls)}", f"{call / curls:.2f}×", "≤ 1.5× two curls", call <= 1.5 * curls)
    n = int(os.environ["SIM_REQUESTS"])
    sim = median["rotor_simulate"]
    rate = n / sim
    row(f"`simulate`, 10 profiles, {n:,} requests", f"{ms(sim)} = {rate:,.0f} req/s",
        f"{os.environ['SIM_ROTATIONS']} rotations, {os.environ['SIM_EVENTS']} events", "", "≥ 500,000 req/s", rate >= 500_000)
    # Growth exponent k of t ~ n^k from 1,000 to 10,000 profiles, where start-up no longer
    # dominates: 1 is linear, n log n is about 1.1 here, quadratic 2.
    t = {k: median[f"list_{k}"] for k in (10, 100, 1000, 10000)}
    m1 = (t[1000] - t[10]) / 990
    m2 = (t[10000] - t[1000]) / 9000
    k = math.log(t[10000] / t[1000], 10)
    row("`profiles list`, 10 / 100 / 1,000 / 10,000 profiles", " / ".join(ms(t[n]) for n in t),
        f"{m1 * 1e6:.1f} µs/profile from 10 to 1,000, {m2 * 1e6:.1f} µs/profile from 1,000 to 10,000",
        f"exponent {k:.2f}", "linear: exponent ≤ 1.2", k <= 1.2)

if "state_list_shared" in median:
    for kind, what in (("list", "`profiles list`, 3 profiles"), ("call", "`call`, one rotation")):
        local, shared = median[f"state_{kind}_local"], median[f"state_{kind}_shared"]
        rows.append((f"{what}, with `--state` (local redis-server)", ms(shared), f"without {ms(local)}",
                     f"+{(shared - local) * 1000:.2f} ms", "(what the shared state adds)", ""))

serve = os.environ.get("SERVE", "")
def serve_json(name):
    with open(os.path.join(serve, name)) as f:
        return json.load(f)

if serve and os.path.exists(os.path.join(serve, "idle.json")):
    us = lambda v: f"{v * 1000:.0f} µs" if abs(v) < 1 else f"{v:.2f} ms"
    P50, P99 = 0.25, 1.0
    def latency_row(what, s):
        p50, p99 = s["added_p50_ms"], s["added_p99_ms"]
        row(what, f"+{us(p50)} / +{us(p99)}",
            f"direct {us(s['direct_p50_ms'])}, through {us(s['through_p50_ms'])} (p50)", "",
            "p50 ≤ 0.25 ms, p99 ≤ 1 ms", p50 <= P50 and p99 <= P99)
    rotor_lat = {api: serve_json(f"latency-rotor-{api}.json") for api in ("responses", "chat")}
    litellm = serve_json("latency-litellm-chat.json")
    pairs = rotor_lat["chat"]["whole"]["pairs"]
    for api, name in (("responses", "Responses"), ("chat", "Chat Completions")):
        lat = rotor_lat[api]
        latency_row(f"`serve` added latency p50 / p99, {name}, non-streamed ({pairs:,} pairs)", lat["whole"])
        latency_row(f"`serve` added latency p50 / p99, {name}, streamed, to the first byte", lat["stream_first_byte"])
    for kind, name in (("whole", "non-streamed"), ("stream_first_byte", "streamed, to the first byte")):
        ours, theirs = rotor_lat["chat"][kind]["added_p50_ms"], litellm[kind]["added_p50_ms"]
        times = theirs / max(ours, 0.001)
        row(f"`serve` vs LiteLLM proxy, added p50, Chat Completions, {name} ({litellm[kind]['pairs']:,} pairs)",
            f"+{us(ours)}", f"LiteLLM 1.108.7 +{us(theirs)} (p99 +{us(litellm[kind]['added_p99_ms'])})",
            f"{times:.0f}× less", "≥ 50× less", times >= 50)
    load = serve_json("load-delay.json")
    d, t = load["direct_median_rps"], load["through_median_rps"]
    delay = int(os.environ["UPSTREAM_DELAY_US"]) / 1000
    row(f"`serve` throughput, 64 in flight, streamed Responses, upstream answering in {delay:g} ms",
        f"{t:,.0f} req/s", f"direct {d:,.0f} req/s", f"{t / d:.2f}×", "≥ 0.90× direct", t >= 0.9 * d)
    load = serve_json("load-fast.json")
    d, t = load["direct_median_rps"], load["through_median_rps"]
    rows.append(("`serve` throughput, 64 in flight, upstream answering at once (CPU-bound)",
                 f"{t:,.0f} req/s", f"direct {d:,.0f} req/s", f"{t / d:.2f}×", "(rotor's ceiling here)", ""))
    idle = serve_json("idle.json")
    per = idle["per_stream_kib"]
    row(f"`serve` memory per idle stream ({idle['streams']:,} streams open)", f"{per:.1f} KiB",
        f"rotor's RSS {idle['rss_before_kib'] / 1024:.1f} → {idle['rss_after_kib'] / 1024:.1f} MiB", "",
        "≤ 64 KiB", per <= 64)

print("| what | rotor (median) | compared with (median) | ratio rotor/other | budget | |")
print("|---|---|---|---|---|---|")
for r in rows:
    print("| " + " | ".join(r) + " |")
print()
print("every budget met" if all(verdicts) else "some budget MISSED")
raise SystemExit(0 if all(verdicts) else 1)
EOF
