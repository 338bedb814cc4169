"""Feeds: parse RSS 0.9x/1.0/2.0, Atom, RDF (feedparser) and JSON Feed (here); read feed lists and OPML.

An entry's HTML becomes a RawDocument when it is the whole article (`is_full`); otherwise the flow
fetches the linked page. A broken feed keeps whatever parsed and says what was wrong in `problem`.
"""
from __future__ import annotations

import hashlib
import html
import re
import uuid
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import urljoin, urlsplit

from newsflow.extractors.records import RawDocument

FULL_MIN_WORDS = 150  # an entry body at least this long (and not cut off) is taken as the whole article
# How a cut-off body ends: "…", "[...]", or a "Read more (at Site)" / "Continue reading →" link near the end.
TRUNCATED_END = re.compile(r"(\u2026|\.\.\.|\[\s*(?:\u2026|\.\.\.)\s*\])\W{0,12}$")
READ_MORE = re.compile(
    r"\b(read\s+more|continue\s+reading|keep\s+reading|read\s+the\s+(?:full|rest|whole)|more\s*(?:\u00bb|>>|\u2192))",
    re.IGNORECASE,
)
TAG = re.compile(r"<[^>]*>")
CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]")
FEED_ROOT = re.compile(rb"<(?:rss|feed|rdf:RDF|RDF)\b")
URL_PREFIXES = ("http://", "https://")


@dataclass(slots=True)
class FeedEntry:
    """One feed item: key (guid, else link, else a content hash), link, metadata and its HTML."""

    key: str
    url: str | None
    title: str | None
    author: str | None
    published_at: datetime | None  # UTC
    content_html: str | None  # content:encoded, Atom content, JSON content_html/content_text
    summary_html: str | None  # description, Atom summary, JSON summary
    is_full: bool  # whether body_html is the whole article (no need to fetch the page)

    @property
    def body_html(self) -> str | None:
        """The best HTML the feed gave for this entry: full content, else the summary."""
        return self.content_html or self.summary_html


@dataclass(slots=True)
class ParsedFeed:
    """A parsed feed: kind ('rss', 'atom', 'rdf', 'json', or None if not a feed) and its entries."""

    kind: str | None
    title: str | None
    entries: list[FeedEntry] = field(default_factory=list)
    problem: str | None = None  # what was wrong (feedparser's bozo, bad JSON); entries are what parsed
    link: str | None = None  # the site's home page


def text_of(html_text: str | None) -> str:
    """The visible text of an HTML fragment, whitespace collapsed."""
    if not html_text:
        return ""
    return " ".join(html.unescape(TAG.sub(" ", html_text)).split())


def count_words(text: str) -> int:
    """Whitespace-separated words, counting each CJK character as a word (those scripts use no spaces)."""
    return len(text.split()) + len(CJK.findall(text))


def judge_full(content_html: str | None, summary_html: str | None) -> bool:
    """Whether the entry's best body is the whole article: long enough and not cut off."""
    text = text_of(content_html or summary_html)
    tail = text[-120:]
    return count_words(text) >= FULL_MIN_WORDS and not TRUNCATED_END.search(tail) and not READ_MORE.search(tail)


def parse_feed(content: bytes, base_url: str | None = None, content_type: str | None = None) -> ParsedFeed:
    """Parse feed bytes of any supported format; never raises on malformed input, reports `problem`."""
    if _looks_like_json(content):
        from newsflow.extractors.jsonfeed import parse_json_feed

        return parse_json_feed(content, base_url)
    parsed = _feedparse(content, base_url, content_type)
    if not parsed.entries and parsed.problem:
        repaired = _repair_xml(content)
        if repaired is not None:
            second = _feedparse(repaired, base_url, content_type)
            if second.entries:
                second.problem = f"repaired: {parsed.problem}"
                return second
    return parsed


def _looks_like_json(content: bytes) -> bool:
    head = content[:64].lstrip(b"\xef\xbb\xbf \t\r\n")
    return head.startswith((b"{", b"["))


_SURROGATE_REF = re.compile(rb"&#(?:[xX]0*[dD][89a-fA-F][0-9a-fA-F]{2}|0*5(?:5(?:29[6-9]|[3-9]\d\d)|6\d{3}|7(?:[0-2]\d\d|3[0-3]\d|34[0-3])));")


def _feedparse(content: bytes, base_url: str | None, content_type: str | None) -> ParsedFeed:
    import feedparser

    headers = {}
    if base_url:
        headers["content-location"] = base_url
    if content_type:
        headers["content-type"] = content_type
    # XML must start at the first byte; servers often send a newline first, which feedparser calls bozo.
    if content[:1].isspace() and content.lstrip()[:5] == b"<?xml":
        content = content.lstrip()
    # feedparser's fallback parser raises on a character reference to a lone surrogate (&#xD800;).
    content = _SURROGATE_REF.sub(b"&#xFFFD;", content)
    d = feedparser.parse(content, response_headers=headers, sanitize_html=True, resolve_relative_uris=True)
    version = d.get("version") or ""
    kind = _kind_of(version)
    problem = None
    if d.get("bozo"):
        exc = d.get("bozo_exception")
        problem = f"{type(exc).__name__}: {exc}"[:500] if exc else "bozo"
    if kind is None and not d.entries:
        problem = problem or "not a feed: no RSS, Atom or RDF root element"
    entries = [_entry_from_feedparser(e, base_url) for e in d.entries]
    feed = d.get("feed", {})
    return ParsedFeed(kind=kind or ("rss" if entries else None), title=feed.get("title") or None,
                      entries=entries, problem=problem, link=feed.get("link") or None)


