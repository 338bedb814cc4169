"""The dictionary pass: known names in other languages as whole tokens, under their English canonical entities."""
from __future__ import annotations

import pytest

from newsflow.extractors.entities import dictionary_mentions
from newsflow.extractors.entity_dictionary import dictionary_spans, lookup
from newsflow.extractors.entity_names import entity_id, person_key

# rmol.id style: the body as cleaning keeps it (caption, labels and dateline gone).
INDONESIAN = (
    "Presiden Tiongkok Xi Jinping tiba di Moskow pada Senin (20/3) untuk kunjungan kenegaraan selama tiga hari. "
    "Kunjungan itu disambut Presiden Rusia Vladimir Putin di Kremlin, seperti dilaporkan kantor berita TASS.\n\n"
    "Putin mengatakan hubungan Rusia dan Tiongkok berada pada tingkat tertinggi. Xi juga membahas konflik di Ukraina. "
    "Gubernur Jawa Tengah Ganjar Pranowo tidak hadir pada Selasa pukul 09.00 WIB."
)
# noen.at style.
GERMAN = (
    "Der chinesische Staatschef Xi Jinping ist zu einem Staatsbesuch in Russland eingetroffen. Kremlchef Wladimir "
    "Putin empfing seinen Gast in Moskau. Putins Sprecher Dmitri Peskow sagte, Ministerpräsident Michail Mischustin "
    "treffe Xi am Dienstag. Die Länder der EU und Präsident Wolodymyr Selenskyj sehen den Besuch kritisch. "
    "Wenn das Essen kalt ist, bleibt die Ukraine ein Thema."
)


def names(text: str, language: str) -> list[tuple[str, str, str]]:
    return [(m.surface, m.name, m.label) for m in dictionary_mentions("a", text, language)]


def test_indonesian_names_countries_and_places_resolve_to_their_english_entities():
    mentions = dictionary_mentions("a", INDONESIAN, "id")
    found = {(m.surface, m.name, m.label, m.country_code) for m in mentions}
    assert {
        ("Tiongkok", "China", "GPE", "CN"), ("Xi Jinping", "Xi Jinping", "PERSON", None),
        ("Moskow", "Moscow", "GPE", "RU"), ("Rusia", "Russia", "GPE", "RU"),
        ("Vladimir Putin", "Vladimir Putin", "PERSON", None), ("Putin", "Vladimir Putin", "PERSON", None),
        ("Kremlin", "Kremlin", "ORG", None), ("TASS", "TASS", "ORG", None), ("Ukraina", "Ukraine", "GPE", "UA"),
        ("Jawa Tengah", "Jawa Tengah", "GPE", "ID"), ("Ganjar Pranowo", "Ganjar Pranowo", "PERSON", None),
    } <= found
    assert {m.found_by for m in mentions} == {"dictionary"} and {m.language for m in mentions} == {"id"}
    # The same ids as the English model's entities: one row per real-world entity.
    russia = next(m for m in mentions if m.surface == "Rusia")
    assert russia.entity_id == entity_id("GPE", "Russia")
    # A weekday, a time zone and a common word are never entities.
    surfaces = {m.surface for m in mentions}
    assert not surfaces & {"Selasa", "WIB", "Senin", "Kunjungan", "Gubernur"}


def test_german_transliterations_genitives_and_compounds_meet_the_english_names():
    found = names(GERMAN, "de")
    # "Putins" (genitive) is a mention of Putin, its surface the bare name.
    assert {("Wladimir Putin", "Vladimir Putin", "PERSON"), ("Putin", "Vladimir Putin", "PERSON"), ("Dmitri Peskow", "Dmitry Peskov", "PERSON"),
            ("Michail Mischustin", "Mikhail Mishustin", "PERSON"), ("Wolodymyr Selenskyj", "Volodymyr Zelenskyy", "PERSON"),
            ("Russland", "Russia", "GPE"), ("Moskau", "Moscow", "GPE"), ("EU", "European Union", "ORG"),
            ("Ukraine", "Ukraine", "GPE")} <= set(found)
    # German nouns that are also towns, a conjunction that keys like "Vienna": none is a place.
    assert not {surface for surface, _, _ in found} & {"Länder", "Essen", "Wenn", "Thema", "Staatsbesuch"}


def test_spellings_of_one_name_share_a_person_key():
    assert person_key("Wladimir Putin") == person_key("Vladimir Putin")
    assert person_key("Michail Mischustin") == person_key("Mikhail Mishustin")
    assert person_key("Wolodymyr Selenskyj") == person_key("Volodymyr Zelenskyy") == person_key("Volodímir Zelenski")
    assert person_key("Sergej Lawrow") == person_key("Sergei Lavrov")
    assert person_key("Joe Biden") != person_key("Jill Biden")


