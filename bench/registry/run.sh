#!/usr/bin/env bash
# Work-permit registry load: officers deciding applications over loopback HTTP, each decision
# durably committed with its permit, its quota consumption and its audit entry (issue target:
# >= 1,000 decisions/s with p99 < 50 ms on 2 cores), on SQLite (group commit, synchronous=FULL)
# and on PostgreSQL 15 (fsync on) in a throw-away cluster. The peer in the same run is pgbench's
# built-in TPC-B-like transaction on the same cluster: the durable commits per second the
# database itself reaches with the same number of clients.
#
# Environment: DECISIONS (default 5000), CLIENTS (default 32). Bounded: 120 s per backend.
set -euo pipefail
cd "$(dirname "$0")/../.."
DECISIONS=${DECISIONS:-5000}
CLIENTS=${CLIENTS:-32}
PGDIR=$(mktemp -d /tmp/koshi-bench-pg.XXXXXX)
trap 'bash .ci/postgres.sh stop --remove "$PGDIR" >/dev/null 2>&1 || true' EXIT
URL=$(bash .ci/postgres.sh start "$PGDIR" | tail -1)
cargo build --release --locked -q -p koshi-server --example registry_load
BIN=${CARGO_TARGET_DIR:-target}/release/examples/registry_load
echo "== koshi registry, SQLite"
timeout 300 "$BIN" sqlite "$DECISIONS" "$CLIENTS"
echo "== koshi registry, PostgreSQL"
timeout 300 "$BIN" "$URL" "$DECISIONS" "$CLIENTS"
echo "== peer: pgbench (TPC-B-like, $CLIENTS clients, 15 s) on the same cluster"
PGBENCH=$(command -v pgbench || echo /usr/lib/postgresql/15/bin/pgbench)
"$PGBENCH" -i -q "$URL" >/dev/null 2>&1
"$PGBENCH" -c "$CLIENTS" -j 2 -T 15 "$URL" 2>/dev/null | grep -E "^(tps|latency average)"
