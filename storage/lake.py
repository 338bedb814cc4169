"""DuckLake targets: `--db ducklake:sqlite:PATH` (one machine, many processes) and `ducklake:postgres:...` (many).

A lake is attached to an in-memory DuckDB connection under the name `newsflow` and made the default, so every
statement of storage/ reads the same tables, views and columns as on a .duckdb file. DuckLake has no PRIMARY
KEY, UNIQUE or index: schema.sql's are left out on a lake (lake_ddl), and every keyed write is a MERGE
(storage.bulk.insert_rows), the same statement on both targets. Data files are Parquet under the data path:
`<catalog>.files/` beside a SQLite catalog unless NEWSFLOW_DATA_PATH (--data-path) says otherwise, when the lake
is created (DuckLake keeps it in its catalog).
"""
from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path

import duckdb

from newsflow.storage.extensions import load_extensions

PREFIX = "ducklake:"
ALIAS = "newsflow"
CATALOG_EXTENSION = {"sqlite": "sqlite_scanner", "postgres": "postgres_scanner"}


class LakeUnusable(ValueError):
    """A --db that names a lake newsflow cannot use (an unknown catalog kind, a missing path)."""


def is_lake(db: str | Path) -> bool:
    """Whether `db` names a DuckLake rather than a .duckdb file."""
    return str(db).startswith(PREFIX)


def catalog_kind(db: str | Path) -> str:
    """`sqlite` or `postgres`: what holds the lake's catalog."""
    kind, _, rest = str(db).removeprefix(PREFIX).partition(":")
    if kind not in CATALOG_EXTENSION or not rest:
        raise LakeUnusable(f"{db}: a lake is ducklake:sqlite:PATH or ducklake:postgres:CONNINFO (e.g. "
                           "ducklake:postgres:dbname=news host=10.0.0.5)")
    return kind


def sqlite_catalog(db: str | Path) -> Path | None:
    """The catalog file of a ducklake:sqlite: lake, else None."""
    return Path(str(db).removeprefix(PREFIX + "sqlite:")) if catalog_kind(db) == "sqlite" else None


def default_data_path(db: str | Path) -> str | None:
    """Where a new lake's data files go: NEWSFLOW_DATA_PATH, else `<catalog>.files/` beside a SQLite catalog."""
    given = os.environ.get("NEWSFLOW_DATA_PATH")
    if given:
        return given if "://" in given else os.path.join(os.path.abspath(given), "")
    catalog = sqlite_catalog(db)
    return os.path.join(str(catalog.absolute()) + ".files", "") if catalog else None


def lake_exists(db: str | Path) -> bool:
    """Whether the lake's catalog exists (a PostgreSQL catalog is taken to: attaching says otherwise)."""
    catalog = sqlite_catalog(db)
    return catalog is None or catalog.exists()


def attach_lake(con: duckdb.DuckDBPyConnection, db: str | Path, *, read_only: bool = False, alias: str = ALIAS,
                use: bool = True) -> None:
    """Load DuckLake and the catalog's extension from their packages, ATTACH the lake as `alias` (and USE it)."""
    kind = catalog_kind(db)
    load_extensions(con, "ducklake", CATALOG_EXTENSION[kind])
    options = []
    if read_only:
        options.append("READ_ONLY")
    elif not lake_exists(db) or kind == "postgres":  # a PostgreSQL catalog: DuckLake says if it is new and lacks one
        data_path = default_data_path(db)
        if data_path is not None:
            options.append("DATA_PATH '" + data_path.replace("'", "''") + "'")
    catalog = sqlite_catalog(db)
    if catalog is not None and not read_only and not catalog.exists():
        create_sqlite_catalog(catalog)
    target = str(db) if catalog is None else PREFIX + "sqlite:" + str(catalog.absolute())
    con.execute(f"ATTACH '{target.replace(chr(39), chr(39) * 2)}' AS {alias}" + (f" ({', '.join(options)})" if options else ""))
    if use:
        con.execute(f"USE {alias}")
    # Each attach costs ~0.4-0.6 s (storage.held): this line, at DEBUG, is how to count them.
    logging.getLogger(__name__).debug("attached the lake %s as %s%s", target, alias, " (read-only)" if read_only else "")


