#!/usr/bin/env bash
# The Python virtualenv of the SDK tests (tests/it/sdk.rs): the official openai and anthropic
# SDKs, pinned, installed from PyPI into ${ROTOR_SDK_VENV:-target/sdk-venv} (a relative path
# is taken from the repository's root). Idempotent: a venv that already holds the pinned
# versions is left as it is. Prints the venv's python last, on stdout; the tests find it at
# target/sdk-venv/bin/python by default, or wherever ROTOR_TEST_PYTHON says.
#
#   bash scripts/sdk-venv.sh
#   ROTOR_TEST_PYTHON="$(bash scripts/sdk-venv.sh | tail -n 1)" cargo test --test it sdk::
set -euo pipefail
cd "$(dirname "$0")/.."

venv="${ROTOR_SDK_VENV:-target/sdk-venv}"
python3="${PYTHON3:-python3}"
# The versions the tests were written against; change them here and the next run reinstalls.
pins=("openai==3.57.0" "anthropic==2.15.0")

# Whether the venv's python imports both SDKs at exactly the pinned versions.
pinned() {
    "$venv/bin/python" - "${pins[@]}" <<'EOF' 2>/dev/null
import sys
from importlib.metadata import version
for pin in sys.argv[1:]:
    name, wanted = pin.split("==")
    __import__(name)
    if version(name) != wanted:
        sys.exit(f"{name} {version(name)} is not {wanted}")
EOF
}

if [ -x "$venv/bin/python" ] && pinned; then
    echo "sdk-venv: $venv already holds ${pins[*]}" >&2
else
    if ! "$python3" -c 'import ensurepip, venv' 2>/dev/null; then
        echo "sdk-venv: $python3 cannot make a virtualenv (no ensurepip or venv module);" \
            "on Debian: apt-get install python3-venv" >&2
        exit 1
    fi
    # A venv left half-made (an interrupted run, another Python) is made again from scratch.
    if [ -e "$venv" ] && ! "$venv/bin/python" -m pip --version >/dev/null 2>&1; then
        "$python3" -m venv --clear "$venv"
    else
        "$python3" -m venv "$venv"
    fi
    "$venv/bin/python" -m pip install --quiet --no-input --disable-pip-version-check \
        "${pins[@]}"
    if ! pinned; then
        echo "sdk-venv: $venv does not import ${pins[*]} after the install" >&2
        exit 1
    fi
    echo "sdk-venv: installed ${pins[*]} into $venv" >&2
fi
echo "$(cd "$venv" && pwd)/bin/python"
