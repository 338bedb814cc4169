"""`newsflow sql`'s connection: the database read-only, no other file unless allowed, settings locked,
one read statement per call, a time limit."""
from __future__ import annotations

import os
import re
import threading
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from pathlib import Path

import duckdb

from newsflow.storage.db import check_database, connection
from newsflow.storage.lake import data_path, is_lake

# SHOW, DESCRIBE, SUMMARIZE, FROM-first, WITH and VALUES parse as SELECT. CALL runs a
# table function, which SELECT * FROM can do too. PRAGMA is not a read: IMPORT DATABASE parses as one.
READS = {duckdb.StatementType.SELECT, duckdb.StatementType.CALL}
# EXPLAIN, after any comments, with ANALYZE or options: what follows is the statement it explains.
EXPLAIN = re.compile(r"(?:\s|--[^\n]*|/\*.*?\*/)*explain\s+(?:analyze\s+)?(?:\([^)]*\)\s*)?", re.IGNORECASE | re.DOTALL)
# DuckDB 1.5 expands IMPORT DATABASE while parsing, reading the folder's schema.sql and load.sql: refuse it by its
# first word, before the parser opens any file.
IMPORT = re.compile(r"(?:\s|--[^\n]*|/\*.*?\*/|;)*import\b", re.IGNORECASE | re.DOTALL)
ONE_READ = "newsflow sql runs one read-only statement (SELECT, WITH, FROM, VALUES, SHOW, DESCRIBE, SUMMARIZE, CALL, EXPLAIN)"


class QueryRefused(ValueError):
    """A query `newsflow sql` does not run: not exactly one statement, or not a read."""


class QueryTimedOut(RuntimeError):
    """The query ran past its time limit and was interrupted."""


@contextmanager
def read_only_connection(
    path: str | Path, *, allow_files: Sequence[str | Path] = (), wait_s: float = 30.0
) -> Iterator[duckdb.DuckDBPyConnection]:
    """The database opened read-only (waiting up to `wait_s` for a writer), then locked down (lock_down)."""
    check_database(path, write=False, open_file=False)  # the path alone: opening the file twice per page costs ~25 ms
    with ExitStack() as stack:
        try:
            con = stack.enter_context(connection(path, read_only=True, wait_s=wait_s))
        except duckdb.Error:
            check_database(path, write=False)  # one line saying why (a newer DuckDB's file, not a database...)
            raise
        # A lake's tables are Parquet files under its data path: readable, like the database file is, and nothing else.
        lake_files = [data_path(con)] if is_lake(path) else []
        lock_down(con, allow_files, lake_files)
        yield con


def lock_down(con: duckdb.DuckDBPyConnection, allow_files: Sequence[str | Path] = (), data_paths: Sequence[str] = ()) -> None:
    """No extension loading, no file, database or network access but files under `allow_files` (and a lake's
    `data_paths`), settings frozen."""
    for setting in ("autoinstall_known_extensions", "autoload_known_extensions", "allow_community_extensions",
                    "python_enable_replacements"):  # the last: no scans of this process's Python variables
        con.execute(f"SET {setting} = false")
    # A trailing separator, because DuckDB takes these as prefixes: /data/exports must not admit /data/exports2.
    # DuckDB resolves symbolic links before checking, so a link inside a folder cannot lead out of it.
    folders = [os.path.join(Path(folder).resolve(), "") for folder in allow_files]
    folders += [p if "://" in p else os.path.join(Path(p).resolve(), "") for p in data_paths]
    con.execute("SET allowed_directories = ?", [folders])
    con.execute("SET enable_external_access = false")
    con.execute("SET lock_configuration = true")


def read_statement(con: duckdb.DuckDBPyConnection, query: str) -> duckdb.Statement:
    """The query's one statement, if it is a read; QueryRefused otherwise."""
    if IMPORT.match(query) or re.search(r";\s*(?:--[^\n]*\s*|/\*.*?\*/\s*)*import\b", query, re.IGNORECASE | re.DOTALL):
        raise QueryRefused(f"{ONE_READ}; IMPORT is refused")
    statements = _parse(con, query)
    if len(statements) != 1:
        raise QueryRefused(f"{ONE_READ}; this query has {len(statements) or 'no'} statements")
    statement = statements[0]
    kind = _kind(statement)
    if kind == duckdb.StatementType.EXPLAIN:  # EXPLAIN ANALYZE runs the statement it explains: that must be a read
        explained = EXPLAIN.match(statement.query)
        try:
            inner = _parse(con, statement.query[explained.end():]) if explained else []
        except duckdb.ParserException:
            inner = []
        if len(inner) != 1 or _kind(inner[0]) not in READS:
            raise QueryRefused(f"{ONE_READ}; EXPLAIN is refused unless what it explains is one of those")
        return statement
    if kind not in READS:
        word = (statement.query.split() or ["?"])[0]
        name = word.upper() if word.isalpha() else getattr(kind, "name", "this statement")
        raise QueryRefused(f"{ONE_READ}; {name} is refused")
    return statement


def _parse(con: duckdb.DuckDBPyConnection, query: str) -> list[duckdb.Statement]:
    return con.extract_statements(query)  # a syntax error raises DuckDB's own message, which says where


def _kind(statement: duckdb.Statement) -> duckdb.StatementType | None:
    try:
        return statement.type
    except ValueError:  # a type this duckdb's Python enum does not name (UPDATE EXTENSIONS): not a read
        return None


def run_query(con: duckdb.DuckDBPyConnection, query: str, timeout_s: float | None) -> tuple[list[str], list[tuple]]:
    """Column names and rows of one read statement, interrupted after `timeout_s` seconds (None: no limit)."""
    statement = read_statement(con, query)
    timed_out = threading.Event()

    def interrupt() -> None:
        timed_out.set()
        con.interrupt()

    timer = threading.Timer(timeout_s, interrupt) if timeout_s else None
    if timer:
        timer.start()
    try:
        cursor = con.execute(statement)
        columns = [c[0] for c in cursor.description or []]
        return columns, cursor.fetchall()
    except duckdb.InterruptException as exc:
        if timed_out.is_set():
            raise QueryTimedOut(f"query timed out after {timeout_s:g} s") from exc
        raise
    finally:
        if timer:
            timer.cancel()
