#!/usr/bin/env bash
# Run a command with a throw-away PostgreSQL + pgvector cluster for the store tests (marker pg):
#   tools/pg/with_pg.sh .venv/bin/python -m pytest
# Installs PostgreSQL and pgvector when missing (tools/pg/setup.sh), starts a cluster in a temp folder on a free
# port, exports RAG_TEST_PG_URL, runs the command and stops the cluster however it ends. With RAG_TEST_PG_URL
# already set (a server of your own) it only runs the command.
set -euo pipefail
if [ -n "${RAG_TEST_PG_URL:-}" ]; then exec "$@"; fi
here=$(dirname "$0")
"$here/setup.sh" >&2
dir=$(mktemp -d /tmp/rag-test-pg.XXXXXX)
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
trap '"$here/stop.sh" "$dir" >/dev/null 2>&1 || true; rm -rf "$dir"' EXIT
RAG_TEST_PG_URL=$("$here/start.sh" "$dir" "$port" | tail -n 1)
export RAG_TEST_PG_URL
echo "tests: PostgreSQL for the store tests at $RAG_TEST_PG_URL" >&2
"$@"
