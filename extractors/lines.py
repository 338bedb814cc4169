"""Line-level signals for the boilerplate cleaner: the UI-phrase lexicons and single-line classifiers.

Nothing here looks at a line's neighbours; extractors/layout.py combines these signals with
the line's position in the document.
"""
from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

LEXICON_DIR = Path(__file__).resolve().parent / "lexicons"

# Sections of a lexicon file, the reason a match yields, and how a phrase matches a line:
# "whole" = the whole normalised line; "prefix" = the line starts with the phrase (a short
# phrase must be followed by a separator such as ":" or nothing); phrases of 4+ words in a
# non-"whole" section also match anywhere inside a line.
SECTIONS: dict[str, tuple[str, str]] = {
    "menu": ("clean_menu", "whole"),
    "ui": ("clean_ui_phrase", "whole"),
    "comment": ("clean_comment_box", "prefix"),
    "related": ("clean_related", "prefix"),
    "end": ("clean_after_end_marker", "prefix"),
    "cta": ("clean_call_to_action", "prefix"),
    "copyright": ("clean_copyright", "prefix"),
    "attribution": ("clean_attribution", "prefix"),
    "credit": ("clean_photo_credit", "prefix"),
    "caption": ("clean_repeated_title", "whole"),
}
WORD_SECTIONS = ("months", "weekdays", "datewords", "posted", "agencies")

_QUOTES = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"', "\u00a0": " ", "\u2013": "-", "\u2014": "-"})
_LEAD = re.compile(r"^[\s\-–—•·*>»›|#▶►◆■□✓✔→]+")
_TRAIL = re.compile(r"[\s:;,.!?…|»›>\-–—→()\[\]\d]*$")
_COUNT = re.compile(r"\s*[(\[]\s*\d+\s*[)\]]\s*$")
# Scripts written without spaces (CJK, kana, Thai, Lao, Khmer, Myanmar): two characters count as a word.
_NOSPACE = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u0e00-\u0e7f\u0e80-\u0eff\u1780-\u17ff\u1000-\u109f"
_DENSE = re.compile(f"[{_NOSPACE}]")
_WORD = re.compile(rf"[{_NOSPACE}]{{1,2}}|[^\W{_NOSPACE}]+(?:[-'’.][^\W{_NOSPACE}]+)*", re.UNICODE)
_RUN = re.compile(r"\w+")
_SENTENCE_END = re.compile(r"[.!?…。！？:;][\"'”’»)\]]*$")
_ICON = re.compile(r"^(?:(?:fa|fas|far|fab|bi|mdi|icon|ion|glyphicon|dashicons)[-_ ])?[a-z][a-z0-9]*(?:[-_][a-z0-9]+)+$")
_SHORTCODE = re.compile(r"\[/[a-z_]+\]|\[[a-z_]+\s+[a-z_]+\s*=\s*[\"”'].*?\]", re.IGNORECASE)
_URL = re.compile(r"^(?:<?(?:https?://|www\.)\S+>?)$", re.IGNORECASE)
_ISO = re.compile(r"\b\d{4}-\d{2}-\d{2}(?:[ T]\d{1,2}:\d{2}(?::\d{2})?(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2})?)?\b", re.IGNORECASE)
_NUMERIC = re.compile(r"^[\d:/.\-+,]+$")
# A year, a d/m/y or y-m-d date, or a clock time; not a phone number or a score.
_DATE_OR_TIME = re.compile(r"^(?:(?:19|20)\d{2}|\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}|\d{1,2}[-/.]\d{1,2}|\d{1,2}[:.h]\d{2}(?::\d{2})?)$")
_RANGE = re.compile(r"\d\s*(?:[ap]\.?m\.?)?\s*(?:[-–—/|]|\bto\b|\bbis\b|\bau\b|\bal\b|\bs/d\b)\s*\d", re.IGNORECASE)
_NUMERIC_DATE = re.compile(r"^\d{1,4}[-/.]\d{1,2}(?:[-/.]\d{1,4})?$")
_CLOCK = re.compile(r"^\d{1,2}[:.h]\d{2}(?::\d{2})?$")
_AMPM = re.compile(r"^(?:[ap]\.?m\.?|\d{1,2}(?::\d{2})?[ap]\.?m\.?)$")


