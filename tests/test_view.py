"""newsflow view: the real app (`newsflow view`) on 127.0.0.1 over a DuckDB file built by ingesting the sample
inbox (plus a copy, a too-short file and an unreadable one), pages read over HTTP and in headless Chromium."""
from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import duckdb
import pytest

from tests.dbrows import rows

SAMPLE_COPY = "copy_of_first.txt"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str) -> tuple[int, str, dict]:
    try:
        with urllib.request.urlopen(url, timeout=60) as response:
            return response.status, response.read().decode("utf-8", "replace"), dict(response.headers)
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode("utf-8", "replace"), dict(exc.headers)


@pytest.fixture(scope="module")
def ingested(tmp_path_factory, samples_dir) -> Path:
    """A .duckdb file from ingesting the samples, a byte-identical copy of one, a too-short file and a .bin."""
    root = tmp_path_factory.mktemp("view")
    inbox = root / "inbox"
    inbox.mkdir()
    samples = sorted(samples_dir.iterdir())
    for path in samples:
        shutil.copy(path, inbox)
    db = root / "news.duckdb"
    env = dict(os.environ, PREFECT_LOGGING_LEVEL="WARNING")
    run = [sys.executable, "-m", "newsflow.flows.cli", "ingest", "inbox", str(inbox), "--db", str(db)]
    subprocess.run(run, check=True, capture_output=True, env=env, timeout=600)
    shutil.copy(samples[0], inbox / SAMPLE_COPY)
    (inbox / "tiny.txt").write_text("short")
    (inbox / "junk.bin").write_bytes(bytes(range(256)) * 4)
    subprocess.run(run, check=True, capture_output=True, env=env, timeout=600)
    return db


