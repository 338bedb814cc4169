"""The shared batch pipeline: extract -> clean -> dedup -> entities -> stories, entity resolution -> write, one Prefect task per stage per batch."""
from __future__ import annotations

from datetime import datetime, timezone

from prefect import task
from prefect.cache_policies import NO_CACHE
from prefect.utilities.annotations import quote

from newsflow.extractors.extraction import live_documents
from newsflow.extractors.isolation import isolate
from newsflow.extractors.records import Article, Batch, Draft, RawDocument, Rejection
from newsflow.extractors.settings import Settings
from newsflow.storage.db import DatabaseLocked, connection

# Inputs are large byte strings and connections: never hash them for caching, never persist them.
stage = task(cache_policy=NO_CACHE, persist_result=False)


@stage
def extract_drafts(docs, limits):
    """Decode and extract each document (task wrapper)."""
    from newsflow.extractors.extraction import extract_drafts as run

    return run(docs, limits)


def _document_id(record) -> str:
    return record.document_id


@stage
def clean_drafts(drafts, db, limits, dedup):
    """Remove boilerplate lines, using what was learned about each site; the workers also compute the
    bodies' dedup keys; a draft the cleaner fails on is rejected `clean_error` (task wrapper)."""
    from newsflow.extractors.cleaning import clean_batch
    from newsflow.storage.site_lines import load_site_lines

    sites = sorted({d.site for d in drafts if d.site})
    with connection(db) as con:
        known = load_site_lines(con, sites) if sites else {}
    body_keys: dict = {}
    (articles, rejections, observed), failed = isolate(
        lambda some: clean_batch(some, known, limits, dedup, body_keys), drafts, _document_id, "clean_error"
    )
    return articles, rejections + failed, observed, body_keys


@stage
def find_duplicates(articles, body_keys, db, settings):
    """Compute keys, look up candidates in the index, decide new or duplicate; an article whose keys or
    decision fail is rejected `dedup_error`. Returns the articles kept, their keys and decisions, and the
    rejections (task wrapper)."""
    from newsflow.extractors.dedup import compute_keys, find_duplicates as decide
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


@stage
def extract_entities(articles, ner):
    """Named entities of new articles, and a rejection `entities_error` for each one the model fails on (task wrapper)."""
    from newsflow.extractors.entities import extract_entities as run

    if not (articles and ner.ner_enabled):
        return [], []
    return isolate(lambda some: run(some, ner), articles, _document_id, "entities_error")


# Story linking and entity resolution read what is stored, then the batch's write lands what they decided: the
# writer lock (storage.db.writer_lock), held by the flows around a batch's prepare_batch and land_batch, keeps
# any other writer from changing those rows in between.
@stage
def link_stories(articles, decisions, seen_at, db, settings):
    """story_id of each new article: an earlier report's within the time window, else its own id (task wrapper)."""
    from newsflow.extractors.stories import batch_story_docs, link_stories as link
    from newsflow.storage.stories import load_story_pool

    new, dated = batch_story_docs(articles, decisions, seen_at)
    if not new:
        return {}
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


@task(cache_policy=NO_CACHE, persist_result=False, retries=3, retry_delay_seconds=[1, 5, 15],
      retry_condition_fn=lambda task, run, state: _is_transient(state))
def write_batch(batch, db):
    """Write the batch in one transaction; a held database lock is retried (task wrapper)."""
    from newsflow.storage.writes import write_batch as run

    with connection(db) as con:
        return run(con, batch)


@task(cache_policy=NO_CACHE, persist_result=False, retries=3, retry_delay_seconds=[1, 5, 15],
      retry_condition_fn=lambda task, run, state: _is_transient(state))
def find_unwritable(batch, db):
    """The documents whose rows fail to write, and whether the site lines write (task wrapper)."""
    from newsflow.storage.writes import unwritable

    with connection(db) as con:
        return unwritable(con, batch)


