"""Boilerplate cleaning: drafts become articles holding the body only, every dropped line kept with its reason.

The per-line classification lives in extractors/layout.py (document structure) and
extractors/lines.py (single-line signals, lexicons); this module runs it over a batch, learns
each site's chrome and builds the articles.
"""
from __future__ import annotations

import hashlib
from collections import Counter, defaultdict
from dataclasses import replace
from functools import partial

from newsflow.extractors.dedup import TextKeys, text_keys
from newsflow.extractors.language import detect_language
from newsflow.extractors.layout import Analysis, analyse, chrome_candidates
from newsflow.extractors.lines import count_words, line_hash, load_lexicon
from newsflow.extractors.records import Article, Draft, Rejection, RemovedLine
from newsflow.extractors.settings import Dedup, Limits
from newsflow.extractors.workers import map_documents

__all__ = ["clean_batch", "clean_drafts", "line_hash", "observed_lines"]

CHROME_MIN_DOCS = 3  # a line seen in this many documents of one site is that site's chrome


def _observations(drafts: list[Draft], analyses: list[Analysis]) -> list[tuple[str, str, str]]:
    """(site, line_hash, line) rows of already analysed drafts; exact copies count once."""
    rows: list[tuple[str, str, str]] = []
    seen_texts: set[tuple[str, str]] = set()
    for draft, analysis in zip(drafts, analyses):
        key = (draft.site or "", hashlib.sha1(draft.text.encode("utf-8")).hexdigest())
        if not draft.site or key in seen_texts:
            continue  # an exact copy must not teach its own lines as chrome
        seen_texts.add(key)
        rows.extend((draft.site, h, line) for h, line in chrome_candidates(analysis))
    return rows


def observed_lines(drafts: list[Draft]) -> list[tuple[str, str, str]]:
    """(site, line_hash, line) for each distinct candidate chrome line of each draft that has a site."""
    lexicon = load_lexicon()
    with_site = [draft for draft in drafts if draft.site]  # only sites learn chrome: skip the rest
    return _observations(with_site, [analyse(draft, None, lexicon) for draft in with_site])


def _learned(rows: list[tuple[str, str, str]]) -> dict[str, set[str]]:
    """Line hashes seen in at least CHROME_MIN_DOCS documents of one site."""
    counts = Counter((site, h) for site, h, _line in rows)
    learned: dict[str, set[str]] = defaultdict(set)
    for (site, h), n in counts.items():
        if n >= CHROME_MIN_DOCS:
            learned[site].add(h)
    return learned


def _has_chrome(analysis: Analysis, chrome: set[str]) -> bool:
    """Whether any short line of the draft is learned chrome (then it is analysed again with it)."""
    return any(
        line.strip() and not analysis.paras[no] and line_hash(line) in chrome for no, line in enumerate(analysis.lines)
    )


def _truncated(draft: Draft, limits: Limits) -> Draft:
    """The draft cut at a line boundary to limits.max_text_chars."""
    if len(draft.text) <= limits.max_text_chars:
        return draft
    cut = draft.text.rfind("\n", 0, limits.max_text_chars)
    return replace(draft, text=draft.text[: cut if cut > 0 else limits.max_text_chars])


def clean_drafts(
    drafts: list[Draft], site_lines: dict[str, set[str]], limits: Limits
) -> tuple[list[Article], list[Rejection]]:
    """Keep each draft's article body; drop boilerplate lines with their reasons; reject too-short bodies.

    `site_lines` holds the chrome learned from earlier batches (storage.site_lines.load_site_lines);
    lines recurring in CHROME_MIN_DOCS drafts of one site within this batch count as chrome too.
    """
    articles, rejections, _observed = clean_batch(drafts, site_lines, limits)
    return articles, rejections


Facts = tuple[str, "str | None", "TextKeys | None", int]  # kept text, language, dedup keys, word count


def _analysed(item: tuple[Draft, set[str] | None, bool], dedup: Dedup | None = None) -> tuple[Analysis, Facts | str]:
    """A draft's lines classified (with its site's chrome, when given) and, when `final`, the kept text's facts
    (runs in workers); otherwise only the kept text, its facts waiting for the second pass."""
    draft, chrome, final = item
    analysis = analyse(draft, chrome, load_lexicon())
    text = _kept_text(analysis)
    return analysis, (_facts(text, dedup) if final else text)


