"""Sitemaps as sources of the feeds flow, end to end under Prefect's test harness, against real servers on 127.0.0.1."""
from __future__ import annotations

import gzip
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from newsflow.flows.feeds import ingest_feeds
from tests.dbrows import rows
from tests.feed_server import FeedServer, Step
from tests.news_site import build_site, news_sitemap

FAST = {"allow_private": True, "entities": False}
BENCH_SITEMAPS = Path(__file__).resolve().parents[2] / "shared" / "benchdata" / "sitemaps"


@pytest.fixture
def quick(monkeypatch):
    # One local host serves every page: politeness delays would only slow the tests down; a few hundred pages
    # run in this process rather than on a local Dask cluster.
    monkeypatch.setenv("NEWSFLOW_PER_HOST_DELAY_S", "0")
    monkeypatch.setenv("NEWSFLOW_WORKERS", "0")


def urlset(urls: list[str], lastmod: datetime | None = None) -> bytes:
    mod = f"<lastmod>{lastmod.isoformat(timespec='seconds')}</lastmod>" if lastmod else ""
    items = "".join(f"<url><loc>{u}</loc>{mod}</url>" for u in urls)
    return f'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{items}</urlset>'.encode()


def index(urls: list[str]) -> bytes:
    items = "".join(f"<sitemap><loc><![CDATA[{u}]]></loc></sitemap>" for u in urls)
    return (f'<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{items}'
            "</sitemapindex>").encode()


def test_the_benchdata_sitemaps_served_locally_are_read_and_their_other_sites_pages_left_out(prefect_harness, quick,
                                                                                                tmp_path):
    db = tmp_path / "news.duckdb"
    with FeedServer(root=BENCH_SITEMAPS) as server:
        names = ["sitemap.xml", "sitemap.xml.gz", "sitemap2.xml", "sitemap-hreflang.xml"]
        totals = ingest_feeds(sitemaps=[server.url(f"/{n}") for n in names], db=str(db), **FAST)
        # Their pages are on www.sitemaps.org and www.example.com, not on this server: none is fetched.
        assert sorted(server.paths()) == sorted(f"/{n}" for n in names)
        assert (totals["sitemaps"], totals["sitemap_files"], totals["pages_fetched"], totals["feeds_failed"]) == (4, 4, 0, 0)
        polled = {r[0].rsplit("/", 1)[1]: r[1:] for r in rows(
            db, "SELECT p.source_url, s.kind, p.entries, p.dropped FROM source_polls p JOIN sources s USING (source_url)")}
        assert polled == {"sitemap.xml": ("sitemap", 0, '{"offsite": 84}'), "sitemap.xml.gz": ("sitemap", 0, '{"offsite": 84}'),
                          "sitemap2.xml": ("sitemap_index", 0, '{"offsite": 2}'),
                          "sitemap-hreflang.xml": ("sitemap", 0, '{"offsite": 3}')}


