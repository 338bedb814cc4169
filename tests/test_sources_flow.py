"""Discovering a site's feeds and sitemaps from its home page (the add-sources flow and `newsflow sources`), against
real servers on 127.0.0.1."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

from newsflow.flows.feeds import ingest_feeds
from newsflow.flows.sources import add_sources
from tests.dbrows import rows
from tests.feed_server import FeedServer, Step
from tests.news_site import build_site


@pytest.fixture
def quick(monkeypatch):
    monkeypatch.setenv("NEWSFLOW_PER_HOST_DELAY_S", "0")
    monkeypatch.setenv("NEWSFLOW_WORKERS", "0")


def test_a_home_page_gives_its_feed_and_robots_txt_its_news_sitemap_which_are_polled(prefect_harness, quick, tmp_path):
    db = tmp_path / "news.duckdb"
    with FeedServer(root=tmp_path / "site") as server:
        site = build_site(tmp_path / "site", server.base_url, articles=30, in_feed=5)
        home = server.script("/", Step(body=(tmp_path / "site" / "index.html").read_bytes()))
        result = add_sources([home], db=str(db), allow_private=True, entities=False)
        assert result["found"] == {site.feed: ["feed", "rss", "home_page"],
                                   site.sitemap: ["sitemap", "news_sitemap", "robots_txt"]}
        assert result["problems"] == []
        # robots.txt named a sitemap and the page a feed: no path was guessed.
        assert not {"/sitemap.xml", "/rss.xml", "/feed"} & set(server.paths())
        assert result["totals"]["articles"] == 30
        assert rows(db, "SELECT source_url, site, found_by, subscribed, status FROM sources ORDER BY source_url") == [
            (site.feed, home, "home_page", True, "active"), (site.sitemap, home, "robots_txt", True, "active")]

        # The scheduled run polls the subscribed sources: both unchanged now.
        before = len(server.requests)
        again = ingest_feeds(db=str(db), subscribed=True, allow_private=True, entities=False)
        assert (again["feeds"], again["sitemaps"], again["feeds_not_modified"], again["pages_fetched"]) == (1, 1, 2, 0)
        assert sorted(r.path for r in server.requests[before:]) == ["/feed.xml", "/news-sitemap.xml"]


def test_without_links_or_robots_txt_the_common_paths_are_tried(prefect_harness, quick, tmp_path):
    db = tmp_path / "news.duckdb"
    with FeedServer(root=tmp_path / "site") as server:
        build_site(tmp_path / "site", server.base_url, articles=3, in_feed=3)
        (tmp_path / "site" / "robots.txt").unlink()
        (tmp_path / "site" / "news-sitemap.xml").rename(tmp_path / "site" / "sitemap_news.xml")
        (tmp_path / "site" / "feed.xml").rename(tmp_path / "site" / "rss.xml")
        home = server.script("/", Step(body=b"<html><head><title>Plain</title></head><body>Hello</body></html>"))
        result = add_sources([home], db=str(db), allow_private=True, poll=False)
        assert result["found"] == {server.url("/rss.xml"): ["feed", "rss", "common_path"],
                                   server.url("/sitemap_news.xml"): ["sitemap", "news_sitemap", "common_path"]}
        assert "totals" not in result and rows(db, "SELECT count(*) FROM documents") == [(0,)]
        assert rows(db, "SELECT count(*) FROM sources WHERE subscribed")[0][0] == 2


def test_a_home_page_on_a_private_address_is_refused(prefect_harness, quick, tmp_path):
    db = tmp_path / "news.duckdb"
    with FeedServer() as server:
        home = server.script("/", Step(body=b"<html></html>"))
        result = add_sources([home], db=str(db))
        assert server.requests == [] and result["found"] == {}
        assert any("fetch_private_address" in p for p in result["problems"])


def test_newsflow_sources_add_then_list_then_remove(tmp_path, quick):
    db = tmp_path / "news.duckdb"
    env = dict(os.environ, PREFECT_LOGGING_LEVEL="WARNING")

    def newsflow(*args):
        done = subprocess.run([sys.executable, "-m", "newsflow.flows.cli", *args, "--db", str(db)], capture_output=True,
                              text=True, env=env, timeout=300)
        assert done.returncode == 0, done.stderr[-3000:]
        return done.stdout

    with FeedServer(root=tmp_path / "site") as server:
        site = build_site(tmp_path / "site", server.base_url, articles=4, in_feed=2)
        home = server.script("/", Step(body=(tmp_path / "site" / "index.html").read_bytes()))
        added = newsflow("sources", "add", home, "--allow-private", "--no-entities")
    assert f"found sitemap (news_sitemap, robots txt): {site.sitemap}" in added
    assert "new articles: 4" in added
    listing = newsflow("sources").splitlines()
    assert listing[0].split()[:5] == ["status", "type", "kind", "per_day", "failures"]
    assert [line.split()[:3] for line in listing[2:4]] == [["active", "feed", "rss"], ["active", "sitemap", "news_sitemap"]]
    assert "unsubscribed: 2 source(s)" in newsflow("sources", "remove", home)


def test_a_home_page_that_redirects_is_explored_where_it_lands(prefect_harness, quick, tmp_path):
    db = tmp_path / "news.duckdb"
    with FeedServer(root=tmp_path / "site") as site_server, FeedServer() as old_server:
        site = build_site(tmp_path / "site", site_server.base_url, articles=2, in_feed=2)
        site_server.script("/", Step(body=(tmp_path / "site" / "index.html").read_bytes()))
        old_home = old_server.script("/", Step(status=301, headers={"Location": site_server.url("/")}))
        result = add_sources([old_home], db=str(db), allow_private=True, poll=False)
        assert result["found"] == {site.feed: ["feed", "rss", "home_page"],
                                   site.sitemap: ["sitemap", "news_sitemap", "robots_txt"]}
        assert old_server.paths() == ["/robots.txt", "/"]  # its robots.txt allows the home page; nothing else asked
