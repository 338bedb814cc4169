"""One attached lake per run or watch session, instead of one per stage.

Opening a lake costs ~0.4-0.6 s (a new in-memory DuckDB loads ducklake and the catalog's extension, attaches the
catalog and reads its metadata), against ~20 ms for a .duckdb file that DuckDB keeps cached in the process. A
micro-batch opens the database a dozen times (site lines, dedup candidates, known names, stories, entities, the
write, the runs rows, the moves journal), so a flow enters `held(db)` around a run or a watch session and, inside
it, storage.db.connection(db) hands out cursors of one attached connection (`con.cursor()`: DuckDB's way to use
one database from several threads, each cursor with transactions of its own).

Only lakes are held: a .duckdb file must stay closed between stages so other processes (readers, a `duckdb`
shell) can open it. A held attachment still sees every commit of other processes: each statement outside
BEGIN ... COMMIT, and each transaction, reads the catalog's latest snapshot (tests/test_lake.py checks it).
The lake is attached lazily, at the block's first writer connection, so a watcher that never gets a file
creates no lake.
"""
from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path

import duckdb

from newsflow.storage.lake import ALIAS, is_lake, lake_exists


class HeldLake:
    """The lake a block holds: attached on first use by a writer, closed when the block ends."""

    def __init__(self, db: str) -> None:
        self.db = db
        self._con = None  # storage.db.BusyRetrying around the attached DuckDB connection, once opened
        self._lock = threading.Lock()  # two threads of one run must not attach twice

    def cursor(self, open_writer: Callable[[], object], *, read_only: bool) -> duckdb.DuckDBPyConnection | None:
        """A new cursor on the held lake, its default database the lake; None for a reader while the lake does not
        exist yet (the caller's own connect says so: a reader must not create the lake)."""
        with self._lock:
            if self._con is None:
                if read_only and not lake_exists(self.db):
                    return None
                self._con = open_writer()  # a writer's, even for a read first: the block's flow writes
            raw = self._con.cursor()  # BusyRetrying passes cursor() to the DuckDB connection
        try:
            raw.execute(f"USE {ALIAS}")  # a cursor starts in the connection's first database, the in-memory one
        except BaseException:
            raw.close()
            raise
        return raw

    def drop(self) -> None:
        """Close the connection (after a fatal error invalidated it): the next cursor attaches afresh."""
        with self._lock:
            con, self._con = self._con, None
        if con is not None:
            try:
                con.close()
            except duckdb.Error:
                pass  # an invalidated database may refuse even this: it is dropped either way


_HELD: ContextVar[HeldLake | None] = ContextVar("newsflow_held_lake", default=None)


@contextmanager
def held(db: str | Path) -> Iterator[None]:
    """Hold one attached connection to the lake `db` for the block (nothing for a .duckdb file, or when an outer
    block already holds it)."""
    current = _HELD.get()
    if not is_lake(db) or (current is not None and current.db == str(db)):
        yield
        return
    holder = HeldLake(str(db))
    token = _HELD.set(holder)
    try:
        yield
    finally:
        _HELD.reset(token)
        holder.drop()


def held_lake(db: str | Path) -> HeldLake | None:
    """The HeldLake of the enclosing held(db) block, if any."""
    current = _HELD.get()
    return current if current is not None and current.db == str(db) else None
