"""The feeds and urls flows end to end under Prefect's test harness, against a real server on 127.0.0.1."""
from __future__ import annotations

import html
import json
from pathlib import Path

import pytest

from newsflow.extractors.fetch import is_transient
from newsflow.flows.feeds import ingest_feeds
from tests.dbrows import rows
from tests.feed_server import FeedServer, Step

SHARED = Path(__file__).resolve().parents[2] / "shared"
BENCH = SHARED / "benchdata"
PAGES = sorted((BENCH / "extraction_aeb" / "html").glob("*.html"))
MANIFEST = {json.loads(line)["id"]: json.loads(line)["url"]
            for line in (BENCH / "extraction_aeb" / "manifest.jsonl").read_text().splitlines() if line.strip()}
FAST = {"allow_private": True, "entities": False}


@pytest.fixture
def server(monkeypatch):
    # One local host serves every page: politeness delays would only slow the tests down.
    monkeypatch.setenv("NEWSFLOW_PER_HOST_DELAY_S", "0")
    with FeedServer(root=BENCH) as s:
        yield s


def teaser_feed(items: list[tuple[str, str]]) -> bytes:
    """An RSS 2.0 feed of one-line teasers linking to the given (title, url) pages."""
    body = "".join(
        f"<item><title>{html.escape(t)}</title><link>{html.escape(u)}</link><guid>{html.escape(u)}</guid>"
        f"<description>A short teaser for {html.escape(t)}.</description>"
        f"<pubDate>Mon, 23 Nov 2026 10:0{i}:00 GMT</pubDate></item>"
        for i, (t, u) in enumerate(items)
    )
    return (f'<?xml version="1.0"?><rss version="2.0"><channel><title>Local news</title>'
            f"<link>http://127.0.0.1/</link>{body}</channel></rss>").encode()


def test_full_content_feed_lands_then_a_second_poll_costs_one_304(prefect_harness, server, tmp_path):
    db = tmp_path / "news.duckdb"
    url = server.url("/feeds/realworld/russcox.atom")
    totals = ingest_feeds([url], db=str(db), **FAST)
    assert totals["documents"] == 19
    assert totals["pages_fetched"] == 0  # every entry carries the whole essay
    docs = rows(db, "SELECT source_kind, source_ref, status FROM documents")
    assert {d[0] for d in docs} == {"feed"}
    assert all(ref.startswith(url + "#tag:research.swtch.com") for _, ref, _ in docs)
    assert sum(status == "new" for *_, status in docs) >= 15
    assert rows(db, "SELECT count(*) FROM raw_content")[0][0] == 19
    state = rows(db, "SELECT kind, title, etag, last_modified, last_status, consecutive_errors, last_error FROM sources")
    kind, title, etag, last_modified, status, errors, error = state[0]
    assert (kind, title, status, errors, error) == ("atom", "research!rsc", 200, 0, None)
    assert etag and last_modified
    assert rows(db, "SELECT count(*) FROM seen_entries")[0][0] == 38  # by guid and by link

    before = len(server.requests)
    again = ingest_feeds([url], db=str(db), **FAST)
    assert (again["documents"], again["feeds_not_modified"]) == (0, 1)
    feed_requests = server.requests[before:]
    assert [r.path for r in feed_requests] == ["/feeds/realworld/russcox.atom"]
    assert feed_requests[0].headers["if-none-match"] == etag
    assert rows(db, "SELECT last_status FROM sources")[0][0] == 304
    assert rows(db, "SELECT count(*) FROM documents")[0][0] == 19


