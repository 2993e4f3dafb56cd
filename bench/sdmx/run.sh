#!/usr/bin/env bash
# SDMX exchange benchmark, peers in the same run (issue acceptance: exporting 10 million
# observations as SDMX-CSV and as SDMX-ML streams in bounded memory, < 200 MB peak, at >= 50% of
# the speed of writing the same rows as plain CSV; importing them at >= 50% of `koshi ingest` of
# the plain CSV).
#
#  1. A synthetic panel of MIG_STOCK (REF_AREA x COUNTERPART x SEX=M,F x MEASURE=STOCK, yearly),
#     one source declared by the mapping (BENCH_SYNTH), generated as 5 plain CSV parts split by
#     REF_AREA and ingested with `koshi ingest --mapping` into a fresh bank: the plain-CSV import
#     peer, and the bank the exports read.
#  2. `koshi export MIG_STOCK --format csv | sdmx-csv | sdmx-ml | sdmx-ml-generic` of the whole
#     dataflow to a file: wall time, peak RSS, observations counted in the output.
#  3. The same data exported as 5 SDMX-CSV 2.0 parts and as 5 SDMX-ML (structure-specific) parts
#     (`--key` on REF_AREA, one part per group of REF_AREA codes), each set ingested without a
#     mapping into a fresh bank, against step 1's plain-CSV ingest.
#
# Environment:
#   SCALE=full (default: 250 REF_AREA x 200 COUNTERPART x 2 sexes x 100 years = 10,000,000
#         observations in 100,000 series) | small (5 x 20 x 2 x 10 = 2,000, a smoke test);
#         NREF (a multiple of 5), NCP (<= 250), NYEARS override either.
#   RUNS  repetitions of steps 2-3 (default 1; with more, the plain-CSV ingest is repeated into
#         a fresh bank and medians are reported).
#   KOSHI path of a built koshi binary; otherwise `cargo build --release --locked -p koshi` into
#         ${CARGO_TARGET_DIR:-target}.
#   OUT   working directory for the generated files (default bench/out/sdmx-$SCALE, git-ignored);
#         big files are deleted as soon as they have been measured unless KEEP=1.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
SCALE=${SCALE:-full}
case "$SCALE" in
  full) NREF=${NREF:-250}; NCP=${NCP:-200}; NYEARS=${NYEARS:-100} ;;
  small) NREF=${NREF:-5}; NCP=${NCP:-20}; NYEARS=${NYEARS:-10} ;;
  *) echo "SCALE must be full or small" >&2; exit 1 ;;
esac
RUNS=${RUNS:-1}
KEEP=${KEEP:-0}
PARTS=5
OUT=${OUT:-bench/out/sdmx-$SCALE}
[ $((NREF % PARTS)) -eq 0 ] || { echo "NREF must be a multiple of $PARTS" >&2; exit 1; }
[ "$NCP" -le 250 ] || { echo "NCP must be at most 250" >&2; exit 1; }
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)

[ -x /usr/bin/time ] || { apt-get update -qq && apt-get install -y -qq time; }

if [ -z "${KOSHI:-}" ]; then
  cargo build --release --locked -q -p koshi
  KOSHI=${CARGO_TARGET_DIR:-target}/release/koshi
fi
KOSHI=$(realpath "$KOSHI")
OBS=$((NREF * NCP * 2 * NYEARS))
PER_PART=$((OBS / PARTS))
LOG="$OUT/log.txt"
: >"$LOG"
say() { echo "$@" | tee -a "$LOG"; }

say "koshi: $KOSHI, built $(date -u -r "$KOSHI" +%Y-%m-%dT%H:%MZ) (tree now at $(git rev-parse --short HEAD 2>/dev/null || echo '?')$(git diff --quiet HEAD -- crates 2>/dev/null || echo ', crates/ modified'))"
say "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -sr); $(date -u +%Y-%m-%dT%H:%M:%SZ)"
say "scale: $NREF REF_AREA x $NCP COUNTERPART x 2 SEX x $NYEARS years = $OBS observations in $((NREF * NCP * 2)) series; $PARTS parts of $PER_PART"

# REF_AREA groups (one per part) and COUNTERPART codes from the AREA code list's countries.
mapfile -t CODES < <(tail -n +2 data/structure/codelists/countries.csv | cut -d, -f1 | head -n 251)
[ "${#CODES[@]}" -ge $((NREF > NCP ? NREF : NCP)) ] || { echo "not enough country codes" >&2; exit 1; }
group() { # the REF_AREA codes of part $1 (1-based), `+`-joined
  local per=$((NREF / PARTS)) i out=""
  for ((i = ($1 - 1) * per; i < $1 * per; i++)); do out+="${out:+"+"}${CODES[$i]}"; done
  echo "$out"
}

