"""Whether two articles report one event: their text similarity weighed with event evidence (extractors/events.py).

The score starts from the TF-IDF cosine of title + lead and moves with what happened and when:
- when: two days read from the articles themselves (published, or a full date in the text) more than
  `story_max_day_gap` apart veto the link (`story_dates_apart`); days within it, one of them firm, add
  `story_day_bonus`; a pair with no such day must clear `story_undated_margin` more;
- what: each particular the two share (a vote count, a score, a duration) adds `story_particular_bonus` (two at
  most); particulars of the same form that all differ ("4.75%" against "4.25%") subtract
  `story_particular_conflict`; kinds of event named (call, meeting, vote...) with none in common subtract
  `story_kind_conflict`;
- who: words shared only by the names in them never link (`story_names_only`): famous names are in every article
  about those people.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from newsflow.extractors.events import FIRM_SOURCES, EventFacts, event_facts
from newsflow.extractors.records import Evidence
from newsflow.extractors.settings import Dedup

# A capitalised word after a word or comma (not after a sentence's end, a colon or a quote mark).
_NAME = re.compile(r"(?<=[^\s.!?:\"“”] )[^\W\d_a-z][^\W\d_]+")


@dataclass(slots=True)
class EventDoc:
    """What the evidence needs of one article, computed once per article per batch."""

    facts: EventFacts
    terms: frozenset[str]  # content words of title + lead
    names: frozenset[str]  # words written as names (capitalised inside a sentence) in the lead


def event_doc(title: str, text: str, published_at: datetime | None, seen_at: datetime | None,
              terms: list[str], lead_words: int) -> EventDoc:
    """The event evidence of one article; `terms` are its story terms (extractors.stories.story_terms)."""
    return EventDoc(event_facts(title, text, published_at, seen_at, lead_words), frozenset(terms),
                    name_words(" ".join(text.split()[:lead_words])))


def name_words(lead: str) -> frozenset[str]:
    """Words capitalised where a sentence does not start: names, in a body (titles capitalise every word)."""
    return frozenset(w.casefold() for w in _NAME.findall(lead) if w[0].isupper())


def weigh(new: EventDoc, old: EventDoc, cosine: float, settings: Dedup) -> Evidence:
    """The evidence that `new` reports the event of `old` (see the module docstring)."""
    a, b = new.facts, old.facts
    score, threshold = cosine, settings.story_threshold
    gap = abs((a.day - b.day).days) if a.day is not None and b.day is not None else None
    firm = (a.day_source in FIRM_SOURCES, b.day_source in FIRM_SOURCES)
    veto = None
    if gap is not None and gap > settings.story_max_day_gap and all(firm):
        veto = "story_dates_apart"
    if gap is not None and gap <= settings.story_max_day_gap and any(firm):
        score += settings.story_day_bonus
    else:
        threshold += settings.story_undated_margin
    shared = a.particulars & b.particulars
    score += settings.story_particular_bonus * min(len(shared), 2)
    if not shared and any(_of_form(a.particulars, form) and _of_form(b.particulars, form) for form in ("min", "dec", "int")):
        score -= settings.story_particular_conflict
    kinds = a.kinds & b.kinds
    if a.kinds and b.kinds and not kinds:
        score -= settings.story_kind_conflict
    if not (new.terms - new.names) & (old.terms - old.names):
        veto = veto or "story_names_only"
    return Evidence(round(score, 4), round(threshold, 4), round(cosine, 4), gap, f"{a.day_source}/{b.day_source}",
                    tuple(sorted(kinds)), tuple(sorted(shared)), veto)


def _of_form(particulars: frozenset[str], form: str) -> set[str]:
    """The particulars of one form: durations (min), decimals (dec) or whole numbers (int)."""
    def form_of(value: str) -> str:
        return "min" if value.endswith("min") else "dec" if "." in value else "int"

    return {p for p in particulars if form_of(p) == form}