def test_teasers_fetch_their_pages_and_failures_are_rejected_documents(prefect_harness, server, tmp_path):
    db = tmp_path / "news.duckdb"
    with FeedServer(host="127.0.0.2") as elsewhere:
        pages = [server.url(f"/extraction_aeb/html/{p.name}") for p in PAGES[:3]]
        server.script("/go/3", Step(status=301, headers={"Location": pages[2]}))
        items = [("One", pages[0]), ("Two", pages[1]), ("Three", server.url("/go/3")),
                 ("Gone", server.url("/extraction_aeb/html/gone.html")), ("Inside", elsewhere.url("/admin"))]
        feed_url = server.script("/local.rss", Step(body=teaser_feed(items), content_type="application/rss+xml"))
        # Loopback is allowed for this server only: the entry on 127.0.0.2 must be refused unrequested.
        totals = ingest_feeds([feed_url], db=str(db), entities=False, allow_networks=["127.0.0.1/32"])
        assert elsewhere.requests == []
    assert totals["pages_fetched"] == 5
    found = dict(rows(db, "SELECT source_ref, status || ':' || coalesce(error, '') FROM documents"))
    assert found[f"{feed_url}#{pages[0]}"] == "new:"
    assert found[f"{feed_url}#{server.url('/go/3')}"] == "new:"
    assert found[f"{feed_url}#{server.url('/extraction_aeb/html/gone.html')}"] == "rejected:fetch_http_404"
    assert found[f"{feed_url}#{elsewhere.url('/admin')}"] == "rejected:fetch_private_address"
    detail = rows(db, "SELECT error_detail FROM documents WHERE error = 'fetch_private_address'")[0][0]
    assert "127.0.0.2" in detail
    # The redirected entry got the page it was sent to: its article holds that page's story.
    landed = rows(db, "SELECT a.url, a.text FROM documents d JOIN articles a USING (article_id) WHERE d.source_ref = ?",
                  [f"{feed_url}#{server.url('/go/3')}"])
    assert landed[0][0] in {pages[2], MANIFEST[PAGES[2].stem]}
    gold = (BENCH / "extraction_aeb" / "gold" / f"{PAGES[2].stem}.txt").read_text(encoding="utf-8")
    assert max(gold.splitlines(), key=len)[:60] in landed[0][1]
    # The summary is kept as the raw bytes of a document whose page could not be had.
    kept = rows(db, "SELECT r.content FROM raw_content r JOIN documents d USING (document_id) WHERE d.error = 'fetch_http_404'")
    assert b"A short teaser for Gone" in kept[0][0]

    before = server.paths()
    again = ingest_feeds([feed_url], db=str(db), entities=False, allow_networks=["127.0.0.1/32"])
    assert again["documents"] == 0 and again["entries_seen_before"] == 5
    assert server.paths()[len(before):] == ["/local.rss"]  # seen entries are not fetched again


def test_one_broken_feed_never_stops_the_others(prefect_harness, server, tmp_path):
    db = tmp_path / "news.duckdb"
    listing = tmp_path / "feeds.txt"
    broken = server.url("/feeds/realworld/osm-pl.xml")
    missing = server.url("/feeds/realworld/nope.xml")
    not_a_feed = server.url(f"/extraction_aeb/html/{PAGES[0].name}")
    good = server.url("/feeds/realworld/allthis.json")
    listing.write_text(f"# test feeds\n{broken}\n{missing}\n{not_a_feed}\n{good}\n")
    totals = ingest_feeds([str(listing)], db=str(db), **FAST)
    assert totals["feeds"] == 4 and totals["feeds_failed"] == 2
    state = {r[0]: r[1:] for r in rows(db, "SELECT source_url, last_status, consecutive_errors, last_error FROM sources")}
    assert state[missing][:2] == (404, 1) and state[missing][2].startswith("fetch_http_404")
    assert state[not_a_feed][1] == 1 and state[not_a_feed][2].startswith("feed_invalid")
    validators = rows(db, "SELECT etag FROM sources WHERE source_url = ?", [not_a_feed])
    assert validators == [(None,)]  # so the next poll parses it again instead of getting a 304
    assert state[broken][1] == 0 and "unclosed CDATA" in state[broken][2]
    assert state[good] == (200, 0, None)
    refs = [r[0] for r in rows(db, "SELECT source_ref FROM documents")]
    assert sum(r.startswith(good + "#") for r in refs) == 12
    assert sum(r.startswith(broken + "#") for r in refs) == 8

    # Pages on hosts this machine cannot reach failed in a way that may pass: their feeds are read again (no
    # validators kept) and only those entries are tried again; a feed without such an entry answers 304.
    failed = [ref for ref, reason in rows(db, "SELECT source_ref, error FROM documents WHERE status = 'rejected'")
              if is_transient(reason)]
    retried = {ref.split("#", 1)[0] for ref in failed}
    assert failed and retried <= {good, broken}
    again = ingest_feeds([str(listing)], db=str(db), **FAST)
    assert (again["feeds_not_modified"], again["entries_new"], again["documents"], again["articles"]) == (
        2 - len(retried), len(failed), len(failed), 0)
    state = {r[0]: r[1] for r in rows(db, "SELECT source_url, consecutive_errors FROM sources")}
    assert (state[missing], state[not_a_feed], state[good]) == (2, 2, 0)


