"""Parsing sitemaps: trafilatura's test files (../shared/benchdata/sitemaps), news sitemaps in the published format,
plain-text lists, gzip within the size limit, courlan's URL filters, and memory over 50,000 URLs."""
from __future__ import annotations

import gzip
import tracemalloc
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from newsflow.extractors.sitemaps import (SitemapEntry, SitemapError, is_recent, looks_like_sitemap, parse_sitemap,
                                          same_site, unpack)
from tests.news_site import news_sitemap

SITEMAPS = Path(__file__).resolve().parents[2] / "shared" / "benchdata" / "sitemaps"


def test_a_urlset_gives_its_pages_with_their_lastmod():
    parsed = parse_sitemap((SITEMAPS / "sitemap.xml").read_bytes(), "https://www.sitemaps.org/sitemap.xml")
    assert (parsed.kind, len(parsed.entries), parsed.children, parsed.problem) == ("sitemap", 84, [], None)
    assert parsed.entries[1] == SitemapEntry("https://www.sitemaps.org/protocol.html",
                                             lastmod=datetime(2016, 11, 21, tzinfo=timezone.utc))
    assert len({e.url for e in parsed.entries}) == 84


def test_the_gzipped_sitemap_unpacks_to_the_same_entries_and_not_beyond_the_limit():
    packed = (SITEMAPS / "sitemap.xml.gz").read_bytes()
    assert looks_like_sitemap(packed)
    plain = parse_sitemap((SITEMAPS / "sitemap.xml").read_bytes(), "https://www.sitemaps.org/sitemap.xml")
    assert parse_sitemap(unpack(packed, 10_000_000), "https://www.sitemaps.org/sitemap.xml.gz").entries == plain.entries
    with pytest.raises(SitemapError) as refused:
        unpack(packed, 8_000)  # 8,622 bytes unpacked
    assert refused.value.reason == "sitemap_bad_gzip"
    bomb = gzip.compress(b"<urlset>" + b" " * 50_000_000)  # 50 MB of spaces in 50 KB
    with pytest.raises(SitemapError):
        unpack(bomb, 10_000_000)


def test_an_index_with_a_cdata_location_lists_its_sitemaps():
    parsed = parse_sitemap((SITEMAPS / "sitemap2.xml").read_bytes(), "http://www.example.com/sitemap_index.xml")
    assert parsed.kind == "sitemap_index" and parsed.entries == []
    assert [(c.url, c.lastmod) for c in parsed.children] == [
        ("http://www.example.com/sitemap1.xml.gz", datetime(2004, 10, 1, 18, 23, 17, tzinfo=timezone.utc)),
        ("http://www.example.com/sitemap2.xml.gz", datetime(2005, 1, 1, tzinfo=timezone.utc))]


def test_hreflang_alternates_do_not_add_or_replace_pages():
    parsed = parse_sitemap((SITEMAPS / "sitemap-hreflang.xml").read_bytes(), "http://www.example.com/sitemap.xml")
    assert [e.url for e in parsed.entries] == ["http://www.example.com/english/page.html",
                                               "http://www.example.com/deutsch/page.html",
                                               "http://www.example.com/schweiz-deutsch/page.html"]


def test_a_news_sitemap_gives_publication_date_title_and_language_not_an_image_title():
    published = datetime(2026, 12, 7, 9, 30, tzinfo=timezone.utc)
    raw = news_sitemap([("https://news.example.com/business/article55.html", published, "Companies A, B in Merger Talks")],
                       language="de-CH")
    raw = raw.replace(b"<news:news>", b'<image:image xmlns:image="http://www.google.com/schemas/sitemap-image/1.1">'
                      b"<image:loc>https://news.example.com/a.jpg</image:loc><image:title>A photo</image:title>"
                      b"</image:image><news:news>")
    parsed = parse_sitemap(raw, "https://news.example.com/news-sitemap.xml")
    assert parsed.kind == "news_sitemap"
    assert parsed.entries == [SitemapEntry("https://news.example.com/business/article55.html", published_at=published,
                                           title="Companies A, B in Merger Talks", language="de")]


def test_pages_of_other_sites_navigation_pages_and_bad_urls_are_dropped_by_reason():
    items = ["https://www.example.com/news/1.html", "https://example.com/news/2.html", "https://evil.example.org/x",
             "https://www.example.com/tag/politics/", "https://www.example.com/login", "javascript:alert(1)"]
    raw = ('<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
           + "".join(f"<url><loc>{u}</loc></url>" for u in items) + "</urlset>").encode()
    parsed = parse_sitemap(raw, "https://www.example.com/sitemap.xml")
    assert [e.url for e in parsed.entries] == items[:2]  # example.com and www.example.com are one site
    assert parsed.dropped == {"offsite": 1, "navigation_page": 1, "not_crawlable": 1, "bad_url": 1}


def test_plain_text_sitemaps_count_only_when_the_source_is_known_to_be_a_sitemap():
    raw = b"https://example.com/a.html\n\n  https://example.com/b.html  \nnot a url\n"
    assert [e.url for e in parse_sitemap(raw, "https://example.com/s.txt", text_ok=True).entries] == [
        "https://example.com/a.html", "https://example.com/b.html"]
    assert parse_sitemap(raw, "https://example.com/s.txt").kind is None
    page = parse_sitemap(b"<html><body>Hello</body></html>", "https://example.com/s.txt", text_ok=True)
    assert page.kind is None and page.problem.startswith("not a sitemap")


def test_broken_xml_keeps_what_parsed_and_says_what_was_wrong():
    raw = (b'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><url><loc>https://example.com/a.html</loc></url>'
           b"<url><loc>https://example.com/b.html</loc></url><url><loc>https://exa")
    parsed = parse_sitemap(raw, "https://example.com/sitemap.xml")
    assert [e.url for e in parsed.entries] == ["https://example.com/a.html", "https://example.com/b.html"]
    assert parsed.kind == "sitemap"


def test_entities_are_not_expanded():
    raw = (b'<?xml version="1.0"?><!DOCTYPE urlset [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
           b'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><url><loc>https://example.com/&x;</loc></url></urlset>')
    parsed = parse_sitemap(raw, "https://example.com/sitemap.xml")
    assert all("root:" not in e.url for e in parsed.entries)


def test_50000_urls_parse_in_bounded_memory_and_max_urls_stops_early():
    raw = ('<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
           + "".join(f"<url><loc>https://example.com/archive/{i}.html</loc><lastmod>2026-01-01</lastmod></url>"
                     for i in range(50_000)) + "</urlset>").encode()
    tracemalloc.start()
    parsed = parse_sitemap(raw, "https://example.com/sitemap.xml")
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert len(parsed.entries) == 50_000 and not parsed.truncated
    # The entries themselves (~50,000 small records) dominate; the parsed tree is freed as it is read.
    assert peak < 40 * len(raw) // 4, peak
    capped = parse_sitemap(raw, "https://example.com/sitemap.xml", max_urls=1000)
    assert len(capped.entries) == 1000 and capped.truncated


def test_same_site_and_recent():
    assert same_site("https://www.example.com/a", "example.com")
    assert same_site("http://127.0.0.1:8000/a", "127.0.0.1")
    assert not same_site("http://127.0.0.2/a", "127.0.0.1")
    now = datetime(2026, 12, 7, tzinfo=timezone.utc)
    assert is_recent(SitemapEntry("u", lastmod=now - timedelta(days=1)), now, 2)
    assert not is_recent(SitemapEntry("u", published_at=now - timedelta(days=3), lastmod=now), now, 2)
    assert not is_recent(SitemapEntry("u"), now, 2)
