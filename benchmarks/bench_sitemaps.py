"""A news site's 10,000-URL news sitemap over loopback: `.venv/bin/python benchmarks/bench_sitemaps.py [N]`.

(a) Parsing the sitemap bytes (10,000 and 50,000 URLs): newsflow's parse_sitemap (metadata, courlan filters) vs.
    the baseline, trafilatura's own sitemap reader (SitemapObject.process on the same bytes: URLs only, no dates).
(b) Polling through `ingest_feeds(sitemaps=[...])` (NER off, pages fetched from tests/feed_server.py on 127.0.0.1):
    the first poll (entries of the last 2 days fetched, the rest marked seen), a re-poll of the unchanged sitemap
    (a 304), and a re-poll of a rewritten sitemap with no new URL (read and parsed again: 10,000 seen-entry
    lookups). Each flow call's wall time is taken with Prefect's server already up (one warm-up run first), beside
    the floors of any flow call (a bare trivial Prefect flow, an empty run); the re-polls' core (poll + plan, no Prefect flow run) is timed
    separately.
    Baseline, same run: the same re-poll without seen entries (a fresh database), i.e. what a sitemap reader
    that does not remember URLs would fetch again.
Figures are printed and written to benchmarks/results/sitemaps.md.
"""
from __future__ import annotations

import os
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "ERROR")
os.environ["NEWSFLOW_PER_HOST_DELAY_S"] = "0"  # one loopback host serves everything
os.environ.setdefault("NEWSFLOW_WORKERS", "0")  # the stages in this process: the benchmark is about polling

from tests.feed_server import FeedServer  # noqa: E402
from tests.news_site import build_site, news_sitemap  # noqa: E402

RESULTS = REPO / "benchmarks" / "results" / "sitemaps.md"
RECENT = 500  # stories 5 minutes apart: 41.6 hours, inside the first poll's 2 days


def bench_parsing() -> list[str]:
    from trafilatura.sitemaps import SitemapObject

    from newsflow.extractors.sitemaps import parse_sitemap

    now = datetime.now(timezone.utc)
    lines = ["## (a) Parsing", "", "| URLs | bytes | trafilatura SitemapObject.process (URLs only) | newsflow parse_sitemap (URLs, dates, titles, language) |",
             "|---|---|---|---|"]
    for n in (10_000, 50_000):
        raw = news_sitemap([(f"https://news.example.com/news/{i}.html", now, f"Story {i}") for i in range(n)])
        t = time.perf_counter()
        base = SitemapObject("https://news.example.com", "example.com", [])
        base.current_url, base.content = "https://news.example.com/news-sitemap.xml", raw.decode()
        base.process()
        base_s = time.perf_counter() - t
        t = time.perf_counter()
        ours = parse_sitemap(raw, "https://news.example.com/news-sitemap.xml")
        ours_s = time.perf_counter() - t
        lines.append(f"| {n:,} | {len(raw):,} | {len(base.urls):,} URLs in {base_s * 1000:.0f} ms "
                     f"| {len(ours.entries):,} entries in {ours_s * 1000:.0f} ms |")
    return lines


def core_repoll(db: str, url: str) -> tuple[float, int]:
    """poll + plan of one sitemap source, as the flow does them, without a Prefect flow run: (seconds, pages)."""
    from newsflow.extractors.fetch import Fetcher
    from newsflow.extractors.settings import settings_for
    from newsflow.flows.feeds import fetch_settings, plan_work, poll
    from newsflow.flows.sources import sources_to_poll

    settings = fetch_settings(settings_for(db), True, None)
    totals = dict.fromkeys(("entries_new", "entries_seen_before", "entries_skipped_old", "sources_backed_off"), 0)
    t = time.perf_counter()
    now = datetime.now(timezone.utc)
    with Fetcher(settings.http) as fetcher:
        states = sources_to_poll(Path(db), [], [url], now, totals)
        polls = [poll(fetcher, s, now, settings.sources, settings.http.max_body_bytes) for s in states]
        _, targets = plan_work(Path(db), polls, now, True, totals, settings.sources)
    return time.perf_counter() - t, len(targets)


