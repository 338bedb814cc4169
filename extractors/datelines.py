"""Photo captions and datelines in any lexicon language: what a caption looks like, and the date, time and author a
dateline/byline such as "SELASA, 21 MARET 2023 | 06:55 WIB | LAPORAN: RENI ERINA" carries."""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from functools import lru_cache

from newsflow.extractors.lines import LEXICON_DIR, Lexicon, normalise, read_lexicon_file

# "... Vladimir Putin/Net", "... /Antara Foto": the part after the last slash, at the end of the line.
_SLASH_TAIL = re.compile(r"\S/\s*([^/]{1,40}?)\s*[.)\]]?\s*$")
# "(Foto: APA/AFP)", "[Photo: Reuters]", "(AP Photo/Evan Vucci)", "Foto: Net" at the end of a line.
_BRACKET_CREDIT = re.compile(r"(?:[(\[]([^()\[\]]{1,60})[)\]]|\b(\w+)\s*:\s*[^:]{1,40})\s*$")
_CREDIT_WORDS_EXTRA = frozenset({"foto", "fotos", "photo", "photos", "bild", "image", "imagen", "gambar", "credit", "crédit",
                                 "crédito", "kredit", "quelle", "sumber", "source", "fuente"})
_PHOTO_WORDS = frozenset({"foto", "fotos", "photo", "photos", "bild", "gambar", "imagen", "image", "fotografía", "fotografia"})
_TIME = re.compile(r"\b(\d{1,2})[:.h](\d{2})\b")
_YEAR = re.compile(r"\b((?:19|20)\d{2})\b")
_NUMERIC_DATE = re.compile(r"\b(\d{1,2})[./-](\d{1,2})[./-]((?:19|20)\d{2})\b")
_ISO_DATE = re.compile(r"\b((?:19|20)\d{2})-(\d{2})-(\d{2})\b")
# Time zones newsflow's sites print after a time, as offsets from UTC in hours.
_ZONES = {"wib": 7, "wita": 8, "wit": 9, "utc": 0, "gmt": 0, "mez": 1, "cet": 1, "mesz": 2, "cest": 2, "bst": 1,
          "est": -5, "edt": -4, "cst": -6, "cdt": -5, "pst": -8, "pdt": -7, "hora": None}
# What stands before an author's name in a dateline, in the lexicon languages.
_AUTHOR = re.compile(
    r"(?:^|[|•·]\s*|\s)(?:laporan|penulis|reporter|wartawan|editor|oleh|von|by|par|por|autor|autora|auteur|text|texto|"
    r"redacción|redaktion)\s*:?\s+([^|•·\d][^|•·]{1,60}?)\s*(?=$|[|•·,])",
    re.IGNORECASE,
)


@lru_cache(maxsize=1)
def _credit_words() -> frozenset[str]:
    """First words of the [credit] phrases of every lexicon ("foto", "bild", "photo") and common others."""
    words = set(_CREDIT_WORDS_EXTRA)
    for path in LEXICON_DIR.glob("*.txt"):
        words.update(normalise(p).split()[0] for p in read_lexicon_file(path).get("credit", []) if p.strip())
    return frozenset(words)


# Second names of a month inside the lexicons' ordered lists (Austrian "Jänner", South American "setiembre").
_MONTH_VARIANTS = {"jänner": 1, "setiembre": 9}


@lru_cache(maxsize=1)
def _months() -> dict[str, int]:
    """Month names and abbreviations of every lexicon language -> month number (the first twelve are in order)."""
    months: dict[str, int] = dict(_MONTH_VARIANTS)
    for path in sorted(LEXICON_DIR.glob("*.txt")):
        names = [n for n in (normalise(p) for p in read_lexicon_file(path).get("months", [])) if n not in _MONTH_VARIANTS]
        full = names[:12]
        for number, name in enumerate(full, start=1):
            months.setdefault(name, number)
        for short in names[12:]:
            matches = {n for n, name in enumerate(full, start=1) if name.startswith(short[:2]) and name[:1] == short[:1]}
            exact = {n for n, name in enumerate(full, start=1) if name.startswith(short)}
            pick = exact or matches
            if len(pick) == 1:
                months.setdefault(short, pick.pop())
    return months


