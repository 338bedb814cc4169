"""Source health: status, back-off and the times kept after each poll (flows/health.py)."""
from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta, timezone

from newsflow.extractors.settings import Sources
from newsflow.flows.health import after_poll, backoff_until, is_due, status_of
from newsflow.storage.sources import SourceState

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=timezone.utc)
CFG = Sources()


def test_a_successful_poll_with_new_entries_is_active_and_due_again_at_once():
    state = after_poll(SourceState("https://example.com/feed"), 5, NOW, CFG)
    assert (state.added_at, state.last_success_at, state.last_new_entry_at) == (NOW, NOW, NOW)
    assert (state.status, state.next_poll_at) == ("active", None)
    assert is_due(state, NOW)


def test_nothing_new_for_longer_than_stale_days_is_stale():
    fresh = SourceState("u", added_at=NOW - timedelta(days=10), last_new_entry_at=NOW - timedelta(days=2))
    assert after_poll(fresh, 0, NOW, CFG).status == "active"
    old = replace(fresh, last_new_entry_at=NOW - timedelta(days=4))
    assert after_poll(old, 0, NOW, CFG).status == "stale"
    assert after_poll(old, 1, NOW, CFG).status == "active"
    never = SourceState("u", added_at=NOW - timedelta(days=4))
    assert status_of(never, NOW, CFG) == "stale"


def test_failures_back_off_exponentially_up_to_a_cap_and_a_source_is_dead_after_enough():
    assert backoff_until(CFG.backoff_after_failures - 1, NOW, CFG) is None
    waits = [backoff_until(n, NOW, CFG) - NOW for n in range(3, 12)]
    assert waits[:3] == [timedelta(minutes=15), timedelta(minutes=30), timedelta(hours=1)]
    assert waits[-1] == timedelta(days=1)  # capped: a dead source is still tried daily
    failing = after_poll(SourceState("u", consecutive_errors=3, last_success_at=NOW - timedelta(hours=1)), 0, NOW, CFG)
    assert (failing.status, failing.last_success_at) == ("failing", NOW - timedelta(hours=1))
    assert not is_due(failing, NOW) and is_due(failing, NOW + timedelta(minutes=15))
    assert after_poll(SourceState("u", consecutive_errors=CFG.dead_after_failures), 0, NOW, CFG).status == "dead"
    assert after_poll(SourceState("u", consecutive_errors=1), 0, NOW, CFG).next_poll_at is None
