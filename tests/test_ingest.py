"""The inbox flow end to end under Prefect's test harness, on the real samples."""
import hashlib
import shutil
import subprocess
from pathlib import Path

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
    from newsflow.flows.ingest import ingest_inbox

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
    # Three events of the same two leaders, none dated: three stories, each with the day its text gives or its arrival.
    stories = con.execute("SELECT count(DISTINCT story_id), count(story_id), list(DISTINCT event_date_source ORDER BY event_date_source) FROM articles").fetchone()
    assert stories == (3, 3, ["arrival", "holiday"])
    assert con.execute("SELECT count(*) FROM story_links").fetchone()[0] == 0
    run = con.execute("SELECT status, documents, articles FROM runs").fetchall()
    assert run == [("completed", 3, 3)]
    con.close()


def test_second_ingest_adds_no_article_and_records_duplicates(prefect_harness, inbox, tmp_path, samples_dir):
    from newsflow.flows.ingest import ingest_inbox

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
    from newsflow.flows.ingest import ingest_inbox

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


def test_the_same_files_dropped_again_after_the_archive_is_emptied_are_duplicates(prefect_harness, inbox, tmp_path):
    """Their names and bytes were recorded and their stored copies are gone: read again, not moved unread."""
    from newsflow.flows.ingest import ingest_inbox

    db = tmp_path / "news.duckdb"
    ingest_inbox(inbox=str(inbox), db=str(db))
    archive = tmp_path / "archive"
    for path in list(archive.rglob("*.txt")):
        shutil.move(path, inbox / path.name)
    totals = ingest_inbox(inbox=str(inbox), db=str(db))
    assert (totals["documents"], totals["duplicates"]) == (3, 3)
    con = duckdb.connect(str(db), read_only=True)
    assert con.execute("SELECT status, count(*) FROM documents GROUP BY 1 ORDER BY 1").fetchall() == [
        ("duplicate", 3), ("new", 3)
    ]
    con.close()
    assert list(inbox.iterdir()) == [] and len(list(archive.rglob("*.txt"))) == 3


def documents_of(db, ref: str) -> list[tuple]:
    """(status, error, raw_sha256, stored_path) of each document read from the inbox file ref, oldest first."""
    con = duckdb.connect(str(db), read_only=True)
    rows = con.execute(
        "SELECT status, error, raw_sha256, stored_path FROM documents WHERE source_ref = ? ORDER BY received_at", [ref]
    ).fetchall()
    con.close()
    return rows


def test_a_quarantined_file_fixed_and_dropped_again_is_read_and_lands(prefect_harness, tmp_path, samples_dir):
    from newsflow.flows.ingest import ingest_inbox

    inbox, db = tmp_path / "inbox", tmp_path / "news.duckdb"
    inbox.mkdir()
    (inbox / "story.txt").write_bytes(b"")
    assert ingest_inbox(inbox=str(inbox), db=str(db), entities=False)["rejected"] == 1
    quarantined = next((tmp_path / "quarantine").rglob("story.txt"))
    shutil.move(quarantined, inbox / "story.txt")  # the user takes it out, fixes it and drops it again
    fixed = sorted(samples_dir.iterdir())[0].read_bytes()
    (inbox / "story.txt").write_bytes(fixed)

    totals = ingest_inbox(inbox=str(inbox), db=str(db), entities=False)
    assert (totals["documents"], totals["articles"]) == (1, 1)
    (first, error, _, _), (second, _, sha, stored) = documents_of(db, "story.txt")
    assert (first, error, second) == ("rejected", "decode_empty", "new")
    assert Path(stored).read_bytes() == fixed and Path(stored).is_relative_to(tmp_path / "archive")
    assert sha == hashlib.sha256(fixed).hexdigest()
    notes = list((tmp_path / "quarantine").rglob("*"))
    assert [p.name for p in notes if p.is_file()] == ["story.txt.error"]  # the old note, about the empty file
    assert "decode_empty" in next(p for p in notes if p.is_file()).read_text()


