"""The pipeline's Prefect tasks, and where the per-document ones run: Dask workers, or this process.

Extraction with cleaning's first pass, cleaning's second pass and NER are tasks mapped over chunks of documents
(Cluster.chunk_size of them: a task run costs Prefect ~16 ms, so never one per document), submitted to
prefect-dask's DaskTaskRunner: a local cluster that the command starts (Cluster.workers processes of one thread;
each loads trafilatura and the NER model on its first chunk and keeps them, being a long-lived process), or an
existing cluster at Cluster.dask_address (--dask-address, NEWSFLOW_DASK_ADDRESS). A run of at most
Cluster.local_max_documents documents calls the same tasks in this process and starts no cluster.
What needs the whole collection (dedup against the index, learning the sites' chrome, the write) stays in the
flow process, the one DuckDB writer.

Every worker reports to the flow's Prefect API (flows/api.py).
"""
from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from contextvars import ContextVar
from typing import Any, Generic, TypeVar

from prefect import task
from prefect.cache_policies import NO_CACHE

from newsflow.extractors.settings import Settings
from newsflow.flows.api import shared_api
from newsflow.storage.db import DatabaseLocked, connection

T = TypeVar("T")

# Inputs are large byte strings and connections: never hash them for caching, never persist them.
stage = task(cache_policy=NO_CACHE, persist_result=False)


class Sealed(Generic[T]):
    """A task's bulky input as one opaque value: Prefect walks parameters looking for futures (0.7 s per 200
    cleaned articles), and its `quote` does not survive Dask (the annotation arrives as a tuple: prefect-dask #43).
    Dask names it by a token of its own rather than by hashing the whole pickled value."""

    __slots__ = ("value", "token")

    def __init__(self, value: T) -> None:
        self.value = value
        self.token = uuid.uuid4().hex

    def __dask_tokenize__(self) -> str:
        return self.token


def _document_id(record) -> str:
    return record.document_id


@stage
def extract_and_clean(chunk: Sealed, site_lines: Sealed, limits, dedup, quiet: bool = True):
    """Extraction and cleaning's first pass of a chunk of documents, with the bodies' dedup keys; `quiet`: without
    the HTML extractors' warnings, as in the flow process (task wrapper)."""
    from newsflow.extractors.cleaning import extract_and_clean as run
    from newsflow.extractors.html import quiet_extractor_logs

    if quiet:
        quiet_extractor_logs()
    return run(chunk.value, site_lines.value, limits, dedup)


def extractor_logs_quiet() -> bool:
    """Whether this process silences the HTML extractors' warnings (the command does, unless -v)."""
    import logging

    return not logging.getLogger("trafilatura").isEnabledFor(logging.WARNING)


@stage
def clean_chunk(chunk: Sealed, site_lines: Sealed, limits, dedup):
    """Cleaning's first pass of a chunk of drafts, with the bodies' dedup keys (task wrapper)."""
    from newsflow.extractors.cleaning import clean_chunk as run

    return run(chunk.value, site_lines.value, limits, dedup)


@stage
def clean_again(chunk: Sealed, limits, dedup):
    """Cleaning's second pass: (draft, its site's chrome) pairs cleaned again (task wrapper)."""
    from newsflow.extractors.cleaning import clean_again as run

    return run(chunk.value, limits, dedup)


@stage
def extract_entities(chunk: Sealed, ner, known: Sealed | None = None):
    """Mentions of a chunk of new articles, and an `entities_error` rejection for each one the model fails on (task wrapper).
    `known`: the stored names the dictionary pass looks for too (known_names)."""
    from newsflow.extractors.entities import extract_entities as run
    from newsflow.extractors.isolation import isolate

    names = known.value if known is not None else ()
    return isolate(lambda some: run(some, ner, names), chunk.value, _document_id, "entities_error")


@stage
def known_names(db):
    """The people and organisations stored articles named, for the dictionary pass (task wrapper)."""
    from newsflow.storage.entity_store import known_names as load

    with connection(db) as con:
        return tuple(load(con))


