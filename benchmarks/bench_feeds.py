"""Feeds and pages over loopback: `.venv/bin/python benchmarks/bench_feeds.py`.

(a) Parsing, every feed in ../shared/benchdata/feeds/realworld (RSS, Atom, RDF, JSON Feed):
    how many parse (a kind and at least one entry) and how many entries, and agreement with the
    expected parses in realworld/expected (feed title, entry count, entry title/link/published).
    Baseline, same run: bare `feedparser.parse(bytes)` (feedparser 6 has no JSON Feed support).
(b) HTTP over 127.0.0.1 (tests/feed_server.py): all feeds fetched by the newsflow Fetcher
    (safety checks, pinned address, size/time caps, 8 workers) vs. a bare httpx.Client loop;
    then the conditional re-poll (ETag) that should cost one 304 per feed.
(c) Landing: `ingest_feeds` over all realworld feeds served locally (fetch_pages=False: their
    links point at the real web, which this benchmark must not touch; NER off), then a second
    run that must add nothing; and `ingest_feeds(pages=...)` over the 181 extraction_aeb pages.
Figures are printed and written to benchmarks/results/feeds.md.
"""
from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from collections import Counter
from datetime import datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "ERROR")
os.environ["NEWSFLOW_PER_HOST_DELAY_S"] = "0"  # one loopback host serves everything

from newsflow.extractors.feeds import parse_feed  # noqa: E402
from newsflow.extractors.fetch import Fetcher  # noqa: E402
from newsflow.extractors.settings import Http  # noqa: E402
from tests.feed_server import FeedServer  # noqa: E402

SHARED = REPO.parent / "shared"
BENCH = SHARED / "benchdata"
REALWORLD = BENCH / "feeds" / "realworld"
RESULTS = REPO / "benchmarks" / "results" / "feeds.md"
FEEDS = sorted(p for p in REALWORLD.iterdir() if p.is_file() and p.suffix in {".xml", ".rss", ".atom", ".rdf", ".json"})
PAGES = sorted((BENCH / "extraction_aeb" / "html").glob("*.html"))


def bench_parsing() -> tuple[list[str], dict]:
    import feedparser

    base_ok = base_entries = ours_ok = ours_entries = 0
    base_s = ours_s = 0.0
    kinds: Counter = Counter()
    failures = []
    for path in FEEDS:
        raw = path.read_bytes()
        t = time.perf_counter()
        d = feedparser.parse(raw)
        base_s += time.perf_counter() - t
        if d.get("version") and d.entries:
            base_ok += 1
            base_entries += len(d.entries)
        t = time.perf_counter()
        feed = parse_feed(raw)
        ours_s += time.perf_counter() - t
        if feed.kind and feed.entries:
            ours_ok += 1
            ours_entries += len(feed.entries)
            kinds[feed.kind] += 1
        else:
            failures.append(path.name)
    agree = {"baseline": Counter(), "newsflow": Counter()}
    for expected in sorted((REALWORLD / "expected").glob("*.json")):
        gold = json.loads(expected.read_text(encoding="utf-8"))
        stem = expected.name.removesuffix(".json").removesuffix(".expected")
        raw = next(p for p in FEEDS if p.stem == stem).read_bytes()
        d = feedparser.parse(raw)
        base = [(e.get("title"), e.get("link"), _iso(e.get("published_parsed") or e.get("updated_parsed"))) for e in d.entries]
        ours = [(e.title, e.url, e.published_at) for e in parse_feed(raw).entries]
        want = [(e.get("title"), e.get("link"), datetime.fromisoformat(e["published"]) if e.get("published") else None)
                for e in gold["entries"]]
        for name, got, title in (("baseline", base, d.feed.get("title")), ("newsflow", ours, parse_feed(raw).title)):
            agree[name]["feeds"] += 1
            agree[name]["title"] += title == gold["feed"]["title"]
            agree[name]["count"] += len(got) == len(want)
            agree[name]["entries"] += len(want)
            agree[name]["entries_ok"] += sum(g == w for g, w in zip(got, want))
    lines = [
        "## (a) Parsing the realworld feeds",
        "",
        f"{len(FEEDS)} feed files (RSS/Atom/RDF/JSON). Kinds found by newsflow: "
        + ", ".join(f"{k} {n}" for k, n in sorted(kinds.items())) + ".",
        "",
        "| system | feeds parsed | entries | parse time, all files |",
        "|---|---|---|---|",
        f"| baseline feedparser.parse | {base_ok}/{len(FEEDS)} | {base_entries} | {base_s * 1000:.0f} ms |",
        f"| newsflow parse_feed | {ours_ok}/{len(FEEDS)} | {ours_entries} | {ours_s * 1000:.0f} ms |",
        "",
        f"Not parsed by newsflow: {', '.join(failures) or 'none'}.",
        "",
        "Agreement with realworld/expected (feed title, entry count, entries whose title+link+published all match):",
        "",
        "| system | feed titles | entry counts | entries matching |",
        "|---|---|---|---|",
    ]
    for name, c in agree.items():
        lines.append(f"| {name} | {c['title']}/{c['feeds']} | {c['count']}/{c['feeds']} | {c['entries_ok']}/{c['entries']} |")
    return lines, {"feeds_ok": ours_ok, "entries": ours_entries}


def _iso(struct):
    from datetime import timezone

    return datetime(*struct[:6], tzinfo=timezone.utc) if struct else None


