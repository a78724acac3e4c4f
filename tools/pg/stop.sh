#!/usr/bin/env bash
# Stops a cluster started by tools/pg/start.sh:   tools/pg/stop.sh DIR
# Exits 0 when it is not running. The data stays in DIR (rm -rf DIR to drop it).
set -euo pipefail

PGVER="${PGVER:-15}"
PGBIN="${PGBIN:-/usr/lib/postgresql/$PGVER/bin}"
log() { printf '[pg-stop] %s\n' "$*" >&2; }

[ $# -eq 1 ] || { echo "usage: $0 DIR" >&2; exit 2; }
DIR=$(realpath -m -- "$1")
[ -f "$DIR/PG_VERSION" ] || { log "no cluster in $DIR"; exit 0; }

OWNER=$(stat -c %U "$DIR")
if [ "$(id -u)" -eq 0 ] && [ "$OWNER" != root ]; then
  as_owner() { runuser -u "$OWNER" -- "$@"; }
else
  as_owner() { "$@"; }
fi

if ! as_owner "$PGBIN/pg_ctl" -D "$DIR" status >/dev/null 2>&1; then
  log "not running ($DIR)"
  exit 0
fi
as_owner "$PGBIN/pg_ctl" -D "$DIR" -m fast -w -t 60 -s stop
log "stopped ($DIR)"