@dataclass(frozen=True, slots=True)
class Lexicon:
    """Compiled phrase patterns per section, plus the word sets the timestamp detector uses."""

    patterns: dict[str, re.Pattern[str]]
    contained: dict[str, re.Pattern[str] | None]
    words: dict[str, frozenset[str]]
    # Cheap necessary conditions, tested before the regexes (most lines match no phrase): a line can only
    # match a section when it starts with one of its phrases' first words (or a digit, for "{n} ..."), and
    # can only contain one of its 4+ word phrases when one of its word runs (\w+) is such a phrase's longest
    # run. None: no shortcut.
    starts: dict[str, tuple[tuple[str, ...], bool] | None]
    inner_runs: dict[str, frozenset[str] | None]


@lru_cache(maxsize=4096)  # a line is normalised by several classifiers in turn
def normalise(line: str) -> str:
    """Casefolded line with unified quotes and dashes, collapsed spaces, no decorative ends."""
    text = unicodedata.normalize("NFKC", line).translate(_QUOTES).casefold()
    text = " ".join(text.split())
    text = _LEAD.sub("", text)
    text = _COUNT.sub("", text)
    return text.strip()


def line_hash(line: str) -> str:
    """Stable key of a line for site-chrome learning (normalised, so spacing and case don't matter)."""
    return hashlib.sha1(strip_tail(normalise(line)).encode("utf-8")).hexdigest()[:16]


def strip_tail(text: str) -> str:
    """Drop trailing punctuation, counts and arrows from an already normalised line."""
    return _TRAIL.sub("", text).strip()


def words(line: str) -> list[str]:
    """Word tokens of a line (in scripts without spaces, pairs of characters)."""
    return _WORD.findall(line)


def count_words(text: str) -> int:
    """Words as a reader counts them: space-separated tokens, and two characters a word in CJK or Thai."""
    if not _DENSE.search(text):
        return len(text.split())  # the common case: every token is one word
    total = 0
    for token in text.split():
        dense = len(_DENSE.findall(token))
        total += (dense + 1) // 2 + bool(_DENSE.sub("", token).strip()) if dense else 1
    return total


def ends_sentence(line: str) -> bool:
    """True when the line ends like a sentence."""
    return bool(_SENTENCE_END.search(line.rstrip()))


def is_paragraph(line: str, n_words: int | None = None) -> bool:
    """A line that reads as running text: long, or a sentence of ten words or more (`n_words`: len(words(line)))."""
    n = len(words(line)) if n_words is None else n_words
    return n >= 25 or (n >= 10 and ends_sentence(line))


def read_lexicon_file(path: Path) -> dict[str, list[str]]:
    """Phrases per [section] of one lexicon file; '#' starts a comment line."""
    sections: dict[str, list[str]] = {}
    current: str | None = None
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("[") and line.endswith("]"):
            current = line[1:-1].strip()
            if current not in SECTIONS and current not in WORD_SECTIONS:
                raise ValueError(f"{path.name}: unknown section [{current}]")
            sections.setdefault(current, [])
            continue
        if current is None:
            raise ValueError(f"{path.name}: phrase {line!r} before any [section]")
        sections[current].append(line)
    return sections


def _phrase_regex(phrase: str) -> str:
    """Regex source for one phrase: words separated by any spacing, {n} standing for a number."""
    parts = [{"{n}": r"\d+", "{rest}": r".+"}.get(p, re.escape(p)) for p in normalise(phrase).split()]
    return r"\s+".join(parts)


def lexicon_languages(directory: Path = LEXICON_DIR) -> tuple[str, ...]:
    """The languages newsflow ships a UI lexicon for (one file each: `id.txt`)."""
    return tuple(sorted(path.stem for path in directory.glob("*.txt")))