def test_another_article_under_a_name_whose_archived_copy_was_removed_is_read(prefect_harness, tmp_path, samples_dir):
    from newsflow.flows.ingest import ingest_inbox

    inbox, db = tmp_path / "inbox", tmp_path / "news.duckdb"
    inbox.mkdir()
    first, second = [p.read_bytes() for p in sorted(samples_dir.iterdir())[:2]]
    (inbox / "story.txt").write_bytes(first)
    ingest_inbox(inbox=str(inbox), db=str(db), entities=False)
    shutil.rmtree(tmp_path / "archive")  # archive/ cleaned out
    (inbox / "story.txt").write_bytes(second)

    totals = ingest_inbox(inbox=str(inbox), db=str(db), entities=False)
    assert (totals["documents"], totals["articles"]) == (1, 1)
    rows = documents_of(db, "story.txt")
    assert [status for status, *_ in rows] == ["new", "new"]
    assert rows[1][2] == hashlib.sha256(second).hexdigest() and Path(rows[1][3]).read_bytes() == second


def test_a_long_name_dropped_twice_lands_under_a_shortened_suffixed_name(prefect_harness, tmp_path, samples_dir):
    from newsflow.flows.ingest import ingest_inbox

    inbox, db = tmp_path / "inbox", tmp_path / "news.duckdb"
    inbox.mkdir()
    name = "é" * 123 + ".txt"  # 250 bytes
    bodies = [p.read_bytes() for p in sorted(samples_dir.iterdir())[:2]]
    for body in bodies:
        (inbox / name).write_bytes(body)
        assert ingest_inbox(inbox=str(inbox), db=str(db), entities=False)["articles"] == 1
    rows = documents_of(db, name)
    assert [Path(stored).name for *_, stored in rows] == ["é" * 122 + ".txt", "é" * 121 + "-2.txt"]
    assert [Path(stored).read_bytes() for *_, stored in rows] == bodies and list(inbox.iterdir()) == []


def test_a_file_that_cannot_be_moved_waits_recorded_and_the_next_run_moves_it_unread(prefect_harness, inbox, tmp_path):
    from newsflow.flows.ingest import ingest_inbox
    from newsflow.storage.archive import NotMoved

    db = tmp_path / "news.duckdb"
    stuck = sorted(inbox.iterdir())[0]
    subprocess.run(["chattr", "+i", str(stuck)], check=True)  # readable, but not even root may rename it
    try:
        with pytest.raises(NotMoved, match=r"^1 recorded file\(s\) could not be moved out of the inbox"):
            ingest_inbox(inbox=str(inbox), db=str(db), entities=False)
        assert list(inbox.iterdir()) == [stuck]
        con = duckdb.connect(str(db), read_only=True)
        stored = con.execute("SELECT stored_path FROM documents WHERE source_ref = ?", [stuck.name]).fetchone()[0]
        assert con.execute("SELECT source_path, error FROM inbox_moves").fetchall() == [
            (str(stuck), f"PermissionError: [Errno 1] Operation not permitted: '{stuck}' -> '{stored}'")
        ]
        assert con.execute("SELECT status FROM runs").fetchall() == [("failed",)]
        con.close()
    finally:
        subprocess.run(["chattr", "-i", str(stuck)], check=True)
    totals = ingest_inbox(inbox=str(inbox), db=str(db), entities=False)
    assert totals["documents"] == 0 and list(inbox.iterdir()) == []
    con = duckdb.connect(str(db), read_only=True)
    assert con.execute("SELECT count(*), count(DISTINCT source_ref) FROM documents").fetchone() == (3, 3)
    assert con.execute("SELECT count(*) FROM inbox_moves").fetchone() == (0,)
    con.close()
    assert len(list((tmp_path / "archive").rglob("*.txt"))) == 3


def test_pages_in_small_batches_land_as_in_one_batch(prefect_harness, tmp_path, shared_dir):
    from newsflow.flows.ingest import ingest_inbox

    # Twelve real pages and a broken one, in batches of 4 and in one batch.
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

    from newsflow.storage.db import connection

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
            [sys.executable, "-m", "newsflow.flows.cli", "ingest", "inbox", str(inbox), "--db", str(db), "--batch-size", "100"],
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