def test_ingest_urls(prefect_harness, server, tmp_path):
    db = tmp_path / "news.duckdb"
    page = server.url(f"/extraction_aeb/html/{PAGES[3].name}")
    missing = server.url("/extraction_aeb/html/missing.html")
    totals = ingest_feeds(pages=[page, missing, "ftp://example.org/x"], db=str(db), **FAST)
    assert totals["documents"] == 3 and totals["rejected"] == 2
    found = dict(rows(db, "SELECT source_ref, coalesce(error, status) FROM documents WHERE source_kind = 'url'"))
    assert found == {page: "new", missing: "fetch_http_404", "ftp://example.org/x": "fetch_bad_scheme"}
    assert rows(db, "SELECT url, site FROM articles") == [(page, "127.0.0.1")]
    assert rows(db, "SELECT flow FROM runs") == [("ingest-urls",)]


def test_urls_on_private_addresses_are_refused_without_a_request(prefect_harness, server, tmp_path):
    db = tmp_path / "news.duckdb"
    page = server.url(f"/extraction_aeb/html/{PAGES[0].name}")
    totals = ingest_feeds(pages=[page], db=str(db), entities=False)
    assert server.requests == []
    assert totals["rejected"] == 1
    assert rows(db, "SELECT source_ref, status, error FROM documents") == [(page, "rejected", "fetch_private_address")]


def test_without_page_fetching_teasers_are_taken_as_the_feed_gave_them(prefect_harness, server, tmp_path):
    db = tmp_path / "news.duckdb"
    url = server.url("/feeds/realworld/livemint.xml")
    totals = ingest_feeds([url], db=str(db), fetch_pages=False, **FAST)
    assert (totals["entries_new"], totals["pages_fetched"], totals["documents"]) == (25, 0, 25)
    assert server.paths() == ["/feeds/realworld/livemint.xml"]
    reasons = {r[0] for r in rows(db, "SELECT coalesce(error, status) FROM documents")}
    assert reasons <= {"new", "duplicate", "clean_too_short"}  # one-paragraph teasers are mostly too short


def test_an_entry_seen_by_its_link_is_not_fetched_again_under_a_new_guid(prefect_harness, server, tmp_path):
    db = tmp_path / "news.duckdb"
    page = server.url(f"/extraction_aeb/html/{PAGES[4].name}")
    first = teaser_feed([("Story", page)])
    reissued = first.replace(f"<guid>{html.escape(page)}</guid>".encode(), b"<guid isPermaLink='false'>v2-123</guid>")
    feed_url = server.script("/reissue.rss", Step(body=first), Step(body=reissued))
    assert ingest_feeds([feed_url], db=str(db), **FAST)["documents"] == 1
    again = ingest_feeds([feed_url], db=str(db), **FAST)
    assert (again["entries_new"], again["documents"]) == (0, 0)
    assert server.paths().count(f"/extraction_aeb/html/{PAGES[4].name}") == 1
    assert sorted(r[0] for r in rows(db, "SELECT entry_key FROM seen_entries")) == [page]


