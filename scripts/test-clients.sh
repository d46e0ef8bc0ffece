#!/usr/bin/env bash
# Installs the real agents that tests/it/clients.rs runs through `rotor serve`, at pinned
# versions, into ${ROTOR_CLIENTS_DIR:-target/clients}:
#
#   hermes/bin/hermes                        hermes-agent (a Python venv)
#   codex/node_modules/.bin/codex            @openai/codex (npm; a native binary inside)
#   node24/node_modules/node/bin/node        Node 24, which OpenClaw requires
#   openclaw/node_modules/.bin/openclaw      openclaw, installed by that Node 24
#
# Each client is installed once: a stamp file records its version, and a second run with the
# same pins does nothing. Remove the directory (or one client's) to reinstall. It then prints
# the environment the tests read (ROTOR_TEST_HERMES, ROTOR_TEST_CODEX, ROTOR_TEST_NODE,
# ROTOR_TEST_OPENCLAW), which point at the default locations anyway.
#
# Needs python3 (3.11 to 3.13, with its venv module) and node + npm; as root on Debian, missing
# ones are installed with apt-get. Only the package registries (PyPI, npm) are contacted.
set -euo pipefail
cd "$(dirname "$0")/.."

HERMES_VERSION=0.19.0
CODEX_VERSION=0.171.0
NODE_MAJOR=24
OPENCLAW_VERSION=2026.9.6

dir=${ROTOR_CLIENTS_DIR:-target/clients}
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)

say() { printf 'test-clients: %s\n' "$*" >&2; }
die() {
    say "$*"
    exit 1
}
elapsed() { printf '%ds' $(($(date +%s) - $1)); }

apt_install() {
    if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
        die "missing $*; install it (Debian: apt-get install $*) and run again"
    fi
    say "apt-get install $*"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

# stamp NAME: the file that says NAME is installed at its pinned version.
stamp() { printf '%s/.%s.installed' "$dir" "$1"; }
installed() { [ -f "$(stamp "$1")" ] && [ "$(cat "$(stamp "$1")")" = "$2" ]; }
mark() { printf '%s' "$2" >"$(stamp "$1")"; }

# A scratch npm package (never named after what it installs: npm would refuse, or resolve
# the package to itself) with lockfile and audit noise off.
npm_package() {
    mkdir -p "$1"
    if [ ! -f "$1/package.json" ]; then
        printf '{"name":"rotor-test-%s","version":"0.0.0","private":true}\n' "$(basename "$1")" \
            >"$1/package.json"
    fi
}
npm_quiet=(--no-audit --no-fund --no-update-notifier --loglevel=error)

# ---- prerequisites
python=${ROTOR_CLIENTS_PYTHON:-python3}
command -v "$python" >/dev/null || apt_install python3 python3-venv
python_ok() {
    "$python" -c 'import sys, venv, ensurepip; sys.exit(not ((3, 11) <= sys.version_info[:2] < (3, 14)))' 2>/dev/null
}
if ! python_ok; then
    "$python" -c 'import sys; sys.exit(not ((3, 11) <= sys.version_info[:2] < (3, 14)))' ||
        die "hermes-agent $HERMES_VERSION needs Python 3.11 to 3.13; $python is $("$python" --version 2>&1) (set ROTOR_CLIENTS_PYTHON)"
    apt_install python3-venv
    python_ok || die "$python has no working venv module"
fi
command -v npm >/dev/null && command -v node >/dev/null || apt_install nodejs npm

# ---- Hermes
if installed hermes "$HERMES_VERSION"; then
    say "hermes-agent $HERMES_VERSION: already installed"
else
    start=$(date +%s)
    say "hermes-agent $HERMES_VERSION: installing into $dir/hermes"
    rm -rf "$dir/hermes"
    "$python" -m venv "$dir/hermes"
    "$dir/hermes/bin/python" -m pip install --quiet --disable-pip-version-check \
        "hermes-agent==$HERMES_VERSION"
    "$dir/hermes/bin/hermes" --version >/dev/null
    mark hermes "$HERMES_VERSION"
    say "hermes-agent $HERMES_VERSION: done in $(elapsed "$start")"
fi

# ---- Codex CLI (its JavaScript launcher runs on any Node >= 16)
if installed codex "$CODEX_VERSION"; then
    say "@openai/codex $CODEX_VERSION: already installed"
else
    start=$(date +%s)
    say "@openai/codex $CODEX_VERSION: installing into $dir/codex"
    rm -rf "$dir/codex"
    npm_package "$dir/codex"
    (cd "$dir/codex" && npm install "${npm_quiet[@]}" --save-exact "@openai/codex@$CODEX_VERSION")
    got=$("$dir/codex/node_modules/.bin/codex" --version)
    case "$got" in
    *"$CODEX_VERSION"*) ;;
    *) die "codex --version says '$got', not $CODEX_VERSION" ;;
    esac
    mark codex "$CODEX_VERSION"
    say "@openai/codex $CODEX_VERSION: done in $(elapsed "$start")"
