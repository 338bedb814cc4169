"""What an article says happened, and when: the event evidence story linking weighs (extractors/stories.py).

- When: the article's own date (published_at), else the first full date of the lead that is not a plan (not after its
  arrival), else, resolved against its arrival: a dateline ("MOSCOW, Jan 21 -"), a date without a year, a weekday,
  relative day or holiday ("on Tuesday", "yesterday", "on New Year's Eve"), else the arrival day itself. Where it
  came from is kept (day_source).
- What: the event kinds the title and first sentence name (extractors/data/event_kinds.tsv), and its particulars:
  numbers that single out one occasion (a score, an amount, a vote count, a duration in minutes), not years or
  small counts.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from pathlib import Path

_MONTHS = {m: i for i, names in enumerate(
    [("jan", "january"), ("feb", "february"), ("mar", "march"), ("apr", "april"), ("may",), ("jun", "june"),
     ("jul", "july"), ("aug", "august"), ("sep", "sept", "september"), ("oct", "october"), ("nov", "november"),
     ("dec", "december")], start=1) for m in names}
_MONTH = r"(Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|Sept?(?:ember)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\.?"
# "MOSCOW, Jan 21 -", "WOODSIDE, California, Nov 15 -", "MOSCOW/BEIJING, Jan 21 (Reuters)", "MOSCOW (May 8) -"
_DATELINE = re.compile(r"^\s*[A-Z][A-Z'./ -]{1,40}(?:,\s*[A-Z][\w.' -]{1,30})?\s*[,(]\s*" + _MONTH + r"\s+(\d{1,2})\b")
_MONTH_DAY = re.compile(r"\b" + _MONTH + r"\s+(\d{1,2})(?:st|nd|rd|th)?\b(?:,?\s+(\d{4}))?")
_DAY_MONTH = re.compile(r"\b(\d{1,2})(?:st|nd|rd|th)?\s+" + _MONTH + r"(?:,?\s+(\d{4}))?\b")
_ISO = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")
_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_WEEKDAY = re.compile(r"\b(?:on|last|this)\s+(" + "|".join(_WEEKDAYS) + r")\b", re.IGNORECASE)
_RELATIVE = {"yesterday": -1, "last night": -1, "today": 0, "tonight": 0, "this morning": 0, "earlier today": 0}
_RELATIVE_RE = re.compile(r"\b(" + "|".join(_RELATIVE) + r")\b", re.IGNORECASE)
_HOLIDAYS = {"new year's eve": (12, 31), "new year’s eve": (12, 31), "new year's day": (1, 1), "new year’s day": (1, 1),
             "christmas eve": (12, 24), "christmas day": (12, 25)}
_HOLIDAY_RE = re.compile(r"\b(" + "|".join(re.escape(h) for h in _HOLIDAYS) + r")", re.IGNORECASE)

_NUMBER_WORDS = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
                 "eight": 8, "nine": 9, "ten": 10, "twelve": 12, "half an": 0.5}
_COUNT = r"(\d+(?:\.\d+)?|a|an|one|two|three|four|five|six|seven|eight|nine|ten|twelve)"
_DURATION = re.compile(r"\b" + _COUNT + r"\s+hours?(?:\s+and\s+(\d+)\s+minutes?)?|\b(\d+)\s+minutes?\b", re.IGNORECASE)
_NUMBER = re.compile(r"(?<![\w.,])(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d+))?(?![\w])")
KIND_CHARS = 200  # of the lead: what happened is said first; later sentences bring background and other occasions


# Days read from the article itself. The others lean on its arrival, which says when the event was only while articles
# arrive as they are published (feeds, drops), not when a backlog is imported: they may support a link, never veto one.
FIRM_SOURCES = frozenset({"published", "text_date"})


@dataclass(frozen=True, slots=True)
class EventFacts:
    """When an article's event happened (and how that was found), its kinds and its particulars."""

    day: date | None
    day_source: str  # published, text_date (FIRM_SOURCES); dateline, month_day, weekday, relative, holiday, arrival; none
    kinds: frozenset[str]
    particulars: frozenset[str]


def event_facts(title: str, text: str, published_at: datetime | None, seen_at: datetime | None,
                lead_words: int = 100) -> EventFacts:
    """The event evidence of one article (title and the first lead_words words of its body)."""
    lead = " ".join(text.split()[:lead_words])
    day, source = event_day(lead, published_at, seen_at)
    return EventFacts(day, source, event_kinds(title, lead), particulars(f"{title}\n{lead}"))


