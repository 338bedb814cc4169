"""Readers under load: how long a reader waits for the DuckDB file while `newsflow watch` ingests a burst.

A real `newsflow watch` (NER on) is started on an empty inbox; 1,000 distinct text articles with site chrome
(benchmarks/corpus.py) are renamed into the inbox at once, while another process reads in a loop: open the file
read-only (retrying every 20 ms while the writer has it open: DuckDB lets no other process in meanwhile),
`SELECT count(*) FROM documents`, close, pause 0.1 s. A reader's wait is from its first attempt to its
result. Then single drops of news pages (benchmarks/bench_latency.py) give the watcher's drop-to-queryable latency.

Each code tree given is measured in turn, in the order given, `--rounds` times (interleaved), so the trees
compare under the same machine load (a tree is a copy of the repository, e.g. `git archive`, with ../shared
beside it):
    .venv/bin/python benchmarks/bench_readers.py /tmp/before . --rounds 2   (results: benchmarks/results/readers.md)
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "benchmarks"))
from bench_latency import PAGES, drop, percentile, wait_visible  # noqa: E402
from corpus import write_text_inbox  # noqa: E402

FILES = 1000
GIVE_UP_S = 10.0  # `newsflow sql`'s wait before it gives up

READER = r"""
import json, sys, time
import duckdb
db, retry_s, pause_s = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
while True:
    started = time.perf_counter()
    while True:
        try:
            con = duckdb.connect(db, read_only=True)
            break
        except duckdb.Error:
            time.sleep(retry_s)
    try:
        count = con.execute("SELECT count(*) FROM documents").fetchone()[0]
    except duckdb.CatalogException:
        count = 0
    finally:
        con.close()
    print(json.dumps([time.perf_counter(), time.perf_counter() - started, count]), flush=True)
    time.sleep(pause_s)
"""


def start_watcher(tree: Path, work: Path, env: dict[str, str]) -> subprocess.Popen:
    """`newsflow watch` of the given code tree, in its own process; returns once it is watching."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "newsflow.flows.cli", "watch", str(work / "inbox"), "--db", str(work / "news.duckdb")],
        cwd=tree, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    lines = []
    for line in proc.stdout:
        lines.append(line)
        if "watching" in line:
            break
    else:
        raise RuntimeError("the watcher did not start:\n" + "".join(lines))
    threading.Thread(target=lambda: [None for _ in proc.stdout], daemon=True).start()  # keep its pipe drained
    return proc


def measure(tree: Path, staged: Path, drops: int, env: dict[str, str]) -> dict:
    """One round on one code tree: the burst with a reader looping beside it, then single drops."""
    work = Path(tempfile.mkdtemp(prefix="bench-readers-"))
    inbox, db = work / "inbox", work / "news.duckdb"
    inbox.mkdir()
    watcher = start_watcher(tree, work, env)
    try:
        names = sorted(p.name for p in staged.iterdir())
        # The first drop creates the file, so the reader has a database to open from its first attempt on.
        wait_visible(db, ["warm.html"], drop(inbox, sorted(PAGES.glob("*.html"))[0], "warm.html"))
        reader = subprocess.Popen([sys.executable, "-c", READER, str(db), "0.02", "0.1"], stdout=subprocess.PIPE, text=True)
        samples: list[tuple[float, float, int]] = []
        started = time.perf_counter()
        for name in names:
            os.link(staged / name, inbox / f"{name}.tmp")
        for name in names:  # into the inbox at once: renames on one file system
            (inbox / f"{name}.tmp").rename(inbox / name)
        for line in reader.stdout:
            at, wait, count = json.loads(line)
            samples.append((at, wait, count))
            if count >= len(names) + 1 or at - started > 900:
                break
        reader.kill()
        reader.wait()
        done = next((at for at, _, count in samples if count >= len(names) + 1), float("nan"))
        waits = [wait for at, wait, _ in samples if at >= started]
        latencies = []
        for i, page in enumerate(sorted(PAGES.glob("*.html"))[1:drops + 1]):
            name = f"drop-{i:03d}.html"
            latencies.append(wait_visible(db, [name], drop(inbox, page, name))[name])
            time.sleep(0.3)
    finally:
        watcher.send_signal(signal.SIGINT)
        watcher.wait(300)
        shutil.rmtree(work, ignore_errors=True)
    return {"waits": waits, "burst_s": done - started, "latencies": latencies}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("trees", nargs="+", type=Path, help="code trees to compare (a checkout's root each)")
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--drops", type=int, default=20)
    parser.add_argument("--files", type=int, default=FILES)
    args = parser.parse_args()
    env = os.environ | {"PREFECT_LOGGING_LEVEL": "WARNING", "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "PYTHONUNBUFFERED": "1"}
    staged = Path(tempfile.mkdtemp(prefix="bench-readers-staged-"))
    write_text_inbox(staged, args.files)
    rows = []
    for round_no in range(args.rounds):
        for tree in args.trees:
            r = measure(tree.resolve(), staged, args.drops, env)
            w, lat = r["waits"], r["latencies"]
            rows.append(
                f"| {tree} | {round_no + 1} | {len(w)} | {percentile(w, 50):.2f} | {percentile(w, 95):.2f} | {max(w):.2f} | "
                f"{sum(x > GIVE_UP_S for x in w)} | {r['burst_s']:.1f} | {percentile(lat, 50):.2f} | {percentile(lat, 95):.2f} |"
            )
            print(rows[-1], flush=True)
    shutil.rmtree(staged, ignore_errors=True)
    print("\n".join([
        f"Load average now {os.getloadavg()[0]:.1f}; {os.cpu_count()} CPUs. Reader: open read-only (retry every 20 ms), "
        f"count(*), close, 0.1 s pause, during a {args.files}-file burst into `newsflow watch` (NER on).", "",
        "| code | round | reads | wait p50 s | wait p95 s | wait max s | waits > 10 s | burst: all queryable after s | "
        "single drop latency p50 s | p95 s |",
        "|---|---|---|---|---|---|---|---|---|---|", *rows,
    ]))


if __name__ == "__main__":
    main()
