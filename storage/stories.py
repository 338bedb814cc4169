"""Story grouping's read: the stored articles a batch's new articles may join (extractors.stories decides)."""
from __future__ import annotations

from datetime import datetime, timedelta

from newsflow.extractors.settings import Dedup
from newsflow.extractors.stories import LEAD_CHARS, StoryDoc

# An article's time: published_at, else the date this batch's duplicates give it (as the write fills it), else first_seen_at.
_AT = "coalesce(a.published_at, f.filled_at, a.first_seen_at)"


def load_story_pool(
    con, docs: list[StoryDoc], settings: Dedup, dated: dict[str, datetime] | None = None
) -> list[StoryDoc]:
    """Articles already grouped whose time lies within the window around these documents (most recent first).

    `dated`: publication dates the batch gives stored articles that lack one (extractors.stories.batch_story_docs).
    """
    times = [d.at for d in docs if d.at is not None]
    if not times:
        return []
    window = timedelta(days=settings.story_window_days)
    dated = dated or {}
    rows = con.execute(
        f"""SELECT a.article_id, coalesce(a.title, ''), left(a.text, {LEAD_CHARS}), {_AT}, a.story_id,
                   coalesce(a.published_at, f.filled_at), a.first_seen_at
            FROM articles a LEFT JOIN (SELECT unnest($5::VARCHAR[]) AS article_id, unnest($6::TIMESTAMPTZ[]) AS filled_at) f
              ON a.article_id = f.article_id
            WHERE a.story_id IS NOT NULL AND {_AT} BETWEEN $1 AND $2
              AND a.article_id NOT IN (SELECT unnest($3::VARCHAR[]))
            ORDER BY {_AT} DESC, a.article_id LIMIT $4""",
        [min(times) - window, max(times) + window, [d.article_id for d in docs], settings.story_pool_max,
         list(dated), list(dated.values())],
    ).fetchall()
    return [StoryDoc(*row) for row in reversed(rows)]
