"""Per-document work on every core: pools of worker processes forked from one warm fork server."""
from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from newsflow.extractors.settings import Settings


# Imported once by the fork server, so every worker starts with trafilatura, the lexicons and the
# language model loaded (extractors.warm_worker loads the last two at import) and, when entities are
# on, the NER model (extractors.warm_ner).
PRELOAD = ["newsflow.extractors.html", "newsflow.extractors.extraction", "newsflow.extractors.cleaning", "newsflow.extractors.warm_worker",
           "trafilatura", "readability"]
NER_PRELOAD = ["newsflow.extractors.entities", "newsflow.extractors.warm_ner"]
# Below this many documents a pool costs more than it saves.
MIN_ITEMS_FOR_POOL = 8

T = TypeVar("T")
R = TypeVar("R")


def _context(preload: list[str] | None = None):
    """The fork-server context workers come from; `preload` counts only until the server has started.

    Not plain fork: forking a process that runs threads (Prefect's, the HTTP client's) can copy a lock
    some thread holds and hang the child.
    """
    context = multiprocessing.get_context("forkserver")
    if preload is not None:
        context.set_forkserver_preload(preload)
    return context


def start_workers(settings: Settings) -> None:
    """Start the fork server (it imports PRELOAD once, and the NER model if entities are on); a no-op once it runs.

    Call it before the first pool: a server started by worker_pool alone preloads nothing, and its workers
    import what they need themselves, per batch.
    """
    ner = settings.ner.ner_enabled and settings.ner.ner_processes > 1
    if settings.limits.extract_processes > 1 or ner:
        from multiprocessing import forkserver

        _context(PRELOAD + (NER_PRELOAD if ner else []))
        forkserver.ensure_running()


def use_pool(processes: int, items: int) -> bool:
    """Whether a batch of this many documents is worth a pool of this many processes."""
    return processes > 1 and items >= MIN_ITEMS_FOR_POOL


def _leave_interrupts_to_the_main_process() -> None:
    """Pool initializer: a worker ignores Ctrl-C (a terminal sends it to every process of the group).

    The main process stops the run and terminates its pools; a worker killed by Ctrl-C mid-document would
    lose that result, and a thread waiting for it (a read-ahead) would wait out its time limit per document.
    """
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)


@contextmanager
def worker_pool(processes: int, items: int) -> Iterator[multiprocessing.pool.Pool]:
    """A pool for one batch; terminated afterwards, so a runaway worker dies with it."""
    pool = _context().Pool(min(processes, items), initializer=_leave_interrupts_to_the_main_process)
    try:
        yield pool
    finally:
        pool.terminate()
        pool.join()


def map_documents(fn: Callable[[T], R], items: list[T], processes: int) -> list[R]:
    """fn over every item, in order: on a pool when the batch is big enough, else here."""
    if not use_pool(processes, len(items)):
        return [fn(item) for item in items]
    with worker_pool(processes, len(items)) as pool:
        return pool.map(fn, items, chunksize=max(1, len(items) // (8 * processes)))
