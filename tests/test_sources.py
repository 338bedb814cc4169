"""Feed state and seen entries in DuckDB (the `db` fixture: in-memory, schema applied)."""
from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timezone

from newsflow.storage.sources import SourceState, load_sources, mark_seen, save_sources, seen_entries

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


def test_seen_entries_are_per_feed_and_keep_their_first_time(db):
    assert mark_seen(db, [(FEED, "a"), (FEED, "b"), (FEED, "a")], T0) == 2
    mark_seen(db, [(FEED, "b"), ("https://other/feed", "a")], T1)
    asked = [(FEED, "a"), (FEED, "c"), ("https://other/feed", "a"), ("https://other/feed", "b")]
    assert seen_entries(db, asked) == {(FEED, "a"), ("https://other/feed", "a")}
    assert seen_entries(db, []) == set()
    first = db.execute("SELECT first_seen_at FROM seen_entries WHERE source_url = ? AND entry_key = 'b'", [FEED]).fetchone()[0]
    assert first == T0
