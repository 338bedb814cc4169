"""`newsflow view`'s search at N articles: its in-memory BM25 index, built at the first search, against `newsflow search`.

The view keeps its own index in memory (storage.view_queries.memory_index) so that a search never writes the side
index file beside the database. Measured through the real app over HTTP (`newsflow view` in its own process):
  - first search page: every stored article tokenized into the in-memory index, then the query;
  - a search page once the index is current: 20 queries of two words of stored bodies, p50/p95;
  - the next search after 200 new articles land (only they are added);
  - the view process's resident memory before the first search and after the last (VmRSS, /proc);
  - baselines, same run: an article list page without a search, and `newsflow search` (its side index file) on the
    same database, first (build) and warm.

    .venv/bin/python benchmarks/bench_view.py [--size 10000] [--words 700]   (results/view.md)
"""
from __future__ import annotations

import argparse
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from datetime import datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "benchmarks"))
from bench_search import fill, pct, timed, whole_search  # noqa: E402
from corpus import make_articles  # noqa: E402

from newsflow.storage.db import connection  # noqa: E402
from newsflow.storage.db import apply_schema  # noqa: E402


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def rss_mb(pid: int) -> float:
    """Resident memory of a process, from /proc."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def get(url: str) -> float:
    """Seconds to fetch a page whole (200 expected)."""
    began = time.perf_counter()
    with urllib.request.urlopen(url, timeout=3600) as answer:
        answer.read()
        assert answer.status == 200, answer.status
    return time.perf_counter() - began


def start_view(db: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    process = subprocess.Popen([str(REPO / ".venv" / "bin" / "newsflow"), "view", "--db", str(db), "--port", str(port)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    for _ in range(600):
        try:
            get(base + "/quarantine")
            return process, base
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("newsflow view did not start")


def measure(size: int, words: int, folder: Path) -> dict[str, float]:
    db = folder / f"view_{size}.duckdb"
    with connection(db) as con:
        apply_schema(con)
    corpus = make_articles(size + 200, words)
    fill(db, corpus[:size], 0)
    rng = random.Random(5)
    queries = []
    for _, body in rng.sample(corpus[:size], 20):
        picked = [w for w in body.split() if w.isalpha() and len(w) > 3]
        queries.append(" ".join(rng.sample(picked, 2)))
    search_url = lambda base, q: f"{base}/articles?{urllib.parse.urlencode({'q': q})}"  # noqa: E731
    process, base = start_view(db)
    try:
        rss_before = rss_mb(process.pid)
        list_page = [get(base + "/articles") for _ in range(5)]
        first = get(search_url(base, queries[0]))
        warm = [get(search_url(base, q)) for q in queries]
        fill(db, corpus[size:], size)
        after_batch = get(search_url(base, queries[1]))
        rss_after = rss_mb(process.pid)
    finally:
        process.terminate()
        process.wait(timeout=30)
    command_first, _ = timed(lambda: whole_search(db, queries[0]))
    command = [timed(lambda q=q: whole_search(db, q))[0] for q in queries[:5]]
    return {
        "articles": size, "first_s": first, "warm_p50_ms": 1000 * statistics.median(warm),
        "warm_p95_ms": 1000 * pct(warm, 0.95), "after_batch_s": after_batch, "rss_before_mb": rss_before,
        "rss_after_mb": rss_after, "list_p50_ms": 1000 * statistics.median(list_page), "command_first_s": command_first,
        "command_p50_ms": 1000 * statistics.median(command),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=10_000)
    parser.add_argument("--words", type=int, default=700)
    args = parser.parse_args()
    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(dir=REPO.parent) as tmp:
        r = measure(args.size, args.words, Path(tmp))
    print(r)
    text = (
        f"# `newsflow view` search (benchmarks/bench_view.py, {datetime.now():%Y-%m-%d %H:%M} UTC)\n\n"
        f"{r['articles']:,} articles of ~{args.words} words; 2 CPUs, load average {load:.1f} at the start. Pages fetched over "
        "HTTP from the real `newsflow view` process.\n\n"
        "| | view: in-memory index | baseline: `newsflow search` (side index file) |\n|---|---|---|\n"
        f"| first search (index built) | {r['first_s']:.1f} s | {r['command_first_s']:.1f} s |\n"
        f"| search once current, p50 / p95 | {r['warm_p50_ms']:.0f} / {r['warm_p95_ms']:.0f} ms (whole page) | "
        f"{r['command_p50_ms']:.0f} ms p50 (whole command but printing) |\n"
        f"| next search after 200 new articles | {r['after_batch_s']:.2f} s | |\n"
        f"| view process memory (RSS) | {r['rss_before_mb']:.0f} MB before the first search, "
        f"{r['rss_after_mb']:.0f} MB after the last | |\n"
        f"| article list page without a search, p50 | {r['list_p50_ms']:.0f} ms | |\n\n"
        "The view's index is rebuilt at each start of `newsflow view` (it writes no file); `newsflow search` keeps its "
        "index in a file beside the database, built once and brought up to date by each search.\n"
    )
    (REPO / "benchmarks" / "results" / "view.md").write_text(text, encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
