"""Choosing between candidate extractions of one page by evidence: what the other candidates and the page's own
structured data (JSON-LD `articleBody`) confirm, not a fixed setting.

extractors/html.py runs the candidates; this module only compares texts (no parsing, no imports of extractors).
"""
from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass
from html import unescape

_LD_JSON = re.compile(r"<script\b[^>]*ld\+json[^>]*>(.*?)</script\s*>", re.IGNORECASE | re.DOTALL)
_WORD = re.compile(r"\w+")
# A candidate is the same article as another when this share of its words is in the other's text.
SAME_ARTICLE = 0.8
# Another candidate replaces the main one only when it holds this many times its confirmed words: a small
# difference is noise either way, and the main run is the one measured best on average.
CLEAR_GAIN = 1.5
# The page's own articleBody counts as evidence only when it is an article, not a one-line teaser.
MIN_BODY_WORDS = 50
MIN_LEAD_WORDS = 8  # a description shorter than this is a label, not a lead


@dataclass(slots=True)
class Candidate:
    """One extractor's text for a page, and what computing it cost."""

    name: str  # trafilatura | trafilatura_default | readability
    text: str
    seconds: float = 0.0


def words(text: str) -> Counter:
    """Lowercase word tokens as a multiset."""
    return Counter(_WORD.findall(text.casefold()))


def contained(part: Counter, whole: Counter) -> float:
    """Share of `part`'s words (with repeats) found in `whole`."""
    n = sum(part.values())
    return sum((part & whole).values()) / n if n else 0.0


def article_body(html: str) -> str | None:
    """The longest JSON-LD `articleBody` the page declares, unescaped; None if there is none."""
    found: list[str] = []
    for match in _LD_JSON.finditer(html):
        try:
            data = json.loads(match.group(1), strict=False)
        except ValueError:
            continue  # broken JSON-LD is common; it is only evidence
        stack = [data]
        while stack:
            item = stack.pop()
            if isinstance(item, dict):
                body = item.get("articleBody")
                if isinstance(body, str):
                    found.append(body)
                stack.extend(v for k, v in item.items() if k != "articleBody" and isinstance(v, (dict, list)))
            elif isinstance(item, list):
                stack.extend(item)
    if not found:
        return None
    body = " ".join(unescape(max(found, key=len)).split())
    return body if len(body.split()) >= MIN_BODY_WORDS else None


def doubts(main: str, paragraph_words: int, body: str | None, min_words: int, suspect_share: float) -> str | None:
    """Why the main text may be the wrong container or too little of it, or None: other candidates are asked then."""
    n = len(main.split())
    if n < min_words:
        return "too_few_words"
    if n < suspect_share * paragraph_words:
        return "under_paragraph_words"
    if body is not None and contained(words(body), words(main)) < 0.5:
        return "misses_article_body"
    return None


def choose(main: Candidate, others: list[Candidate], body: str | None, paragraphs: str, min_words: int) -> tuple[Candidate, str]:
    """The candidate the evidence supports, and why: each candidate's confirmed words are those another witness
    has too (another candidate, the page's articleBody, the text of the page's <p> elements). Another candidate wins over the main one when it is the same article or
    it carries the articleBody (so not a comment thread or a sidebar) and has clearly more confirmed text."""
    bags = {c.name: words(c.text) for c in [main, *others]}
    body_bag = words(body) if body else None
    page_bag = words(paragraphs)

    def confirmed(c: Candidate) -> int:
        mine = bags[c.name]
        witnesses = [bags[o.name] for o in [main, *others] if o.name != c.name and o.text]
        if body_bag is not None:
            witnesses.append(body_bag)
        witnesses.append(page_bag)
        return max((sum((mine & w).values()) for w in witnesses), default=0)

    main_words = sum(bags[main.name].values())
    if main_words < min_words:
        # Too little text to vouch for anything: the largest candidate that another one confirms.
        usable = [c for c in others if sum(bags[c.name].values()) > main_words and confirmed(c) >= min_words]
        if usable:
            best = max(usable, key=confirmed)
            return best, f"{best.name}: main text under {min_words} words"
        fallback = max(others, key=lambda c: sum(bags[c.name].values()), default=None)
        if fallback is not None and sum(bags[fallback.name].values()) > main_words:
            return fallback, f"{fallback.name}: main text under {min_words} words, nothing confirmed"
        return main, "main: no candidate found more"
    base = confirmed(main)
    best, best_score = main, base
    for c in others:
        if not c.text:
            continue
        same = contained(bags[main.name], bags[c.name]) >= SAME_ARTICLE
        carries_body = body_bag is not None and contained(body_bag, bags[c.name]) >= SAME_ARTICLE
        score = confirmed(c)
        if (same or carries_body) and score >= CLEAR_GAIN * base and score > best_score:
            best, best_score = c, score
    if best is main:
        return main, "main: confirmed"
    return best, f"{best.name}: {best_score} confirmed words against {base}"


def missing_lead(description: str | None, text: str, visible_text) -> str | None:
    """The page's own description (meta/og:description) when it is a lead the extraction missed: a sentence or more,
    not in the text already, and shown on the page (`visible_text()`, called only then), so not a hidden summary."""
    lead = " ".join((description or "").split())
    if len(lead.split()) < MIN_LEAD_WORDS:
        return None
    if lead in " ".join(text.split()) or contained(words(lead), words(text)) >= SAME_ARTICLE:
        return None
    return lead if lead in " ".join(visible_text().split()) else None
