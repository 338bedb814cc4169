"""The feeds and pages flows: poll feeds and sitemaps (conditional GET), fetch what they do not carry, run the pipeline.

    poll each source due (one task per source) -> new entries (not seen before)
        full feed entries        -> documents from the feed's own HTML
        teasers, sitemap pages   -> fetch the pages (one task per batch) -> documents, or rejections
    micro-batches -> prepare_batch -> write_batch -> mark entries seen -> save source state and health
"""
from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import urlsplit

from prefect import flow, task
from prefect.cache_policies import NO_CACHE

from newsflow.extractors.feeds import FeedEntry, ParsedFeed, entry_documents, parse_feed, read_sources
from newsflow.extractors.fetch import FetchError, Fetcher, html_bytes, is_transient
from newsflow.extractors.records import RawDocument, Rejection
from newsflow.extractors.settings import Settings, Sources, settings_for
from newsflow.extractors.sitemaps import SitemapEntry, looks_like_sitemap
from newsflow.flows.pipeline import land_batch, prepare_batch
from newsflow.flows.runs import recorded_run
from newsflow.flows.tasks import workers_for
from newsflow.storage.db import connection, writer_lock
from newsflow.storage.sources import (SitemapFile, SourceState, load_sitemap_files, mark_seen, seen_anywhere,
                                      seen_entries, subscribed_sources)

FEED_ACCEPT = ("application/rss+xml, application/atom+xml, application/feed+json, application/rdf+xml, "
               "application/xml;q=0.9, text/xml;q=0.9, application/json;q=0.8, */*;q=0.5")
PAGE_ACCEPT = "text/html, application/xhtml+xml;q=0.9, */*;q=0.5"
COUNT_KEYS = ("documents", "articles", "duplicates", "rejected", "mentions")
FEED_COUNT_KEYS = ("feeds", "feeds_not_modified", "feeds_failed", "entries_new", "entries_seen_before", "pages_fetched",
                   "sitemaps", "sitemap_files", "entries_skipped_old", "sources_backed_off")


@dataclass(slots=True)
class FeedPoll:
    """The outcome of polling one source: its new state and, unless unchanged or failed, what parsed (a feed, or
    a sitemap's page entries)."""

    state: SourceState
    feed: ParsedFeed | None = None
    sitemap: list[SitemapEntry] | None = None
    files: int = 1  # documents fetched: the sitemaps of an index
    dropped: dict[str, int] = field(default_factory=dict)  # sitemap URLs left out, by reason
    first_poll: bool = False  # the source never answered before (a sitemap's archive is not taken then)
    new_entries: int = 0  # set when planned
    sitemap_files: list[SitemapFile] = field(default_factory=list)  # an index's sitemaps read whole or confirmed (304)


@dataclass(slots=True)
class Work:
    """Documents ready for the pipeline, with the (feed, entry key) pairs each came from, if any."""

    docs: list[RawDocument] = field(default_factory=list)
    rejections: list[Rejection] = field(default_factory=list)
    entry_of: dict[str, list[tuple[str, str]]] = field(default_factory=dict)  # document_id -> (source_url, key)s
    seen_only: list[tuple[str, str]] = field(default_factory=list)  # entries marked seen without a document

    def add(self, doc: RawDocument, rejection: Rejection | None = None, entry: list[tuple[str, str]] | None = None) -> None:
        self.docs.append(doc)
        if rejection is not None:
            self.rejections.append(rejection)
        if entry is not None:
            self.entry_of[doc.document_id] = entry


