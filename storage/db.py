"""Connections to the DuckDB file: schema on first use, retry while another process holds the file."""
from __future__ import annotations

import fcntl
import hashlib
import logging
import os
import random
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path

import duckdb

from newsflow.storage.bulk import insert_rows
from newsflow.storage.held import held_lake
from newsflow.storage.lake import LakeUnusable, attach_lake, compact, postgres_writer_lock, is_lake, lake_ddl, lake_exists, sqlite_catalog


class DatabaseLocked(RuntimeError):
    """Another process held the database file for longer than we were willing to wait."""


class DatabaseUnusable(RuntimeError):
    """The database path cannot be used: a folder, not a DuckDB file, or not writable by this user."""


class DatabaseTooNew(DatabaseUnusable):
    """The file was written by a newer DuckDB than the one newsflow pins: it must be exported and imported."""


def too_new(path: str | Path, exc: duckdb.Error) -> DatabaseTooNew | None:
    """The error to raise when DuckDB refused `path` for its newer storage version, else None."""
    text = str(exc)
    if "newer version of DuckDB" not in text and "Trying to read a database file with version number" not in text:
        return None
    first = text.splitlines()[0].removeprefix("IO Error: ")
    export = f"{Path(path).stem}-export"
    return DatabaseTooNew(
        f"{path} was written by a newer DuckDB than this newsflow's {duckdb.__version__} ({first}). Move it over once: "
        f"in an environment with the DuckDB that wrote it, run\n"
        f"  python -c \"import duckdb; duckdb.connect('{path}', read_only=True).execute(\\\"EXPORT DATABASE '{export}' (FORMAT parquet)\\\")\"\n"
        f"then here:\n  newsflow import {export} --db {Path(path).stem}-{duckdb.__version__}.duckdb"
    )


def not_ingested_yet(path: str | Path) -> FileNotFoundError:
    """What a reader is told before the first file has landed."""
    return FileNotFoundError(f"no database at {path} yet: nothing has been ingested (run newsflow ingest, "
                             "or wait for newsflow watch to land its first file)")


def check_database(path: str | Path, *, write: bool, open_file: bool = True) -> None:
    """Raise DatabaseUnusable with one line saying why `path` cannot serve (FileNotFoundError: a reader, no file yet).
    `open_file` False: the path and permissions only, not a trial open of an existing file."""
    if is_lake(path):
        _check_lake(path, write=write)
        return
    path = Path(path)
    if path.is_dir():
        raise DatabaseUnusable(f"{path} is a folder, not a database file (give --db a file, e.g. {path / 'newsflow.duckdb'})")
    if not path.exists():
        folder = next(p for p in path.absolute().parents if p.exists())
        if not folder.is_dir():
            raise DatabaseUnusable(f"there can be no database at {path}: {folder} is a file, not a folder")
        if not write:
            raise not_ingested_yet(path)
        if not os.access(folder, os.W_OK | os.X_OK):
            raise DatabaseUnusable(f"cannot create {path}: the folder {folder} is read-only for this user")
        return
    if write and not os.access(path, os.W_OK):
        raise DatabaseUnusable(f"{path} is read-only for this user: ingest and watch write it (newsflow sql can read it)")
    if write and not os.access(path.absolute().parent, os.W_OK | os.X_OK):
        # DuckDB writes <db>.wal beside the file on every write, and writer_lock() keeps <db>.lock there.
        raise DatabaseUnusable(f"the folder of {path} is read-only for this user: ingest and watch write "
                               f"{path.name}.wal and {path.name}.lock beside it (newsflow sql can read it)")
    if not open_file:
        return
    try:
        duckdb.connect(str(path), read_only=True).close()
    except duckdb.Error as exc:  # IOException for a foreign file, Error for a damaged header
        if newer := too_new(path, exc):
            raise newer from exc
        if not (isinstance(exc, duckdb.IOException) and _is_lock_error(exc)):  # held elsewhere: connect() waits
            raise DatabaseUnusable(f"{path} is not a DuckDB database, or is damaged ({str(exc).splitlines()[0]})") from exc