def test_a_transient_page_failure_is_tried_again_on_the_next_poll(prefect_harness, server, tmp_path, monkeypatch):
    monkeypatch.setenv("NEWSFLOW_RETRIES", "0")
    db = tmp_path / "news.duckdb"
    page = (BENCH / "extraction_aeb" / "html" / PAGES[5].name).read_bytes()
    server.script("/story", Step(status=503), Step(body=page))
    feed_url = server.script("/busy.rss", Step(body=teaser_feed([("Story", server.url("/story"))])))
    first = ingest_feeds([feed_url], db=str(db), **FAST)
    second = ingest_feeds([feed_url], db=str(db), **FAST)
    assert (first["entries_new"], second["entries_new"]) == (1, 1)
    outcomes = rows(db, "SELECT coalesce(error, status) FROM documents ORDER BY received_at")
    assert outcomes == [("fetch_http_503",), ("new",)]
    assert ingest_feeds([feed_url], db=str(db), **FAST)["entries_new"] == 0  # landed, so seen now


def test_a_transient_page_failure_is_retried_though_the_feed_is_unchanged(prefect_harness, server, tmp_path,
                                                                          monkeypatch):
    monkeypatch.setenv("NEWSFLOW_RETRIES", "0")
    db = tmp_path / "news.duckdb"
    story = server.script("/story", Step(status=503), Step(body=(BENCH / "extraction_aeb" / "html" / PAGES[5].name).read_bytes()))
    (tmp_path / "feeds").mkdir()
    (tmp_path / "feeds" / "news.rss").write_bytes(teaser_feed([("Story", story)]))
    with FeedServer(root=tmp_path / "feeds") as feeds:  # a file: ETag, Last-Modified and 304s as a web server has them
        url = feeds.url("/news.rss")
        first = ingest_feeds([url], db=str(db), **FAST)
        assert (first["entries_new"], first["rejected"], first["articles"]) == (1, 1, 0)
        assert rows(db, "SELECT etag, last_modified FROM sources") == [(None, None)]  # as a sitemap's are, so
        second = ingest_feeds([url], db=str(db), **FAST)
        # the unchanged feed is asked unconditionally (a 304 would hide the entry) and its entry planned again.
        assert "if-none-match" not in feeds.requests[-1].headers and feeds.replies[-1][:2] == ("/news.rss", 200)
        assert (second["entries_new"], second["pages_fetched"], second["articles"]) == (1, 1, 1)
        third = ingest_feeds([url], db=str(db), **FAST)
        assert feeds.replies[-1][:2] == ("/news.rss", 304)  # landed: the feed has its validators back
        assert (third["feeds_not_modified"], third["pages_fetched"]) == (1, 0)
    assert server.paths().count("/story") == 2
    assert rows(db, "SELECT count(*) FROM articles") == [(1,)]
    assert rows(db, "SELECT coalesce(error, status) FROM documents ORDER BY received_at") == [("fetch_http_503",), ("new",)]


def test_entries_linking_to_other_schemes_land_without_a_url_or_are_refused(prefect_harness, server, tmp_path):
    db = tmp_path / "news.duckdb"
    links = ["javascript:alert(1)", "data:text/html,<p>x</p>", "file:///etc/passwd"]
    full = "".join(
        f"<item><title>Story {i}</title><link>{html.escape(link)}</link><guid>full-{i}</guid>"
        f"<description>{html.escape(page.read_text(encoding='utf-8', errors='replace'))}</description></item>"
        for i, (link, page) in enumerate(zip(links, PAGES[3:6]))
    )
    teaser = ("<item><title>Teaser</title><link>file:///etc/hostname</link><guid>teaser</guid>"
              "<description>A short teaser.</description></item>")
    feed = f'<?xml version="1.0"?><rss version="2.0"><channel><title>Odd links</title>{full}{teaser}</channel></rss>'
    feed_url = server.script("/odd.rss", Step(body=feed.encode(), content_type="application/rss+xml"))
    totals = ingest_feeds([feed_url], db=str(db), **FAST)
    assert (totals["documents"], totals["articles"], totals["pages_fetched"]) == (4, 3, 1)
    # The full entries are articles all the same; no address but a web page's becomes theirs.
    assert rows(db, "SELECT url, canonical_url FROM articles") == [(None, None)] * 3
    assert rows(db, "SELECT error FROM documents WHERE status = 'rejected'") == [("fetch_bad_scheme",)]  # the teaser