def poll(fetcher: Fetcher, state: SourceState, now: datetime, cfg: Sources = Sources(),
         max_bytes: int = 10_000_000, sitemap_bytes: int = 50_000_000,
         files: dict[str, SitemapFile] | None = None) -> FeedPoll:
    """Conditional GET of one feed or sitemap and parse it; a source's own failure is recorded on its state, never
    raised. A source of unknown type is a sitemap when its bytes look like one (a sitemap in a list of feeds).
    max_bytes bounds a feed, sitemap_bytes a sitemap file; files: an index's sitemaps as last read."""
    from newsflow.flows.sitemaps import read_sitemap, sitemap_reason

    first_poll = state.last_success_at is None
    state = replace(state, last_polled_at=now)
    # A source not known yet may be a sitemap: it is read up to the larger limit, and a feed held to its own after.
    limit = max_bytes if state.source_type == "feed" else sitemap_bytes if state.source_type == "sitemap" else \
        max(max_bytes, sitemap_bytes)
    try:
        # No robots.txt for the feed itself: the user subscribed to it, and an unchanged feed costs one 304.
        response = fetcher.get(state.source_url, etag=state.etag, last_modified=state.last_modified,
                               accept=FEED_ACCEPT, robots=False, max_bytes=limit)
    except FetchError as exc:
        why = sitemap_reason(exc, limit) if state.source_type == "sitemap" else f"{exc.reason}: {exc.detail}"
        return FeedPoll(replace(state, last_status=exc.status, consecutive_errors=state.consecutive_errors + 1,
                                last_error=why[:1000]))
    if response.not_modified:
        return FeedPoll(replace(state, last_status=304, consecutive_errors=0, last_error=None))
    if state.source_type == "sitemap" or (state.source_type is None and looks_like_sitemap(response.content)):
        done = read_sitemap(fetcher, state, response, now, cfg, sitemap_bytes, text_ok=state.source_type == "sitemap",
                            files=files)
        done.first_poll = first_poll
        return done
    if len(response.content) > max_bytes:
        return FeedPoll(replace(state, last_status=response.status, consecutive_errors=state.consecutive_errors + 1,
                                last_error=f"fetch_too_large: a feed of {len(response.content)} bytes, over {max_bytes}"))
    try:
        feed = parse_feed(response.content, base_url=response.final_url, content_type=response.headers.get("content-type"))
    except Exception as exc:  # parsers can choke on hostile bytes: that feed's problem, not the run's
        feed = ParsedFeed(kind=None, title=None, problem=f"{type(exc).__name__}: {exc}"[:500])
    state = replace(state, last_status=response.status)
    if feed.kind is None:
        # Validators are not kept: the next poll must fetch and parse again, not get a 304 for a non-feed.
        return FeedPoll(replace(state, consecutive_errors=state.consecutive_errors + 1,
                                last_error=f"feed_invalid: {feed.problem}"[:1000]), feed)
    state = replace(
        state,
        source_type="feed",
        etag=response.headers.get("etag"),
        last_modified=response.headers.get("last-modified"),
        kind=feed.kind,
        title=feed.title or state.title,
        consecutive_errors=0,
        last_error=f"feed_problem: {feed.problem}"[:1000] if feed.problem else None,
    )
    return FeedPoll(state, feed)


@task(cache_policy=NO_CACHE, persist_result=False)
def poll_feed(fetcher: Fetcher, state: SourceState, now: datetime, cfg: Sources, max_bytes: int, sitemap_bytes: int,
              files: dict[str, SitemapFile] | None) -> FeedPoll:
    """Poll one feed or sitemap (task wrapper)."""
    return poll(fetcher, state, now, cfg, max_bytes, sitemap_bytes, files)


def page_documents(
    fetcher: Fetcher, targets: list[tuple[str, RawDocument]]
) -> list[tuple[RawDocument, Rejection | None]]:
    """Fetch each (url, template) page; the template's metadata is kept, content/url replaced by the page's."""
    results = fetcher.get_many([url for url, _ in targets], accept=PAGE_ACCEPT)
    out = []
    for (url, template), result in zip(targets, results):
        if isinstance(result, FetchError):
            out.append((template, Rejection(template.document_id, result.reason, result.detail)))
            continue
        content = html_bytes(result.content, result.headers.get("content-type"))
        doc = replace(template, content=content, raw_sha256=hashlib.sha256(content).hexdigest(),
                      url=result.final_url, site=_host(result.final_url) or template.site, media_type="html")
        out.append((doc, None))
    return out