@stage
def find_duplicates(articles, body_keys, db, settings):
    """Compute keys, look up candidates in the index, decide new or duplicate; an article whose keys or
    decision fail is rejected `dedup_error`. Returns the articles kept, their keys and decisions, and the
    rejections (task wrapper)."""
    from newsflow.extractors.dedup import compute_keys, find_duplicates as decide
    from newsflow.extractors.isolation import isolate
    from newsflow.storage.dedup_index import find_candidates

    shingles: dict = {}
    keys, failed = isolate(lambda some: compute_keys(some, settings, shingles, body_keys), articles, _document_id, "dedup_error")
    gone = {r.document_id for r in failed}
    articles = [a for a in articles if a.document_id not in gone]
    with connection(db) as con:
        candidates = find_candidates(con, keys)
    key_of = {k.document_id: k for k in keys}
    decisions, more = isolate(
        lambda some: decide(some, [key_of[a.document_id] for a in some], candidates, settings, shingles),
        articles, _document_id, "dedup_error",
    )
    gone = {r.document_id for r in more}
    articles = [a for a in articles if a.document_id not in gone]
    return articles, [key_of[a.document_id] for a in articles], decisions, failed + more


def _is_transient(state) -> bool:
    try:
        state.result()
    except DatabaseLocked:
        return True
    except Exception:
        return False
    return False


retried = task(cache_policy=NO_CACHE, persist_result=False, retries=3, retry_delay_seconds=[1, 5, 15],
               retry_condition_fn=lambda task, run, state: _is_transient(state))


# Story linking and entity resolution read what is stored, then the batch's write lands what they decided: the
# writer lock (storage.db.writer_lock), held by the flows around a batch's prepare_batch and land_batch, keeps
# any other writer from changing those rows in between.
@stage
def link_stories(articles, decisions, seen_at, db, settings):
    """The story of each new article: an earlier report's of the same event, else its own (task wrapper)."""
    from newsflow.extractors.stories import batch_story_docs, link_stories as link
    from newsflow.storage.stories import load_story_pool

    new, dated = batch_story_docs(articles, decisions, seen_at)
    if not new:
        return []
    with connection(db) as con:
        pool = load_story_pool(con, new, settings, dated)
    return link(new, pool, settings)


@stage
def resolve_entities(mentions, db):
    """The mentions with short forms joined to full names across articles, their entities and merges (task wrapper)."""
    from newsflow.extractors.entity_resolution import lookup_keys, resolve_entities as resolve
    from newsflow.storage.entity_store import load_entities

    if not mentions:
        return [], [], []
    keys = lookup_keys(mentions)
    with connection(db) as con:
        stored = load_entities(con, keys)
    return resolve(mentions, stored)


@retried
def write_batch(batch, db):
    """Write the batch in one transaction; a held database lock is retried (task wrapper)."""
    from newsflow.storage.db import retry_busy
    from newsflow.storage.writes import write_batch as run

    def attempt():
        with connection(db) as con:
            return run(con, batch)

    return retry_busy(attempt)  # a lake's catalog busy with another process's commit: the whole batch again


@retried
def find_unwritable(batch, db):
    """The documents whose rows fail to write, and whether the site lines write (task wrapper)."""
    from newsflow.storage.writes import unwritable

    with connection(db) as con:
        return unwritable(con, batch)


