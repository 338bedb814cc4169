"""Full-text search: BM25 over articles' title and text, in a side index kept up to date incrementally.

The index lives in its own DuckDB file (`index_path`), never in the database the writers use (a DuckLake cannot
hold an index, and building one must not keep the file from the writers). fts's own index (`create_fts_index`)
cannot be updated, only rebuilt whole: 62 s at 10k articles here, minutes at 100k (benchmarks/results/search.md).
So the index is fts's tokenizer and Porter stemmer (`stem()`) applied to each article once, into postings with
integer term ids, and the BM25 ranking fts's `match_bm25` computes (k1 1.2, b 0.75) is one query over them.

Each search first brings the side index up to date: articles it has not seen are tokenized and appended (cost
proportional to what is new: only recent rows of the database are read, unless the counts say one is missing),
and dates filled since are copied. Appended postings are merged into a term-sorted table now and then, so a
query reads only the row groups of its terms. One process refreshes or queries an index file
at a time (an flock beside it).
"""
from __future__ import annotations

import fcntl
import hashlib
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from importlib import resources
from pathlib import Path

import duckdb

from newsflow.storage.extensions import extension_directory, load_extensions

K1, B = 1.2, 0.75  # fts's match_bm25 defaults (and its idf: log10)
# fts's tokenizer (its default `ignore`): lower-cased, accents stripped, anything but a-z between words. (fts's own
# leaves typographic quotes on words, so "action" misses “action”; here they part words like any other character.)
WORDS = r"string_split(trim(regexp_replace(lower(strip_accents({text})), '(\.|[^a-z])+', ' ', 'g')), ' ')"
INDEX_TABLES = """
CREATE TABLE IF NOT EXISTS search_docs (
    doc_no INTEGER NOT NULL, article_id VARCHAR NOT NULL, title VARCHAR, text VARCHAR, url VARCHAR,
    published_at TIMESTAMPTZ, first_seen_at TIMESTAMPTZ, len INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS search_terms (term_id INTEGER NOT NULL, term VARCHAR NOT NULL);
CREATE TABLE IF NOT EXISTS search_postings (term_id INTEGER NOT NULL, doc_no INTEGER NOT NULL, tf INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS search_postings_tail (term_id INTEGER NOT NULL, doc_no INTEGER NOT NULL, tf INTEGER NOT NULL);
"""
# Postings live in two tables: search_postings, sorted by term so a query reads only the row groups of its terms
# (DuckDB skips the others by their min/max), and search_postings_tail, appended to by each refresh in article
# order. When the tail outgrows this share of the sorted part, both are merged and sorted again (amortised: each
# posting is rewritten a few times over the index's life).
TAIL_SHARE = 0.25
MERGE_MIN_ROWS = 100_000  # a smaller tail is cheap to read whole: not worth a rewrite
# An article landed more than this before the newest indexed one is still found, by a full comparison of ids
# whenever the counts say one is missing (writers of a lake commit out of their batches' time order).
RECENT = "INTERVAL 1 HOUR"


