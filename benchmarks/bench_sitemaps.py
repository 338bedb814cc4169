"""A news site's 10,000-URL news sitemap over loopback: `.venv/bin/python benchmarks/bench_sitemaps.py [N [ROUNDS]]`.

(a) Parsing the sitemap bytes (10,000 and 50,000 URLs): newsflow's parse_sitemap (metadata, courlan filters) vs.
    the baseline, trafilatura's own sitemap reader (SitemapObject.process on the same bytes: URLs only, no dates).
(b) Polling through `ingest_feeds(sitemaps=[...])` (NER off, pages fetched from tests/feed_server.py on 127.0.0.1)
    against a Prefect server the benchmark starts (`prefect server start` on 127.0.0.1, PREFECT_API_URL): the
    first poll (entries of the last 2 days fetched, the rest marked seen), then ROUNDS rounds (5) of: the floors
    of any flow call (a bare trivial Prefect flow, an empty ingest_feeds run), a re-poll of the unchanged sitemap
    (a 304), and a re-poll of a rewritten sitemap with no new URL (read and parsed again: 10,000 seen-entry
    lookups); newsflow's own part of each re-poll (poll + plan, no Prefect flow run) timed in the same rounds.
    Baseline, same run: the same re-poll without seen entries (a fresh database), i.e. what a sitemap reader
    that does not remember URLs would fetch again.
Figures are printed and written to benchmarks/results/sitemaps.md.
"""
from __future__ import annotations

import os
import socket
import statistics
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))
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
    from newsflow.storage.db import connection
    from newsflow.storage.sources import load_sitemap_files

    settings = fetch_settings(settings_for(db), True, None)
    totals = dict.fromkeys(("entries_new", "entries_seen_before", "entries_skipped_old", "sources_backed_off"), 0)
    t = time.perf_counter()
    now = datetime.now(timezone.utc)
    with Fetcher(settings.http) as fetcher:
        states = sources_to_poll(Path(db), [], [url], now, totals)
        with connection(Path(db)) as con:
            known = load_sitemap_files(con, [s.source_url for s in states])
        polls = [poll(fetcher, s, now, settings.sources, settings.http.max_body_bytes, settings.limits.max_sitemap_bytes,
                      known.get(s.source_url)) for s in states]
        _, targets = plan_work(Path(db), polls, now, True, totals, settings.sources)
    return time.perf_counter() - t, len(targets)


def spread(values: list[float], unit: str = "s") -> str:
    """median (min-max) of a few timings."""
    scale, fmt = (1000, "{:.0f}") if unit == "ms" else (1, "{:.2f}")
    m, lo, hi = (fmt.format(v * scale) for v in (statistics.median(values), min(values), max(values)))
    return f"{m} {unit} ({lo}-{hi})"


