"""`newsflow watch`: a long-running process that ingests files seconds after they are dropped in the inbox.

How a dropped file is taken:
- Ready: a file renamed into place (its rename event seen) is taken at once; any other file once it has not
  changed for `settle_s` (its mtime is that old and its size and mtime did not move between two looks).
  Writers that may pause mid-file write under a temporary name (`*.tmp`, `*.part`, a leading dot, ...: never
  listed, see extractors/reading.py) and rename when done.
- Claim: the writer lock (an flock on `<db>.lock`) is the claim. Inside it a batch is read, written in one
  transaction and its originals moved out of the inbox. Any other writer (a second watcher, the scheduled
  inbox sweep, `newsflow ingest inbox`) waits for the lock and then finds the file gone, or recorded and only
  its move lost, which `finish_interrupted` completes: never a double write.
- Events: watchdog (inotify) wakes the loop at once; a periodic sweep of the folder is the backstop for missed
  events and for file systems without notifications. Files left by a crash are simply there at start-up.
- A held database (a `duckdb` shell open on the file) is never the files' fault: the batch waits and retries
  (60 s, storage.db.connect), then the watcher polls until the file is free; the files stay in the inbox for
  the next batch. Nothing is quarantined because of a lock.
- Any other error is a bug: it fails the run and stops the watcher, files left in the inbox for the next start.
- Prefect's start-up cost (a temporary API server when PREFECT_API_URL is unset) and the workers' start (a local Dask
  cluster, or the one at --dask-address) are paid once at start. A stage's list of a few documents (up to
  Cluster.local_max_documents: one chunk, which one worker would take anyway) runs in this process, which loads
  trafilatura, the NER models and the dictionaries at start and keeps them, as the workers do; more go to the
  cluster. The session is one long-running flow run (`ingest-inbox` with watch=True), whose heartbeats tell Prefect
  it is alive; each micro-batch is a `runs` row and a few task runs of it, so a batch pays no flow-run start or end.
- Ctrl-C: finish the batch in hand, then stop (exit 130, as any command stopped by Ctrl-C); a second Ctrl-C aborts at
  once (the next start finishes the job).
"""
from __future__ import annotations

import logging
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from newsflow.extractors.reading import list_inbox
from newsflow.extractors.settings import Settings
from newsflow.flows.runs import recorded_run
from newsflow.flows.tasks import workers_for
from newsflow.storage.db import DatabaseLocked, connect, connection, database_exists
from newsflow.storage.held import held
from newsflow.storage.writes import mark_crashed_runs

TOTAL_KEYS = ("files", "documents", "articles", "duplicates", "rejected", "mentions")


LOOK_GAP_S = 0.05  # a second look this much later confirms that a file with an old mtime is not growing


@dataclass
class Readiness:
    """Which inbox files are complete: renamed into place, or unchanged for `settle_s` (by mtime and by our looks)."""

    settle_s: float
    seen: dict[Path, tuple[int, int, float]] = field(default_factory=dict)  # path -> (size, mtime_ns, first look)

    def split(self, paths: list[Path], renamed: set[Path]) -> tuple[list[Path], float | None]:
        """The ready paths (oldest first), and seconds until the next pending one may be ready."""
        now_wall, now_mono = time.time(), time.monotonic()
        ready, wait = [], None
        looked: dict[Path, tuple[int, int, float]] = {}
        for path in paths:
            try:
                st = path.lstat()
            except FileNotFoundError:
                continue  # taken by another process, or renamed, since the listing
            sign = (st.st_size, st.st_mtime_ns)
            before = self.seen.get(path)
            same = before is not None and before[:2] == sign
            looked[path] = (*sign, before[2] if same else now_mono)
            quiet = max(now_wall - st.st_mtime, now_mono - before[2] if same else 0.0)
            if path in renamed or same and quiet >= self.settle_s:
                ready.append(path)
                continue
            left = self.settle_s - quiet if same else max(LOOK_GAP_S, self.settle_s - quiet)
            wait = left if wait is None else min(wait, left)
        self.seen = looked
        return ready, wait


