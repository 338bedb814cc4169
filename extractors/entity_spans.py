"""Mention spans: trimming what the model's span holds beyond the name (quotes, possessives, titles, rubrics)."""
from __future__ import annotations

import re

from newsflow.extractors.entity_names import load_demonyms, load_titles, normalise
from newsflow.extractors.entity_places import is_major_place, load_gazetteer, place_code

# Quotes, brackets and list punctuation that hug a span but are never part of a name.
_LEAD_JUNK = set("\"“”„‘’'«»([{<*•·-–—,;:!?./\\|")
_TRAIL_JUNK = set("\"“”„‘’'«»)]}>*•·-–—,;:!?/\\|")
# Words whose trailing period belongs to the name ("Acme Corp.").
_ABBREVIATIONS = frozenset(
    "corp. inc. ltd. co. jr. sr. bros. plc. st. mt. ft. no. gen. sen. rep. gov. "
    "ala. ariz. ark. calif. colo. conn. del. fla. ga. ill. ind. kan. ky. la. mass. md. mich. minn. miss. mo. "
    "mont. neb. nev. okla. ore. pa. penn. tenn. tex. va. vt. wash. wis. wyo.".split()
)
# A title may be preceded by these and goes with them ("former President", "Chinese President").
_TITLE_PREFIXES = frozenset({"former", "late", "then", "then-", "acting", "deputy", "outgoing", "incoming", "us", "u.s."})
_POSSESSIVE = re.compile(r"(?:['’]s|(?<=s)['’])$", re.IGNORECASE)
_COMPOUND_DASH = re.compile(r"[-–](?=\S)")
_SPACED_DASH = re.compile(r"\s[-–—]+\s")
_BRACKET = re.compile(r"\s*[()\[\]]\s*")
_TOKEN = re.compile(r"\S+")
# Labels whose names may hold numbers, dashes or brackets ("Apollo 11", "Euro 2024").
_TITLED_LABELS = frozenset({"EVENT", "PRODUCT", "WORK_OF_ART", "LAW", "FAC"})
# Lower-case words that belong inside or at the end of names.
_PARTICLES = frozenset("al el de del della der di da das do dos du van von den ter la le bin ibn abu ben y".split())
_NAME_SUFFIXES = frozenset({"plc", "ltd", "inc", "co", "ag", "sa", "nv", "spa", "gmbh", "bv", "llc", "corp"})


def _strip_edges(text: str, start: int, end: int) -> tuple[int, int]:
    """Shrink a span past whitespace, quotes, brackets, possessives and sentence periods."""
    while True:
        before = (start, end)
        while start < end and (text[start].isspace() or text[start] in _LEAD_JUNK):
            start += 1
        while end > start and (text[end - 1].isspace() or text[end - 1] in _TRAIL_JUNK):
            # A trailing apostrophe after "s" is a possessive, handled below; other quotes go.
            if text[end - 1] in "'’" and end - 2 >= start and text[end - 2] in "sS":
                break
            end -= 1
        match = _POSSESSIVE.search(text[start:end])
        if match and match.start() > 0:
            end = start + match.start()
        if end > start and text[end - 1] == ".":
            last_word = text[start:end].rsplit(None, 1)[-1]
            if "." not in last_word[:-1] and len(last_word) > 3 and last_word.casefold() not in _ABBREVIATIONS:
                end -= 1
        if (start, end) == before:
            return start, end


def _strip_article(text: str, start: int, end: int) -> int:
    """Skip a leading "the" unless it belongs to the name ("The Hague", "The Gambia")."""
    span = text[start:end]
    if span[:4].casefold() == "the " and end - start > 4:
        if normalise(span) in load_gazetteer().countries or normalise(span) in load_gazetteer().cities:
            return start
        return start + 4
    return start


def _strip_titles(text: str, start: int, end: int) -> int:
    """Skip leading titles and roles ("Chinese President", "Mr.") while a name remains after them."""
    titles = load_titles()
    demonyms = load_demonyms()
    while True:
        words = [(m.start() + start, m.end() + start) for m in re.finditer(r"\S+", text[start:end])]
        tokens = [normalise(text[a:b]) for a, b in words]
        skip = 0
        lead = 0  # "former U.S." in "former U.S. President": words that only go with a title
        while lead < min(2, len(tokens)) and (tokens[lead] in _TITLE_PREFIXES or tokens[lead] in demonyms):
            lead += 1
        for offset in range(lead + 1):
            for title in titles:
                n = len(title)
                if tuple(tokens[offset:offset + n]) == title and len(tokens) > offset + n:
                    skip = offset + n
                    break
            if skip:
                break
        if not skip:
            return start
        start = words[skip][0]


