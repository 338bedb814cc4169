"""HTML extraction on real pages of ../shared/benchdata/extraction_aeb, then the line cleaner over its output."""
from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import replace
from datetime import datetime, timezone

import pytest

from newsflow.extractors.cleaning import clean_drafts
from newsflow.extractors.html import extract_html, pruned_html, strip_site_name
from newsflow.extractors.records import Draft, RawDocument, Rejection
from newsflow.extractors.settings import Limits

PAGES = {
    # id prefix: (language, a phrase of the page's chrome that must not reach the article)
    "05844573ca7e": ("en", "Photo:"),
    "f6ac15a4d985": ("pt", "Publicado por"),
    "ac3c03552046": ("en", "Hi Milan"),  # a comment thread under a short post
}


def page(shared_dir, prefix: str) -> tuple[dict, str, str]:
    """Manifest row, HTML and gold body of one extraction_aeb page."""
    root = shared_dir / "benchdata" / "extraction_aeb"
    for line in (root / "manifest.jsonl").read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        if row["id"].startswith(prefix):
            html = (root / row["html"]).read_text(encoding="utf-8", errors="replace")
            return row, html, (root / row["gold_text"]).read_text(encoding="utf-8")
    raise LookupError(prefix)


def raw(url: str | None, **fields) -> RawDocument:
    return RawDocument(
        document_id="p1", source_kind="url", source_ref=url or "x", content=b"", media_type="html",
        received_at=datetime(2026, 1, 1, tzinfo=timezone.utc), raw_sha256="", url=url, **fields,
    )


def recall(text: str, gold: str) -> float:
    """Share of the gold body's lowercase word tokens found in the text (bag of tokens)."""
    got, want = Counter(re.findall(r"\w+", text.lower())), Counter(re.findall(r"\w+", gold.lower()))
    return sum((got & want).values()) / sum(want.values())


@pytest.mark.parametrize("prefix", sorted(PAGES))
def test_extract_and_clean_real_pages(shared_dir, prefix):
    row, html, gold = page(shared_dir, prefix)
    language, chrome = PAGES[prefix]
    draft = extract_html(raw(row["url"], site="aeb"), html, Limits())
    assert isinstance(draft, Draft)
    assert draft.extractor == "trafilatura"
    assert draft.title and draft.title_given
    assert draft.url == row["url"]
    assert draft.published_at is None or draft.published_at.tzinfo is not None
    articles, rejections = clean_drafts([draft], {}, Limits(min_words=5))
    assert not rejections
    article = articles[0]
    assert recall(article.text, gold) >= 0.9
    assert chrome not in article.text
    assert article.language == language
    assert article.extractor == "trafilatura"


def test_metadata_from_page(shared_dir):
    row, html, _ = page(shared_dir, "05844573ca7e")
    draft = extract_html(raw(row["url"]), html, Limits())
    assert "SUV" in draft.title
    assert draft.published_at == datetime(2019, 11, 20, tzinfo=timezone.utc)


def test_document_metadata_fills_gaps():
    html = "<html><body><article>" + "<p>The council met on Tuesday to approve the budget for next year.</p>" * 5 + "</article></body></html>"
    when = datetime(2024, 3, 5, 14, 30, tzinfo=timezone.utc)
    draft = extract_html(raw("https://news.example/a/1", title="Budget passes", author="A. Writer", published_at=when), html, Limits())
    assert isinstance(draft, Draft)
    assert draft.title == "Budget passes" and draft.title_given
    assert draft.author == "A. Writer"
    assert draft.published_at == when
    assert draft.url == "https://news.example/a/1"
    assert draft.site == "news.example"  # the site key chrome is learned under, when the fetcher gave none


def test_empty_page_is_rejected():
    result = extract_html(raw(None), "<html><head><title>x</title></head><body></body></html>", Limits())
    assert isinstance(result, Rejection) and result.reason == "extract_empty"


def test_fallback_when_trafilatura_finds_too_little():
    # trafilatura prunes a block by its class name ("menu"); readability scores the paragraphs and keeps them.
    paragraphs = "<p>The harvest grew by ten percent this season, farmers in the valley said on Monday, after a wet spring.</p>" * 8
    html = f'<html><head><title>Harvest up</title></head><body><div class="menu">{paragraphs}</div></body></html>'
    result = extract_html(raw(None), html, Limits())
    assert isinstance(result, Draft)
    assert result.extractor == "readability"
    assert result.text.count("The harvest grew by ten percent") == 8
    assert result.title == "Harvest up"


def test_readability_when_trafilatura_stops_halfway(shared_dir):
    # On this page trafilatura returns about a third of the article; readability finds all of it.
    row, html, gold = page(shared_dir, "d48aeb9cf2f2")
    draft = extract_html(raw(row["url"]), html, Limits())
    assert draft.extractor == "readability"
    assert recall(draft.text, gold) >= 0.95
    assert draft.title_given and "Instagram" in draft.title


