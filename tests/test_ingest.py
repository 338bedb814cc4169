"""The inbox flow end to end under Prefect's test harness, on the real samples."""
import shutil

import duckdb
import pytest

from tests.gold import label_matches, load_gold, sample_lines


@pytest.fixture()
def inbox(tmp_path, samples_dir):
    folder = tmp_path / "inbox"
    folder.mkdir()
    for path in samples_dir.iterdir():
        shutil.copy(path, folder / path.name)
    return folder


def test_samples_land_with_gold_titles_clean_text_and_entities(prefect_harness, inbox, tmp_path, shared_dir):
    from flows.ingest import ingest_inbox

    db = tmp_path / "news.duckdb"
    totals = ingest_inbox(inbox=str(inbox), db=str(db))
    assert (totals["documents"], totals["articles"], totals["duplicates"], totals["rejected"]) == (3, 3, 0, 0)

    gold = load_gold(shared_dir)
    con = duckdb.connect(str(db), read_only=True)
    rows = con.execute(
        """SELECT d.source_ref, a.title, a.text, a.attribution, a.article_id FROM documents d
           JOIN articles a USING (article_id)"""
    ).fetchall()
    assert len(rows) == 3
    for ref, title, text, attribution, article_id in rows:
        answer = gold[ref]
        assert title == answer["title"]
        lines = sample_lines(shared_dir, ref)
        kept = {line.strip() for line in text.split("\n")}
        for n in answer["boilerplate"]:
            assert lines[n].strip() not in kept, f"{ref}: boilerplate line {n} kept"
        for n, line in enumerate(lines):
            if line.strip() and n not in answer["boilerplate"] + answer["either"] + answer["title_lines"]:
                assert line.strip() in kept, f"{ref}: body line {n} lost"
        if answer["attribution"]:
            assert answer["attribution"] in (attribution or "")
        found = con.execute(
            """SELECT e.name, e.label, m.surface FROM mentions m JOIN entities e USING (entity_id)
               WHERE m.article_id = ?""",
            [article_id],
        ).fetchall()
        for gold_label, names in answer["entities"]:
            assert any(name in names and label_matches(gold_label, label) for name, label, _ in found), (
                f"{ref}: {gold_label} {names[0]} not found"
            )
        for absent in answer["absent"]:
            assert all(absent not in name for name, _, _ in found), f"{ref}: {absent} became an entity"
    assert con.execute("SELECT count(*) FROM articles WHERE story_id IS NULL").fetchone()[0] == 0
    run = con.execute("SELECT status, documents, articles FROM runs").fetchall()
    assert run == [("completed", 3, 3)]
    con.close()


def test_second_ingest_adds_no_article_and_records_duplicates(prefect_harness, inbox, tmp_path, samples_dir):
    from flows.ingest import ingest_inbox

    db = tmp_path / "news.duckdb"
    ingest_inbox(inbox=str(inbox), db=str(db))
    assert list(inbox.iterdir()) == []
    archived = sorted(p.name for p in (tmp_path / "archive").rglob("*") if p.is_file())
    assert archived == sorted(p.name for p in samples_dir.iterdir())

    for path in samples_dir.iterdir():
        shutil.copy(path, inbox / path.name)
    totals = ingest_inbox(inbox=str(inbox), db=str(db))
    assert (totals["articles"], totals["duplicates"]) == (0, 3)
    con = duckdb.connect(str(db), read_only=True)
    assert con.execute("SELECT count(*) FROM articles").fetchone()[0] == 3
    statuses = con.execute("SELECT status, dedup_method, count(*) FROM documents GROUP BY ALL ORDER BY 1").fetchall()
    assert statuses == [("duplicate", "exact", 3), ("new", None, 3)]
    assert list(inbox.iterdir()) == []
    assert len([p for p in (tmp_path / "archive").rglob("*") if p.is_file()]) == 6
    con.close()


def test_rejected_file_goes_to_quarantine_with_a_note_and_the_rest_lands(prefect_harness, inbox, tmp_path):
    from flows.ingest import ingest_inbox

    (inbox / "garbage.txt").write_bytes(bytes(range(256)) * 50)
    db = tmp_path / "news.duckdb"
    totals = ingest_inbox(inbox=str(inbox), db=str(db))
    assert (totals["articles"], totals["rejected"]) == (3, 1)
    quarantined = list((tmp_path / "quarantine").rglob("garbage*"))
    assert sorted(p.name for p in quarantined) == ["garbage.txt", "garbage.txt.error"]
    note = next(p for p in quarantined if p.suffix == ".error").read_text()
    assert "decode_binary" in note
    con = duckdb.connect(str(db), read_only=True)
    row = con.execute("SELECT status, error, stored_path FROM documents WHERE source_ref = 'garbage.txt'").fetchone()
    assert row[0] == "rejected" and row[1] == "decode_binary" and row[2].endswith("garbage.txt")
    con.close()


