"""`newsflow view` at N articles: each page's time, and its search (an in-memory BM25 index) against `newsflow search`.

Pages: the sample inbox ingested by the real CLI (NER on), its rows then copied under new ids and dates until the
database holds N articles (documents, mentions, removed lines with them: every entity of the samples is in N/3 or
more articles, the entity page's worst case). Each page fetched 20 times over HTTP, p50/p95; target < 300 ms.

Search:
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
import shutil
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


PAGES = ("/", "/articles", "/articles?language=en", "/articles/{article}", "/entities/{entity}", "/quarantine")


def grow(db: Path, size: int) -> None:
    """Copy the stored articles (with their documents, mentions and removed lines) under new ids until there are `size`."""
    with connection(db) as con:
        have = con.execute("SELECT count(*) FROM articles").fetchone()[0]
        copies = -(-size // have) - 1
        con.execute("CREATE TEMP TABLE k AS SELECT range AS i FROM range(1, $1 + 1)", [copies])
        con.execute("""INSERT INTO articles SELECT articles.* REPLACE (article_id || '-' || k.i AS article_id, title || ' (' || k.i || ')' AS title,
                       first_seen_at - to_minutes(7 * k.i) AS first_seen_at, published_at - to_minutes(7 * k.i) AS published_at,
                       url || '?' || k.i AS url, canonical_url || '?' || k.i AS canonical_url, story_id || '-' || k.i AS story_id)
                       FROM articles, k""")
        con.execute("""INSERT INTO documents SELECT documents.* REPLACE (document_id || '-' || k.i AS document_id, source_ref || '-' || k.i AS source_ref,
                       article_id || '-' || k.i AS article_id, received_at - to_minutes(7 * k.i) AS received_at)
                       FROM documents, k WHERE status = 'new'""")
        con.execute("INSERT INTO mentions SELECT mentions.* REPLACE (article_id || '-' || k.i AS article_id) FROM mentions, k")
        con.execute("""INSERT INTO removed_lines SELECT removed_lines.* REPLACE (document_id || '-' || k.i AS document_id,
                       article_id || '-' || k.i AS article_id) FROM removed_lines, k""")
        con.execute(f"DELETE FROM articles WHERE article_id IN (SELECT article_id FROM articles ORDER BY first_seen_at LIMIT "
                    f"(SELECT count(*) FROM articles) - {size})")
        for table in ("documents", "mentions", "removed_lines"):
            con.execute(f"DELETE FROM {table} WHERE article_id NOT IN (SELECT article_id FROM articles)")


def measure_pages(size: int, folder: Path) -> dict[str, tuple[float, float]]:
    """p50/p95 ms of each page at `size` articles."""
    inbox, db = folder / "inbox", folder / f"pages_{size}.duckdb"
    shutil.copytree(REPO / "samples" / "inbox", inbox)
    env = os.environ | {"PREFECT_LOGGING_LEVEL": "WARNING"}
    subprocess.run([str(REPO / ".venv" / "bin" / "newsflow"), "ingest", "inbox", str(inbox), "--db", str(db)], check=True,
                   env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    grow(db, size)
    with connection(db, read_only=True) as con:
        article = con.execute("SELECT article_id FROM articles ORDER BY first_seen_at DESC LIMIT 1").fetchone()[0]
        entity = con.execute("SELECT entity_id FROM mentions GROUP BY 1 ORDER BY count(*) DESC LIMIT 1").fetchone()[0]
        assert con.execute("SELECT count(*) FROM articles").fetchone()[0] == size
    process, base = start_view(db)
    times = {}
    try:
        for page in PAGES:
            url = base + page.format(article=urllib.parse.quote(article), entity=urllib.parse.quote(entity))
            get(url)  # first: Python imports and DuckDB caches warm
            spent = [get(url) for _ in range(20)]
            times[page] = (1000 * statistics.median(spent), 1000 * pct(spent, 0.95))
    finally:
        process.terminate()
        process.wait(timeout=30)
    return times


def measure(size: int, words: int, folder: Path) -> dict[str, float]:
    db = folder / f"view_{size}.duckdb"
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
        pages = measure_pages(args.size, Path(tmp))
        print(pages)
        r = measure(args.size, args.words, Path(tmp))
    print(r)
    page_rows = "\n".join(f"| `{page}` | {p50:.0f} | {p95:.0f} |" for page, (p50, p95) in pages.items())
    text = (
        f"# `newsflow view` search (benchmarks/bench_view.py, {datetime.now():%Y-%m-%d %H:%M} UTC)\n\n"
        f"{r['articles']:,} articles of ~{args.words} words; 2 CPUs, load average {load:.1f} at the start. Pages fetched over "
        "HTTP from the real `newsflow view` process.\n\n"
        "## Pages (target < 300 ms)\n\n| page | p50 ms | p95 ms |\n|---|---|---|\n" + page_rows + "\n\n"
        "The sample inbox ingested by the CLI, its rows copied to N articles; `/entities/...` is the most mentioned "
        "entity (in a third of the articles or more), `/articles/...` the newest article.\n\n## Search\n\n"
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
