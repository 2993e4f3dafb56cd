#!/usr/bin/env bash
# A throw-away PostgreSQL 15 cluster for tests and CI.
#
#   .ci/postgres.sh start DIR            initialise (if needed) and start a cluster under DIR;
#                                        prints its URL as the last line of stdout
#   .ci/postgres.sh stop [--remove] DIR  stop it (fast shutdown; no error when not running);
#                                        --remove also deletes DIR
#   .ci/postgres.sh status DIR           exit 0 when running, 3 when not
#
# The cluster listens on 127.0.0.1 only, on a free port from 54320 upward (KOSHI_PG_PORT_BASE
# overrides the start), with its unix socket inside DIR. fsync and synchronous_commit stay on,
# so commit timings are those of durable commits. Local socket connections are trusted (for
# administration as the superuser `postgres`); TCP connections need a SCRAM-SHA-256 password.
#
# It creates a login role `koshi` (NOSUPERUSER, NOBYPASSRLS, CREATEDB: each test makes a database of its own, NOCREATEROLE) with a
# random password, and the databases `koshi` and `koshi_test`, both owned by it.
#
# Files written under DIR:
#   DIR/data        the data directory          DIR/sock   the unix socket directory
#   DIR/url         postgres://koshi:PASSWORD@127.0.0.1:PORT/koshi
#   DIR/port        the TCP port                DIR/postgres.log   the server log
#   DIR/pgdata      the data directory's real path (see below)
#   DIR/sockdir     the socket directory's real path
#   DIR/password    the role koshi's password (url and password are mode 600)
#
# PostgreSQL refuses to run as root. When run as root, the server runs as the system user
# `postgres` (created by Debian's package; otherwise a system user `koshi-pg` is created).
# If that user cannot reach DIR (e.g. DIR lies under a mode-700 home directory), the data and
# socket directories are placed in a private directory under /tmp instead, recorded in
# DIR/pgdata and DIR/sockdir, and removed by `stop --remove`.
#
# Several clusters may be started at once with different DIRs: port selection and server start
# are serialised with a lock, and a start that loses a port race retries on the next port.
set -euo pipefail

PG_MAJOR=15
PORT_BASE=${KOSHI_PG_PORT_BASE:-54320}
PORT_LAST=$((PORT_BASE + 999))
LOCK_FILE=${TMPDIR:-/tmp}/koshi-postgres-ports.lock
MARKER=.koshi-postgres