def _check_lake(db: str | Path, *, write: bool) -> None:
    """check_database for a lake: the catalog kind, and a SQLite catalog's file and folder."""
    try:
        catalog = sqlite_catalog(db)
    except LakeUnusable as exc:
        raise DatabaseUnusable(str(exc)) from exc
    if catalog is None:
        return  # a PostgreSQL catalog: attaching it says what is wrong
    if catalog.is_dir():
        raise DatabaseUnusable(f"{catalog} is a folder, not a SQLite catalog file (e.g. ducklake:sqlite:{catalog / 'lake.sqlite'})")
    if not catalog.exists():
        if not write:
            raise not_ingested_yet(db)
        folder = next(p for p in catalog.absolute().parents if p.exists())
        if not folder.is_dir() or not os.access(folder, os.W_OK | os.X_OK):
            raise DatabaseUnusable(f"cannot create the lake's catalog {catalog}: {folder} is not a writable folder")
    elif write and not os.access(catalog, os.W_OK):
        raise DatabaseUnusable(f"{catalog} is read-only for this user: ingest and watch write the lake's catalog")


def is_busy(exc: Exception) -> bool:
    """Whether a lake's SQLite catalog was busy with another connection's write (worth a retry)."""
    return "database is locked" in str(exc) or "database is busy" in str(exc)


def database_exists(db: str | Path) -> bool:
    """Whether the database (file, or lake catalog) exists yet."""
    return lake_exists(db) if is_lake(db) else Path(db).exists()


def schema_sql() -> str:
    """The text of storage/schema.sql."""
    return resources.files("newsflow.storage").joinpath("schema.sql").read_text(encoding="utf-8")


def views_sql() -> str:
    """The text of storage/views.sql, or '' before it exists."""
    path = resources.files("newsflow.storage").joinpath("views.sql")
    return path.read_text(encoding="utf-8") if path.is_file() else ""


def apply_schema(con: duckdb.DuckDBPyConnection, *, lake: bool = False) -> None:
    """Create or migrate every table and view, once per schema version of the file.

    The applied version is a hash of schema.sql + views.sql kept in `newsflow_meta`; skipping when it
    matches keeps opens cheap and avoids two threads replacing the same views at once (a catalog conflict).
    On a lake, schema.sql's keys and indexes are left out (storage.lake.lake_ddl).
    """
    ddl = schema_sql() + "\n" + views_sql()
    if lake:
        ddl = lake_ddl(ddl)
    version = hashlib.sha256(ddl.encode()).hexdigest()[:16]
    try:
        row = con.execute("SELECT value FROM newsflow_meta WHERE key = 'schema_version'").fetchone()
    except duckdb.CatalogException:
        row = None  # a new file, or one from before the meta table
    if row and row[0] == version:
        return
    with transaction(con):
        con.execute(ddl)
        insert_rows(con, "newsflow_meta", ("key", "value"), [("schema_version", version)], key=("key",),
                    update="value = excluded.value")


def _is_lock_error(exc: Exception) -> bool:
    text = str(exc)  # "lock" as a word: DuckDB 1.5's damaged-file error says "in block at location ..."
    return re.search(r"\block\b", text, re.IGNORECASE) is not None or "being used by another" in text


WAIT_NOTICE_S = 1.0  # a reader between batches holds the file for less; longer, the user should hear why nothing moves


