#!/usr/bin/env bash
# The dashboard (/), the observatory's profiles (/country, /region, and `koshi report`), the
# labour-market pages (/vacancies, /shortage: their test seeds its own vacancies, job seekers and
# shortage list through the API) and the permit registry's pages (/registry) in headless
# Chromium: a koshi server started on 127.0.0.1 with a fresh bank and registry (an
# administrator, officers of KZ-75 and KZ-79, two employers in those regions with a user each,
# this year's quota), driven by playwright-core (installed here with npm ci from
# package-lock.json) in Debian's Chromium. Screenshots go to target/browser-artifacts/. Exits
# non-zero on any failure.
#
# Usage: run.sh [PATH_TO_KOSHI_BINARY]   (default: target/debug/koshi, built if missing)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../../../.." && pwd)"
koshi="${1:-$root/target/debug/koshi}"
if [ ! -x "$koshi" ]; then
  (cd "$root" && cargo build --locked -p koshi)
fi
koshi="$(cd "$(dirname "$koshi")" && pwd)/$(basename "$koshi")"

if [ ! -x /usr/bin/chromium ]; then
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium >/dev/null
fi
command -v node >/dev/null || { echo "error: node (20 or later) is needed to drive the browser" >&2; exit 1; }
(cd "$here" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)

artifacts="$root/target/browser-artifacts"
mkdir -p "$artifacts"
work="$(mktemp -d)"
server_pid=""
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

db="$work/bank.db"
"$koshi" --db "$db" load-bundled --format json >/dev/null

# One password for every user of this run (at least 12 characters), given to the tests below.
password="pages-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')"
json_id() { node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).id))'; }
add_user() { KOSHI_PASSWORD="$password" "$koshi" --db "$db" registry add-user --format json "$@" >/dev/null; }
# What the rules need to know of an employer: enough local staff for the local-content share.
cat >"$work/facts.json" <<'EOF'
{"employer": {"activity_group": "A"}, "staff": [{"category": "3", "local": true, "count": 1000}]}
EOF
add_user --name admin --role admin
add_user --name officer-almaty --role officer --region KZ-75
add_user --name officer-shymkent --role officer --region KZ-79
almaty="$("$koshi" --db "$db" registry add-employer --name 'Almaty Stroy LLP' --bin 100000000001 --region KZ-75 \
  --facts "$work/facts.json" --format json | json_id)"
shymkent="$("$koshi" --db "$db" registry add-employer --name 'Shymkent Cement JSC' --bin 100000000002 --region KZ-79 \
  --facts "$work/facts.json" --format json | json_id)"
add_user --name employer-almaty --role employer --employer "$almaty"
add_user --name employer-shymkent --role employer --employer "$shymkent"
# Decisions are made on the server's real date: the year's quota is the example's cells, and the
# policy is the shipped one with its last monthly calculation index (which the fee needs) carried
# on, so that the run does not depend on the budget laws the policy knows.
year="$(date -u +%Y)"
"$koshi" --db "$db" registry set-quota --year "$year" --file "$root/data/examples/registry_quota_2026.csv" --format json >/dev/null
cat >"$work/kz_pages.toml" <<'EOF'
policy = "kz"
id = "KZ_PAGES"

[[overrides.params.mci]]
from = 2016-01-01
value = 4325
legal = "budget_law"
EOF
"$koshi" --db "$db" registry set-policy --file "$work/kz_pages.toml" --format json >/dev/null

# A free port on the loopback interface.
port="$(node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')"
base="http://127.0.0.1:$port"
"$koshi" --db "$db" serve --addr "127.0.0.1:$port" >"$work/server.log" 2>&1 &
server_pid=$!
up=""
for _ in $(seq 1 240); do
  if node -e "fetch('$base/api/health').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))" 2>/dev/null; then
    up=1
    break
  fi
  kill -0 "$server_pid" 2>/dev/null || break
  sleep 0.5
done
if [ -z "$up" ]; then
  echo "error: the server did not answer $base/api/health; its log:" >&2
  cat "$work/server.log" >&2
  exit 1
fi

status=0
KOSHI_URL="$base" KOSHI_BIN="$koshi" KOSHI_DB="$db" KOSHI_TEST_PASSWORD="$password" KOSHI_TEST_YEAR="$year" KOSHI_ARTIFACTS="$artifacts" \
  node --test --test-reporter=spec "$here/registry.test.mjs" "$here/dashboard.test.mjs" "$here/observatory.test.mjs" "$here/accessibility.test.mjs" "$here/vacancies.test.mjs" || status=$?
if [ "$status" -ne 0 ]; then
  echo "the server's log (last lines):" >&2
  tail -n 40 "$work/server.log" >&2
fi
echo "screenshots: $artifacts"
exit "$status"