def bench_polling(total: int, repeats: int) -> list[str]:
    from prefect import flow

    from newsflow.flows.feeds import ingest_feeds

    @flow(name="core-repoll")
    def timed_core(db: str, url: str) -> tuple[float, int]:  # a flow only for the run logger sources_to_poll uses
        return core_repoll(db, url)

    @flow(name="bare")
    def bare() -> int:
        return 1

    walls: dict[str, list[float]] = {}
    seen: dict[str, tuple] = {}
    with tempfile.TemporaryDirectory() as tmp, FeedServer(root=Path(tmp) / "site") as server:
        site = build_site(Path(tmp) / "site", server.base_url, articles=RECENT, in_feed=0, old=total - RECENT)
        path = Path(tmp) / "site" / "news-sitemap.xml"
        versions = [path.read_bytes()]
        versions.append(versions[0].replace(b"</urlset>", b"<!-- rewritten --></urlset>"))
        ingest_feeds(pages=[], db=f"{tmp}/warmup.duckdb")  # the first flow run's client set-up is not measured
        db = f"{tmp}/news.duckdb"

        def timed(label: str, call) -> None:
            t = time.perf_counter()
            out = call()
            walls.setdefault(label, []).append(time.perf_counter() - t)
            return out

        def repoll(label: str) -> None:
            before = len(server.requests)
            totals = timed(label, lambda: ingest_feeds(sitemaps=[site.sitemap], db=db, allow_private=True, entities=False))
            pages = sum(r.path.startswith("/news/") for r in server.requests[before:])
            seen[label] = (pages, totals["entries_new"], totals["entries_skipped_old"], totals["entries_seen_before"],
                           totals["articles"], totals["feeds_not_modified"])

        repoll("first poll")
        cores: dict[str, list[float]] = {"304": [], "rewritten": []}
        core_pages: dict[str, int] = {}
        # Rounds of paired measurements: the floors and the re-polls side by side, so a load swing hits them all.
        for i in range(repeats):
            timed("floor: a bare trivial Prefect flow", bare)
            timed("floor: an empty ingest_feeds run (no source, no page)", lambda: ingest_feeds(pages=[], db=db))
            repoll("re-poll, sitemap unchanged (304)")
            s, core_pages["304"] = timed_core(db, site.sitemap)
            cores["304"].append(s)
            path.write_bytes(versions[(i + 1) % 2])  # new bytes: read and parsed again, 10,000 seen-entry lookups
            s, core_pages["rewritten"] = timed_core(db, site.sitemap)  # (the core saves nothing: still changed)
            cores["rewritten"].append(s)
            repoll("re-poll, sitemap rewritten, nothing new")
        fresh_s, fresh_pages = timed_core(f"{tmp}/fresh.duckdb", site.sitemap)
        sitemap_bytes = path.stat().st_size
    rows = []
    for label, values in walls.items():
        if label in seen:
            pages, new, old, before, articles, unchanged = seen[label]
            rows.append(f"| {label} | {spread(values)} | {pages} | {new} | {old} | {before} | {articles} |")
        else:
            rows.append(f"| {label} | {spread(values)} | 0 | | | | |")
    floor = walls["floor: an empty ingest_feeds run (no source, no page)"]
    over = {label: [a - b for a, b in zip(walls[label], floor)]
            for label in ("re-poll, sitemap unchanged (304)", "re-poll, sitemap rewritten, nothing new")}
    return [
        "## (b) Polling through ingest_feeds over 127.0.0.1",
        "",
        f"A news site: {total:,} URLs in one news sitemap ({sitemap_bytes:,} bytes), {RECENT} of them from the last "
        "2 days; pages served by tests/feed_server.py; NER off; a Prefect server started by the benchmark "
        "(`prefect server start` on 127.0.0.1, PREFECT_API_URL set to it), one warm-up flow run first. "
        f"The first poll runs once; then {repeats} rounds, each: the two floors, the 304 re-poll, the cores, the "
        "rewritten re-poll. Median (min-max) of the rounds.",
        "",
        "| run | wall (flow call) | pages fetched | entries new | old entries marked seen | seen before | articles |",
        "|---|---|---|---|---|---|---|",
        *rows,
        "",
        "Re-poll minus the empty ingest_feeds run of the same round (what the sitemap adds to a flow run): "
        + "; ".join(f"{label}: {spread(values)}" for label, values in over.items()) + ".",
        "",
        "newsflow's own part of a re-poll (sources_to_poll + poll + plan_work, no Prefect flow run), and the baseline: "
        "the same poll without seen entries.",
        "",
        "| re-poll | time | pages it would fetch |",
        "|---|---|---|",
        f"| unchanged (304) | {spread(cores['304'], 'ms')} | {core_pages['304']} |",
        f"| rewritten, read and parsed again | {spread(cores['rewritten'], 'ms')} | {core_pages['rewritten']} |",
        f"| baseline: no seen entries (fresh database, first-poll window) | {fresh_s * 1000:.0f} ms | {fresh_pages} |",
    ]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main() -> None:
    from prefect_server import prefect_server

    total = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    repeats = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    load = os.getloadavg()
    parsing = bench_parsing()
    with tempfile.TemporaryDirectory() as work, prefect_server(Path(work) / "prefect-home", free_port()) as env:
        os.environ.update(env)  # before Prefect is imported: every flow run of this process reports to that server
        polling = bench_polling(total, repeats)
    after = os.getloadavg()
    text = "\n".join(["# Sitemaps benchmark", "",
                      f"Run {datetime.now().strftime('%Y-%m-%d %H:%M')} with `.venv/bin/python benchmarks/bench_sitemaps.py` "
                      f"(load average {load[0]:.1f} at the start, {after[0]:.1f} at the end, on {os.cpu_count()} cores: "
                      "the machine is shared).", ""]
                     + parsing + [""] + polling + [""])
    print(text)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