@pytest.fixture(scope="module")
def view(ingested):
    """`newsflow view` serving the ingested file; yields its base URL."""
    port = _free_port()
    process = subprocess.Popen([sys.executable, "-m", "newsflow.flows.cli", "view", "--db", str(ingested),
                                "--port", str(port), "--wait", "1"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            urllib.request.urlopen(base + "/quarantine", timeout=5).close()
            break
        except (urllib.error.URLError, ConnectionError):
            assert process.poll() is None, process.stderr.read().decode()
            assert time.monotonic() < deadline, "newsflow view did not answer within 60 s"
            time.sleep(0.2)
    yield base
    process.terminate()
    process.wait(timeout=30)


def test_overview_shows_statuses_reject_reasons_and_runs(view, ingested):
    status, page, _ = _get(view + "/")
    assert status == 200
    for reason, n in rows(ingested, "SELECT error, count(*) FROM documents WHERE status = 'rejected' GROUP BY 1"):
        assert f"<tr><td>{reason}</td><td>{n}</td></tr>" in page
    assert {r[0] for r in rows(ingested, "SELECT error FROM documents WHERE status = 'rejected'")} == {
        "clean_too_short", "read_unsupported_type"}
    for label in ("new", "duplicate", "rejected"):
        assert f"<title>{label}: " in page  # a bar of the status chart
    assert page.count("<td>ingest-inbox</td>") == 2
    assert "no feed failing or stale" in page
    news = page[page.index('<table id="in-the-news">'):]
    news = news[: news.index("</table>")]
    top = rows(ingested, """SELECT e.name, count(DISTINCT m.article_id) AS n FROM mentions m JOIN entities e USING (entity_id)
                             JOIN articles a USING (article_id) WHERE e.label IN ('PERSON', 'ORG')
                             AND coalesce(a.published_at, a.first_seen_at) >= now() - INTERVAL 7 DAY
                             GROUP BY 1 ORDER BY n DESC, e.name LIMIT 1""")
    assert top, "the samples have no published date: first seen today, they are this week's news"
    assert f">{top[0][0]}</a></td><td>PERSON</td><td>{top[0][1]}</td>" in news or \
        f">{top[0][0]}</a></td><td>ORG</td><td>{top[0][1]}</td>" in news
    assert news.count('<a href="/entities/') <= 15


def test_articles_list_newest_first_with_story_size_and_filters(view, ingested):
    titles = rows(ingested, "SELECT title FROM articles ORDER BY first_seen_at DESC, article_id")
    status, page, _ = _get(view + "/articles")
    assert status == 200
    positions = [page.index(title.replace("'", "&#39;")) for (title,) in titles]
    assert positions == sorted(positions)
    assert _get(view + "/articles?language=fr")[1].count("/articles/") == 0
    assert _get(view + "/articles?language=en")[1].count('<a href="/articles/') == len(titles)
    assert "date is YYYY-MM-DD" in _get(view + "/articles?date=yesterday")[1]


def test_search_ranks_by_bm25(view, ingested):
    (wanted,) = rows(ingested, "SELECT article_id FROM articles WHERE title ILIKE '%New Year Message%'")[0]
    status, page, _ = _get(view + "/articles?q=new+year+message")
    assert status == 200 and "Ranked by BM25" in page
    first_link = page.index('<a href="/articles/')
    assert page[first_link:].startswith(f'<a href="/articles/{wanted}"')


def test_article_shows_removed_lines_with_reasons_and_the_merged_copy(view, ingested):
    (article_id, document_id) = rows(
        ingested, "SELECT article_id, document_id FROM documents WHERE source_ref LIKE ? AND status = 'duplicate'",
        [f"%{SAMPLE_COPY}"])[0]
    removed = rows(ingested, "SELECT line_no, reason FROM removed_lines r JOIN documents d USING (document_id) "
                              "WHERE d.article_id = ? AND d.status = 'new'", [article_id])
    assert removed
    status, page, _ = _get(view + f"/articles/{article_id}")
    assert status == 200
    for line_no, reason in removed:
        assert f'data-line="{line_no}"' in page
    assert page.count('<span class="reason">') == len(removed)
    # Kept and removed lines in the page's own order, by the line numbers stored with the article.
    shown = [int(n) for n in re.findall(r'data-line="(\d+)"', page.split('id="lines"')[1])]
    (kept,) = rows(ingested, "SELECT text_line_nos FROM articles WHERE article_id = ?", [article_id])[0]
    assert shown == sorted(kept + [line_no for line_no, _ in removed])
    assert document_id in page and "<td>duplicate</td>" in page
    hidden = _get(view + f"/articles/{article_id}?removed=hide")[1]
    assert '<span class="reason">' not in hidden and "show removed lines" in hidden


def test_mentions_link_to_their_entity_page(view, ingested):
    article_id, entity_id, surface, name = rows(
        ingested, "SELECT m.article_id, m.entity_id, m.surface, e.name FROM mentions m JOIN entities e USING (entity_id) "
                  "ORDER BY m.article_id, m.start_char LIMIT 1")[0]
    page = _get(view + f"/articles/{article_id}")[1]
    assert f'<a href="/entities/{entity_id}">{surface}</a>' in page
    status, entity_page, _ = _get(view + f"/entities/{entity_id}")
    assert status == 200 and f'<h1 id="name">{name}</h1>' in entity_page
    for language, alias in rows(ingested, "SELECT coalesce(language, '?'), alias FROM entity_aliases "
                                           "WHERE entity_id = ? AND NOT starts_with(alias, '~')", [entity_id]):
        row = entity_page[entity_page.index(f"<tr><td>{language}</td><td>"):]
        assert alias.replace("'", "&#39;") in row[: row.index("</tr>")]
    n_articles = rows(ingested, "SELECT count(DISTINCT article_id) FROM mentions WHERE entity_id = ?", [entity_id])[0][0]
    table = entity_page[entity_page.index('<table id="articles">'):]
    assert table[: table.index("</table>")].count('<a href="/articles/') == n_articles
    assert _get(view + "/entities/no-such-entity")[0] == 404


HOSTILE = ["'; DROP TABLE articles; --", "' OR '1'='1", "<script>alert(1)</script>", "%00", "\u202e\u0000x", "a" * 5000]


def test_hostile_query_strings_are_escaped_and_change_nothing(view, ingested):
    before = rows(ingested, "SELECT count(*) FROM articles")[0][0]
    for value in HOSTILE:
        for name in ("q", "site", "language", "entity", "date", "offset"):
            status, page, _ = _get(view + "/articles?" + urllib.parse.urlencode({name: value}))
            assert status in (200, 400), (name, value, status)
            assert "<script>alert(1)</script>" not in page and "Traceback" not in page
            if name in ("site", "language", "entity") and status == 200:
                assert '<a href="/articles/' not in page.split('id="articles"', 1)[-1]  # matches nothing
        for path in ("/articles/", "/entities/", "/quarantine/"):
            status, page, _ = _get(view + path + urllib.parse.quote(value, safe="") + ("/original" if "quarantine" in path else ""))
            assert status == 404 and "<script>alert(1)</script>" not in page and "Traceback" not in page
    assert _get(view + "/quarantine?offset=-3")[0] == 200
    assert rows(ingested, "SELECT count(*) FROM articles")[0][0] == before


def test_a_missing_article_is_a_404_page_not_a_traceback(view, ingested):
    status, page, _ = _get(view + "/articles/no-such-article")
    assert status == 404 and "No such article" in page and "no-such-article" in page and "Traceback" not in page
    assert _get(view + "/no/such/page")[0] == 404


def test_quarantine_links_to_the_kept_original(view, ingested):
    status, page, _ = _get(view + "/quarantine")
    assert status == 200 and "clean_too_short" in page and "read_unsupported_type" in page
    (document_id,) = rows(ingested, "SELECT document_id FROM documents WHERE error = 'clean_too_short'")[0]
    status, body, headers = _get(view + f"/quarantine/{document_id}/original")
    assert status == 200 and body == "short"
    assert headers["content-type"].startswith("text/plain") and headers["x-content-type-options"] == "nosniff"


def test_pages_write_nothing_and_refuse_other_methods(view, ingested):
    folder = ingested.parent
    before = {p: (p.stat().st_size, p.stat().st_mtime_ns) for p in folder.rglob("*")}
    for path in ("/", "/articles", "/articles?q=putin", "/quarantine"):
        assert _get(view + path)[0] == 200
    assert {p: (p.stat().st_size, p.stat().st_mtime_ns) for p in folder.rglob("*")} == before
    request = urllib.request.Request(view + "/articles", data=b"x=1", method="POST")
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=10)
    assert refused.value.code == 405


def test_a_writer_gets_the_file_between_pages_and_a_held_file_says_so(view, ingested):
    assert _get(view + "/")[0] == 200
    with duckdb.connect(str(ingested)) as writer:  # opens at once: the view holds no connection between pages
        status, page, headers = _get(view + "/")
        assert status == 503 and "Data is being written" in page and headers["retry-after"] == "5"
    assert _get(view + "/")[0] == 200


SCREENSHOTS = Path(__file__).resolve().parents[1] / "build" / "screenshots"


def test_in_headless_chromium_the_pages_render_search_and_toggle(view, ingested):
    """Debian's Chromium driven by Playwright (no browser download): each page rendered and saved as a screenshot."""
    from playwright.sync_api import sync_playwright

    chromium = shutil.which("chromium")
    assert chromium, "chromium is installed by `make install` (apt-get install chromium)"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    (wanted, title), = rows(ingested, "SELECT article_id, title FROM articles WHERE title ILIKE '%New Year Message%'")
    n_removed = rows(ingested, "SELECT count(*) FROM removed_lines r JOIN documents d USING (document_id) "
                                "WHERE d.article_id = ? AND d.status = 'new'", [wanted])[0][0]
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=[
            "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync"])
        page = browser.new_page(viewport={"width": 1200, "height": 900})
        page.goto(view + "/")
        bars = page.locator("svg.chart rect.bar")
        assert bars.count() >= 3 and all(bars.nth(i).bounding_box()["width"] > 0 for i in range(bars.count()))
        page.screenshot(path=str(SCREENSHOTS / "overview.png"), full_page=True)

        page.goto(view + "/articles")
        page.fill("input[name=q]", "new year message")
        page.press("input[name=q]", "Enter")
        page.wait_for_url("**/articles?*q=new+year+message*")
        assert page.locator('a[href^="/articles/"]').first.get_attribute("href") == f"/articles/{wanted}"
        page.screenshot(path=str(SCREENSHOTS / "search.png"), full_page=True)

        page.click(f'a[href="/articles/{wanted}"]')
        assert page.locator("h1").first.inner_text() == title
        assert page.locator("#lines p.removed s").count() == n_removed > 0
        page.screenshot(path=str(SCREENSHOTS / "article.png"), full_page=True)
        page.click("#toggle")
        page.wait_for_url("**removed=hide")
        assert page.locator("#lines p.removed").count() == 0 and page.locator("#lines p.kept").count() > 0
        page.click("#toggle")
        page.wait_for_url("**removed=show")
        assert page.locator("#lines p.removed s").count() == n_removed

        mention = page.locator('#text a[href^="/entities/"]').first
        entity_id = urllib.parse.unquote(mention.get_attribute("href").removeprefix("/entities/"))
        mention.click()
        n_articles = rows(ingested, "SELECT count(DISTINCT article_id) FROM mentions WHERE entity_id = ?", [entity_id])[0][0]
        assert page.locator('#articles a[href^="/articles/"]').count() == n_articles > 0
        page.screenshot(path=str(SCREENSHOTS / "entity.png"), full_page=True)

        page.goto(view + "/quarantine")
        assert page.locator("text=clean_too_short").count() >= 1
        page.screenshot(path=str(SCREENSHOTS / "quarantine.png"), full_page=True)
        browser.close()
    assert {p.name for p in SCREENSHOTS.glob("*.png")} >= {"article.png", "entity.png", "overview.png", "quarantine.png", "search.png"}


