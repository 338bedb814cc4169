"""Shared fixtures: sample paths, an in-memory DuckDB with the schema, the Prefect test harness."""
from __future__ import annotations

import os
import signal
import tempfile
from pathlib import Path

import duckdb
import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"

# A CI job may start the tests with SIGINT ignored (a background job), and processes started from here would
# inherit that: the Ctrl-C tests need SIGINT as a terminal delivers it.
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)

# Flow tests talk to the harness's own server; keep Prefect quiet and local.
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
# The unpacked language model (extractors/language.py) goes to a temporary folder, not the user's cache.
os.environ.setdefault("NEWSFLOW_CACHE_DIR", os.path.join(tempfile.gettempdir(), "newsflow-test-cache"))


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """../shared beside the repository (samples and benchmark data)."""
    assert SHARED.is_dir(), f"{SHARED} is missing: the tests read ../shared/samples"
    return SHARED


@pytest.fixture(scope="session")
def samples_dir() -> Path:
    """The sample inbox shipped in the repository."""
    return REPO / "samples" / "inbox"


@pytest.fixture(params=["duckdb", "ducklake"])
def db(request, tmp_path) -> duckdb.DuckDBPyConnection:
    """A connection with the schema (and views) applied, once per target: an in-memory DuckDB, and a DuckLake
    with a SQLite catalog (storage/ writes the same statements to both)."""
    from newsflow.storage.db import apply_schema, connect

    if request.param == "duckdb":
        con = duckdb.connect()
        apply_schema(con)
    else:
        con = connect(f"ducklake:sqlite:{tmp_path / 'lake.sqlite'}")
    yield con
    con.close()


@pytest.fixture(params=["duckdb", "ducklake"])
def fresh_db(request, tmp_path):
    """Makes empty databases with the schema, of one target per test run: in-memory DuckDB, then a DuckLake with a
    SQLite catalog (a new one per call)."""
    from itertools import count

    from newsflow.storage.db import apply_schema, connect

    made, numbers = [], count()

    def make() -> duckdb.DuckDBPyConnection:
        if request.param == "duckdb":
            con = duckdb.connect()
            apply_schema(con)
        else:
            con = connect(f"ducklake:sqlite:{tmp_path / f'lake{next(numbers)}.sqlite'}")
        made.append(con)
        return con

    yield make
    for con in made:
        con.close()


@pytest.fixture(scope="session")
def prefect_harness():
    """One Prefect test server for the whole session."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield
