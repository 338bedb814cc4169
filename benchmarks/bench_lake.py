"""Storage targets side by side: a .duckdb file against a DuckLake with a SQLite catalog, in one run.

  - throughput: `newsflow ingest inbox` of 1,000 distinct ~700-word text articles with site chrome
    (benchmarks/corpus.py), NER off so the storage's share shows, then the same inbox again (all duplicates);
  - drop-to-queryable under `newsflow watch`: single news pages renamed into the inbox one at a time, each timed
    until a separate reader (a new read-only connection per poll, as storage.db.connection opens one) selects
    its documents row;
  - compaction: the lake's data files before and after `storage.lake.compact`.
Both targets use one Prefect server started here (its start-up is not the storage's cost).

    .venv/bin/python benchmarks/bench_lake.py [--articles 1000] [--drops 20]     (results/lake.md)
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
from datetime import date
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))
from bench_latency import PAGES, drop, percentile  # noqa: E402
from corpus import write_text_inbox  # noqa: E402
from prefect_server import prefect_server as start_prefect_server  # noqa: E402

from newsflow.storage.db import DatabaseLocked, connection, database_exists  # noqa: E402

POLL_S = 0.05


@contextmanager
def prefect_server(work: Path, port: int = 4297):
    """One Prefect server on loopback for every command of the run; yields the env to reach it."""
    with start_prefect_server(work / "prefect-home", port) as env:
        yield env


def targets(work: Path) -> dict[str, str]:
    return {".duckdb file": str(work / "news.duckdb"), "ducklake:sqlite:": f"ducklake:sqlite:{work / 'news.sqlite'}"}


def ingest(inbox: Path, db: str, env: dict) -> float:
    began = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "newsflow.flows.cli", "ingest", "inbox", str(inbox), "--db", db, "--no-entities"],
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


def throughput(articles: int, env: dict, work: Path) -> dict[str, tuple[float, float, int]]:
    source = work / "corpus"
    write_text_inbox(source, articles)
    out = {}
    for label, db in targets(work).items():
        runs = []
        for attempt in ("first", "again"):
            inbox = work / f"inbox-{len(out)}-{attempt}"
            shutil.copytree(source, inbox)
            runs.append(ingest(inbox, db, env))
        out[label] = (runs[0], runs[1], count(db, "SELECT count(*) FROM articles"))
    return out


def latency(drops: int, env: dict, work: Path) -> dict[str, list[float]]:
    pages = sorted(PAGES.glob("*.html"))
    out = {}
    for label, db in targets(work).items():
        folder = work / f"watch-{len(out)}"
        (folder / "inbox").mkdir(parents=True)
        watcher = subprocess.Popen([sys.executable, "-m", "newsflow.flows.cli", "watch", str(folder / "inbox"), "--db", db],
                                   env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            times = []
            for i, page in enumerate(pages[: drops + 2]):
                name = f"drop-{i:03d}.html"
                started = drop(folder / "inbox", page, name)
                deadline = time.monotonic() + 120
                while not visible(db, name):
                    if time.monotonic() > deadline or watcher.poll() is not None:
                        raise RuntimeError(f"{name} never became visible on {label}")
                    time.sleep(POLL_S)
                if i >= 2:  # the first two warm the watcher (its first batch creates the tables)
                    times.append(time.perf_counter() - started)
                time.sleep(0.3)
        finally:
            watcher.send_signal(signal.SIGINT)
            watcher.wait(120)
        out[label] = times
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--articles", type=int, default=1000)
    parser.add_argument("--drops", type=int, default=20)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-lake-"))
    try:
        with prefect_server(work) as server_env:
            env = {**os.environ, **server_env, "PREFECT_LOGGING_LEVEL": "WARNING"}
            speed = throughput(args.articles, env, work)
            waits = latency(args.drops, env, work / "latency")
        from newsflow.storage.lake import compact

        with connection(targets(work)["ducklake:sqlite:"]) as con:
            files = compact(con)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    lines = [f"# Storage targets (benchmarks/bench_lake.py, {date.today()}, machine shared: load as it was)", "",
             f"Throughput: `newsflow ingest inbox` of {args.articles:,} text articles, NER off, one Prefect server for both.", "",
             "| target | first ingest | articles/s | same inbox again (all duplicates) | articles stored |", "|---|---|---|---|---|"]
    for label, (first, again, stored) in speed.items():
        lines.append(f"| {label} | {first:.1f} s | {stored / first:.1f} | {again:.1f} s | {stored:,} |")
    lines += ["", f"Drop-to-queryable under `newsflow watch` ({args.drops} single news pages, one at a time):", "",
              "| target | p50 | p95 | max |", "|---|---|---|---|"]
    for label, times in waits.items():
        lines.append(f"| {label} | {statistics.median(times):.2f} s | {percentile(times, 95):.2f} s | {max(times):.2f} s |")
    lines += ["", f"Data files of the {args.articles:,}-article lake after both ingests (each run compacts when it ends): "
              f"{files[0]}; {files[1]} after one more `storage.lake.compact`."]
    text = "\n".join(lines) + "\n"
    print(text)
    (HERE / "results" / "lake.md").write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
