#!/usr/bin/env bash
# Builds gate, installs the peers (pre-commit and prek from PyPI, lefthook from npm) into
# bench/work/tools, and runs bench/bench.py. Arguments go to bench.py (try --help).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
tools="$here/work/tools"
mkdir -p "$tools"

cargo build --release --manifest-path "$here/../Cargo.toml" --quiet
rustc -O --edition 2024 -o "$here/work/least" "$here/least.rs"

if [[ ! -x "$tools/venv/bin/prek" ]]; then
    python3 -m venv "$tools/venv"
    "$tools/venv/bin/pip" install --quiet pre-commit prek
fi
if [[ ! -x "$tools/npm/node_modules/.bin/lefthook" ]]; then
    npm install --silent --no-audit --no-fund --prefix "$tools/npm" lefthook
fi

export PATH="$tools/venv/bin:$tools/npm/node_modules/.bin:$PATH"
exec python3 "$here/bench.py" --gate "$here/../target/release/gate" --least "$here/work/least" "$@"
