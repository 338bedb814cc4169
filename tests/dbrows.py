"""Rows of a finished run's database file, read the way a user's ad-hoc query would: a read-only DuckDB connection."""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import duckdb


def rows(db: Path, sql: str, params: Sequence = ()) -> list[tuple]:
    """All rows of `sql` on a read-only connection to the file, closed before returning."""
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql, list(params)).fetchall()
