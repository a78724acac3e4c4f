#!/usr/bin/env bash
# Run the local OpenAI-compatible LLM server in the foreground on 127.0.0.1:PORT:
#
#   tools/llm/serve.sh MODEL PORT
#
# MODEL: small | medium | gemma | a name in $RAG_LLM_CACHE (~/.cache/rag-ru/llm/<name>.gguf) | a .gguf path.
# Prints "READY http://127.0.0.1:PORT MODEL_ID" on stdout once the model is loaded and the port listens
# (llama.cpp's own log goes to stderr); GET /health answers 200 from then on. SIGTERM / SIGINT stop it.
# Endpoints: /v1/chat/completions (streaming too), /v1/completions, /v1/models, /tokenize, /health.
# The model id is the file name without .gguf; requests may name any model, the one loaded answers.
#
# Tuned for 2 shared cores: 2 threads, 1 slot with a 4096-token context, 256 MiB prompt cache.
# Overrides: RAG_LLM_THREADS (2), RAG_LLM_CTX (4096), RAG_LLM_PARALLEL (1; the context is split
# between slots), RAG_LLM_MAX_TOKENS (1024, cap per reply), RAG_LLM_CHAT_TEMPLATE (default: the
# template inside the GGUF, "gemma" for gemma), PY (python with xllamacpp; default as in setup.sh).
set -euo pipefail

if [ $# -ne 2 ]; then
  echo "usage: $0 MODEL PORT   (MODEL: small|medium|gemma|<name>|<path.gguf>)" >&2
  exit 2
fi
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
CACHE="${RAG_LLM_CACHE:-$HOME/.cache/rag-ru/llm}"

case "$1" in
  small)  model="$CACHE/qwen2.5-coder-0.5b-instruct.gguf" ;;
  medium) model="$CACHE/qwen2.5-coder-1.5b-instruct.gguf" ;;
  gemma)  model="$CACHE/gemma-3-270m.gguf" ;;
  */*|*.gguf) model="$1" ;;
  *)      model="$CACHE/$1.gguf" ;;
esac
if [ ! -s "$model" ]; then
  echo "serve.sh: no model at $model (run tools/llm/setup.sh $1)" >&2
  exit 1
fi

if [ -z "${PY:-}" ]; then
  if [ -x "$REPO/.venv/bin/python" ]; then PY="$REPO/.venv/bin/python"; else PY="${RAG_LLM_VENV:-/tmp/llmvenv}/bin/python"; fi
fi

template="${RAG_LLM_CHAT_TEMPLATE:-}"
case "$(basename "$model")" in gemma*) template="${template:-gemma}" ;; esac

export RAG_LLM_MODEL="$model" RAG_LLM_PORT="$2" RAG_LLM_TEMPLATE="$template"
exec "$PY" -u -c '
import os, signal, sys, time
import xllamacpp as xlc

env = os.environ
model, port = env["RAG_LLM_MODEL"], int(env["RAG_LLM_PORT"])
name = os.path.basename(model).removesuffix(".gguf")

p = xlc.CommonParams()
p.model.path = model
p.model_alias = {name}
p.hostnames = ["127.0.0.1"]
p.port = port
p.offline = True                                   # never reach for a model hub
p.n_ctx = int(env.get("RAG_LLM_CTX", "4096"))
p.n_parallel = int(env.get("RAG_LLM_PARALLEL", "1"))
p.n_predict = int(env.get("RAG_LLM_MAX_TOKENS", "1024"))
threads = int(env.get("RAG_LLM_THREADS", "2"))
p.cpuparams.n_threads = threads
p.cpuparams_batch.n_threads = threads
p.n_threads_http = 2
p.cache_ram_mib = 256                              # prompt cache (default 8 GiB)
p.warmup = True
tmpl = env.get("RAG_LLM_TEMPLATE", "")
if tmpl in ("gemma", "chatml", "llama3", "mistral-v7", "phi3"):   # a llama.cpp built-in name
    p.use_jinja = False
    p.chat_template = tmpl
elif tmpl:                                         # a Jinja template string
    p.use_jinja = True
    p.chat_template = tmpl
else:                                              # the Jinja template inside the GGUF
    p.use_jinja = True

def stop(*_):
    sys.stdout.flush()
    os._exit(0)                                    # the HTTP server runs in native threads
signal.signal(signal.SIGTERM, stop)
signal.signal(signal.SIGINT, stop)

t = time.perf_counter()
try:
    server = xlc.Server(p)
except Exception as e:
    print(f"serve.sh: server failed to start: {e}", file=sys.stderr)
    os._exit(1)
print(f"READY {server.listening_address} {name} (loaded in {time.perf_counter() - t:.1f} s)", flush=True)
while True:
    time.sleep(3600)
'