log() { printf 'postgres.sh: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

usage() {
  sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

pg_bin_ok() { # DIR: holds initdb and pg_ctl of the right major version
  [ -x "$1/initdb" ] && [ -x "$1/pg_ctl" ] || return 1
  "$1/initdb" --version 2>/dev/null | grep -Eq "\(PostgreSQL\) ${PG_MAJOR}\."
}

find_pg_bin() {
  local cand
  for cand in "$(dirname "$(command -v initdb 2>/dev/null || echo /nonexistent/initdb)")" \
    "/usr/lib/postgresql/${PG_MAJOR}/bin"; do
    # Resolve symlinks (e.g. /usr/local/bin/initdb -> /usr/lib/postgresql/15/bin/initdb), so that
    # psql and the other tools are taken from the same directory.
    if [ -x "$cand/initdb" ]; then
      cand=$(dirname "$(readlink -f "$cand/initdb")")
    fi
    if pg_bin_ok "$cand"; then
      echo "$cand"
      return 0
    fi
  done
  return 1
}

install_pg() {
  log "PostgreSQL ${PG_MAJOR} not found; installing it with apt-get"
  command -v apt-get >/dev/null || die "apt-get is not available; install PostgreSQL ${PG_MAJOR} by hand"
  # Debian's package would create and start a default cluster on port 5432; it is not needed.
  if [ ! -e /etc/postgresql-common/createcluster.conf ]; then
    as_root mkdir -p /etc/postgresql-common/createcluster.d
    echo 'create_main_cluster = false' |
      as_root tee /etc/postgresql-common/createcluster.d/koshi-no-main-cluster.conf >/dev/null
  fi
  export DEBIAN_FRONTEND=noninteractive
  as_root apt-get update -qq >&2
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    -o Dpkg::Options::=--force-confold "postgresql-${PG_MAJOR}" >&2 ||
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      -o Dpkg::Options::=--force-confold postgresql >&2
}

# The user the server runs as: ourselves, or an unprivileged system user when we are root.
RUN_USER=
pick_run_user() {
  if [ "$(id -u)" -ne 0 ]; then
    RUN_USER=$(id -un)
    return
  fi
  if id -u postgres >/dev/null 2>&1; then
    RUN_USER=postgres
  else
    if ! id -u koshi-pg >/dev/null 2>&1; then
      log "creating the system user koshi-pg to run the server"
      useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin koshi-pg
    fi
    RUN_USER=koshi-pg
  fi
}

# Runs a command as RUN_USER, from / (root's home may be unreadable to that user).
as_run_user() {
  if [ "$(id -u)" -ne 0 ]; then
    "$@"
  elif command -v runuser >/dev/null; then
    (cd / && runuser -u "$RUN_USER" -- "$@")
  else
    local q
    q=$(printf '%q ' "$@")
    (cd / && su -s /bin/sh "$RUN_USER" -c "$q")
  fi
}

port_free() {
  local port=$1
  if command -v python3 >/dev/null 2>&1; then
    python3 - "$port" <<'EOF' 2>/dev/null
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
try:
    s.bind(("127.0.0.1", int(sys.argv[1])))
except OSError:
    sys.exit(1)
EOF
  else
    # Nothing answering on the port is taken as free; the start below retries if it was not.
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then return 1; fi
    return 0
  fi
}

# Sets PGDATA, SOCKDIR, PORTFILE from DIR's records.
load_paths() {
  local dir=$1
  PGDATA=$dir/data
  SOCKDIR=$dir/sock
  [ -f "$dir/pgdata" ] && PGDATA=$(cat "$dir/pgdata")
  [ -f "$dir/sockdir" ] && SOCKDIR=$(cat "$dir/sockdir")
  return 0
}

pg_running() { # exit 0 when the server of PGDATA is running
  [ -f "$PGDATA/PG_VERSION" ] || return 1
  as_run_user "$PG_BIN/pg_ctl" -D "$PGDATA" status >/dev/null 2>&1
}

admin_psql() { # runs psql as the superuser over the unix socket
  "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$SOCKDIR" -p "$(cat "$DIR/port")" -U postgres -d postgres "$@"
}

write_conf() { # port
  cat >"$PGDATA/koshi.conf" <<EOF
# Written by .ci/postgres.sh; included at the end of postgresql.conf.
listen_addresses = '127.0.0.1'
port = $1
unix_socket_directories = '$SOCKDIR'
unix_socket_permissions = 0700
fsync = on
synchronous_commit = on
full_page_writes = on
password_encryption = 'scram-sha-256'
max_connections = 100
shared_buffers = 128MB
EOF
}

# Starts the server on a free port (under the lock), retrying when the port turns out taken.
start_server() {
  local port tries=0 locked=0
  if command -v flock >/dev/null; then
    # fd 9 holds the lock; it is closed for pg_ctl, or the server would inherit it and hold
    # the lock for as long as it runs.
    exec 9>>"$LOCK_FILE"
    chmod 0666 "$LOCK_FILE" 2>/dev/null || true
    flock 9
    locked=1
  fi
  port=$PORT_BASE
  if [ -f "$DIR/port" ]; then port=$(cat "$DIR/port"); fi
  while :; do
    while ! port_free "$port"; do
      port=$((port + 1))
      [ "$port" -le "$PORT_LAST" ] || die "no free port in $PORT_BASE..$PORT_LAST"
    done
    write_conf "$port"
    chown "$RUN_USER" "$PGDATA/koshi.conf" 2>/dev/null || true
    echo "$port" >"$DIR/port"
    if as_run_user "$PG_BIN/pg_ctl" -D "$PGDATA" -l "$LOGFILE" -w -t 120 start >/dev/null 9>&-; then
      break
    fi
    tries=$((tries + 1))
    if [ "$tries" -lt 5 ] && tail -n 20 "$LOGFILE" | grep -q 'could not bind\|could not create any TCP/IP sockets\|Address already in use'; then
      log "port $port was taken; trying the next one"
      port=$((port + 1))
      continue
    fi
    tail -n 30 "$LOGFILE" >&2 || true
    die "the server did not start (log: $LOGFILE)"
  done
  if [ "$locked" = 1 ]; then exec 9>&-; fi
}

cmd_start() {
  DIR=$1
  mkdir -p "$DIR"
  DIR=$(cd "$DIR" && pwd -P)
  touch "$DIR/$MARKER"

  if ! PG_BIN=$(find_pg_bin); then
    install_pg
    PG_BIN=$(find_pg_bin) || die "PostgreSQL ${PG_MAJOR}'s initdb and pg_ctl are still missing"
  fi
  pick_run_user

  load_paths "$DIR"
  if [ ! -f "$PGDATA/PG_VERSION" ]; then
    local fresh=1
    # Where the server's user can work: DIR itself, or a private directory under /tmp.
    PGDATA=$DIR/data
    SOCKDIR=$DIR/sock
    if [ "$(id -u)" -eq 0 ]; then
      # A directory from `mktemp -d` is mode 700: let the server's user traverse it.
      if ! as_run_user test -x "$DIR" 2>/dev/null && as_run_user test -x "$(dirname "$DIR")" 2>/dev/null; then
        chmod o+x "$DIR"
      fi
      if ! as_run_user test -x "$DIR" 2>/dev/null; then
        local alt
        alt=$(mktemp -d "${TMPDIR:-/tmp}/koshi-pg.XXXXXX")
        chmod 0711 "$alt"
        touch "$alt/$MARKER"
        echo "$alt" >"$DIR/altroot"
        PGDATA=$alt/data
        SOCKDIR=$alt/sock
        log "user $RUN_USER cannot reach $DIR; the cluster lives in $alt"
      fi
    fi
    # A unix socket path must fit in 107 bytes (SOCKDIR + "/.s.PGSQL.NNNNN").
    if [ "${#SOCKDIR}" -gt 88 ]; then
      SOCKDIR=$(mktemp -d "${TMPDIR:-/tmp}/koshi-pgs.XXXXXX")
      touch "$SOCKDIR/$MARKER"
      log "the socket directory path is too long; using $SOCKDIR"
    fi
    mkdir -p "$PGDATA" "$SOCKDIR"
    chmod 0700 "$PGDATA" "$SOCKDIR"
    if [ "$(id -u)" -eq 0 ]; then chown "$RUN_USER" "$PGDATA" "$SOCKDIR"; fi
    echo "$PGDATA" >"$DIR/pgdata"
    echo "$SOCKDIR" >"$DIR/sockdir"

    # --no-sync only skips initdb's own flush of the new files (a throw-away cluster);
    # the running server fsyncs its commits.
    as_run_user "$PG_BIN/initdb" -D "$PGDATA" -U postgres --encoding=UTF8 --no-locale \
      --auth-local=trust --auth-host=scram-sha-256 --no-sync --no-instructions >/dev/null ||
      die "initdb failed"
    echo "include = 'koshi.conf'" >>"$PGDATA/postgresql.conf"
    # TCP only from 127.0.0.1, with a password; the socket (mode 700, inside DIR) is trusted.
    cat >"$PGDATA/pg_hba.conf" <<'EOF'
# TYPE  DATABASE  USER  ADDRESS       METHOD
local   all       all                 trust
host    all       all   127.0.0.1/32  scram-sha-256
EOF
    if [ "$(id -u)" -eq 0 ]; then chown "$RUN_USER" "$PGDATA/pg_hba.conf"; fi
  fi
  # The log lies beside the data directory (where the server's user can write it).
  LOGFILE=$(dirname "$PGDATA")/postgres.log
  touch "$LOGFILE"
  if [ "$(id -u)" -eq 0 ]; then chown "$RUN_USER" "$LOGFILE"; fi
  if [ "$LOGFILE" != "$DIR/postgres.log" ]; then ln -sfn "$LOGFILE" "$DIR/postgres.log"; fi

  if pg_running; then
    log "already running on port $(cat "$DIR/port")"
  else
    start_server
  fi

  if [ "${fresh:-0}" = 1 ] || [ ! -s "$DIR/url" ]; then
    local password
    password=$(od -An -N18 -tx1 /dev/urandom | tr -d ' \n')
    admin_psql -v pw="$password" <<'EOF'
DO $$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'koshi') THEN
    CREATE ROLE koshi LOGIN;
  END IF;
END $$;
ALTER ROLE koshi LOGIN NOSUPERUSER NOBYPASSRLS CREATEDB NOCREATEROLE NOREPLICATION PASSWORD :'pw';
SELECT 'CREATE DATABASE koshi OWNER koshi'
  WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'koshi') \gexec
SELECT 'CREATE DATABASE koshi_test OWNER koshi'
  WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'koshi_test') \gexec
