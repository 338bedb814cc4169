"""Storage targets side by side: a .duckdb file against a DuckLake with a SQLite catalog, in one run.

  - throughput: `newsflow ingest inbox` of 1,000 distinct ~700-word text articles with site chrome
    (benchmarks/corpus.py), NER off so the storage's share shows, then the same inbox again (all duplicates);
  - drop-to-queryable under `newsflow watch`: single news pages renamed into the inbox one at a time, each timed
    until a separate reader selects its documents row (Reader: a new read-only connection per look on the file,
    one attachment kept open on a lake); every target's watcher runs at once and each page goes to each in turn;
  - with --base PYTHON, a third target: a lake run by another checkout's newsflow (before/after in one run);
  - compaction: the lake's data files before and after `storage.lake.compact`.
Both targets use one Prefect server started here (its start-up is not the storage's cost).

    .venv/bin/python benchmarks/bench_lake.py [--articles 1000] [--drops 20] [--base ../main/.venv/bin/python]
                                                           (a dated section appended to results/lake.md)
"""
from __future__ import annotations

import argparse
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))
from bench_latency import PAGES, drop, percentile  # noqa: E402
from corpus import write_text_inbox  # noqa: E402
from prefect_server import prefect_server as start_prefect_server  # noqa: E402

from newsflow.storage.db import DatabaseLocked, connect, connection, database_exists  # noqa: E402
from newsflow.storage.lake import is_lake  # noqa: E402

POLL_S = 0.05


@contextmanager
def prefect_server(work: Path, port: int = 4297):
    """One Prefect server on loopback for every command of the run; yields the env to reach it."""
    with start_prefect_server(work / "prefect-home", port) as env:
        yield env


def targets(work: Path, base: str | None = None) -> dict[str, tuple[str, str]]:
    """label -> (--db, the Python whose newsflow runs it); `base`: another checkout's Python, on a lake of its own."""
    out = {".duckdb file": (str(work / "news.duckdb"), sys.executable),
           "ducklake:sqlite:": (f"ducklake:sqlite:{work / 'news.sqlite'}", sys.executable)}
    if base:
        out[f"ducklake:sqlite: ({BASE_LABEL})"] = (f"ducklake:sqlite:{work / 'base.sqlite'}", base)
    return out


BASE_LABEL = "before: --base checkout"


