"""Sitemaps: urlsets, sitemap indexes, news sitemaps and plain-text lists of URLs, gzipped or not.

Parsing streams the XML (lxml iterparse, each element freed once read), so a 50,000-URL file costs one pass
and a few entries' memory. Gzip is unpacked with trafilatura's bounded decompressor under the sitemap size limit;
URLs are filtered with courlan (other sites, navigation pages, not crawlable pages), as trafilatura's own sitemap
crawler does, but kept as listed (not normalised), so a page a feed links to has the same key in `seen_entries`. Entries carry what news sitemaps add: publication date, title and language.
"""
from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from urllib.parse import urljoin, urlsplit

from newsflow.extractors.records import parse_datetime, web_url

GZIP_MAGIC = b"\x1f\x8b"
SITEMAP_ROOT = re.compile(rb"<(?:[\w.-]+:)?(?:urlset|sitemapindex)\b")
TEXT_URL = re.compile(r"^\s*(https?://\S+)\s*$")
SPACE = re.compile(r"\s")
NEWS_NS = "http://www.google.com/schemas/sitemap-news/0.9"


class SitemapError(Exception):
    """A sitemap that cannot be read; `reason` is snake_case (sitemap_too_large, sitemap_bad_gzip)."""

    def __init__(self, reason: str, detail: str = ""):
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


@dataclass(slots=True)
class SitemapEntry:
    """One <url> (or one <sitemap> of an index): its location, lastmod and, in a news sitemap, the article's
    publication date, title and language."""

    url: str
    lastmod: datetime | None = None
    published_at: datetime | None = None
    title: str | None = None
    language: str | None = None

    @property
    def date(self) -> datetime | None:
        """The best date for "is it new": the publication date, else the last modification."""
        return self.published_at or self.lastmod


@dataclass(slots=True)
class ParsedSitemap:
    """kind: 'sitemap', 'news_sitemap', 'sitemap_index', 'sitemap_text', or None when it is not a sitemap."""

    kind: str | None
    entries: list[SitemapEntry] = field(default_factory=list)  # pages (urlset, text)
    children: list[SitemapEntry] = field(default_factory=list)  # sitemaps (index)
    dropped: dict[str, int] = field(default_factory=dict)  # reason -> URLs left out (offsite, navigation, ...)
    truncated: bool = False  # stopped at max_urls
    problem: str | None = None


def unpack(content: bytes, max_bytes: int) -> bytes:
    """The sitemap bytes, gunzipped when gzipped (a .xml.gz served as is), never more than max_bytes unpacked."""
    if not content.startswith(GZIP_MAGIC):
        return content
    from trafilatura.utils import handle_compressed_file

    unpacked = handle_compressed_file(content, max_size=max_bytes)
    if unpacked is content or unpacked.startswith(GZIP_MAGIC):  # trafilatura hands back what it could not unpack
        raise SitemapError("sitemap_bad_gzip", f"not a gzip stream that unpacks within {max_bytes} bytes")
    return unpacked


def looks_like_sitemap(content: bytes) -> bool:
    """Whether bytes start like an XML sitemap or index (or are gzipped, as only sitemaps are among sources)."""
    return content.startswith(GZIP_MAGIC) or SITEMAP_ROOT.search(content[:4096]) is not None


def same_site(url: str, host: str | None, domains: dict[str, str | None] | None = None) -> bool:
    """Whether url is on host or on the same registered domain (www.site.com and site.com; courlan decides).
    domains: a cache of host -> registered domain for one sitemap's many URLs."""
    other = _host(url)
    if not host or not other:
        return False
    if other == host:
        return True
    from courlan import extract_domain

    domains = {} if domains is None else domains
    for name in (host, other):
        if name not in domains:
            domains[name] = extract_domain(f"http://{name}/", fast=True)
    return domains[host] is not None and domains[host] == domains[other]


def page_problem(url: str, news: bool) -> str | None:
    """Why a listed page is not an article to fetch (courlan's filters), or None. News sitemaps list articles only."""
    from courlan import is_navigation_page, is_not_crawlable

    if is_not_crawlable(url):
        return "not_crawlable"
    if not news and is_navigation_page(url):
        return "navigation_page"
    return None


def parse_sitemap(content: bytes, base_url: str, *, text_ok: bool = False, max_urls: int = 50_000) -> ParsedSitemap:
    """Parse sitemap bytes (already unpacked); never raises on malformed input, says what was wrong in `problem`.

    Only URLs on the sitemap's own site are kept. A plain-text list of URLs counts only when text_ok.
    """
    if SITEMAP_ROOT.search(content[:4096]) is None:
        if text_ok and not content.lstrip()[:1] == b"<":
            return _parse_text(content, base_url, max_urls)
        return ParsedSitemap(None, problem="not a sitemap: no urlset or sitemapindex element")
    return _parse_xml(content, base_url, max_urls)


def _parse_text(content: bytes, base_url: str, max_urls: int) -> ParsedSitemap:
    out, site = ParsedSitemap("sitemap_text"), _Site(base_url)
    for line in content.decode("utf-8", "replace").splitlines():
        match = TEXT_URL.match(line)
        if match:
            if len(out.entries) >= max_urls:
                out.truncated = True
                break
            site.keep(out, SitemapEntry(match.group(1)), news=False)
    return out


