"""write_batch: one transaction, keyed upserts; the same batch written twice changes nothing."""
import os
import shutil
from dataclasses import replace
from datetime import date, datetime, timezone

import duckdb
import pytest

from newsflow.extractors.cleaning import clean_drafts, observed_lines
from newsflow.extractors.dedup import compute_keys, find_duplicates
from newsflow.extractors.extraction import extract_drafts
from newsflow.extractors.reading import list_inbox, read_inbox
from newsflow.extractors.records import Batch, Entity, Evidence, Mention, StoryDecision
from newsflow.extractors.settings import Dedup, Limits
from newsflow.storage.dedup_index import find_candidates
from newsflow.storage.db import apply_schema
from newsflow.storage.writes import finish_run, start_run, unwritable, write_batch

TABLES = ("documents", "articles", "removed_lines", "article_urls", "article_signatures", "article_bands", "site_lines")


def sample_batch(con, inbox, run_id="run-1"):
    """The samples through every stage but entities (cheap), as the flow builds a batch."""
    docs, rejections, _ = read_inbox(inbox, list_inbox(inbox), Limits())
    drafts, failed = extract_drafts(docs, Limits())
    articles, _ = clean_drafts(drafts, {}, Limits())
    keys = compute_keys(articles, Dedup())
    decisions = find_duplicates(articles, keys, find_candidates(con, keys), Dedup())
    return Batch(run_id, docs, rejections + failed, articles, keys, decisions, [], observed_lines(drafts),
                 {d.document_id: f"/archive/{d.source_ref}" for d in docs})


def counts(con):
    return {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in TABLES}


def test_batch_lands_every_row_kind(db, samples_dir):
    batch = sample_batch(db, samples_dir)
    result = write_batch(db, batch)
    assert result == {"documents": 3, "articles": 3, "duplicates": 0, "rejected": 0, "mentions": 0}
    found = counts(db)
    assert found["documents"] == 3 and found["articles"] == 3 and found["article_signatures"] == 3
    assert found["removed_lines"] == sum(len(a.removed) for a in batch.articles) > 20
    stored = db.execute("SELECT stored_path FROM documents ORDER BY 1").fetchall()
    assert [s for (s,) in stored] == sorted(f"/archive/{p.name}" for p in samples_dir.iterdir())


def test_writing_the_same_batch_twice_changes_nothing(db, samples_dir):
    batch = sample_batch(db, samples_dir)
    write_batch(db, batch)
    before = counts(db)
    write_batch(db, batch)
    assert counts(db) == before


def test_a_failing_batch_leaves_nothing_behind(db, samples_dir):
    batch = sample_batch(db, samples_dir)
    batch.documents[-1].source_kind = None  # fails at the documents insert, after articles and lines went in
    with pytest.raises(duckdb.ConstraintException):
        write_batch(db, batch)
    assert set(counts(db).values()) == {0}


def test_second_arrival_is_a_duplicate_row_pointing_at_the_article(db, samples_dir):
    write_batch(db, sample_batch(db, samples_dir, "run-1"))
    again = sample_batch(db, samples_dir, "run-2")
    assert {d.status for d in again.decisions} == {"duplicate"}
    write_batch(db, again)
    rows = db.execute(
        "SELECT status, count(*), count(DISTINCT article_id) FROM documents GROUP BY 1 ORDER BY 1"
    ).fetchall()
    assert rows == [("duplicate", 3, 3), ("new", 3, 3)]
    assert db.execute("SELECT count(*) FROM articles").fetchone()[0] == 3


def test_runs_record_start_and_totals(db):
    start_run(db, "r1", "ingest-inbox")
    finish_run(db, "r1", {"documents": 5, "articles": 4, "duplicates": 1})
    row = db.execute("SELECT status, documents, articles, duplicates, finished_at >= started_at FROM runs").fetchone()
    assert row == ("completed", 5, 4, 1, True)
    start_run(db, "r2", "ingest-inbox")
    finish_run(db, "r2", {}, error="ValueError: boom")
    assert db.execute("SELECT status, error FROM runs WHERE run_id = 'r2'").fetchone() == ("failed", "ValueError: boom")


