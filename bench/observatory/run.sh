#!/usr/bin/env bash
# The observatory's pages under load (issue target: each page's API calls answer in < 50 ms at p95
# with the bundled data under 16 concurrent clients on loopback, and a page is usable < 1 s after
# load). A koshi server over a fresh bank of the bundled data, on 127.0.0.1, answers the calls each
# page makes, read from the pages themselves (crates/koshi-server/assets/):
#   home     /  the ten calls of the dashboard (its assets' ECharts aside, cached for good);
#   country  /country  the words, the AREA code list and the profile, for 40 countries;
#   region   /region   the words, the AREA code list, the map, the profile and the net migration
#            by region, for the 20 current regions;
#   others   the corridors, data quality and explorer pages' calls;
#   models   /models   the gravity fit, push and pull, and the backtest of the forecasts.
# CLIENTS clients (one request at a time each, a new connection per request, with the load client
# of bench/concurrency/load.rs) send CLIENTS × REQUESTS requests per page, the page's calls in turn:
#   cold   the first pass over the calls on a server just started, twice: right after a load and
#          started again over a bank where an earlier server kept its slow answers (the defect
#          report, the models' fits, what the latest releases changed, the backtest, profiles…).
#          The server listens once what the pages ask for first (WARM_URLS) is worked out; the time
#          from its start to its first answer is printed for both. What WARM_URLS leaves out (other
#          countries' profiles, …) is computed here, 16 clients at once;
#   warm   after one warm-up pass, the measured run;
#   gzip   the same with "Accept-Encoding: gzip, deflate, br, zstd", what a browser sends (koshi then
#          compresses every answer as it would for a browser); for the pages that ask for the map
#          file, also without it (the API calls only).
# The peer in the same run: the same client fetching the very same answers (saved with curl) as
# static files from Python's http.server on 127.0.0.1; and koshi's own floor, one small static
# asset (/assets/observatory.css) under the same load, beside the map file (compressed or not).
# Every first visit of a call, alone on a fresh server, is timed with curl as the answers are
# saved: the slowest are printed.
# Then each page is opened LOADS times in headless Chromium (usable.mjs), on a fresh server, the
# first load with the browser's cache empty: time from navigation start to usable.
#
# Environment: CLIENTS (16), REQUESTS per client (200), MAX_SECONDS per measured run (60),
# LOADS per page in the browser (5). Uses CARGO_TARGET_DIR when set.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$ROOT"
CLIENTS=${CLIENTS:-16}
REQUESTS=${REQUESTS:-200}
MAX_SECONDS=${MAX_SECONDS:-60}
LOADS=${LOADS:-5}
BROWSER_ENCODINGS="gzip, deflate, br, zstd"
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}

WORK=$(mktemp -d /tmp/koshi-bench-observatory.XXXXXX)
SERVER="" PEER=""
cleanup() {
  if [ -n "$SERVER" ]; then kill "$SERVER" 2>/dev/null || true; wait "$SERVER" 2>/dev/null || true; fi
  if [ -n "$PEER" ]; then kill "$PEER" 2>/dev/null || true; wait "$PEER" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

cargo build --release -q -p koshi
KOSHI="$TARGET/release/koshi"
rustc -O --edition 2021 bench/concurrency/load.rs -o "$WORK/load"
"$KOSHI" --db "$WORK/bank.db" load-bundled >"$WORK/load-bundled.log" 2>&1 || { cat "$WORK/load-bundled.log" >&2; exit 1; }
# The bank as the load left it (nothing worked out yet), for servers started right after a load.
sqlite3_copy() { python3 -c 'import sqlite3, sys; s = sqlite3.connect(sys.argv[1]); d = sqlite3.connect(sys.argv[2]); s.backup(d); d.close(); s.close()' "$1" "$2"; }
sqlite3_copy "$WORK/bank.db" "$WORK/loaded.db"

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'; }
wait_for() { # url pid log
  for _ in $(seq 1 600); do
    curl -sf -o /dev/null "$1" && return 0
    kill -0 "$2" 2>/dev/null || break
    sleep 0.2
  done
  echo "the server did not start: $(cat "$3")" >&2
  exit 1
}
serve() { # [bank file] a koshi server just started over the bank (the working one unless given), at $ADDR;
  # READY_MS: from its start to its first answer (it listens once the pages' first answers are worked out)
  ADDR="127.0.0.1:$(free_port)"
  local t0; t0=$(date +%s%N)
  "$KOSHI" --db "${1:-$WORK/bank.db}" serve --addr "$ADDR" >/dev/null 2>"$WORK/serve.log" &
  SERVER=$!
  wait_for "http://$ADDR/api/health" "$SERVER" "$WORK/serve.log"
  READY_MS=$(( ($(date +%s%N) - t0) / 1000000 ))
}
stop() { kill "$SERVER" 2>/dev/null || true; wait "$SERVER" 2>/dev/null || true; SERVER=""; }
load() { # addr paths requests_per_client
  "$WORK/load" "$1" "$2" "$CLIENTS" "$3" "$MAX_SECONDS"
}
one_pass() { # paths: requests per client for every line of the file to be asked once
  echo $(( ($(wc -l < "$1") + CLIENTS - 1) / CLIENTS ))
}

# The calls of each page, one visit after another.
mkdir -p "$WORK/paths"
cat > "$WORK/paths/home.txt" <<'EOF'
/api/dataflows
/api/health
/api/alerts?limit=20
/assets/kz-regions-2022.geojson
/api/indicators
/api/discrepancies?tolerance=1&limit=200
/api/indicators/NET/MIG_INT?limit=10000
/api/check?limit=1000
/api/data/MIG_EXT?key=KAZ.WLD._T._T.NET&limit=10000
/api/data/MIG_EXT?key=KAZ.WLD._T._T.NET&harmonised=true&limit=500
/api/profiles/country/KAZ
/api/changes?latest=3
EOF
# 40 countries: Kazakhstan, its neighbours and Belarus, and every 7th other country of the code list.
COUNTRIES="KAZ BLR CHN RUS UZB KGZ $(tail -n +2 data/structure/codelists/countries.csv | cut -d, -f1 |
  grep -vxE 'KAZ|BLR|CHN|RUS|UZB|KGZ' | awk 'NR % 7 == 1' | head -34 | tr '\n' ' ')"
