#!/usr/bin/env bash
# Benchmark: statsforecast 2.1.1 (AutoETS, AutoARIMA) vs koshi-forecast on the 826
# M3+M1 yearly series, in one run; prints times, speed ratios and accuracy side by side.
# Usage: bench/forecast/run.sh [DATA_JSON]   (defaults to shared/data beside the repo)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
data="${1:-$repo/../shared/data/forecast/m3_m1_yearly.json}"
venv="$repo/bench/.venv-forecast"
out="${BENCH_OUT:-$here/out}"
mkdir -p "$out"

if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
"$venv/bin/pip" install -q "statsforecast==2.1.1"

echo "== statsforecast 2.1.1 (1 process)"
"$venv/bin/python" "$here/sf_bench.py" "$data" | tee "$out/statsforecast.txt"

echo "== koshi-forecast (release)"
# KOSHI_MANIFEST lets the bench run from a trimmed workspace while the full one is incomplete.
manifest="${KOSHI_MANIFEST:-$repo/Cargo.toml}"
cargo run --release --quiet --manifest-path "$manifest" -p koshi-forecast --example bench_m3m1 -- "$data" \
  ${KOSHI_BENCH_ARGS:-} | tee "$out/koshi.txt"

echo "== side by side"
python3 - "$out/statsforecast.txt" "$out/koshi.txt" <<'PY'
import re, sys
rows = []
for path in sys.argv[1:]:
    for line in open(path):
        if line.startswith("RESULT"):
            rows.append(dict(kv.split("=", 1) for kv in line.split()[1:]))
def get(impl, model, ds):
    for r in rows:
        if r["impl"] == impl and r["model"] == model and r["ds"] == ds:
            return r
print(f"{'impl':13} {'model':24} {'ds':3} {'sMAPE':>7} {'MASE':>6} {'cov95':>6} {'1-thread s':>10} {'all-cores s':>11}")
for r in rows:
    print(f"{r['impl']:13} {r['model']:24} {r['ds']:3} {r['smape']:>7} {r['mase']:>6} {r['cov95']:>6} {r['secs_1thread']:>10} {r.get('secs_all', '-'):>11}")
for model, target in (("ets", 5), ("arima", 20)):
    sf, k = get("statsforecast", model, "M3"), get("koshi", model, "M3")
    if sf and k:
        s = float(sf["secs_1thread"])
        r1, rn = s / float(k["secs_1thread"]), s / float(k["secs_all"])
        print(f"speed-up auto {model}: {r1:.1f}x single-threaded, {rn:.1f}x all cores (target {target}x)")
PY
grep '^SCALE' "$out/koshi.txt" || true