def _facts(text: str, dedup: Dedup | None) -> Facts:
    """The kept text, its language, its dedup keys (given dedup settings) and its word count."""
    return text, detect_language(text), text_keys(text, dedup) if dedup else None, count_words(text)


def _second_pass(item: tuple[Draft, set[str]] | str, dedup: Dedup | None = None) -> tuple[Analysis | None, Facts]:
    """A draft analysed again with its site's chrome, or a first pass's kept text given its facts (runs in workers)."""
    if isinstance(item, str):
        return None, _facts(item, dedup)
    return _analysed((*item, True), dedup)


def _kept_text(analysis: Analysis) -> str:
    """The lines the analysis keeps, whitespace-collapsed, one paragraph each."""
    kept = (" ".join(l.split()) for no, l in enumerate(analysis.lines) if l.strip() and no not in analysis.reasons)
    return "\n\n".join(kept)


def clean_batch(
    drafts: list[Draft], site_lines: dict[str, set[str]], limits: Limits,
    dedup: Dedup | None = None, keys_out: dict[str, TextKeys] | None = None,
) -> tuple[list[Article], list[Rejection], list[tuple[str, str, str]]]:
    """clean_drafts plus observed_lines of the same drafts, each line analysed once.

    Both passes (with the chrome learned before, then again for drafts carrying chrome learned in this
    batch, or only the body's facts for the other drafts of sites frequent enough to learn) run on the
    worker pool. Given `dedup` settings and a `keys_out` dict, the workers also compute each final body's
    dedup keys (compute_keys' `known`), kept in keys_out by document_id.
    """
    drafts = [_truncated(draft, limits) for draft in drafts]
    keys_for = dedup if keys_out is not None else None
    # The first pass already applies the chrome learned in earlier batches, and gives final results for
    # pages of sites too rare in this batch to learn more; the others' facts wait for the second pass.
    per_site = Counter(draft.site for draft in drafts if draft.site)
    may_learn = [per_site[draft.site] >= CHROME_MIN_DOCS for draft in drafts]
    first = map_documents(
        partial(_analysed, dedup=keys_for),
        [(draft, site_lines.get(draft.site or "") or None, not learns) for draft, learns in zip(drafts, may_learn)],
        limits.extract_processes,
    )
    analyses = [analysis for analysis, _ in first]
    observed = _observations(drafts, analyses)
    # Per site: the chrome first learned in this batch, and all its chrome for a second pass.
    fresh = {site: lines - set(site_lines.get(site, ())) for site, lines in _learned(observed).items()}
    chrome_of = {site: lines | set(site_lines.get(site, ())) for site, lines in fresh.items() if lines}
    # A draft carrying fresh chrome is analysed again with all its site's chrome; for the others the first
    # analysis is what that would give, and only their facts are computed.
    pending = [index for index, learns in enumerate(may_learn) if learns]
    again = {
        index: chrome_of[drafts[index].site]
        for index in pending
        if drafts[index].site in chrome_of and _has_chrome(analyses[index], fresh[drafts[index].site])
    }
    second = map_documents(
        partial(_second_pass, dedup=keys_for),
        [(drafts[i], again[i]) if i in again else first[i][1] for i in pending],
        limits.extract_processes,
    )
    facts: list[Facts] = [result for _, result in first]  # str where pending, replaced below
    for index, (analysis, result) in zip(pending, second):
        analyses[index] = analysis if analysis is not None else analyses[index]
        facts[index] = result
    done = [(analysis, *fact) for analysis, fact in zip(analyses, facts)]
    articles: list[Article] = []
    rejections: list[Rejection] = []
    for draft, (analysis, text, language, body_keys, n_words) in zip(drafts, done):
        if body_keys is not None and keys_out is not None:
            keys_out[draft.document_id] = body_keys
        if n_words < limits.min_words:
            reason = "clean_empty" if not text else "clean_too_short"
            rejections.append(Rejection(draft.document_id, reason, f"{n_words} words left after cleaning"))
            continue
        removed = [
            RemovedLine(no, analysis.lines[no].strip(), reason) for no, reason in sorted(analysis.reasons.items())
        ]
        articles.append(
            Article(
                document_id=draft.document_id,
                title=analysis.title or "",
                text=text,
                url=draft.url,
                site=draft.site,
                author=draft.author,
                published_at=draft.published_at,
                language=language or draft.language,
                attribution=analysis.attribution,
                extractor=draft.extractor,
                word_count=n_words,
                removed=removed,
            )
        )
    return articles, rejections, observed
