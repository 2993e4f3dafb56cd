#!/usr/bin/env bash
# The regional vacancy database at scale (issue target: "ingest and index 5 million postings;
# indicators for all regions × 4-digit occupations × 36 months in < 2 s; report memory").
#
#  1. POSTINGS synthetic postings of koshi_labour::generate (Kazakhstan-shaped; nothing real),
#     posted over 36 months (2023-01 … 2025-12; renewals run into 2026-03), three sources
#     (national portal, private portal, employment centres) with cross-posts and renewals, written
#     by bench/vacancies/gen (a tiny program of its own, built here) as CSV exports: one file per
#     month and source, none above 60 MiB (an import reads at most 64 MiB), read through
#     bench/vacancies/mapping.toml.
#  2. `koshi vacancies import FILE --source SOURCE --mapping mapping.toml` (no --snapshot) of every
#     file, months in order, into a fresh SQLite registry: one process and one transaction per
#     file, as an officer would. Wall time of the whole, postings/s, the largest peak RSS of one
#     import, the registry's size on disk.
#  3. `koshi labour-demand --level 4 --from 2023-01 --to 2025-12` over all regions, twice (wall
#     time, peak RSS; the command line gets every cell at once, the server pages of 50,000), and
#     the same at --level 2. It reads the registry's monthly sums, kept as vacancies are written.
#  4. The peer: the sqlite3 shell's `.import` of the very same CSV files into one plain table, then
#     a unique index on the posting's id and one on (region, occupation, posted): the floor for
#     "ingest and index" (no parsing of dates, wages or regions, no coding, no repeats found, no
#     history or audit). And, beside step 3, its GROUP BY of the inflow alone by region ×
#     occupation × month.
#
# Options: --postings N (default 5,000,000), --quick (50,000: checks the script).
# Environment: KOSHI (a built koshi; otherwise `cargo build --release -p koshi` into
# ${CARGO_TARGET_DIR:-target}), OUT (default bench/out/vacancies, git-ignored; emptied first),
# KEEP=1 keeps the generated files and databases.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
POSTINGS=5000000
while [ $# -gt 0 ]; do
  case "$1" in
    --postings) POSTINGS=$2; shift 2 ;;
    --postings=*) POSTINGS=${1#*=}; shift ;;
    --quick) POSTINGS=50000; shift ;;
    *) echo "usage: $0 [--postings N | --quick]" >&2; exit 2 ;;
  esac
done
KEEP=${KEEP:-0}
OUT=${OUT:-bench/out/vacancies}
rm -rf "$OUT"
mkdir -p "$OUT/csv"
OUT=$(cd "$OUT" && pwd)
LOG="$OUT/log.txt"
: >"$LOG"
say() { echo "$@" | tee -a "$LOG"; }

[ -x /usr/bin/time ] || { echo "needs /usr/bin/time (apt-get install time)" >&2; exit 1; }
if [ -z "${KOSHI:-}" ]; then
  cargo build --release -q -p koshi
  KOSHI=${CARGO_TARGET_DIR:-target}/release/koshi
fi
KOSHI=$(realpath "$KOSHI")
GEN_TARGET=${CARGO_TARGET_DIR:-$ROOT/target}/bench-vacancies-gen
CARGO_TARGET_DIR=$GEN_TARGET cargo build --release -q --manifest-path bench/vacancies/gen/Cargo.toml
GEN=$GEN_TARGET/release/koshi-bench-vacancies-gen

say "koshi: $KOSHI, built $(date -u -r "$KOSHI" +%Y-%m-%dT%H:%MZ) (tree at $(git rev-parse --short HEAD 2>/dev/null || echo '?')$(git diff --quiet HEAD -- crates 2>/dev/null || echo ', crates/ modified'))"
say "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -sr); $(date -u +%Y-%m-%dT%H:%M:%SZ)"

