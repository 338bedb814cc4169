"""The inbox flow: read what is in the inbox now, run the pipeline in micro-batches, move originals."""
from __future__ import annotations

import os
import sys
from contextlib import ExitStack
from datetime import datetime, timezone
from pathlib import Path

from prefect import flow, task
from prefect.cache_policies import NO_CACHE
from prefect.utilities.annotations import quote

from newsflow.extractors.reading import list_inbox, read_inbox as read_files
from newsflow.extractors.settings import Settings, settings_for
from newsflow.flows.pipeline import land_batch, prepare_batch
from newsflow.flows.progress import Progress
from newsflow.flows.runs import recorded_run
from newsflow.flows.tasks import workers_for
from newsflow.storage.archive import NotMoved, check_folders, finish_move, move_originals, plan_destinations
from newsflow.storage.db import connection, writer_lock
from newsflow.storage.moves import pending_moves, settle_moves


@task(cache_policy=NO_CACHE, persist_result=False)
def read_inbox(inbox, paths, limits):
    """Read a chunk of inbox files into documents (task wrapper)."""
    return read_files(inbox, paths, limits)


@task(cache_policy=NO_CACHE, persist_result=False)
def archive_originals(moves, db):
    """Move originals to the archive or quarantine after the batch committed; the journal forgets each one in
    place and keeps a failed one, with why, for the next batch. Returns source -> why for those (task wrapper)."""
    failed = move_originals(moves)
    with connection(db) as con:
        settle_moves(con, [m.source for m in moves if m.source not in failed], failed)
    return failed


def finish_interrupted(db: Path, paths: list[Path], unmoved: dict[str, str] | None = None) -> list[Path]:
    """Finish the moves a killed or failed batch left (any inbox's); return the given paths still to read.

    A file is moved unread only while it is the one recorded (sha256 and size); any other file under a recorded
    name is a new input, and a file whose move fails again stays in the inbox, recorded (and in `unmoved`).
    """
    with connection(db) as con:
        pending = pending_moves(con)
    if not pending:
        return paths
    finished, failed, kept_out = [], {}, set()
    for move in pending:
        try:
            outcome = finish_move(move)
        except OSError as exc:
            failed[move.source] = f"{type(exc).__name__}: {exc}"
            kept_out.add(move.source)
            continue
        finished.append(move.source)
        if outcome == "moved":
            kept_out.add(move.source)
    with connection(db) as con:
        settle_moves(con, finished, failed)
    if unmoved is not None:
        unmoved.update(failed)
        for source in finished:
            unmoved.pop(source, None)
    return [p for p in paths if os.path.abspath(p) not in kept_out]


# A batch of at most this many bytes of input holds the database open from cleaning to the write: the stages'
# own opens then share one (each open costs ~0.05-0.3 s, and a reader polling the file makes some wait), and
# cleaning and NER of a page or two take well under a second, so a reader waits no longer than for the write.
HOLD_BYTES = 150_000


def ingest_paths(
    settings: Settings, inbox: Path, paths: list[Path], run_id: str, progress: Progress | None = None
) -> dict[str, int]:
    """Process the given inbox files in micro-batches; each batch holds the writer lock only while it works.

    The per-document stages run on the workers of flows.tasks (a cluster for many files, this process for a few).
    `progress` hears of each batch done.
    """
    totals = {"documents": 0, "articles": 0, "duplicates": 0, "rejected": 0, "mentions": 0, "files": 0}
    db = settings.paths.db
    archive = settings.paths.archive_dir(inbox)
    quarantine = settings.paths.quarantine_dir(inbox)
    size = max(1, settings.limits.batch_size)
    unmoved: dict[str, str] = {}  # recorded files whose move failed: they wait in the inbox for the next run
    with workers_for(settings, len(paths)):
        for start in range(0, len(paths), size):
            # The writer lock (other writers) is held for the whole batch, the DuckDB file only while needed: DuckDB
            # lets no other process open it meanwhile, not even to read, so a big batch opens it in each stage that
            # reads or writes it (site lines, dedup candidates, the write) and extraction and NER run with it closed.
            with writer_lock(db), ExitStack() as held:
                chunk = finish_interrupted(db, paths[start:start + size], unmoved)
                if not chunk:
                    continue
                docs, rejections, files = read_inbox(inbox, quote(chunk), settings.limits)
                files = [f for f in files if f.document_ids]
                if sum(len(d.content) for d in docs) <= HOLD_BYTES:
                    held.enter_context(connection(db))  # one open for the rest of a small batch, not one per stage
                batch = prepare_batch(docs, rejections, settings, run_id)
                _, counts = land_batch(  # a document whose rows fail to write is rejected, and its file re-planned
                    batch, settings, lambda b: plan_destinations(files, b, archive, quarantine, datetime.now(timezone.utc))
                )
                unmoved.update(archive_originals(quote(batch.moves), db))
            totals["files"] += len(files)
            for key, value in counts.items():
                totals[key] += value
            if progress is not None:
                progress.batch_done({**counts, "files": min(size, len(paths) - start)})  # of the listed total
    for source, why in unmoved.items():
        print(f"newsflow: {source} is recorded but could not be moved ({why}); it waits in the inbox for the "
              "next run to move it", file=sys.stderr)
    if unmoved:
        totals["unmoved"] = len(unmoved)
    return totals


def check_inbox(inbox: str | Path, archive: str | None = None, quarantine: str | None = None,
                settings: Settings | None = None) -> Settings:
    """Raise at once when the inbox is missing, or its archive or quarantine folder is a file or cannot be written;
    returns the settings (given, or the defaults with these folders)."""
    settings = settings or settings_for(None, str(inbox), archive, quarantine)
    inbox_dir = Path(inbox)
    if not inbox_dir.is_dir():
        raise FileNotFoundError(f"inbox folder {inbox} does not exist")
    check_folders(settings.paths.archive_dir(inbox_dir), settings.paths.quarantine_dir(inbox_dir), inbox_dir)
    return settings


@flow(name="ingest-inbox", log_prints=True)
def ingest_inbox(
    inbox: str = "inbox",
    db: str = "newsflow.duckdb",
    archive: str | None = None,
    quarantine: str | None = None,
    batch_size: int | None = None,
    entities: bool = True,
    watch: bool = False,
    settle_s: float = 0.5,
    sweep_s: float = 10.0,
) -> dict[str, int]:
    """Ingest every file now in the inbox into the DuckDB file; originals move to archive or quarantine.

    With `watch`, keep taking files as they are dropped (`newsflow watch`) until stopped or cancelled: one
    long-running flow run whose heartbeats tell Prefect it is alive, each micro-batch a `runs` row of its own
    (`watch-inbox`); a file is taken once renamed into place or unchanged for `settle_s`, the folder swept
    every `sweep_s` as the backstop for missed events.
    """
    settings = check_inbox(inbox, archive, quarantine, settings_for(db, inbox, archive, quarantine, batch_size, entities))
    inbox_dir = Path(inbox)
    if watch:
        from newsflow.flows.watch import keep_watching  # the watcher's module builds on this one

        return keep_watching(settings, inbox_dir, settle_s, sweep_s)
    paths = list_inbox(inbox_dir)
    with recorded_run(settings.paths.db, "ingest-inbox") as run, Progress(len(paths)) as progress:
        run.totals.update(ingest_paths(settings, inbox_dir, paths, run.run_id, progress))
        if run.totals.get("unmoved"):
            raise NotMoved(f"{run.totals['unmoved']} recorded file(s) could not be moved out of the inbox (why: above); "
                           "the next run moves them without reading them again")
    return run.totals
