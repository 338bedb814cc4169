"""recorded_run: one `runs` row per flow run, started and then completed or failed, on a real DuckDB file."""
from __future__ import annotations

import os
import signal
import time

import pytest

from newsflow.flows.runs import recorded_run
from newsflow.storage.db import connection

COLUMNS = "run_id, flow, status, documents, articles, error, finished_at >= started_at, host IS NOT NULL, pid"


def runs(db) -> list[tuple]:
    with connection(db) as con:
        return con.execute(f"SELECT {COLUMNS} FROM runs ORDER BY started_at").fetchall()


def test_a_run_that_ends_records_completed_with_its_totals(tmp_path):
    db = tmp_path / "n.duckdb"
    with recorded_run(db, "ingest-inbox") as run:
        assert runs(db) == [(run.run_id, "ingest-inbox", "running", 0, 0, None, None, True, os.getpid())]
        run.totals.update(documents=3, articles=2)
    assert runs(db) == [(run.run_id, "ingest-inbox", "completed", 3, 2, None, True, True, os.getpid())]
    assert run.run_id.startswith("local-")  # outside a Prefect flow run


def test_a_failure_inside_records_the_error_and_the_totals_so_far(tmp_path):
    db = tmp_path / "n.duckdb"
    with pytest.raises(ValueError, match="boom"):
        with recorded_run(db, "ingest-urls") as run:
            run.totals["documents"] = 5
            raise ValueError("boom")
    assert runs(db) == [(run.run_id, "ingest-urls", "failed", 5, 0, "ValueError: boom", True, True, os.getpid())]


def test_ctrl_c_inside_records_a_failed_run(tmp_path):
    db = tmp_path / "n.duckdb"
    with pytest.raises(KeyboardInterrupt):
        with recorded_run(db, "watch-inbox") as run:
            os.kill(os.getpid(), signal.SIGINT)  # as a terminal delivers Ctrl-C
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:  # the interrupt lands here, inside the run
                time.sleep(0.01)
            raise AssertionError("SIGINT raised no KeyboardInterrupt")
    [row] = runs(db)
    assert row[:5] == (run.run_id, "watch-inbox", "failed", 0, 0)
    assert row[5].startswith("KeyboardInterrupt")


def test_two_runs_of_one_process_at_once_leave_each_other_running(tmp_path):
    """`newsflow serve` runs several flows in one process: a run starting must not take the other for crashed."""
    db = tmp_path / "n.duckdb"
    with recorded_run(db, "ingest-inbox") as first:
        with recorded_run(db, "ingest-feeds") as second:
            assert {r[0]: r[2] for r in runs(db)} == {first.run_id: "running", second.run_id: "running"}
    assert {r[0]: r[2] for r in runs(db)} == {first.run_id: "completed", second.run_id: "completed"}


def test_the_run_id_is_the_prefect_flow_run_id(tmp_path, prefect_harness):
    from prefect import flow
    from prefect.runtime import flow_run

    @flow(name="recorded")
    def recorded(db: str) -> tuple[str, str]:
        with recorded_run(db, "recorded") as run:
            return run.run_id, str(flow_run.id)

    db = tmp_path / "n.duckdb"
    run_id, flow_run_id = recorded(str(db))
    assert run_id == flow_run_id
    assert runs(db)[0][:3] == (flow_run_id, "recorded", "completed")
