"""Feed state (`sources`: validators, last poll, errors) and the entries already seen (`seen_entries`)."""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import astuple, dataclass, fields
from datetime import datetime

import duckdb

from newsflow.storage.bulk import insert_rows


@dataclass(slots=True)
class SourceState:
    """One row of `sources`: what we know about a feed between polls."""

    source_url: str
    kind: str | None = None
    title: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    last_polled_at: datetime | None = None
    last_status: int | None = None
    consecutive_errors: int = 0
    last_error: str | None = None


SOURCE_COLUMNS = tuple(f.name for f in fields(SourceState))


def load_sources(con: duckdb.DuckDBPyConnection, urls: list[str]) -> dict[str, SourceState]:
    """The stored state of each feed URL; a feed never polled gets a fresh state."""
    states = {url: SourceState(url) for url in urls}
    if not urls:
        return states
    rows = con.execute(
        f"SELECT {', '.join('s.' + c for c in SOURCE_COLUMNS)} FROM sources s "
        "JOIN (SELECT unnest($1) AS url) k ON s.source_url = k.url",
        [list(urls)],
    ).fetchall()
    for row in rows:
        states[row[0]] = SourceState(*row)
    return states


def save_sources(con: duckdb.DuckDBPyConnection, states: Iterable[SourceState]) -> int:
    """Insert or replace the state of each feed in one statement."""
    rows = [astuple(s) for s in states]
    updates = ", ".join(f"{c} = excluded.{c}" for c in SOURCE_COLUMNS[1:])
    return insert_rows(con, "sources", SOURCE_COLUMNS, rows, key=("source_url",), update=updates)


def seen_entries(con: duckdb.DuckDBPyConnection, pairs: Iterable[tuple[str, str]]) -> set[tuple[str, str]]:
    """Which (source_url, entry_key) pairs were seen before, in one query."""
    pairs = list(dict.fromkeys(pairs))
    if not pairs:
        return set()
    rows = con.execute(
        "SELECT e.source_url, e.entry_key FROM seen_entries e "
        "JOIN (SELECT unnest($1) AS u, unnest($2) AS k) q ON e.source_url = q.u AND e.entry_key = q.k",
        [[p[0] for p in pairs], [p[1] for p in pairs]],
    ).fetchall()
    return {(u, k) for u, k in rows}


def mark_seen(con: duckdb.DuckDBPyConnection, pairs: Iterable[tuple[str, str]], at: datetime) -> int:
    """Record (source_url, entry_key) pairs as seen; pairs already recorded keep their first time."""
    rows = [(source_url, key, at) for source_url, key in dict.fromkeys(pairs)]
    return insert_rows(con, "seen_entries", ("source_url", "entry_key", "first_seen_at"), rows,
                       key=("source_url", "entry_key"))