@pytest.mark.parametrize("text, language, absent", [
    # A city's name inside a person's or an institution's name.
    ("Acusados fueron Alexei Toledo y Milton Hinojoza, dijo el Día Internacional de la Libertad de Prensa.", "es",
     {"Toledo", "Milton", "Libertad"}),
    # A word the article also writes in lower case is a common word, whatever the gazetteer says.
    ("Sala de prensa. La sala estaba llena.", "es", {"Sala"}),
    # UI words from the lexicons (menu labels, weekdays) never stand as names.
    ("Berita Dunia Selasa: harga naik di pasar, kata pedagang.", "id", {"Berita", "Dunia", "Selasa"}),
])
def test_common_words_and_parts_of_longer_names_are_not_matched(text, language, absent):
    assert not {text[a:b] for a, b, _, _ in dictionary_spans(text, language)} & absent


def test_people_by_title_first_name_and_organisations_by_initials():
    text = ("El presidente Gabriel Boric viajó con el exministro Pedro Pablo Kuczynski. "
            "La agencia EFE informó a las 09.00 GMT; el canal NDR también.")
    found = {(text[a:b], label) for a, b, label, _ in dictionary_spans(text, "es")}
    assert {("Gabriel Boric", "PERSON"), ("Pedro Pablo Kuczynski", "PERSON"), ("EFE", "ORG"), ("NDR", "ORG")} <= found
    assert not {s for s, _ in found} & {"GMT", "El", "La"}
    # Beside a model, only known names: the patterns are the model's job.
    assert {text[a:b] for a, b, _, _ in dictionary_spans(text, "es", known_only=True)} == set()


def test_boilerplate_of_the_samples_never_becomes_an_entity(shared_dir):
    raw = (shared_dir / "samples" / "inbox" / "002_5171715639db08b2.txt").read_text(encoding="utf-8")
    surfaces = {raw[a:b] for a, b, _, _ in dictionary_spans(raw, "id")}
    assert not surfaces & {"Mode Gelap", "Baca Lainnya", "Tinggalkan Balasan", "Perbesar", "Balasan", "Trending", "Menu"}


def test_lookup_names_a_whole_surface_only():
    assert lookup("Vladimir Poutine", "fr") == ("Vladimir Putin", "PERSON")
    assert lookup("États-Unis", "fr") == ("United States", "GPE")
    assert lookup("Poutine a dit", "fr") is None


def test_names_stored_from_earlier_articles_are_found_in_any_spelling():
    from newsflow.extractors.entities import extract_entities
    from newsflow.extractors.records import Article
    from newsflow.extractors.settings import Ner

    text = "Regierungschef Medwedew traf am Montag den Vorstand von Acme Widgets. Dmitri Medwedew lobte Acme Widgets."
    german = Article(document_id="de", title="", text=text, article_id="de", language="de")
    before = {(m.surface, m.name) for m in extract_entities([german], Ner())}
    assert not before & {("Dmitri Medwedew", "Dmitry Medvedev"), ("Acme Widgets", "Acme Widgets")}
    known = (("Dmitry Medvedev", "PERSON"), ("Acme Widgets", "ORG"))
    after = [(m.surface, m.name, m.label) for m in extract_entities([german], Ner(), known)]
    assert after == [("Medwedew", "Dmitry Medvedev", "PERSON"), ("Acme Widgets", "Acme Widgets", "ORG"),
                     ("Dmitri Medwedew", "Dmitry Medvedev", "PERSON"), ("Acme Widgets", "Acme Widgets", "ORG")]
    # The cached dictionary of the language is left as it was.
    assert {(m.surface, m.name) for m in extract_entities([german], Ner())} == before


def test_organisations_and_places_by_their_head_word():
    text = ("La Corte Suprema y la Convención Constituyente se reunieron en Puerto Natales. "
            "El puerto estaba cerrado; la corte no habló.")
    found = {(text[a:b], label) for a, b, label, _ in dictionary_spans(text, "es")}
    assert {("Corte Suprema", "ORG"), ("Convención Constituyente", "ORG"), ("Puerto Natales", "GPE")} <= found
    indonesian = "Kementerian Luar Negeri dan Dewan Perwakilan Rakyat bertemu di Jakarta."
    found = {(indonesian[a:b], label) for a, b, label, _ in dictionary_spans(indonesian, "id")}
    assert {("Kementerian Luar Negeri", "ORG"), ("Dewan Perwakilan Rakyat", "ORG"), ("Jakarta", "GPE")} <= found
    # A head word alone, or before lower-case words, names nothing.
    assert dictionary_spans("Corte de pelo barato.", "es") == []
