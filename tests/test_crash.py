"""kill -9 in the middle of an ingest, then run again: every file accounted for exactly once."""
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb


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
        [sys.executable, "-m", "flows.cli", "ingest", "inbox", str(inbox), "--db", str(db)],
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
