# `make run` and `make test` set everything up on a fresh machine; they are fast when it is done.
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: setup run test index bench clean

setup: $(STAMP)

# torch first and pinned: a plain `torch` requirement would pull gigabytes of CUDA packages.
$(STAMP): pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q -e '.[test]'
	touch $(STAMP)

run: setup
	$(PY) app.py

test: setup
	$(PY) -m pytest

index: setup
	$(VENV)/bin/rag index

# Our pipeline against the LangChain baseline at 1k, 10k and 100k chunks (about 55 minutes on 2 cores; README «Benchmark»).
bench: setup
	$(VENV)/bin/rag bench --out bench/out

clean:
	rm -rf index/default
