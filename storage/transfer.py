"""Move a whole database between targets or DuckDB versions: one Parquet file per table, as EXPORT DATABASE writes.

`newsflow export DIR` writes DIR/<table>.parquet for every table; `newsflow import DIR` fills an empty database
(a .duckdb file or a lake) from such a folder, including one written by another DuckDB's EXPORT DATABASE.
"""
from __future__ import annotations

from pathlib import Path

import duckdb

from newsflow.storage.db import transaction

SKIPPED = {"newsflow_meta"}  # the schema version belongs to the database being filled, not to the export


class ImportRefused(ValueError):
    """The target already holds rows, or the folder is not an export of a newsflow database."""


def newsflow_tables(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The tables of the open database (the attached lake on a lake target), newsflow_meta aside, by name."""
    rows = con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE database_name = current_database() "
        "AND schema_name = current_schema() ORDER BY table_name"
    ).fetchall()
    return [name for (name,) in rows if name not in SKIPPED]


def export_tables(con: duckdb.DuckDBPyConnection, folder: str | Path) -> dict[str, int]:
    """Write every table to folder/<table>.parquet; rows written per table."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    counts = {}
    for table in newsflow_tables(con):
        target = str(folder.resolve() / f"{table}.parquet").replace("'", "''")
        con.execute(f"COPY {table} TO '{target}' (FORMAT parquet)")
        counts[table] = con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
    return counts


def import_tables(con: duckdb.DuckDBPyConnection, folder: str | Path) -> dict[str, int]:
    """Fill the (empty) database from folder/<table>.parquet in one transaction; rows read per table."""
    folder = Path(folder)
    if not (folder / "articles.parquet").is_file() or not (folder / "documents.parquet").is_file():
        raise ImportRefused(f"{folder} holds no articles.parquet and documents.parquet: not an export of a newsflow database")
    tables = newsflow_tables(con)
    held = [t for t in ("articles", "documents") if con.execute(f"SELECT count(*) FROM {t}").fetchone()[0]]
    if held:
        raise ImportRefused(f"the database already holds {' and '.join(held)}: import fills an empty database only")
    counts = {}
    with transaction(con):
        for table in tables:
            source = folder / f"{table}.parquet"
            if source.is_file():
                path = str(source.resolve()).replace("'", "''")
                con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM read_parquet('{path}')")
                counts[table] = con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
    return counts