@task(cache_policy=NO_CACHE, persist_result=False)
def fetch_pages(fetcher: Fetcher, targets: list[tuple[str, RawDocument]]) -> list[tuple[RawDocument, Rejection | None]]:
    """Fetch a batch of pages (task wrapper)."""
    return page_documents(fetcher, targets)


def _host(url: str | None) -> str | None:
    try:
        return urlsplit(url).hostname if url else None
    except ValueError:
        return None


def placeholder(kind: str, ref: str, received_at: datetime, content: bytes = b"", **meta) -> RawDocument:
    """A document for an input that has (so far) no page: a failed fetch or an empty entry."""
    return RawDocument(document_id=uuid.uuid4().hex, source_kind=kind, source_ref=ref, content=content,
                       media_type="html", received_at=received_at, raw_sha256=hashlib.sha256(content).hexdigest(),
                       **meta)


def plan_entries(
    feed_url: str, feed: ParsedFeed, received_at: datetime, work: Work, fetch: bool = True
) -> list[tuple[str, RawDocument]]:
    """Full entries (and link-less ones) become documents now; returns the (link, template) pages to fetch.

    With fetch=False every entry is taken as the feed gave it (teasers included), as for a feed file.
    """
    to_fetch = []
    for entry in feed.entries:
        key = [(feed_url, k) for k in entry_keys(entry)]
        if entry.is_full or not entry.url or not fetch:
            docs = entry_documents(replace(feed, entries=[entry]), "feed", feed_url, received_at)
            if docs:
                work.add(docs[0], entry=key)
                continue
            if not entry.url or not fetch:
                doc = placeholder("feed", f"{feed_url}#{entry.key}", received_at, url=entry.url,
                                  title=entry.title, published_at=entry.published_at)
                detail = "no content and no link" if not entry.url else "no content, and page fetching is off"
                work.add(doc, Rejection(doc.document_id, "feed_entry_empty", detail), key)
                continue
        summary = (entry.body_html or "").encode("utf-8")  # kept as the raw bytes if the page cannot be had
        template = placeholder("feed", f"{feed_url}#{entry.key}", received_at, summary, url=entry.url,
                               title=entry.title, author=entry.author, published_at=entry.published_at,
                               site=_host(entry.url))
        to_fetch.append((entry.url, template))
        work.entry_of[template.document_id] = key
    return to_fetch


def entry_keys(entry: FeedEntry) -> list[str]:
    """What identifies an entry as seen: its key (guid) and its link, so a feed that re-issues
    guids for the same links does not bring the same articles again."""
    return list(dict.fromkeys(k for k in (entry.key, entry.url) if k))


def new_entries(feed_url: str, feed: ParsedFeed, seen: set[tuple[str, str]]) -> ParsedFeed:
    """The feed with only entries not seen before (and each key once)."""
    keep, keys = [], set()
    for entry in feed.entries:
        ids = entry_keys(entry)
        if not any((feed_url, k) in seen or k in keys for k in ids):
            keys.update(ids)
            keep.append(entry)
    return replace(feed, entries=keep)


def run_pipeline(settings: Settings, work: Work, run_id: str) -> dict[str, int]:
    """Micro-batches through the shared pipeline; entries are marked seen once their batch is written."""
    totals = dict.fromkeys(COUNT_KEYS, 0)
    db = settings.paths.db
    size = max(1, settings.limits.batch_size)
    rejected = {r.document_id: r for r in work.rejections}
    with workers_for(settings, len(work.docs)):  # flows.tasks: a cluster for many documents, this process for a few
        for start in range(0, len(work.docs), size):
            docs = work.docs[start:start + size]
            ids = {d.document_id for d in docs}
            with writer_lock(db):
                batch = prepare_batch(docs, [r for r in work.rejections if r.document_id in ids], settings, run_id)
                _, counts = land_batch(batch, settings)  # a row the database refuses: that entry's rejection
            # A transient failure (timeout, 5xx) leaves the entry unseen so the next poll tries it again.
            done = [pair for d in ids if not (d in rejected and is_transient(rejected[d].reason))
                    for pair in work.entry_of.get(d, [])]
            with connection(db) as con:
                mark_seen(con, done, datetime.now(timezone.utc))
            for key in COUNT_KEYS:
                totals[key] += counts.get(key, 0)
    return totals


