"""Story grouping in DuckDB: load new articles and their time-window pool, store each story_id."""
from __future__ import annotations

from datetime import timedelta

from newsflow.extractors.settings import Dedup
from newsflow.extractors.stories import StoryDoc, link_stories

_LEAD_CHARS = 2000  # enough text for story_lead_words; keeps the pool query light

_COLUMNS = f"article_id, coalesce(title, ''), left(text, {_LEAD_CHARS}), coalesce(published_at, first_seen_at), story_id"


def load_story_docs(con, article_ids: list[str]) -> list[StoryDoc]:
    """The stored articles with these ids, in the given order (missing ids are skipped)."""
    if not article_ids:
        return []
    rows = con.execute(
        f"SELECT {_COLUMNS} FROM articles WHERE article_id IN (SELECT unnest($1::VARCHAR[]))", [list(article_ids)]
    ).fetchall()
    by_id = {row[0]: StoryDoc(*row) for row in rows}
    return [by_id[aid] for aid in dict.fromkeys(article_ids) if aid in by_id]


def load_story_pool(con, docs: list[StoryDoc], settings: Dedup) -> list[StoryDoc]:
    """Articles already grouped whose time lies within the window around these documents (most recent first)."""
    times = [d.at for d in docs if d.at is not None]
    if not times:
        return []
    window = timedelta(days=settings.story_window_days)
    rows = con.execute(
        f"""SELECT {_COLUMNS} FROM articles
            WHERE story_id IS NOT NULL AND coalesce(published_at, first_seen_at) BETWEEN $1 AND $2
              AND article_id NOT IN (SELECT unnest($3::VARCHAR[]))
            ORDER BY coalesce(published_at, first_seen_at) DESC, article_id LIMIT $4""",
        [min(times) - window, max(times) + window, [d.article_id for d in docs], settings.story_pool_max],
    ).fetchall()
    return [StoryDoc(*row) for row in reversed(rows)]


def assign_stories(con, article_ids: list[str], settings: Dedup) -> dict[str, str]:
    """Give each of these stored articles a story_id (an earlier report's, or its own id); returns them.

    Call after the articles rows are inserted, inside or right after the batch transaction.
    """
    docs = [d for d in load_story_docs(con, article_ids) if d.story_id is None]
    if not docs:
        return {}
    assigned = link_stories(docs, load_story_pool(con, docs, settings), settings)
    con.execute(
        """UPDATE articles SET story_id = s.story_id
           FROM (SELECT unnest($1::VARCHAR[]) AS article_id, unnest($2::VARCHAR[]) AS story_id) AS s
           WHERE articles.article_id = s.article_id""",
        [list(assigned), list(assigned.values())],
    )
    return assigned

