#!/usr/bin/env bash
# World flows-from-stocks benchmark: koshi-flows (Rust) vs a NumPy peer
# (peer_numpy.py, same algorithm, vectorised). Prints both timings and the ratio.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
venv="$repo/bench/.venv-flows"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/work/target-flows}"
dump="$(mktemp -d)"
trap 'rm -rf "$dump"' EXIT

if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet numpy
fi

cd "$repo"
cargo build --release -q -p koshi-flows --example bench_world
rust_out="$("$CARGO_TARGET_DIR/release/examples/bench_world" --dump "$dump" --repeat 5)"
echo "$rust_out"
numpy_out="$("$venv/bin/python" "$here/peer_numpy.py" "$dump" 3)"
echo "$numpy_out"
"$venv/bin/python" - "$rust_out" "$numpy_out" <<'PY'
import re, sys
def grab(text, key):
    return float(re.search(key + r"=([0-9.]+)", text.splitlines()[-1]).group(1))
r, p = sys.argv[1], sys.argv[2]
for key in ("one_period_s", "all_periods_s"):
    print(f"ratio {key}: numpy/rust = {grab(p, key) / grab(r, key):.1f}x")
PY
