"""Originals after their batch: archive when landed, quarantine with a note when rejected."""
import hashlib
import subprocess
from datetime import datetime, timezone

import pytest

from newsflow.extractors.reading import InboxFile
from newsflow.extractors.records import Batch, RawDocument, Rejection
from newsflow.storage.archive import FolderNotWritable, check_folders, move_originals, plan_destinations

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


def test_a_long_name_is_shortened_to_fit_its_suffix_and_note(tmp_path):
    inbox, quarantine = tmp_path / "inbox", tmp_path / "quarantine"
    name = "é" * 123 + ".txt"  # 250 bytes: with `.error` beside it, already over the 255 a name may have
    assert len(name.encode()) == 250
    placed = []
    for round_ in range(3):
        files, docs = setup_files(inbox, [name])
        batch = Batch(f"run-{round_}", docs, [Rejection("d0", "decode_empty", "no bytes")])
        plan = plan_destinations(files, batch, tmp_path / "archive", quarantine, DAY)
        assert move_originals(batch.moves) == {}
        placed.append(plan[name])
    day = quarantine / "2026-11-23"
    assert [p.name for p in placed] == ["é" * 122 + ".txt", "é" * 121 + "-2.txt", "é" * 121 + "-3.txt"]
    assert all(len(p.name.encode()) + len(".error") <= 255 and p.read_text() == "content 0" for p in placed)
    assert sorted(p.name for p in day.iterdir()) == sorted([p.name for p in placed] + [f"{p.name}.error" for p in placed])


def test_a_sub_folder_blocked_by_an_archived_file_lands_flat_beside_it(tmp_path):
    inbox, archive = tmp_path / "inbox", tmp_path / "archive"
    first, docs = setup_files(inbox, ["site"])  # a file named like the folder that comes next
    batch = Batch("run-1", docs)
    plan_destinations(first, batch, archive, tmp_path / "quarantine", DAY)
    assert move_originals(batch.moves) == {}
    files, docs = setup_files(inbox, ["site/story.txt"])
    batch = Batch("run-2", docs)
    plan = plan_destinations(files, batch, archive, tmp_path / "quarantine", DAY)
    assert move_originals(batch.moves) == {}
    assert plan["site/story.txt"] == archive / "2026-11-23" / "story.txt" and plan["site/story.txt"].is_file()
    assert (archive / "2026-11-23" / "site").is_file()


@pytest.fixture()
def immutable(tmp_path):
    """Folders made immutable with `chattr +i` (root writes to them fail with EPERM), made mutable again after."""
    frozen = []

    def freeze(folder):
        folder.mkdir(parents=True, exist_ok=True)
        subprocess.run(["chattr", "+i", str(folder)], check=True)
        frozen.append(folder)
        return folder

    yield freeze
    for folder in frozen:
        subprocess.run(["chattr", "-i", str(folder)], check=True)


def test_a_folder_that_refuses_files_stops_the_plan_before_any_write(tmp_path, immutable):
    inbox = tmp_path / "inbox"
    files, docs = setup_files(inbox, ["good.txt"])
    immutable(tmp_path / "archive" / "2026-11-23")
    batch = Batch("run-1", docs)
    with pytest.raises(FolderNotWritable, match=r"the archive folder .*/archive/2026-11-23 cannot be written: Operation not permitted"):
        plan_destinations(files, batch, tmp_path / "archive", tmp_path / "quarantine", DAY)
    with pytest.raises(FolderNotWritable, match="cannot be written"):
        check_folders(immutable(tmp_path / "elsewhere"), tmp_path / "quarantine")
    (tmp_path / "file").write_text("not a folder")
    with pytest.raises(NotADirectoryError, match=r"the quarantine folder .*/file is a file, not a folder"):
        check_folders(tmp_path / "archive", tmp_path / "file")
    with pytest.raises(NotADirectoryError, match=r"folder .*/file/archive cannot be used: .*/file is a file"):
        check_folders(tmp_path / "file" / "archive", tmp_path / "quarantine")
    assert (inbox / "good.txt").exists()