def _local(tag: object) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _parse_xml(content: bytes, base_url: str, max_urls: int) -> ParsedSitemap:
    from lxml import etree

    out, site = ParsedSitemap(None), _Site(base_url)
    news = False
    root = SITEMAP_ROOT.search(content[:4096])
    out.kind = "sitemap_index" if root and b"sitemapindex" in root.group(0) else "sitemap"
    # Only <url> and <sitemap> elements (any namespace: old Google and unprefixed ones are about) reach Python.
    items = etree.iterparse(io.BytesIO(content), events=("end",), tag=("{*}url", "{*}sitemap"), resolve_entities=False,
                            no_network=True, recover=True, huge_tree=False, remove_comments=True, remove_pis=True)
    try:
        for _, element in items:
            name = _local(element.tag)
            if element.getparent() is None:
                continue
            entry = _entry_of(element, site.dates)
            parent = element.getparent()
            element.clear(keep_tail=False)
            while element.getprevious() is not None:  # free what was read: memory stays flat over 50,000 URLs
                del parent[0]
            if entry is None:
                continue
            if len(out.entries) + len(out.children) >= max_urls:
                out.truncated = True
                break
            if name == "sitemap" and out.kind == "sitemap_index":
                child = _absolute(entry.url, base_url)
                if child and same_site(child, site.host, site.domains):
                    entry.url = child
                    out.children.append(entry)
                else:
                    out.dropped["offsite"] = out.dropped.get("offsite", 0) + 1
            elif name == "url":
                news = news or entry.published_at is not None or entry.title is not None
                site.keep(out, entry, news=entry.published_at is not None)
    except etree.XMLSyntaxError as exc:
        out.problem = f"XMLSyntaxError: {exc}"[:500]
    if out.kind == "sitemap" and news:
        out.kind = "news_sitemap"
    if out.kind is None:
        out.problem = out.problem or "not a sitemap: no urlset or sitemapindex element"
    return out


def _entry_of(element, dates: dict[str, datetime | None]) -> SitemapEntry | None:
    """loc and lastmod (children in the element's own namespace: an image:image has a loc of its own) and the
    news:news block's publication_date, title and publication/language of one <url> or <sitemap>."""
    tag = element.tag
    ns = tag[: tag.index("}") + 1] if tag.startswith("{") else ""
    loc = (element.findtext(ns + "loc") or "").strip()
    if not loc:
        return None
    lastmod = _date((element.findtext(ns + "lastmod") or "").strip(), dates)
    news = element.find(f"{{{NEWS_NS}}}news")
    if news is None:
        return SitemapEntry(url=loc, lastmod=lastmod)
    language = (news.findtext(f"{{{NEWS_NS}}}publication/{{{NEWS_NS}}}language") or "").strip()
    return SitemapEntry(url=loc, lastmod=lastmod,
                        published_at=_date((news.findtext(f"{{{NEWS_NS}}}publication_date") or "").strip(), dates),
                        title=(news.findtext(f"{{{NEWS_NS}}}title") or "").strip() or None,
                        language=language.lower()[:2] or None)


def _date(text: str | None, dates: dict[str, datetime | None]) -> datetime | None:
    """parse_datetime, once per distinct string (a sitemap repeats the same few lastmods thousands of times)."""
    if not text:
        return None
    if text not in dates:
        dates[text] = parse_datetime(text)
    return dates[text]


class _Site:
    """What filtering one sitemap's URLs needs: its base URL and host, and caches over its many entries."""

    def __init__(self, base_url: str):
        self.base_url = base_url
        self.host = _host(base_url)
        parts = urlsplit(base_url)
        self.origin = f"{parts.scheme}://{parts.netloc}/"  # a URL starting with it is on the site, no parsing needed
        self.domains: dict[str, str | None] = {}
        self.dates: dict[str, datetime | None] = {}

    def keep(self, out: ParsedSitemap, entry: SitemapEntry, news: bool) -> None:
        """Add a page entry if its URL is a web page's on this site and passes courlan's filters; else count why not."""
        url = entry.url.strip()
        if not url.startswith(("http://", "https://")) or SPACE.search(url):
            url = _absolute(url, self.base_url)
        on_site = url and (url.startswith(self.origin) or same_site(url, self.host, self.domains))
        reason = "bad_url" if not url else "offsite" if not on_site else page_problem(url, news)
        if reason:
            out.dropped[reason] = out.dropped.get(reason, 0) + 1
            return
        entry.url = url
        out.entries.append(entry)


def _absolute(url: str, base_url: str) -> str | None:
    return web_url(urljoin(base_url, url.strip()))


def _host(url: str | None) -> str | None:
    try:
        return urlsplit(url).hostname if url else None
    except ValueError:
        return None


def is_recent(entry: SitemapEntry, now: datetime, days: float) -> bool:
    """Whether the entry is dated within the last `days` (an undated entry is not)."""
    return entry.date is not None and entry.date >= now - timedelta(days=days)
