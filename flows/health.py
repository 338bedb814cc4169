"""Source health: after each poll, when it last answered and brought something new, its status, and when a
source that keeps failing may be polled again (exponential back-off, capped, so a dead source is still tried)."""
from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from newsflow.extractors.settings import Sources
from newsflow.storage.sources import SourceState


def is_due(state: SourceState, now: datetime) -> bool:
    """Whether a source may be polled now (not backing off)."""
    return state.next_poll_at is None or state.next_poll_at <= now


def backoff_until(errors: int, now: datetime, cfg: Sources) -> datetime | None:
    """When a source failing `errors` times in a row may be polled again; None: at once."""
    over = errors - cfg.backoff_after_failures
    if over < 0:
        return None
    return now + timedelta(seconds=min(cfg.backoff_max_s, cfg.backoff_base_s * 2 ** min(over, 30)))


def status_of(state: SourceState, now: datetime, cfg: Sources) -> str:
    """active, failing (failed lately), dead (failed dead_after_failures polls in a row) or stale (answers, but
    nothing new for stale_days)."""
    if state.consecutive_errors >= cfg.dead_after_failures:
        return "dead"
    if state.consecutive_errors > 0:
        return "failing"
    since = state.last_new_entry_at or state.added_at
    if since is not None and now - since > timedelta(days=cfg.stale_days):
        return "stale"
    return "active"


def after_poll(state: SourceState, new_entries: int, now: datetime, cfg: Sources) -> SourceState:
    """The state with this poll's health: success and new-entry times, back-off, status."""
    ok = state.consecutive_errors == 0
    state = replace(
        state,
        added_at=state.added_at or now,
        last_success_at=now if ok else state.last_success_at,
        last_new_entry_at=now if new_entries else state.last_new_entry_at,
        next_poll_at=backoff_until(state.consecutive_errors, now, cfg),
    )
    return replace(state, status=status_of(state, now, cfg))
