"""Same-story grouping: reports of one event share a story_id (beyond duplicates, which share an article).

Similarity is the TF-IDF cosine of title + lead (stop words removed, sublinear term frequency); IDF
comes from the articles compared (the time window's pool plus the batch) plus a shipped background
corpus, so that two articles alone in a new database do not count their shared words as common. The cosine
is then weighed with event evidence — when it happened, what happened, shared names alone never enough
(extractors/story_evidence.py) — so that one topic's different events stay different stories.
"""
from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path

import numpy as np

from newsflow.extractors.dedup import metadata_fills
from newsflow.extractors.settings import Dedup
from newsflow.extractors.records import Article, Decision, Evidence, StoryDecision
from newsflow.extractors.story_evidence import EventDoc, event_doc, weigh

_WORD = re.compile(r"[^\W\d_]{2,}")  # letters only: numbers and scores say little about which event
LEAD_CHARS = 2000  # what is read of a body: enough text for story_lead_words; keeps the pool query light


@dataclass(slots=True)
class StoryDoc:
    """What story grouping needs of one article."""

    article_id: str
    title: str
    text: str
    at: datetime | None = None  # published_at, else first_seen_at: the time window's clock
    story_id: str | None = None  # known for stored articles, None for the ones to assign
    published_at: datetime | None = None
    seen_at: datetime | None = None  # when it arrived (first_seen_at)


def batch_story_docs(
    articles: list[Article], decisions: list[Decision], seen_at: datetime
) -> tuple[list[StoryDoc], dict[str, datetime]]:
    """The batch's new articles as they will be stored, and the publication dates its duplicates give the
    articles they point at (the write fills a missing published_at from them: storage.dedup_index)."""
    dated = {aid: row["published_at"] for aid, row in metadata_fills(articles, decisions).items() if "published_at" in row}
    new: dict[str, StoryDoc] = {}
    for article, decision in zip(articles, decisions):
        if decision.status == "new":
            published = article.published_at or dated.get(article.article_id)
            new.setdefault(article.article_id, StoryDoc(article.article_id, article.title or "", article.text[:LEAD_CHARS],
                                                        published or seen_at, None, published, seen_at))
    return list(new.values()), dated


@lru_cache(maxsize=1)
def stop_words() -> frozenset[str]:
    """English stop words (extractors/data/story_stopwords_en.txt)."""
    path = Path(__file__).with_name("data") / "story_stopwords_en.txt"
    lines = path.read_text(encoding="utf-8").splitlines()
    return frozenset(w.strip() for w in lines if w.strip() and not w.startswith("#"))


def story_terms(title: str, text: str, lead_words: int) -> list[str]:
    """Content words of the title and the first lead_words words of the body."""
    stop = stop_words()
    lead = " ".join(text.split()[:lead_words])
    return [w for w in _WORD.findall(f"{title}\n{lead}".casefold()) if w not in stop]


@lru_cache(maxsize=1)
def background_df() -> tuple[int, dict[str, int]]:
    """Document frequencies of a background corpus (extractors/data/story_df_en.tsv): (documents, word -> df).

    They keep IDF meaningful while the database holds few articles (built by bench_stories.py --build-df
    from the MIT-licensed extraction_aeb gold bodies).
    """
    path = Path(__file__).with_name("data") / "story_df_en.tsv"
    lines = path.read_text(encoding="utf-8").splitlines()
    header = [line for line in lines if line.startswith("#")]
    docs = int(header[-1].split("=")[1])
    df = {}
    for line in lines:
        if line and not line.startswith("#"):
            word, count = line.split("\t")
            df[word] = int(count)
    return docs, df


@dataclass(slots=True)
class TfIdf:
    """Row-normalised TF-IDF weights as coordinates, entries grouped by row in row order."""

    rows: np.ndarray  # int64 row of each entry
    cols: np.ndarray  # int64 term of each entry
    values: np.ndarray  # float64 weight of each entry
    shape: tuple[int, int]  # (documents, terms)


def tfidf_weights(term_lists: list[list[str]]) -> TfIdf:
    """Sublinear TF-IDF vectors of these documents, each of unit length; IDF over them plus the background."""
    vocab: dict[str, int] = {}
    rows, cols, tfs = [], [], []
    for row, terms in enumerate(term_lists):
        for term, k in Counter(terms).items():
            rows.append(row)
            cols.append(vocab.setdefault(term, len(vocab)))
            tfs.append(1.0 + math.log(k))
    n = len(term_lists)
    rows_arr, cols_arr = np.asarray(rows, dtype=np.int64), np.asarray(cols, dtype=np.int64)
    background_docs, background = background_df()
    df = np.bincount(cols_arr, minlength=len(vocab)).astype(np.float64)
    df += np.fromiter((background.get(term, 0) for term in vocab), dtype=np.float64, count=len(vocab))
    idf = np.log((1.0 + n + background_docs) / (1.0 + df)) + 1.0
    values = np.asarray(tfs, dtype=np.float64) * idf[cols_arr]
    norms = np.sqrt(np.bincount(rows_arr, weights=values * values, minlength=n))
    values /= np.where(norms == 0, 1.0, norms)[rows_arr]
    return TfIdf(rows_arr, cols_arr, values, (n, len(vocab)))