def test_a_site_whose_feed_lists_20_of_200_new_articles_lands_all_200_through_its_news_sitemap(
        prefect_harness, quick, tmp_path):
    db = tmp_path / "news.duckdb"
    with FeedServer(root=tmp_path / "site") as server:
        now = datetime.now(timezone.utc)
        site = build_site(tmp_path / "site", server.base_url, articles=210, in_feed=20, old=50, now=now, listed_from=10)
        listing = tmp_path / "feeds.txt"
        listing.write_text(f"{site.feed}\n{site.sitemap}\n")  # a sitemap in the feeds list is read as one
        totals = ingest_feeds([str(listing)], db=str(db), **FAST)
        assert (totals["feeds"], totals["sitemaps"]) == (1, 1)
        assert totals["articles"] == 200
        assert totals["entries_skipped_old"] == 50  # weeks old on the first poll: the archive, not the news
        assert totals["pages_fetched"] == 200  # the feed's 20 are not fetched twice for the sitemap
        fetched = [p for p in server.paths() if p.startswith("/news/")]
        assert len(fetched) == len(set(fetched)) == 200
        assert rows(db, "SELECT count(*) FROM documents WHERE source_kind = 'sitemap'")[0][0] == 180
        # The news sitemap's publication date and language land on the article.
        newest = site.pages[10]
        landed = rows(db, "SELECT published_at, language FROM articles WHERE url = ?", [newest])
        assert landed[0][1] == "en"
        sitemap_text = (tmp_path / "site" / "news-sitemap.xml").read_text()
        written = sitemap_text.split(f"<loc>{newest}</loc>")[1].split("<news:publication_date>")[1].split("<")[0]
        assert landed[0][0] == datetime.fromisoformat(written)
        health = rows(db, "SELECT source_url, source_type, kind, status, last_new_entry_at IS NOT NULL FROM source_health "
                          "ORDER BY source_url")
        assert health == [(site.feed, "feed", "rss", "active", True), (site.sitemap, "sitemap", "news_sitemap", "active", True)]

        before = len(server.requests)
        again = ingest_feeds([str(listing)], db=str(db), **FAST)
        assert (again["pages_fetched"], again["documents"], again["feeds_not_modified"]) == (0, 0, 2)
        assert sorted(r.path for r in server.requests[before:]) == ["/feed.xml", "/news-sitemap.xml"]

        # Ten more stories, in the sitemap and the feed: the next poll fetches those ten, once each, and nothing else.
        build_site(tmp_path / "site", server.base_url, articles=210, in_feed=20, old=50, now=now, page_files=False)
        before = len(server.requests)
        more = ingest_feeds([str(listing)], db=str(db), **FAST)
        fetched = sorted(r.path for r in server.requests[before:] if r.path.startswith("/news/"))
        assert fetched == sorted(p.split(server.base_url, 1)[1] for p in site.pages[:10])
        assert (more["pages_fetched"], more["articles"], more["entries_skipped_old"]) == (10, 10, 0)
        assert rows(db, "SELECT count(*) FROM source_polls")[0][0] == 6


def test_an_index_that_loops_back_is_read_once_gzip_included_and_depth_is_limited(prefect_harness, quick, tmp_path):
    db = tmp_path / "news.duckdb"
    with FeedServer(root=tmp_path / "site") as server:
        site = build_site(tmp_path / "site", server.base_url, articles=6, in_feed=0)
        recent = datetime.now(timezone.utc) - timedelta(hours=1)
        server.script("/pages.xml.gz", Step(body=gzip.compress(urlset(site.pages[:3], recent)),
                                            content_type="application/x-gzip"))
        server.script("/more.xml", Step(body=urlset(site.pages[3:5], recent), content_type="application/xml"))
        server.script("/deep1.xml", Step(body=index([server.url("/deep2.xml")]), content_type="application/xml"))
        server.script("/deep2.xml", Step(body=index([server.url("/deep3.xml")]), content_type="application/xml"))
        server.script("/deep3.xml", Step(body=urlset(site.pages[5:], recent), content_type="application/xml"))
        top = server.script("/index.xml", Step(body=index(
            [server.url("/index.xml"), server.url("/pages.xml.gz"), server.url("/child-index.xml"), server.url("/deep1.xml"),
             server.url("/private/hidden.xml")]),
            content_type="application/xml"))
        server.script("/child-index.xml", Step(body=index([top, server.url("/more.xml")]), content_type="application/xml"))
        totals = ingest_feeds(sitemaps=[top], db=str(db), **FAST)
        sitemap_paths = [p for p in server.paths() if not p.startswith("/news/") and p != "/robots.txt"]
        assert sorted(sitemap_paths) == sorted(["/index.xml", "/pages.xml.gz", "/child-index.xml", "/more.xml",
                                                "/deep1.xml", "/deep2.xml"])  # each once; deep3 is below the limit
        assert totals["sitemap_files"] == 7  # and /private/hidden.xml, which robots.txt disallows: never requested
        assert totals["articles"] == 5
        kind, errors, error = rows(db, "SELECT kind, consecutive_errors, last_error FROM sources")[0]
        assert (kind, errors) == ("sitemap_index", 0)
        assert error == f"sitemap_problem: {server.url('/private/hidden.xml')}: fetch_robots_disallowed"
        dropped = rows(db, "SELECT dropped FROM source_polls")[0][0]
        assert dropped == '{"sitemap_seen_twice": 2, "sitemap_too_deep": 1}'  # index.xml listed by itself and its child

        # An index is read again in full at every poll (its sitemaps change while it does not): a page added to
        # one of them is found.
        server.script("/more.xml", Step(body=urlset(site.pages[3:6], recent), content_type="application/xml"))
        before = len(server.requests)
        again = ingest_feeds(sitemaps=[top], db=str(db), **FAST)
        index_request = next(r for r in server.requests[before:] if r.path == "/index.xml")
        assert "if-none-match" not in index_request.headers
        assert (again["entries_new"], again["pages_fetched"], again["articles"]) == (1, 1, 1)


