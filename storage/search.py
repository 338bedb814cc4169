"""Full-text search: BM25 over articles' title and text with DuckDB's fts extension, in a side index.

The index lives in its own DuckDB file (`index_path`), never in the database the writers use: building it takes
the file for seconds, and a DuckLake cannot hold fts's tables. Each search first brings the side index up to date:
articles it has not seen are copied over (an anti-join on article_id), dates filled since are copied too, and when
anything changed the fts index is rebuilt (`PRAGMA create_fts_index(..., overwrite = 1)`: fts has no incremental
update). A search after new articles pays that rebuild once (benchmarks/results/search.md); one with nothing new
reads the index as it is. One process refreshes or queries an index file at a time (an flock beside it).
"""
from __future__ import annotations

import fcntl
import hashlib
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb

from newsflow.storage.extensions import extension_directory, load_extensions

# How fts reads text: Porter stems of lower-cased, accent-stripped words; English stopwords left out.
INDEX_OPTIONS = "stemmer = 'porter', stopwords = 'english', strip_accents = 1, lower = 1, overwrite = 1"


@dataclass(slots=True)
class Hit:
    """One ranked article: its BM25 score and what the command prints."""

    article_id: str
    score: float
    title: str | None
    url: str | None
    seen_at: datetime | None
    text: str


def index_path(db: str | Path) -> Path:
    """The side index of a database: `<file>.search.duckdb` beside a file or a SQLite catalog, else in the cache."""
    text = str(db)
    if text.startswith("ducklake:sqlite:"):
        return Path(text.removeprefix("ducklake:sqlite:") + ".search.duckdb")
    if text.startswith("ducklake:"):
        digest = hashlib.sha256(text.encode()).hexdigest()[:16]
        return extension_directory().parent / "search" / f"{digest}.search.duckdb"
    return Path(text + ".search.duckdb") if not text.endswith(".duckdb") else Path(text[: -len(".duckdb")] + ".search.duckdb")


@contextmanager
def side_index(db: str | Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """The side index of `db`, opened by this process alone (others wait on its lock), fts loaded."""
    path = index_path(db)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(str(path) + ".lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        con = duckdb.connect(str(path))
        try:
            load_extensions(con, "fts")
            con.execute("""CREATE TABLE IF NOT EXISTS search_docs (
                article_id VARCHAR PRIMARY KEY, title VARCHAR, text VARCHAR, url VARCHAR,
                published_at TIMESTAMPTZ, first_seen_at TIMESTAMPTZ)""")
            yield con
        finally:
            con.close()
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def refresh(index: duckdb.DuckDBPyConnection, source: str) -> int:
    """Bring the side index up to date with the articles of the database attached as `source`; articles added.

    Rebuilds the fts index when articles arrived or a date was filled, and when it does not exist yet.
    """
    added = index.execute(
        f"""INSERT INTO search_docs
            SELECT article_id, title, text, url, published_at, first_seen_at FROM {source}.articles a
            WHERE NOT EXISTS (SELECT 1 FROM search_docs d WHERE d.article_id = a.article_id)"""
    ).fetchone()[0]
    dated = index.execute(
        f"""UPDATE search_docs SET published_at = a.published_at, url = coalesce(search_docs.url, a.url)
            FROM {source}.articles a
            WHERE search_docs.article_id = a.article_id AND search_docs.published_at IS NULL AND a.published_at IS NOT NULL"""
    ).fetchone()[0]
    built = index.execute(
        "SELECT count(*) FROM duckdb_schemas() WHERE database_name = current_database() AND schema_name = 'fts_main_search_docs'"
    ).fetchone()[0]
    if added or dated or not built:
        index.execute(f"PRAGMA create_fts_index('search_docs', 'article_id', 'title', 'text', {INDEX_OPTIONS})")
    return added


def query_terms(index: duckdb.DuckDBPyConnection, query: str) -> list[str]:
    """The query's words as the index reads them (lower-cased, accents stripped, Porter stems), in order, stopwords
    and one-letter words aside kept."""
    rows = index.execute(  # fts's own default: (\\.|[^a-z])+ between words, after lower() and strip_accents()
        r"""SELECT stem(w, 'porter') AS term, min(i) AS pos FROM (
              SELECT unnest(words) AS w, generate_subscripts(words, 1) AS i
              FROM (SELECT string_split(trim(regexp_replace(lower(strip_accents($1)), '(\.|[^a-z])+', ' ', 'g')), ' ') AS words))
            WHERE length(w) > 1 GROUP BY term ORDER BY pos""",
        [query],
    ).fetchall()
    return [r[0] for r in rows]


def search(index: duckdb.DuckDBPyConnection, query: str, since: datetime | None = None, limit: int = 10) -> list[Hit]:
    """The best `limit` articles for `query` by BM25 (title and text), newest first among equal scores."""
    rows = index.execute(
        """SELECT d.article_id, s.score, d.title, d.url, coalesce(d.published_at, d.first_seen_at) AS seen_at, d.text
           FROM (SELECT article_id, fts_main_search_docs.match_bm25(article_id, $1) AS score FROM search_docs) s
           JOIN search_docs d USING (article_id)
           WHERE s.score IS NOT NULL AND ($2::TIMESTAMPTZ IS NULL OR coalesce(d.published_at, d.first_seen_at) >= $2)
           ORDER BY s.score DESC, seen_at DESC NULLS LAST, d.article_id LIMIT $3""",
        [query, since, limit],
    ).fetchall()
    return [Hit(*row) for row in rows]
