"""The inbox watcher: real watchdog, a real DuckDB file, the watcher in a thread (or the CLI in a subprocess)."""
from __future__ import annotations

import hashlib
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from newsflow.extractors.records import Move
from newsflow.flows.watch import Readiness, wait_until_writable, watch
from newsflow.storage.db import connection
from newsflow.storage.moves import record_moves

REPO = Path(__file__).resolve().parents[1]
SAMPLES = sorted((REPO / "samples" / "inbox").glob("*.txt"))


def wait_for(predicate, timeout: float = 30.0, every: float = 0.1):
    """Poll until predicate() is truthy; return its value or fail with the last one."""
    deadline = time.monotonic() + timeout
    value = predicate()
    while not value and time.monotonic() < deadline:
        time.sleep(every)
        value = predicate()
    assert value, f"condition not met within {timeout}s"
    return value


def query(db: Path, sql: str) -> list[tuple]:
    """Rows from a read-only connection (DuckDB refuses one beside this process's own writer: stop it first)."""
    if not db.exists():
        return []
    with connection(db, read_only=True, wait_s=30) as con:
        return con.execute(sql).fetchall()


def landed(db: Path) -> list[tuple]:
    """(source_ref, status, raw_size) of every document, by source_ref."""
    return query(db, "SELECT source_ref, status, raw_size FROM documents ORDER BY source_ref")


def _stacks() -> str:
    """Every thread's current stack, to tell where a hang is."""
    import traceback

    names = {t.ident: t.name for t in threading.enumerate()}
    return "\n".join(f"--- {names.get(ident, ident)}\n" + "".join(traceback.format_stack(frame))
                     for ident, frame in sys._current_frames().items())


class Watcher:
    """`watch()` running in a background thread with a stop event; errors surface on stop()."""

    def __init__(self, tmp: Path, **options) -> None:
        self.inbox, self.db = tmp / "inbox", tmp / "news.duckdb"
        self.inbox.mkdir(exist_ok=True)
        self.stop_event, self.ready = threading.Event(), threading.Event()
        self.totals: dict[str, int] | None = None
        self.error: BaseException | None = None
        options = {"settle_s": 0.3, "sweep_s": 2.0, "entities": False, "quiet": True} | options
        self.thread = threading.Thread(target=self._run, kwargs=options, daemon=True)

    def _run(self, **options) -> None:
        try:
            self.totals = watch(str(self.inbox), str(self.db), stop=self.stop_event, ready=self.ready, **options)
        except BaseException as exc:  # re-raised in the test thread by stop()
            self.error = exc
            self.ready.set()

    def start(self) -> "Watcher":
        self.thread.start()
        assert self.ready.wait(120), "the watcher did not get ready"
        assert self.error is None, self.error
        return self

    def stop(self) -> dict[str, int]:
        self.stop_event.set()
        self.thread.join(180)  # it finishes the batch in hand first; a busy CI machine's Prefect API can be slow
        assert not self.thread.is_alive(), "the watcher did not stop; its threads now:\n" + _stacks()
        if self.error is not None:
            raise self.error
        return self.totals


@pytest.fixture()
def watcher(tmp_path, prefect_harness):
    started = []

    def start(**options) -> Watcher:
        started.append(Watcher(tmp_path, **options).start())
        return started[-1]

    yield start
    for w in started:
        if w.thread.is_alive():
            w.stop()


def settled(inbox: Path, count: int) -> bool:
    """The inbox is empty and `count` originals were moved out: their batches committed."""
    moved = [p for p in inbox.parent.glob("[aq][ru][ca]*/*/*") if not p.name.endswith(".error")]
    return not any(inbox.iterdir()) and len(moved) == count


def drop(inbox: Path, name: str, data: bytes) -> Path:
    """Drop a file the documented way: write under a .tmp name, then rename."""
    tmp = inbox / f"{name}.tmp"
    tmp.write_bytes(data)
    return tmp.rename(inbox / name)


def taken_after(w: "Watcher", name: str, sample: Path, count: int) -> None:
    """Drop one more file and wait until it landed: the watcher has looked at the inbox again since."""
    drop(w.inbox, name, sample.read_bytes())
    wait_for(lambda: settled(w.inbox, count))


