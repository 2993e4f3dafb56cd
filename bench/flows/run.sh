#!/usr/bin/env bash
# World flows-from-stocks benchmark: koshi-flows (Rust) vs a NumPy peer
# (peer_numpy.py, same algorithm, vectorised). Prints both timings and the ratio,
# and fails if the two estimates disagree beyond the stated tolerance.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
venv="$repo/bench/.venv-flows"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$repo/target}"
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
# Same estimate: world totals within 1e-9 (relative) and every origin-destination
# cell within 1e-5 persons (the rescale IPF stops at 16 ulp of ~1e9 margins, ~5e-6).
movers = lambda text: [float(x) for x in re.findall(r"movers=([0-9.]+)", text)]
rm, pm = movers(r), movers(p)
cells = [float(x) for x in re.findall(r"max_cell_diff_vs_rust=([0-9.e+-]+)", p)]
ok = len(rm) == len(pm) == len(cells) == 6 and all(abs(a - b) <= 1e-9 * abs(b) for a, b in zip(rm, pm)) and max(cells) <= 1e-5
print(f"agreement with numpy: totals rel diff max {max(abs(a - b) / b for a, b in zip(rm, pm)):.1e}, cell diff max {max(cells):.1e} -> {'ok' if ok else 'MISMATCH'}")
sys.exit(0 if ok else 1)
PY
