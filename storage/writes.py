"""Write one micro-batch in one transaction: keyed upserts, so a rerun is always safe."""
from __future__ import annotations

import os
import socket
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path

import duckdb

from newsflow.extractors.isolation import failure_detail
from newsflow.extractors.records import Batch, Rejection
from newsflow.storage.bulk import insert_rows
from newsflow.storage.db import transaction

ARTICLE_COLUMNS = (
    "article_id", "title", "text", "url", "canonical_url", "site", "author", "published_at", "language",
    "attribution", "word_count", "text_sha256", "extractor", "first_seen_at", "story_id", "event_date", "event_date_source",
    "extraction_notes", "text_line_nos",
)
STORY_LINK_COLUMNS = (
    "article_id", "linked_to", "story_id", "score", "threshold", "cosine", "day_gap", "day_sources", "shared_kinds",
    "shared_particulars", "linked_at",
)
DOCUMENT_COLUMNS = (
    "document_id", "run_id", "source_kind", "source_ref", "parent_id", "received_at", "raw_sha256", "raw_size",
    "stored_path", "status", "article_id", "dedup_method", "similarity", "error", "error_detail",
)


# Errors a row's values cause (a string UTF-8 cannot encode, a value out of a column's range, a broken
# constraint): worth finding the documents behind them. Others (I/O, a lock, a bug in SQL) fail as they are.
ROW_ERRORS = (duckdb.DataError, duckdb.IntegrityError, duckdb.InvalidInputException, ValueError, OverflowError)


class _Trial(Exception):
    """Raised at the end of a trial write, to roll it back."""


def write_batch(con: duckdb.DuckDBPyConnection, batch: Batch, *, trial: bool = False) -> dict[str, int]:
    """Write documents, new articles with their stories, dedup index, entities, removed lines and site lines atomically.

    What is decided against stored rows (story ids, entities resolved across articles) comes decided on the batch.
    `trial`: roll back at the end and raise _Trial (see unwritable).
    """
    from newsflow.storage import dedup_index, entity_store, moves, site_lines

    now = batch.seen_at or datetime.now(timezone.utc)
    decided = {d.document_id: d for d in batch.decisions}
    rejected = {r.document_id: r for r in batch.rejections}
    new = [a for a in batch.articles if decided[a.document_id].status == "new"]
    stories = {s.article_id: s for s in batch.stories}
    with transaction(con):
        rows = []
        for a in new:
            story = stories.get(a.article_id)
            rows.append((a.article_id, a.title, a.text, a.url, a.canonical_url, a.site, a.author, a.published_at,
                         a.language, a.attribution, a.word_count, a.text_sha256, a.extractor, now,
                         story.story_id if story else None, story.event_date if story else None,
                         story.event_date_source if story else None, "; ".join(a.notes) or None, list(a.line_nos)))
        insert_rows(con, "articles", ARTICLE_COLUMNS, rows, key=("article_id",))
        insert_rows(
            con,
            "story_links",
            STORY_LINK_COLUMNS,
            [
                (s.article_id, s.linked_to, s.story_id, e.score, e.threshold, e.cosine, e.day_gap, e.day_sources,
                 list(e.shared_kinds), list(e.shared_particulars), now)
                for s in batch.stories if (e := s.evidence) is not None and s.linked_to is not None
            ],
            key=("article_id",),
            types={"shared_kinds": "VARCHAR[]", "shared_particulars": "VARCHAR[]"},  # empty lists say no type
        )
        dedup_index.add_to_index(con, batch.articles, batch.keys, batch.decisions)
        dedup_index.fill_missing_metadata(con, batch.articles, batch.decisions)
        entity_store.write_entities(con, batch.mentions, batch.entities, batch.merges)
        insert_rows(
            con,
            "removed_lines",
            ("document_id", "article_id", "line_no", "line", "reason"),
            [
                (a.document_id, decided[a.document_id].article_id, r.line_no, r.line, r.reason)
                for a in batch.articles
                for r in a.removed
            ],
            key=("document_id", "line_no"),
        )
        site_lines.record_site_lines(con, batch.site_lines)
        rows = []
        for doc in batch.documents:
            decision, rejection = decided.get(doc.document_id), rejected.get(doc.document_id)
            if rejection is not None:
                status, article_id, method, similarity = "rejected", None, None, None
            elif decision is not None:
                status, article_id, method, similarity = decision.status, decision.article_id, decision.method, decision.similarity
            else:
                raise RuntimeError(f"document {doc.document_id} has neither a decision nor a rejection")
            # A rejected document's row must land whatever its text: it is the only record of the input.
            text = _storable if rejection is not None else (lambda value: value)
            rows.append((
                doc.document_id, batch.run_id, doc.source_kind, text(doc.source_ref), doc.parent_id, doc.received_at,
                doc.raw_sha256, len(doc.content), text(batch.stored_paths.get(doc.document_id)), status, article_id,
                method, similarity, rejection.reason if rejection else None, text(rejection.detail) if rejection else None,
            ))
        insert_rows(con, "documents", DOCUMENT_COLUMNS, rows, key=("document_id",))
        insert_rows(
            con,
            "raw_content",
            ("document_id", "content"),
            [(d.document_id, d.content) for d in batch.documents if d.source_kind != "inbox" and d.content],
            key=("document_id",),
        )
        moves.record_moves(con, batch.moves, batch.run_id)  # committed with the rows that name its stored_path
        if trial:
            raise _Trial
    return {
        "documents": len(batch.documents),
        "articles": len(new),
        "duplicates": len(batch.decisions) - len(new),
        "rejected": len(batch.rejections),
        "mentions": len(batch.mentions),
    }


