"""Bulk keyed inserts: one statement per table per batch, columns passed as lists and unnested."""
from __future__ import annotations

from collections.abc import Sequence

import duckdb


def insert_rows(
    con: duckdb.DuckDBPyConnection,
    table: str,
    columns: Sequence[str],
    rows: Sequence[Sequence[object]],
    *,
    on_conflict: str = "",
) -> int:
    """INSERT all rows with one `SELECT unnest($1), unnest($2), ...` statement; returns the row count."""
    if not rows:
        return 0
    lists = [list(column) for column in zip(*rows)]
    selects = ", ".join(f"unnest(${i + 1}) AS {name}" for i, name in enumerate(columns))
    sql = f"INSERT INTO {table} ({', '.join(columns)}) SELECT {selects} {on_conflict}"
    con.execute(sql, lists)
    return len(rows)
