"""The first chunk read and extracted before the flow run: used when its files are unchanged, else read again."""
import os
import shutil
from dataclasses import replace

import duckdb
import pytest

from newsflow.extractors.reading import list_inbox
from newsflow.extractors.settings import settings_for
from newsflow.flows.head_start import file_states, head_start, read_and_extract, take_head_start

BATCH = 5


@pytest.fixture()
def inbox(tmp_path, shared_dir):
    folder = tmp_path / "inbox"
    folder.mkdir()
    for page in sorted((shared_dir / "benchdata" / "extraction_aeb" / "html").glob("*.html"))[:8]:
        shutil.copy(page, folder / page.name)
    return folder


def _settings(tmp_path, inbox):
    return settings_for(str(tmp_path / "news.duckdb"), str(inbox), batch_size=BATCH, ner=False)


def _received(db):
    con = duckdb.connect(str(db), read_only=True)
    try:
        return dict(con.execute("SELECT source_ref, received_at FROM documents").fetchall())
    finally:
        con.close()


def test_head_start_extracts_the_first_chunk_and_is_taken_once(tmp_path, inbox):
    settings = _settings(tmp_path, inbox)
    assert take_head_start() is None
    with head_start(inbox, settings):
        ahead = take_head_start()
        assert take_head_start() is None
    assert take_head_start() is None
    first = list_inbox(inbox)[:BATCH]
    assert ahead.chunk == first and ahead.matches(inbox, first, settings)
    docs, rejections, files, (drafts, failed) = ahead.future.result()
    assert [f.path for f in files] == first and not rejections
    again = read_and_extract(inbox, first, settings)[3]
    assert [d.text for d in drafts] == [d.text for d in again[0]] and len(drafts) + len(failed) == BATCH


def test_head_start_does_not_match_other_files_limits_or_a_changed_file(tmp_path, inbox):
    settings = _settings(tmp_path, inbox)
    with head_start(inbox, settings):
        ahead = take_head_start()
    first = list_inbox(inbox)[:BATCH]
    assert not ahead.matches(inbox, first[1:], settings)
    assert not ahead.matches(inbox, first, replace(settings, limits=replace(settings.limits, batch_size=BATCH + 1)))
    shutil.copy(first[1], tmp_path / "edited.html")
    (tmp_path / "edited.html").replace(first[0])  # another writer replaced it after the head start read it
    assert not ahead.matches(inbox, first, settings)


def test_file_states_change_when_a_file_is_replaced_or_gone(tmp_path):
    first, second = tmp_path / "a.html", tmp_path / "b.html"
    first.write_text("<p>one</p>")
    second.write_text("<p>two</p>")
    before = file_states([first, second])
    assert file_states([first, second]) == before and None not in before
    (tmp_path / "new.html").write_text("<p>one, edited</p>")
    (tmp_path / "new.html").replace(first)  # another writer replaced it after the read-ahead
    second.unlink()
    after = file_states([first, second])
    assert after[0] != before[0] and after[1] is None


def test_an_empty_inbox_has_no_head_start(tmp_path):
    (tmp_path / "inbox").mkdir()
    with head_start(tmp_path / "inbox", _settings(tmp_path, tmp_path / "inbox")) as ahead:
        assert ahead is None and take_head_start() is None


def test_the_flow_run_uses_the_head_start_for_unchanged_files(prefect_harness, tmp_path, inbox):
    from newsflow.flows.ingest import ingest_inbox

    settings = _settings(tmp_path, inbox)
    with head_start(inbox, settings) as ahead:
        docs = ahead.future.result()[0]
        totals = ingest_inbox(inbox=str(inbox), db=str(settings.paths.db), batch_size=BATCH, entities=False)
    assert totals["files"] == 8 and list(inbox.iterdir()) == []
    received = _received(settings.paths.db)
    # The head start's documents are the ones written: read once, at the head start's time.
    assert len(docs) == BATCH and all(received[d.source_ref] == d.received_at for d in docs)
    assert len(received) == 8 and len(set(received.values())) == 2  # the head start, then the flow's read-ahead


def test_the_flow_run_reads_a_file_again_when_it_changed_after_the_head_start(prefect_harness, tmp_path, inbox, shared_dir):
    import hashlib

    from newsflow.flows.ingest import ingest_inbox

    settings = _settings(tmp_path, inbox)
    first = list_inbox(inbox)[:BATCH]
    other = sorted((shared_dir / "benchdata" / "extraction_aeb" / "html").glob("*.html"))[20]
    with head_start(inbox, settings) as ahead:
        docs = ahead.future.result()[0]
        shutil.copy(other, tmp_path / "replacement.html")
        # Same modification time, so the inbox lists the files in the same order: only the file changed.
        mtime = first[0].stat().st_mtime_ns
        os.utime(tmp_path / "replacement.html", ns=(mtime, mtime))
        (tmp_path / "replacement.html").replace(first[0])  # replaced after the head start read it
        assert list_inbox(inbox)[:BATCH] == first
        ingest_inbox(inbox=str(inbox), db=str(settings.paths.db), batch_size=BATCH, entities=False)
    received = _received(settings.paths.db)
    assert len(received) == 8 and all(received[d.source_ref] != d.received_at for d in docs)
    con = duckdb.connect(str(settings.paths.db), read_only=True)
    stored = con.execute("SELECT raw_sha256 FROM documents WHERE source_ref = ?", [first[0].name]).fetchone()[0]
    con.close()
    assert stored == hashlib.sha256(other.read_bytes()).hexdigest()