for code in $COUNTRIES; do
  printf '/assets/observatory-i18n.json\n/api/codelists/AREA\n/api/profiles/country/%s\n' "$code"
done > "$WORK/paths/country.txt"
# The 20 regions of today (those without an end date).
REGIONS=$(tail -n +2 data/structure/codelists/kz_regions.csv | awk -F, '$7 == "" { print $1 }')
[ "$(echo "$REGIONS" | wc -l)" -eq 20 ] || { echo "expected 20 current regions, found: $REGIONS" >&2; exit 1; }
for code in $REGIONS; do
  printf '/assets/observatory-i18n.json\n/api/codelists/AREA\n/assets/kz-regions-2022.geojson\n/api/profiles/region/%s\n/api/profiles/regions?measure=NET\n' "$code"
done > "$WORK/paths/region.txt"
# The other pages' calls: corridors (a set and three bilateral pages), data quality, the explorer.
cat > "$WORK/paths/others.txt" <<'EOF'
/assets/observatory-i18n.json
/api/codelists/AREA
/assets/world-countries-110m.geojson
/api/corridors?countries=KAZ,RUS,UZB,KGZ,TJK,CHN,BLR,UKR,DEU
/api/corridors/KAZ/RUS
/api/corridors/KAZ/BLR
/api/corridors/KAZ/CHN
/api/changes?latest=5
/api/changes/TRADE?since=2020-01-01&limit=200
/api/discrepancies?tolerance=1&limit=200
/api/check?limit=500
/api/sources?limit=100
/api/dataflows?limit=100
/api/dataflows/MIG_EXT/codes
/api/data/MIG_EXT?key=REF_AREA%3DKAZ%2CCOUNTERPART%3DWLD%2CMEASURE%3DNET&limit=2000
EOF
# The models page: the gravity fit, push and pull, the backtest of the forecasts (as models.html asks).
cat > "$WORK/paths/models.txt" <<'EOF'
/assets/observatory-i18n.json
/api/gravity/fit?formula=flow%20~%20log(dist)%20%2B%20contig%20%2B%20eaeu%20%7C%20orig%5Eyear%20%2B%20dest%5Eyear&data=undesa-panel
/api/gravity/push-pull?formula=flow%20~%20log(dist)%20%2B%20contig%20%7C%20orig%20%2B%20dest%20%2B%20year&data=undesa-panel&corridor=KAZ
/api/backtest/MIG_EXT?key=KAZ.WLD._T._T.NET&horizon=5
/api/gravity/fit?formula=flow%20~%20log(dist)%20%2B%20contig%20%2B%20eaeu%20%7C%20orig%5Eyear%20%2B%20dest%5Eyear&data=undesa-panel&counterfactual=eaeu%3D0%20where%20eaeu%3D1&within=dest%3DKAZ%20and%20year%3D2019
EOF
echo /assets/observatory.css > "$WORK/paths/floor.txt"