def hold_database(db: Path) -> subprocess.Popen:
    """Another process with the database open (as a `duckdb` shell) until let_go()."""
    holder = subprocess.Popen(
        [sys.executable, "-c", "import duckdb, sys; c = duckdb.connect(sys.argv[1]); print('held', flush=True); sys.stdin.read()",
         str(db)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )
    assert holder.stdout.readline().strip() == "held"
    return holder


def let_go(holder: subprocess.Popen) -> None:
    """End the holder: the database is free."""
    holder.stdin.close()
    assert holder.wait(30) == 0


def test_dropped_files_land_and_leave_the_inbox(watcher):
    w = watcher()
    for path in SAMPLES:
        drop(w.inbox, path.name, path.read_bytes())
    wait_for(lambda: settled(w.inbox, len(SAMPLES)))
    archived = sorted(p.name for p in (w.inbox.parent / "archive").rglob("*.txt"))
    assert archived == [p.name for p in SAMPLES]
    totals = w.stop()
    assert landed(w.db) == [(p.name, "new", p.stat().st_size) for p in SAMPLES]
    assert totals["files"] == len(SAMPLES) and totals["articles"] == len(SAMPLES)
    assert query(w.db, "SELECT DISTINCT flow FROM runs") == [("watch-inbox",)]


def test_a_session_is_one_flow_run_and_each_micro_batch_a_runs_row(watcher):
    from prefect.client.orchestration import get_client

    w = watcher()
    for path in SAMPLES[:2]:  # one at a time: two micro-batches
        drop(w.inbox, path.name, path.read_bytes())
        wait_for(lambda: not any(w.inbox.iterdir()))
    wait_for(lambda: settled(w.inbox, 2))
    w.stop()
    rows = query(w.db, "SELECT run_id, flow, status, documents FROM runs ORDER BY started_at")
    with get_client(sync_client=True) as client:
        runs = [r for r in client.read_flow_runs() if r.parameters.get("inbox") == str(w.inbox)]
    assert [(r.state_type.value, r.parameters["watch"]) for r in runs] == [("COMPLETED", True)]
    assert rows == [(f"{runs[0].id}/{n}", "watch-inbox", "completed", 1) for n in (1, 2)]


def test_file_written_slowly_is_not_taken_half_written(watcher):
    w = watcher(settle_s=0.5)
    data = SAMPLES[0].read_bytes()
    chunks = [data[i:i + len(data) // 12 + 1] for i in range(0, len(data), len(data) // 12 + 1)]
    with open(w.inbox / "slow.txt", "wb") as out:  # written in place, no rename: the settle time protects it
        for chunk in chunks:
            out.write(chunk)
            out.flush()
            time.sleep(0.15)
    wait_for(lambda: settled(w.inbox, 1))
    taken_after(w, "later.txt", SAMPLES[1], 2)  # a half-read would have shown as a second document by now
    w.stop()
    assert landed(w.db) == [("later.txt", "new", SAMPLES[1].stat().st_size), ("slow.txt", "new", len(data))]


def test_temporary_name_is_ignored_until_renamed_then_taken_once(watcher):
    w = watcher(settle_s=0.3)
    data = SAMPLES[1].read_bytes()
    tmp, quiet = w.inbox / "story.txt.part", w.inbox / "quiet.txt"
    an_hour_ago = (time.time() - 3600,) * 2
    with open(tmp, "wb") as out:
        out.write(data[: len(data) // 2])
        out.flush()
        os.utime(tmp, an_hour_ago)  # quiet far longer than the settle time: only the name keeps it from being taken
        quiet.write_bytes(SAMPLES[2].read_bytes())  # a file just as quiet, written in place: taken in the same look
        os.utime(quiet, an_hour_ago)
        wait_for(lambda: any((w.inbox.parent / "archive").rglob("quiet.txt")))
        assert [p.name for p in w.inbox.iterdir()] == ["story.txt.part"]
        out.write(data[len(data) // 2:])
    tmp.rename(w.inbox / "story.txt")
    wait_for(lambda: settled(w.inbox, 2))
    taken_after(w, "later.txt", SAMPLES[0], 3)  # a second take of story.txt would have landed by now
    w.stop()
    assert landed(w.db) == [("later.txt", "new", SAMPLES[0].stat().st_size),
                            ("quiet.txt", "new", SAMPLES[2].stat().st_size), ("story.txt", "new", len(data))]


def test_files_wait_while_another_process_holds_the_database(watcher):
    w = watcher()
    drop(w.inbox, "first.txt", SAMPLES[0].read_bytes())
    wait_for(lambda: settled(w.inbox, 1))
    holder = hold_database(w.db)
    try:
        names = [f"held-{i}.txt" for i in range(3)]
        for name, path in zip(names, [*SAMPLES[1:], SAMPLES[0]]):
            drop(w.inbox, name, path.read_bytes())
        wait_for(lambda: _waiting_to_open(w.thread), timeout=120, every=0.05)  # a batch in hand, waiting
        assert sorted(p.name for p in w.inbox.iterdir()) == names  # waiting, not dropped
        assert not (w.inbox.parent / "quarantine").exists()
    finally:
        let_go(holder)
    wait_for(lambda: settled(w.inbox, 4), timeout=60)
    w.stop()
    assert not (w.inbox.parent / "quarantine").exists()
    sizes = [p.stat().st_size for p in SAMPLES]
    assert landed(w.db) == [  # held-2 is the same article as first.txt
        ("first.txt", "new", sizes[0]), ("held-0.txt", "new", sizes[1]),
        ("held-1.txt", "new", sizes[2]), ("held-2.txt", "duplicate", sizes[0]),
    ]


def test_a_concurrent_sweep_and_the_watcher_take_each_file_once(tmp_path, prefect_harness, shared_dir):
    """The scheduled inbox sweep (another process) and the watcher on one inbox take turns: each file once."""
    from prefect.settings import PREFECT_API_URL

    w = Watcher(tmp_path, settle_s=0.0, batch_size=3)
    pages = sorted((shared_dir / "benchdata" / "extraction_aeb" / "html").glob("*.html"))[:30]
    for i, page in enumerate(pages):
        drop(w.inbox, f"page-{i:02d}.html", page.read_bytes())
    env = os.environ | {"PREFECT_API_URL": PREFECT_API_URL.value()}
    sweep = subprocess.Popen(
        [sys.executable, "-m", "newsflow.flows.cli", "ingest", "inbox", str(w.inbox), "--db", str(w.db), "--batch-size", "3", "--no-entities"],
        cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    w.start()
    try:
        out, _ = sweep.communicate(timeout=180)
        assert sweep.returncode == 0, out
        wait_for(lambda: settled(w.inbox, len(pages)), timeout=60)
    finally:
        totals = w.stop()
    refs = [r[0] for r in landed(w.db)]
    assert refs == [f"page-{i:02d}.html" for i in range(len(pages))]  # each exactly once
    assert totals["files"] <= len(pages)
    assert query(w.db, "SELECT count(*) FROM runs WHERE status <> 'completed'") == [(0,)]
    assert query(w.db, "SELECT DISTINCT flow FROM runs ORDER BY 1") in ([("ingest-inbox",), ("watch-inbox",)], [("watch-inbox",)])


def test_wait_until_writable_polls_until_the_holder_lets_go(tmp_path):
    db = tmp_path / "news.duckdb"
    holder = hold_database(db)
    stopped = threading.Event()
    stopped.set()
    assert wait_until_writable(db, stopped) is False  # a stop request wins over waiting
    let_go_at: list[float] = []
    release = threading.Timer(0.5, lambda: (let_go_at.append(time.monotonic()), let_go(holder)))
    release.start()
    assert wait_until_writable(db, threading.Event(), every_s=0.1) is True
    assert let_go_at, "writable before the holder let go"
    release.join(30)


def test_leftovers_of_a_crash_are_finished_on_start(watcher, tmp_path):
    first = watcher()
    drop(first.inbox, "recorded.txt", SAMPLES[0].read_bytes())
    wait_for(lambda: settled(first.inbox, 1))
    first.stop()
    # What a kill between the commit and the move leaves: the rows and their recorded move, the original in the inbox.
    archived = next((tmp_path / "archive").rglob("recorded.txt"))
    shutil.move(archived, first.inbox / "recorded.txt")
    data = (first.inbox / "recorded.txt").read_bytes()
    move = Move(str(first.inbox / "recorded.txt"), hashlib.sha256(data).hexdigest(), len(data), str(archived))
    with connection(first.db) as con:
        record_moves(con, [move], "killed-run")
    # And a file that was dropped while no watcher ran.
    (first.inbox / "waiting.txt").write_bytes(SAMPLES[1].read_bytes())
    os.utime(first.inbox / "waiting.txt", (time.time() - 60, time.time() - 60))
    second = watcher()
    wait_for(lambda: settled(second.inbox, 2))
    second.stop()
    assert landed(second.db) == [
        ("recorded.txt", "new", SAMPLES[0].stat().st_size),
        ("waiting.txt", "new", SAMPLES[1].stat().st_size),
    ]
    assert archived.exists()  # moved to the place its row records, not ingested twice


def test_a_run_left_running_by_a_killed_process_is_marked_crashed_when_a_watcher_starts(watcher, tmp_path):
    import socket

    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True, check=True)
    with connection(tmp_path / "news.duckdb") as con:
        con.execute("INSERT INTO runs (run_id, flow, started_at, status, host, pid) VALUES ('killed', 'watch-inbox', now(), "
                    "'running', ?, ?)", [socket.gethostname(), int(dead.stdout)])
    w = watcher()  # ready: warm and watching, no file dropped yet
    assert query(w.db, "SELECT run_id, status FROM runs") == [("killed", "crashed")]
    w.stop()


def test_readiness_waits_for_quiet_files_and_takes_renamed_ones_at_once(tmp_path):
    readiness = Readiness(settle_s=60)
    fresh, renamed = tmp_path / "fresh.txt", tmp_path / "renamed.txt"
    fresh.write_text("still being written")
    renamed.write_text("complete")
    ready, wait = readiness.split([fresh, renamed], {renamed})
    assert ready == [renamed]
    assert 59 < wait <= 60
    old = tmp_path / "old.txt"
    old.write_text("written an hour ago")
    os.utime(old, (time.time() - 3600, time.time() - 3600))
    assert readiness.split([old], set()) == ([], pytest.approx(0.05))  # one more look first
    assert readiness.split([old], set())[0] == [old]
    with old.open("a") as out:
        out.write(" and again now")
    assert readiness.split([old], set())[0] == []


def _waiting_to_open(thread: threading.Thread) -> bool:
    """The thread is in storage.db.connect's retry loop: a batch in hand, waiting for the database."""
    frame = sys._current_frames().get(thread.ident)
    while frame is not None:
        if frame.f_code.co_name == "connect" and frame.f_code.co_filename.endswith(os.path.join("storage", "db.py")):
            return True
        frame = frame.f_back
    return False


class Command:
    """`newsflow watch` in its own process group, as a terminal runs a foreground job; its output read as it comes."""

    def __init__(self, inbox: Path, db: Path) -> None:
        from prefect.settings import PREFECT_API_URL

        env = os.environ | {"PREFECT_API_URL": PREFECT_API_URL.value(), "PYTHONUNBUFFERED": "1"}
        cmd = [sys.executable, "-m", "newsflow.flows.cli", "watch", str(inbox), "--db", str(db), "--no-entities", "--settle", "0.2"]
        self.process = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                        text=True, start_new_session=True)
        self.lines: list[str] = []
        threading.Thread(target=lambda: self.lines.extend(self.process.stdout), daemon=True).start()
        wait_for(lambda: self.said("watching") or self.process.poll() is not None, timeout=180)
        assert self.said("watching"), self.output()

    def said(self, text: str) -> bool:
        return any(text in line for line in list(self.lines))

    def output(self) -> str:
        return "".join(self.lines)

    def ctrl_c(self) -> None:
        """SIGINT to the whole group, as a terminal's Ctrl-C (the worker processes get it too)."""
        os.killpg(self.process.pid, signal.SIGINT)

    def exit_status(self) -> int:
        try:
            return self.process.wait(120)
        finally:
            if self.process.poll() is None:
                os.killpg(self.process.pid, signal.SIGKILL)


def test_ctrl_c_exits_130_idle_after_a_batch_and_with_a_batch_in_hand(tmp_path, prefect_harness):
    inbox, db = tmp_path / "inbox", tmp_path / "news.duckdb"
    inbox.mkdir()
    statuses, outputs = {}, {}
    for moment in ("idle", "after a batch", "batch in hand"):
        command, holder = Command(inbox, db), None
        try:
            if moment == "after a batch":
                drop(inbox, "landed.txt", SAMPLES[0].read_bytes())
                wait_for(lambda: settled(inbox, 1), timeout=120)
            elif moment == "batch in hand":
                holder = hold_database(db)
                drop(inbox, "in-hand.txt", SAMPLES[2].read_bytes())
                wait_for(lambda: command.said("is held by another process"), timeout=120, every=0.05)  # waiting for it
            command.ctrl_c()
            if holder is not None:  # the batch in hand finishes once the database is free
                wait_for(lambda: command.said("stopping after the batch in hand"))
                let_go(holder)
                holder = None
            statuses[moment], outputs[moment] = command.exit_status(), command.output()
        finally:
            if holder is not None:
                let_go(holder)
            if command.process.poll() is None:
                os.killpg(command.process.pid, signal.SIGKILL)
    assert statuses == dict.fromkeys(statuses, 130), outputs
    assert all("newsflow watch: stopped" in out for out in outputs.values()), outputs
    assert landed(db) == [("in-hand.txt", "new", SAMPLES[2].stat().st_size), ("landed.txt", "new", SAMPLES[0].stat().st_size)]
    assert not any(inbox.iterdir())