fi

# ---- Node 24 (the `node` npm package: a Node build for this platform)
node24=$dir/node24/node_modules/node/bin/node
if installed node24 "$NODE_MAJOR" && "$node24" --version >/dev/null 2>&1; then
    say "node $NODE_MAJOR: already installed ($("$node24" --version))"
else
    start=$(date +%s)
    say "node $NODE_MAJOR: installing into $dir/node24"
    rm -rf "$dir/node24"
    npm_package "$dir/node24"
    # The package's preinstall script fetches the platform's build; it must run.
    (cd "$dir/node24" && npm install "${npm_quiet[@]}" --foreground-scripts "node@$NODE_MAJOR")
    got=$("$node24" --version 2>/dev/null) || die "npm install node@$NODE_MAJOR left no $node24"
    case "$got" in
    "v$NODE_MAJOR".*) ;;
    *) die "$node24 is $got, not Node $NODE_MAJOR" ;;
    esac
    mark node24 "$NODE_MAJOR"
    say "node $NODE_MAJOR: $got, done in $(elapsed "$start")"
fi

# ---- OpenClaw, installed with Node 24 first on PATH (its engines field wants it; under an
# older Node, npm may settle on a placeholder release). Its install scripts are left out: the
# CLI runs without them, and npm versions differ on whether they run at all.
if installed openclaw "$OPENCLAW_VERSION"; then
    say "openclaw $OPENCLAW_VERSION: already installed"
else
    start=$(date +%s)
    say "openclaw $OPENCLAW_VERSION: installing into $dir/openclaw (with $("$node24" --version))"
    rm -rf "$dir/openclaw"
    npm_package "$dir/openclaw"
    (cd "$dir/openclaw" &&
        PATH="$(dirname "$node24"):$PATH" npm install "${npm_quiet[@]}" --ignore-scripts \
            --save-exact "openclaw@$OPENCLAW_VERSION")
    got=$(PATH="$(dirname "$node24"):$PATH" "$dir/openclaw/node_modules/.bin/openclaw" --version)
    case "$got" in
    *"$OPENCLAW_VERSION"*) ;;
    *) die "openclaw --version says '$got', not $OPENCLAW_VERSION" ;;
    esac
    mark openclaw "$OPENCLAW_VERSION"
    say "openclaw $OPENCLAW_VERSION: done in $(elapsed "$start")"
fi

say "installed in $dir ($(du -sh "$dir" | cut -f1)); the tests read:"
cat <<EOF
ROTOR_TEST_HERMES=$dir/hermes/bin/hermes
ROTOR_TEST_CODEX=$dir/codex/node_modules/.bin/codex
ROTOR_TEST_NODE=$node24
ROTOR_TEST_OPENCLAW=$dir/openclaw/node_modules/.bin/openclaw
EOF