# --- 1. the postings ---------------------------------------------------------------------------
say "step 1: $POSTINGS synthetic postings"
"$GEN" "$POSTINGS" "$OUT/csv" 2023 3 2024 | tee -a "$LOG"
mapfile -t FILES < <(ls "$OUT/csv"/*.csv | sort)

# `measure NAME CMD…`: CMD under /usr/bin/time; "NAME seconds kB" appended to $OUT/times.txt and
# left in $LAST; its stdout in $OUT/last.out, its stderr in $OUT/last.err and the log. A failure
# returns 1 (and stops the benchmark unless tested), with the time it took in $LAST all the same.
TIMES="$OUT/times.txt"
: >"$TIMES"
measure() {
  local name=$1 status=0; shift
  /usr/bin/time -f "%e %M" -o "$OUT/time.tmp" "$@" >"$OUT/last.out" 2>"$OUT/last.err" || status=$?
  cat "$OUT/last.err" >>"$LOG"
  LAST=$(tail -1 "$OUT/time.tmp")
  if [ "$status" -ne 0 ]; then
    echo "$name failed $LAST" >>"$TIMES"
    echo "FAILED ($status): $name: $*" >>"$LOG"
    return 1
  fi
  echo "$name $LAST" >>"$TIMES"
}
# The value of column $1 in the one-row CSV report in $OUT/last.out.
field() { awk -F, -v want="$1" 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == want) c = i } NR == 2 { print $c }' "$OUT/last.out"; }
now_ns() { date +%s%N; }
mib() { awk -v k="$1" 'BEGIN { printf "%.0f MiB", k / 1024 }'; }

# --- 2. koshi vacancies import --------------------------------------------------------------------
BANK="$OUT/bank.db"
REG="$OUT/registry.db"
say "step 2: koshi vacancies import of ${#FILES[@]} files into a fresh SQLite registry"
"$KOSHI" --db "$BANK" --registry "$REG" vacancies search --limit 1 >/dev/null  # creates both, empty
read_total=0 inserted_total=0 repeats_total=0 review_total=0 uncoded_total=0 max_rss=0 slowest=0 n=0
t0=$(now_ns)
for f in "${FILES[@]}"; do
  base=$(basename "$f" .csv)
  source=${base#*_}; source=${source%_*}
  measure "import.$base" "$KOSHI" --db "$BANK" --registry "$REG" vacancies import "$f" --source "$source" \
    --mapping bench/vacancies/mapping.toml --format csv || { echo "import of $f failed:" >&2; head -c 2000 "$OUT/last.err" >&2; exit 1; }
  read -r secs rss <<<"$LAST"
  read_total=$((read_total + $(field read)))
  inserted_total=$((inserted_total + $(field inserted)))
  repeats_total=$((repeats_total + $(field duplicates)))
  review_total=$((review_total + $(field to_review)))
  uncoded_total=$((uncoded_total + $(field uncoded)))
  [ "$rss" -gt "$max_rss" ] && max_rss=$rss
  slowest=$(awk -v a="$slowest" -v b="$secs" 'BEGIN { print (b > a ? b : a) }')
  n=$((n + 1))
  if [ $((n % 12)) -eq 0 ] || [ "$n" -eq "${#FILES[@]}" ]; then
    elapsed=$(( ($(now_ns) - t0) / 1000000 ))
    say "  $n/${#FILES[@]} files, $inserted_total postings, $(awk -v p="$inserted_total" -v ms="$elapsed" 'BEGIN { printf "%.1f s, %.0f postings/s", ms / 1000, p / (ms / 1000) }')"
  fi
done
import_ms=$(( ($(now_ns) - t0) / 1000000 ))
[ "$read_total" -eq "$POSTINGS" ] || { echo "read $read_total postings, generated $POSTINGS" >&2; exit 1; }
wal_kib=0
if [ -e "$REG-wal" ]; then wal_kib=$(du -sk "$REG-wal" | cut -f1); fi
reg_kib=$(du -sk "$REG" | cut -f1)
say "koshi import: $read_total postings in $(awk -v ms="$import_ms" 'BEGIN { printf "%.1f", ms / 1000 }') s = $(awk -v p="$read_total" -v ms="$import_ms" 'BEGIN { printf "%.0f", p / (ms / 1000) }') postings/s; peak RSS of one import $(mib "$max_rss"), slowest file ${slowest} s; registry $(mib "$reg_kib") on disk and its write-ahead log $(mib "$wal_kib")"
say "  $repeats_total kept as repeats of a vacancy known from another source, $review_total coded with too little confidence (review queue), $uncoded_total uncoded"

# --- 3. koshi labour-demand --------------------------------------------------------------------------
say "step 3: koshi labour-demand, 2023-01 … 2025-12"
DEMAND=(labour-demand --from 2023-01 --to 2025-12 --format csv)
cells() { echo $(($(wc -l <"$OUT/last.out") - 1)); }
for run in 1 2; do
  measure "demand.level4.all.r$run" "$KOSHI" --db "$BANK" --registry "$REG" "${DEMAND[@]}" --level 4 || exit 1
  read -r secs rss <<<"$LAST"
  say "  level 4, all regions, run $run: $(cells) cells in $secs s, peak RSS $(mib "$rss")"
done
for run in 1 2; do
  measure "demand.level2.all.r$run" "$KOSHI" --db "$BANK" --registry "$REG" "${DEMAND[@]}" --level 2 || exit 1
  read -r secs rss <<<"$LAST"
  say "  level 2, all regions, run $run: $(cells) cells in $secs s, peak RSS $(mib "$rss")"
done

# --- 4. the peer: the sqlite3 shell ------------------------------------------------------------------
if command -v sqlite3 >/dev/null; then
  say "step 4: peer: sqlite3 $(sqlite3 --version | cut -d' ' -f1) .import of the same ${#FILES[@]} files into a plain table, then two indexes"
  PEER="$OUT/peer.db"
  {
    echo "PRAGMA journal_mode=WAL;"
    echo "CREATE TABLE posting (id TEXT, title TEXT, employer TEXT, bin TEXT, region TEXT, settlement TEXT, isco TEXT, education TEXT, experience TEXT, wage_from TEXT, wage_to TEXT, openings TEXT, posted TEXT, valid_through TEXT, filled TEXT, closed TEXT);"
    for f in "${FILES[@]}"; do echo ".import --csv --skip 1 '$f' posting"; done
    echo "CREATE UNIQUE INDEX posting_id ON posting (id);"
    echo "CREATE INDEX posting_cell ON posting (region, isco, posted);"
  } >"$OUT/peer.sql"
  measure peer.import sqlite3 "$PEER" ".read $OUT/peer.sql" || exit 1
  read -r secs rss <<<"$LAST"
  rows=$(sqlite3 "$PEER" "SELECT count(*) FROM posting")
  peer_kib=$(du -sk "$PEER"* | awk '{ s += $1 } END { print s }')
  say "peer import: $rows rows in $secs s = $(awk -v p="$rows" -v s="$secs" 'BEGIN { printf "%.0f", p / s }') rows/s, peak RSS $(mib "$rss"), $(mib "$peer_kib") on disk"
  for run in 1 2; do
    measure "peer.inflow.r$run" sqlite3 "$PEER" "SELECT region, isco, substr(posted, 1, 7) AS month, count(*), sum(openings) FROM posting WHERE posted BETWEEN '2023-01-01' AND '2025-12-31' GROUP BY 1, 2, 3" || exit 1
    read -r secs rss <<<"$LAST"
    say "peer inflow GROUP BY, run $run: $(wc -l <"$OUT/last.out") groups in $secs s, peak RSS $(mib "$rss")"
  done
else
  say "step 4: no peer: the sqlite3 shell is not installed"
fi

if [ "$KEEP" != 1 ]; then rm -rf "$OUT/csv" "$BANK"* "$REG"* "$OUT"/peer.db*; fi
say "times (name seconds peak-kB) in $TIMES; log in $LOG"
