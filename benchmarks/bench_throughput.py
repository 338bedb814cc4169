"""Throughput: newsflow end to end against bare spaCy and bare trafilatura, whole process vs whole process.

    .venv/bin/python benchmarks/bench_throughput.py [--articles 1000] [--memory-articles 10000] [--skip-html]

Prints a table and writes benchmarks/results/throughput.md.
"""
from __future__ import annotations

import argparse
import os
import platform
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import duckdb

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from corpus import html_pages, write_html_variants, write_text_inbox  # noqa: E402
from prefect_server import prefect_server as start_prefect_server  # noqa: E402

PYTHON = sys.executable
NEWSFLOW = [PYTHON, "-m", "newsflow.flows.cli"]
OUT = HERE / "out"


def process_tree(pid: int) -> Iterator[int]:
    """A process and all its descendants (threads' children included), as they are now."""
    todo = [pid]
    while todo:
        current = todo.pop()
        yield current
        try:
            for task in Path(f"/proc/{current}/task").iterdir():
                todo.extend(int(c) for c in (task / "children").read_text().split())
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue  # it exited while we looked


def proc_files(pid: int, name: str) -> Iterator[str]:
    """/proc/<pid>/<name> of a process and each of its descendants, skipping those that exited meanwhile."""
    for current in process_tree(pid):
        try:
            yield Path(f"/proc/{current}/{name}").read_text()
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue


def tree_rss_mb(pid: int) -> int:
    """Sum of RSS over a process and all its descendants, in MB (pages shared after fork count in each)."""
    total = 0
    for status in proc_files(pid, "status"):
        total += sum(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:"))
    return total // 1024


def timed(cmd: list[str], env: dict | None = None) -> tuple[float, str, str]:
    """Run a command to completion: (wall seconds, stdout, "peak RSS MB of the process / of its process tree")."""
    import threading

    start = time.perf_counter()
    process = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env={**os.environ, "PREFECT_LOGGING_LEVEL": "WARNING", **(env or {})}, cwd=HERE.parent)
    peak, done = [0], threading.Event()

    def sample() -> None:
        while not done.wait(0.25):
            peak[0] = max(peak[0], tree_rss_mb(process.pid))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    _, status, usage = os.wait4(process.pid, 0)
    done.set()
    sampler.join()
    wall = time.perf_counter() - start
    out, err = process.stdout.read(), process.stderr.read()
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{err[-3000:]}")
    return wall, out, f"{usage.ru_maxrss // 1024} / {max(peak[0], usage.ru_maxrss // 1024)}"


def ingest(inbox: Path, db: Path, *extra: str, env: dict | None = None) -> tuple[float, int, int, str]:
    """Ingest a folder into a fresh database: (seconds, articles, words, peak RSS MB: main / tree)."""
    for suffix in ("", ".wal", ".lock"):
        Path(str(db) + suffix).unlink(missing_ok=True)
    wall, _, rss = timed([*NEWSFLOW, "ingest", "inbox", str(inbox), "--db", str(db), *extra], env)
    con = duckdb.connect(str(db), read_only=True)
    articles, words = con.execute("SELECT count(*), coalesce(sum(word_count), 0) FROM articles").fetchone()
    con.close()
    return wall, articles, words, rss


def prefect_cost(task_runs: int, server_env: dict | None) -> tuple[float, float, float]:
    """Prefect's own costs, each in a fresh process: (import, one flow run with `task_runs` no-op tasks against
    the running server beyond the import, start of the server `newsflow` starts without an API URL (flows.api.command_api) until it answers)."""
    script = (
        "from prefect import flow, task\n"
        "from prefect.cache_policies import NO_CACHE\n"
        "@task(cache_policy=NO_CACHE, persist_result=False)\n"
        "def noop(x): return x\n"
        "@flow\n"
        f"def shape():\n    [noop(i) for i in range({task_runs})]\n"
        "shape()\n"
    )
    python_only, _, _ = timed([PYTHON, "-c", "pass"])
    imports_only, _, _ = timed([PYTHON, "-c", "import prefect"])
    flow_run = timed([PYTHON, "-c", script], server_env)[0] - imports_only if server_env else float("nan")
    start = (
        "import time; t = time.perf_counter()\n"
        "from newsflow.flows.api import command_api\n"
        "with command_api(): print(time.perf_counter() - t)\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    server_start = float(subprocess.run([PYTHON, "-c", start], capture_output=True, text=True, env=env, cwd=HERE.parent,
                                        check=True).stdout.split()[-1])
    return imports_only - python_only, flow_run, server_start


