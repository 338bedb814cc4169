"""The reads behind `newsflow view`: each function one page's data, from a read-only connection, as dicts."""
from __future__ import annotations

from datetime import date

import duckdb

PAGE_SIZE = 50


def _dicts(cursor: duckdb.DuckDBPyConnection) -> list[dict]:
    """The rows of the last statement as dicts keyed by column name."""
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row)) for row in cursor.fetchall()]


def overview(con: duckdb.DuckDBPyConnection, days: int = 30) -> dict:
    """Articles per day and per site, documents by status, top reject reasons, last runs, failing or stale sources."""
    return {
        "per_day": _dicts(con.execute(
            """SELECT CAST(first_seen_at AS DATE) AS day, count(*) AS n FROM articles
               WHERE first_seen_at >= now() - to_days(CAST($1 AS INTEGER)) GROUP BY 1 ORDER BY 1""", [days])),
        "per_site": _dicts(con.execute(
            "SELECT coalesce(site, '(none)') AS site, count(*) AS n FROM articles GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 20")),
        "by_status": _dicts(con.execute("SELECT status, count(*) AS n FROM documents GROUP BY 1 ORDER BY 2 DESC, 1")),
        "reject_reasons": _dicts(con.execute(
            """SELECT error AS reason, count(*) AS n FROM documents WHERE status = 'rejected'
               GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 10""")),
        "runs": _dicts(con.execute(
            """SELECT run_id, flow, started_at, finished_at, status, documents, articles, duplicates, rejected, error
               FROM runs ORDER BY started_at DESC LIMIT 10""")),
        "in_the_news": _dicts(con.execute(
            """WITH dated AS (
                   SELECT DISTINCT m.entity_id, m.article_id, coalesce(a.published_at, a.first_seen_at) AS seen_at
                   FROM mentions m JOIN articles a USING (article_id)
                   WHERE coalesce(a.published_at, a.first_seen_at) >= now() - INTERVAL 14 DAY)
               SELECT e.entity_id, e.name, e.label,
                      count(*) FILTER (WHERE seen_at >= now() - INTERVAL 7 DAY) AS this_week,
                      count(*) FILTER (WHERE seen_at < now() - INTERVAL 7 DAY) AS week_before
               FROM dated JOIN entities e USING (entity_id)
               WHERE e.label IN ('PERSON', 'ORG')
               GROUP BY 1, 2, 3 HAVING this_week > 0 ORDER BY this_week DESC, e.name LIMIT 15""")),
        "writing": con.execute("SELECT count(*) FROM runs WHERE status = 'running'").fetchone()[0] > 0,
        "sources": _dicts(con.execute(
            """SELECT source_url, status, last_polled_at, last_success_at, consecutive_errors, last_error
               FROM source_health
               WHERE status IN ('failing', 'dead', 'stale') OR consecutive_errors > 0
                  OR last_success_at < now() - INTERVAL 1 DAY
               ORDER BY consecutive_errors DESC, source_url LIMIT 50""")),
    }


def article_filters(con: duckdb.DuckDBPyConnection) -> dict:
    """The sites and languages present, for the article list's filter menus."""
    return {
        "sites": [r[0] for r in con.execute("SELECT DISTINCT site FROM articles WHERE site IS NOT NULL ORDER BY 1").fetchall()],
        "languages": [r[0] for r in con.execute(
            "SELECT DISTINCT language FROM articles WHERE language IS NOT NULL ORDER BY 1").fetchall()],
    }


def articles(con: duckdb.DuckDBPyConnection, *, site: str | None = None, language: str | None = None,
             day: date | None = None, entity_id: str | None = None, ids: list[str] | None = None,
             offset: int = 0, limit: int = PAGE_SIZE) -> list[dict]:
    """Articles newest first (or in the order of `ids`, a search's ranking), filtered; each with its story's size."""
    rows = _dicts(con.execute(
        """WITH sizes AS (SELECT story_id, count(*) AS story_size FROM articles WHERE story_id IS NOT NULL GROUP BY 1)
           SELECT a.article_id, a.title, a.site, a.url, coalesce(a.published_at, a.first_seen_at) AS seen_at,
                  a.language, a.word_count, coalesce(s.story_size, 1) AS story_size
           FROM articles a LEFT JOIN sizes s USING (story_id)
           WHERE ($1::VARCHAR IS NULL OR a.site = $1)
             AND ($2::VARCHAR IS NULL OR a.language = $2)
             AND ($3::DATE IS NULL OR CAST(coalesce(a.published_at, a.first_seen_at) AS DATE) = $3)
             AND ($4::VARCHAR IS NULL OR a.article_id IN (SELECT article_id FROM mentions WHERE entity_id = $4))
             AND ($5::VARCHAR[] IS NULL OR list_contains($5::VARCHAR[], a.article_id))
           ORDER BY seen_at DESC NULLS LAST, a.article_id LIMIT $6 OFFSET $7""",
        [site, language, day, entity_id, ids, limit if ids is None else len(ids) or 1, offset]))
    if ids is not None:
        rank = {article_id: i for i, article_id in enumerate(ids)}
        rows.sort(key=lambda r: rank[r["article_id"]])
    return rows