def connect(
    path: str | Path,
    *,
    read_only: bool = False,
    wait_s: float = 60.0,
) -> duckdb.DuckDBPyConnection:
    """Open the file, retrying with backoff while another process holds it (DuckDB allows one)."""
    if is_lake(path):
        return _connect_lake(path, read_only=read_only, wait_s=wait_s)
    path = str(path)
    started = time.monotonic()
    deadline = started + wait_s
    delay, said = 0.05, False
    while True:
        try:
            if read_only:
                if not Path(path).exists():
                    raise not_ingested_yet(path)
                return duckdb.connect(path, read_only=True)
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            con = duckdb.connect(path)
            apply_schema(con)
            return con
        except duckdb.IOException as exc:
            if newer := too_new(path, exc):
                raise newer from exc
            if not _is_lock_error(exc) or time.monotonic() >= deadline:
                if _is_lock_error(exc):
                    raise DatabaseLocked(
                        f"{path} is held by another process (a `duckdb` shell or another writer?) "
                        f"and did not become free within {wait_s:.0f}s"
                    ) from exc
                raise
            if not said and time.monotonic() - started >= WAIT_NOTICE_S:
                said = True
                logging.getLogger(__name__).warning(
                    "%s is held by another process (a `duckdb` shell or another writer?); waiting up to %.0fs", path, wait_s
                )
            time.sleep(delay * (0.5 + random.random()))
            delay = min(delay * 2, 1.0)


def _connect_lake(db: str | Path, *, read_only: bool, wait_s: float) -> duckdb.DuckDBPyConnection:
    """An in-memory connection with the lake attached as its default database (created with the schema by a writer).

    Writers of several processes may create the same lake at once: the loser of DuckLake's conflict check retries.
    """
    if read_only and not lake_exists(db):
        raise not_ingested_yet(db)
    deadline = time.monotonic() + wait_s
    while True:
        con = duckdb.connect()
        try:
            attach_lake(con, db, read_only=read_only)
            if not read_only:
                apply_schema(con, lake=True)
            return con if read_only else BusyRetrying(con, wait_s)
        except duckdb.Error as exc:
            con.close()
            if not (isinstance(exc, duckdb.TransactionException) or is_busy(exc)) or time.monotonic() >= deadline:
                raise
            time.sleep(0.05 + 0.2 * random.random())
        except BaseException:
            con.close()
            raise


class BusyRetrying:
    """A lake writer's connection whose single statements are retried while the SQLite catalog is busy.

    Another process committing to the catalog at the same instant makes a commit fail with 'database is locked'
    (SQLite's busy error, which its busy timeout does not cover once a transaction has read). A statement run on
    its own was rolled back whole, so running it again is safe; inside BEGIN ... COMMIT the error becomes
    DatabaseLocked, for the caller to run the whole transaction again (retry_busy; writes are keyed MERGEs).
    Everything else is the DuckDB connection's own.
    """

    def __init__(self, con: duckdb.DuckDBPyConnection, wait_s: float) -> None:
        self._con, self._wait_s, self._in_transaction = con, wait_s, False

    def __getattr__(self, name: str):
        return getattr(self._con, name)

    def execute(self, query, parameters=None):
        word = query.lstrip()[:8].upper() if isinstance(query, str) else ""
        if word.startswith("BEGIN"):
            self._in_transaction = True
        ending = word.startswith(("COMMIT", "ROLLBACK"))
        deadline = time.monotonic() + self._wait_s
        delay = 0.02
        try:
            while True:
                try:
                    self._con.execute(query, parameters)
                    return self
                except duckdb.Error as exc:
                    if not is_busy(exc):
                        raise
                    if self._in_transaction or time.monotonic() >= deadline:
                        raise DatabaseLocked(f"the lake's catalog stayed busy: {str(exc).splitlines()[-1]}") from exc
                    time.sleep(delay * (0.5 + random.random()))
                    delay = min(delay * 2, 0.5)
        finally:
            if ending:
                self._in_transaction = False

    def close(self) -> None:
        self._con.close()


def retry_busy(write, *, wait_s: float = 60.0):
    """Run `write()` (which opens its own connection and transaction) again while a lake's catalog is busy."""
    deadline = time.monotonic() + wait_s
    delay = 0.05
    while True:
        try:
            return write()
        except DatabaseLocked:
            if time.monotonic() >= deadline:
                raise
            time.sleep(delay * (0.5 + random.random()))
            delay = min(delay * 2, 1.0)


