"""`newsflow search` at 10k and 100k articles: building the side index, a query, a search after one new batch.

Articles are distinct ~N-word bodies from benchmarks/corpus.py, written straight into a .duckdb file's articles
table (the benchmark is about search, not ingest), dated over two years. Per size:
  - first search: copy every article into the side index and build the fts index (storage.search.refresh);
  - query: one warm `search()` on the open index (20 queries of two title words), p50/p95;
  - whole command path: open the side index, attach the database, check for new articles (none), query;
  - after one batch (200 new articles): the next search, which rebuilds the index;
  - baseline, same run: an unranked scan `title ILIKE '%w%' OR text ILIKE '%w%'` per word on the database.

    .venv/bin/python benchmarks/bench_search.py [--sizes 10000 100000] [--words 700]   (results/search.md)
"""
from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "benchmarks"))
from corpus import make_articles  # noqa: E402

from newsflow.storage.db import attach_read_only, connection  # noqa: E402
from newsflow.storage.search import index_path, refresh, search, side_index  # noqa: E402

T0 = datetime(2024, 1, 1, tzinfo=timezone.utc)


def fill(db: Path, articles: list[tuple[str, str]], start: int) -> None:
    """Write the articles with ids start.. into the database in one statement."""
    ids = [f"a{start + i:07d}" for i in range(len(articles))]
    dates = [T0 + timedelta(minutes=7 * (start + i)) for i in range(len(articles))]
    with connection(db) as con:
        con.execute(
            "INSERT INTO articles (article_id, title, text, published_at, first_seen_at) "
            "SELECT unnest($1), unnest($2), unnest($3), unnest($4::TIMESTAMPTZ[]), now()",
            [ids, [t for t, _ in articles], [b for _, b in articles], dates],
        )


def timed(call) -> tuple[float, object]:
    began = time.perf_counter()
    result = call()
    return time.perf_counter() - began, result


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def whole_search(db: Path, query: str) -> int:
    """What `newsflow search` does but print."""
    with side_index(db) as index:
        attach_read_only(index, db, "source")
        refresh(index, "source")
        index.execute("DETACH source")
        return len(search(index, query, limit=10))


def measure(size: int, words: int, folder: Path) -> dict[str, float]:
    db = folder / f"search_{size}.duckdb"
    corpus = make_articles(size + 200, words)
    fill(db, corpus[:size], 0)
    rng = random.Random(3)
    queries = []
    for _, body in rng.sample(corpus[:size], 20):  # two words of a stored body: every query has hits
        words = [w for w in body.split() if w.isalpha() and len(w) > 3]
        queries.append(" ".join(rng.sample(words, 2)))
    build_s, _ = timed(lambda: whole_search(db, "warm up"))
    with side_index(db) as index:
        times = []
        for q in queries:
            elapsed, hits = timed(lambda q=q: search(index, q, limit=10))
            times.append(elapsed)
    command = [timed(lambda q=q: whole_search(db, q))[0] for q in queries[:5]]
    scan = []
    with connection(db, read_only=True) as con:
        for q in queries:
            where = " OR ".join("title ILIKE ? OR text ILIKE ?" for _ in q.split())
            params = [p for w in q.split() for p in (f"%{w}%", f"%{w}%")]
            scan.append(timed(lambda: con.execute(f"SELECT article_id FROM articles WHERE {where} LIMIT 10", params).fetchall())[0])
    fill(db, corpus[size:], size)
    batch_s, _ = timed(lambda: whole_search(db, queries[0]))
    return {
        "articles": size, "build_s": build_s, "query_p50_ms": 1000 * statistics.median(times),
        "query_p95_ms": 1000 * pct(times, 0.95), "command_p50_ms": 1000 * statistics.median(command),
        "after_batch_s": batch_s, "scan_p50_ms": 1000 * statistics.median(scan),
        "index_mb": index_path(db).stat().st_size / 1e6, "db_mb": db.stat().st_size / 1e6,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--words", type=int, default=700)
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for size in args.sizes:
            row = measure(size, args.words, Path(tmp))
            print(row, flush=True)
            rows.append(row)
    header = ("| articles | first search (build) | query p50 / p95 | whole command, nothing new (p50) | search after a 200-article batch (incremental) "
              "| baseline: ILIKE scan, unranked (p50) | index file | database file |\n|---|---|---|---|---|---|---|---|")
    lines = [f"| {r['articles']:,} | {r['build_s']:.1f} s | {r['query_p50_ms']:.0f} / {r['query_p95_ms']:.0f} ms | "
             f"{r['command_p50_ms']:.0f} ms | {r['after_batch_s']:.1f} s | {r['scan_p50_ms']:.0f} ms | "
             f"{r['index_mb']:.0f} MB | {r['db_mb']:.0f} MB |" for r in rows]
    table = header + "\n" + "\n".join(lines)
    print(table)
    (REPO / "benchmarks" / "results" / "search.md").write_text(
        f"# newsflow search (benchmarks/bench_search.py, ~{args.words}-word articles, {datetime.now():%Y-%m-%d})\n\n"
        + table + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