def stopwords() -> list[str]:
    """Words left out of the index and of queries (storage/search_stopwords.txt)."""
    text = resources.files("newsflow.storage").joinpath("search_stopwords.txt").read_text(encoding="utf-8")
    return [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")]


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
    """The side index of `db`, opened by this process alone (others wait on its lock), fts loaded for stem()."""
    path = index_path(db)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(str(path) + ".lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        con = duckdb.connect(str(path))
        try:
            load_extensions(con, "fts")
            con.execute(INDEX_TABLES)
            yield con
        finally:
            con.close()
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def refresh(index: duckdb.DuckDBPyConnection, source: str) -> int:
    """Append the articles of the database attached as `source` that the index lacks, and copy filled dates; the
    count appended. One transaction: a search killed midway leaves the index as it was."""
    index.execute("BEGIN TRANSACTION")
    try:
        added = _append(index, source)
        index.execute(  # reads only the id, date and url columns of the source, and only when some are undated
            f"""UPDATE search_docs SET published_at = a.published_at, url = coalesce(search_docs.url, a.url)
                FROM (SELECT article_id, published_at, url FROM {source}.articles
                      WHERE published_at IS NOT NULL
                        AND article_id IN (SELECT article_id FROM search_docs WHERE published_at IS NULL)) a
                WHERE search_docs.article_id = a.article_id"""
        )
        _merge_tail(index)
    except BaseException:
        index.execute("ROLLBACK")
        raise
    index.execute("COMMIT")
    return added


def _append(index: duckdb.DuckDBPyConnection, source: str) -> int:
    """Tokenize the articles the index lacks into new terms and postings; how many."""
    stored, indexed, newest = index.execute(
        f"SELECT (SELECT count(*) FROM {source}.articles), count(*), max(first_seen_at) FROM search_docs").fetchone()
    if stored == indexed:  # articles are never deleted: the same count means nothing new
        return 0
    # The new ones are recent: reading only recent row groups spares the texts of all the others. Should that
    # miss any (the counts still differ), every id is compared.
    recent = f"first_seen_at >= TIMESTAMPTZ '{newest.isoformat()}' - {RECENT}" if newest else "true"
    for where in (recent, "true"):
        index.execute(
            f"""CREATE OR REPLACE TEMP TABLE new_docs AS
                SELECT (SELECT coalesce(max(doc_no), 0) FROM search_docs) + row_number() OVER (ORDER BY article_id) AS doc_no,
                       article_id, title, text, url, published_at, first_seen_at
                FROM {source}.articles a
                WHERE {where} AND NOT EXISTS (SELECT 1 FROM search_docs d WHERE d.article_id = a.article_id)"""
        )
        added = index.execute("SELECT count(*) FROM temp.new_docs").fetchone()[0]
        if indexed + added >= stored:
            break
    if not added:
        return 0
    index.execute(
        f"""CREATE OR REPLACE TEMP TABLE new_tokens AS
            SELECT doc_no, term FROM (
                SELECT doc_no, stem(w, 'porter') AS term
                FROM (SELECT doc_no, unnest({WORDS.format(text="coalesce(title, '') || ' ' || coalesce(text, '')")}) AS w FROM temp.new_docs)
                WHERE w <> '' AND NOT list_contains($1, w))
            WHERE term <> ''""",
        [stopwords()],
    )
    index.execute(
        """INSERT INTO search_terms
           SELECT (SELECT coalesce(max(term_id), 0) FROM search_terms) + row_number() OVER (ORDER BY term), term
           FROM (SELECT DISTINCT term FROM temp.new_tokens) n
           WHERE NOT EXISTS (SELECT 1 FROM search_terms t WHERE t.term = n.term)"""
    )
    index.execute(
        """INSERT INTO search_postings_tail
           SELECT t.term_id, n.doc_no, count(*) FROM temp.new_tokens n JOIN search_terms t USING (term) GROUP BY ALL"""
    )
    index.execute(
        """INSERT INTO search_docs
           SELECT d.*, coalesce(c.len, 0) FROM temp.new_docs d
           LEFT JOIN (SELECT doc_no, count(*) AS len FROM temp.new_tokens GROUP BY 1) c USING (doc_no)"""
    )
    index.execute("DROP TABLE temp.new_docs")
    index.execute("DROP TABLE temp.new_tokens")
    return added


def _merge_tail(index: duckdb.DuckDBPyConnection) -> None:
    """Merge the appended postings into the sorted ones once the tail has grown past TAIL_SHARE of them."""
    sorted_rows, tail_rows = index.execute(
        "SELECT (SELECT count(*) FROM search_postings), (SELECT count(*) FROM search_postings_tail)").fetchone()
    if tail_rows <= max(TAIL_SHARE * sorted_rows, MERGE_MIN_ROWS):
        return
    index.execute("""CREATE OR REPLACE TABLE search_postings AS
                     SELECT * FROM (SELECT * FROM search_postings UNION ALL SELECT * FROM search_postings_tail)
                     ORDER BY term_id, doc_no""")
    index.execute("DELETE FROM search_postings_tail")


def query_terms(index: duckdb.DuckDBPyConnection, query: str) -> list[str]:
    """The query's words as the index reads them (tokenized and stemmed the same way), in order, stopwords and
    one-letter words left out."""
    rows = index.execute(
        f"""SELECT stem(w, 'porter') AS term, min(i) AS pos FROM (
              SELECT unnest(words) AS w, generate_subscripts(words, 1) AS i FROM (SELECT {WORDS.format(text="$1")} AS words))
            WHERE length(w) > 1 AND NOT list_contains($2, w) GROUP BY term ORDER BY pos""",
        [query, stopwords()],
    ).fetchall()
    return [r[0] for r in rows]


def search(index: duckdb.DuckDBPyConnection, query: str, since: datetime | None = None, limit: int = 10) -> list[Hit]:
    """The best `limit` articles for `query` by BM25 (title and text), newest first among equal scores."""
    terms = query_terms(index, query)
    ids = [r[0] for r in index.execute("SELECT term_id FROM search_terms WHERE term IN (SELECT unnest($1::VARCHAR[]))",
                                       [terms]).fetchall()]
    if not ids:
        return []
    # One equality per term and table: DuckDB skips the sorted table's row groups whose min/max exclude the term.
    postings = " UNION ALL ".join(f"SELECT term_id, doc_no, tf FROM {table} WHERE term_id = {int(i)}"
                                  for i in ids for table in ("search_postings", "search_postings_tail"))
    rows = index.execute(
        f"""WITH p AS ({postings}),
                 df AS (SELECT term_id, count(*) AS df FROM p GROUP BY 1),
                 stats AS (SELECT count(*) AS n, avg(len) AS avgdl FROM search_docs),
                 scored AS (
                     SELECT p.doc_no, sum(log((stats.n - df.df + 0.5) / (df.df + 0.5) + 1)
                                          * p.tf * ({K1} + 1) / (p.tf + {K1} * (1 - {B} + {B} * d.len / stats.avgdl))) AS score
                     FROM p JOIN df USING (term_id) JOIN search_docs d USING (doc_no), stats GROUP BY p.doc_no)
            SELECT d.article_id, s.score, d.title, d.url, coalesce(d.published_at, d.first_seen_at) AS seen_at, d.text
            FROM scored s JOIN search_docs d USING (doc_no)
            WHERE $1::TIMESTAMPTZ IS NULL OR coalesce(d.published_at, d.first_seen_at) >= $1
            ORDER BY s.score DESC, seen_at DESC NULLS LAST, d.article_id LIMIT $2""",
        [since, limit],
    ).fetchall()
    return [Hit(*row) for row in rows]