def attach_read_only(con: duckdb.DuckDBPyConnection, path: str | Path, alias: str, *, wait_s: float = 30.0) -> None:
    """ATTACH the database read-only under `alias`, waiting like connect() while a writer holds the file."""
    if is_lake(path):
        if not lake_exists(path):
            raise not_ingested_yet(path)
        attach_lake(con, path, read_only=True, alias=alias, use=False)
        return
    if not Path(path).exists():
        raise not_ingested_yet(path)
    deadline = time.monotonic() + wait_s
    delay = 0.05
    quoted = str(path).replace("'", "''")
    while True:
        try:
            con.execute(f"ATTACH '{quoted}' AS {alias} (READ_ONLY)")
            return
        except duckdb.IOException as exc:
            if newer := too_new(path, exc):
                raise newer from exc
            if not _is_lock_error(exc):
                raise
            if time.monotonic() >= deadline:
                raise DatabaseLocked(f"{path} is held by another process and did not become free within {wait_s:.0f}s") from exc
            time.sleep(delay * (0.5 + random.random()))
            delay = min(delay * 2, 1.0)


@contextmanager
def connection(path: str | Path, *, read_only: bool = False, wait_s: float = 60.0) -> Iterator[duckdb.DuckDBPyConnection]:
    """A connection held only for the block, so other processes can open the file in between; inside a
    storage.held.held(path) block on a lake, a cursor of the lake attached once for the run instead."""
    holder = held_lake(path)
    with ctrl_c_kept():
        raw = holder.cursor(lambda: connect(path, wait_s=wait_s), read_only=read_only) if holder else None
        if raw is None:
            con = connect(path, read_only=read_only, wait_s=wait_s)
        else:
            con = raw if read_only else BusyRetrying(raw, wait_s)
        try:
            yield con
        except duckdb.FatalException:
            if holder is not None:
                holder.drop()  # DuckDB invalidated the database: the next connection attaches afresh
            raise
        finally:
            con.close()


@contextmanager
def ctrl_c_kept() -> Iterator[None]:
    """Give back the KeyboardInterrupt that DuckDB turns into RuntimeError('Query interrupted').

    A Ctrl-C during a query is the user stopping the run: it must crash the run (exit 130), not
    fail one batch as if its data were bad.
    """
    try:
        yield
    except RuntimeError as exc:
        if type(exc) is not RuntimeError or str(exc) != "Query interrupted":
            raise
        raise KeyboardInterrupt("Ctrl-C during a DuckDB query") from exc


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
    """BEGIN ... COMMIT, or ROLLBACK on any error."""
    con.execute("BEGIN TRANSACTION")
    try:
        yield con
    except BaseException:
        con.execute("ROLLBACK")
        raise
    con.execute("COMMIT")


@contextmanager
def writer_lock(path: str | Path) -> Iterator[None]:
    """One writer at a time per database file, across processes (an flock on `<db>.lock`).

    Readers never take it; a writer holds DuckDB's own lock only inside each short connection. On a lake the
    lock sits beside a SQLite catalog; with a PostgreSQL catalog it is an advisory lock there, across machines.
    """
    if is_lake(path) and sqlite_catalog(path) is None:
        with postgres_writer_lock(path):
            yield
        return
    if is_lake(path):
        lock_path = Path(str(sqlite_catalog(path)) + ".lock")
    else:
        lock_path = Path(str(path) + ".lock")
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def compact_lake(db: str | Path) -> tuple[int, int] | None:
    """Merge a lake's small data files, between batches (under the writer lock); data files before and after.

    Maintenance, not data: when it fails (a writer of another machine committed meanwhile) it says so and the
    next run tries again.
    """
    try:
        with writer_lock(db), connection(db) as con:
            return compact(con)
    except duckdb.Error as exc:
        logging.getLogger(__name__).warning("compacting %s failed, the next run tries again: %s", db, str(exc).splitlines()[0])
        return None
