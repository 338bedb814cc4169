"""The inbox flow: read what is in the inbox now, run the pipeline in micro-batches, move originals."""
from __future__ import annotations

from contextlib import suppress
from datetime import datetime, timezone
from pathlib import Path

from prefect import flow, task
from prefect.cache_policies import NO_CACHE
from prefect.utilities.annotations import quote

from extractors.reading import InboxFile, list_inbox, read_inbox as read_files
from extractors.settings import Settings, settings_for
from flows.head_start import ReadAhead, file_states, read_and_extract, take_head_start
from flows.pipeline import extract_drafts, land_batch, live_documents, prepare_batch
from storage.archive import move_file, move_originals, plan_destinations
from storage.db import connection, writer_lock
from storage.writes import finish_run, start_run, stored_paths_of


@task(cache_policy=NO_CACHE, persist_result=False)
def read_inbox(inbox, paths, limits):
    """Read a chunk of inbox files into documents (task wrapper)."""
    return read_files(inbox, paths, limits)


@task(cache_policy=NO_CACHE, persist_result=False)
def read_ahead(inbox, paths, settings):
    """Read the next chunk of inbox files and extract them while this batch is finished (task wrapper)."""
    return read_and_extract(inbox, paths, settings)


@task(cache_policy=NO_CACHE, persist_result=False)
def archive_originals(files, plan, batch, quarantine):
    """Move originals to the archive or quarantine after the batch committed (task wrapper)."""
    move_originals(files, plan, batch, quarantine)


def finish_interrupted(db: Path, inbox: Path, paths: list[Path]) -> list[Path]:
    """Files a crashed run already recorded but did not move: move them now; return the rest."""
    rels = {p.relative_to(inbox).as_posix(): p for p in paths}
    with connection(db) as con:
        recorded = stored_paths_of(con, list(rels))
    pending = []
    for rel, path in rels.items():
        unfinished = [Path(s) for s in recorded.get(rel, []) if not Path(s).exists() and not Path(s).is_symlink()]
        if unfinished:
            move_file(path, unfinished[0])  # its rows are committed; only the move was lost
        else:
            pending.append(path)
    return pending


def run_id_now() -> str:
    """The Prefect flow run id, so `runs` rows match the Prefect UI."""
    from prefect.runtime import flow_run

    return str(flow_run.id or datetime.now(timezone.utc).strftime("local-%Y%m%dT%H%M%S%f"))


def ingest_paths(settings: Settings, inbox: Path, paths: list[Path], run_id: str) -> dict[str, int]:
    """Process the given inbox files in micro-batches; each batch holds the writer lock only while it works.

    While a batch is cleaned, deduplicated and written, the next chunk is read and extracted on the worker
    pool (extraction needs no database), so the cores have work while this process does the batch's serial
    part; that work is used only if the next batch, under its own lock, finds the same files unchanged. The
    first chunk may come read ahead the same way, from before the flow run started (flows.head_start).
    """
    totals = {"documents": 0, "articles": 0, "duplicates": 0, "rejected": 0, "mentions": 0, "files": 0}
    db = settings.paths.db
    archive = settings.paths.archive_dir(inbox)
    quarantine = settings.paths.quarantine_dir(inbox)
    size = max(1, settings.limits.batch_size)
    ahead = take_head_start()  # the first chunk, when the CLI started it before the flow run
    try:
        for start in range(0, len(paths), size):
            # Holding a connection for the batch makes the stages' own connections share one open database:
            # no reopening, and one checkpoint per batch instead of one per stage (about halves watch latency).
            with writer_lock(db), connection(db):
                chunk = finish_interrupted(db, inbox, paths[start:start + size])
                taken, ahead = ahead, None
                if not chunk:
                    continue
                if taken is not None and taken.matches(inbox, chunk, settings):
                    docs, rejections, files, extracted = taken.future.result()
                else:  # nothing read ahead, or another process touched these files since
                    docs, rejections, files = read_inbox(inbox, quote(chunk), settings.limits)
                    extracted = extract_drafts(quote(live_documents(docs, rejections)), settings.limits)
                following = paths[start + size:start + 2 * size]
                if following:  # extracted while this batch is cleaned, deduplicated and written
                    states = file_states(following)  # before reading: a change while it reads shows too
                    future = read_ahead.submit(inbox, quote(following), quote(settings))
                    ahead = ReadAhead(inbox, following, states, settings, future)
                files = [f for f in files if f.document_ids]
                batch = prepare_batch(docs, rejections, settings, run_id, extracted)
                plan, counts = land_batch(  # a document whose rows fail to write is rejected, and its file re-planned
                    batch, settings, lambda b: plan_destinations(files, b, archive, quarantine, datetime.now(timezone.utc))
                )
                archive_originals(quote(files), quote(plan), quote(batch), quarantine)
            totals["files"] += len(files)
            for key, value in counts.items():
                totals[key] += value
    finally:
        if ahead is not None:  # a read-ahead left behind by a failed batch: its pool must not outlive the run
            with suppress(Exception):
                ahead.future.result()
    return totals


@flow(name="ingest-inbox", log_prints=True)
def ingest_inbox(
    inbox: str = "inbox",
    db: str = "newsflow.duckdb",
    archive: str | None = None,
    quarantine: str | None = None,
    batch_size: int | None = None,
    entities: bool = True,
) -> dict[str, int]:
    """Ingest every file now in the inbox into the DuckDB file; originals move to archive or quarantine."""
    settings = settings_for(db, inbox, archive, quarantine, batch_size, entities)
    inbox_dir = Path(inbox)
    if not inbox_dir.is_dir():
        raise FileNotFoundError(f"inbox folder {inbox_dir} does not exist")
    run_id = run_id_now()
    with connection(settings.paths.db) as con:
        start_run(con, run_id, "ingest-inbox")
    totals: dict[str, int] = {}
    try:
        totals = ingest_paths(settings, inbox_dir, list_inbox(inbox_dir), run_id)
    except BaseException as exc:
        with connection(settings.paths.db) as con:
            finish_run(con, run_id, totals, error=f"{type(exc).__name__}: {exc}")
        raise
    with connection(settings.paths.db) as con:
        finish_run(con, run_id, totals)
    return totals