class _Wake:
    """A watchdog handler: wakes the loop on any change in the inbox and notes files renamed into place."""

    def __init__(self) -> None:
        self.event = threading.Event()
        self.lock = threading.Lock()
        self.renamed: set[Path] = set()

    def dispatch(self, event) -> None:
        if event.event_type in ("opened", "closed_no_write"):
            return  # our own reads must not wake us
        if event.event_type == "moved" and not event.is_directory:
            with self.lock:
                self.renamed.add(Path(event.dest_path))
        self.event.set()

    def take_renamed(self) -> set[Path]:
        """Files renamed into place that are still there; forget the ones taken."""
        with self.lock:
            self.renamed = {p for p in self.renamed if p.exists()}
            return set(self.renamed)


def mark_crashed(db: Path) -> None:
    """Mark the runs a killed process left `running` as crashed, at start rather than at the first drop."""
    if database_exists(db):  # a watcher creates no database before its first file
        with suppress(DatabaseLocked), connection(db, wait_s=5) as con:  # else the first batch's start_run does it
            mark_crashed_runs(con)


def count_line(counts: dict[str, int]) -> str:
    """What a batch or a session did, in one line."""
    return (
        f"files: {counts.get('files', 0)}  new: {counts.get('articles', 0)}  duplicates: {counts.get('duplicates', 0)}  "
        f"rejected: {counts.get('rejected', 0)}  mentions: {counts.get('mentions', 0)}"
    )


def _install_sigint(stop: threading.Event, interrupted: threading.Event) -> Callable[[], None]:
    """First Ctrl-C: stop after the batch in hand (and note it in `interrupted`); second: abort now.

    Returns a function that restores the old handler.
    """
    if threading.current_thread() is not threading.main_thread():
        return lambda: None

    def handle(signum, frame):
        if stop.is_set():
            raise KeyboardInterrupt
        interrupted.set()
        stop.set()
        # Not print(): inside a flow run Prefect's log_prints turns print into a log record, hidden at WARNING.
        sys.stdout.write("newsflow watch: stopping after the batch in hand (Ctrl-C again to abort now)\n")
        sys.stdout.flush()

    previous = signal.signal(signal.SIGINT, handle)
    return lambda: signal.signal(signal.SIGINT, previous)


@dataclass(frozen=True)
class Session:
    """What the caller of a watch session gives it besides flow parameters: how to stop it, an event set once it
    watches, where its lines go. Not flow parameters: Prefect sends those with each task to the Dask workers."""

    stop: threading.Event
    ready: threading.Event | None = None
    say: Callable[[str], object] = lambda line: (sys.stdout.write(line + "\n"), sys.stdout.flush())


_SESSION: ContextVar[Session | None] = ContextVar("newsflow_watch_session", default=None)


def current_session() -> Session:
    """The session `watch()` started (a deployment's run: a stop never set, lines to stdout)."""
    # A function, not the ContextVar itself in the flow's body: Prefect pickles the flow (by value) with each task.
    return _SESSION.get() or Session(threading.Event())


def watch(inbox: str = "inbox", db: str = "newsflow.duckdb", *, stop: threading.Event | None = None,
          ready: threading.Event | None = None, quiet: bool = False, **options) -> dict[str, int]:
    """Ingest files dropped in `inbox` until `stop` is set (or Ctrl-C); returns the totals of the session.

    `options` are ingest_inbox's (archive, quarantine, batch_size, entities, settle_s, sweep_s). A Ctrl-C stop
    finishes the batch in hand, then raises KeyboardInterrupt: the command exits 130 however the Ctrl-C fell
    (idle, mid-batch, during start-up). `ready` is set once the watcher is warm and watching.
    """
    from newsflow.flows.ingest import ingest_inbox

    stop, interrupted = stop or threading.Event(), threading.Event()
    restore = _install_sigint(stop, interrupted)
    token = _SESSION.set(Session(stop, ready, (lambda line: None) if quiet else Session.say))
    try:
        totals = ingest_inbox(inbox, db, watch=True, **options)
    finally:
        _SESSION.reset(token)
        restore()
    if interrupted.is_set():
        raise KeyboardInterrupt("newsflow watch stopped by Ctrl-C after the batch in hand")
    return totals