def unwritable(con: duckdb.DuckDBPyConnection, batch: Batch) -> tuple[list[Rejection], bool]:
    """After the batch failed to write: the documents whose rows fail, each rejected `write_failed`, and
    whether the batch's site lines write. Found by halving the batch in trial writes, all rolled back
    (a trial costs about what the batch's write costs: about 2 log2(n) of them for one bad document in n).

    Raises the first error when every document of a batch of several fails: that is the database's
    problem or a bug, not the documents'.
    """
    failed = _failing(con, batch, [d.document_id for d in batch.documents])
    if failed and len(failed) == len(batch.documents) > 1:
        raise failed[0][1]
    rejections = [Rejection(doc_id, "write_failed", failure_detail(exc)) for doc_id, exc in failed]
    return rejections, _trial(con, Batch(batch.run_id, [], site_lines=batch.site_lines)) is None


def _failing(con, batch: Batch, ids: list[str]) -> list[tuple[str, Exception]]:
    """The documents among `ids` whose part of the batch fails to write, with the error each met."""
    error = _trial(con, _part(batch, set(ids)))
    if error is None:
        return []
    if len(ids) == 1:
        return [(ids[0], error)]
    half = len(ids) // 2
    return _failing(con, batch, ids[:half]) + _failing(con, batch, ids[half:])


def _trial(con, batch: Batch) -> Exception | None:
    """The row error writing the batch meets, or None; rolled back either way."""
    try:
        write_batch(con, batch, trial=True)
    except _Trial:
        return None
    except ROW_ERRORS as exc:
        return exc
    raise AssertionError("a trial write ends with _Trial")


def _part(batch: Batch, ids: set[str]) -> Batch:
    """The part of the batch these documents write (the site lines aside: no document owns them)."""
    rows = [(a, k, d) for a, k, d in zip(batch.articles, batch.keys, batch.decisions) if a.document_id in ids]
    new_ids = {d.article_id for _, _, d in rows if d.status == "new"}
    mentions = [m for m in batch.mentions if m.article_id in new_ids]
    named = {m.entity_id for m in mentions}
    return replace(
        batch,
        documents=[d for d in batch.documents if d.document_id in ids],
        rejections=[r for r in batch.rejections if r.document_id in ids],
        articles=[a for a, _, _ in rows], keys=[k for _, k, _ in rows], decisions=[d for _, _, d in rows],
        mentions=mentions,
        entities=[e for e in batch.entities if e.entity_id in named],
        merges=[m for m in batch.merges if m.new_id in named],
        site_lines=[],
        moves=[m for m in batch.moves if m.target in {batch.stored_paths.get(i) for i in ids}],
    )


def _storable(text: str | None) -> str | None:
    """Text UTF-8 can encode: a file name's undecodable bytes become \\xNN, other lone surrogates \\udNNN."""
    if text is None:
        return None
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        pass
    try:
        return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    except UnicodeEncodeError:
        return text.encode("utf-8", "backslashreplace").decode("utf-8")


CRASHED_ERROR = "process ended without finishing (killed?)"
# Every run this process records starts after this module loaded: a `running` row with this process's pid that
# started before then is a previous process's (a container restarted with the same pid), and that one is gone.
LOADED_AT = datetime.now(timezone.utc)


def start_run(con: duckdb.DuckDBPyConnection, run_id: str, flow: str) -> None:
    """Record that a run began, with its host and pid; first mark runs left `running` by a dead process as crashed."""
    mark_crashed_runs(con)
    insert_rows(con, "runs", ("run_id", "flow", "started_at", "status", "host", "pid"),
                [(run_id, flow, datetime.now(timezone.utc), "running", socket.gethostname(), os.getpid())], key=("run_id",))


def mark_crashed_runs(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Mark `running` rows of this host whose process is gone (killed, lost power) as crashed; their run ids.

    A row with this very process's pid is live only if it started after this process loaded this module (LOADED_AT):
    after a restart (a container's) the new process may have the dead one's pid. Rows of other hosts, and rows from
    before the host and pid were recorded, are left as they are: nothing here can tell whether their process lives.
    """
    host, me = socket.gethostname(), os.getpid()
    rows = con.execute(
        "SELECT run_id, pid, started_at < ? FROM runs WHERE status = 'running' AND host = ? AND pid IS NOT NULL",
        [LOADED_AT, host],
    ).fetchall()
    gone = [run_id for run_id, pid, before_me in rows if (before_me if pid == me else not _process_alive(pid))]
    if gone:
        con.execute(
            """UPDATE runs SET status = 'crashed', finished_at = ?, error = ?
               WHERE status = 'running' AND run_id IN (SELECT unnest(?))""",
            [datetime.now(timezone.utc), CRASHED_ERROR, gone],
        )
    return gone


def _process_alive(pid: int) -> bool:
    """Whether a process with this pid exists on this host (a zombie, dead but not reaped, counts as gone)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:  # no /proc (macOS), or it ended just now
        return True
    return stat.rpartition(")")[2].split()[:1] != ["Z"]


def finish_run(con: duckdb.DuckDBPyConnection, run_id: str, counts: dict[str, int], error: str | None = None) -> None:
    """Record a run's totals and how it ended."""
    con.execute(
        """UPDATE runs SET finished_at = ?, status = ?, documents = ?, articles = ?, duplicates = ?,
           rejected = ?, mentions = ?, error = ? WHERE run_id = ?""",
        [
            datetime.now(timezone.utc), "failed" if error else "completed", counts.get("documents", 0),
            counts.get("articles", 0), counts.get("duplicates", 0), counts.get("rejected", 0),
            counts.get("mentions", 0), error, run_id,
        ],
    )
