"""Sitemaps as sources of the feeds flow: read a polled sitemap (following an index), and plan its new pages.

    poll (flows/feeds.py: one conditional GET)      -> read_sitemap: unpack, parse, follow an index's
                                                       sitemaps (depth- and count-limited, loops cut),
                                                       each skipped when its lastmod is as when last read
                                                       whole, else asked with its validators (sitemap_files)
    plan_sitemap: entries not seen (by this source or any other) -> pages to fetch, with the news
                  sitemap's title, publication date and language; on a source's first poll, entries older
                  than first_poll_days (or undated) are only marked seen: the site's new articles, not its archive.

Every request goes through the flow's Fetcher (SSRF rules, per-host limits, deadlines, robots.txt for the
sitemaps an index points to).
"""
from __future__ import annotations

from collections import Counter
from dataclasses import replace
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from newsflow.extractors.fetch import FetchError, Fetcher, Response
from newsflow.extractors.settings import Sources
from newsflow.extractors.sitemaps import SitemapEntry, SitemapError, is_recent, parse_sitemap, unpack
from newsflow.storage.sources import SitemapFile, SourceState

SITEMAP_ACCEPT = "application/xml, text/xml;q=0.9, application/x-gzip;q=0.8, text/plain;q=0.5, */*;q=0.3"
DAY = timedelta(days=1)


def newest_first(children: list[SitemapEntry]) -> list[SitemapEntry]:
    """An index's sitemaps, the most recently modified first (undated ones last, in their order)."""
    return sorted(children, key=lambda c: (c.lastmod is None, -(c.lastmod.timestamp() if c.lastmod else 0)))


def read_sitemap(fetcher: Fetcher, state: SourceState, response: Response, now: datetime, cfg: Sources,
                 max_bytes: int, text_ok: bool = False, files: dict[str, SitemapFile] | None = None):
    """The poll of a sitemap source whose first file is `response`: its page entries, the index followed.
    text_ok: the source was given as a sitemap, so a plain list of URLs is one too. files: the sitemaps under this
    index as last read (`sitemap_files`), for conditional GETs; the poll's `sitemap_files` are the rows to save."""
    from newsflow.flows.feeds import FeedPoll

    state = replace(state, source_type="sitemap", last_status=response.status)
    try:
        parsed = parse_sitemap(unpack(response.content, max_bytes), response.final_url,
                               text_ok=text_ok,
                               max_urls=cfg.sitemap_max_urls)
    except SitemapError as exc:
        parsed = None
        problem = f"{exc.reason}: {exc.detail}"
    else:
        problem = f"sitemap_invalid: {parsed.problem}" if parsed.kind is None else None
    if problem:  # validators are not kept, so the next poll reads it again rather than getting a 304
        return FeedPoll(replace(state, consecutive_errors=state.consecutive_errors + 1, last_error=problem[:1000]))
    dropped = Counter(parsed.dropped)
    entries, fetched, problems, known, kept = list(parsed.entries), 1, [], files or {}, []
    if parsed.kind == "sitemap_index":
        # A sitemap never read whole before is skipped when not modified since a day before the last successful
        # poll (or the first-poll window; date-only lastmods are why the day of slack). One read before is skipped
        # when the index gives the lastmod it had then, and asked with its validators otherwise.
        since = (state.last_success_at or now - timedelta(days=cfg.first_poll_days)) - DAY
        queue = [(child, 1) for child in newest_first(parsed.children)]
        visited = {state.source_url, response.final_url}
        while queue and fetched < cfg.sitemap_max_files and len(entries) < cfg.sitemap_max_urls:
            child, depth = queue.pop(0)
            if child.url in visited:
                dropped["sitemap_seen_twice"] += 1  # an index listing itself, or two indexes listing each other
                continue
            visited.add(child.url)
            stored = known.get(child.url)
            if stored is not None and child.lastmod is not None and stored.lastmod == child.lastmod:
                dropped["sitemap_lastmod_unchanged"] += 1
                continue
            if stored is None and child.lastmod is not None and child.lastmod < since:
                dropped["sitemap_not_modified"] += 1
                continue
            fetched += 1
            try:
                got = fetcher.get(child.url, accept=SITEMAP_ACCEPT, max_bytes=max_bytes,
                                  etag=stored.etag if stored else None,
                                  last_modified=stored.last_modified if stored else None)
                if got.not_modified:
                    dropped["sitemap_not_modified"] += 1
                    kept.append(replace(stored, lastmod=child.lastmod, read_at=now))
                    continue
                sub = parse_sitemap(unpack(got.content, max_bytes), got.final_url,
                                    max_urls=cfg.sitemap_max_urls - len(entries))
            except (FetchError, SitemapError) as exc:
                problems.append(f"{child.url}: {sitemap_reason(exc, max_bytes)}")
                continue
            if sub.kind == "sitemap_index":
                if depth < cfg.sitemap_max_depth:
                    queue += [(c, depth + 1) for c in newest_first(sub.children)]
                else:
                    dropped["sitemap_too_deep"] += len(sub.children)
            elif sub.kind is None:
                problems.append(f"{child.url}: sitemap_invalid")
            elif not sub.truncated and not sub.problem:  # read whole: its validators can stand for it next time
                kept.append(SitemapFile(state.source_url, child.url, got.headers.get("etag"),
                                        got.headers.get("last-modified"), child.lastmod, now))
            entries += sub.entries
            dropped.update(sub.dropped)
        dropped["sitemap_over_limit"] += len(queue)
    entries = list({e.url: e for e in reversed(entries)}.values())[::-1]  # each URL once, first listing wins
    failed = parsed.kind == "sitemap_index" and fetched > 1 and len(problems) == fetched - 1
    error = "; ".join(problems)[:1000] if problems else None
    # An index is read in full every poll (no validators kept): its sitemaps change while it often does not, and a
    # 304 for it would hide theirs. Its sitemaps have theirs (`sitemap_files`).
    validators = parsed.kind != "sitemap_index"
    state = replace(
        state,
        kind=parsed.kind,
        etag=response.headers.get("etag") if validators else None,
        last_modified=response.headers.get("last-modified") if validators else None,
        consecutive_errors=state.consecutive_errors + 1 if failed else 0,
        last_error=f"sitemap_problem: {error}" if error else (f"sitemap_problem: {parsed.problem}" if parsed.problem else None),
    )
    return FeedPoll(state, sitemap=entries, files=fetched, dropped={k: v for k, v in dropped.items() if v},
                    sitemap_files=kept)


