"""Serial share: how much of a run's CPU the flow process (the one DuckDB writer) spends, against the Dask workers.

    .venv/bin/python benchmarks/bench_serial_share.py [--articles 1000] [--workers 2]

Starts a Prefect server, a `dask scheduler` and `dask worker` processes on 127.0.0.1, then ingests the same text
inbox (benchmarks/corpus.py: articles with chrome) through `newsflow ingest inbox --dask-address`, with and without
NER. CPU-seconds are the kernel's accounting: the flow process by wait4 (itself and anything it reaped), the
workers, the scheduler and the Prefect server by /proc before and after the run (they keep running). The flow's
share of (flow + workers) bounds the scale-out: with share s the writer saturates at about 1/s workers' worth of work.
Writes benchmarks/results/serial_share.md.
"""
from __future__ import annotations

import argparse
import os
import platform
import shutil
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import duckdb

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from bench_throughput import OUT, PYTHON, prefect_server, tree_cpu_s, wait_until_idle  # noqa: E402
from corpus import write_text_inbox  # noqa: E402

DASK = [str(Path(PYTHON).parent / "dask"), "scheduler"]  # the `dask` command installed beside this Python
WORKER = [str(Path(PYTHON).parent / "dask"), "worker"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def dask_cluster(workers: int, env: dict[str, str]):
    """A scheduler and `workers` single-threaded worker processes on loopback; yields (address, scheduler, workers)."""
    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    full = {**os.environ, **env}
    scheduler = subprocess.Popen([*DASK, "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"], env=full,
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    pool = subprocess.Popen([*WORKER, address, "--nworkers", str(workers), "--nthreads", "1", "--no-dashboard",
                             "--host", "127.0.0.1"], env=full, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    try:
        from distributed import Client

        with Client(address, timeout=60) as client:
            client.wait_for_workers(workers, timeout=120)
        yield address, scheduler, pool
    finally:
        for process in (pool, scheduler):
            os.killpg(process.pid, 15)
            process.wait()


def run_ingest(inbox: Path, db: Path, address: str, env: dict[str, str], *extra: str) -> tuple[float, float, int]:
    """One `newsflow ingest inbox` on the cluster: (wall s, flow-process CPU s, articles)."""
    for suffix in ("", ".wal", ".lock"):
        Path(str(db) + suffix).unlink(missing_ok=True)
    work = inbox.parent / "run-inbox"
    shutil.rmtree(work, ignore_errors=True)
    shutil.copytree(inbox, work)
    started = time.perf_counter()
    process = subprocess.Popen([PYTHON, "-m", "newsflow.flows.cli", "ingest", "inbox", str(work), "--db", str(db),
                                "--dask-address", address, *extra], env={**os.environ, **env},
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"ingest failed: {process.stderr.read()[-3000:]}")
    with duckdb.connect(str(db), read_only=True) as con:
        articles = con.execute("SELECT count(*) FROM articles").fetchone()[0]
    return wall, usage.ru_utime + usage.ru_stime, articles


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--articles", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--out", type=Path, default=HERE / "results" / "serial_share.md")
    args = parser.parse_args()
    OUT.mkdir(exist_ok=True)
    inbox = OUT / "share-inbox"
    shutil.rmtree(inbox, ignore_errors=True)
    inbox.mkdir(parents=True)
    write_text_inbox(inbox, args.articles)
    rows = []
    with prefect_server(port=free_port()) as env:
        with dask_cluster(args.workers, env) as (address, scheduler, pool):
            run_ingest(inbox, OUT / "share-warm.duckdb", address, env)  # workers load their models once, as a warm cluster has
            for label, extra in (("with NER", ()), ("--no-entities", ("--no-entities",))):
                wait_until_idle(pool.pid)
                before = {name: tree_cpu_s(p) for name, p in (("workers", pool.pid), ("scheduler", scheduler.pid))}
                wall, flow_cpu, articles = run_ingest(inbox, OUT / "share.duckdb", address, env, *extra)
                after = {name: tree_cpu_s(p) for name, p in (("workers", pool.pid), ("scheduler", scheduler.pid))}
                workers = after["workers"] - before["workers"]
                share = flow_cpu / (flow_cpu + workers)
                per = 1000 / max(1, articles)
                rows.append(f"| {label} | {articles} | {wall:.1f} | {flow_cpu * per:.1f} | {workers * per:.1f} | "
                            f"{(after['scheduler'] - before['scheduler']) * per:.1f} | {share:.1%} | {1 / share:.1f} |")
                print(rows[-1], flush=True)
    header = (
        f"# Serial share\n\nMachine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"{date.today()}; `{args.workers}` single-threaded Dask workers on the same machine, a running Prefect server; "
        f"{args.articles} text articles with chrome (benchmarks/corpus.py); the cluster warmed by one run first.\n\n"
        "| run | articles | wall s | flow process CPU-s / 1000 articles | workers CPU-s / 1000 | scheduler CPU-s / 1000 "
        "| flow share of flow + workers | workers before the flow saturates (1 / share) |\n|---|---:|---:|---:|---:|---:|---:|---:|\n"
    )
    args.out.write_text(header + "\n".join(rows) + "\n", encoding="utf-8")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