def _split_compound(text: str, start: int, end: int, label: str) -> list[tuple[int, int, str]]:
    """Split "U.S.-Russia" or "Russian-Chinese" into their parts when every part is a known place/nationality."""
    span = text[start:end]
    if label not in {"GPE", "LOC", "NORP"} or not _COMPOUND_DASH.search(span) or " " in span:
        return [(start, end, label)]
    if place_code(span) or normalise(span) in load_demonyms():
        return [(start, end, label)]
    parts, cursor = [], start
    for piece in _COMPOUND_DASH.split(span):
        parts.append((cursor, cursor + len(piece)))
        cursor += len(piece) + 1
    typed = []
    for a, b in parts:
        piece = text[a:b]
        if normalise(piece) in load_demonyms():
            typed.append((a, b, "NORP"))
        elif is_major_place(piece):
            typed.append((a, b, "GPE"))
        else:
            return [(start, end, label)]
    return typed


def _split_parts(text: str, start: int, end: int, label: str) -> list[tuple[int, int]]:
    """Pieces of a span the model ran together: "Goalkeepers - Bogdan Stelea", "Simon Parke ( England"."""
    if label in _TITLED_LABELS:
        return [(start, end)]
    # A spaced dash separates a rubric from the name ("CRICKET - WEST INDIES"): keep the last named piece.
    pieces = [(start, end)]
    cuts = [m for m in _SPACED_DASH.finditer(text, start, end)]
    if cuts:
        bounds = [start] + [x for m in cuts for x in (m.start(), m.end())] + [end]
        named = [(a, b) for a, b in zip(bounds[::2], bounds[1::2]) if any(ch.isupper() for ch in text[a:b])]
        pieces = named[-1:] or [(start, end)]
    parts = []
    for a, b in pieces:
        cursor = a
        for m in _BRACKET.finditer(text, a, b):
            parts.append((cursor, m.start()))
            cursor = m.end()
        parts.append((cursor, b))
    return [(a, b) for a, b in parts if b > a]


def _strip_words(text: str, start: int, end: int, label: str) -> tuple[int, int]:
    """Drop lower-case words at either end ("four Britons", "Interfax news agency") and trailing numbers."""
    words = [(m.start(), m.end()) for m in _TOKEN.finditer(text, start, end)]
    while len(words) > 1 and text[words[0][0]:words[0][1]].islower() and text[words[0][0]:words[0][1]] not in _PARTICLES:
        words.pop(0)
    while len(words) > 1:
        last = text[words[-1][0]:words[-1][1]]
        numeric = label not in _TITLED_LABELS and not any(ch.isalpha() for ch in last)
        if not (numeric or (last.islower() and last.rstrip(".") not in _NAME_SUFFIXES)):
            break
        words.pop()
    return (words[0][0], words[-1][1]) if words else (start, start)


def _strip_credit(text: str, start: int, end: int) -> int:
    """ "…a sad day ANDREW HARNIK/AP Donald Trump was…": a photo credit's agency run into the next name."""
    words = [(m.start(), m.end()) for m in _TOKEN.finditer(text, start, end)]
    first = text[words[0][0]:words[0][1]] if words else ""
    if len(words) > 1 and start > 0 and text[start - 1] == "/" and first.isupper() and first.isalpha() and len(first) <= 8:
        return words[1][0]
    return start


def _split_nationality(text: str, start: int, end: int) -> list[tuple[int, int, str]]:
    """ "Croat Alen Boksic" -> the nationality (NORP) and the person, when a full name follows."""
    words = [(m.start(), m.end()) for m in _TOKEN.finditer(text, start, end)]
    if len(words) >= 3 and normalise(text[words[0][0]:words[0][1]]) in load_demonyms():
        return [(words[0][0], words[0][1], "NORP"), (words[1][0], end, "PERSON")]
    return [(start, end, "PERSON")]


def _clean_part(text: str, start: int, end: int, label: str) -> list[tuple[int, int, str]]:
    """Clean one piece of a model span; see clean_span."""
    start, end = _strip_edges(text, start, end)
    start = _strip_credit(text, start, end)
    start = _strip_article(text, start, end)
    start, end = _strip_words(text, start, end, label)
    start, end = _strip_edges(text, start, end)
    pieces = [(start, end, label)]
    if label == "PERSON":
        start = _strip_titles(text, start, end)
        start, end = _strip_edges(text, start, end)
        pieces = _split_nationality(text, start, end)
    cleaned = []
    for a, b, lab in pieces:
        if b > a and any(ch.isupper() for ch in text[a:b]):
            cleaned.extend((x, y, z) for x, y, z in _split_compound(text, a, b, lab) if y > x)
    return cleaned


def clean_span(text: str, start: int, end: int, label: str) -> list[tuple[int, int, str]]:
    """The cleaned span(s) of one model mention; empty when nothing name-like remains.

    Cuts at a line break and at rubric dashes/brackets, strips quotes/punctuation, possessives,
    a leading "the", lower-case edge words, trailing numbers and, for people, leading titles;
    splits place/nationality compounds. A name needs a capital letter.
    """
    start, end = _strip_edges(text, start, end)
    newline = text.find("\n", start, end)
    if newline != -1:
        start, end = _strip_edges(text, start, newline)
    cleaned = []
    for a, b in _split_parts(text, start, end, label):
        cleaned.extend(_clean_part(text, a, b, label))
    return cleaned