# --- 1. plain CSV parts -------------------------------------------------------------------
generate() { # part -> $OUT/plain_$part.csv
  local p=$1
  printf '%s\n' "${CODES[@]}" | mawk -v part="$p" -v parts="$PARTS" -v nref="$NREF" -v ncp="$NCP" -v nyears="$NYEARS" '
    { code[NR - 1] = $1; n = NR }
    END {
      print "REF_AREA,COUNTERPART,SEX,TIME_PERIOD,OBS_VALUE"
      per = nref / parts; split("M F", sex, " ")
      for (r = (part - 1) * per; r < part * per; r++) {
        c = 0
        for (j = 0; c < ncp; j++) {                  # counterparts: every code but the area itself
          if (j == r) continue
          cp = code[j]; c++
          for (s = 1; s <= 2; s++) {
            series = (r * ncp + c) * 2 + s
            x = (series * 7919) % 2147483647 + 1      # MINSTD, exact in doubles
            base = 1000 + (series * 37) % 900000
            for (y = 0; y < nyears; y++) {
              x = (x * 48271) % 2147483647
              printf "%s,%s,%s,%d,%d\n", code[r], cp, sex[s], 2024 - nyears + 1 + y, base + x % 100000
            }
          }
        }
      }
    }' >"$OUT/plain_$p.csv"
}
if [ ! -f "$OUT/plain_$PARTS.csv.done" ]; then
  for p in $(seq 1 $PARTS); do generate "$p"; done
  touch "$OUT/plain_$PARTS.csv.done"
fi
lines=$(cat "$OUT"/plain_[1-9].csv | wc -l)
[ "$lines" -eq $((OBS + PARTS)) ] || { echo "generated $lines lines, expected $((OBS + PARTS))" >&2; exit 1; }
say "plain CSV parts: $(du -ch "$OUT"/plain_[1-9].csv | tail -1 | cut -f1) in $PARTS files"
for p in $(seq 1 $PARTS); do
  sed "s/part 1\"/part $p\"/" bench/sdmx/synthetic.toml >"$OUT/mapping_$p.toml"
done

# Timing: `measure NAME CMD…` runs CMD under /usr/bin/time, appends "NAME seconds kB" to
# $OUT/times.txt; stdout and stderr go to the log. A failing command stops the benchmark.
TIMES="$OUT/times.txt"
: >"$TIMES"
measure() {
  local name=$1; shift
  if ! /usr/bin/time -f "%e %M" -o "$OUT/time.tmp" "$@" >>"$LOG" 2>&1; then
    echo "FAILED: $name: $*" >&2; tail -20 "$LOG" >&2; exit 1
  fi
  echo "$name $(cat "$OUT/time.tmp")" | tee -a "$TIMES" >>"$LOG"
}
fresh_bank() { rm -f "$1" "$1-wal" "$1-shm"; }
declare_source() { # the source a fresh bank needs before koshi's own messages of it are read
  "$KOSHI" --db "$1" source add --id BENCH_SYNTH --name "Synthetic benchmark data (bench/sdmx), not real figures" \
    --kind synthetic >>"$LOG" 2>&1
}
# Ingest the parts $2… into bank $1 under timing name $NAME.p (one process per part).
ingest_parts() {
  local name=$1 db=$2; shift 2
  local p=0 f
  for f in "$@"; do
    p=$((p + 1))
    local mapping=()
    case "$f" in *plain_*.csv) mapping=(--mapping "$OUT/mapping_$p.toml") ;; esac
    measure "$name.$p" "$KOSHI" --db "$db" ingest "$f" "${mapping[@]}"
  done
}
count_obs() { # observations in an export file, counted from the text
  case "$2" in
    csv | sdmx-csv) echo $(($(wc -l <"$1") - 1)) ;;
    sdmx-ml) grep -o '<Obs[ />]' "$1" | wc -l ;;
    sdmx-ml-generic) grep -o '<[A-Za-z]*:Obs>' "$1" | wc -l ;;
  esac
}

BANK="$OUT/bank.db"
PLAIN_PARTS=()
for p in $(seq 1 $PARTS); do PLAIN_PARTS+=("$OUT/plain_$p.csv"); done
say "step 1: plain CSV ingest (5 parts) into a fresh bank"
fresh_bank "$BANK"
ingest_parts plain_ingest.r1 "$BANK" "${PLAIN_PARTS[@]}"
say "bank: $(du -h "$BANK" | cut -f1)"