def fetch_settings(settings: Settings, allow_private: bool, respect_robots: bool | None) -> Settings:
    """Settings with the flow's safety switches on top (the environment can only loosen allow_private)."""
    http = replace(settings.http, allow_private=allow_private or settings.http.allow_private)
    if respect_robots is not None:
        http = replace(http, respect_robots=respect_robots)
    return replace(settings, http=http)


def fetch_in_batches(fetcher: Fetcher, targets: list[tuple[str, RawDocument]], size: int, work: Work) -> None:
    """Fetch pages, one task per batch (submitted together; per-host limits apply across them)."""
    futures = [fetch_pages.submit(fetcher, targets[i:i + size]) for i in range(0, len(targets), size)]
    for future in futures:
        for doc, rejection in future.result():
            work.add(doc, rejection)


@flow(name="ingest-feeds", log_prints=True)
def ingest_feeds(
    sources: list[str] | None = None,
    db: str = "newsflow.duckdb",
    allow_private: bool = False,
    respect_robots: bool | None = None,
    allow_networks: list[str] | None = None,
    batch_size: int | None = None,
    entities: bool = True,
    fetch_pages: bool = True,
    pages: list[str] | None = None,
    sitemaps: list[str] | None = None,
    subscribed: bool = False,
) -> dict[str, int]:
    """Poll feeds and sitemaps and ingest their new entries, and web `pages` as they are.

    sources: feed URLs, text files of URLs, OPML files (a sitemap among them is read as one); sitemaps: sitemap
    URLs or text files of them; subscribed: also every source added with `newsflow sources add`. A source
    backing off after repeated failures is skipped until its next_poll_at. An entry whose feed content is not the
    whole article, and every sitemap page, is replaced by its fetched page, unless fetch_pages is False. A refused
    or failed fetch is a rejected document with the reason. allow_networks lists CIDRs allowed even when private
    addresses are not. A run with pages only is recorded in `runs` as `ingest-urls`.
    """
    from newsflow.flows.sources import finish_sources, sources_to_poll

    settings = fetch_settings(settings_for(db, batch_size=batch_size, ner=entities), allow_private, respect_robots)
    if subscribed:  # a scheduled run polls the subscribed sources even when its feeds.txt is not there (yet)
        sources = present_sources(sources or [])
    urls, sitemap_urls = read_sources(sources or []), read_sources(sitemaps or [])
    db_path = settings.paths.db
    if subscribed:
        with connection(db_path) as con:
            urls += [u for u in subscribed_sources(con) if u not in urls and u not in sitemap_urls]
    polling = bool(urls or sitemap_urls or subscribed)
    with recorded_run(db_path, "ingest-feeds" if polling else "ingest-urls") as run:
        run.totals.update(dict.fromkeys(COUNT_KEYS + (FEED_COUNT_KEYS if polling else ()), 0))
        now = datetime.now(timezone.utc)
        polls, work, targets = [], Work(), page_targets(pages or [], now)
        with Fetcher(settings.http, allowed_networks=allow_networks or ()) as fetcher:
            if polling:
                states = sources_to_poll(db_path, urls, sitemap_urls, now, run.totals)
                cfg, max_bytes, sitemap_bytes = settings.sources, settings.http.max_body_bytes, settings.limits.max_sitemap_bytes
                with connection(db_path) as con:
                    known = load_sitemap_files(con, [s.source_url for s in states if s.source_type != "feed"])
                polls = [f.result() for f in [poll_feed.submit(fetcher, s, now, cfg, max_bytes, sitemap_bytes,
                                                               known.get(s.source_url)) for s in states]]
                report_polls(polls)
                work, planned = plan_work(db_path, polls, now, fetch_pages, run.totals, cfg)
                targets += planned
            fetch_in_batches(fetcher, targets, max(1, settings.limits.batch_size), work)
        run.totals.update(run_pipeline(settings, work, run.run_id))
        if polls:  # only now: a crash before this re-polls the same entries next time
            finish_sources(db_path, polls, work.seen_only, now, settings.sources, run.run_id, retry_sources(work))
    return run.totals


