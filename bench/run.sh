#!/usr/bin/env bash
# rotor against what a user would run instead, measured side by side with hyperfine, and the
# budgets of issue 7 checked on the way. The numbers and what was done to reach them are in
# PERFORMANCE.md.
#
#   bench/run.sh            the full run (about five minutes, most of it Hermes's start-up)
#   bench/run.sh --quick    fewer runs and a shorter scenario (about a minute and a half)
#
# Needs: cargo, python3 (with venv), hyperfine, jq and curl (the last three are installed with
# apt-get when missing), and network access to PyPI for hermes-agent==0.19.0, which goes into a
# temporary virtualenv (set HERMES_VENV=DIR to keep and reuse one). Everything else lives in a
# temporary directory that is removed at the end. ROTOR_BIN=PATH measures that binary instead
# of building this checkout.
#
# Exit status: 0 when every budget is met, 1 when one is missed, 2 when the bench itself failed.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

QUICK=0
case "${1:-}" in
    "") ;;
    --quick) QUICK=1 ;;
    *) echo "usage: bench/run.sh [--quick]" >&2; exit 2 ;;
esac

say() { printf '== %s\n' "$*" >&2; }
die() { printf 'bench: %s\n' "$*" >&2; exit 2; }

# --- tools -------------------------------------------------------------------------------------
missing=()
for tool in hyperfine jq curl; do
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
    ROTOR=$ROOT/target/release/rotor
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/rotor-bench.XXXXXX")
SERVER_PID=""
cleanup() {
    if [[ -n $SERVER_PID ]]; then kill "$SERVER_PID" 2>/dev/null || true; fi
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

# --- report ------------------------------------------------------------------------------------
export RESULTS SIM_REQUESTS SIM_ROTATIONS SIM_EVENTS QUICK ROTOR_BIN
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

print("| what | rotor (median) | compared with (median) | ratio rotor/other | budget | |")
print("|---|---|---|---|---|---|")
for r in rows:
    print("| " + " | ".join(r) + " |")
print()
print("every budget met" if all(verdicts) else "some budget MISSED")
raise SystemExit(0 if all(verdicts) else 1)
EOF