def test_runs_left_running_by_a_dead_process_are_marked_crashed_on_the_next_start(tmp_path):
    import os
    import socket
    import subprocess
    import sys

    from newsflow.storage.db import connection
    from newsflow.storage.writes import CRASHED_ERROR

    path = tmp_path / "old.duckdb"
    old = duckdb.connect(str(path))  # a file from before runs recorded their process: migrated on the next open
    old.execute("""CREATE TABLE runs (run_id VARCHAR PRIMARY KEY, flow VARCHAR NOT NULL, started_at TIMESTAMPTZ NOT NULL,
                   finished_at TIMESTAMPTZ, status VARCHAR, documents INTEGER DEFAULT 0, articles INTEGER DEFAULT 0,
                   duplicates INTEGER DEFAULT 0, rejected INTEGER DEFAULT 0, mentions INTEGER DEFAULT 0, error VARCHAR)""")
    old.execute("INSERT INTO runs (run_id, flow, started_at, status) VALUES ('before-upgrade', 'watch-inbox', now(), 'running')")
    old.close()
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    alive = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()"], stdin=subprocess.PIPE)
    host = socket.gethostname()
    try:
        with connection(path) as con:
            rows = [("killed", host, int(dead.stdout)), ("live", host, alive.pid), ("elsewhere", "other-host", 1),
                    ("restarted", host, os.getpid())]  # this pid, but not a run this process started
            for run_id, run_host, pid in rows:
                con.execute("INSERT INTO runs (run_id, flow, started_at, status, host, pid) VALUES (?, 'ingest-inbox', "
                            "now() - INTERVAL 1 HOUR, 'running', ?, ?)", [run_id, run_host, pid])
            start_run(con, "mine", "ingest-inbox")
            start_run(con, "mine-too", "ingest-inbox")  # two runs of one process at once (`newsflow serve`)
            status = dict(con.execute("SELECT run_id, status FROM runs").fetchall())
            crashed = con.execute("SELECT error, finished_at > started_at FROM runs WHERE run_id = 'killed'").fetchone()
            mine = con.execute("SELECT host, pid FROM runs WHERE run_id = 'mine'").fetchone()
            finish_run(con, "mine", {})
            finish_run(con, "mine-too", {})
    finally:
        alive.communicate(b"")
    assert status == {"before-upgrade": "running", "killed": "crashed", "live": "running", "elsewhere": "running",
                      "restarted": "crashed", "mine": "running", "mine-too": "running"}
    assert crashed == (CRASHED_ERROR, True)
    assert mine == (host, os.getpid())


BODY = (
    "Coffee prices in the old town rose again this week as roasters passed on the cost of green beans, which "
    "have doubled since the spring harvest failed in two growing regions. Cafe owners said they would rather "
    "raise the price of a cup than cut the hours of their staff, and several have started buying directly from "
    "small farms to keep their costs stable. A survey of forty cafes found the average espresso now costs more."
)


def test_the_documents_a_failed_write_stumbled_on_are_found_and_their_rows_still_land(tmp_path, samples_dir):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    for path in samples_dir.iterdir():
        shutil.copy(path, inbox / path.name)
    # A file name that is not UTF-8 (Latin-1, from an old share): Python keeps the byte as a lone surrogate,
    # which DuckDB refuses in documents.source_ref; it used to fail the batch and every rerun.
    (inbox / os.fsdecode(b"caf\xe9.txt")).write_text("Cafe prices rise again\n\n" + BODY, encoding="utf-8")
    (inbox / os.fsdecode(b"na\xefve.txt")).write_text("Tea prices\n\n" + BODY.replace("Coffee", "Tea").replace("espresso", "pot"), encoding="utf-8")
    con = duckdb.connect(str(tmp_path / "news.duckdb"))
    apply_schema(con)
    batch = sample_batch(con, inbox)
    with pytest.raises(duckdb.InvalidInputException, match="surrogate"):
        write_batch(con, batch)

    failed, site_lines_ok = unwritable(con, batch)
    bad = {d.document_id for d in batch.documents if not d.source_ref.isascii()}
    assert len(bad) == 2 and {r.document_id: r.reason for r in failed} == dict.fromkeys(bad, "write_failed")
    assert all(r.detail.startswith("InvalidInputException: ") and "surrogate" in r.detail for r in failed)
    assert site_lines_ok and set(counts(con).values()) == {0}  # every trial was rolled back

    # What flows.pipeline.land_batch does next: reject it, decide the rest again without it, write.
    batch.rejections += failed
    kept = [i for i, a in enumerate(batch.articles) if a.document_id not in bad]
    batch.articles, batch.keys, batch.decisions = ([column[i] for i in kept] for column in (batch.articles, batch.keys, batch.decisions))
    assert write_batch(con, batch)["rejected"] == 2
    rows = {ref: (status, error, stored) for ref, status, error, stored in
            con.execute("SELECT source_ref, status, error, stored_path FROM documents").fetchall()}
    assert rows == {
        "caf\\xe9.txt": ("rejected", "write_failed", "/archive/caf\\xe9.txt"),  # its bytes, readable
        "na\\xefve.txt": ("rejected", "write_failed", "/archive/na\\xefve.txt"),
        **{p.name: ("new", None, f"/archive/{p.name}") for p in samples_dir.iterdir()},
    }
    assert counts(con)["articles"] == 3
    con.close()