def retry_sources(work: Work) -> set[str]:
    """The feeds and sitemaps with an entry whose page failed in a way the next poll may not (it stays unseen):
    their validators (and those of an index's sitemaps read this poll) are dropped by finish_sources, so an
    unchanged source is read again rather than answered with a 304, and the entry is planned again."""
    return {source for r in work.rejections if is_transient(r.reason)
            for source, _ in work.entry_of.get(r.document_id, [])}


def present_sources(args: list[str]) -> list[str]:
    """The URLs and the files that exist among args; each missing file is logged as a warning."""
    from prefect import get_run_logger

    present = [a for a in args if a.startswith(("http://", "https://")) or Path(a).is_file()]
    for missing in sorted(set(args) - set(present)):
        get_run_logger().warning("%s: no such file of sources; polling the subscribed sources", missing)
    return present


def page_targets(pages: list[str], now: datetime) -> list[tuple[str, RawDocument]]:
    """A document to fetch for each distinct page URL."""
    return [(url, placeholder("url", url, now, url=url, site=_host(url))) for url in dict.fromkeys(pages)]


def plan_work(
    db: Path, polls: list[FeedPoll], now: datetime, fetch_pages: bool, totals: dict[str, int], cfg: Sources = Sources()
) -> tuple[Work, list[tuple[str, RawDocument]]]:
    """Documents from the entries not seen before, and the pages still to fetch; counts go into totals."""
    from newsflow.flows.sitemaps import plan_sitemap

    parsed = [(p.state.source_url, p.feed) for p in polls if p.feed is not None and p.feed.entries]
    listed = [(p.state.source_url, e.url) for p in polls if p.sitemap for e in p.sitemap]
    with connection(db) as con:
        seen = seen_entries(con, [(url, k) for url, feed in parsed for e in feed.entries for k in entry_keys(e)] + listed)
        elsewhere = seen_anywhere(con, [k for pair in listed if pair not in seen for k in pair[1:]])
    work, targets = Work(), []
    for url, feed in parsed:
        fresh = new_entries(url, feed, seen)
        totals["entries_new"] += len(fresh.entries)
        totals["entries_seen_before"] += len(feed.entries) - len(fresh.entries)
        targets += plan_entries(url, fresh, now, work, fetch=fetch_pages)
    for p in polls:
        if p.feed is not None:
            p.new_entries = len(new_entries(p.state.source_url, p.feed, seen).entries)
    planned = {t.url: t for _, t in targets if t.url}
    for p in polls:
        if p.sitemap:
            before = totals["entries_new"]
            targets += plan_sitemap(p.state.source_url, p.sitemap, p.first_poll, seen, elsewhere, now, cfg, work,
                                    planned, totals)
            p.new_entries = totals["entries_new"] - before
    sitemap_polls = [p for p in polls if p.state.source_type == "sitemap"]
    totals["feeds"] = len(polls) - len(sitemap_polls)
    totals["sitemaps"] = len(sitemap_polls)
    totals["sitemap_files"] = sum(p.files for p in sitemap_polls if p.state.last_status != 304)
    totals["feeds_not_modified"] = sum(p.state.last_status == 304 for p in polls)
    totals["feeds_failed"] = sum(p.state.consecutive_errors > 0 for p in polls)
    totals["pages_fetched"] = len(targets)
    return work, targets


def report_polls(polls: list[FeedPoll]) -> None:
    """Log each feed that failed or had a problem, so a broken feed is visible in the run's logs."""
    from prefect import get_run_logger

    logger = get_run_logger()
    for p in polls:
        if p.state.last_error:
            log = logger.warning if p.state.consecutive_errors else logger.info
            log("%s: %s (consecutive errors: %d)", p.state.source_url, p.state.last_error, p.state.consecutive_errors)