def test_a_sitemap_on_a_private_address_or_sending_pages_there_is_refused(prefect_harness, quick, tmp_path):
    db = tmp_path / "news.duckdb"
    with FeedServer(root=tmp_path / "site") as server, FeedServer(host="127.0.0.2") as inside:
        site = build_site(tmp_path / "site", server.base_url, articles=2, in_feed=0)
        totals = ingest_feeds(sitemaps=[site.sitemap], db=str(db), entities=False)  # loopback not allowed
        assert server.requests == [] and totals["feeds_failed"] == 1
        assert rows(db, "SELECT last_error FROM sources")[0][0].startswith("fetch_private_address")

        server.script("/go", Step(status=302, headers={"Location": inside.url("/admin")}))
        now = datetime.now(timezone.utc)
        listed = server.script("/s.xml", Step(body=news_sitemap([(server.url("/go"), now, "Go"),
                                                                 (inside.url("/x"), now, "Elsewhere")]),
                                              content_type="application/xml"))
        totals = ingest_feeds(sitemaps=[listed], db=str(db), entities=False, allow_networks=["127.0.0.1/32"])
        assert inside.requests == []  # the redirect is refused unrequested; the other host's page is not even listed
        assert totals["pages_fetched"] == 1
        assert rows(db, "SELECT error FROM documents WHERE source_kind = 'sitemap'") == [("fetch_private_address",)]


def test_a_50000_url_sitemap_first_poll_takes_only_recent_entries_and_the_re_poll_none(prefect_harness, quick, tmp_path):
    db = tmp_path / "news.duckdb"
    (tmp_path / "site").mkdir()
    with FeedServer(root=tmp_path / "site") as server:
        urls = [server.url(f"/archive/{i}.html") for i in range(50_000)]
        (tmp_path / "site" / "big.xml").write_bytes(urlset(urls))  # undated: none is known to be new
        totals = ingest_feeds(sitemaps=[server.url("/big.xml")], db=str(db), **FAST)
        assert (totals["entries_skipped_old"], totals["pages_fetched"], totals["documents"]) == (50_000, 0, 0)
        assert rows(db, "SELECT count(*) FROM seen_entries")[0][0] == 50_000
        (tmp_path / "site" / "big.xml").write_bytes(urlset(urls[::-1]))  # changed bytes: read again, nothing new
        again = ingest_feeds(sitemaps=[server.url("/big.xml")], db=str(db), **FAST)
        assert (again["entries_seen_before"], again["entries_new"], again["pages_fetched"]) == (50_000, 0, 0)


def test_a_failing_sitemap_backs_off_instead_of_being_polled_every_run(prefect_harness, quick, tmp_path, monkeypatch):
    monkeypatch.setenv("NEWSFLOW_RETRIES", "0")
    db = tmp_path / "news.duckdb"
    with FeedServer() as server:
        url = server.script("/gone.xml", Step(status=500))
        for _ in range(3):
            ingest_feeds(sitemaps=[url], db=str(db), **FAST)
        assert server.paths().count("/gone.xml") == 3
        state = rows(db, "SELECT consecutive_errors, status, next_poll_at > now() FROM sources")[0]
        assert state == (3, "failing", True)
        skipped = ingest_feeds(sitemaps=[url], db=str(db), **FAST)
        assert skipped["sources_backed_off"] == 1 and server.paths().count("/gone.xml") == 3
        assert rows(db, "SELECT count(*), count(*) FILTER (WHERE NOT ok) FROM source_polls")[0] == (3, 3)