def is_photo_caption(line: str, lexicon: Lexicon) -> bool:
    """A caption: a line ending in a photo credit, "/Net", "/Reuters", "(Foto: APA/AFP)", "Foto: Istimewa"."""
    text = line.strip()
    agencies = lexicon.words.get("agencies", frozenset())
    bracket = _BRACKET_CREDIT.search(text)
    if bracket and bracket.start() > 0:
        inside = re.split(r"[\s:/]+", normalise(bracket.group(1) or bracket.group(2) or ""))
        if bracket.group(2):  # "... Foto: Istimewa": a photo word, not "Source: www.example.com"
            return inside[0] in _PHOTO_WORDS
        if inside[0] in _credit_words() or (len(inside) <= 8 and _credit_words() & set(inside)):
            return True
    slash = _SLASH_TAIL.search(text)
    if slash and not text[:1].isdigit():
        tail = [w for w in re.split(r"[\s/]+", normalise(slash.group(1))) if w]
        return bool(tail) and all(w in agencies or w in _credit_words() for w in tail)
    return False


def parse_dateline(line: str, default_zone: timezone = timezone.utc) -> tuple[datetime | None, str | None]:
    """(publication time in UTC, author) a dateline or byline gives, each None when it has none that parses."""
    return _date(line, default_zone), _author(line)


def _date(line: str, default_zone: timezone) -> datetime | None:
    """The date (and time, in its printed zone) of a dateline, as UTC."""
    norm = normalise(line)
    day = month = year = None
    iso = _ISO_DATE.search(norm)
    numeric = _NUMERIC_DATE.search(norm)
    if iso:
        year, month, day = int(iso.group(1)), int(iso.group(2)), int(iso.group(3))
    elif numeric:
        day, month, year = int(numeric.group(1)), int(numeric.group(2)), int(numeric.group(3))
    else:
        tokens = re.findall(r"\w+", norm)
        months = _months()
        for i, token in enumerate(tokens):
            if token not in months:
                continue
            before = tokens[i - 1] if i > 0 else ""
            after = tokens[i + 1] if i + 1 < len(tokens) else ""
            year_match = _YEAR.search(" ".join(tokens[i + 1:i + 4]))
            if not year_match:
                continue
            if before == "de" and i > 1:
                before = tokens[i - 2]  # "4 de mayo de 2022"
            if before.isdigit() and 1 <= int(before) <= 31:
                day = int(before)  # "21 maret 2023", "20. märz 2023"
            elif after.isdigit() and 1 <= int(after) <= 31 and after != year_match.group(1):
                day = int(after)  # "march 21, 2023"
            else:
                continue
            month, year = months[token], int(year_match.group(1))
            break
    if day is None:
        return None
    hour = minute = 0
    time = _TIME.search(norm[norm.find(str(year)) + 4:] if str(year) in norm else norm)
    if time and int(time.group(1)) < 24 and int(time.group(2)) < 60:
        hour, minute = int(time.group(1)), int(time.group(2))
    zone = default_zone
    for word in re.findall(r"[a-z]+", norm[time.end():] if time else ""):
        if word in _ZONES and _ZONES[word] is not None:
            zone = timezone(timedelta(hours=_ZONES[word]))
            break
    try:
        return datetime(year, month, day, hour, minute, tzinfo=zone).astimezone(timezone.utc)
    except ValueError:
        return None


def _author(line: str) -> str | None:
    """The name after "Laporan:", "Von", "By" ...; capitalised when printed in capitals."""
    match = _AUTHOR.search(line.strip())
    if not match:
        return None
    name = match.group(1).strip(" ,;:-–—")
    if not name or len(name.split()) > 6 or not name[:1].isupper():
        return None
    return name.title() if name.isupper() else name
