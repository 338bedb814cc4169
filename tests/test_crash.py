"""kill -9 in the middle of an ingest, then run again: every file accounted for exactly once."""
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb
import pytest


def make_inbox(inbox: Path, shared: Path, count: int) -> list[str]:
    """Distinct real article bodies (extraction_aeb gold) as text files with a title line."""
    names = []
    for path in sorted((shared / "benchdata" / "extraction_aeb" / "gold").glob("*.txt"))[:count]:
        body = path.read_text(encoding="utf-8").strip()
        if len(body.split()) < 60:
            continue
        name = f"{path.stem[:12]}.txt"
        (inbox / name).write_text(f"Story {path.stem[:8]}\n\n{body}\n", encoding="utf-8")
        names.append(name)
    return names


def ingest(inbox: Path, db: Path) -> subprocess.Popen:
    env = dict(os.environ, PREFECT_LOGGING_LEVEL="WARNING", NEWSFLOW_BATCH_SIZE="10")
    return subprocess.Popen(
        [sys.executable, "-m", "newsflow.flows.cli", "ingest", "inbox", str(inbox), "--db", str(db)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        start_new_session=True,  # its own process group: the kill takes its temporary Prefect server too
    )


def test_kill_9_mid_batch_then_rerun_loses_and_doubles_nothing(tmp_path, shared_dir):
    inbox, db = tmp_path / "inbox", tmp_path / "news.duckdb"
    inbox.mkdir()
    names = make_inbox(inbox, shared_dir, 180)
    archive = tmp_path / "archive"

    process = ingest(inbox, db)
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and process.poll() is None:
        moved = len(list(archive.rglob("*.txt"))) if archive.exists() else 0
        if moved >= 25:
            break
        time.sleep(0.05)
    assert process.poll() is None, "the ingest finished before it could be killed; give it more files"
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    left = len(list(inbox.glob("*.txt")))
    assert 0 < left < len(names), "the kill should land mid-run"

    rerun = ingest(inbox, db)
    _, err = rerun.communicate(timeout=600)
    assert rerun.returncode == 0, err.decode()[-3000:]

    assert list(inbox.iterdir()) == []
    kept = sorted(p.name for p in archive.rglob("*") if p.is_file()) + sorted(
        p.name for p in (tmp_path / "quarantine").rglob("*") if p.is_file() and p.suffix != ".error"
    )
    assert sorted(kept) == sorted(names), "every original kept exactly once"
    con = duckdb.connect(str(db), read_only=True)
    per_file = dict(con.execute("SELECT source_ref, count(*) FROM documents GROUP BY 1").fetchall())
    assert per_file == {name: 1 for name in names}
    articles = con.execute("SELECT count(*), count(DISTINCT text_sha256) FROM articles").fetchone()
    assert articles[0] == articles[1], "no duplicate article"
    new_docs = con.execute("SELECT count(*) FROM documents WHERE status = 'new'").fetchone()[0]
    assert new_docs == articles[0]
    orphans = con.execute(
        """SELECT (SELECT count(*) FROM mentions WHERE article_id NOT IN (SELECT article_id FROM articles)),
                  (SELECT count(*) FROM removed_lines WHERE document_id NOT IN (SELECT document_id FROM documents)),
                  (SELECT count(*) FROM article_signatures WHERE article_id NOT IN (SELECT article_id FROM articles))"""
    ).fetchone()
    assert orphans == (0, 0, 0)
    # The killed run's row does not stay `running`: the rerun found its process gone and marked it crashed.
    runs = con.execute("SELECT status, error, finished_at IS NOT NULL FROM runs ORDER BY started_at").fetchall()
    assert runs == [("crashed", "process ended without finishing (killed?)", True), ("completed", None, True)]
    con.close()


def newsflow(args: list[str], *fault: str) -> subprocess.CompletedProcess:
    """The command (with a fault of tests/faults.py when given) against the session's Prefect server."""
    from prefect.settings import PREFECT_API_URL

    env = dict(os.environ, PREFECT_API_URL=PREFECT_API_URL.value(), PREFECT_LOGGING_LEVEL="WARNING")
    module = ["-m", "tests.faults", *fault] if fault else ["-m", "newsflow.flows.cli"]
    return subprocess.run(
        [sys.executable, *module, *args], env=env, capture_output=True, text=True, timeout=600,
        start_new_session=True,  # a fault kills the whole process group: never the test's
    )


def sha256_of(path: Path) -> str:
    import hashlib

    return hashlib.sha256(path.read_bytes()).hexdigest()


def assert_each_file_once(db: Path, names: list[str], kept: list[Path]) -> None:
    """One documents row per name, one stored copy per name, each row's stored_path the whole file it read."""
    assert sorted(p.name for p in kept) == sorted(names), "one copy of each original, no temporary file left"
    con = duckdb.connect(str(db), read_only=True)
    rows = con.execute("SELECT source_ref, raw_sha256, raw_size, stored_path FROM documents").fetchall()
    con.close()
    assert sorted(ref for ref, *_ in rows) == sorted(names), "one documents row per file"
    for ref, sha, size, stored in rows:
        assert Path(stored).stat().st_size == size > 0 and sha256_of(Path(stored)) == sha, f"{ref}: {stored}"


@pytest.fixture()
def other_fs_archive(tmp_path):
    """An archive folder on another file system (/dev/shm, a tmpfs): moving there is a copy."""
    folder = Path(tempfile.mkdtemp(dir="/dev/shm", prefix="newsflow-test-"))
    assert folder.stat().st_dev != tmp_path.stat().st_dev
    yield folder / "archive"
    shutil.rmtree(folder)


@pytest.mark.parametrize("fault", ["mid-copy", "after-copy"])
def test_a_copy_across_file_systems_killed_midway_is_finished_once(fault, prefect_harness, tmp_path, shared_dir, other_fs_archive):
    inbox, db = tmp_path / "inbox", tmp_path / "news.duckdb"
    inbox.mkdir()
    names = make_inbox(inbox, shared_dir, 10)
    args = ["ingest", "inbox", str(inbox), "--db", str(db), "--archive", str(other_fs_archive), "--no-entities",
            "--batch-size", "4"]
    killed = newsflow(args, fault, "3", str(inbox))  # the first batch written, its third file killed mid-move
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-3000:]
    assert len(list(inbox.iterdir())) == len(names) - 2
    copies = [p for p in other_fs_archive.rglob("*") if p.is_file()]
    if fault == "mid-copy":
        assert sorted(p.stat().st_size for p in copies)[0] == 100, "a copy cut short"
    else:
        assert any((inbox / p.name).exists() and (inbox / p.name).read_bytes() == p.read_bytes() for p in copies)

    rerun = newsflow(args)
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    assert list(inbox.iterdir()) == []
    kept = [p for p in other_fs_archive.rglob("*") if not p.is_dir()]
    assert_each_file_once(db, names, kept)


