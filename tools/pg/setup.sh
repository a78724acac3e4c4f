#!/usr/bin/env bash
# Installs PostgreSQL 15 (Debian bookworm's own packages) and the pgvector extension.
#
#   sudo tools/pg/setup.sh          # idempotent: a second run takes about a second
#
# pgvector is not packaged for bookworm, so it is built from Debian's source package of a
# newer suite (trixie first, then sid) against postgresql-server-dev-15. That source package
# is fetched with a private, throw-away apt state (its own sources file, lists and cache in a
# temporary folder): nothing is added to /etc/apt, and the system's package lists are not
# touched, so no deb-src line is left behind to slow down or break later `apt-get update`s.
#
# Environment:
#   PGVER=15                      PostgreSQL major version (bookworm ships 15)
#   PGVECTOR_SUITES="trixie sid"  Debian suites tried, in order, for the pgvector source
#   DEBIAN_MIRROR=http://deb.debian.org/debian
#   PG_SETUP_FORCE_BUILD=1        rebuild pgvector even when it is installed
set -euo pipefail

PGVER="${PGVER:-15}"
PGVECTOR_SUITES="${PGVECTOR_SUITES:-trixie sid}"
DEBIAN_MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg

log() { printf '[pg-setup] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then
    exec sudo -E PGVER="$PGVER" PGVECTOR_SUITES="$PGVECTOR_SUITES" DEBIAN_MIRROR="$DEBIAN_MIRROR" \
      PG_SETUP_FORCE_BUILD="${PG_SETUP_FORCE_BUILD:-}" bash "$0" "$@"
  fi
  die "must run as root (or with sudo available)"
fi

export DEBIAN_FRONTEND=noninteractive
APT=(apt-get -q -y -o DPkg::Lock::Timeout=600 -o APT::Get::Assume-Yes=true)
PGBIN="/usr/lib/postgresql/$PGVER/bin"
PG_CONFIG="$PGBIN/pg_config"
T0=$(date +%s)

# Runs a command quietly; on failure shows the end of its output.
quiet() {
  local logf; logf=$(mktemp /tmp/pg-setup.XXXXXX.log)
  local rc=0
  "$@" >"$logf" 2>&1 || rc=$?
  if [ "$rc" -eq 0 ]; then rm -f "$logf"; return 0; fi
  log "command failed (exit $rc): $*"; tail -n 40 "$logf" >&2; log "full log: $logf"
  return "$rc"
}

# ---- 1. PostgreSQL server, server headers and build tools (Debian bookworm apt) ----
need_pkgs=(postgresql-"$PGVER" postgresql-client-"$PGVER" postgresql-server-dev-"$PGVER"
           build-essential dpkg-dev ca-certificates)
missing=()
for p in "${need_pkgs[@]}"; do
  dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null | grep -qx installed || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  log "apt-get update"
  quiet "${APT[@]}" update
  log "installing: ${missing[*]}"
  quiet "${APT[@]}" install --no-install-recommends "${need_pkgs[@]}"
else
  log "PostgreSQL $PGVER, server headers and build tools already installed"
fi
[ -x "$PG_CONFIG" ] || die "$PG_CONFIG not found after install"
log "$("$PGBIN/postgres" --version)"

# ---- 2. pgvector ----
SHAREDIR=$("$PG_CONFIG" --sharedir)
PKGLIBDIR=$("$PG_CONFIG" --pkglibdir)
have_vector() { [ -f "$SHAREDIR/extension/vector.control" ] && [ -f "$PKGLIBDIR/vector.so" ]; }
vector_version() { sed -n "s/^default_version *= *'\(.*\)'/\1/p" "$SHAREDIR/extension/vector.control"; }

if have_vector && [ -z "${PG_SETUP_FORCE_BUILD:-}" ]; then
  log "pgvector $(vector_version) already installed ($PKGLIBDIR/vector.so); skipping build"
  log "done in $(( $(date +%s) - T0 ))s"
  exit 0
fi

# A Debian binary package, if this suite ever has one (bookworm does not).
if [ -z "${PG_SETUP_FORCE_BUILD:-}" ] &&
   apt-cache policy "postgresql-$PGVER-pgvector" 2>/dev/null | grep -q 'Candidate: [0-9]'; then
  log "installing postgresql-$PGVER-pgvector from apt"
  quiet "${APT[@]}" install --no-install-recommends "postgresql-$PGVER-pgvector"
  have_vector && { log "pgvector $(vector_version) installed; done in $(( $(date +%s) - T0 ))s"; exit 0; }
fi

WORK=$(mktemp -d /tmp/pg-setup-pgvector.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$WORK/lists/partial" "$WORK/cache/archives/partial" "$WORK/src"
# Private apt state: only our deb-src line, our own lists and cache, no system lock taken.
APTSRC=(-q -o Dir::Etc::SourceList="$WORK/src.sources" -o Dir::Etc::SourceParts="$WORK/none"
        -o Dir::State::Lists="$WORK/lists" -o Dir::Cache="$WORK/cache"
        -o APT::Sandbox::User=root -o Acquire::Languages=none)

got=""
for suite in $PGVECTOR_SUITES; do
  cat >"$WORK/src.sources" <<EOF
Types: deb-src
URIs: $DEBIAN_MIRROR
Suites: $suite
Components: main
Signed-By: $KEYRING
EOF
  log "fetching Debian's pgvector source package from $suite"
  if quiet apt-get "${APTSRC[@]}" update &&
     (cd "$WORK/src" && quiet apt-get "${APTSRC[@]}" source pgvector); then
    got="$suite"; break
  fi
  log "no usable pgvector source in $suite; trying the next suite"
  rm -rf "$WORK/src" "$WORK/lists" && mkdir -p "$WORK/src" "$WORK/lists/partial"
done
[ -n "$got" ] || die "could not fetch the pgvector source package from: $PGVECTOR_SUITES"

SRCDIR=$(find "$WORK/src" -mindepth 1 -maxdepth 1 -type d -name 'pgvector-*' | head -n 1)
[ -n "$SRCDIR" ] || die "pgvector source did not unpack"
log "building $(basename "$SRCDIR") (Debian $got) against PostgreSQL $PGVER"
# Debian's patch drops -march=native, so the library runs on any x86-64 machine.
quiet make -C "$SRCDIR" -j"$(nproc)" PG_CONFIG="$PG_CONFIG"
quiet make -C "$SRCDIR" install PG_CONFIG="$PG_CONFIG"
have_vector || die "pgvector install did not produce vector.control / vector.so"
log "pgvector $(vector_version) installed into $PKGLIBDIR"
log "done in $(( $(date +%s) - T0 ))s"