def _kind_of(version: str) -> str | None:
    if version.startswith("atom"):
        return "atom"
    if version in ("rss090", "rss10"):
        return "rdf"
    if version.startswith("rss") or version == "cdf":
        return "rss"
    return None


def _repair_xml(content: bytes) -> bytes | None:
    """A second chance for badly broken XML: drop junk before the root, strip `rss:` prefixes."""
    match = FEED_ROOT.search(content[:20_000])
    if match is None:
        return None
    repaired = re.sub(rb"<(/?)rss:", rb"<\1", content[match.start():])
    return repaired if repaired != content else None


def utc_of(struct) -> datetime | None:
    try:
        return datetime(*struct[:6], tzinfo=timezone.utc) if struct else None
    except (TypeError, ValueError):
        return None


def _entry_from_feedparser(e, base_url: str | None) -> FeedEntry:
    contents = [c for c in e.get("content", []) if c.get("value")]
    content_html = None
    if contents:
        best = max(contents, key=lambda c: len(c["value"]))
        content_html = as_html(best["value"], best.get("type"))
    summary_html = e.get("summary") or None
    if summary_html and e.get("summary_detail", {}).get("type") == "text/plain":
        summary_html = as_html(summary_html, "text/plain")
    if content_html and summary_html and text_of(content_html) == text_of(summary_html):
        summary_html = None  # feedparser copies a lone content into summary for some formats
    url = e.get("link") or None
    if url and base_url:
        url = urljoin(base_url, url)
    author = e.get("author") or ", ".join(a.get("name", "") for a in e.get("authors", []) if a.get("name")) or None
    published = utc_of(e.get("published_parsed")) or utc_of(e.get("updated_parsed")) or utc_of(e.get("created_parsed"))
    title = e.get("title") or None
    key = e.get("id") or url or content_key(title, published, content_html or summary_html)
    return FeedEntry(key=key, url=url, title=title, author=author, published_at=published,
                     content_html=content_html, summary_html=summary_html,
                     is_full=judge_full(content_html, summary_html))


def as_html(value: str, media_type: str | None) -> str:
    """HTML as given, or plain text escaped into paragraphs."""
    if media_type and "html" not in media_type:
        paragraphs = [p.strip() for p in re.split(r"\n\s*\n", value) if p.strip()]
        return "".join(f"<p>{html.escape(p)}</p>" for p in paragraphs)
    return value


def content_key(title: str | None, published: datetime | None, body: str | None) -> str:
    """A stable key for an entry with neither guid nor link."""
    basis = f"{title or ''}\n{published.isoformat() if published else ''}\n{text_of(body)[:500]}"
    return "sha1:" + hashlib.sha1(basis.encode("utf-8")).hexdigest()


def entry_documents(
    feed: ParsedFeed,
    source_kind: str,
    source_ref: str,
    received_at: datetime,
    site: str | None = None,
) -> list[RawDocument]:
    """One 'html' RawDocument per entry with any body (full content, else summary), in feed order."""
    docs = []
    for entry in feed.entries:
        body = entry.body_html
        if not body or not text_of(body):
            continue
        if "<" not in body:  # plain text posing as HTML: give the extractor paragraphs to parse
            body = as_html(html.unescape(body), "text/plain")
        content = body.encode("utf-8")
        docs.append(
            RawDocument(
                document_id=uuid.uuid4().hex,
                source_kind=source_kind,
                source_ref=f"{source_ref}#{entry.key}",
                content=content,
                media_type="html",
                received_at=received_at,
                raw_sha256=hashlib.sha256(content).hexdigest(),
                site=site or _host(entry.url) or _host(feed.link),
                url=entry.url,
                title=entry.title,
                author=entry.author,
                published_at=entry.published_at,
            )
        )
    return docs


def _host(url: str | None) -> str | None:
    if not url:
        return None
    try:
        return urlsplit(url).hostname or None
    except ValueError:
        return None


def read_sources(args: list[str]) -> list[str]:
    """Feed URLs from arguments that are URLs, text files of URLs (# comments) or OPML files; order kept."""
    urls: list[str] = []
    for arg in args:
        if arg.startswith(URL_PREFIXES):
            urls.append(arg.strip())
            continue
        path = Path(arg)
        if not path.is_file():
            # FileNotFoundError: the command line reports it as a usage problem, not a crash.
            raise FileNotFoundError(f"{arg!r} is neither an http(s) URL nor a readable file of feed URLs")
        raw = path.read_bytes()
        if b"<opml" in raw[:2048].lower():
            urls.extend(_opml_urls(raw))
        else:
            for line in raw.decode("utf-8-sig", "replace").splitlines():
                line = line.strip()
                if line and not line.startswith("#"):
                    urls.append(line)
    return list(dict.fromkeys(urls))


def _opml_urls(raw: bytes) -> list[str]:
    """xmlUrl of every outline, nested folders included; a regex pass when the XML is broken."""
    try:
        root = ET.fromstring(raw)
    except ET.ParseError:
        return [html.unescape(m.decode("utf-8", "replace"))
                for m in re.findall(rb"""xmlUrl\s*=\s*["']([^"']+)["']""", raw, re.IGNORECASE)]
    found = []
    for outline in root.iter("outline"):
        for name, value in outline.attrib.items():
            if name.lower() == "xmlurl" and value.strip():
                found.append(value.strip())
    return found