FORMATS=(csv sdmx-csv sdmx-ml sdmx-ml-generic)
declare -A SIZE
for run in $(seq 1 "$RUNS"); do
  # --- 2. whole-dataflow exports, alternating formats (rotated each run) ---------------------
  say "run $run, step 2: exports of the whole dataflow"
  n=${#FORMATS[@]}
  for ((i = 0; i < n; i++)); do
    f=${FORMATS[$(((i + run - 1) % n))]}
    file="$OUT/export.$f"
    measure "export.$f.r$run" "$KOSHI" --db "$BANK" export MIG_STOCK --format "$f" --output "$file"
    got=$(count_obs "$file" "$f")
    SIZE[$f]=$(du -h "$file" | cut -f1)
    say "  $f: $(tail -1 "$TIMES" | cut -d' ' -f2) s, $got observations, ${SIZE[$f]}"
    [ "$got" -eq "$OBS" ] || { echo "export $f holds $got observations, expected $OBS" >&2; exit 1; }
    [ "$KEEP" = 1 ] || rm -f "$file"
  done

  # --- 3. imports: 5 SDMX-CSV 2.0 parts and 5 SDMX-ML parts, each set into a fresh bank -------
  say "run $run, step 3: imports"
  if [ "$run" -gt 1 ]; then
    fresh_bank "$OUT/plain.db"
    ingest_parts "plain_ingest.r$run" "$OUT/plain.db" "${PLAIN_PARTS[@]}"
    fresh_bank "$OUT/plain.db"
  fi
  for f in sdmx-csv sdmx-ml; do
    ext=$([ "$f" = sdmx-csv ] && echo csv || echo xml)
    parts=()
    for p in $(seq 1 $PARTS); do
      file="$OUT/part_$p.$f.$ext"
      [ -f "$file" ] || "$KOSHI" --db "$BANK" export MIG_STOCK --key "$(group "$p")..." --format "$f" \
        --output "$file" 2>>"$LOG"
      got=$(count_obs "$file" "$f")
      [ "$got" -eq "$PER_PART" ] || { echo "$file holds $got observations, expected $PER_PART" >&2; exit 1; }
      parts+=("$file")
    done
    db="$OUT/import-$f.db"
    fresh_bank "$db"
    declare_source "$db"
    ingest_parts "import.$f.r$run" "$db" "${parts[@]}"
    # The imported bank holds what the first bank holds: the same plain export, byte for byte.
    if [ "$run" -eq 1 ]; then
      "$KOSHI" --db "$BANK" export MIG_STOCK --format csv --output "$OUT/a.csv" 2>>"$LOG"
      "$KOSHI" --db "$db" export MIG_STOCK --format csv --output "$OUT/b.csv" 2>>"$LOG"
      if cmp -s "$OUT/a.csv" "$OUT/b.csv"; then say "  $f import: same figures, attributes and releases as the source bank"
      else say "  $f import: DIFFERS from the source bank (see $OUT/a.csv, $OUT/b.csv)"; KEEP=1; fi
      [ "$KEEP" = 1 ] || rm -f "$OUT/a.csv" "$OUT/b.csv"
    fi
    fresh_bank "$db"
  done
done
[ "$KEEP" = 1 ] || rm -f "$OUT"/part_*

# --- summary ----------------------------------------------------------------------------------
say ""
awk -v obs="$OBS" -v runs="$RUNS" -v parts="$PARTS" '
  function median(list,   n, a, i, j, t) {
    n = split(list, a, " ")
    for (i = 2; i <= n; i++) for (j = i; j > 1 && a[j - 1] + 0 > a[j] + 0; j--) { t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
    return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
  }
  {
    name = $1; split(name, p, ".")
    if (p[1] == "export") { what = "export " p[2]; run = p[3] } else { what = p[1] (p[2] ~ /^r/ ? "" : " " p[2]); run = (p[2] ~ /^r/ ? p[2] : p[3]) }
    key = what SUBSEP run
    if (!(key in secs)) { order[++k] = key }
    secs[key] += $2; if ($3 > mem[key]) mem[key] = $3
  }
  END {
    for (i = 1; i <= k; i++) { split(order[i], w, SUBSEP); all_s[w[1]] = all_s[w[1]] " " secs[order[i]]; all_m[w[1]] = all_m[w[1]] " " mem[order[i]]; if (!(w[1] in seen)) { seen[w[1]] = 1; names[++m] = w[1] } }
    for (i = 1; i <= m; i++) { s[names[i]] = median(all_s[names[i]]); mb[names[i]] = median(all_m[names[i]]) / 1024 }
    printf "%-34s %9s %12s %9s %9s  %s\n", "(median of " runs " run(s))", "wall s", "obs/s", "peak MB", "speed", "vs"
    split("export csv|export sdmx-csv|export sdmx-ml|export sdmx-ml-generic", ex, "|")
    for (i = 1; i <= 4; i++) if (ex[i] in s)
      printf "%-34s %9.2f %12.0f %9.0f %9.2f  %s\n", ex[i], s[ex[i]], obs / s[ex[i]], mb[ex[i]], s["export csv"] / s[ex[i]], "export csv"
    split("plain_ingest|import sdmx-csv|import sdmx-ml", im, "|")
    for (i = 1; i <= 3; i++) if (im[i] in s)
      printf "%-34s %9.2f %12.0f %9.0f %9.2f  %s\n", im[i] " (" parts " parts)", s[im[i]], obs / s[im[i]], mb[im[i]], s["plain_ingest"] / s[im[i]], "plain_ingest"
    printf "\ntargets: export sdmx-csv / sdmx-ml peak < 200 MB and speed >= 0.50 of export csv; import speed >= 0.50 of plain_ingest\n"
  }' "$TIMES" | tee -a "$LOG" | tee "$OUT/summary.txt"
echo "raw times (name seconds peak-kB): $TIMES; log: $LOG"