def event_day(lead: str, published_at: datetime | None, seen_at: datetime | None) -> tuple[date | None, str]:
    """The event's day and where it came from (see the module docstring)."""
    if published_at is not None:
        return published_at.date(), "published"
    ref = seen_at.date() if seen_at is not None else None
    head = lead[:600]  # the first sentences: dates further down are background
    if (m := _DATELINE.match(lead)) is not None:
        first = (m[1], int(m[2]), None, "dateline")
    else:  # the first date written out, unless it lies ahead of the arrival (a plan: "on sale on Sept 20")
        first = next((d for d in _written_dates(head) if ref is None or _not_ahead(_resolve(d, ref), ref)), None)
    if first is not None:
        # Without a year, the arrival supplies it: good only while articles arrive as they are published.
        found = _resolve(first, ref)
        return (found, "text_date" if first[2] is not None else first[3]) if found is not None else (None, "none")
    if ref is None:
        return None, "none"
    if (m := _WEEKDAY.search(head)) is not None:
        back = (ref.weekday() - _WEEKDAYS.index(m[1].lower())) % 7
        return ref - timedelta(days=back), "weekday"
    if (m := _RELATIVE_RE.search(head)) is not None:
        return ref + timedelta(days=_RELATIVE[m[1].lower()]), "relative"
    if (m := _HOLIDAY_RE.search(head)) is not None:
        month, day = _HOLIDAYS[m[1].lower()]
        found = date(ref.year, month, day)
        return (found if found <= ref + timedelta(days=1) else date(ref.year - 1, month, day)), "holiday"
    return ref, "arrival"


def _written_dates(text: str) -> list[tuple[str | int, int, int | None, str]]:
    """(month, day, year or None, "month_day") for each date written out, in order of appearance."""
    found = [(m.start(), m[1], int(m[2]), int(m[3]) if m[3] else None) for m in _MONTH_DAY.finditer(text)]
    found += [(m.start(), m[2], int(m[1]), int(m[3]) if m[3] else None) for m in _DAY_MONTH.finditer(text)]
    found += [(m.start(), int(m[2]), int(m[3]), int(m[1])) for m in _ISO.finditer(text)]
    return [(month, day, year, "month_day") for _, month, day, year in sorted(found, key=lambda f: f[0])]


def _not_ahead(found: date | None, ref: date) -> bool:
    """A resolved date no later than the day after the arrival."""
    return found is not None and found <= ref + timedelta(days=1)


def _resolve(written: tuple[str | int, int, int | None, str], ref: date | None) -> date | None:
    """A written date as a date: with its year, else the year that puts it nearest before ref."""
    month, day, year, _ = written
    if isinstance(month, int):
        return _safe_date(year, month, day)
    return _month_day(month, day, year, ref)


def _month_day(month: str, day: int, year: int | None, ref: date | None) -> date | None:
    """A month name and day as a date: its year given, else the year that puts it nearest before ref (+1 day)."""
    number = _MONTHS.get(month.lower().rstrip("."))
    if number is None:
        return None
    if year is not None:
        return _safe_date(year, number, day)
    if ref is None:
        return None
    candidate = _safe_date(ref.year, number, day)
    if candidate is not None and candidate > ref + timedelta(days=1):
        if candidate - ref < timedelta(days=183):
            return None  # a date ahead in the same season is a plan ("on sale on Sept 20")
        candidate = _safe_date(ref.year - 1, number, day)  # "Dec 31" read on Jan 2
    return candidate


def _safe_date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


@lru_cache(maxsize=1)
def kind_pattern() -> re.Pattern[str]:
    """One pattern for extractors/data/event_kinds.tsv: a named group per kind."""
    path = Path(__file__).with_name("data") / "event_kinds.tsv"
    groups = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        kind, phrases = line.split("\t")
        alternatives = [re.escape(p.strip()).replace(r"\ ", r"\s+").replace(r"\*", r"[\w-]*") for p in phrases.split(",")]
        groups.append(f"(?P<{kind}>" + "|".join(alternatives) + ")")
    return re.compile(r"\b(?:" + "|".join(groups) + r")\b", re.IGNORECASE)


def event_kinds(title: str, lead: str) -> frozenset[str]:
    """The kinds of event the title and the lead's first sentence or two name."""
    return frozenset(m.lastgroup for m in kind_pattern().finditer(f"{title}\n{lead[:KIND_CHARS]}"))


def particulars(text: str) -> frozenset[str]:
    """Numbers that single out an occasion: durations (in minutes), decimals, and whole numbers from 13 up that are
    not years (a vote count, an amount, a score); dates' day numbers are left out."""
    found: set[str] = set()
    spans = []
    for m in _DURATION.finditer(text):
        if m[3] is not None:
            minutes = float(m[3])
        else:
            count = _NUMBER_WORDS.get(m[1].lower())
            minutes = (count if count is not None else float(m[1])) * 60 + (int(m[2]) if m[2] else 0)
        found.add(f"{minutes:g}min")
        spans.append(m.span())
    dates = [m.span() for pattern in (_MONTH_DAY, _DAY_MONTH, _ISO) for m in pattern.finditer(text)]
    for m in _NUMBER.finditer(text):
        if any(a <= m.start() < b for a, b in spans + dates):
            continue
        whole, decimals = int(m[1].replace(",", "")), m[2]
        if decimals is not None:
            found.add(f"{whole}.{decimals.rstrip('0') or '0'}")
        elif whole >= 13 and not 1900 <= whole <= 2100:
            found.add(str(whole))
    return frozenset(found)
