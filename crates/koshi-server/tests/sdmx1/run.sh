#!/usr/bin/env bash
# The SDMX acceptance test with a real client: Python's sdmx1 (installed here in a virtual
# environment from the package registry) reads a koshi server started on 127.0.0.1, every
# SDMX-ML message koshi produces is validated against the official SDMX 2.1 XSDs (lxml), and
# an SDMX-CSV 2.0 export is read with sdmx1's reader. Exits non-zero on any failure.
#
# Usage: run.sh [PATH_TO_KOSHI_BINARY]   (default: target/debug/koshi, built if missing)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../../../.." && pwd)"
schemas="$root/../shared/reference/sdmx/schemas"
koshi="${1:-$root/target/debug/koshi}"
if [ ! -x "$koshi" ]; then
  (cd "$root" && cargo build --locked -p koshi)
fi
[ -d "$schemas" ] || { echo "error: $schemas is missing (the official SDMX schemas)" >&2; exit 1; }

venv="$root/target/sdmx1-venv"
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import sdmx, lxml' 2>/dev/null; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check 'sdmx1>=2.20' lxml
fi

work="$(mktemp -d)"
server_pid=""
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

db="$work/bank.db"
"$koshi" --db "$db" load-bundled --format json >/dev/null
# A free port on the loopback interface.
port="$("$venv/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
"$koshi" --db "$db" serve --addr "127.0.0.1:$port" >"$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 240); do
  if "$venv/bin/python" -c "import urllib.request,sys; urllib.request.urlopen('http://127.0.0.1:$port/api/health', timeout=1)" 2>/dev/null; then
    break
  fi
  sleep 0.5
done

"$koshi" --db "$db" export MIG_EXT --key KAZ.WLD._T._T. --format sdmx-csv --output "$work/mig_ext.csv"
"$koshi" --db "$db" export POP --format sdmx-ml --output "$work/pop.xml"
"$koshi" --db "$db" export MIG_INT --format sdmx-ml-generic --output "$work/mig_int.xml"

"$venv/bin/python" "$here/check_sdmx1.py" \
  --base "http://127.0.0.1:$port" --schemas "$schemas" --work "$work" \
  --export-csv "$work/mig_ext.csv" --export-xml "$work/pop.xml" --export-generic "$work/mig_int.xml"