def bench_polling(total: int) -> list[str]:
    from prefect import flow

    from newsflow.flows.feeds import ingest_feeds

    @flow(name="core-repoll")
    def timed_core(db: str, url: str) -> tuple[float, int]:  # a flow only for the run logger sources_to_poll uses
        return core_repoll(db, url)

    rows = []
    with tempfile.TemporaryDirectory() as tmp, FeedServer(root=Path(tmp) / "site") as server:
        site = build_site(Path(tmp) / "site", server.base_url, articles=RECENT, in_feed=0, old=total - RECENT)
        sitemap_bytes = (Path(tmp) / "site" / "news-sitemap.xml").stat().st_size
        ingest_feeds(pages=[], db=f"{tmp}/warmup.duckdb")  # Prefect's temporary server starts here, not below
        db = f"{tmp}/news.duckdb"

        def run(label: str) -> None:
            before = len(server.requests)
            t = time.perf_counter()
            totals = ingest_feeds(sitemaps=[site.sitemap], db=db, allow_private=True, entities=False)
            wall = time.perf_counter() - t
            pages = sum(r.path.startswith("/news/") for r in server.requests[before:])
            rows.append(f"| {label} | {wall:.2f} s | {pages} | {totals['entries_new']} | {totals['entries_skipped_old']} "
                        f"| {totals['entries_seen_before']} | {totals['articles']} |")

        @flow(name="bare")
        def bare() -> int:
            return 1

        for label, call in (("floor: a bare trivial Prefect flow", bare),
                            ("floor: an empty ingest_feeds run (no source, no page)", lambda: ingest_feeds(pages=[], db=db))):
            t = time.perf_counter()
            call()
            rows.append(f"| {label} | {time.perf_counter() - t:.2f} s | 0 | | | | |")
        run("first poll")
        run("re-poll, sitemap unchanged (304)")
        raw = (Path(tmp) / "site" / "news-sitemap.xml").read_bytes()
        (Path(tmp) / "site" / "news-sitemap.xml").write_bytes(raw.replace(b"</urlset>", b"<!-- rewritten --></urlset>"))
        run("re-poll, sitemap rewritten, nothing new")
        core_s, core_pages = timed_core(db, site.sitemap)  # 304 again: the core of the unchanged re-poll
        (Path(tmp) / "site" / "news-sitemap.xml").write_bytes(raw)
        core_full_s, core_full_pages = timed_core(db, site.sitemap)  # bytes changed: read, parse, 10,000 lookups
        fresh_s, fresh_pages = timed_core(f"{tmp}/fresh.duckdb", site.sitemap)
    return [
        "## (b) Polling through ingest_feeds over 127.0.0.1",
        "",
        f"A news site: {total:,} URLs in one news sitemap ({sitemap_bytes:,} bytes), {RECENT} of them from the last "
        "2 days; pages served by tests/feed_server.py; NER off; Prefect's server already up.",
        "",
        "| run | wall (flow call) | pages fetched | entries new | old entries marked seen | seen before | articles |",
        "|---|---|---|---|---|---|---|",
        *rows,
        "",
        "Core of a re-poll (poll + plan, no Prefect flow run), and the baseline: the same poll without seen entries.",
        "",
        "| re-poll | time | pages it would fetch |",
        "|---|---|---|",
        f"| unchanged (304) | {core_s * 1000:.0f} ms | {core_pages} |",
        f"| rewritten, read and parsed again | {core_full_s * 1000:.0f} ms | {core_full_pages} |",
        f"| baseline: no seen entries (fresh database, first-poll window) | {fresh_s * 1000:.0f} ms | {fresh_pages} |",
    ]


def main() -> None:
    total = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    load = os.getloadavg()[0]
    lines = bench_parsing() + [""] + bench_polling(total)
    text = "\n".join(["# Sitemaps benchmark", "",
                      f"Run {datetime.now().strftime('%Y-%m-%d %H:%M')} with `.venv/bin/python benchmarks/bench_sitemaps.py` "
                      f"(load average {load:.1f} on {os.cpu_count()} cores at the start: the machine is shared).", ""]
                     + lines + [""])
    print(text)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