# Each distinct answer saved once for the static peer (static/PAGE/N.json, in the order first asked),
# timed alone on a server just started: the first visit of each call. The peer's paths follow the page's.
save_answers() { # page
  local page=$1 n=0 url status seconds
  mkdir -p "$WORK/static/$page"
  : > "$WORK/first_visit_$page.txt"
  : > "$WORK/static_$page.map"
  awk '!seen[$0]++' "$WORK/paths/$page.txt" | while read -r url; do
    n=$((n + 1))
    read -r status seconds < <(curl -s -o "$WORK/static/$page/$n.json" -w '%{http_code} %{time_total}\n' "http://$ADDR$url")
    [ "$status" = 200 ] || { echo "$url answered $status" >&2; exit 1; }
    printf '%s /%s/%s.json\n' "$url" "$page" "$n" >> "$WORK/static_$page.map"
    awk -v s="$seconds" -v u="$url" 'BEGIN { printf "%9.1f ms  %s\n", s * 1000, u }' >> "$WORK/first_visit_$page.txt"
  done
  awk 'NR == FNR { to[$1] = $2; next } { print to[$0] }' "$WORK/static_$page.map" "$WORK/paths/$page.txt" > "$WORK/paths/peer_$page.txt"
}

RESULTS="$WORK/results.txt"
: > "$RESULTS"
record() { # page label json
  echo "$1|$2|$3" >> "$RESULTS"
}

echo "koshi $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- crates data 2>/dev/null || echo ' (with uncommitted changes)'), bundled data; $CLIENTS clients × $REQUESTS requests per run, one request per connection; $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')), load average $(cut -d' ' -f1-3 /proc/loadavg), $(date -u '+%F %H:%M') UTC"
# A server that has answered every page once keeps the slow answers in the bank (per state of the
# bank and build of the program); a server started again reads them back instead of computing them.
serve
for page in home country region others models; do
  load "$ADDR" "$WORK/paths/$page.txt" "$(one_pass "$WORK/paths/$page.txt")" >/dev/null
done
stop
for page in home country region others models; do
  sqlite3_copy "$WORK/loaded.db" "$WORK/fresh.db"
  serve "$WORK/fresh.db"
  echo "first start after a load|$READY_MS" >> "$WORK/ready.txt"
  record "$page" "koshi, cold: first start after a load" "$(load "$ADDR" "$WORK/paths/$page.txt" "$(one_pass "$WORK/paths/$page.txt")")"
  stop
  serve
  echo "started again (answers kept)|$READY_MS" >> "$WORK/ready.txt"
  record "$page" "koshi, cold: started again (answers kept)" "$(load "$ADDR" "$WORK/paths/$page.txt" "$(one_pass "$WORK/paths/$page.txt")")"
  stop
  serve
  save_answers "$page"
  load "$ADDR" "$WORK/paths/$page.txt" "$(one_pass "$WORK/paths/$page.txt")" >/dev/null # warm-up
  record "$page" "koshi, warm" "$(load "$ADDR" "$WORK/paths/$page.txt" "$REQUESTS")"
  record "$page" "koshi, warm, gzip as a browser asks" "$(LOAD_ACCEPT_ENCODING="$BROWSER_ENCODINGS" load "$ADDR" "$WORK/paths/$page.txt" "$REQUESTS")"
  if grep -q geojson "$WORK/paths/$page.txt"; then
    grep -v geojson "$WORK/paths/$page.txt" > "$WORK/paths/${page}_api.txt"
    record "$page" "koshi, warm, gzip, the API calls only" "$(LOAD_ACCEPT_ENCODING="$BROWSER_ENCODINGS" load "$ADDR" "$WORK/paths/${page}_api.txt" "$REQUESTS")"
  fi
  if [ "$page" = home ]; then
    curl -sf -o "$WORK/static/observatory.css" "http://$ADDR/assets/observatory.css"
    record floor "koshi, /assets/observatory.css" "$(load "$ADDR" "$WORK/paths/floor.txt" "$REQUESTS")"
    echo /assets/kz-regions-2022.geojson > "$WORK/paths/map.txt"
    record floor "koshi, the map file (863 kB)" "$(load "$ADDR" "$WORK/paths/map.txt" "$REQUESTS")"
    record floor "koshi, the map file, gzip as a browser asks" "$(LOAD_ACCEPT_ENCODING="$BROWSER_ENCODINGS" load "$ADDR" "$WORK/paths/map.txt" "$REQUESTS")"
  fi
  stop
done

PEER_ADDR="127.0.0.1:$(free_port)"
# What `python3 -m http.server --bind 127.0.0.1` runs (ThreadingHTTPServer, SimpleHTTPRequestHandler),
# with a listen backlog of 128 instead of socketserver's 5, which drops connections when 16 clients
# connect at once, and without its log line per request.
python3 - "${PEER_ADDR#*:}" "$WORK/static" >/dev/null 2>"$WORK/peer.log" <<'EOF' &
import functools, http.server, sys
class Server(http.server.ThreadingHTTPServer):
    request_queue_size = 128
