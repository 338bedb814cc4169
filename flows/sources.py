"""Sources: which to poll (subscribed, not backing off), their health after a run, and finding a site's feeds and
sitemaps from its home page (`newsflow sources add https://site/`).

Discovery, with every request through the flow's Fetcher:
    home page      -> feed links (trafilatura's determine_feed: link rel=alternate, else <a> links to feeds)
    robots.txt     -> `Sitemap:` lines (trafilatura's extract_robots_sitemaps)
    common paths   -> /feed, /rss.xml, ... when the page names no feed; /sitemap.xml, news sitemaps, ... when
                      robots.txt names no sitemap
each candidate fetched once and kept only if it parses as a feed or a sitemap; recorded in `sources` with how it
was found (found_by), the site, and subscribed, so scheduled runs (`subscribed=True`) poll it.
"""
from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path

from prefect import flow

from newsflow.extractors.feeds import parse_feed
from newsflow.extractors.fetch import FetchError, Fetcher
from newsflow.extractors.settings import Sources, settings_for
from newsflow.extractors.sitemaps import SitemapError, looks_like_sitemap, parse_sitemap, unpack
from newsflow.flows.health import after_poll, is_due
from newsflow.flows.sitemaps import SITEMAP_ACCEPT, origin_of
from newsflow.storage.db import connection, transaction
from newsflow.storage.sources import (SourcePoll, SourceState, load_sources, mark_seen, record_polls, save_sitemap_files,
                                      save_sources)

COMMON_FEED_PATHS = ("/feed", "/rss", "/rss.xml", "/feed.xml", "/atom.xml", "/index.xml")
NEWS_SITEMAP_GUESSES = ("news-sitemap.xml", "sitemap-news.xml")  # besides trafilatura's GUESSES (sitemap_news.xml)


def sources_to_poll(db: Path, urls: list[str], sitemap_urls: list[str], now: datetime,
                    totals: dict[str, int]) -> list[SourceState]:
    """The stored state of each source to poll now; sitemap_urls are sitemaps whatever they look like. A source
    backing off (next_poll_at later than now) is left out and counted."""
    from prefect import get_run_logger

    wanted = list(dict.fromkeys(urls + sitemap_urls))
    with connection(db) as con:
        states = load_sources(con, wanted)
    due = []
    for url in wanted:
        state = replace(states[url], found_by=states[url].found_by or "given")
        if url in sitemap_urls:
            state = replace(state, source_type="sitemap")
        if is_due(state, now):
            due.append(state)
        else:
            totals["sources_backed_off"] += 1
            get_run_logger().warning("%s: backing off after %d failed polls, next poll after %s", url,
                                     state.consecutive_errors, state.next_poll_at.isoformat(timespec="seconds"))
    return due


def finish_sources(db: Path, polls: list, seen_only: list[tuple[str, str]], now: datetime, cfg: Sources,
                   run_id: str, retry: set[str] = frozenset()) -> None:
    """Save each polled source's state and health, one `source_polls` row each, and the entries only marked seen,
    in one transaction. Sources in `retry` lose their validators (an entry of theirs is to be tried again)."""
    states = [after_poll(p.state, p.new_entries, now, cfg) for p in polls]
    states = [replace(s, etag=None, last_modified=None) if s.source_url in retry else s for s in states]
    # A retried index's sitemaps read this poll (one of them listed the entry) are read whole again next time.
    files = [replace(f, etag=None, last_modified=None, lastmod=None) if f.source_url in retry else f
             for p in polls for f in p.sitemap_files]
    rows = [SourcePoll(p.state.source_url, now, run_id, p.state.last_status, p.state.consecutive_errors == 0,
                       entries=len(p.sitemap) if p.sitemap is not None else len(p.feed.entries) if p.feed else 0,
                       entries_new=p.new_entries, files=p.files,
                       dropped=json.dumps(p.dropped, sort_keys=True) if p.dropped else None, error=p.state.last_error)
            for p in polls]
    with connection(db) as con, transaction(con):
        mark_seen(con, seen_only, now)
        save_sources(con, states)
        save_sitemap_files(con, files)
        record_polls(con, rows)


def feed_links(page: bytes, page_url: str) -> list[str]:
    """Feed URLs a home page names (trafilatura's determine_feed, which parses only)."""
    from trafilatura.feeds import FeedParameters, determine_feed

    origin = origin_of(page_url)
    return determine_feed(page, FeedParameters(origin, origin.split("://", 1)[1], page_url))


def robots_sitemaps(robots_txt: bytes, origin: str) -> list[str]:
    """The `Sitemap:` URLs of a robots.txt (trafilatura's extract_robots_sitemaps)."""
    from trafilatura.sitemaps import extract_robots_sitemaps

    return extract_robots_sitemaps(robots_txt.decode("utf-8", "replace"), origin)


