"""Boilerplate cleaning: drafts become articles holding the body only, every dropped line kept with its reason.

The per-line classification lives in extractors/layout.py (document structure) and
extractors/lines.py (single-line signals, lexicons); this module runs it over a batch, learns
each site's chrome and builds the articles.
"""
from __future__ import annotations

import hashlib
from collections import Counter, defaultdict
from dataclasses import dataclass, field, replace

from newsflow.extractors.dedup import TextKeys, text_keys
from newsflow.extractors.isolation import failure_detail
from newsflow.extractors.language import detect_language
from newsflow.extractors.layout import Analysis, analyse, chrome_candidates
from newsflow.extractors.lines import count_words, line_hash, load_lexicon
from newsflow.extractors.records import Article, Draft, RawDocument, Rejection, RemovedLine
from newsflow.extractors.settings import Dedup, Limits

__all__ = ["Cleaned", "clean_again", "clean_batch", "clean_chunk", "clean_drafts", "extract_and_clean", "learn_chrome",
           "line_hash", "observed_lines", "outcomes"]

CHROME_MIN_DOCS = 3  # a line seen in this many documents of one site is that site's chrome


@dataclass(slots=True)
class Cleaned:
    """One draft cleaned with the chrome known so far: its article (with the body's dedup keys) or its rejection,
    and what the batch learns from it."""

    draft: Draft  # as cleaned (cut to the text limit): a second pass starts from it
    article: Article | None
    rejection: Rejection | None
    keys: TextKeys | None = None  # the body's dedup keys, when dedup settings were given
    candidates: list[tuple[str, str]] = field(default_factory=list)  # (line_hash, line) of candidate chrome
    short_lines: frozenset[str] = frozenset()  # hashes of its lines that are not running text
    copy_key: str = ""  # sha1 of the text: exact copies teach their lines once


def observed_lines(drafts: list[Draft]) -> list[tuple[str, str, str]]:
    """(site, line_hash, line) for each distinct candidate chrome line of each draft that has a site."""
    lexicon = load_lexicon()
    with_site = [draft for draft in drafts if draft.site]  # only sites learn chrome: skip the rest
    return _observed([
        Cleaned(draft, None, None, candidates=chrome_candidates(analyse(draft, None, lexicon)), copy_key=_copy_key(draft))
        for draft in with_site
    ])


def _copy_key(draft: Draft) -> str:
    return hashlib.sha1(draft.text.encode("utf-8")).hexdigest()


def _observed(cleaned: list[Cleaned]) -> list[tuple[str, str, str]]:
    """(site, line_hash, line) rows of cleaned drafts in order; exact copies count once."""
    rows: list[tuple[str, str, str]] = []
    seen_texts: set[tuple[str, str]] = set()
    for item in cleaned:
        site = item.draft.site
        if not site or (site, item.copy_key) in seen_texts:
            continue  # an exact copy must not teach its own lines as chrome
        seen_texts.add((site, item.copy_key))
        rows.extend((site, h, line) for h, line in item.candidates)
    return rows


def _learned(rows: list[tuple[str, str, str]]) -> dict[str, set[str]]:
    """Line hashes seen in at least CHROME_MIN_DOCS documents of one site."""
    counts = Counter((site, h) for site, h, _line in rows)
    learned: dict[str, set[str]] = defaultdict(set)
    for (site, h), n in counts.items():
        if n >= CHROME_MIN_DOCS:
            learned[site].add(h)
    return learned


def _short_lines(analysis: Analysis) -> frozenset[str]:
    """Hashes of the draft's lines that are not running text: learned chrome among them sends it to a second pass."""
    return frozenset(line_hash(line) for no, line in enumerate(analysis.lines) if line.strip() and not analysis.paras[no])


def _truncated(draft: Draft, limits: Limits) -> Draft:
    """The draft cut at a line boundary to limits.max_text_chars."""
    if len(draft.text) <= limits.max_text_chars:
        return draft
    cut = draft.text.rfind("\n", 0, limits.max_text_chars)
    cut = cut if cut > 0 else limits.max_text_chars
    return replace(draft, text=draft.text[:cut], notes=(*draft.notes, f"text capped at {cut} of {len(draft.text)} chars"))


def clean_drafts(
    drafts: list[Draft], site_lines: dict[str, set[str]], limits: Limits
) -> tuple[list[Article], list[Rejection]]:
    """Keep each draft's article body; drop boilerplate lines with their reasons; reject too-short bodies.

    `site_lines` holds the chrome learned from earlier batches (storage.site_lines.load_site_lines);
    lines recurring in CHROME_MIN_DOCS drafts of one site within this batch count as chrome too.
    """
    articles, rejections, _observed_rows, _keys = clean_batch(drafts, site_lines, limits)
    return articles, rejections


def _kept_lines(analysis: Analysis) -> list[int]:
    """The numbers of the lines the analysis keeps: the non-blank ones it did not remove."""
    return [no for no, line in enumerate(analysis.lines) if line.strip() and no not in analysis.reasons]


def _kept_text(analysis: Analysis, kept: list[int]) -> str:
    """The kept lines, whitespace-collapsed, one paragraph each."""
    return "\n\n".join(" ".join(analysis.lines[no].split()) for no in kept)