class Workers:
    """Runs a task over chunks of a list: on a started DaskTaskRunner's cluster, or (runner None) here, by calling it.

    Chunks hold at least `chunk_size` items, more when that makes two chunks per worker thread: each task submitted
    costs the flow process ~0.05 s (prefect-dask serialises all of Prefect's settings with every task).
    `here_max`: lists of at most this many items run here even with a cluster (a long-running session that keeps
    the models loaded here too: one chunk would go to one worker anyway, and the trip costs ~0.15 s).
    """

    def __init__(self, runner=None, chunk_size: int = 25, threads: int = 1, here_max: int = 0) -> None:
        self.runner = runner
        self.chunk_size = max(1, chunk_size)
        self.threads = max(1, threads)
        self.here_max = here_max

    def map(self, stage_task: Callable[..., T], items: list, **static: Any) -> list[T]:
        """stage_task(chunk=Sealed(chunk), **static) for each chunk of `items`, in order: one result per chunk
        (here, one chunk: nothing runs beside it)."""
        if self.runner is None or len(items) <= self.here_max:
            return [stage_task(Sealed(items), **static)]  # a task run in this process
        size = max(self.chunk_size, -(-len(items) // (2 * self.threads)))
        chunks = [Sealed(items[i:i + size]) for i in range(0, len(items), size)]
        futures = [self.runner.submit(stage_task, {"chunk": chunk, **static}) for chunk in chunks]
        return [future.result() for future in futures]


    def warm(self, ner) -> None:
        """Load the extractors, NER models and dictionaries now where a list of a few items runs: here, or in every
        worker (see load_worker). A bigger list's first chunk on a worker still loads them: a burst amortises that."""
        if self.runner is None or self.here_max:
            load_worker(ner)
        else:
            self.runner.client.run(load_worker, ner)  # Dask's Client.run: the function once in each worker


def load_worker(ner) -> None:
    """What a long-running worker would otherwise load on its first chunk of each kind: trafilatura, the NER
    models, the dictionaries of the languages newsflow has lexicons for."""
    import trafilatura  # noqa: F401  (its import, with htmldate's and lxml's, is most of a first extraction)

    from newsflow.extractors.entities import load_languages
    from newsflow.extractors.lines import lexicon_languages

    if ner.ner_enabled:
        load_languages(ner, lexicon_languages())


_CURRENT: ContextVar[Workers | None] = ContextVar("newsflow_workers", default=None)


def current_workers() -> Workers:
    """The workers of the enclosing `workers_for` block; outside one, this process."""
    return _CURRENT.get() or Workers()


@contextmanager
def using(workers: Workers) -> Iterator[Workers]:
    """Within this block, the stages' tasks go to `workers` (a session's: `newsflow watch` keeps one cluster)."""
    token = _CURRENT.set(workers)
    try:
        yield workers
    finally:
        _CURRENT.reset(token)


@contextmanager
def workers_for(settings: Settings, documents: int | None) -> Iterator[Workers]:
    """Where a run of this many documents does its per-document work: the enclosing block's workers, the cluster at
    Cluster.dask_address, this process for a few documents, else a local cluster started for the block.
    `documents` None: a session of unknown size (`newsflow watch`), on a cluster unless Cluster.workers is 0; on a
    local cluster its stages run lists of up to Cluster.local_max_documents items here (Workers.here_max)."""
    if _CURRENT.get() is not None:
        yield _CURRENT.get()
        return
    cluster = settings.cluster
    small = documents is not None and documents <= cluster.local_max_documents
    if not cluster.dask_address and (cluster.workers < 1 or small):
        with using(Workers(None, cluster.chunk_size)) as workers:
            yield workers
        return
    here_max = cluster.local_max_documents if documents is None and not cluster.dask_address else 0
    with dask_workers(settings, here_max) as workers, using(workers):
        yield workers


@contextmanager
def dask_workers(settings: Settings, here_max: int = 0) -> Iterator[Workers]:
    """A DaskTaskRunner on the cluster at Cluster.dask_address, or on a local cluster started now (stopped at the
    end of the block); its workers report to this process's Prefect API (shared_api)."""
    from prefect_dask import DaskTaskRunner

    import dask

    cluster = settings.cluster
    with ExitStack() as stack:
        url = stack.enter_context(shared_api())  # the workers report to the flow's Prefect API
        # A chunk's pages travel with its task: tens of MB is the data, not a graph built by mistake.
        stack.enter_context(dask.config.set({"distributed.admin.large-graph-warning-threshold": "1GiB"}))
        if cluster.dask_address:
            runner = DaskTaskRunner(address=cluster.dask_address)
        else:
            runner = DaskTaskRunner(
                cluster_class="distributed.LocalCluster",
                cluster_kwargs=dict(
                    n_workers=max(1, cluster.workers), threads_per_worker=1, processes=True,
                    host="127.0.0.1", dashboard_address="127.0.0.1:0", env={"PREFECT_API_URL": url},
                    preload=["newsflow.flows.dask_worker"],  # Ctrl-C is the command's to handle, not each worker's
                ),
            )
        stack.enter_context(runner)
        # Starts the local cluster (or connects) now, not at the first chunk; its threads, as they are now.
        threads = sum(w["nthreads"] for w in runner.client.scheduler_info(n_workers=-1)["workers"].values())
        yield Workers(runner, cluster.chunk_size, threads, here_max)