WORDS = (
    "council budget harbour ferry route fare repair pier island service evening commuter report vote board "
    "member plan twelve crossing year debate backlog northern southern tram bus station ticket driver union "
    "strike weather storm bridge road tunnel river market price cafe bakery school teacher hospital nurse"
).split()


def _story(topic: str) -> str:
    """A title and a body of its own: words drawn by a generator seeded with the topic (no near-duplicates)."""
    import random

    pick = random.Random(topic).choice
    sentences = [" ".join(pick(WORDS) for _ in range(12)).capitalize() + "." for _ in range(8)]
    return f"A story about {topic}\n\n" + " ".join(sentences)


def test_poison_files_are_rejected_with_reasons_and_the_rest_lands_exit_0(tmp_path):
    """Each of these stopped the whole batch (exit 1, nothing landed, every rerun the same) or hung it."""
    import json
    import os
    import subprocess
    import sys

    inbox = tmp_path / "inbox"
    inbox.mkdir()
    deep = "[" * 5000 + "]" * 5000
    files = {
        "surrogates.json": '{"title": "Bad \\udc00 title", "url": "https://example.com/\\ud800", "author": "A \\udfff",'
                           f' "text": {json.dumps(_story("tram"))[:-1]} \\ud800 end"}}',
        "deep.json": deep,
        "lines.jsonl": json.dumps({"title": "Line one", "text": _story("bus")}) + "\n" + deep + "\n"
                       + '{"text": "x", "id": 1' + "0" * 5000 + "}\n",
        "nul host.json": json.dumps({"url": "https://example.\u0000com/a", "title": "Nul", "text": _story("cable car")}),
        "far future.json": json.dumps({"published": "9999-12-31T23:59:59-05:00", "text": _story("monorail")}),
        "good.txt": _story("bicycle"),
    }
    for name, text in files.items():
        (inbox / name).write_text(text, encoding="utf-8")
    os.mkfifo(inbox / "pipe.txt")
    db = tmp_path / "news.duckdb"
    command = [sys.executable, "-m", "newsflow.flows.cli", "ingest", "inbox", str(inbox), "--db", str(db), "--no-entities"]
    env = dict(os.environ, PREFECT_LOGGING_LEVEL="WARNING")
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "Traceback" not in done.stderr
    con = duckdb.connect(str(db), read_only=True)
    rows = dict(con.execute("SELECT source_ref, coalesce(error, status) FROM documents").fetchall())
    assert rows == {
        "surrogates.json": "new", "deep.json": "json_too_deep", "lines.jsonl#L1": "new",
        "lines.jsonl#L2": "json_too_deep", "lines.jsonl#L3": "json_invalid", "nul host.json": "new",
        "far future.json": "new", "good.txt": "new", "pipe.txt": "read_not_a_file",
    }
    title, url, author, text = con.execute(
        "SELECT title, url, author, text FROM articles WHERE title LIKE 'Bad%'"
    ).fetchone()
    assert (title, url, author) == ("Bad \ufffd title", "https://example.com/\ufffd", "A \ufffd")
    assert text.endswith("\ufffd end")
    con.close()
    assert list(inbox.iterdir()) == []
    quarantined = sorted(p.name for p in (tmp_path / "quarantine").rglob("*") if p.is_file() or p.is_fifo())
    assert quarantined == ["deep.json", "deep.json.error", "pipe.txt", "pipe.txt.error"]

    # The same drop again: the command still exits 0, the copies are duplicates and the poison rejected again.
    for name, text in files.items():
        (inbox / name).write_text(text, encoding="utf-8")
    again = subprocess.run(command, capture_output=True, text=True, env=env, timeout=600)
    assert again.returncode == 0, again.stderr[-3000:]
    con = duckdb.connect(str(db), read_only=True)
    statuses = con.execute("SELECT coalesce(error, status), count(*) FROM documents GROUP BY 1 ORDER BY 1").fetchall()
    assert statuses == [("duplicate", 5), ("json_invalid", 2), ("json_too_deep", 4), ("new", 5), ("read_not_a_file", 1)]
    con.close()