def classify(fetcher: Fetcher, url: str, max_bytes: int) -> tuple[str, str] | None:
    """(source_type, kind) of what url serves: a sitemap or a feed; None when neither (or it cannot be had).
    max_bytes: a sitemap's limit (a feed is held to the fetcher's own)."""
    try:
        response = fetcher.get(url, accept=SITEMAP_ACCEPT, max_bytes=max(max_bytes, fetcher.http.max_body_bytes))
    except FetchError:
        return None
    if looks_like_sitemap(response.content):
        try:
            kind = parse_sitemap(unpack(response.content, max_bytes), response.final_url, max_urls=1).kind
        except SitemapError:
            return None
        return ("sitemap", kind) if kind else None
    if len(response.content) > fetcher.http.max_body_bytes:
        return None
    try:
        feed = parse_feed(response.content, base_url=response.final_url, content_type=response.headers.get("content-type"))
    except Exception:  # a candidate that chokes the parser is not a feed
        return None
    return ("feed", feed.kind) if feed.kind and feed.entries else None


def discover(fetcher: Fetcher, home: str, now: datetime, max_bytes: int) -> tuple[list[SourceState], list[str]]:
    """The feeds and sitemaps of the site whose home page is `home`, as subscribed source states; and what failed."""
    from trafilatura.sitemaps import GUESSES

    origin, problems = origin_of(home), []
    candidates: dict[str, str] = {}  # url -> found_by
    feeds_named = sitemaps_named = False
    try:
        page = fetcher.get(home, accept="text/html, application/xhtml+xml;q=0.9, */*;q=0.5")
    except FetchError as exc:
        problems.append(f"{home}: {exc.reason}: {exc.detail}")
    else:
        origin = origin_of(page.final_url)  # http://site/ redirected to https://www.site/: robots.txt is there
        for url in feed_links(page.content, page.final_url):
            candidates.setdefault(url, "home_page")
            feeds_named = True
    try:
        robots = fetcher.get(f"{origin}/robots.txt", accept="text/plain", robots=False)
    except FetchError:
        pass  # no robots.txt: the common paths below
    else:
        for url in robots_sitemaps(robots.content, origin):
            candidates.setdefault(url, "robots_txt")
            sitemaps_named = True
    if not feeds_named:
        for path in COMMON_FEED_PATHS:
            candidates.setdefault(origin + path, "common_path")
    if not sitemaps_named:
        for name in (*GUESSES, *NEWS_SITEMAP_GUESSES):
            candidates.setdefault(f"{origin}/{name}", "common_path")
    found = []
    for url, how in candidates.items():
        what = classify(fetcher, url, max_bytes)
        if what is None:
            if how != "common_path":  # a guess that misses is no news; a named source that fails is
                problems.append(f"{url} ({how}): neither a feed nor a sitemap, or unreachable")
            continue
        found.append(SourceState(url, kind=what[1], source_type=what[0], site=home, found_by=how, subscribed=True,
                                 added_at=now))
    return found, problems


@flow(name="add-sources", log_prints=True)
def add_sources(
    sites: list[str],
    db: str = "newsflow.duckdb",
    allow_private: bool = False,
    respect_robots: bool | None = None,
    allow_networks: list[str] | None = None,
    poll: bool = True,
    entities: bool = True,
    batch_size: int | None = None,
) -> dict:
    """Find the feeds and sitemaps of each site (its home page URL), subscribe to them, and poll them once (unless
    poll is False). Returns what was found ({url: [type, kind, found_by]}), the problems, and the poll's totals."""
    from newsflow.flows.feeds import fetch_settings, ingest_feeds

    settings = fetch_settings(settings_for(db, batch_size=batch_size, ner=entities), allow_private, respect_robots)
    now = datetime.now(timezone.utc)
    found, problems = [], []
    with Fetcher(settings.http, allowed_networks=allow_networks or ()) as fetcher:
        for site in dict.fromkeys(sites):
            states, missed = discover(fetcher, site, now, settings.limits.max_sitemap_bytes)
            found += states
            problems += missed
            if not states:
                problems.append(f"{site}: no feed or sitemap found")
    with connection(settings.paths.db) as con:
        known = load_sources(con, [s.source_url for s in found])
        # A source polled before keeps its history; it gains the site, how it was found, and the subscription.
        save_sources(con, [replace(known[s.source_url], source_type=s.source_type, kind=known[s.source_url].kind or s.kind,
                                   site=s.site, found_by=s.found_by, subscribed=True,
                                   added_at=known[s.source_url].added_at or now) for s in found])
    result = {"found": {s.source_url: [s.source_type, s.kind, s.found_by] for s in found}, "problems": problems}
    if poll and found:
        result["totals"] = ingest_feeds(sources=[s.source_url for s in found], db=db, allow_private=allow_private,
                                        respect_robots=respect_robots, allow_networks=allow_networks,
                                        batch_size=batch_size, entities=entities)
    return result
