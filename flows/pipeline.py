"""The shared batch pipeline: extract -> clean -> dedup -> entities -> stories, entity resolution -> write; the
per-document stages are Prefect tasks over chunks, on the workers of flows/tasks.py."""
from __future__ import annotations

from datetime import datetime, timezone

from prefect.utilities.annotations import quote

from newsflow.extractors.extraction import live_documents
from newsflow.extractors.records import Article, Batch, RawDocument, Rejection
from newsflow.extractors.settings import Settings
from newsflow.flows.tasks import (
    Sealed, clean_again, clean_chunk, current_workers, extract_and_clean, extract_entities, extractor_logs_quiet,
    find_duplicates, find_unwritable, known_names, link_stories, resolve_entities, write_batch,
)
from newsflow.storage.db import connection


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


def prepare_batch(docs: list[RawDocument], rejections: list[Rejection], settings: Settings, run_id: str) -> Batch:
    """Run every stage but the write; call it while holding the database's writer lock.

    Extraction and cleaning run on the workers (flows.tasks) in two passes: the first with the chrome learned in
    earlier batches; then this process learns the batch's chrome, and the drafts that show some go through
    cleaning again with it.
    """
    from newsflow.extractors.cleaning import learn_chrome, outcomes

    workers = current_workers()
    batch = Batch(run_id=run_id, documents=docs, rejections=list(rejections))
    live = live_documents(docs, rejections)
    sites = {d.site for d in live if d.site}
    known = _site_lines(settings, sites, {})
    cleaned = []
    for failed, some in workers.map(extract_and_clean, live, site_lines=Sealed(known), limits=settings.limits,
                                    dedup=settings.dedup, quiet=extractor_logs_quiet()):
        batch.rejections += failed
        cleaned += some
    # A page whose site comes from the page itself (its URL) was cleaned without chrome: when earlier batches
    # learned some for that site, it is cleaned again with it.
    known = _site_lines(settings, {c.draft.site for c in cleaned if c.draft.site}, known)
    redo = [n for n, c in enumerate(cleaned) if c.draft.site not in sites and known.get(c.draft.site or "")]
    if redo:
        first = workers.map(clean_chunk, [cleaned[n].draft for n in redo], site_lines=Sealed(known), limits=settings.limits,
                            dedup=settings.dedup)
        for n, item in zip(redo, (item for some in first for item in some)):
            cleaned[n] = item
    batch.site_lines, again = learn_chrome(cleaned, known)
    if again:
        items = [(cleaned[index].draft, chrome) for index, chrome in again]
        redone = [item for some in workers.map(clean_again, items, limits=settings.limits, dedup=settings.dedup) for item in some]
        for (index, _), item in zip(again, redone):
            cleaned[index] = item
    articles, failed, body_keys = outcomes(cleaned)
    batch.rejections += failed
    decide_articles(batch, articles, settings, body_keys)
    return batch


def _site_lines(settings: Settings, sites: set[str], known: dict[str, set[str]]) -> dict[str, set[str]]:
    """`known` plus the chrome learned in earlier batches for `sites`; every site is a key (no chrome: empty)."""
    from newsflow.storage.site_lines import load_site_lines

    wanted = sorted(sites - set(known))
    if not wanted:
        return known
    with connection(settings.paths.db) as con:
        loaded = load_site_lines(con, wanted)
    return {**known, **{site: set(loaded.get(site, ())) for site in wanted}}


def decide_articles(batch: Batch, articles: list[Article], settings: Settings, body_keys: dict | None = None) -> None:
    """Dedup, then NER of the new articles, then stories and entities against what is stored, onto the batch.
    An article NER fails on is rejected and the rest decided again: an in-batch copy of it must not point at
    an article that is never written."""
    while True:
        # quote(): Prefect would otherwise walk every record of the batch looking for futures (~1 s per 200 docs).
        articles, batch.keys, batch.decisions, failed = find_duplicates(
            quote(articles), quote(body_keys or {}), settings.paths.db, settings.dedup
        )
        batch.rejections += failed
        new: list[Article] = [a for a, d in zip(articles, batch.decisions) if d.status == "new"]
        batch.mentions, failed = named_entities(new, settings)
        batch.rejections += failed
        if not failed:
            batch.articles = articles
            break
        gone = {r.document_id for r in failed}
        articles = [a for a in articles if a.document_id not in gone]
    db = settings.paths.db
    batch.seen_at = datetime.now(timezone.utc)
    batch.stories = link_stories(quote(batch.articles), quote(batch.decisions), batch.seen_at, db, settings.dedup)
    batch.mentions, batch.entities, batch.merges = resolve_entities(quote(batch.mentions), db)


def named_entities(articles: list[Article], settings: Settings) -> tuple[list, list[Rejection]]:
    """Mentions of the new articles, on the workers, and a rejection `entities_error` for each one NER fails on."""
    if not (articles and settings.ner.ner_enabled):
        return [], []
    # The workers need the body, its language and the id: not the removed lines (most of an article's pickle).
    bodies = [Article(a.document_id, a.title, a.text, language=a.language, article_id=a.article_id) for a in articles]
    from newsflow.extractors.entities import model_language

    # Articles in other languages look for the names earlier articles gave too (the dictionary pass).
    english = {None, model_language(settings.ner)}
    known = Sealed(known_names(settings.paths.db)) if any(a.language not in english for a in bodies) else None
    mentions, failed = [], []
    for found, rejected in current_workers().map(extract_entities, bodies, ner=settings.ner, known=known):
        mentions += found
        failed += rejected
    return mentions, failed