def test_pathological_page_times_out(shared_dir):
    # A page far too big to extract in a millisecond: the batch must get a rejection, not wait.
    _, html, _ = page(shared_dir, "05844573ca7e")
    result = extract_html(raw(None), html * 3, Limits(extract_timeout_s=0.001))
    assert isinstance(result, Rejection) and result.reason == "extract_timeout"


def test_site_name_leaves_the_title():
    assert strip_site_name("Daily Deals: PS4 and More - IGN", "IGN", "https://www.ign.com/a") == "Daily Deals: PS4 and More"
    assert strip_site_name("Budget passes - dailyplanet.com", None, "https://www.dailyplanet.com/x") == "Budget passes"
    # A dash that is part of the headline stays.
    assert strip_site_name("Spider-Man - Far From Home review", None, "https://x.example/") == "Spider-Man - Far From Home review"


def test_metadata_matches_trafilatura_extract_metadata_on_every_page(shared_dir):
    from trafilatura.metadata import extract_metadata
    from trafilatura.utils import load_html

    from newsflow.extractors.html import META_FIELDS, _metadata

    pages = sorted((shared_dir / "benchdata" / "extraction_aeb" / "html").glob("*.html"))
    assert len(pages) > 100
    found_dates = 0
    for path in pages:
        html = path.read_bytes().decode("utf-8", "replace")
        ours = _metadata(load_html(html), None)
        theirs = extract_metadata(load_html(html), None, {"extensive_search": True, "original_date": True})
        assert ours == {key: getattr(theirs, key) for key in META_FIELDS}, path.name
        found_dates += ours["date"] is not None
    assert found_dates > len(pages) // 2  # the comparison covers pages with dates, not only empty fields


def test_fallback_text_is_readabilitys_own(shared_dir):
    from readability import Document

    from newsflow.extractors.html import _readability

    # The fallback's Document skips readability's javascript scrub; the text must not change. Pages with
    # javascript links and on* attributes are common among these.
    pages = sorted((shared_dir / "benchdata" / "extraction_aeb" / "html").glob("*.html"))[:40]
    scrubbed = 0
    for path in pages:
        html = path.read_bytes().decode("utf-8", "replace")
        assert _readability(html)[0] == _readability(html, Document)[0], path.name
        scrubbed += "javascript:" in html or " onclick=" in html
    assert scrubbed >= 5


@pytest.mark.parametrize("canonical", ["javascript:alert(1)", "data:text/html,<p>x</p>", "file:///etc/passwd", "/news/1"])
def test_a_page_whose_own_url_is_not_a_web_address_keeps_none(canonical):
    body = "<p>The council met on Tuesday to approve the budget for next year.</p>" * 5
    html = (f'<html><head><link rel="canonical" href="{canonical}"><meta property="og:url" content="{canonical}">'
            f"</head><body><article>{body}</article></body></html>")
    draft = extract_html(raw(None), html, Limits())
    assert isinstance(draft, Draft) and draft.url is None and draft.site is None
    given = extract_html(raw("javascript:void(0)"), html.replace(canonical, "https://news.example/a/1"), Limits())
    assert given.url == "https://news.example/a/1"  # the page's own link stands in for a document URL that is none


def test_html_extraction_does_not_load_the_inbox_reader():
    import subprocess
    import sys

    code = "import sys, newsflow.extractors.html; print(sorted(m for m in sys.modules if m.startswith('newsflow.')))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert "newsflow.extractors.reading" not in done.stdout and "newsflow.extractors.html" in done.stdout


def test_a_large_page_loses_its_scripts_styles_and_comments_but_not_its_json_ld_or_text():
    ld = '<script type="application/ld+json">{"headline": "Kept"}</script>'
    html = ("<html><head>" + "<script>var a = 1;</script><style>p {}</style><!-- note -->" * 1000 + ld
            + "</head><body><p>The article text.</p><svg><path d='M0'/></svg></body></html>")
    pruned, notes = pruned_html(html, Limits(html_prune_chars=1000))
    assert ld in pruned and "<p>The article text.</p>" in pruned
    assert "var a" not in pruned and "p {}" not in pruned and "note" not in pruned and "<svg" not in pruned
    assert notes == (f"html pruned from {len(html)} to {len(pruned)} chars",)
    assert pruned_html(html, Limits()) == (html, ())  # a page under the limit is left as it is
    cut, notes = pruned_html(html, Limits(html_prune_chars=1000, max_html_chars=100))
    assert len(cut) == 100 and notes[1] == f"html cut at 100 of {len(pruned)} chars"
