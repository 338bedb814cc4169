"""Entities in DuckDB: look up stored aliases, upsert canonical entities and their aliases, insert mentions, the views."""
from __future__ import annotations

from importlib import resources

import duckdb

from newsflow.extractors.records import Entity, EntityMerge, Mention
from newsflow.storage.bulk import insert_rows


def load_entities(con: duckdb.DuckDBPyConnection, keys: list[tuple[str, str]]) -> dict[tuple[str, str], tuple[str, str]]:
    """The stored entities these (alias, label) keys find: key -> (entity_id, canonical name)."""
    if not keys:
        return {}
    rows = con.execute(
        """SELECT q.alias, q.label, a.entity_id, e.name
           FROM (SELECT unnest($1) AS alias, unnest($2) AS label) q
           JOIN entity_aliases a USING (alias, label) JOIN entities e USING (entity_id)""",
        [[alias for alias, _ in keys], [label for _, label in keys]],
    ).fetchall()
    return {(alias, label): (eid, name) for alias, label, eid, name in rows}


def write_entities(
    con: duckdb.DuckDBPyConnection, mentions: list[Mention], entities: list[Entity], merges: list[EntityMerge]
) -> None:
    """Upsert entities and aliases, fold merged short forms, insert mentions; in the caller's transaction (keyed,
    idempotent). The three come resolved from extractors.entity_resolution.resolve_entities."""
    if not mentions:
        return
    insert_rows(
        con,
        "entities",
        ("entity_id", "name", "label", "country_code"),
        [(e.entity_id, e.name, e.label, e.country_code) for e in entities],
        key=("entity_id",), update="country_code = coalesce(entities.country_code, excluded.country_code)",
    )
    # First writer wins: an alias keeps the entity it was first seen for, so ids never move (but for merges).
    insert_rows(
        con,
        "entity_aliases",
        ("alias", "label", "entity_id", "language"),
        [(alias, e.label, e.entity_id, language) for e in entities for alias, language in e.aliases],
        key=("alias", "label"),
    )
    _merge(con, merges)
    rows = {(m.article_id, m.start_char): (m.article_id, m.entity_id, m.surface, m.start_char, m.end_char, m.found_by) for m in mentions}
    insert_rows(
        con,
        "mentions",
        ("article_id", "entity_id", "surface", "start_char", "end_char", "found_by"),
        list(rows.values()),
        key=("article_id", "start_char"),
    )


def _merge(con: duckdb.DuckDBPyConnection, merges: list[EntityMerge]) -> None:
    """Move each short form's alias and earlier mentions to its full name, and drop the short form left unmentioned."""
    if not merges:
        return
    aliases = [m.alias for m in merges]
    labels = [m.label for m in merges]
    old_ids = [m.old_id for m in merges]
    new_ids = [m.new_id for m in merges]
    con.execute(
        """UPDATE entity_aliases SET entity_id = m.new_id
           FROM (SELECT unnest($1) AS alias, unnest($2) AS label, unnest($3) AS old_id, unnest($4) AS new_id) m
           WHERE entity_aliases.alias = m.alias AND entity_aliases.label = m.label AND entity_aliases.entity_id = m.old_id""",
        [aliases, labels, old_ids, new_ids],
    )
    con.execute(
        """UPDATE mentions SET entity_id = m.new_id
           FROM (SELECT unnest($1) AS old_id, unnest($2) AS new_id) m WHERE mentions.entity_id = m.old_id""",
        [old_ids, new_ids],
    )
    con.execute(
        "DELETE FROM entities WHERE entity_id IN (SELECT unnest($1)) AND entity_id NOT IN (SELECT entity_id FROM mentions)",
        [old_ids],
    )


def known_names(con: duckdb.DuckDBPyConnection, limit: int = 20_000) -> list[tuple[str, str]]:
    """(name, label) of the people (full names) and organisations mentioned in two articles or more, most mentioned
    first: what the dictionary pass looks for in languages without a model."""
    return con.execute(
        """SELECT e.name, e.label FROM entities e JOIN mentions m USING (entity_id)
           WHERE (e.label = 'PERSON' AND e.name LIKE '% %') OR (e.label = 'ORG' AND length(e.name) >= 3)
           GROUP BY e.entity_id, e.name, e.label HAVING count(DISTINCT m.article_id) >= 2
           ORDER BY count(*) DESC, e.name LIMIT ?""",
        [limit],
    ).fetchall()


def views_sql() -> str:
    """The text of storage/views.sql."""
    return resources.files("newsflow.storage").joinpath("views.sql").read_text(encoding="utf-8")


def create_views(con: duckdb.DuckDBPyConnection) -> None:
    """Create or replace the entity views (run after schema.sql)."""
    con.execute(views_sql())
