# newsflow: `make demo` ingests the sample inbox; `make test` runs the test suite.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
DEMO   := demo

.PHONY: install system demo test bench clean

$(BIN)/newsflow: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip "setuptools>=68"  # setuptools: tests build the wheel without network
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $(BIN)/newsflow

install: $(BIN)/newsflow system

# Debian packages the tests use (apt-get needs root, as in CI): headless Chromium (tests/test_view.py) and PostgreSQL,
# a DuckLake catalog server the tests start on 127.0.0.1 (tests/test_lake.py).
system:
	command -v chromium >/dev/null || (apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium)
	command -v initdb >/dev/null || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || \
	  (apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends postgresql)

demo: install
	rm -rf $(DEMO) && mkdir -p $(DEMO)/inbox
	cp samples/inbox/* $(DEMO)/inbox/
	$(BIN)/newsflow ingest inbox $(DEMO)/inbox --db newsflow.duckdb

test: install
	$(BIN)/python -m pytest -q

bench: install
	$(BIN)/python -m pip install --quiet -e ".[bench]"
	$(BIN)/python benchmarks/run_all.py

clean:
	rm -rf $(VENV) $(DEMO) newsflow.duckdb newsflow.duckdb.wal newsflow.duckdb.lock
