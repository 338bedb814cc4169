"""Feed state and seen entries in DuckDB (the `db` fixture: in-memory, schema applied)."""
from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta, timezone

from newsflow.storage.sources import (SitemapFile, SourceState, load_sitemap_files, load_sources, mark_seen,
                                      save_sitemap_files, save_sources, seen_entries)

T0 = datetime(2026, 11, 23, 18, 0, tzinfo=timezone.utc)
T1 = datetime(2026, 11, 23, 18, 15, tzinfo=timezone.utc)
FEED = "https://research.swtch.com/feed.atom"


def test_a_feed_never_polled_has_a_fresh_state(db):
    assert load_sources(db, [FEED]) == {FEED: SourceState(FEED)}
    assert load_sources(db, []) == {}


def test_state_round_trips_and_is_replaced(db):
    first = SourceState(FEED, "atom", "research!rsc", '"abc"', "Mon, 23 Nov 2026 17:00:00 GMT", T0, 200, 0, None)
    other = SourceState("https://example.org/rss", last_polled_at=T0, last_status=404, consecutive_errors=1,
                        last_error="fetch_http_404: HTTP 404")
    assert save_sources(db, [first, other]) == 2
    assert load_sources(db, [FEED, other.source_url]) == {FEED: first, other.source_url: other}
    later = replace(first, last_polled_at=T1, last_status=304)
    failing = replace(other, last_polled_at=T1, consecutive_errors=2)
    save_sources(db, [later, failing])
    assert load_sources(db, [FEED, other.source_url]) == {FEED: later, other.source_url: failing}
    assert db.execute("SELECT count(*) FROM sources").fetchone()[0] == 2


def test_the_sitemaps_of_an_index_round_trip_per_source_and_are_replaced(db):
    index, other = "https://site.example/sitemap_index.xml", "https://other.example/index.xml"
    dated = SitemapFile(index, "https://site.example/news.xml", '"e1"', "Mon, 23 Nov 2026 17:00:00 GMT", T0, T0)
    undated = SitemapFile(index, "https://site.example/pages.xml", None, None, None, T0)
    elsewhere = SitemapFile(other, "https://other.example/a.xml", '"x"', None, None, T0)
    assert save_sitemap_files(db, [dated, undated, elsewhere]) == 3
    assert load_sitemap_files(db, [index]) == {index: {dated.file_url: dated, undated.file_url: undated}}
    cleared = replace(dated, etag=None, last_modified=None, lastmod=None, read_at=T1)  # a retried index's sitemap
    save_sitemap_files(db, [cleared])
    assert load_sitemap_files(db, [index, other, "https://never.example/"]) == {
        index: {dated.file_url: cleared, undated.file_url: undated}, other: {elsewhere.file_url: elsewhere}}
    assert load_sitemap_files(db, []) == {} and save_sitemap_files(db, []) == 0


def test_seen_entries_are_per_feed_and_keep_their_first_time(db):
    assert mark_seen(db, [(FEED, "a"), (FEED, "b"), (FEED, "a")], T0) == 2
    mark_seen(db, [(FEED, "b"), ("https://other/feed", "a")], T1)
    asked = [(FEED, "a"), (FEED, "c"), ("https://other/feed", "a"), ("https://other/feed", "b")]
    assert seen_entries(db, asked) == {(FEED, "a"), ("https://other/feed", "a")}
    assert seen_entries(db, []) == set()
    first = db.execute("SELECT first_seen_at FROM seen_entries WHERE source_url = ? AND entry_key = 'b'", [FEED]).fetchone()[0]
    assert first == T0


def test_keys_with_quotes_backslashes_controls_and_other_scripts_are_found_as_stored(db):
    keys = ['tag:x,2026:"quoted"', "back\\slash\\", "unit\x1fsep\nline", "https://例え.jp/記事?q=ü", "[\"not\", \"json\"]"]
    mark_seen(db, [(FEED, k) for k in keys], T0)
    assert seen_entries(db, [(FEED, k) for k in keys] + [(FEED, "other")]) == {(FEED, k) for k in keys}
    from newsflow.storage.sources import seen_anywhere

    assert seen_anywhere(db, keys + ["other"]) == set(keys)


def test_added_at_is_kept_and_the_health_view_reads_the_polls(db):
    from newsflow.storage.sources import SourcePoll, record_polls

    added = SourceState(FEED, source_type="feed", subscribed=True, added_at=T0, status="active")
    save_sources(db, [added])
    save_sources(db, [replace(added, added_at=T1, last_new_entry_at=T1)])
    assert load_sources(db, [FEED])[FEED].added_at == T0
    now = db.execute("SELECT now()").fetchone()[0]
    polls = [SourcePoll(FEED, now - timedelta(days=1), "r1", 200, True, 20, 14, 1),
             SourcePoll(FEED, now - timedelta(hours=1), "r2", 500, False, 0, 0, 1, error="fetch_http_500"),
             SourcePoll(FEED, now - timedelta(days=9), "r0", 200, True, 20, 100, 1)]  # outside the 7 days
    assert record_polls(db, polls) == 3
    db.execute("UPDATE sources SET added_at = ?", [now - timedelta(days=2)])
    row = db.execute("SELECT status, entries_per_day, polls_7d, failed_polls_7d FROM source_health").fetchone()
    assert row == ("active", 7.0, 2, 1)  # 14 new entries over the 2 days since it was added


def test_subscriptions_and_entries_seen_by_any_source(db):
    from newsflow.storage.sources import seen_anywhere, subscribed_sources, unsubscribe

    site = "https://example.com/"
    save_sources(db, [SourceState(FEED), SourceState("https://example.com/feed", site=site, subscribed=True, added_at=T0),
                      SourceState("https://example.com/sitemap.xml", site=site, subscribed=True, added_at=T1)])
    assert subscribed_sources(db) == ["https://example.com/feed", "https://example.com/sitemap.xml"]
    assert unsubscribe(db, ["https://example.com/sitemap.xml"]) == 1
    assert unsubscribe(db, [site]) == 1
    assert subscribed_sources(db) == []
    mark_seen(db, [(FEED, "https://example.com/a"), (FEED, "guid-1")], T0)
    assert seen_anywhere(db, ["https://example.com/a", "https://example.com/b"]) == {"https://example.com/a"}
    assert seen_anywhere(db, []) == set()