EOF
    (umask 077 && echo "$password" >"$DIR/password")
  fi
  local url
  url="postgres://koshi:$(cat "$DIR/password")@127.0.0.1:$(cat "$DIR/port")/koshi"
  (umask 077 && echo "$url" >"$DIR/url")
  echo "$url"
}

cmd_stop() {
  local remove=0 dir=
  while [ $# -gt 0 ]; do
    case $1 in
      --remove) remove=1 ;;
      -*) usage ;;
      *) [ -z "$dir" ] || usage; dir=$1 ;;
    esac
    shift
  done
  [ -n "$dir" ] || usage
  if [ ! -d "$dir" ]; then
    log "$dir does not exist; nothing to stop"
    return 0
  fi
  DIR=$(cd "$dir" && pwd -P)
  load_paths "$DIR"
  if [ -f "$PGDATA/PG_VERSION" ]; then
    PG_BIN=$(find_pg_bin) || die "PostgreSQL ${PG_MAJOR}'s pg_ctl is missing"
    pick_run_user
    if pg_running; then
      as_run_user "$PG_BIN/pg_ctl" -D "$PGDATA" -m fast -w -t 120 stop >/dev/null
      log "stopped the cluster in $PGDATA"
    fi
  fi
  if [ "$remove" = 1 ]; then
    [ -e "$DIR/$MARKER" ] || die "$DIR was not made by this script; not removing it"
    local extra
    for extra in "$(cat "$DIR/altroot" 2>/dev/null || true)" "$SOCKDIR"; do
      if [ -n "$extra" ] && [ -e "$extra/$MARKER" ]; then rm -rf -- "$extra"; fi
    done
    rm -rf -- "$DIR"
  fi
}

cmd_status() {
  [ -d "$1" ] || exit 3
  DIR=$(cd "$1" && pwd -P)
  load_paths "$DIR"
  PG_BIN=$(find_pg_bin) || exit 3
  pick_run_user
  if pg_running; then
    log "running on 127.0.0.1:$(cat "$DIR/port")"
  else
    exit 3
  fi
}

[ $# -ge 1 ] || usage
sub=$1
shift
case $sub in
  start) [ $# -eq 1 ] || usage; cmd_start "$1" ;;
  stop) cmd_stop "$@" ;;
  status) [ $# -eq 1 ] || usage; cmd_status "$1" ;;
  -h | --help | help) usage ;;
  *) usage ;;
esac