def tree_cpu_s(pid: int) -> float:
    """CPU seconds used so far by a process and its descendants."""
    tick, total = os.sysconf("SC_CLK_TCK"), 0.0
    for stat in proc_files(pid, "stat"):
        fields = stat.rsplit(")", 1)[1].split()
        total += (int(fields[11]) + int(fields[12])) / tick
    return total


def wait_until_idle(pid: int, limit_s: float = 60.0) -> None:
    """Wait until the process tree uses under 5% of a core for a second: a server just started is still
    starting its services after it first answers, and a long-running one (the case measured) is idle."""
    deadline = time.monotonic() + limit_s
    before = tree_cpu_s(pid)
    while time.monotonic() < deadline:
        time.sleep(1.0)
        now = tree_cpu_s(pid)
        if now - before < 0.05:
            return
        before = now


@contextmanager
def prefect_server(port: int = 4291):
    """A real Prefect server on loopback, idle once started (its start-up must not slow the measured run)."""
    with start_prefect_server(OUT / "prefect-home", port, wait_s=120, settle=wait_until_idle) as env:
        yield env


def text_benchmark(count: int, rows: list[tuple], with_server: bool = True) -> None:
    """End-to-end text ingest vs bare spaCy nlp.pipe over the same bodies."""
    work = OUT / f"text{count}"
    shutil.rmtree(work, ignore_errors=True)
    bodies = write_text_inbox(work / "corpus", count)
    (work / "bodies").mkdir()
    for i, body in enumerate(bodies):
        (work / "bodies" / f"{i:05d}.txt").write_text(body, encoding="utf-8")
    words_in = sum(len(b.split()) for b in bodies)

    base_wall, out, base_rss = timed([PYTHON, str(HERE / "bare_spacy.py"), str(work / "bodies"), "1"])
    rows.append((f"bare spaCy nlp.pipe, 1 process ({count} bodies)", count, words_in, base_wall, base_rss, 1.0))
    both_wall, out, both_rss = timed([PYTHON, str(HERE / "bare_spacy.py"), str(work / "bodies"), "2"])
    rows.append((f"bare spaCy nlp.pipe, n_process=2 ({count} bodies)", count, words_in, both_wall, both_rss, base_wall / both_wall))
    shutil.copytree(work / "corpus", work / "inbox")
    wall, articles, words, rss = ingest(work / "inbox", work / "news.duckdb")
    rows.append((f"newsflow ingest inbox ({count} files with chrome)", articles, words, wall, rss,
                 f"{base_wall / wall:.2f} ({both_wall / wall:.2f} vs n_process=2)"))
    batches = -(-count // 200)
    server_rows = []
    if with_server:  # started only now: its background services must not slow the baselines down
        shutil.rmtree(work / "inbox")
        shutil.copytree(work / "corpus", work / "inbox")
        with prefect_server() as server_env:
            wall_s, articles, words, rss_s = ingest(work / "inbox", work / "news.duckdb", env=server_env)
            imports, flow_run, server_start = prefect_cost(7 * batches, server_env)
        server_rows.append((f"newsflow ingest inbox, Prefect server running ({count} files)", articles, words, wall_s, rss_s,
                            f"{base_wall / wall_s:.2f} ({both_wall / wall_s:.2f} vs n_process=2)"))
    else:
        imports, flow_run, server_start = prefect_cost(7 * batches, None)
    rows.append((f"  of which Prefect: import {imports:.1f} s + flow with {7 * batches} task runs {flow_run:.1f} s; "
                 f"the server it starts without an API URL takes {server_start:.1f} s", "", "",
                 imports + flow_run, "", (imports + flow_run) / wall))
    rows.extend(server_rows)


def html_benchmark(rows: list[tuple], with_server: bool = True, copies: int = 0, repeats: int = 3) -> None:
    """The HTML path with entities off vs bare trafilatura.extract over the same pages: the 181 extraction_aeb
    pages, or with `copies` > 0 those plus that many generated variants of each (corpus.write_html_variants).

    Baseline and newsflow alternate `repeats` times and each row shows the median (this machine's speed drifts
    by 5-25% within minutes; alternating gives both the same drift). The server rows have their own baselines,
    taken while that server is running.
    """
    from statistics import median

    work = OUT / f"html{copies}"
    shutil.rmtree(work, ignore_errors=True)
    if copies:
        write_html_variants(work / "pages", copies)
    else:
        (work / "pages").mkdir(parents=True)
        for page in html_pages():
            shutil.copy(page, work / "pages" / page.name)

    def alternate(env: dict | None) -> tuple[list[float], list[tuple], str, str]:
        bare, ours = [], []
        for _ in range(repeats):
            base_wall, out, base_rss = timed([PYTHON, str(HERE / "bare_trafilatura.py"), str(work / "pages")])
            bare.append(base_wall)
            shutil.rmtree(work / "inbox", ignore_errors=True)
            shutil.copytree(work / "pages", work / "inbox")
            ours.append(ingest(work / "inbox", work / "news.duckdb", "--no-entities", env=env))
        return bare, ours, out, base_rss

    def spread(xs: list[float]) -> str:
        return f"median of {len(xs)}: {min(xs):.1f}-{max(xs):.1f} s"

    def add(label: str, bare: list[float], ours: list[tuple], out: str, base_rss: str, base_label: str) -> None:
        pages, base = int(out.split()[0]), median(bare)
        wall = median(o[0] for o in ours)
        _, articles, words, rss = ours[0]
        what = f"{pages} pages" + (f": the 181 and {copies} generated variants of each" if copies else "")
        rows.append((f"bare trafilatura.extract ({what}){base_label}, {spread(bare)}", pages, int(out.split()[1]), base,
                     base_rss, 1.0))
        rows.append((f"newsflow ingest inbox, HTML, --no-entities{label} ({pages} pages), {spread([o[0] for o in ours])}",
                     articles, words, wall, rss, base / wall))

    add("", *alternate(None), "")
    if with_server:
        with prefect_server() as server_env:
            add(", Prefect server running", *alternate(server_env), ", beside the idle server")


def memory_benchmark(count: int, rows: list[tuple]) -> None:
    """Peak RSS of a large run (entities off, so it finishes in minutes): batches are streamed."""
    work = OUT / f"mem{count}"
    shutil.rmtree(work, ignore_errors=True)
    write_text_inbox(work / "inbox", count, words=700, seed=11)
    wall, articles, words, rss = ingest(work / "inbox", work / "news.duckdb", "--no-entities")
    rows.append((f"newsflow ingest inbox, {count} files, --no-entities", articles, words, wall, rss, ""))


def render(rows: list[tuple]) -> str:
    head = "| run | articles | words | seconds | articles/s | words/s | peak RSS MB, main / all processes | ratio vs baseline |\n|---|---:|---:|---:|---:|---:|---:|---:|\n"
    lines = []
    for name, articles, words, secs, rss, ratio in rows:
        per_s = f"{articles / secs:.1f}" if isinstance(articles, int) and secs else ""
        words_s = f"{words / secs:,.0f}" if isinstance(words, int) and secs else ""
        ratio_s = f"{ratio:.2f}" if isinstance(ratio, float) else ratio
        lines.append(f"| {name} | {articles} | {words if words == '' else f'{words:,}'} | {secs:.1f} | {per_s} | {words_s} | {rss} | {ratio_s} |")
    return head + "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--articles", type=int, default=1000)
    parser.add_argument("--memory-articles", type=int, default=0, help="also run a large run for peak memory (e.g. 10000)")
    parser.add_argument("--skip-html", action="store_true")
    parser.add_argument("--html-copies", type=int, default=4,
                        help="generated variants per page for the larger HTML corpus (0: only the 181 pages)")
    parser.add_argument("--no-server", action="store_true", help="skip the runs against a running Prefect server")
    parser.add_argument("--skip-text", action="store_true", help="skip the text and NER rows")
    parser.add_argument("--repeats", type=int, default=3, help="alternating runs per HTML row (the median is shown)")
    parser.add_argument("--out", type=Path, default=HERE / "results" / "throughput.md",
                        help="where the table goes (e.g. a partial run: --skip-text --html-copies 0 --repeats 7 --out x.md)")
    args = parser.parse_args()
    rows: list[tuple] = []
    if not args.skip_text:
        text_benchmark(args.articles, rows, not args.no_server)
    if not args.skip_html:
        html_benchmark(rows, not args.no_server, repeats=args.repeats)
        if args.html_copies:
            html_benchmark(rows, not args.no_server, copies=args.html_copies, repeats=args.repeats)
    if args.memory_articles:
        memory_benchmark(args.memory_articles, rows)
    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, {date.today()}"
    table = render(rows)
    note = ("Ratio: baseline seconds / newsflow seconds for the same inputs (>= 1 means newsflow is faster). "
            "Whole process vs whole process. Without PREFECT_API_URL each `newsflow ingest` starts `prefect server start` "
            "for the command (flows/api.py); the 'Prefect server running' rows are the same command with PREFECT_API_URL set, "
            "as scheduled deployments and `newsflow serve` run. newsflow runs extraction, cleaning and NER on "
            "a local Dask cluster of min(2, cores) worker processes (Cluster.workers; flows/tasks.py). Peak RSS: of the main "
            "process (wait4), and of the whole process tree sampled every 0.25 s (the local cluster's worker "
            "processes included).\n")
    text = f"# Throughput\n\nMachine: {machine}\n\n{table}\n{note}"
    print(text)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