@lru_cache(maxsize=4)
def load_lexicon(directory: Path = LEXICON_DIR) -> Lexicon:
    """Merge every language's lexicon: a page's UI language need not match its article's."""
    merged: dict[str, set[str]] = {name: set() for name in (*SECTIONS, *WORD_SECTIONS)}
    for path in sorted(directory.glob("*.txt")):
        for section, phrases in read_lexicon_file(path).items():
            merged[section].update(phrases)
    patterns: dict[str, re.Pattern[str]] = {}
    contained: dict[str, re.Pattern[str] | None] = {}
    starts: dict[str, tuple[tuple[str, ...], bool] | None] = {}
    inner_runs: dict[str, frozenset[str] | None] = {}
    for section, (_reason, mode) in SECTIONS.items():
        phrases = sorted(merged[section], key=len, reverse=True)
        starts[section] = _first_words(phrases)
        inner_runs[section] = _key_runs([p for p in phrases if len(p.split()) >= 4])
        alternation = "|".join(_phrase_regex(p) for p in phrases) or r"(?!x)x"
        if mode == "whole":
            patterns[section] = re.compile(rf"^(?:{alternation})$")
            contained[section] = None
            continue
        short = "|".join(_phrase_regex(p) for p in phrases if len(p.split()) < 3) or r"(?!x)x"
        long = "|".join(_phrase_regex(p) for p in phrases if len(p.split()) >= 3) or r"(?!x)x"
        # A short phrase ("related", "source") must stand alone or be followed by a separator,
        # so that "Related to this, ..." stays a sentence.
        patterns[section] = re.compile(rf"^(?:(?:{short})(?:\s*[:|»›>\-–—]|$)|(?:{long})(?!\w))")
        four = "|".join(_phrase_regex(p) for p in phrases if len(p.split()) >= 4)
        contained[section] = re.compile(rf"(?<!\w)(?:{four})(?!\w)") if four else None
    words_ = {name: frozenset(w for p in merged[name] for w in normalise(p).split()) for name in WORD_SECTIONS}
    return Lexicon(patterns, contained, words_, starts, inner_runs)


def _first_words(phrases: list[str]) -> tuple[tuple[str, ...], bool] | None:
    """The phrases' first normalised words, as their regexes must find them at the start of a line, and whether
    one starts with a number ({n}); None when one starts with {rest}, which matches anything."""
    firsts = {norm.split()[0] for norm in map(normalise, phrases) if norm}
    if "{rest}" in firsts:
        return None
    return tuple(sorted(firsts - {"{n}"})), "{n}" in firsts


def _key_runs(phrases: list[str]) -> frozenset[str] | None:
    """Each phrase's longest word run (\\w+), found whole in any line containing the phrase (its words are
    separated by spaces and bounded by non-word characters); None when a phrase has no run but placeholders."""
    keys = set()
    for phrase in phrases:
        runs = [run for word in normalise(phrase).split() if word not in ("{n}", "{rest}") for run in _RUN.findall(word)]
        if not runs:
            return None
        keys.add(max(runs, key=len))
    return frozenset(keys)


@lru_cache(maxsize=64)
def _runs_of(norm: str) -> frozenset[str]:
    """The word runs of a normalised line (cached: every section asks about the same line in turn)."""
    return frozenset(_RUN.findall(norm))


def match_section(norm: str, section: str, lexicon: Lexicon) -> bool:
    """True when a line, already passed through normalise(), matches one of the section's phrases."""
    whole = SECTIONS[section][1] == "whole"
    starts = lexicon.starts[section]
    if starts is None or norm.startswith(starts[0]) or (starts[1] and norm[:1].isdecimal()):
        if whole:
            return bool(lexicon.patterns[section].match(strip_tail(norm)))
        if lexicon.patterns[section].match(norm):
            return True
    elif whole:
        return False
    inner = lexicon.contained[section]
    # Inside a long paragraph a phrase is more likely quoted prose than a widget.
    if not inner or len(norm) > 400:
        return False
    runs = lexicon.inner_runs[section]
    return (runs is None or not runs.isdisjoint(_runs_of(norm))) and bool(inner.search(norm))


