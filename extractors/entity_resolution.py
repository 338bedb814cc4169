"""Entity resolution across articles: a short form an article never spelled out ("Putin" alone, "WHO" alone)
joins the full name it was resolved to in another article of the batch or before (the store's aliases), and
the batch's canonical entities with the aliases that find them. Pure: the store is read before (storage.entity_store).
"""
from __future__ import annotations

from dataclasses import replace
from functools import lru_cache

from newsflow.extractors.entity_names import abbreviates, entity_id, load_aliases, normalise, person_key
from newsflow.extractors.records import Entity, EntityMerge, Mention

Key = tuple[str, str]  # (normalised alias, label)
Target = tuple[str, str]  # (entity_id, canonical name)


@lru_cache(maxsize=1)
def _table_aliases() -> dict[Key, list[str]]:
    """(canonical name casefolded, label) -> aliases from the alias table, for entities as they appear."""
    by_entity: dict[Key, list[str]] = {}
    for alias, (canonical, label) in load_aliases().items():
        by_entity.setdefault((canonical.casefold(), label), []).append(alias)
    return by_entity


def _spelled_out(mentions: list[Mention]) -> dict[Key, Target]:
    """Short forms the batch's own articles resolved: a mention whose surface abbreviates its name."""
    known: dict[Key, Target] = {}
    for m in mentions:
        if abbreviates(m.surface, m.name, m.label):
            known.setdefault((normalise(m.surface), m.label), (m.entity_id, m.name))
    return known


def spelling_key(name: str) -> str:
    """The alias under which a person's entity is found whatever the transliteration: "~" + person_key (no written
    name starts with "~", so it never meets one)."""
    return "~" + person_key(name)


def _spelt(m: Mention) -> bool:
    """A person written in full (two words or more): other spellings of the name find its entity."""
    return m.label == "PERSON" and " " in m.name.strip()


def lookup_keys(mentions: list[Mention]) -> list[Key]:
    """The names to look up among the stored aliases: those the batch itself does not resolve, and the spelling
    keys of people's full names."""
    keys = {(normalise(m.name), m.label) for m in mentions} - set(_spelled_out(mentions))
    return sorted(keys | {(spelling_key(m.name), "PERSON") for m in mentions if _spelt(m)})


def _spellings(mentions: list[Mention], stored: dict[Key, Target]) -> dict[str, Target]:
    """Spelling key -> the entity it finds: a stored one first (ids never move), then the batch's, English first."""
    found = {key: target for (key, label), target in stored.items() if label == "PERSON" and key.startswith("~")}
    ordered = sorted((m for m in mentions if _spelt(m)), key=lambda m: m.language not in (None, "en"))
    for m in ordered:
        found.setdefault(spelling_key(m.name), (m.entity_id, m.name))
    return found


def resolve_entities(
    mentions: list[Mention], stored: dict[Key, Target]
) -> tuple[list[Mention], list[Entity], list[EntityMerge]]:
    """The mentions pointed at full names where a short form was resolved before (in the batch, else in `stored`:
    the stored aliases of lookup_keys(mentions)), their canonical entities, and the short-form entities that
    earlier articles left alone and now fold into a full name."""
    known = _spelled_out(mentions)
    for key, target in stored.items():
        known.setdefault(key, target)
    spellings = _spellings(mentions, stored)
    resolved = []
    for m in mentions:
        target = known.get((normalise(m.name), m.label))
        if target and target[0] != m.entity_id and abbreviates(m.name, target[1], m.label):
            m = replace(m, entity_id=target[0], name=target[1])
        elif _spelt(m):
            # "Wladimir Putin" written in German joins the "Vladimir Putin" an English article named.
            target = spellings.get(spelling_key(m.name))
            if target and target[0] != m.entity_id:
                m = replace(m, entity_id=target[0], name=target[1])
        resolved.append(m)
    return resolved, _entities(resolved), _merges(resolved)


def _entities(mentions: list[Mention]) -> list[Entity]:
    """One entity per id (the first mention with a country code names it, else the first); each alias goes to the
    first entity it names, with the language it was written in (None when unknown)."""
    entities: dict[str, Entity] = {}
    taken: set[Key] = set()
    table_aliases = _table_aliases()
    for m in mentions:
        known = entities.get(m.entity_id)
        if known is None or (known.country_code is None and m.country_code):
            entities[m.entity_id] = Entity(m.entity_id, m.name, m.label, m.country_code, known.aliases if known else [])
        # The surface is in the article's language, and so is a name the model took from the article; the
        # dictionary's canonical names and the alias table are English.
        surface = normalise(m.surface)
        name = normalise(m.name)
        found = [(name, m.language if name == surface or m.found_by == "model" else "en"), (surface, m.language)]
        found += [(alias, "en") for alias in table_aliases.get((m.name.casefold(), m.label), ())]
        if _spelt(m):
            found.append((spelling_key(m.name), None))
        for alias, language in found:
            if (alias, m.label) not in taken:
                taken.add((alias, m.label))
                entities[m.entity_id].aliases.append((alias, language))
    return list(entities.values())


def _merges(mentions: list[Mention]) -> list[EntityMerge]:
    """Short forms resolved to a full name in this batch whose own entity ("Putin") may hold earlier mentions."""
    merges: dict[Key, EntityMerge] = {}
    for m in mentions:
        if abbreviates(m.surface, m.name, m.label):
            old = entity_id(m.label, m.surface)
            if old != m.entity_id:
                merges.setdefault((normalise(m.surface), m.label), EntityMerge(normalise(m.surface), m.label, old, m.entity_id))
    return list(merges.values())