def _cleaned(draft: Draft, analysis: Analysis, dedup: Dedup | None, limits: Limits) -> Cleaned:
    """The article (or rejection) an analysis gives, with the body's facts and what the batch learns from it."""
    kept = _kept_lines(analysis)
    text = _kept_text(analysis, kept)
    n_words = count_words(text)
    result = Cleaned(draft, None, None, candidates=chrome_candidates(analysis), short_lines=_short_lines(analysis),
                     copy_key=_copy_key(draft))
    if n_words < limits.min_words:
        reason = "clean_empty" if not text else "clean_too_short"
        result.rejection = Rejection(draft.document_id, reason, f"{n_words} words left after cleaning")
        return result
    removed = [RemovedLine(no, analysis.lines[no].strip(), reason) for no, reason in sorted(analysis.reasons.items())]
    result.article = Article(
        document_id=draft.document_id,
        title=analysis.title or "",
        text=text,
        url=draft.url,
        site=draft.site,
        author=draft.author or analysis.author,
        published_at=draft.published_at or analysis.published_at,
        language=detect_language(text) or draft.language,
        attribution=analysis.attribution,
        extractor=draft.extractor,
        notes=draft.notes,
        word_count=n_words,
        removed=removed,
        line_nos=kept,
    )
    result.keys = text_keys(text, dedup) if dedup else None
    return result


def _clean_one(draft: Draft, chrome: set[str] | None, limits: Limits, dedup: Dedup | None) -> Cleaned:
    """One draft cleaned with the given chrome; a draft the cleaner fails on is rejected `clean_error`."""
    try:
        return _cleaned(draft, analyse(draft, chrome or None, load_lexicon()), dedup, limits)
    except Exception as exc:  # noqa: BLE001 - that draft's problem (even a bug), recorded with it
        return Cleaned(draft, None, Rejection(draft.document_id, "clean_error", failure_detail(exc)))


def clean_chunk(drafts: list[Draft], site_lines: dict[str, set[str]], limits: Limits, dedup: Dedup | None = None) -> list[Cleaned]:
    """First pass: each draft cleaned with the chrome learned in earlier batches (`site_lines`, by site)."""
    drafts = [_truncated(draft, limits) for draft in drafts]
    return [_clean_one(draft, site_lines.get(draft.site or ""), limits, dedup) for draft in drafts]


def extract_and_clean(
    docs: list[RawDocument], site_lines: dict[str, set[str]], limits: Limits, dedup: Dedup | None = None
) -> tuple[list[Rejection], list[Cleaned]]:
    """Extraction and cleaning's first pass of a chunk of documents: the extraction's rejections, and the drafts
    cleaned (a draft whose site, found in the page, is not a key of `site_lines` is cleaned without chrome)."""
    from newsflow.extractors.extraction import extract_drafts

    drafts, rejections = extract_drafts(docs, limits)
    return rejections, clean_chunk(drafts, site_lines, limits, dedup)


def learn_chrome(cleaned: list[Cleaned], site_lines: dict[str, set[str]]) -> tuple[list[tuple[str, str, str]], list[tuple[int, set[str]]]]:
    """What the batch's first pass teaches: the observed (site, line_hash, line) rows, and the drafts to clean
    again as (index in `cleaned`, all their site's chrome): those carrying chrome first learned in this batch."""
    observed = _observed(cleaned)
    fresh = {site: lines - set(site_lines.get(site, ())) for site, lines in _learned(observed).items()}
    chrome_of = {site: lines | set(site_lines.get(site, ())) for site, lines in fresh.items() if lines}
    again = [
        (index, chrome_of[item.draft.site])
        for index, item in enumerate(cleaned)
        if item.draft.site in chrome_of and item.short_lines & fresh[item.draft.site]
    ]
    return observed, again


def clean_again(items: list[tuple[Draft, set[str]]], limits: Limits, dedup: Dedup | None = None) -> list[Cleaned]:
    """Second pass: drafts cleaned again with all their site's chrome."""
    return [_clean_one(draft, chrome, limits, dedup) for draft, chrome in items]


def outcomes(cleaned: list[Cleaned]) -> tuple[list[Article], list[Rejection], dict[str, TextKeys]]:
    """The articles, the rejections and the articles' body keys (by document_id) of cleaned drafts."""
    articles = [item.article for item in cleaned if item.article is not None]
    rejections = [item.rejection for item in cleaned if item.rejection is not None]
    keys = {item.draft.document_id: item.keys for item in cleaned if item.article is not None and item.keys is not None}
    return articles, rejections, keys


def clean_batch(
    drafts: list[Draft], site_lines: dict[str, set[str]], limits: Limits, dedup: Dedup | None = None,
) -> tuple[list[Article], list[Rejection], list[tuple[str, str, str]], dict[str, TextKeys]]:
    """clean_drafts plus observed_lines of the same drafts and, given `dedup` settings, each article's body keys
    (compute_keys' `known`), in this process: the two passes flows/tasks.py runs on workers, chunk by chunk."""
    cleaned = clean_chunk(drafts, site_lines, limits, dedup)
    observed, again = learn_chrome(cleaned, site_lines)
    for (index, _), item in zip(again, clean_again([(cleaned[i].draft, chrome) for i, chrome in again], limits, dedup)):
        cleaned[index] = item
    articles, rejections, keys = outcomes(cleaned)
    return articles, rejections, observed, keys
