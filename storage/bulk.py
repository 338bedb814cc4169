"""Bulk keyed writes: one statement per table per batch, columns passed as lists and unnested.

A keyed write is a MERGE on the key columns, the same statement on a .duckdb file and on a DuckLake (which has
no PRIMARY KEY to lean on, so no INSERT ... ON CONFLICT): a rerun of a batch never doubles a row.
"""
from __future__ import annotations

from collections.abc import Sequence

import duckdb


def insert_rows(
    con: duckdb.DuckDBPyConnection,
    table: str,
    columns: Sequence[str],
    rows: Sequence[Sequence[object]],
    *,
    key: Sequence[str] = (),
    update: str | None = None,
    types: dict[str, str] | None = None,
) -> int:
    """Write all rows with one statement over `unnest($1), unnest($2), ...`; returns the count of rows given.

    With `key`: MERGE, so a row whose key is stored is left as it is, or changed by `update` (a SET list in which
    `excluded` names the incoming row and `table` the stored one); of rows sharing a key, the first is written.
    Without: a plain INSERT. `types`: SQL types of columns whose Python values do not say it (UBIGINT[]).
    """
    if not rows:
        return 0
    if key:
        at = [list(columns).index(name) for name in key]
        first: dict[tuple, Sequence[object]] = {}
        for row in rows:
            first.setdefault(tuple(row[i] for i in at), row)
        rows = list(first.values())
    lists = [list(column) for column in zip(*rows)]
    types = types or {}
    selects = ", ".join(
        f"unnest(${i + 1}" + (f"::{types[name]}[]" if name in types else "") + f") AS {name}" for i, name in enumerate(columns)
    )
    if not key:
        sql = f"INSERT INTO {table} ({', '.join(columns)}) SELECT {selects}"
    else:
        matched = f" WHEN MATCHED THEN UPDATE SET {update}" if update else ""
        sql = f"""MERGE INTO {table} USING (SELECT {selects}) AS excluded
            ON ({' AND '.join(f'{table}.{name} = excluded.{name}' for name in key)}){matched}
            WHEN NOT MATCHED THEN INSERT ({', '.join(columns)}) VALUES ({', '.join('excluded.' + c for c in columns)})"""
    try:
        con.execute(sql, lists)
    except RuntimeError as exc:  # DuckDB 1.5's Python binding: a str it cannot convert, said without the value
        raise _unencodable(table, columns, lists) or exc
    return len(rows)


def _unencodable(table: str, columns: Sequence[str], lists: list[list]) -> duckdb.InvalidInputException | None:
    """The error a string UTF-8 cannot encode (a lone surrogate) deserves, naming its column; None if there is none."""
    for name, values in zip(columns, lists):
        for value in values:
            if isinstance(value, str):
                try:
                    value.encode("utf-8")
                except UnicodeEncodeError as exc:
                    return duckdb.InvalidInputException(f"{table}.{name}: a string UTF-8 cannot encode ({exc.reason}: a lone surrogate)")
    return None