def test_a_page_that_failed_transiently_is_fetched_on_the_next_poll_though_the_sitemap_is_unchanged(
        prefect_harness, quick, tmp_path, monkeypatch):
    monkeypatch.setenv("NEWSFLOW_RETRIES", "0")
    db = tmp_path / "news.duckdb"
    with FeedServer(root=tmp_path / "site") as server:
        site = build_site(tmp_path / "site", server.base_url, articles=2, in_feed=0)
        busy = site.pages[0].split(server.base_url, 1)[1]
        server.script(busy, Step(status=503), Step(body=(tmp_path / "site" / busy.lstrip("/")).read_bytes()))
        first = ingest_feeds(sitemaps=[site.sitemap], db=str(db), **FAST)
        assert (first["articles"], first["rejected"]) == (1, 1)
        assert rows(db, "SELECT etag FROM sources") == [(None,)]  # so the next poll reads the sitemap again
        second = ingest_feeds(sitemaps=[site.sitemap], db=str(db), **FAST)
        assert (second["feeds_not_modified"], second["entries_new"], second["articles"]) == (0, 1, 1)
        assert rows(db, "SELECT etag IS NOT NULL FROM sources") == [(True,)]
        third = ingest_feeds(sitemaps=[site.sitemap], db=str(db), **FAST)
        assert (third["feeds_not_modified"], third["pages_fetched"]) == (1, 0)


def dated_index(children: list[tuple[str, datetime | None]]) -> bytes:
    items = "".join(f"<sitemap><loc>{u}</loc>" + (f"<lastmod>{d.isoformat(timespec='seconds')}</lastmod>" if d else "")
                    + "</sitemap>" for u, d in children)
    return (f'<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{items}'
            "</sitemapindex>").encode()


def test_a_re_poll_of_an_index_skips_sitemaps_whose_lastmod_is_unchanged_and_asks_the_others_conditionally(
        prefect_harness, quick, tmp_path):
    db = tmp_path / "news.duckdb"
    root = tmp_path / "site"
    with FeedServer(root=root) as server:
        site = build_site(root, server.base_url, articles=6, in_feed=0)
        recent = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(hours=1)
        (root / "dated.xml").write_bytes(urlset(site.pages[:3], recent))
        (root / "undated.xml").write_bytes(urlset(site.pages[3:5], recent))
        dated, undated = server.url("/dated.xml"), server.url("/undated.xml")
        (root / "index.xml").write_bytes(dated_index([(dated, recent), (undated, None)]))
        top = server.url("/index.xml")

        def sitemap_replies(since: int) -> list[tuple[str, int]]:
            return [(path, status) for path, status, _ in server.replies[since:] if path.endswith(".xml")]

        first = ingest_feeds(sitemaps=[top], db=str(db), **FAST)
        assert (first["sitemap_files"], first["articles"]) == (3, 5)
        assert sitemap_replies(0) == [("/index.xml", 200), ("/dated.xml", 200), ("/undated.xml", 200)]
        stored = rows(db, "SELECT file_url, etag IS NOT NULL, last_modified IS NOT NULL, lastmod FROM sitemap_files "
                          "ORDER BY file_url")
        assert stored == [(dated, True, True, recent), (undated, True, True, None)]

        # Nothing changed: the index is read (its sitemaps change while it does not), the dated sitemap is not asked
        # at all and the undated one answers 304; no sitemap body but the index's is sent.
        before = len(server.replies)
        again = ingest_feeds(sitemaps=[top], db=str(db), **FAST)
        assert sitemap_replies(before) == [("/index.xml", 200), ("/undated.xml", 304)]
        assert [size for path, status, size in server.replies[before:] if path == "/undated.xml"] == [0]
        assert (again["entries_new"], again["pages_fetched"], again["feeds_failed"]) == (0, 0, 0)
        assert rows(db, "SELECT dropped FROM source_polls ORDER BY polled_at DESC LIMIT 1")[0][0] == \
            '{"sitemap_lastmod_unchanged": 1, "sitemap_not_modified": 1}'

        # A story added to the dated sitemap, whose lastmod moves on in the index: only that sitemap is read again.
        later = recent + timedelta(minutes=30)
        (root / "dated.xml").write_bytes(urlset(site.pages[:3] + site.pages[5:], later))
        (root / "index.xml").write_bytes(dated_index([(dated, later), (undated, None)]))
        before = len(server.replies)
        third = ingest_feeds(sitemaps=[top], db=str(db), **FAST)
        assert sitemap_replies(before) == [("/index.xml", 200), ("/dated.xml", 200), ("/undated.xml", 304)]
        assert (third["entries_new"], third["pages_fetched"], third["articles"]) == (1, 1, 1)
        assert rows(db, "SELECT lastmod FROM sitemap_files WHERE file_url = ?", [dated]) == [(later,)]