def land_batch(batch: Batch, settings: Settings, plan=lambda batch: None) -> tuple[object, dict[str, int]]:
    """plan(batch) (where originals go: it notes stored paths on the batch), then write the batch.

    When the write fails on some documents' values, those documents are rejected `write_failed` (their
    `documents` rows still land), the rest is decided again without them, planned again and written.
    Returns plan's result and the write's counts.
    """
    from newsflow.storage.writes import ROW_ERRORS

    planned = plan(batch)
    try:
        return planned, write_batch(quote(batch), settings.paths.db)  # quote(): see prepare_batch
    except ROW_ERRORS:
        failed, site_lines_ok = find_unwritable(quote(batch), settings.paths.db)
        if not failed and site_lines_ok:
            raise
    batch.rejections += failed
    if not site_lines_ok:
        batch.site_lines = []  # what the batch taught about its sites' chrome is lost; the articles are not
    gone = {r.document_id for r in failed}
    decide_articles(batch, [a for a in batch.articles if a.document_id not in gone], settings)
    planned = plan(batch)
    return planned, write_batch(quote(batch), settings.paths.db)


def _is_transient(state) -> bool:
    try:
        state.result()
    except DatabaseLocked:
        return True
    except Exception:
        return False
    return False


def prepare_batch(
    docs: list[RawDocument], rejections: list[Rejection], settings: Settings, run_id: str,
    extracted: tuple[list[Draft], list[Rejection]] | None = None,
) -> Batch:
    """Run every stage but the write; call it while holding the database's writer lock.

    `extracted`: extract_drafts' result for these documents when it was computed ahead (flows.ingest).
    """
    from newsflow.extractors.workers import start_workers

    start_workers(settings)  # a no-op once it runs
    db = settings.paths.db
    batch = Batch(run_id=run_id, documents=docs, rejections=list(rejections))
    # quote(): Prefect would otherwise walk every record of the batch looking for futures (~1 s per 200 docs).
    if extracted is None:
        extracted = extract_drafts(quote(live_documents(docs, rejections)), settings.limits)
    drafts, failed = extracted
    batch.rejections += failed
    articles, failed, batch.site_lines, body_keys = clean_drafts(quote(drafts), db, settings.limits, settings.dedup)
    batch.rejections += failed
    decide_articles(batch, articles, settings, body_keys)
    return batch


def decide_articles(batch: Batch, articles: list[Article], settings: Settings, body_keys: dict | None = None) -> None:
    """Dedup, then NER of the new articles, then stories and entities against what is stored, onto the batch.
    An article NER fails on is rejected and the rest decided again: an in-batch copy of it must not point at
    an article that is never written."""
    while True:
        articles, batch.keys, batch.decisions, failed = find_duplicates(
            quote(articles), quote(body_keys or {}), settings.paths.db, settings.dedup
        )
        batch.rejections += failed
        new: list[Article] = [a for a, d in zip(articles, batch.decisions) if d.status == "new"]
        batch.mentions, failed = extract_entities(quote(new), settings.ner)
        batch.rejections += failed
        if not failed:
            batch.articles = articles
            break
        gone = {r.document_id for r in failed}
        articles = [a for a in articles if a.document_id not in gone]
    db = settings.paths.db
    batch.seen_at = datetime.now(timezone.utc)
    batch.story_ids = link_stories(quote(batch.articles), quote(batch.decisions), batch.seen_at, db, settings.dedup)
    batch.mentions, batch.entities, batch.merges = resolve_entities(quote(batch.mentions), db)


def warm_stages(settings: Settings, ner_here: bool = True, pages_here: bool = True) -> None:
    """Pay the stages' one-off costs (imports, lexicons, language and NER models) on a throw-away document.

    `ner_here=False` leaves the NER model to the worker processes, `pages_here=False` extraction and
    cleaning (trafilatura, the lexicons, the language model): only batches too small for a pool run them
    in this process, and then load what they need on first use.
    """
    from newsflow.extractors.dedup import compute_keys  # numpy: dedup stays in this process

    ner_here = ner_here and settings.ner.ner_enabled
    if not (pages_here or ner_here):
        return
    from newsflow.extractors.warming import warm_page_stages

    articles = warm_page_stages(settings.limits, settings.dedup)
    compute_keys(articles, settings.dedup)
    if ner_here:
        from newsflow.extractors.entities import extract_entities as run

        for article in articles:
            article.article_id = article.document_id
        run(articles, settings.ner)
