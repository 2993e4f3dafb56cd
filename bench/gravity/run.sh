#!/usr/bin/env bash
# PPML-HDFE benchmark: koshi-gravity vs pyfixest 0.60 on a seeded synthetic gravity panel
# (200 origins x 199 destinations x 25 years, FE origin-year + destination-year + pair,
# clustered by pair). Alternating runs, median of $RUNS wall times, peak RSS via /usr/bin/time -v.
# Then koshi alone at 5x and 20x rows (years x5, x20); pyfixest at 5x when PY_SCALING=1.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$(pwd)
OUT=${OUT:-$ROOT/bench/out/gravity}
VENV=$ROOT/bench/.venv
RUNS=${RUNS:-5}
SCALES=${SCALES:-"5 20"}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
mkdir -p "$OUT"

if [ ! -x "$VENV/bin/python" ]; then python3 -m venv "$VENV"; fi
"$VENV/bin/python" -c "import pyfixest" 2>/dev/null || "$VENV/bin/pip" install -q "pyfixest==0.60.0"
echo "pyfixest $("$VENV/bin/python" -c 'import pyfixest; print(pyfixest.__version__)')"

gen() { # scale -> file
  local f="$OUT/panel_${1}x.csv"
  [ -s "$f" ] || "$VENV/bin/python" bench/gravity/gen_panel.py --scale "$1" --out "$f" >&2
  echo "$f"
}

cargo build --release -q -p koshi-gravity --example bench_ppml
BIN=$CARGO_TARGET_DIR/release/examples/bench_ppml
# pyfixest's default separation check is "fe" only; run koshi with the same checks.
KOSHI_ARGS=(--no-rectifier)

DATA=$(gen 1)
rm -f "$OUT"/run_*.json "$OUT"/time_*.txt
for r in $(seq 1 "$RUNS"); do
  /usr/bin/time -v -o "$OUT/time_koshi_1x_$r.txt" "$BIN" "$DATA" "${KOSHI_ARGS[@]}" > "$OUT/run_koshi_1x_$r.json" 2>/dev/null
  # koshi with its default checks, including separation by regressors (iterated rectifier).
  /usr/bin/time -v -o "$OUT/time_koshirect_1x_$r.txt" "$BIN" "$DATA" > "$OUT/run_koshirect_1x_$r.json" 2>/dev/null
  /usr/bin/time -v -o "$OUT/time_pyfixest_1x_$r.txt" "$VENV/bin/python" bench/gravity/bench_pyfixest.py "$DATA" > "$OUT/run_pyfixest_1x_$r.json" 2>/dev/null
  echo "run $r done" >&2
done

for s in $SCALES; do
  DATA=$(gen "$s")
  /usr/bin/time -v -o "$OUT/time_koshi_${s}x_1.txt" "$BIN" "$DATA" "${KOSHI_ARGS[@]}" > "$OUT/run_koshi_${s}x_1.json" 2>/dev/null
  if [ "${PY_SCALING:-0}" = 1 ] && [ "$s" = 5 ]; then
    /usr/bin/time -v -o "$OUT/time_pyfixest_${s}x_1.txt" "$VENV/bin/python" bench/gravity/bench_pyfixest.py "$DATA" > "$OUT/run_pyfixest_${s}x_1.json" 2>/dev/null || true
  fi
  echo "scale $s done" >&2
done

python3 bench/gravity/summarize.py "$OUT"