def keep_watching(settings: Settings, inbox: Path, settle_s: float, sweep_s: float) -> dict[str, int]:
    """Take files as they are dropped, in micro-batches (each a `runs` row of its own), until the session stops."""
    from newsflow.flows.ingest import ingest_paths

    session = current_session()
    inbox_dir, say = inbox.resolve(), session.say
    size = max(1, settings.limits.batch_size)
    totals = dict.fromkeys(TOTAL_KEYS, 0)
    with ExitStack() as stack:
        # A lake is attached once for the session (at its first write; nothing is open while the cluster starts).
        stack.enter_context(held(settings.paths.db))
        handler = stack.enter_context(_observing(inbox_dir))
        # One cluster (and one Prefect API, shared with its workers) for every micro-batch of the session.
        workers = stack.enter_context(workers_for(settings, None))
        # Where the stages run (a few documents here, more on the cluster: tasks.Workers.here_max), load the models
        # now, or the session's first drops wait for them (1-3 s each).
        workers.warm(settings.ner)
        mark_crashed(settings.paths.db)
        say(f"newsflow watch: watching {inbox_dir} -> {settings.paths.db} (settle {settle_s}s, sweep every {sweep_s}s; Ctrl-C stops)")
        if session.ready is not None:
            session.ready.set()
        readiness, batches = Readiness(settle_s), 0
        while not session.stop.is_set():
            handler.event.clear()
            files, wait = readiness.split(list_inbox(inbox_dir), handler.take_renamed())
            if not files:
                _wait_any(handler.event, session.stop, sweep_s if wait is None else min(sweep_s, wait))
                continue
            started, batches = time.perf_counter(), batches + 1
            try:
                with recorded_run(settings.paths.db, "watch-inbox", batches) as run:
                    run.totals.update(ingest_paths(settings, inbox_dir, files[:size], run.run_id))
            except DatabaseLocked as exc:
                # Not the files' fault: they stay in the inbox and go in the next batch, once the file is free.
                say(f"newsflow watch: {len(files)} file(s) wait for the next batch: {exc}")
                if wait_until_writable(settings.paths.db, session.stop):
                    say("newsflow watch: the database is free again")
                continue
            for key in TOTAL_KEYS:
                totals[key] += run.totals.get(key, 0)
            say(f"{datetime.now():%H:%M:%S}  {count_line(run.totals)}  ({time.perf_counter() - started:.2f}s)")
    say(f"newsflow watch: stopped; this session: {count_line(totals)}")
    return totals


@contextmanager
def _observing(inbox: Path) -> Iterator[_Wake]:
    """A watchdog observer on the inbox (recursive) for the duration of the block."""
    from watchdog.observers import Observer

    handler = _Wake()
    observer = Observer()
    observer.schedule(handler, str(inbox), recursive=True)
    observer.start()
    try:
        yield handler
    finally:
        _stop_observer(observer)


def _stop_observer(observer) -> None:
    """Stop watchdog without its spurious 'called when the thread is inactive' error (a race in watchdog 7 at stop)."""
    log = logging.getLogger("watchdog.observers.inotify")
    level = log.level
    log.setLevel(logging.CRITICAL)
    try:
        observer.stop()
        observer.join(timeout=5)
    finally:
        log.setLevel(level)


def wait_until_writable(db: Path, stop: threading.Event, every_s: float = 1.0) -> bool:
    """Poll until this process can open the database for writing (True), or until stopped (False)."""
    while not stop.is_set():
        try:
            connect(db, wait_s=0).close()
            return True
        except DatabaseLocked:
            stop.wait(every_s)
    return False


def _wait_any(wake: threading.Event, stop: threading.Event, timeout: float) -> None:
    """Sleep until woken by the observer, stopped, or timed out (the periodic sweep)."""
    deadline = time.monotonic() + max(timeout, 0.01)
    while not stop.is_set() and not wake.is_set():
        left = deadline - time.monotonic()
        if left <= 0:
            return
        wake.wait(min(left, 0.1))