class Handler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass
Server(("127.0.0.1", int(sys.argv[1])), functools.partial(Handler, directory=sys.argv[2])).serve_forever()
EOF
PEER=$!
wait_for "http://$PEER_ADDR/observatory.css" "$PEER" "$WORK/peer.log"
for page in home country region others models; do
  load "$PEER_ADDR" "$WORK/paths/peer_$page.txt" "$(one_pass "$WORK/paths/peer_$page.txt")" >/dev/null # warm-up
  record "$page" "peer: Python http.server, the same answers" "$(load "$PEER_ADDR" "$WORK/paths/peer_$page.txt" "$REQUESTS")"
done
echo /observatory.css > "$WORK/paths/peer_floor.txt"
record floor "peer: Python http.server, observatory.css" "$(load "$PEER_ADDR" "$WORK/paths/peer_floor.txt" "$REQUESTS")"
kill "$PEER" 2>/dev/null || true; wait "$PEER" 2>/dev/null || true; PEER=""

field() { # json name
  sed -n "s/.*\"$2\": *\([0-9.]*\).*/\1/p" <<< "$1"
}
echo
echo "API calls of each page, $CLIENTS concurrent clients (latency in ms; target: p95 < 50 ms)"
printf '%-8s %-45s %8s %6s %8s %8s %8s %8s  %s\n' page server requests errors p50 p95 max req/s target
for page in home country region others models floor; do
  grep "^$page|" "$RESULTS" | while IFS='|' read -r _ label json; do
    p95=$(field "$json" p95_ms)
    verdict=""
    case "$label" in koshi,*) verdict=$(awk -v p="$p95" 'BEGIN { print (p < 50 ? "met" : "NOT met") }') ;; esac
    [ "$page" = floor ] && verdict=""
    awk -v page="$page" -v label="$label" -v n="$(field "$json" requests)" -v e="$(field "$json" errors)" \
        -v p50="$(field "$json" p50_ms)" -v p95="$p95" -v max="$(field "$json" max_ms)" -v s="$(field "$json" seconds)" -v v="$verdict" \
      'BEGIN { printf "%-8s %-45s %8d %6d %8.2f %8.2f %8.2f %8.0f  %s\n", page, label, n, e, p50, p95, max, (s > 0 ? n / s : 0), v }'
  done
done

echo
echo "from the server's start to its first answer (ms; it listens once the pages' first answers are worked out):"
for kind in "first start after a load" "started again (answers kept)"; do
  grep "^$kind|" "$WORK/ready.txt" | cut -d'|' -f2 | sort -n | awk -v k="$kind" '{ v[NR] = $1 } END { printf "  %-30s %d starts: min %d, median %d, max %d\n", k, NR, v[1], v[int((NR + 1) / 2)], v[NR] }'
done

echo
echo "first visit of each call, alone on a server just started (curl; the slowest 4 of each page):"
for page in home country region others models; do
  echo "$page ($(wc -l < "$WORK/first_visit_$page.txt") distinct calls):"
  sort -rn "$WORK/first_visit_$page.txt" | head -4
done

echo
if [ -x /usr/bin/chromium ] && command -v node >/dev/null && [ -d crates/koshi-server/tests/browser/node_modules/playwright-core ]; then
  echo "usable after load, headless Chromium, $LOADS loads per page on a server just started, the first with an empty cache"
  echo "(page clock: performance.now() from navigation start; wall: goto + wait from the bench; target: < 1000 ms)"
  printf '%-8s %10s %10s %10s %12s  %-40s %s\n' page first_ms median_ms max_ms wall_max_ms "loads (ms)" target
  for page in home country region corridors quality explorer models; do
    serve
    json=$(node bench/observatory/usable.mjs "http://$ADDR" "$page" "$LOADS")
    stop
    max=$(field "$json" max_ms)
    printf '%-8s %10s %10s %10s %12s  %-40s %s\n' "$page" "$(field "$json" first_ms)" "$(field "$json" median_ms)" "$max" \
      "$(field "$json" wall_max_ms)" "$(sed -n 's/.*"clock_ms":\[\([^]]*\)\].*/\1/p' <<< "$json")" \
      "$(awk -v m="$max" 'BEGIN { print (m < 1000 ? "met" : "NOT met") }')"
  done
else
  echo "usable after load: skipped (needs /usr/bin/chromium, node and crates/koshi-server/tests/browser/node_modules; see its run.sh)"
fi