def test_a_lake_is_viewed_and_searched_like_a_file(tmp_path, samples_dir):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    for path in samples_dir.iterdir():
        shutil.copy(path, inbox)
    lake = f"ducklake:sqlite:{tmp_path / 'lake.sqlite'}"
    env = dict(os.environ, PREFECT_LOGGING_LEVEL="WARNING")
    subprocess.run([sys.executable, "-m", "newsflow.flows.cli", "ingest", "inbox", str(inbox), "--db", lake, "--no-entities"],
                   check=True, capture_output=True, env=env, timeout=600)
    port = _free_port()
    process = subprocess.Popen([sys.executable, "-m", "newsflow.flows.cli", "view", "--db", lake, "--port", str(port)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        base, deadline = f"http://127.0.0.1:{port}", time.monotonic() + 60
        while True:
            try:
                status, page, _ = _get(base + "/articles")
                break
            except (urllib.error.URLError, ConnectionError):
                assert process.poll() is None and time.monotonic() < deadline
                time.sleep(0.2)
        assert status == 200 and page.count('<a href="/articles/') == len(list(samples_dir.iterdir()))
        ranked = _get(base + "/articles?q=new+year+message")[1]
        first = ranked[ranked.index('<a href="/articles/'):]
        assert "New Year Message" in first[: first.index("</a>")]
    finally:
        process.terminate()
        process.wait(timeout=30)
    assert not (tmp_path / "lake.sqlite.search.duckdb").exists()  # the view's index lives in memory


def test_the_view_keeps_answering_while_watch_ingests(tmp_path, prefect_harness, shared_dir):
    """The view beside a real `newsflow watch`: it never errs, never stops the watcher, and shows what landed."""
    import html
    import threading

    from prefect.settings import PREFECT_API_URL

    inbox, db = tmp_path / "inbox", tmp_path / "news.duckdb"
    inbox.mkdir()
    env = os.environ | {"PREFECT_API_URL": PREFECT_API_URL.value(), "PYTHONUNBUFFERED": "1", "PREFECT_LOGGING_LEVEL": "WARNING"}
    watch = subprocess.Popen([sys.executable, "-m", "newsflow.flows.cli", "watch", str(inbox), "--db", str(db),
                              "--no-entities", "--settle", "0.2"], env=env, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True)
    said: list[str] = []
    threading.Thread(target=lambda: said.extend(watch.stdout), daemon=True).start()
    port = _free_port()
    view = subprocess.Popen([sys.executable, "-m", "newsflow.flows.cli", "view", "--db", str(db), "--port", str(port),
                             "--wait", "0.2"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        while not any("watching" in line for line in said):
            assert watch.poll() is None and time.monotonic() < deadline, "".join(said)
            time.sleep(0.2)
        statuses: dict[str, list[int]] = {"/": [], "/articles": []}
        while True:  # the view answers before anything landed: nothing to show yet
            try:
                statuses["/"].append(_get(base + "/")[0])
                break
            except OSError:
                assert view.poll() is None and time.monotonic() < deadline, "newsflow view did not start"
                time.sleep(0.2)
        assert statuses["/"] == [404]
        pages = sorted((shared_dir / "benchdata" / "extraction_aeb" / "html").glob("*.html"))[:12]
        for page in pages:  # dropped one at a time under a temporary name, as the README says
            shutil.copy(page, inbox / f"{page.name}.tmp")
            (inbox / f"{page.name}.tmp").rename(inbox / page.name)
            for path in statuses:
                statuses[path].append(_get(base + path)[0])
        while any(inbox.glob("*.html")):
            assert watch.poll() is None and time.monotonic() < deadline, "".join(said)
            for path in statuses:
                statuses[path].append(_get(base + path)[0])
        final = None
        while final is None or final[0] != 200:  # the last batch's write may still hold the file
            assert time.monotonic() < deadline
            final = _get(base + "/articles")
        assert watch.poll() is None, "".join(said)
        assert set(statuses["/"][1:] + statuses["/articles"]) <= {200, 503, 404} and 200 in statuses["/articles"]
    finally:
        view.terminate()
        watch.send_signal(2)  # Ctrl-C: the batch in hand finishes, then the watcher stops
        watch.wait(timeout=120)
    titles = rows(db, "SELECT title FROM articles")
    assert len(titles) == len(rows(db, "SELECT 1 FROM documents WHERE status = 'new'")) >= 8
    for (title,) in titles:
        assert title in html.unescape(final[1])
