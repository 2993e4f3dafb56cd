#!/usr/bin/env bash
# /api/data under load, before and after the application layer, in the same run:
# 16 clients on loopback read one series each per request (p50/p95 over CLIENTS×REQUESTS
# requests) from a server over the bundled bank, first idle, then while the defect report
# (/api/check) and forecasts run beside them. "Before" is the server at BEFORE_REV (no forecast
# endpoint: its forecasts run as `koshi forecast` processes on the same bank, as users ran them);
# "after" is this tree, whose forecasts run through /api/forecast. The machine's noise is larger than
# the differences: every case runs RUNS times (default 3), the versions alternating, and the median
# of each figure is reported.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$ROOT"
BEFORE_REV=${BEFORE_REV:-f267c8e}
CLIENTS=${CLIENTS:-16}
REQUESTS=${REQUESTS:-300}
MAX_SECONDS=${MAX_SECONDS:-180}
RUNS=${RUNS:-3}
OUT=bench/out
mkdir -p "$OUT"

cargo build --release -q -p koshi
AFTER_BIN="$ROOT/target/release/koshi"
if [ -z "${BEFORE_BIN:-}" ]; then
  if [ ! -d "$OUT/before-src" ]; then
    git worktree add -q --detach "$OUT/before-src" "$BEFORE_REV"
  fi
  (cd "$OUT/before-src" && CARGO_TARGET_DIR="$ROOT/target/before" cargo build --release -q -p koshi)
  BEFORE_BIN="$ROOT/target/before/release/koshi"
fi
rustc -O --edition 2021 bench/concurrency/load.rs -o "$OUT/load"

BANK="$OUT/concurrency.db"
[ -f "$BANK" ] || "$AFTER_BIN" --db "$BANK" load-bundled >/dev/null

# One series per request: every country's migrant stock from the world, and Kazakhstan's from each country.
PATHS="$OUT/concurrency_paths.txt"
tail -n +2 data/structure/codelists/countries.csv | cut -d, -f1 | awk '{
  printf "/api/data/MIG_STOCK?key=%s.WLD._T.STOCK\n", $1;
  printf "/api/data/MIG_STOCK?key=KAZ.%s._T.STOCK\n", $1 }' > "$PATHS"

PORT=${PORT:-18471}
ADDR="127.0.0.1:$PORT"
FORECAST_KEY="KAZ.WLD._T._T.NET"

serve() { # binary
  "$1" --db "$BANK" serve --addr "$ADDR" >/dev/null 2>"$OUT/serve.log" &
  SERVER=$!
  for _ in $(seq 1 600); do
    curl -sf "http://$ADDR/api/health" >/dev/null 2>&1 && return 0
    sleep 0.2
  done
  echo "the server did not start: $(cat "$OUT/serve.log")" >&2
  exit 1
}
stop() { kill "$SERVER" 2>/dev/null || true; wait "$SERVER" 2>/dev/null || true; }
trap 'if [ -n "${SERVER:-}" ]; then stop; fi; if [ -n "${LOOP:-}" ]; then kill "$LOOP" 2>/dev/null || true; fi' EXIT

measure() { # label binary mode
  local label=$1 bin=$2 mode=$3 result
  serve "$bin"
  case "$mode" in
    idle) result=$("$OUT/load" "$ADDR" "$PATHS" "$CLIENTS" "$REQUESTS" "$MAX_SECONDS") ;;
    cli-forecast)
      # Forecasts as separate processes on the same bank, one after another, while the clients run.
      ( while true; do "$bin" --db "$BANK" forecast MIG_EXT --key "$FORECAST_KEY" --horizon 10 >/dev/null 2>&1; done ) &
      LOOP=$!
      result=$("$OUT/load" "$ADDR" "$PATHS" "$CLIENTS" "$REQUESTS" "$MAX_SECONDS" /api/check)
      kill "$LOOP" 2>/dev/null || true; wait "$LOOP" 2>/dev/null || true; LOOP=""
      ;;
    api-forecast)
      result=$("$OUT/load" "$ADDR" "$PATHS" "$CLIENTS" "$REQUESTS" "$MAX_SECONDS" /api/check \
        "/api/forecast/MIG_EXT?key=$FORECAST_KEY&horizon=10")
      ;;
  esac
  stop
  echo "$label $result"
}

echo "bank: $BANK; $CLIENTS clients × $REQUESTS requests, $RUNS runs; before = $BEFORE_REV, after = $(git rev-parse --short HEAD)"
RESULTS="$OUT/concurrency_runs.txt"
: > "$RESULTS"
for run in $(seq 1 "$RUNS"); do
  for case in "before idle|$BEFORE_BIN|idle" "after idle|$AFTER_BIN|idle" \
              "before loaded|$BEFORE_BIN|cli-forecast" "after loaded|$AFTER_BIN|api-forecast" \
              "after loaded, forecasts as processes|$AFTER_BIN|cli-forecast"; do
    IFS='|' read -r label bin mode <<< "$case"
    line=$(measure "$label" "$bin" "$mode")
    echo "run $run: $line"
    echo "$line" >> "$RESULTS"
  done
done
echo
echo "medians over $RUNS runs (ms):"
printf '%-40s %8s %8s %8s\n' case p50 p95 p99
for label in "before idle" "after idle" "before loaded" "after loaded" "after loaded, forecasts as processes"; do
  grep -F "$label {" "$RESULTS" | sed 's/.*"p50_ms": \([0-9.]*\), "p95_ms": \([0-9.]*\), "p99_ms": \([0-9.]*\).*/\1 \2 \3/' |
    awk -v label="$label" '{p50[NR]=$1; p95[NR]=$2; p99[NR]=$3}
      function median(a, n,   i, j, t) { for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
        return a[int((n + 1) / 2)] }
      END { printf "%-40s %8.3f %8.3f %8.3f\n", label, median(p50, NR), median(p95, NR), median(p99, NR) }'
done