def _utf8_inbox(tmp_path, samples_dir):
    """The samples, a file whose name is not UTF-8 (Latin-1 from an old share) and an exact copy of it."""
    import os

    inbox = tmp_path / "inbox"
    inbox.mkdir()
    for path in samples_dir.iterdir():
        shutil.copy(path, inbox / path.name)
    latin = inbox / os.fsdecode(b"caf\xe9 prices.txt")  # Python keeps the byte as a lone surrogate
    latin.write_text(_story("cafe"), encoding="utf-8")
    (inbox / "copy.txt").write_text(_story("cafe"), encoding="utf-8")
    os.utime(latin, (1_000_000_000, 1_000_000_000))  # read first: the copy is decided as its duplicate
    return inbox, latin


def test_a_document_whose_row_the_database_refuses_is_rejected_and_the_rest_lands(prefect_harness, tmp_path, samples_dir):
    from datetime import datetime, timezone

    from prefect import flow

    from newsflow.extractors.reading import list_inbox, read_inbox
    from newsflow.extractors.settings import settings_for
    from newsflow.flows.pipeline import land_batch, prepare_batch
    from newsflow.storage.archive import plan_destinations

    inbox, latin = _utf8_inbox(tmp_path, samples_dir)
    db = tmp_path / "news.duckdb"
    settings = settings_for(str(db), str(inbox), None, None, None, False)
    archive, quarantine = tmp_path / "archive", tmp_path / "quarantine"

    @flow
    def one_batch():
        docs, rejections, files = read_inbox(inbox, list_inbox(inbox), settings.limits)
        batch = prepare_batch(docs, rejections, settings, "run-1")
        copy_of = {d.document_id: d.status for d in batch.decisions}
        plan, counts = land_batch(
            batch, settings, lambda b: plan_destinations(files, b, archive, quarantine, datetime.now(timezone.utc))
        )
        return copy_of, plan, counts

    statuses_before, plan, counts = one_batch()
    assert sorted(statuses_before.values()) == ["duplicate", "new", "new", "new", "new"]
    assert counts == {"documents": 5, "articles": 4, "duplicates": 0, "rejected": 1, "mentions": 0}
    assert plan[latin.name].is_relative_to(quarantine) and plan["copy.txt"].is_relative_to(archive)
    con = duckdb.connect(str(db), read_only=True)
    rows = {ref: (status, error) for ref, status, error in con.execute("SELECT source_ref, status, error FROM documents").fetchall()}
    assert rows == {
        "caf\\xe9 prices.txt": ("rejected", "write_failed"),
        "copy.txt": ("new", None),  # was the duplicate of the rejected one: decided again, it is the article now
        **{p.name: ("new", None) for p in samples_dir.iterdir()},
    }
    detail, stored = con.execute("SELECT error_detail, stored_path FROM documents WHERE error = 'write_failed'").fetchone()
    assert detail.startswith("InvalidInputException: ") and "surrogate" in detail
    assert stored.endswith("caf\\xe9 prices.txt") and "quarantine" in stored
    article = con.execute("SELECT a.title FROM documents d JOIN articles a USING (article_id) WHERE source_ref = 'copy.txt'").fetchone()
    assert article == ("A story about cafe",)
    con.close()


def chrome_page(n: int) -> str:
    """A page of kabar.example (its site comes from its canonical URL), its chrome lines around its article."""
    body = ("The regional council voted on Tuesday to approve the new budget after a long debate about schools, roads "
            "and the hospital that the province has promised to build for years, officials said.")
    return (f'<html><head><title>Headline {n}</title><link rel="canonical" href="https://kabar.example/news/{n}"></head>'
            f"<body><article><h1>Headline Number {n} About The Regional Budget Vote</h1>"
            "<p>Kabar Nusantara Online</p><p>Jelajahi Dunia Bersama Kami</p>"
            f"<p>{body} Item {n}.</p><p>{body} Again {n}.</p><p>{body} Once more {n}.</p>"
            "<p>Kabar Nusantara Online adalah bagian dari grup media independen</p></article></body></html>")