def create_sqlite_catalog(catalog: Path) -> None:
    """An empty SQLite file in WAL mode, for DuckLake to fill: readers of a WAL database never wait for its writer
    (in SQLite's default rollback mode a commit locks them out, and they fail with 'database is locked')."""
    import sqlite3

    catalog.absolute().parent.mkdir(parents=True, exist_ok=True)
    with closing(sqlite3.connect(catalog)) as sqlite:
        sqlite.execute("PRAGMA journal_mode = WAL")  # kept in the file: every later connection uses it


WRITER_LOCK_KEY = 7_101_985_403_221_170_027  # pg_advisory_xact_lock's key for "newsflow writer" in a catalog database


@contextmanager
def postgres_writer_lock(db: str | Path) -> Iterator[None]:
    """One writer at a time across machines for a lake with a PostgreSQL catalog: a transaction-level advisory lock
    in the catalog's database, held by a connection of its own for the block. PostgreSQL releases it when that
    connection ends, so a killed writer never leaves it held."""
    conninfo = str(db).removeprefix(PREFIX + "postgres:")
    con = duckdb.connect()
    try:
        load_extensions(con, "postgres_scanner")
        con.execute(f"ATTACH '{conninfo.replace(chr(39), chr(39) * 2)}' AS newsflow_lock (TYPE postgres)")
        con.execute("BEGIN")
        con.execute(f"CALL postgres_execute('newsflow_lock', 'SELECT pg_advisory_xact_lock({WRITER_LOCK_KEY})')")
        yield
    finally:
        con.close()  # ends the transaction, and with it the lock


def data_path(con: duckdb.DuckDBPyConnection, alias: str = ALIAS) -> str:
    """The attached lake's data path, as its catalog records it."""
    return con.execute(f"SELECT value FROM ducklake_options('{alias}') WHERE option_name = 'data_path'").fetchone()[0]


def lake_ddl(ddl: str) -> str:
    """schema.sql for a lake: PRIMARY KEY clauses and index statements left out (DuckLake has neither), and
    boolean defaults quoted (DuckLake's ADD COLUMN takes only a literal default; it reads `false` as an expression)."""
    ddl = re.sub(r"\bDEFAULT (true|false)\b", r"DEFAULT '\1'", ddl, flags=re.IGNORECASE)
    ddl = re.sub(r",\s*PRIMARY KEY\s*\([^)]*\)", "", ddl)
    ddl = re.sub(r"\s+PRIMARY KEY\b", "", ddl)
    return re.sub(r"^\s*(CREATE|DROP) INDEX[^;]*;", "", ddl, flags=re.MULTILINE)


def compact(con: duckdb.DuckDBPyConnection, alias: str = ALIAS) -> tuple[int, int]:
    """Merge the lake's small data files (one or more per batch) into larger ones; data files before and after.

    Files a merge replaces are deleted only once older than 10 minutes (`ducklake_cleanup_old_files`): a reader
    still on an earlier snapshot keeps reading them meanwhile.
    """
    tables = [r[0] for r in con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE database_name = ? AND schema_name = 'main'", [alias]).fetchall()]

    def files() -> int:
        return sum(con.execute(f"SELECT count(*) FROM ducklake_list_files('{alias}', ?)", [t]).fetchone()[0] for t in tables)

    before = files()
    con.execute(f"CALL ducklake_merge_adjacent_files('{alias}')")
    con.execute(f"CALL ducklake_cleanup_old_files('{alias}', older_than => now() - INTERVAL 10 MINUTE)")
    return before, files()