def test_crash_after_commit_before_move_is_finished_without_new_rows(prefect_harness, inbox, tmp_path):
    """Simulates the window between commit and move: rows exist, files still in the inbox."""
    from flows.ingest import ingest_inbox

    db = tmp_path / "news.duckdb"
    ingest_inbox(inbox=str(inbox), db=str(db))
    archive = tmp_path / "archive"
    for path in list(archive.rglob("*.txt")):
        shutil.move(path, inbox / path.name)  # as if the move never happened
    totals = ingest_inbox(inbox=str(inbox), db=str(db))
    assert totals["documents"] == 0
    con = duckdb.connect(str(db), read_only=True)
    assert con.execute("SELECT count(*) FROM documents").fetchone()[0] == 3
    con.close()
    assert list(inbox.iterdir()) == [] and len(list(archive.rglob("*.txt"))) == 3


def test_pages_read_ahead_in_small_batches_land_as_in_one_batch(prefect_harness, tmp_path, shared_dir):
    from flows.ingest import ingest_inbox

    # Twelve real pages and a broken one: with batches of 4, each next chunk is read and extracted while the
    # batch before it is written (flows.ingest.read_ahead).
    pages = sorted((shared_dir / "benchdata" / "extraction_aeb" / "html").glob("*.html"))[:12]
    landed = {}
    for batch_size in (4, 100):
        inbox = tmp_path / f"inbox{batch_size}"
        inbox.mkdir()
        for page in pages:
            shutil.copy(page, inbox / page.name)
        (inbox / "zz-broken.html").write_bytes(b"\x00\x01" * 300)
        db = tmp_path / f"news{batch_size}.duckdb"
        totals = ingest_inbox(inbox=str(inbox), db=str(db), batch_size=batch_size, entities=False)
        assert totals["files"] == 13 and totals["rejected"] >= 1 and list(inbox.iterdir()) == []
        con = duckdb.connect(str(db), read_only=True)
        landed[batch_size] = con.execute(
            """SELECT d.source_ref, d.status, d.error, a.title, a.text FROM documents d
               LEFT JOIN articles a USING (article_id) ORDER BY d.source_ref"""
        ).fetchall()
        con.close()
    assert len(landed[4]) == 13 and landed[4] == landed[100]


READER = r"""
import json, sys, time
import duckdb
while True:  # open read-only, count, close: as `newsflow sql`; how long each read waited for the writer
    started = time.perf_counter()
    while True:
        try:
            con = duckdb.connect(sys.argv[1], read_only=True)
            break
        except duckdb.Error:
            time.sleep(0.02)
    con.execute("SELECT count(*) FROM documents").fetchone()
    con.close()
    print(json.dumps(time.perf_counter() - started), flush=True)
    time.sleep(0.05)
"""


def test_readers_get_in_while_a_big_batch_is_extracted_and_its_entities_found(prefect_harness, tmp_path, shared_dir):
    import json
    import os
    import subprocess
    import sys
    import threading

    from prefect.settings import PREFECT_API_URL

    from storage.db import connection

    inbox, db = tmp_path / "inbox", tmp_path / "news.duckdb"
    inbox.mkdir()
    for path in sorted((shared_dir / "benchdata" / "extraction_aeb" / "gold").glob("*.txt"))[:60]:
        shutil.copy(path, inbox / path.name)  # ~30,000 words in one batch: NER takes seconds
    with connection(db):
        pass  # the file exists, so a reader waits only for the writer
    reader = subprocess.Popen([sys.executable, "-c", READER, str(db)], stdout=subprocess.PIPE, text=True)
    waits: list[float] = []
    threading.Thread(target=lambda: waits.extend(json.loads(line) for line in reader.stdout), daemon=True).start()
    try:
        ingest = subprocess.run(
            [sys.executable, "-m", "flows.cli", "ingest", "inbox", str(inbox), "--db", str(db), "--batch-size", "100"],
            env=os.environ | {"PREFECT_API_URL": PREFECT_API_URL.value()}, capture_output=True, text=True, timeout=600,
        )
    finally:
        reader.kill()
        reader.wait()
    assert ingest.returncode == 0, ingest.stderr[-3000:]
    con = duckdb.connect(str(db), read_only=True)
    documents, mentions = con.execute("SELECT count(*), (SELECT count(*) FROM mentions) FROM documents").fetchone()
    run_s = con.execute("SELECT epoch(finished_at - started_at) FROM runs").fetchone()[0]
    con.close()
    assert documents == 60 and mentions > 0
    # Before, the batch held the file from its start to its write: a reader waited about the whole run.
    assert max(waits) < run_s / 2, (max(waits), run_s, sorted(waits)[-5:])