def article(con: duckdb.DuckDBPyConnection, article_id: str) -> dict | None:
    """One article with its mentions, the documents merged into it, its removed lines and its story's other articles."""
    found = _dicts(con.execute(
        """SELECT article_id, title, text, url, site, author, published_at, first_seen_at, language, attribution,
                  word_count, extractor, story_id, event_date, event_date_source, extraction_notes, text_line_nos
           FROM articles WHERE article_id = $1""", [article_id]))
    if not found:
        return None
    result = found[0]
    result["mentions"] = _dicts(con.execute(
        """SELECT m.start_char, m.end_char, m.surface, m.entity_id, m.found_by, e.name, e.label
           FROM mentions m LEFT JOIN entities e USING (entity_id) WHERE m.article_id = $1 ORDER BY m.start_char""",
        [article_id]))
    result["documents"] = _dicts(con.execute(
        """SELECT document_id, source_kind, source_ref, received_at, status, dedup_method, similarity, stored_path
           FROM documents WHERE article_id = $1 ORDER BY received_at, document_id""", [article_id]))
    result["removed"] = _dicts(con.execute(
        """SELECT r.document_id, r.line_no, r.line, r.reason FROM removed_lines r
           JOIN documents d USING (document_id) WHERE d.article_id = $1 AND d.status = 'new'
           ORDER BY r.document_id, r.line_no""", [article_id]))
    result["story"] = _dicts(con.execute(
        """SELECT a.article_id, a.title, a.site, coalesce(a.published_at, a.first_seen_at) AS seen_at,
                  l.score, l.linked_to
           FROM articles a LEFT JOIN story_links l USING (article_id)
           WHERE a.story_id = $1 AND a.article_id <> $2 ORDER BY seen_at, a.article_id""",
        [result["story_id"], article_id])) if result["story_id"] else []
    result["link"] = next(iter(_dicts(con.execute(
        "SELECT linked_to, score, threshold, cosine, day_gap FROM story_links WHERE article_id = $1", [article_id]))), None)
    return result


def articles_page(con: duckdb.DuckDBPyConnection, **filters) -> tuple[list[dict], dict]:
    """The article list and its filter menus, on one connection."""
    return articles(con, **filters), article_filters(con)


def quarantine(con: duckdb.DuckDBPyConnection, offset: int = 0, limit: int = PAGE_SIZE) -> list[dict]:
    """Rejected inputs, newest first, with their reason and where the original was kept."""
    return _dicts(con.execute(
        """SELECT document_id, source_kind, source_ref, received_at, error, error_detail, stored_path, raw_size
           FROM documents WHERE status = 'rejected' ORDER BY received_at DESC, document_id LIMIT $1 OFFSET $2""",
        [limit, offset]))


def rejected_original(con: duckdb.DuckDBPyConnection, document_id: str) -> tuple[str | None, bytes | None] | None:
    """A rejected document's kept original: its stored path and, for inputs without a file, its raw bytes."""
    row = con.execute(
        """SELECT d.stored_path, r.content FROM documents d LEFT JOIN raw_content r USING (document_id)
           WHERE d.document_id = $1 AND d.status = 'rejected'""", [document_id]).fetchone()
    return (row[0], row[1]) if row else None


def entity(con: duckdb.DuckDBPyConnection, entity_id: str) -> dict | None:
    """One entity: its names by language, mentions per day, co-occurring entities, articles."""
    found = _dicts(con.execute("SELECT entity_id, name, label, country_code FROM entities WHERE entity_id = $1", [entity_id]))
    if not found:
        return None
    result = found[0]
    result["aliases"] = _dicts(con.execute(
        """SELECT coalesce(language, '?') AS language, list(alias ORDER BY alias) AS aliases FROM entity_aliases
           WHERE entity_id = $1 AND NOT starts_with(alias, '~') GROUP BY 1 ORDER BY 1""", [entity_id]))
    result["surfaces"] = _dicts(con.execute(
        "SELECT surface, count(*) AS n FROM mentions WHERE entity_id = $1 GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 20",
        [entity_id]))
    result["per_day"] = _dicts(con.execute(
        """SELECT CAST(coalesce(a.published_at, a.first_seen_at) AS DATE) AS day, count(*) AS n
           FROM mentions m JOIN articles a USING (article_id) WHERE m.entity_id = $1 GROUP BY 1 ORDER BY 1""",
        [entity_id]))
    result["cooccurring"] = _dicts(con.execute(
        """WITH pairs AS (
               SELECT DISTINCT o.entity_id, o.article_id
               FROM (SELECT DISTINCT article_id FROM mentions WHERE entity_id = $1) mine
               JOIN mentions o USING (article_id) WHERE o.entity_id <> $1),
           together AS (SELECT entity_id, count(*) AS articles FROM pairs GROUP BY 1)
           SELECT e.entity_id, e.name, e.label, together.articles FROM together JOIN entities e USING (entity_id)
           ORDER BY 4 DESC, 2 LIMIT 20""", [entity_id]))
    return result


def memory_index() -> duckdb.DuckDBPyConnection:
    """An empty BM25 index in memory: the view's own, so searching never writes the side index file."""
    from newsflow.storage.extensions import load_extensions
    from newsflow.storage.search import INDEX_TABLES

    index = duckdb.connect(":memory:")
    load_extensions(index, "fts")
    index.execute(INDEX_TABLES)
    return index


def ranked_ids(index: duckdb.DuckDBPyConnection, db: str, query: str, limit: int, wait_s: float) -> list[str]:
    """The article ids best matching `query` by BM25 (storage.search), after appending what the index lacks
    from `db`, attached read-only only for the refresh."""
    from newsflow.storage.db import attach_read_only
    from newsflow.storage.search import refresh, search

    attach_read_only(index, db, "source", wait_s=wait_s)
    try:
        refresh(index, "source")
    finally:
        index.execute("DETACH source")
    return [hit.article_id for hit in search(index, query, None, limit)]


def entity_page(con: duckdb.DuckDBPyConnection, entity_id: str) -> dict | None:
    """An entity (see entity) with its newest articles, on one connection."""
    found = entity(con, entity_id)
    if found is not None:
        found["articles"] = articles(con, entity_id=entity_id)
    return found
