"""Entities in DuckDB: upsert canonical entities and their aliases, insert mentions, create the views."""
from __future__ import annotations

from dataclasses import replace
from functools import lru_cache
from importlib import resources

import duckdb

from newsflow.extractors.entity_names import abbreviates, entity_id, load_aliases, normalise
from newsflow.extractors.records import Mention
from newsflow.storage.bulk import insert_rows


@lru_cache(maxsize=1)
def _table_aliases() -> dict[tuple[str, str], list[str]]:
    """(canonical name casefolded, label) -> aliases from the alias table, for entities as they appear."""
    by_entity: dict[tuple[str, str], list[str]] = {}
    for alias, (canonical, label) in load_aliases().items():
        by_entity.setdefault((canonical.casefold(), label), []).append(alias)
    return by_entity


def _resolve_across_articles(con: duckdb.DuckDBPyConnection, mentions: list[Mention]) -> list[Mention]:
    """Point a short form an article never spelled out ("Putin" alone, "WHO" alone) at the full name it
    was resolved to before, in this batch or in the database; the alias table remembers those resolutions."""
    known: dict[tuple[str, str], tuple[str, str]] = {}  # (alias, label) -> (entity_id, full name)
    for m in mentions:
        if abbreviates(m.surface, m.name, m.label):
            known.setdefault((normalise(m.surface), m.label), (m.entity_id, m.name))
    wanted = sorted({(normalise(m.name), m.label) for m in mentions} - set(known))
    if wanted:
        rows = con.execute(
            """SELECT q.alias, q.label, a.entity_id, e.name
               FROM (SELECT unnest($1) AS alias, unnest($2) AS label) q
               JOIN entity_aliases a USING (alias, label) JOIN entities e USING (entity_id)""",
            [[alias for alias, _ in wanted], [label for _, label in wanted]],
        ).fetchall()
        for alias, label, eid, name in rows:
            known.setdefault((alias, label), (eid, name))
    resolved = []
    for m in mentions:
        target = known.get((normalise(m.name), m.label))
        if target and target[0] != m.entity_id and abbreviates(m.name, target[1], m.label):
            m = replace(m, entity_id=target[0], name=target[1])
        resolved.append(m)
    return resolved


def _upgrade_short_forms(con: duckdb.DuckDBPyConnection, mentions: list[Mention]) -> None:
    """When an article resolves a short form that earlier articles left alone ("Putin", "WHO"), move
    the alias and those earlier mentions to the full name and drop the short-form entity."""
    moves: dict[tuple[str, str], tuple[str, str]] = {}  # (alias, label) -> (old short-form entity id, new entity id)
    for m in mentions:
        if abbreviates(m.surface, m.name, m.label):
            old = entity_id(m.label, m.surface)
            if old != m.entity_id:
                moves.setdefault((normalise(m.surface), m.label), (old, m.entity_id))
    if not moves:
        return
    aliases = [alias for alias, _ in moves]
    labels = [label for _, label in moves]
    old_ids = [old for old, _ in moves.values()]
    new_ids = [new for _, new in moves.values()]
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


def write_entities(con: duckdb.DuckDBPyConnection, mentions: list[Mention]) -> None:
    """Upsert entities and aliases and insert mentions, in the caller's transaction (keyed, idempotent)."""
    if not mentions:
        return
    mentions = _resolve_across_articles(con, mentions)
    entities: dict[str, tuple[str, str, str, str | None]] = {}
    aliases: dict[tuple[str, str], tuple[str, str, str]] = {}
    table_aliases = _table_aliases()
    for m in mentions:
        known = entities.get(m.entity_id)
        if known is None or (known[3] is None and m.country_code):
            entities[m.entity_id] = (m.entity_id, m.name, m.label, m.country_code)
        for alias in (normalise(m.name), normalise(m.surface), *table_aliases.get((m.name.casefold(), m.label), ())):
            aliases.setdefault((alias, m.label), (alias, m.label, m.entity_id))
    insert_rows(
        con,
        "entities",
        ("entity_id", "name", "label", "country_code"),
        list(entities.values()),
        on_conflict="ON CONFLICT (entity_id) DO UPDATE SET country_code = coalesce(entities.country_code, excluded.country_code)",
    )
    # First writer wins: an alias keeps the entity it was first seen for, so ids never move.
    insert_rows(
        con,
        "entity_aliases",
        ("alias", "label", "entity_id"),
        list(aliases.values()),
        on_conflict="ON CONFLICT (alias, label) DO NOTHING",
    )
    _upgrade_short_forms(con, mentions)
    rows = {(m.article_id, m.start_char): (m.article_id, m.entity_id, m.surface, m.start_char, m.end_char) for m in mentions}
    insert_rows(
        con,
        "mentions",
        ("article_id", "entity_id", "surface", "start_char", "end_char"),
        list(rows.values()),
        on_conflict="ON CONFLICT (article_id, start_char) DO NOTHING",
    )


def views_sql() -> str:
    """The text of storage/views.sql."""
    return resources.files("newsflow.storage").joinpath("views.sql").read_text(encoding="utf-8")


def create_views(con: duckdb.DuckDBPyConnection) -> None:
    """Create or replace the entity views (run after schema.sql)."""
    con.execute(views_sql())
