#!/usr/bin/env bash
# Starts a throw-away PostgreSQL cluster for local tests and prints its URL on stdout.
#
#   URL=$(tools/pg/start.sh /tmp/rag-pg 55432)   # -> postgresql://postgres@127.0.0.1:55432/rag
#   tools/pg/stop.sh /tmp/rag-pg
#
# Creates the cluster in DIR if it is missing (as the `postgres` user when run as root, since
# initdb refuses root; as the calling user otherwise), starts it on 127.0.0.1:PORT with its unix
# socket in DIR, waits for pg_isready, creates database `rag` with `CREATE EXTENSION vector`.
# Authentication is `trust`, on loopback and the socket only: for local tests, never for real data.
# Progress goes to stderr; stdout carries only the URL. Safe to run again: an already running
# cluster is reused (and the URL of the port it runs on is printed).
set -euo pipefail

PGVER="${PGVER:-15}"
PGBIN="${PGBIN:-/usr/lib/postgresql/$PGVER/bin}"
DBNAME="${PGDATABASE_NAME:-rag}"
log() { printf '[pg-start] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

[ $# -eq 2 ] || { echo "usage: $0 DIR PORT" >&2; exit 2; }
DIR=$(realpath -m -- "$1")
PORT=$2
[[ "$PORT" =~ ^[0-9]+$ ]] && [ "$PORT" -ge 1024 ] && [ "$PORT" -le 65535 ] || die "bad PORT: $PORT"
[ -x "$PGBIN/postgres" ] || die "$PGBIN/postgres not found: run tools/pg/setup.sh first"
[ -f "$("$PGBIN/pg_config" --sharedir)/extension/vector.control" ] ||
  die "pgvector is not installed: run tools/pg/setup.sh first"

if [ "$(id -u)" -eq 0 ]; then
  DBUSER="${PG_OS_USER:-postgres}"
  id "$DBUSER" >/dev/null 2>&1 || die "user $DBUSER does not exist (setup.sh's postgresql install creates it)"
  as_owner() { runuser -u "$DBUSER" -- "$@"; }
else
  DBUSER=$(id -un)
  as_owner() { "$@"; }
fi
SUPERUSER=postgres   # the database role; independent of the OS user

# Unix socket paths are limited to 107 bytes: fall back to a short folder for a deep DIR.
SOCKDIR="$DIR"
if [ $(( ${#DIR} + 20 )) -gt 107 ]; then
  SOCKDIR="/tmp/pgsock-$(printf '%s' "$DIR" | md5sum | cut -c1-12)"
  log "DIR is too long for a unix socket path; socket goes to $SOCKDIR"
fi

PSQL=("$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PORT" -U "$SUPERUSER")

# ---- already running? ----
if [ -f "$DIR/postmaster.pid" ] && as_owner "$PGBIN/pg_ctl" -D "$DIR" status >/dev/null 2>&1; then
  RUNPORT=$(sed -n 4p "$DIR/postmaster.pid")
  [ "$RUNPORT" = "$PORT" ] || log "cluster in $DIR is already running on port $RUNPORT (not $PORT); using it"
  PORT=$RUNPORT
  PSQL=("$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PORT" -U "$SUPERUSER")
  log "cluster in $DIR already running"
else
  # ---- initdb if missing ----
  if [ ! -f "$DIR/PG_VERSION" ]; then
    if [ -e "$DIR" ] && [ -n "$(ls -A "$DIR" 2>/dev/null)" ]; then
      die "$DIR exists, is not empty and is not a PostgreSQL cluster"
    fi
    mkdir -p "$DIR"
    if [ "$(id -u)" -eq 0 ]; then
      chown "$DBUSER": "$DIR"
      # The cluster's owner must be able to reach DIR (a folder under /root usually is not).
      as_owner test -w "$DIR" -a -x "$DIR" ||
        die "user $DBUSER cannot reach $DIR (a parent folder is closed to it): use a DIR under /tmp"
    fi
    chmod 700 "$DIR"
    log "initdb $DIR (owner $DBUSER)"
    logf=$(mktemp /tmp/pg-initdb.XXXXXX.log); chmod 644 "$logf"
    if ! as_owner "$PGBIN/initdb" -D "$DIR" -U "$SUPERUSER" --auth=trust -E UTF8 --locale=C.UTF-8 \
         >"$logf" 2>&1; then
      tail -n 30 "$logf" >&2; die "initdb failed (log: $logf)"
    fi
    rm -f "$logf"
    # Local-test settings: loopback only; lost last commits on a crash are acceptable.
    cat >>"$DIR/postgresql.conf" <<EOF

# --- tools/pg/start.sh ---
listen_addresses = '127.0.0.1'
synchronous_commit = off
maintenance_work_mem = '256MB'
log_min_messages = warning
EOF
  fi
  mkdir -p "$SOCKDIR"; [ "$(id -u)" -eq 0 ] && chown "$DBUSER": "$SOCKDIR"
  log "starting on 127.0.0.1:$PORT (socket in $SOCKDIR, log $DIR/server.log)"
  if ! as_owner "$PGBIN/pg_ctl" -D "$DIR" -l "$DIR/server.log" -w -t 60 -s \
       -o "-p $PORT -k $SOCKDIR -c listen_addresses=127.0.0.1" start >&2; then
    tail -n 20 "$DIR/server.log" >&2 || true
    die "pg_ctl start failed (is port $PORT in use?)"
  fi
fi

for _ in $(seq 1 120); do
  "$PGBIN/pg_isready" -q -h 127.0.0.1 -p "$PORT" && break
  sleep 0.5
done
"$PGBIN/pg_isready" -q -h 127.0.0.1 -p "$PORT" || die "server on port $PORT does not accept connections"

if [ -z "$("${PSQL[@]}" -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$DBNAME'")" ]; then
  log "creating database $DBNAME"
  "${PSQL[@]}" -d postgres -c "CREATE DATABASE $DBNAME"
fi
"${PSQL[@]}" -d "$DBNAME" -c "SET client_min_messages = warning; CREATE EXTENSION IF NOT EXISTS vector"
log "vector $("${PSQL[@]}" -d "$DBNAME" -tAc "SELECT extversion FROM pg_extension WHERE extname = 'vector'") ready in database $DBNAME"

echo "postgresql://$SUPERUSER@127.0.0.1:$PORT/$DBNAME"
