"""resolve_entities: short forms joined to full names across articles, entities and aliases, without a database."""
from __future__ import annotations

from newsflow.extractors.entities import resolve_mentions
from newsflow.extractors.entity_names import entity_id
from newsflow.extractors.entity_resolution import lookup_keys, resolve_entities
from newsflow.extractors.records import EntityMerge

PUTIN = entity_id("PERSON", "Vladimir Putin")


def person_mentions(article_id: str, text: str, *names: str):
    """resolve_mentions over PERSON spans at the first occurrences of names (in order)."""
    spans, cursor = [], 0
    for name in names:
        start = text.index(name, cursor)
        spans.append((start, start + len(name), "PERSON"))
        cursor = start + len(name)
    return resolve_mentions(article_id, text, spans)


def test_a_short_form_alone_joins_the_full_name_the_store_resolved_it_to():
    alone = person_mentions("x3", "Putin returned.", "Putin")
    assert lookup_keys(alone) == [("putin", "PERSON")]
    mentions, entities, merges = resolve_entities(alone, {("putin", "PERSON"): (PUTIN, "Vladimir Putin")})
    assert [(m.entity_id, m.name, m.surface) for m in mentions] == [(PUTIN, "Vladimir Putin", "Putin")]
    assert [(e.entity_id, e.name, e.aliases) for e in entities] == [(PUTIN, "Vladimir Putin", [("vladimir putin", None), ("putin", None), ("~vladimir putin", None)])]
    assert merges == [EntityMerge("putin", "PERSON", entity_id("PERSON", "Putin"), PUTIN)]  # a "Putin" entity, if any
    # Nothing stored: the short form stands as its own entity.
    mentions, entities, _ = resolve_entities(alone, {})
    assert [(m.name, e.name) for m, e in zip(mentions, entities)] == [("Putin", "Putin")]


def test_a_short_form_spelled_out_in_another_article_of_the_batch_needs_no_lookup():
    batch = person_mentions("y1", "Putin arrived.", "Putin") + person_mentions(
        "y2", "Vladimir Putin and Putin.", "Vladimir Putin", "Putin"
    )
    # "putin" is resolved by y2; the full name is looked up, and its spelling key (other transliterations).
    assert lookup_keys(batch) == [("vladimir putin", "PERSON"), ("~vladimir putin", "PERSON")]
    mentions, entities, merges = resolve_entities(batch, {})
    assert {m.entity_id for m in mentions} == {PUTIN} and [e.name for e in entities] == ["Vladimir Putin"]
    # Earlier articles may hold "Putin" as its own entity: the write moves its alias and mentions over.
    assert merges == [EntityMerge("putin", "PERSON", entity_id("PERSON", "Putin"), PUTIN)]


def test_an_entity_claims_its_names_surfaces_and_the_alias_table_s_aliases_each_once():
    text = "The U.S. said so. The United States did."
    us, full = text.index("U.S."), text.index("United States")
    mentions = resolve_mentions("g1", text, [(us, us + 4, "GPE"), (full, full + 13, "GPE")])
    _, entities, _ = resolve_entities(mentions, {})
    [united_states] = entities
    assert (united_states.name, united_states.country_code) == ("United States", "US")
    aliases = [alias for alias, _ in united_states.aliases]
    assert {"united states", "u.s.", "usa", "america"} <= set(aliases)
    assert len(aliases) == len(set(aliases))
    # The alias table is English; the article's language is unknown here.
    assert dict(united_states.aliases)["usa"] == "en" and dict(united_states.aliases)["u.s."] is None


def test_another_transliteration_of_a_person_joins_the_entity_found_first():
    german = person_mentions("de1", "Der Journalist Dmitri Muratow sprach.", "Dmitri Muratow")
    english = person_mentions("en1", "The journalist Dmitry Muratov spoke.", "Dmitry Muratov")
    for m in german:
        m.language, m.found_by = "de", "dictionary"
    for m in english:
        m.language = "en"
    # In one batch the English spelling names the entity.
    mentions, entities, _ = resolve_entities(german + english, {})
    assert {(m.surface, m.name) for m in mentions} == {("Dmitri Muratow", "Dmitry Muratov"), ("Dmitry Muratov", "Dmitry Muratov")}
    [muratov] = entities
    assert ("~dmitri muratov", None) in muratov.aliases and ("dmitri muratow", "de") in muratov.aliases
    # Stored before: the spelling key finds it.
    stored = {("~dmitri muratov", "PERSON"): (muratov.entity_id, "Dmitry Muratov")}
    assert ("~dmitri muratov", "PERSON") in lookup_keys(german)
    mentions, _, _ = resolve_entities(german, stored)
    assert [(m.entity_id, m.name) for m in mentions] == [(muratov.entity_id, "Dmitry Muratov")]
    # A different person is not a spelling of another.
    other = person_mentions("de2", "Dmitri Medwedew sprach.", "Dmitri Medwedew")
    assert resolve_entities(other, stored)[0][0].name == "Dmitri Medwedew"