def full_news_sitemap(entries: list[tuple[str, datetime, str]]) -> bytes:
    """A news sitemap with every tag the format has (lastmod, publication, genres, keywords, an image)."""
    items = "".join(
        f"<url><loc>{u}</loc><lastmod>{d.isoformat(timespec='seconds')}</lastmod><news:news><news:publication>"
        f"<news:name>Example Daily News</news:name><news:language>en</news:language></news:publication>"
        f"<news:genres>PressRelease, Blog</news:genres><news:publication_date>{d.isoformat(timespec='seconds')}"
        f"</news:publication_date><news:title>{t}</news:title><news:keywords>business, merger, acquisition, markets"
        f"</news:keywords></news:news><image:image><image:loc>{u}.jpg</image:loc></image:image></url>\n"
        for u, d, t in entries)
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
            'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9" '
            f'xmlns:image="http://www.google.com/schemas/sitemap-image/1.1">\n{items}</urlset>\n').encode()


def test_a_legal_50000_url_news_sitemap_over_the_page_limit_lands_and_one_over_the_sitemap_limit_is_an_error(
        prefect_harness, quick, tmp_path, monkeypatch):
    db = tmp_path / "news.duckdb"
    root = tmp_path / "site"
    with FeedServer(root=root) as server:
        now = datetime.now(timezone.utc).replace(microsecond=0)
        site = build_site(root, server.base_url, articles=5, in_feed=0, now=now)
        old = now - timedelta(days=10)
        entries = [(u, now - timedelta(minutes=5 * i), f"Story {i}") for i, u in enumerate(site.pages)]
        entries += [(server.url(f"/archive/2026/story-number-{i}.html"), old,
                     f"An archived story of the business pages, number {i}") for i in range(50_000 - len(entries))]
        big = full_news_sitemap(entries)
        assert 10_000_000 < len(big) < 50_000_000  # over the fetch limit of a page or a feed, within the protocol's
        (root / "big.xml").write_bytes(big)
        totals = ingest_feeds(sitemaps=[server.url("/big.xml")], db=str(db), **FAST)
        assert (totals["entries_new"], totals["entries_skipped_old"], totals["pages_fetched"]) == (5, 49_995, 5)
        assert totals["articles"] == 5 and totals["feeds_failed"] == 0
        assert rows(db, "SELECT kind, last_error FROM sources") == [("news_sitemap", None)]

        # Under a lower limit, the same file is a recorded error; the index's other sitemap and the other source
        # are read all the same.
        monkeypatch.setenv("NEWSFLOW_MAX_SITEMAP_BYTES", "5000000")
        recent = now - timedelta(hours=1)
        more = build_site(root / "more", server.url("/more"), articles=2, in_feed=0, now=now, seed=11)
        (root / "small.xml").write_bytes(urlset(more.pages, recent))
        (root / "index.xml").write_bytes(dated_index([(server.url("/big.xml"), recent), (server.url("/small.xml"), recent)]))
        other_db = tmp_path / "other.duckdb"
        totals = ingest_feeds(sitemaps=[server.url("/index.xml"), server.url("/big.xml")], db=str(other_db), **FAST)
        assert (totals["sitemaps"], totals["feeds_failed"], totals["articles"]) == (2, 1, 2)
        too_large = "sitemap_too_large: over 5000000 bytes (NEWSFLOW_MAX_SITEMAP_BYTES)"
        assert dict(rows(other_db, "SELECT source_url, last_error FROM sources")) == {
            server.url("/index.xml"): f"sitemap_problem: {server.url('/big.xml')}: {too_large}",
            server.url("/big.xml"): too_large}
        assert rows(other_db, "SELECT file_url FROM sitemap_files") == [(server.url("/small.xml"),)]  # big: asked again