def cosines(tfidf: TfIdf, first_row: int) -> np.ndarray:
    """Cosine of each row from first_row on against every row: an (n - first_row) x n array.

    A sparse product in numpy, one row at a time through each term's postings: scipy.sparse did the same,
    but importing it cost 0.2 CPU-s in the serial end of every run that stores new articles.
    """
    n, terms = tfidf.shape
    row_start = np.concatenate(([0], np.cumsum(np.bincount(tfidf.rows, minlength=n))))
    col_start = np.concatenate(([0], np.cumsum(np.bincount(tfidf.cols, minlength=terms))))
    by_col = np.argsort(tfidf.cols, kind="stable")
    posting_rows, posting_values = tfidf.rows[by_col], tfidf.values[by_col]
    out = np.zeros((n - first_row, n))
    for i in range(first_row, n):
        own = slice(row_start[i], row_start[i + 1])
        terms_here = tfidf.cols[own]
        starts = col_start[terms_here]
        lengths = col_start[terms_here + 1] - starts
        # positions of every posting of this row's terms, term after term
        at = np.arange(lengths.sum()) + np.repeat(starts - (np.cumsum(lengths) - lengths), lengths)
        weights = np.repeat(tfidf.values[own], lengths) * posting_values[at]
        out[i - first_row] = np.bincount(posting_rows[at], weights=weights, minlength=n)
    return out


def story_similarities(new: list[StoryDoc], docs: list[StoryDoc], settings: Dedup) -> np.ndarray:
    """TF-IDF cosine of title + lead of each new document against every document (len(new) x len(docs)).

    new must be the tail of docs; IDF is computed over docs.
    """
    return _similarities(new, docs, settings)[0]


def _similarities(new: list[StoryDoc], docs: list[StoryDoc], settings: Dedup) -> tuple[np.ndarray, list[list[str]]]:
    terms = [story_terms(d.title, d.text, settings.story_lead_words) for d in docs]
    return cosines(tfidf_weights(terms), len(docs) - len(new)), terms


def story_ids(decisions: list[StoryDecision]) -> dict[str, str]:
    """article_id -> story_id of these decisions."""
    return {d.article_id: d.story_id for d in decisions}


def link_stories(new: list[StoryDoc], pool: list[StoryDoc], settings: Dedup) -> list[StoryDecision]:
    """The story of each new article, with its event day and the evidence of its link.

    A new article joins the story of the earlier article (pool, or earlier in the batch) within the time window
    whose evidence scores highest among those that clear their threshold (extractors/story_evidence.py), else it
    starts its own story (its article_id). Evidence is weighed for the `story_candidates` most similar only.
    """
    if not new:
        return []
    docs = pool + new
    sims, terms = _similarities(new, docs, settings)
    window_s = settings.story_window_days * 86400.0
    times = np.array([d.at.timestamp() if d.at is not None else np.nan for d in docs])
    story = [d.story_id for d in pool] + [None] * len(new)
    has_story = np.array([sid is not None for sid in story], dtype=bool)
    # A pair gains at most this much from evidence: a cosine below the threshold by more cannot link, nor can one
    # below the best score found by more.
    gain = settings.story_day_bonus + 2 * settings.story_particular_bonus
    floor = settings.story_threshold - gain
    events: dict[int, EventDoc] = {}

    def event(j: int) -> EventDoc:
        if j not in events:
            d = docs[j]
            events[j] = event_doc(d.title, d.text, d.published_at, d.seen_at or d.at, terms[j], settings.story_lead_words)
        return events[j]

    decisions: list[StoryDecision] = []
    for offset, doc in enumerate(new):
        i = len(pool) + offset
        gap = np.abs(times[:i] - times[i])
        ok = (sims[offset, :i] >= floor) & ~(gap > window_s) & has_story[:i]  # NaN gap passes
        candidates = np.flatnonzero(ok)
        candidates = candidates[np.argsort(-sims[offset, candidates], kind="stable")][: settings.story_candidates]
        best: tuple[Evidence, int] | None = None
        for j in candidates:
            if best is not None and sims[offset, j] + gain < best[0].score:
                break  # sorted by cosine: no later candidate can score higher
            evidence = weigh(event(i), event(int(j)), float(sims[offset, j]), settings)
            if evidence.links and (best is None or evidence.score > best[0].score):
                best = (evidence, int(j))
        facts = event(i).facts
        if best is None:
            story[i] = doc.article_id
            decisions.append(StoryDecision(doc.article_id, story[i], facts.day, facts.day_source))
        else:
            story[i] = story[best[1]]
            decisions.append(StoryDecision(doc.article_id, story[i], facts.day, facts.day_source,
                                           docs[best[1]].article_id, best[0]))
        has_story[i] = True
    return decisions
