"""One-shot cost: `newsflow ingest inbox` of one file, whole process, beside a bare trivial Prefect flow.

    .venv/bin/python benchmarks/bench_oneshot.py [--repeats 5]

Two settings: cold (no PREFECT_API_URL: each process starts Prefect's temporary server) and against a running
`prefect server start`. The commands alternate (bare flow, newsflow, bare flow, ...) so a drift of the machine's
speed hits both; the median, min and max of the wall seconds are reported. Writes benchmarks/results/oneshot.md.
"""
from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import sys
from datetime import date
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from bench_throughput import NEWSFLOW, OUT, PYTHON, prefect_server, timed  # noqa: E402
from corpus import write_text_inbox  # noqa: E402

TRIVIAL_FLOW = (
    "from prefect import flow, task\n"
    "@task\n"
    "def one(x): return x + 1\n"
    "@flow\n"
    "def trivial(): return one(1)\n"
    "trivial()\n"
)


def one_file_ingest(env: dict[str, str] | None, command: list[str]) -> float:
    """Seconds of `newsflow ingest inbox` with one text file, into a fresh database."""
    inbox = OUT / "oneshot" / "inbox"
    shutil.rmtree(inbox.parent, ignore_errors=True)
    inbox.mkdir(parents=True)
    write_text_inbox(inbox, 1)
    return timed([*command, "ingest", "inbox", str(inbox), "--db", str(inbox.parent / "n.duckdb")], env)[0]


def measure(repeats: int, env: dict[str, str] | None, command: list[str]) -> tuple[list[float], list[float]]:
    """Alternating runs: (bare flow seconds, newsflow seconds)."""
    bare, ours = [], []
    timed([PYTHON, "-c", TRIVIAL_FLOW], env)  # not counted: a fresh PREFECT_HOME's database is created and migrated once
    for _ in range(repeats):
        bare.append(timed([PYTHON, "-c", TRIVIAL_FLOW], env)[0])
        ours.append(one_file_ingest(env, command))
    return bare, ours


def row(label: str, values: list[float]) -> str:
    return f"| {label} | {statistics.median(values):.2f} | {min(values):.2f} | {max(values):.2f} | {len(values)} |"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--module", default=NEWSFLOW[-1], help="the CLI module (an older checkout: flows.cli)")
    parser.add_argument("--out", type=Path, default=HERE / "results" / "oneshot.md")
    args = parser.parse_args()
    OUT.mkdir(exist_ok=True)
    os.environ.pop("PREFECT_API_URL", None)
    # Prefect's 20 s default for its temporary server's start-up fails on a busy 2-core machine; newsflow sets 120 s too.
    cold_home = {"PREFECT_HOME": str(OUT / "prefect-home-cold"), "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
                 "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "120"}
    command = [PYTHON, "-m", args.module]
    rows = []
    bare, ours = measure(args.repeats, cold_home, command)
    rows += [row("bare trivial Prefect flow (one task), cold: Prefect's temporary server", bare),
             row("`newsflow ingest inbox`, 1 file, cold", ours)]
    print("\n".join(rows), flush=True)
    with prefect_server() as env:
        bare, ours = measure(args.repeats, env, command)
    rows += [row("bare trivial Prefect flow (one task), running `prefect server start`", bare),
             row("`newsflow ingest inbox`, 1 file, running `prefect server start`", ours)]
    print("\n".join(rows[2:]), flush=True)
    args.out.write_text(
        f"# One-shot cost\n\nMachine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"{date.today()}. Whole process, wall seconds, the two commands alternating.\n\n"
        "| command | median s | min s | max s | runs |\n|---|---:|---:|---:|---:|\n" + "\n".join(rows) + "\n",
        encoding="utf-8")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
