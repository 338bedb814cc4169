"""JSON feeds, which feedparser 6 does not read: JSON Feed 1.0/1.1 and RSS 2.0 written as JSON (rss.js).

A cut-off JSON Feed keeps its complete items; what was wrong is reported in `ParsedFeed.problem`.
"""
from __future__ import annotations

import html
import json
import re
from datetime import datetime, timezone
from urllib.parse import urljoin

from newsflow.extractors.decoding import valid_text
from newsflow.extractors.feeds import FeedEntry, ParsedFeed, as_html, content_key, judge_full, utc_of


def parse_json_feed(content: bytes, base_url: str | None) -> ParsedFeed:
    """JSON Feed 1.0/1.1 (https://jsonfeed.org/version/1.1), which feedparser 6 does not read."""
    try:
        # strict=False: raw control characters inside strings are common in hand-made feeds.
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        return ParsedFeed(kind=None, title=None, problem=f"{type(exc).__name__}: {exc}"[:500])
    try:
        data = json.loads(text, strict=False)
    except json.JSONDecodeError as exc:
        salvaged = _salvage_json_feed(text)
        if salvaged is None:
            return ParsedFeed(kind=None, title=None, problem=f"{type(exc).__name__}: {exc}"[:500])
        feed = parse_json_feed(json.dumps(salvaged).encode(), base_url)
        feed.problem = f"truncated: kept {len(feed.entries)} complete items ({exc})"[:500]
        return feed
    if isinstance(data, dict) and isinstance(data.get("rss"), dict):
        return _parse_rss_json(data["rss"], base_url)
    if not isinstance(data, dict) or not isinstance(data.get("items"), list):
        return ParsedFeed(kind=None, title=None, problem="not a feed: JSON without an `items` list")
    problem = None
    if "jsonfeed.org/version/" not in str(data.get("version", "")):
        problem = "json feed without a jsonfeed.org version"
    base = base_url or data.get("home_page_url") or data.get("feed_url")
    feed_author = _json_author(data)
    entries = []
    for item in data["items"]:
        if isinstance(item, dict):
            entries.append(_entry_from_json(item, base, feed_author))
        else:
            problem = "json feed item that is not an object"
    title, link = _json_text(data, "title"), _json_text(data, "home_page_url")
    return ParsedFeed(kind="json", title=title, entries=entries, problem=problem, link=link)


def _salvage_json_feed(text: str) -> dict | None:
    """The feed fields and every complete item of a cut-off JSON Feed, or None if there are none."""
    start = re.search(r'"items"\s*:\s*\[', text)
    if start is None:
        return None
    decoder = json.JSONDecoder(strict=False)
    items, pos = [], start.end()
    while True:
        pos = len(text) - len(text[pos:].lstrip(" \t\r\n,"))
        try:
            item, pos = decoder.raw_decode(text, pos)
        except json.JSONDecodeError:
            break
        items.append(item)
    if not items:
        return None
    head = {"items": items}
    for name in ("version", "title", "home_page_url", "feed_url"):
        match = re.search(rf'"{name}"\s*:\s*("(?:[^"\\]|\\.)*")', text[: start.start()])
        if match:
            head[name] = json.loads(match.group(1), strict=False)
    return head


def _json_author(obj: dict) -> str | None:
    authors = obj.get("authors") if isinstance(obj.get("authors"), list) else [obj.get("author")]
    names = [a.get("name") for a in authors if isinstance(a, dict) and isinstance(a.get("name"), str)]
    return valid_text(", ".join(names)) or None


def _json_text(item: dict, key: str) -> str | None:
    value = item.get(key)
    return valid_text(value) if isinstance(value, str) and value.strip() else None


def _entry_from_json(item: dict, base: str | None, feed_author: str | None) -> FeedEntry:
    content_html = _json_text(item, "content_html")
    if content_html is None and _json_text(item, "content_text"):
        content_html = as_html(_json_text(item, "content_text"), "text/plain")
    summary = _json_text(item, "summary")
    summary_html = html.escape(summary) if summary else None
    url = _json_text(item, "url") or _json_text(item, "external_url")
    if url and base:
        url = urljoin(base, url)
    published = _isoutc_of(_json_text(item, "date_published")) or _isoutc_of(_json_text(item, "date_modified"))
    title = _json_text(item, "title")
    item_id = item.get("id")
    key = valid_text(str(item_id)) if item_id not in (None, "") else url or content_key(title, published, content_html)
    return FeedEntry(key=key, url=url, title=title, author=_json_author(item) or feed_author,
                     published_at=published, content_html=content_html, summary_html=summary_html,
                     is_full=judge_full(content_html, summary_html))


def _parse_rss_json(rss: dict, base_url: str | None) -> ParsedFeed:
    """RSS 2.0 written as JSON (Dave Winer's rss.js: {"rss": {"channel": {"item": [...]}}})."""
    channel = rss.get("channel") if isinstance(rss.get("channel"), dict) else {}
    items = channel.get("item", [])
    items = [items] if isinstance(items, dict) else items if isinstance(items, list) else []
    base = base_url or _json_text(channel, "link")
    entries = []
    for item in items:
        if not isinstance(item, dict):
            continue
        guid = item.get("guid")
        guid = guid.get("value") if isinstance(guid, dict) else guid
        url = _json_text(item, "link")
        url = urljoin(base, url) if url and base else url
        title = _json_text(item, "title")
        published = _isoutc_of(_json_text(item, "pubDate"))
        summary = _json_text(item, "description")
        content = _json_text(item, "content:encoded")
        key = valid_text(str(guid)) if guid not in (None, "") else url or content_key(title, published, content or summary)
        entries.append(FeedEntry(key=key, url=url, title=title, author=_json_text(item, "author"),
                                 published_at=published, content_html=content, summary_html=summary,
                                 is_full=judge_full(content, summary)))
    return ParsedFeed(kind="json", title=_json_text(channel, "title"), entries=entries,
                      problem=None if items else "rss-in-json without items", link=_json_text(channel, "link"))


def _isoutc_of(value: str | None) -> datetime | None:
    """An RFC 3339 date as UTC; other date formats through feedparser's date parser."""
    if not value:
        return None
    try:
        when = datetime.fromisoformat(value.strip())
    except ValueError:
        from feedparser.datetimes import _parse_date

        return utc_of(_parse_date(value))
    try:
        return (when if when.tzinfo else when.replace(tzinfo=timezone.utc)).astimezone(timezone.utc)
    except OverflowError:  # past the last datetime once in UTC
        return None