def test_a_page_whose_site_is_in_its_url_gets_the_chrome_earlier_batches_learned(prefect_harness, tmp_path):
    # Its site is known only once the page is extracted (on a worker): the chrome learned for it applies all the same.
    from newsflow.flows.ingest import ingest_inbox

    first, second, db = tmp_path / "first", tmp_path / "second", str(tmp_path / "news.duckdb")
    for folder, numbers in ((first, range(1, 5)), (second, [5])):
        folder.mkdir()
        for n in numbers:
            (folder / f"page{n}.html").write_text(chrome_page(n))
        ingest_inbox(inbox=str(folder), db=db, entities=False)
    con = duckdb.connect(db, read_only=True)
    removed = con.execute("SELECT r.line, r.reason FROM removed_lines r JOIN documents d USING (document_id) "
                          "WHERE d.source_ref LIKE '%page5.html' ORDER BY r.line_no").fetchall()
    con.close()
    assert [line for line, reason in removed if reason == "clean_site_chrome"] == [
        "Kabar Nusantara Online", "Jelajahi Dunia Bersama Kami", "Kabar Nusantara Online adalah bagian dari grup media independen"]


def test_indonesian_german_and_english_articles_land_on_shared_entity_rows(prefect_harness, tmp_path, samples_dir):
    from newsflow.flows.ingest import ingest_inbox
    from tests.test_cleaning import NOEN, RMOL

    folder = tmp_path / "inbox"
    folder.mkdir()
    shutil.copy(samples_dir / "000_b865db9ad46887ed.txt", folder / "en.txt")
    (folder / "id.txt").write_text(RMOL, encoding="utf-8")
    (folder / "de.txt").write_text(NOEN, encoding="utf-8")
    db = tmp_path / "news.duckdb"
    totals = ingest_inbox(inbox=str(folder), db=str(db))
    assert (totals["articles"], totals["rejected"]) == (3, 0)
    con = duckdb.connect(str(db), read_only=True)
    articles = con.execute(
        "SELECT language, title, author, published_at IS NOT NULL FROM articles ORDER BY language"
    ).fetchall()
    assert articles[1:] == [
        ("en", "Moscow and Beijing Forge a New Era of Partnership Amid Global Tensions", None, False),
        ("id", "Xi Jinping Tiba di Moskow, Putin Sambut Sahabat Lamanya", "Reni Erina", True),
    ] and articles[0][:3] == ("de", "Xi Jinping zu Staatsbesuch in Moskau eingetroffen", "Redaktion NÖN")
    shared = con.execute(
        """SELECT e.name, count(DISTINCT e.entity_id), list(DISTINCT a.language ORDER BY a.language)
           FROM mentions m JOIN entities e USING (entity_id) JOIN articles a USING (article_id)
           WHERE e.name IN ('Vladimir Putin', 'Xi Jinping', 'Russia', 'Moscow') GROUP BY 1 ORDER BY 1"""
    ).fetchall()
    assert shared == [(name, 1, ["de", "en", "id"]) for name in ("Moscow", "Russia", "Vladimir Putin", "Xi Jinping")]
    found_by = dict(con.execute(
        "SELECT a.language, list(DISTINCT m.found_by) FROM mentions m JOIN articles a USING (article_id) GROUP BY 1"
    ).fetchall())
    assert found_by == {"de": ["dictionary"], "en": ["model"], "id": ["dictionary"]}
    # Chrome never became an entity: the caption's credit, the section labels, the dateline's words.
    surfaces = {s for (s,) in con.execute("SELECT DISTINCT surface FROM mentions").fetchall()}
    assert not surfaces & {"Net", "Berita", "Dunia", "Politik", "SELASA", "WIB", "LAPORAN", "RENI ERINA", "APA", "AFP", "Foto"}