def ingest(inbox: Path, db: str, env: dict, python: str = sys.executable) -> float:
    began = time.perf_counter()
    done = subprocess.run([python, "-m", "newsflow.flows.cli", "ingest", "inbox", str(inbox), "--db", db, "--no-entities"],
                          env=env, capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(done.stderr[-2000:])
    return time.perf_counter() - began


def count(db: str, sql: str) -> int:
    with connection(db, read_only=True) as con:
        return con.execute(sql).fetchone()[0]


def visible(db: str, name: str) -> bool:
    if not database_exists(db):
        return False
    try:
        with connection(db, read_only=True, wait_s=0) as con:
            return bool(con.execute("SELECT count(*) FROM documents WHERE source_ref = ?", [name]).fetchone()[0])
    except (DatabaseLocked, FileNotFoundError):
        return False
    except Exception as exc:  # no tables yet (the first batch creates them)
        if "does not exist" in str(exc):
            return False
        raise


class Reader:
    """Polls for a documents row as an analyst would: on a .duckdb file a new read-only connection per look (the
    writer holds the file between them), on a lake one read-only attachment kept open (a `duckdb` shell's session;
    each query reads the latest snapshot). A new `newsflow sql` process pays its start and attach on top."""

    def __init__(self, db: str) -> None:
        self.db, self.con = db, None

    def sees(self, name: str) -> bool:
        if not is_lake(self.db):
            return visible(self.db, name)
        if self.con is None:
            if not database_exists(self.db):
                return False
            self.con = connect(self.db, read_only=True)
        try:
            return bool(self.con.execute("SELECT count(*) FROM documents WHERE source_ref = ?", [name]).fetchone()[0])
        except Exception as exc:  # the catalog is there, its tables not yet
            if "does not exist" in str(exc):
                return False
            raise

    def close(self) -> None:
        if self.con is not None:
            self.con.close()


def throughput(articles: int, env: dict, work: Path, base: str | None, again: bool) -> dict[str, tuple[float, float | None, int, float]]:
    """label -> (first ingest s, same inbox again s or None, articles stored, load average before)."""
    source = work / "corpus"
    write_text_inbox(source, articles)
    out = {}
    for label, (db, python) in targets(work, base).items():
        runs, load = [], os.getloadavg()[0]
        for attempt in ("first", "again") if again else ("first",):
            inbox = work / f"inbox-{len(out)}-{attempt}"
            shutil.copytree(source, inbox)
            runs.append(ingest(inbox, db, env, python))
        out[label] = (runs[0], runs[1] if again else None, count(db, "SELECT count(*) FROM articles"), load)
    return out


def latency(drops: int, env: dict, work: Path, base: str | None) -> dict[str, list[float]]:
    """Every target's watcher runs at once; each round drops the same page to each in turn (the order rotating),
    one drop in flight at a time: paired figures under the same machine state."""
    pages = sorted(PAGES.glob("*.html"))
    chosen = targets(work, base)
    watchers, readers, inboxes = {}, {}, {}
    try:
        for n, (label, (db, python)) in enumerate(chosen.items()):
            inboxes[label] = work / f"watch-{n}" / "inbox"
            inboxes[label].mkdir(parents=True)
            watchers[label] = subprocess.Popen([python, "-m", "newsflow.flows.cli", "watch", str(inboxes[label]), "--db", db],
                                               env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            readers[label] = Reader(db)
        out: dict[str, list[float]] = {label: [] for label in chosen}
        labels = list(chosen)
        for i, page in enumerate(pages[: drops + 2]):
            for label in labels[i % len(labels):] + labels[:i % len(labels)]:
                name = f"drop-{i:03d}.html"
                started = drop(inboxes[label], page, name)
                deadline = time.monotonic() + 180
                while not readers[label].sees(name):
                    if time.monotonic() > deadline or watchers[label].poll() is not None:
                        raise RuntimeError(f"{name} never became visible on {label}")
                    time.sleep(POLL_S)
                if i >= 2:  # the first two warm the watcher (its first batch creates the tables)
                    out[label].append(time.perf_counter() - started)
                time.sleep(0.3)
        return out
    finally:
        for label, watcher in watchers.items():
            readers[label].close()
            watcher.send_signal(signal.SIGINT)
        for watcher in watchers.values():
            watcher.wait(120)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--articles", type=int, default=1000)
    parser.add_argument("--drops", type=int, default=20)
    parser.add_argument("--base", help="the Python of another checkout (e.g. main's .venv/bin/python): its newsflow runs a "
                        "lake of its own beside this one's, for before/after figures from the same run")
    parser.add_argument("--no-again", dest="again", action="store_false", help="skip ingesting the same inbox again")
    parser.add_argument("--latency-only", action="store_true", help="only the drop-to-queryable part")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-lake-"))
    load_start = os.getloadavg()
    try:
        with prefect_server(work) as server_env:
            env = {**os.environ, **server_env, "PREFECT_LOGGING_LEVEL": "WARNING"}
            speed = {} if args.latency_only else throughput(args.articles, env, work, args.base, args.again)
            load_mid = os.getloadavg()
            waits = latency(args.drops, env, work / "latency", args.base)
        from newsflow.storage.lake import compact

        files = None
        if speed:
            with connection(targets(work)["ducklake:sqlite:"][0]) as con:
                files = compact(con)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    load_end = os.getloadavg()
    lines = [f"## {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC: `bench_lake.py --articles {args.articles} --drops {args.drops}"
             + (" --latency-only" if args.latency_only else "") + (" --base ...`" if args.base else "`"), "",
             f"{os.cpu_count()} CPUs shared with other sessions; load average (1 min) {load_start[0]:.1f} at the start, "
             f"{load_mid[0]:.1f} {'before the watchers started' if args.latency_only else 'after the throughput part'}, "
             f"{load_end[0]:.1f} at the end."
             + (f" `{BASE_LABEL}`: the same commands run by {args.base}, i.e. the code before this change." if args.base else ""), "",
             f"Throughput: `newsflow ingest inbox` of {args.articles:,} text articles, NER off, one Prefect server for all, "
             "targets one after the other.", "",
             "| target | first ingest | articles/s | same inbox again (all duplicates) | articles stored | load before |",
             "|---|---|---|---|---|---|"]
    if not speed:
        lines = lines[:4]  # the heading and the load line: no throughput part was run
    for label, (first, again, stored, load) in speed.items():
        lines.append(f"| {label} | {first:.1f} s | {stored / first:.1f} | {f'{again:.1f} s' if again else '-'} | {stored:,} | {load:.1f} |")
    lines += ["", f"Drop-to-queryable under `newsflow watch` ({args.drops} single news pages per target, NER on; every target's "
              "watcher running at once, each page dropped to each in turn, one drop in flight; the reader: a new read-only "
              "connection per look on the file, one read-only attachment on a lake):", "",
              "| target | p50 | p95 | max |", "|---|---|---|---|"]
    for label, times in waits.items():
        lines.append(f"| {label} | {statistics.median(times):.2f} s | {percentile(times, 95):.2f} s | {max(times):.2f} s |")
    if files:
        lines += ["", f"Data files of the {args.articles:,}-article lake after its ingests (each run compacts when it ends): "
                  f"{files[0]}; {files[1]} after one more `storage.lake.compact`."]
    text = "\n".join(lines) + "\n"
    print(text)
    results = HERE / "results" / "lake.md"
    results.write_text(results.read_text(encoding="utf-8").rstrip("\n") + "\n\n" + text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