def is_menu_run(line: str, lexicon: Lexicon) -> bool:
    """A line made only of menu or UI entries separated by bars, bullets or wide spaces."""
    parts = [p for p in re.split(r"\s*[|•·/»›>→]\s*|\s{3,}|\t+", normalise(line)) if p.strip()]
    if len(parts) < 2:
        return False
    return all(
        lexicon.patterns["menu"].match(strip_tail(p)) or lexicon.patterns["ui"].match(strip_tail(p)) for p in parts
    )


def is_timestamp(line: str, lexicon: Lexicon) -> bool:
    """A date/time stamp such as '4 Juli 2025 - 22:13 WIB' or 'Updated at 1:23 p.m.', and nothing else."""
    norm = _ISO.sub(" 00:00 ", normalise(line))
    tokens = [t for t in re.split(r"[\s,|/()\[\]·•]+", norm) if t and t not in {"-", "–", "—", "|", "@", "."}]
    if not tokens or len(tokens) > 12:
        return False
    dates = lexicon.words["months"] | lexicon.words["weekdays"]
    evidence = small_number = date_word = False
    stamps = [0, 0]  # dates, clock times: two of a kind joined by a dash or bar are a range (event dates)
    for token in tokens:
        bare = token.strip(".:,;")
        if _DATE_OR_TIME.match(bare):
            evidence = True
            stamps[_CLOCK.match(bare) is not None] += 1
            continue
        if _NUMERIC.match(bare) and any(c.isdigit() for c in bare):
            small_number = True
            continue
        if re.match(r"^\d{1,2}(?:st|nd|rd|th|er|e|º|ª|h|hrs?|m|mins?|d)?$", bare):
            small_number = True
            continue
        if bare in dates or bare.rstrip(".") in dates:
            evidence = True
            continue
        if _AMPM.match(bare) or bare in lexicon.words["datewords"]:
            date_word = date_word or not _AMPM.match(bare)
            continue
        return False
    if max(stamps) >= 2 and not date_word and _RANGE.search(line):
        return False
    # "3 hours ago" / "vor 2 Stunden": a small number is enough when date words surround it.
    return evidence or (small_number and date_word and len(tokens) <= 6)


def is_icon(line: str) -> bool:
    """An icon or CSS class name left in the text ('badge-check', 'fa-facebook', '- landscape-tablet')."""
    stripped = line.strip().lstrip("-•*· ")
    return bool(_ICON.match(stripped)) and len(stripped) <= 40


def is_shortcode(line: str) -> bool:
    """A CMS shortcode left unrendered ('[button link=...]Send us your review[/button]')."""
    return bool(_SHORTCODE.search(line))


def is_url(line: str) -> bool:
    """A line that is only a URL."""
    return bool(_URL.match(line.strip()))


def is_meta_line(line: str, lexicon: Lexicon) -> bool:
    """Page metadata around a date: '05/10/2018 - Posted by: X - Category: Y', 'Posted on March 3, 2024 by admin'."""
    if ends_sentence(line) and not line.rstrip().endswith(":"):
        return False
    segments = [s for s in re.split(r"\s+[-–—|•·]\s+|\s*\|\s*", line.strip()) if s.strip()]
    return len(segments) >= 2 and len(words(line)) <= 30 and any(is_timestamp(s, lexicon) for s in segments)


def is_dated_byline(line: str, lexicon: Lexicon) -> bool:
    """A short line around a calendar date, like 'Posted on March 3, 2024 by admin' (used just under a title)."""
    if len(words(line)) > 12 or (ends_sentence(line) and not line.rstrip().endswith(":")):
        return False
    tokens = [t.strip(".,;:()") for t in normalise(line).split()]
    if not lexicon.words["posted"].intersection(tokens):
        return False
    months = lexicon.words["months"]
    for i, token in enumerate(tokens):
        if _NUMERIC_DATE.match(token) and _plausible(token):
            return True
        if token in months and any(t.isdigit() for t in tokens[max(0, i - 2): i + 3]):
            return True
    return False


def _plausible(token: str) -> bool:
    """A numeric date whose parts can be a day, a month and a year (not a score like 70-44)."""
    parts = [int(p) for p in re.split(r"[-/.]", token)]
    small = [p for p in parts if p < 100]
    return all(1 <= p <= 31 for p in small) and any(p <= 12 for p in small)
