"""Source state (`sources`: feeds and sitemaps, validators, health), polls (`source_polls`) and seen entries."""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import astuple, dataclass, fields
from datetime import datetime

import duckdb

from newsflow.storage.bulk import insert_rows


@dataclass(slots=True)
class SourceState:
    """One row of `sources`: what we know about a feed or sitemap between polls."""

    source_url: str
    kind: str | None = None
    title: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    last_polled_at: datetime | None = None
    last_status: int | None = None
    consecutive_errors: int = 0
    last_error: str | None = None
    source_type: str | None = None  # 'feed' | 'sitemap'; None: decided by what the first poll gets
    site: str | None = None  # the home page it was discovered from
    found_by: str | None = None  # 'given', 'link_alternate', 'common_path', 'robots_txt'
    subscribed: bool = False
    added_at: datetime | None = None
    last_success_at: datetime | None = None
    last_new_entry_at: datetime | None = None
    next_poll_at: datetime | None = None
    status: str | None = None  # 'active' | 'failing' | 'stale' | 'dead'


@dataclass(slots=True)
class SourcePoll:
    """One row of `source_polls`: the outcome of one poll of a source."""

    source_url: str
    polled_at: datetime
    run_id: str | None
    http_status: int | None
    ok: bool
    entries: int = 0
    entries_new: int = 0
    files: int = 0
    dropped: str | None = None  # JSON object: reason -> URLs left out (sitemaps)
    error: str | None = None


@dataclass(slots=True)
class SitemapFile:
    """One row of `sitemap_files`: a sitemap under an index, as last read whole (or confirmed by a 304)."""

    source_url: str
    file_url: str
    etag: str | None
    last_modified: str | None
    lastmod: datetime | None
    read_at: datetime


SOURCE_COLUMNS = tuple(f.name for f in fields(SourceState))
FILE_COLUMNS = tuple(f.name for f in fields(SitemapFile))


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
    """Insert or replace the state of each source in one statement (the time it was added is kept)."""
    rows = [astuple(s) for s in states]
    updates = ", ".join(f"{c} = coalesce(sources.{c}, excluded.{c})" if c == "added_at" else f"{c} = excluded.{c}"
                        for c in SOURCE_COLUMNS[1:])
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


def subscribed_sources(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The URLs of the sources subscribed to (`newsflow sources add`), oldest first."""
    return [r[0] for r in con.execute(
        "SELECT source_url FROM sources WHERE subscribed ORDER BY added_at NULLS LAST, source_url").fetchall()]


def unsubscribe(con: duckdb.DuckDBPyConnection, urls: list[str]) -> int:
    """Stop polling these sources (by source URL or by the site they were found on); their history stays."""
    return con.execute(
        "UPDATE sources SET subscribed = false WHERE subscribed AND (source_url IN (SELECT unnest($1)) "
        "OR site IN (SELECT unnest($1)))", [list(urls)]).fetchall()[0][0]


def record_polls(con: duckdb.DuckDBPyConnection, polls: Iterable[SourcePoll]) -> int:
    """Append one `source_polls` row per poll (a rerun with the same time replaces it)."""
    columns = tuple(f.name for f in fields(SourcePoll))
    return insert_rows(con, "source_polls", columns, [astuple(p) for p in polls],
                       key=("source_url", "polled_at"))


def seen_anywhere(con: duckdb.DuckDBPyConnection, keys: Iterable[str]) -> set[str]:
    """Which entry keys (page URLs) any source has seen, in one query: a page a feed brought is not fetched again
    for a sitemap of the same site."""
    keys = list(dict.fromkeys(keys))
    if not keys:
        return set()
    rows = con.execute("SELECT DISTINCT e.entry_key FROM seen_entries e JOIN (SELECT unnest($1) AS k) q "
                       "ON e.entry_key = q.k", [keys]).fetchall()
    return {r[0] for r in rows}


def load_sitemap_files(con: duckdb.DuckDBPyConnection, source_urls: Iterable[str]) -> dict[str, dict[str, SitemapFile]]:
    """The stored sitemaps under each of these sources (indexes), by source URL then file URL, in one query."""
    urls = list(dict.fromkeys(source_urls))
    out: dict[str, dict[str, SitemapFile]] = {}
    if not urls:
        return out
    rows = con.execute(f"SELECT {', '.join('f.' + c for c in FILE_COLUMNS)} FROM sitemap_files f "
                       "JOIN (SELECT unnest($1) AS url) k ON f.source_url = k.url", [urls]).fetchall()
    for row in rows:
        out.setdefault(row[0], {})[row[1]] = SitemapFile(*row)
    return out


def save_sitemap_files(con: duckdb.DuckDBPyConnection, files: Iterable[SitemapFile]) -> int:
    """Insert or replace each sitemap file's row in one statement."""
    updates = ", ".join(f"{c} = excluded.{c}" for c in FILE_COLUMNS[2:])
    return insert_rows(con, "sitemap_files", FILE_COLUMNS, [astuple(f) for f in files],
                       key=("source_url", "file_url"), update=updates,
                       types={"etag": "VARCHAR", "last_modified": "VARCHAR", "lastmod": "TIMESTAMPTZ"})