def test_a_failure_every_document_meets_alone_is_not_blamed_on_them(db, samples_dir):
    batch = sample_batch(db, samples_dir)
    for doc in batch.documents:
        doc.received_at = "not a time"  # every row refused: a bug upstream, not three bad documents
    with pytest.raises(duckdb.ConversionException):
        write_batch(db, batch)
    with pytest.raises(duckdb.ConversionException):
        unwritable(db, batch)
    assert set(counts(db).values()) == {0}


def decided(batch):
    """Story ids, mentions and entities as flows.pipeline decides them before the write: two articles, one story."""
    first, second, third = (a.article_id for a in batch.articles)
    evidence = Evidence(0.52, 0.35, 0.42, 0, "published/arrival", ("call",), ("95min",))
    batch.stories = [StoryDecision(first, first, date(2025, 1, 21), "published"),
                     StoryDecision(second, first, date(2025, 1, 21), "arrival", first, evidence),
                     StoryDecision(third, third, None, "none")]
    batch.mentions = [Mention(first, "e1", "Acme Corp", "ORG", "Acme", 0, 4), Mention(second, "e2", "Borduria", "GPE", "Borduria", 0, 8)]
    batch.mentions[1].found_by, batch.mentions[1].language = "dictionary", "id"
    batch.entities = [Entity("e1", "Acme Corp", "ORG", None, [("acme corp", "en"), ("acme", "en")]),
                      Entity("e2", "Borduria", "GPE", "BD", [("borduria", "id")])]
    return batch


def test_story_ids_and_entities_decided_before_the_write_land_with_it_and_a_rerun_keeps_them(db, samples_dir):
    batch = decided(sample_batch(db, samples_dir))
    write_batch(db, batch)
    stories = db.execute("SELECT article_id, story_id, event_date, event_date_source FROM articles ORDER BY ALL").fetchall()
    assert stories == sorted((s.article_id, s.story_id, s.event_date, s.event_date_source) for s in batch.stories)
    second = batch.stories[1]
    links = db.execute("SELECT article_id, linked_to, story_id, score, threshold, cosine, day_gap, day_sources, shared_kinds, "
                       "shared_particulars FROM story_links").fetchall()
    assert links == [(second.article_id, second.linked_to, second.story_id, 0.52, 0.35, 0.42, 0, "published/arrival",
                      ["call"], ["95min"])]
    again = replace(batch, stories=[replace(s, story_id="other") for s in batch.stories])
    write_batch(db, again)
    assert db.execute("SELECT article_id, story_id, event_date, event_date_source FROM articles ORDER BY ALL").fetchall() == stories  # keyed: first write stands
    assert db.execute("SELECT count(*), min(story_id) FROM story_links").fetchone() == (1, second.story_id)
    assert db.execute("SELECT alias, entity_id, language FROM entity_aliases ORDER BY 1").fetchall() == [
        ("acme", "e1", "en"), ("acme corp", "e1", "en"), ("borduria", "e2", "id")]
    assert db.execute("SELECT entity_id, found_by FROM mentions ORDER BY 1").fetchall() == [("e1", "model"), ("e2", "dictionary")]


def test_an_entity_that_cannot_be_stored_is_blamed_on_the_document_that_names_it(db, samples_dir):
    batch = decided(sample_batch(db, samples_dir))
    batch.entities[1].name = "Bordur\udc80ia"  # a lone surrogate: DuckDB refuses it
    with pytest.raises(duckdb.InvalidInputException, match="surrogate"):
        write_batch(db, batch)
    failed, site_lines_ok = unwritable(db, batch)
    second = batch.articles[1].document_id
    assert [(r.document_id, r.reason) for r in failed] == [(second, "write_failed")] and site_lines_ok


def test_how_an_article_was_read_lands_in_extraction_notes(db, samples_dir):
    batch = sample_batch(db, samples_dir)
    first, *rest = batch.articles
    batch.articles = [replace(first, notes=("charset utf-8 over declared iso-8859-1", "text capped at 10 of 20 chars")), *rest]
    write_batch(db, batch)
    notes = dict(db.execute("SELECT article_id, extraction_notes FROM articles").fetchall())
    assert notes.pop(first.article_id) == "charset utf-8 over declared iso-8859-1; text capped at 10 of 20 chars"
    assert set(notes.values()) == {None}
