"""Entities in DuckDB: upsert canonical entities and their aliases, insert mentions, create the views."""
from __future__ import annotations

from importlib import resources

import duckdb

from extractors.entity_names import load_aliases, normalise
from extractors.records import Mention
from storage.bulk import insert_rows


def _table_aliases() -> dict[tuple[str, str], list[str]]:
    """(canonical name casefolded, label) -> aliases from the alias table, for entities as they appear."""
    by_entity: dict[tuple[str, str], list[str]] = {}
    for alias, (canonical, label) in load_aliases().items():
        by_entity.setdefault((canonical.casefold(), label), []).append(alias)
    return by_entity


def write_entities(con: duckdb.DuckDBPyConnection, mentions: list[Mention]) -> None:
    """Upsert entities and aliases and insert mentions, in the caller's transaction (keyed, idempotent)."""
    if not mentions:
        return
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
    return resources.files("storage").joinpath("views.sql").read_text(encoding="utf-8")


def create_views(con: duckdb.DuckDBPyConnection) -> None:
    """Create or replace the entity views (run after schema.sql)."""
    con.execute(views_sql())
