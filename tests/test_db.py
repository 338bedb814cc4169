"""Connections: schema on first use, waiting out another process's lock, one writer at a time."""
import subprocess
import sys
import threading
import time

import duckdb
import pytest

from newsflow.storage.db import DatabaseLocked, connect, connection, transaction, writer_lock

HOLD = """
import sys, time, duckdb
con = duckdb.connect(sys.argv[1])
print("held", flush=True)
time.sleep(float(sys.argv[2]))
con.close()
"""


def hold_database(path, seconds):
    """Another process that opens the file and keeps it for `seconds`."""
    process = subprocess.Popen([sys.executable, "-c", HOLD, str(path), str(seconds)], stdout=subprocess.PIPE, text=True)
    assert process.stdout.readline().strip() == "held"
    return process


def test_first_connect_creates_every_table(tmp_path):
    with connection(tmp_path / "new.duckdb") as con:
        tables = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables WHERE table_type = 'BASE TABLE'").fetchall()}
    assert {"documents", "articles", "entities", "mentions", "removed_lines", "runs"} <= tables


def test_schema_is_idempotent(tmp_path):
    for _ in range(2):
        with connection(tmp_path / "db.duckdb") as con:
            con.execute("INSERT INTO runs (run_id, flow, started_at) VALUES (?, 'x', now())", [str(time.time())])
    with connection(tmp_path / "db.duckdb", read_only=True) as con:
        assert con.execute("SELECT count(*) FROM runs").fetchone()[0] == 2


def test_connect_waits_while_another_process_holds_the_file(tmp_path, caplog):
    path = tmp_path / "held.duckdb"
    with connection(path):
        pass
    holder = hold_database(path, 3)
    started = time.monotonic()
    with caplog.at_level("WARNING", logger="newsflow.storage.db"), connection(path, wait_s=30) as con:
        assert con.execute("SELECT 1").fetchone() == (1,)
    assert time.monotonic() - started > 1.0  # it really waited for the holder
    holder.wait()
    # One notice, once the wait outlasted a reader's usual hold: the user hears why nothing moves.
    assert [r.getMessage() for r in caplog.records] == [f"{path} is held by another process (a `duckdb` shell or another writer?); waiting up to 30s"]


def test_connect_gives_up_with_a_clear_error(tmp_path):
    path = tmp_path / "held.duckdb"
    with connection(path):
        pass
    holder = hold_database(path, 5)
    with pytest.raises(DatabaseLocked, match="held by another process"):
        connect(path, wait_s=0.5)
    holder.kill()
    holder.wait()


def test_read_only_connection_refuses_writes_and_missing_files(tmp_path):
    with pytest.raises(FileNotFoundError):
        connect(tmp_path / "missing.duckdb", read_only=True)
    with connection(tmp_path / "db.duckdb"):
        pass
    with connection(tmp_path / "db.duckdb", read_only=True) as con, pytest.raises(duckdb.Error):
        con.execute("DELETE FROM articles")


def test_transaction_rolls_back_on_error(db):
    with pytest.raises(RuntimeError), transaction(db):
        db.execute("INSERT INTO runs (run_id, flow, started_at) VALUES ('r', 'x', now())")
        raise RuntimeError("bug mid-batch")
    assert db.execute("SELECT count(*) FROM runs").fetchone()[0] == 0


def test_ctrl_c_during_a_query_is_a_keyboard_interrupt_and_rolls_back(tmp_path):
    import os
    import signal

    path = tmp_path / "db.duckdb"
    with pytest.raises(KeyboardInterrupt) as raised, connection(path) as con, transaction(con):
        con.execute("INSERT INTO runs (run_id, flow, started_at) VALUES ('r', 'x', now())")
        threading.Timer(0.5, os.kill, (os.getpid(), signal.SIGINT)).start()
        con.execute("SELECT count(*) FROM range(10000000000) t(x) WHERE x % 7 = 3").fetchall()  # a minute
    assert type(raised.value.__cause__) is RuntimeError  # what DuckDB raised: the query was running
    with connection(path, read_only=True) as con:
        assert con.execute("SELECT count(*) FROM runs").fetchone()[0] == 0


def test_writer_lock_admits_one_writer_at_a_time(tmp_path):
    inside, overlaps = [], []

    def writer():
        with writer_lock(tmp_path / "db.duckdb"):
            inside.append(1)
            overlaps.append(len(inside))
            time.sleep(0.05)
            inside.pop()

    threads = [threading.Thread(target=writer) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert overlaps == [1] * 6


def test_schema_is_applied_once_per_version(tmp_path):
    from newsflow.storage.db import apply_schema

    path = tmp_path / "db.duckdb"
    with connection(path) as con:
        version = con.execute("SELECT value FROM newsflow_meta WHERE key = 'schema_version'").fetchone()[0]
        con.execute("DROP VIEW IF EXISTS top_entities")
        apply_schema(con)  # same version: nothing re-run
        assert con.execute("SELECT count(*) FROM duckdb_views() WHERE view_name = 'top_entities'").fetchone()[0] == 0
        con.execute("UPDATE newsflow_meta SET value = 'old' WHERE key = 'schema_version'")
        apply_schema(con)  # an older file: migrated, views back
        assert con.execute("SELECT count(*) FROM duckdb_views() WHERE view_name = 'top_entities'").fetchone()[0] == 1
        assert con.execute("SELECT value FROM newsflow_meta WHERE key = 'schema_version'").fetchone()[0] == version


def test_a_file_written_by_a_newer_duckdb_is_one_clear_error_with_the_way_over(tmp_path):
    import gzip
    from pathlib import Path

    from newsflow.storage.db import DatabaseTooNew, check_database

    path = tmp_path / "newer.duckdb"
    path.write_bytes(gzip.decompress((Path(__file__).parent / "data" / "written_by_duckdb_2.0.1.duckdb.gz").read_bytes()))
    for attempt in (lambda: check_database(path, write=True), lambda: connect(path), lambda: connect(path, read_only=True)):
        with pytest.raises(DatabaseTooNew) as error:
            attempt()
        text = str(error.value)
        assert f"{path} was written by a newer DuckDB than this newsflow's {duckdb.__version__}" in text
        assert "EXPORT DATABASE 'newer-export' (FORMAT parquet)" in text
        assert "newsflow import newer-export --db newer-1.5.5.duckdb" in text
    # The CLI says it in its usual one-line-per-problem way, exit 1, no traceback.
    done = subprocess.run([sys.executable, "-m", "newsflow.flows.cli", "sql", "SELECT 1", "--db", str(path)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert done.stderr.startswith(f"newsflow: {path} was written by a newer DuckDB")
