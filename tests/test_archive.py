"""Originals after their batch: archive when landed, quarantine with a note when rejected."""
import hashlib
from datetime import datetime, timezone

from extractors.reading import InboxFile
from extractors.records import Batch, RawDocument, Rejection
from storage.archive import move_originals, plan_destinations

DAY = datetime(2026, 11, 23, tzinfo=timezone.utc)


def setup_files(inbox, names):
    files, docs = [], []
    for i, name in enumerate(names):
        path = inbox / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"content {i}")
        doc = RawDocument(f"d{i}", "inbox", name, path.read_bytes(), "text", DAY, hashlib.sha256(path.read_bytes()).hexdigest())
        docs.append(doc)
        files.append(InboxFile(path, name, doc.raw_sha256, path.stat().st_size, [doc.document_id]))
    return files, docs


def test_landed_go_to_archive_rejected_to_quarantine_with_note(tmp_path):
    inbox = tmp_path / "inbox"
    files, docs = setup_files(inbox, ["good.txt", "site/bad.txt"])
    batch = Batch("run-1", docs, [Rejection("d1", "decode_binary", "NUL bytes")])
    plan = plan_destinations(files, batch, tmp_path / "archive", tmp_path / "quarantine", DAY)
    assert plan["good.txt"] == tmp_path / "archive" / "2026-11-23" / "good.txt"
    assert plan["site/bad.txt"] == tmp_path / "quarantine" / "2026-11-23" / "site" / "bad.txt"
    assert batch.stored_paths == {"d0": str(plan["good.txt"]), "d1": str(plan["site/bad.txt"])}
    assert move_originals(batch.moves) == {}
    assert not any(inbox.rglob("*.txt"))
    assert plan["good.txt"].read_text() == "content 0"
    note = (plan["site/bad.txt"].parent / "bad.txt.error").read_text()
    assert "decode_binary: NUL bytes" in note and "run-1" in note


def test_same_name_twice_never_overwrites(tmp_path):
    inbox = tmp_path / "inbox"
    for round_ in range(3):
        files, docs = setup_files(inbox, ["same.txt"])
        (inbox / "same.txt").write_text(f"round {round_}")
        batch = Batch(f"run-{round_}", docs)
        plan = plan_destinations(files, batch, tmp_path / "archive", tmp_path / "quarantine", DAY)
        assert move_originals(batch.moves) == {}
    kept = sorted(p.name for p in (tmp_path / "archive").rglob("*"))
    assert kept == ["2026-11-23", "same-2.txt", "same-3.txt", "same.txt"]
    assert {p.read_text() for p in (tmp_path / "archive").rglob("*.txt")} == {"round 0", "round 1", "round 2"}
