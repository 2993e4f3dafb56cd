#!/usr/bin/env bash
# Data bank benchmarks, peers in the same run:
#  1. validated ingest of a registration extract (ROWS rows, default 10 million) aggregated into
#     observations, against the physical anchor `sqlite3 :memory: .import` of the same file;
#     alternating runs, median of RUNS (default 3); peak memory of each.
#  2. one series out of a bank of 10 million observations, through the library call the CLI
#     uses and through the HTTP API (p50/p95 over 2,000 random series).
set -euo pipefail
cd "$(dirname "$0")/../.."
ROWS=${ROWS:-10000000}
RUNS=${RUNS:-3}
OUT=bench/out
mkdir -p "$OUT"

need_apt=()
command -v sqlite3 >/dev/null || need_apt+=(sqlite3)
[ -x /usr/bin/time ] || need_apt+=(time)
if [ ${#need_apt[@]} -gt 0 ]; then
  apt-get update -qq && apt-get install -y -qq "${need_apt[@]}"
fi

cargo build --release -q -p koshi-ingest --example bench_ingest
cargo build --release -q -p koshi-server --example bench_query

FILE="$OUT/registrations_$ROWS.csv"
[ -f "$FILE" ] || ./target/release/examples/bench_ingest generate "$FILE" "$ROWS"
echo "extract: $FILE ($(du -h "$FILE" | cut -f1), $ROWS rows); sqlite3 $(sqlite3 --version | cut -d' ' -f1)"

sqlite_times=(); koshi_times=(); sqlite_mem=(); koshi_mem=()
for run in $(seq 1 "$RUNS"); do
  m=$( { /usr/bin/time -f "%e %M" sqlite3 :memory: ".mode csv" ".import $FILE registrations" "select count(*) from registrations" >/dev/null; } 2>&1 | tail -1)
  sqlite_times+=("${m% *}"); sqlite_mem+=("${m#* }")
  m=$( { /usr/bin/time -f "%e %M" ./target/release/examples/bench_ingest ingest "$FILE" bench/databank/registrations.toml "$OUT/ingest.db" >"$OUT/ingest.json"; } 2>&1 | tail -1)
  koshi_times+=("${m% *}"); koshi_mem+=("${m#* }")
  echo "run $run: sqlite3 .import ${sqlite_times[-1]} s, koshi ingest ${koshi_times[-1]} s ($(cat "$OUT/ingest.json"))"
done
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
st=$(median "${sqlite_times[@]}"); kt=$(median "${koshi_times[@]}")
sm=$(median "${sqlite_mem[@]}"); km=$(median "${koshi_mem[@]}")
awk -v rows="$ROWS" -v st="$st" -v kt="$kt" -v sm="$sm" -v km="$km" 'BEGIN {
  printf "\n%-34s %10s %14s %12s\n", "ingest (median of runs)", "wall s", "rows/s", "peak MB";
  printf "%-34s %10.2f %14.0f %12.0f\n", "sqlite3 :memory: .import (raw)", st, rows/st, sm/1024;
  printf "%-34s %10.2f %14.0f %12.0f\n", "koshi validated ingest", kt, rows/kt, km/1024;
  printf "koshi speed / .import speed = %.2f (target >= 0.50); koshi peak %.0f MB (target <= 500)\n\n", st/kt, km/1024;
}'

echo "query benchmark (builds a 10-million-observation bank on first run):"
./target/release/examples/bench_query "$OUT/query.db"
echo "target: p50 < 5 ms through the library and through HTTP"
