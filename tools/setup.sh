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

if [ "$browser" = "--browser" ] && [ ! -x /usr/bin/chromium ]; then
  step "installing Debian's chromium for the browser tests (apt; Playwright's own download does not work here)"
  sudo=""
  [ "$(id -u)" = 0 ] || sudo=sudo
  $sudo apt-get -o DPkg::Lock::Timeout=600 update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get -o DPkg::Lock::Timeout=600 install -y -qq chromium >/dev/null
fi
if [ "$browser" = "--browser" ]; then
  # The tests of generated answers (issue 16) run a real local LLM server: xllamacpp and a 0.5B model (~25 s).
  step "setting up the local LLM server for the tests (tools/llm/setup.sh small)"
  "$(dirname "$0")/llm/setup.sh" small --py "$py"
fi
step "done"