def sitemap_reason(exc: FetchError | SitemapError, max_bytes: int) -> str:
    """The reason a sitemap fetch failed with; a body over the limit is `sitemap_too_large`, with the limit."""
    if exc.reason == "fetch_too_large":
        return f"sitemap_too_large: over {max_bytes} bytes (NEWSFLOW_MAX_SITEMAP_BYTES)"
    return exc.reason


def plan_sitemap(source_url: str, entries: list[SitemapEntry], first_poll: bool, seen: set[tuple[str, str]],
                 seen_elsewhere: set[str], now: datetime, cfg: Sources, work, pages: dict[str, str],
                 totals: dict[str, int]) -> list:
    """Pages to fetch for a sitemap's new entries (templates carrying its metadata); the rest marked seen.

    `pages` maps a page URL already planned in this run (by a feed) to its document: the sitemap's entry joins
    that document (filling in the date, title and language the feed did not give) rather than fetching it twice.
    """
    from newsflow.flows.feeds import _host, placeholder

    targets = []
    for entry in entries:
        pair = (source_url, entry.url)
        if pair in seen or entry.url in seen_elsewhere:
            totals["entries_seen_before"] += 1
            continue
        if first_poll and not is_recent(entry, now, cfg.first_poll_days):
            work.seen_only.append(pair)  # the archive of a site is not its news
            totals["entries_skipped_old"] += 1
            continue
        totals["entries_new"] += 1
        if entry.url in pages:
            planned = pages[entry.url]
            work.entry_of.setdefault(planned.document_id, []).append(pair)
            planned.published_at = planned.published_at or entry.published_at
            planned.title = planned.title or entry.title
            planned.language = planned.language or entry.language
            continue
        template = placeholder("sitemap", f"{source_url}#{entry.url}", now, url=entry.url, title=entry.title,
                               published_at=entry.published_at, site=_host(entry.url), language=entry.language)
        work.entry_of[template.document_id] = [pair]
        pages[entry.url] = template
        targets.append((entry.url, template))
    return targets


def origin_of(url: str) -> str:
    """scheme://host[:port] of a URL."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"