def test_a_file_replaced_after_a_kill_before_its_move_is_read_again(prefect_harness, tmp_path, shared_dir):
    inbox, db = tmp_path / "inbox", tmp_path / "news.duckdb"
    inbox.mkdir()
    names = make_inbox(inbox, shared_dir, 10)
    args = ["ingest", "inbox", str(inbox), "--db", str(db), "--no-entities", "--batch-size", "4"]
    killed = newsflow(args, "before-move", "3", str(inbox))  # the first batch written, two of its files moved
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-3000:]
    left = sorted(inbox.iterdir(), key=lambda p: (p.stat().st_mtime, str(p)))
    recorded, replaced = left[0], left[1]  # written with the batch, not moved
    replaced.write_text("Another story\n\n" + " ".join(["A different article under a recorded name."] * 12) + "\n")
    new_sha = sha256_of(replaced)

    rerun = newsflow(args)
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    assert list(inbox.iterdir()) == []
    con = duckdb.connect(str(db), read_only=True)
    rows = con.execute("SELECT source_ref, raw_sha256, stored_path FROM documents ORDER BY received_at").fetchall()
    con.close()
    per_file = {name: [row for row in rows if row[0] == name] for name in names}
    assert len(per_file[recorded.name]) == 1, "the recorded file is moved, not read twice"
    assert len(per_file[replaced.name]) == 2, "the replacement is a new input"
    _, sha, stored = per_file[replaced.name][-1]
    assert sha == new_sha and sha256_of(Path(stored)) == new_sha
    assert all(len(found) == 1 for name, found in per_file.items() if name != replaced.name)
