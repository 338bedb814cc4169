"""A throw-away document through extraction and cleaning: pays each process's one-off costs before real work.

Lazy imports (htmldate's, numpy.ma under the dedup keys), regexes compiled on first use and readability's
page class are set up once; done in the workers' fork server, no forked worker pays them again.
"""
from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timezone

from newsflow.extractors.records import Article, Draft, RawDocument
from newsflow.extractors.settings import Dedup, Limits

WARM_TEXT = (
    "GENEVA (Reuters) - The World Health Organization said on Tuesday that a new vaccine trial in Kenya and Uganda "
    "had enrolled its first volunteers, and officials in Nairobi expect results by the end of next year. "
    "The trial, funded by the Gates Foundation, will follow ten thousand adults across both countries."
)
WARM_PAGE = (
    "<html><head><title>Vaccine trial - Health Desk</title><meta name='author' content='Ana Lima'>"
    "<meta property='article:published_time' content='2026-01-05T08:00:00Z'></head><body>"
    f"<nav><a href='/'>Home</a></nav><article><h1>Vaccine trial</h1><p>{WARM_TEXT}</p></article></body></html>"
)


def warm_documents() -> list[RawDocument]:
    """One plain-text and one HTML document carrying WARM_TEXT."""
    now = datetime.now(timezone.utc)
    return [
        RawDocument(f"warm-{kind}", "inbox", f"warm.{kind}", body.encode(), kind, now, "")
        for kind, body in (("text", WARM_TEXT), ("html", WARM_PAGE))
    ]


def warm_page_stages(limits: Limits, dedup: Dedup) -> list[Article]:
    """Extract (readability's fallback included) and clean the warm documents here, with their dedup keys."""
    from newsflow.extractors.cleaning import clean_batch
    from newsflow.extractors.extraction import extract_one

    here = replace(limits, extract_processes=1)
    # A minimum no page reaches sends the page through the fallback extractor as well.
    drafts = [extract_one(doc, replace(here, min_words=10_000)) for doc in warm_documents()]
    articles, _, _ = clean_batch([d for d in drafts if isinstance(d, Draft)], {}, replace(here, min_words=1), dedup, {})
    return articles
