"""Per-document work on every core: pools of worker processes forked from one warm fork server."""
from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from extractors.settings import Limits

# Imported once by the fork server, so every worker starts with trafilatura, the lexicons and the
# language model loaded (extractors.warm_worker loads the last two at import).
PRELOAD = ["extractors.html", "extractors.extraction", "extractors.cleaning", "extractors.warm_worker",
           "trafilatura", "readability"]
# Below this many documents a pool costs more than it saves.
MIN_ITEMS_FOR_POOL = 8

T = TypeVar("T")
R = TypeVar("R")


def _context():
    """The fork-server context workers come from.

    Not plain fork: forking a process that runs threads (Prefect's, the HTTP client's) can copy a lock
    some thread holds and hang the child.
    """
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(PRELOAD)
    return context


def start_workers(limits: Limits) -> None:
    """Start the fork server now (it imports PRELOAD once), so the first batch's pool starts warm."""
    if limits.extract_processes > 1:
        from multiprocessing import forkserver

        _context()
        forkserver.ensure_running()


def use_pool(limits: Limits, items: int) -> bool:
    """Whether a batch of this many documents is worth a pool."""
    return limits.extract_processes > 1 and items >= MIN_ITEMS_FOR_POOL


@contextmanager
def worker_pool(limits: Limits, items: int) -> Iterator[multiprocessing.pool.Pool]:
    """A pool for one batch; terminated afterwards, so a runaway worker dies with it."""
    pool = _context().Pool(min(limits.extract_processes, items))
    try:
        yield pool
    finally:
        pool.terminate()
        pool.join()


def map_documents(fn: Callable[[T], R], items: list[T], limits: Limits) -> list[R]:
    """fn over every item, in order: on a pool when the batch is big enough, else here."""
    if not use_pool(limits, len(items)):
        return [fn(item) for item in items]
    with worker_pool(limits, len(items)) as pool:
        return pool.map(fn, items, chunksize=max(1, len(items) // (8 * limits.extract_processes)))
