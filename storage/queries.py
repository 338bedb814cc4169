"""Read queries the command line prints."""
from __future__ import annotations

import duckdb


def top_entities(con: duckdb.DuckDBPyConnection, limit: int = 10) -> list[tuple[str, str, int]]:
    """The most mentioned entities: (name, label, articles mentioning it)."""
    return con.execute(
        """SELECT e.name, e.label, count(DISTINCT m.article_id) AS articles
           FROM mentions m JOIN entities e USING (entity_id)
           GROUP BY ALL ORDER BY articles DESC, count(*) DESC, e.name LIMIT ?""",
        [limit],
    ).fetchall()