def bench_http(server: FeedServer) -> list[str]:
    import httpx

    urls = [server.url(f"/feeds/realworld/{p.name}") for p in FEEDS]
    t = time.perf_counter()
    with httpx.Client() as client:
        plain = [client.get(u) for u in urls]
    plain_s = time.perf_counter() - t
    http = Http(allow_private=True, per_host_delay_s=0.0, per_host_concurrency=8)
    with Fetcher(http) as fetcher:
        t = time.perf_counter()
        sequential = [fetcher.get(u) for u in urls]
        sequential_s = time.perf_counter() - t
    with Fetcher(http) as fetcher:
        t = time.perf_counter()
        first = fetcher.get_many(urls, workers=8)
        ours_s = time.perf_counter() - t
        t = time.perf_counter()
        again = [fetcher.get(u, etag=r.headers.get("etag"), robots=False) for u, r in zip(urls, first)]
        repoll_s = time.perf_counter() - t
    size = sum(len(r.content) for r in plain)
    assert [r.content for r in first] == [r.content for r in plain] == [r.content for r in sequential]
    return [
        "## (b) HTTP over 127.0.0.1",
        "",
        f"{len(urls)} feeds, {size / 1e6:.1f} MB in all.",
        "",
        "| client | requests | time | feeds/s |",
        "|---|---|---|---|",
        f"| baseline bare httpx.Client loop | {len(urls)} | {plain_s * 1000:.0f} ms | {len(urls) / plain_s:.0f} |",
        f"| newsflow Fetcher.get, one after another (checks on) | {len(urls)} + 1 robots.txt | {sequential_s * 1000:.0f} ms | {len(urls) / sequential_s:.0f} |",
        f"| newsflow Fetcher.get_many (8 workers, checks on) | {len(urls)} + 1 robots.txt | {ours_s * 1000:.0f} ms | {len(urls) / ours_s:.0f} |",
        f"| newsflow conditional re-poll (If-None-Match) | {sum(r.status == 304 for r in again)} x 304 | {repoll_s * 1000:.0f} ms | {len(urls) / repoll_s:.0f} |",
    ]


def bench_landing(server: FeedServer) -> list[str]:
    import duckdb

    from newsflow.flows.feeds import ingest_feeds

    urls = [server.url(f"/feeds/realworld/{p.name}") for p in FEEDS]
    with tempfile.TemporaryDirectory() as tmp:
        db = str(Path(tmp) / "bench.duckdb")
        t = time.perf_counter()
        first = ingest_feeds(urls, db=db, allow_private=True, entities=False, fetch_pages=False)
        first_s = time.perf_counter() - t
        t = time.perf_counter()
        second = ingest_feeds(urls, db=db, allow_private=True, entities=False, fetch_pages=False)
        second_s = time.perf_counter() - t
        con = duckdb.connect(db, read_only=True)
        reasons = con.execute(
            "SELECT coalesce(error, status), count(*) FROM documents GROUP BY 1 ORDER BY 2 DESC").fetchall()
        landed = {r[0] for r in con.execute(
            "SELECT DISTINCT split_part(source_ref, '#', 1) FROM documents WHERE status = 'new'").fetchall()}
        feeds_landing = len(landed)
        not_landed = sorted(u.rsplit("/", 1)[1] for u in urls if u not in landed)
        con.close()
        page_db = str(Path(tmp) / "pages.duckdb")
        page_urls = [server.url(f"/extraction_aeb/html/{p.name}") for p in PAGES]
        t = time.perf_counter()
        pages = ingest_feeds(pages=page_urls, db=page_db, allow_private=True, entities=False)
        pages_s = time.perf_counter() - t
    return [
        "## (c) Landing through the pipeline (ingest_feeds: feeds, and pages, NER off)",
        "",
        "| run | feeds | new entries | documents | new articles | duplicates | rejected | time |",
        "|---|---|---|---|---|---|---|---|",
        f"| feeds, first poll | {first['feeds']} | {first['entries_new']} | {first['documents']} | {first['articles']} "
        f"| {first['duplicates']} | {first['rejected']} | {first_s:.1f} s |",
        f"| feeds, second poll | {second['feeds']} ({second['feeds_not_modified']} x 304) | {second['entries_new']} "
        f"| {second['documents']} | {second['articles']} | {second['duplicates']} | {second['rejected']} | {second_s:.1f} s |",
        f"| urls: extraction_aeb pages | - | - | {pages['documents']} | {pages['articles']} | {pages['duplicates']} "
        f"| {pages['rejected']} | {pages_s:.1f} s ({len(page_urls) / pages_s:.1f} pages/s) |",
        "",
        f"Feeds with at least one new article: {feeds_landing}/{len(FEEDS)}; none from {', '.join(not_landed)} "
        "(only teasers or empty items, whose pages this benchmark does not fetch, or copies of another feed).",
        "Documents of the first feeds poll by outcome: " + ", ".join(f"{r} {n}" for r, n in reasons) + ".",
    ]


def main() -> None:
    parse_lines, _ = bench_parsing()
    with FeedServer(root=BENCH) as server:
        http_lines = bench_http(server)
        landing_lines = bench_landing(server)
    text = "\n".join(
        ["# Feeds benchmark", "", f"Run {datetime.now().strftime('%Y-%m-%d %H:%M')} with `.venv/bin/python benchmarks/bench_feeds.py`.", ""]
        + parse_lines + [""] + http_lines + [""] + landing_lines + [""]
    )
    print(text)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
