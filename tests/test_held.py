"""storage.held: a run or a watch session attaches its lake once, still sees other processes' commits, and never
holds a .duckdb file between stages."""
from __future__ import annotations

import logging
import shutil
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

from newsflow.storage.db import connection
from newsflow.storage.held import held
from tests.test_lake import env, newsflow
from tests.test_watch import Watcher, drop, settled, wait_for

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "benchmarks"))
from corpus import write_text_inbox  # noqa: E402


class _Attaches(logging.Handler):
    """Collects storage.lake's 'attached the lake' lines (DEBUG): one per ATTACH of a lake in this process."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.getMessage().startswith("attached the lake"):
            self.lines.append(record.getMessage())


@contextmanager
def counting_attaches():
    """The lake attaches made in this process during the block."""
    log = logging.getLogger("newsflow.storage.lake")
    handler, level, disabled = _Attaches(), log.level, log.disabled
    log.addHandler(handler)
    log.setLevel(logging.DEBUG)
    log.disabled = False  # a logging config applied since import (Prefect's) may have disabled it
    try:
        yield handler.lines
    finally:
        log.removeHandler(handler)
        log.setLevel(level)
        log.disabled = disabled


def test_a_held_lake_sees_what_another_process_commits_after_it_attached(tmp_path, prefect_harness):
    """A one-shot ingest in another process lands an article after this run's lake was attached: this run sees
    the row, and the same article dropped here is a duplicate of it, through the one held attachment."""
    from newsflow.flows.ingest import ingest_inbox

    db = f"ducklake:sqlite:{tmp_path / 'news.sqlite'}"
    source, first, second = tmp_path / "source", tmp_path / "first", tmp_path / "second"
    write_text_inbox(source, 1)
    page = next(source.iterdir())
    first.mkdir()
    second.mkdir()
    shutil.copy(page, first / "a.txt")
    shutil.copy(page, second / "b.txt")
    with counting_attaches() as attaches, held(db):
        with connection(db) as con:  # attaches the lake (and creates it) before the other process writes
            assert con.execute("SELECT count(*) FROM documents").fetchone() == (0,)
        other = subprocess.run(newsflow("ingest", "inbox", str(first), "--db", db, "--no-entities"), env=env(),
                               capture_output=True, text=True, timeout=600)
        assert other.returncode == 0, other.stderr[-3000:]
        with connection(db, read_only=True) as con:
            assert con.execute("SELECT source_ref, status FROM documents").fetchall() == [("a.txt", "new")]
        totals = ingest_inbox(str(second), db, entities=False)
        assert len(attaches) == 1, attaches
    assert totals["duplicates"] == 1 and totals["articles"] == 0
    with connection(db, read_only=True) as con:
        assert con.execute("SELECT source_ref, status FROM documents ORDER BY 1").fetchall() == [("a.txt", "new"), ("b.txt", "duplicate")]
        assert con.execute("SELECT count(*) FROM articles").fetchone() == (1,)


def test_a_run_and_a_watch_session_on_a_lake_attach_it_once(tmp_path, prefect_harness):
    from newsflow.flows.ingest import ingest_inbox

    db = f"ducklake:sqlite:{tmp_path / 'news.sqlite'}"
    source = tmp_path / "source"
    write_text_inbox(source, 6)
    pages = sorted(source.iterdir())
    inbox = tmp_path / "oneshot"
    inbox.mkdir()
    for page in pages[:3]:
        shutil.copy(page, inbox / page.name)
    with counting_attaches() as attaches:
        totals = ingest_inbox(str(inbox), db, batch_size=1, entities=False)  # three batches
    assert totals["articles"] == 3 and len(attaches) == 1, attaches

    (tmp_path / "watched").mkdir()
    watcher = Watcher(tmp_path / "watched")
    watcher.db = db
    with counting_attaches() as attaches:
        watcher.start()
        for n, page in enumerate(pages[3:], start=1):  # one micro-batch each
            drop(watcher.inbox, page.name, page.read_bytes())
            wait_for(lambda: settled(watcher.inbox, n), timeout=120)
        totals = watcher.stop()
    assert totals["files"] == 3 and totals["articles"] == 3 and len(attaches) == 1, attaches
    with connection(db, read_only=True) as con:
        assert con.execute("SELECT count(*) FROM runs WHERE flow = 'watch-inbox' AND status = 'completed'").fetchone() == (3,)


def test_outside_a_held_block_each_connection_attaches_and_a_file_is_never_held(tmp_path):
    lake = f"ducklake:sqlite:{tmp_path / 'news.sqlite'}"
    with counting_attaches() as attaches:
        for _ in range(2):
            with connection(lake) as con:
                con.execute("SELECT count(*) FROM runs").fetchone()
    assert len(attaches) == 2
    path = tmp_path / "news.duckdb"
    with held(path):
        with connection(path) as con:
            con.execute("INSERT INTO newsflow_meta VALUES ('probe', '1')")
        # Between stages another process opens the file for writing: nothing of this process holds it.
        other = subprocess.run([sys.executable, "-c", "import duckdb, sys; duckdb.connect(sys.argv[1]).close()", str(path)],
                               capture_output=True, text=True, timeout=60)
        assert other.returncode == 0, other.stderr
