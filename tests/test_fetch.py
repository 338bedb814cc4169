"""The HTTP client against a real server on 127.0.0.1: safety, validators, redirects, limits, retries, robots."""
from __future__ import annotations

import gzip
import ipaddress
import threading
import time
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path

import pytest

from newsflow.extractors.fetch import FetchError, Fetcher, address_problem, html_bytes, is_transient, parse_retry_after
from newsflow.extractors.settings import Http
from tests.feed_server import FeedServer, Step, tls_contexts

SHARED = Path(__file__).resolve().parents[2] / "shared"
PAGES = SHARED / "benchdata" / "extraction_aeb" / "html"
FEEDS = SHARED / "benchdata" / "feeds" / "realworld"
PAGE = sorted(PAGES.glob("*.html"))[0]
LOCAL = Http(allow_private=True, per_host_delay_s=0.0, retries=2, total_timeout_s=5.0, connect_timeout_s=2.0)


@pytest.fixture
def server():
    with FeedServer(root=SHARED / "benchdata") as s:
        yield s


def fetcher(http: Http = LOCAL, **kwargs) -> Fetcher:
    return Fetcher(http, backoff_s=0.01, **kwargs)


def refusal(f: Fetcher, url: str) -> FetchError:
    with pytest.raises(FetchError) as info:
        f.get(url)
    return info.value


def test_fetches_a_real_page_with_our_user_agent(server):
    with fetcher() as f:
        response = f.get(server.url(f"/extraction_aeb/html/{PAGE.name}"))
    assert response.status == 200
    assert response.content == PAGE.read_bytes()
    assert response.headers["content-type"].startswith("text/html")
    page_request = server.requests[-1]
    assert page_request.headers["user-agent"] == LOCAL.user_agent
    assert "gzip" in page_request.headers["accept-encoding"]


def test_loopback_is_refused_by_default_and_no_request_is_made(server):
    with fetcher(replace(LOCAL, allow_private=False)) as f:
        error = refusal(f, server.url("/feeds/realworld/kagi.xml"))
    assert error.reason == "fetch_private_address"
    assert "127.0.0.1" in error.detail
    assert server.requests == []


def test_a_name_is_checked_after_dns_resolution(server):
    port = server.base_url.rsplit(":", 1)[1]
    with fetcher(replace(LOCAL, allow_private=False)) as f:
        error = refusal(f, f"http://localhost:{port}/feeds/realworld/kagi.xml")
    assert error.reason == "fetch_private_address"
    assert server.requests == []


@pytest.mark.parametrize(
    "address, problem",
    [
        ("127.0.0.1", "loopback"),
        ("::1", "loopback"),
        ("10.1.2.3", "private"),
        ("192.168.0.10", "private"),
        ("fd00::1", "private"),
        ("169.254.169.254", "link_local"),
        ("fe80::1", "link_local"),
        ("224.0.0.1", "multicast"),
        ("0.0.0.0", "unspecified"),
        ("240.0.0.1", "reserved"),
        ("::ffff:10.0.0.1", "private"),
        ("100.64.0.1", "not_global"),
        ("93.184.215.14", None),
        ("2606:4700::1111", None),
    ],
)
def test_address_classes(address, problem):
    assert address_problem(ipaddress.ip_address(address)) == problem


@pytest.mark.parametrize("url", ["http://10.0.0.7/feed", "http://[::ffff:192.168.1.1]/", "http://169.254.169.254/latest/"])
def test_private_literals_are_refused_before_connecting(url):
    with fetcher(replace(LOCAL, allow_private=False, connect_timeout_s=0.01, retries=0)) as f:
        assert refusal(f, url).reason == "fetch_private_address"


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://example.com/feed.xml", "gopher://x/", "/relative"])
def test_only_http_and_https(url):
    with fetcher() as f:
        assert refusal(f, url).reason == "fetch_bad_scheme"


def test_etag_and_last_modified_give_a_304(server):
    url = server.url("/feeds/realworld/DaringFireball.atom")
    with fetcher() as f:
        first = f.get(url)
        by_etag = f.get(url, etag=first.headers["etag"])
        by_date = f.get(url, last_modified=first.headers["last-modified"])
    assert first.status == 200 and first.content
    assert by_etag.not_modified and by_etag.content == b""
    assert by_date.not_modified
    feed_requests = [r for r in server.requests if r.path.endswith(".atom")]
    assert feed_requests[1].headers["if-none-match"] == first.headers["etag"]
    assert feed_requests[2].headers["if-modified-since"] == first.headers["last-modified"]


def test_redirects_are_followed_to_the_final_url(server):
    target = f"/extraction_aeb/html/{PAGE.name}"
    server.script("/old", Step(status=301, headers={"Location": "/moved"}))
    server.script("/moved", Step(status=302, headers={"Location": server.url(target)}))
    with fetcher() as f:
        response = f.get(server.url("/old"))
    assert response.final_url == server.url(target)
    assert response.redirects == [server.url("/old"), server.url("/moved")]
    assert response.content == PAGE.read_bytes()


def test_redirect_loops_stop_at_the_limit(server):
    server.script("/loop", Step(status=302, headers={"Location": "/loop"}))
    with fetcher(replace(LOCAL, max_redirects=3)) as f:
        error = refusal(f, server.url("/loop"))
    assert error.reason == "fetch_too_many_redirects"
    assert server.paths().count("/loop") == 4


def test_every_redirect_hop_is_checked_again(server):
    server.script("/to-file", Step(status=302, headers={"Location": "file:///etc/passwd"}))
    with fetcher() as f:
        assert refusal(f, server.url("/to-file")).reason == "fetch_bad_scheme"


def test_a_redirect_to_a_refused_address_makes_no_request_there(server):
    with FeedServer(host="127.0.0.2") as inner:
        server.script("/hop", Step(status=307, headers={"Location": inner.url("/secret")}))
        strict = replace(LOCAL, allow_private=False)
        with fetcher(strict, allowed_networks=["127.0.0.1/32"]) as f:
            error = refusal(f, server.url("/hop"))
        assert error.reason == "fetch_private_address"
        assert "127.0.0.2" in error.detail
        assert server.paths() == ["/robots.txt", "/hop"]
        assert inner.requests == []


def test_a_slow_response_times_out(server):
    server.script("/slow", Step(delay_s=2.0, body=b"late"))
    with fetcher(replace(LOCAL, total_timeout_s=0.3, retries=0)) as f:
        error = refusal(f, server.url("/slow"))
    assert error.reason == "fetch_timeout"
    assert error.transient


def test_a_trickling_body_hits_the_total_timeout(server):
    server.script("/trickle", Step(body=b"x" * 2000, chunk_delay_s=0.05))
    with fetcher(replace(LOCAL, total_timeout_s=0.3, retries=0)) as f:
        assert refusal(f, server.url("/trickle")).reason == "fetch_timeout"


def test_a_500_then_success_is_retried(server):
    server.script("/flaky", Step(status=500, body=b"oops"), Step(status=503), Step(body=b"<p>fine</p>"))
    with fetcher() as f:
        response = f.get(server.url("/flaky"))
    assert response.content == b"<p>fine</p>"
    assert server.paths().count("/flaky") == 3


def test_retries_give_up_with_the_status(server):
    server.script("/down", Step(status=502))
    with fetcher(replace(LOCAL, retries=1)) as f:
        error = refusal(f, server.url("/down"))
    assert (error.reason, error.status, error.transient) == ("fetch_http_502", 502, True)
    assert server.paths().count("/down") == 2


def test_429_honours_retry_after(server):
    server.script("/busy", Step(status=429, headers={"Retry-After": "0"}), Step(body=b"ok"))
    server.script("/later", Step(status=429, headers={"Retry-After": "3600"}))
    with fetcher() as f:
        assert f.get(server.url("/busy")).content == b"ok"
        error = refusal(f, server.url("/later"))
    assert error.reason == "fetch_http_429"
    assert "3600" in error.detail
    assert server.paths().count("/later") == 1  # not hammered: the wait asked for is too long


def test_4xx_is_not_retried_and_keeps_the_status(server):
    with fetcher() as f:
        error = refusal(f, server.url("/feeds/realworld/missing.xml"))
    assert (error.reason, error.status, error.transient) == ("fetch_http_404", 404, False)
    assert server.paths().count("/feeds/realworld/missing.xml") == 1


def test_an_oversized_body_is_refused(server):
    server.script("/big", Step(body=b"a" * 5000))
    with fetcher(replace(LOCAL, max_body_bytes=4096)) as f:
        error = refusal(f, server.url("/big"))
    assert error.reason == "fetch_too_large"
    assert "Content-Length 5000" in error.detail


def test_gzip_is_decoded_and_a_gzip_bomb_is_capped(server):
    page = PAGE.read_bytes()
    server.script("/zipped", Step(body=page, gzip=True))
    server.script("/bomb", Step(body=b"\0" * 2_000_000, gzip=True))
    with fetcher(replace(LOCAL, max_body_bytes=1_000_000)) as f:
        assert f.get(server.url("/zipped")).content == page
        error = refusal(f, server.url("/bomb"))
    assert len(gzip.compress(b"\0" * 2_000_000)) < 1_000_000
    assert error.reason == "fetch_too_large"


def test_robots_txt_is_respected_and_fetched_once_per_origin(server):
    server.script("/robots.txt", Step(body=b"User-agent: *\nDisallow: /private/\n", content_type="text/plain"))
    server.script("/private/page", Step(body=b"secret"))
    server.script("/public/page", Step(body=b"hello"))
    with fetcher() as f:
        assert f.get(server.url("/public/page")).content == b"hello"
        assert refusal(f, server.url("/private/page")).reason == "fetch_robots_disallowed"
    assert server.paths() == ["/robots.txt", "/public/page"]
    with fetcher(replace(LOCAL, respect_robots=False)) as f:
        assert f.get(server.url("/private/page")).content == b"secret"


def test_a_robots_server_error_means_disallow(server):
    server.script("/robots.txt", Step(status=500))
    with fetcher(replace(LOCAL, retries=0)) as f:
        assert refusal(f, server.url("/page")).reason == "fetch_robots_disallowed"
    assert "/page" not in server.paths()


def test_per_host_concurrency_is_capped(server):
    for i in range(4):
        server.script(f"/p{i}", Step(body=b"x", delay_s=0.2))
    with fetcher(replace(LOCAL, per_host_concurrency=1)) as f:
        results = f.get_many([server.url(f"/p{i}") for i in range(4)], workers=4)
    assert all(r.content == b"x" for r in results)
    assert server.max_in_flight == 1


def test_get_many_returns_errors_in_place(server):
    server.script("/ok", Step(body=b"ok"))
    with fetcher() as f:
        results = f.get_many([server.url("/ok"), server.url("/nope"), "ftp://x/"])
    assert results[0].content == b"ok"
    assert [r.reason for r in results[1:]] == ["fetch_http_404", "fetch_bad_scheme"]


def test_parse_retry_after():
    now = datetime(2026, 11, 23, 18, 0, 0, tzinfo=timezone.utc)
    assert parse_retry_after("120") == 120.0
    assert parse_retry_after("Mon, 23 Nov 2026 18:00:30 GMT", now) == 30.0
    assert parse_retry_after("Mon, 23 Nov 2026 17:00:00 GMT", now) == 0.0
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None


def test_robots_can_be_skipped_per_request(server):
    server.script("/robots.txt", Step(body=b"User-agent: *\nDisallow: /\n", content_type="text/plain"))
    server.script("/feed.xml", Step(body=b"<rss/>"))
    with fetcher() as f:
        assert f.get(server.url("/feed.xml"), robots=False).content == b"<rss/>"
    assert server.paths() == ["/feed.xml"]


def test_https_is_verified_against_the_name_though_the_connection_is_pinned(tmp_path):
    server_tls, client_tls = tls_contexts(tmp_path, ["localhost"])
    with FeedServer(tls=server_tls) as secure:
        secure.script("/feed.xml", Step(body=b"<rss/>"))
        port = secure.base_url.rsplit(":", 1)[1]
        with fetcher(verify=client_tls) as f:
            # Connects to the checked address 127.0.0.1 while TLS verifies the name "localhost".
            assert f.get(f"https://localhost:{port}/feed.xml", robots=False).content == b"<rss/>"
            error = refusal(f, f"https://127.0.0.1:{port}/feed.xml")  # the certificate is not for this name
        assert error.reason == "fetch_tls_error" and "CERTIFICATE_VERIFY_FAILED" in error.detail
        assert not error.transient
        with fetcher() as f:  # the system CAs do not know the test CA
            assert refusal(f, f"https://localhost:{port}/feed.xml").reason == "fetch_tls_error"
    assert secure.paths() == ["/feed.xml"]


def test_a_charset_only_in_the_http_header_is_kept_with_the_page(server):
    cyrillic = "<html><body><p>Новости дня: правительство объявило</p></body></html>"
    declared = '<html><head><meta charset="windows-1251"></head><body><p>Новости</p></body></html>'
    server.script("/ru", Step(body=cyrillic.encode("windows-1251"), content_type="text/html; charset=windows-1251"))
    with fetcher() as f:
        response = f.get(server.url("/ru"))
    fixed = html_bytes(response.content, response.headers["content-type"])
    assert fixed.startswith(b"\xef\xbb\xbf") and fixed[3:].decode("utf-8") == cyrillic
    # Bytes that say what they are, or are UTF-8 already, are kept exactly as received.
    for body in (declared.encode("windows-1251"), cyrillic.encode("utf-8")):
        assert html_bytes(body, "text/html; charset=windows-1251") == body
    assert html_bytes(b"<p>caf\xe9</p>", "text/html") == b"<p>caf\xe9</p>"


def test_which_failures_are_worth_another_try():
    assert [is_transient(r) for r in ("fetch_timeout", "fetch_http_503", "fetch_http_429", "fetch_connect_error")] == [True] * 4
    assert [is_transient(r) for r in ("fetch_http_404", "fetch_http_410", "fetch_private_address", "fetch_tls_error",
                                      "fetch_robots_disallowed", "fetch_too_large")] == [False] * 6


def test_ipv6_loopback_is_refused_or_fetched_with_a_bracketed_host():
    with FeedServer(host="::1") as v6:
        v6.script("/feed.xml", Step(body=b"<rss/>"))
        with fetcher(replace(LOCAL, allow_private=False)) as f:
            assert refusal(f, v6.url("/feed.xml")).reason == "fetch_private_address"
        assert v6.requests == []
        with fetcher() as f:
            assert f.get(v6.url("/feed.xml"), robots=False).content == b"<rss/>"
        assert v6.requests[0].headers["host"] == v6.base_url.removeprefix("http://")


def elapsed_get(f: Fetcher, url: str) -> tuple[float, FetchError]:
    started = time.monotonic()
    error = refusal(f, url)
    return time.monotonic() - started, error


@pytest.mark.parametrize("scheme", ["http", "https"])
def test_headers_dripped_a_byte_at_a_time_are_cut_at_the_deadline(scheme, tmp_path):
    # Each byte comes well within httpx's per-read timeout; the whole header would take some 8 s.
    server_tls, client_tls = tls_contexts(tmp_path, ["localhost"]) if scheme == "https" else (None, True)
    with FeedServer(tls=server_tls) as dripping:
        dripping.script("/slowloris", Step(body=b"<p>late</p>", drip_s=0.1))
        port = dripping.base_url.rsplit(":", 1)[1]
        with fetcher(replace(LOCAL, total_timeout_s=1.0, retries=2), verify=client_tls) as f:
            took, error = elapsed_get(f, f"{scheme}://localhost:{port}/slowloris")
        assert (error.reason, error.transient) == ("fetch_timeout", True)
        assert "within 1s" in error.detail
        assert took < 3.0
        assert dripping.paths().count("/slowloris") == 1  # a timeout is not tried again within the fetch


def test_closing_the_fetcher_ends_a_request_in_flight_and_starts_no_other(server):
    server.script("/slowloris", Step(body=b"<p>late</p>", drip_s=0.2))
    outcome: list[object] = []
    f = fetcher(replace(LOCAL, total_timeout_s=30.0, retries=3))
    worker = threading.Thread(target=lambda: outcome.append(refusal(f, server.url("/slowloris"))))
    worker.start()
    deadline = time.monotonic() + 10
    while "/slowloris" not in server.paths() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert "/slowloris" in server.paths()
    f.close()  # what the flow's `with Fetcher(...)` does when SIGTERM or Ctrl-C unwinds it
    worker.join(timeout=3)
    assert not worker.is_alive()
    assert [e.reason for e in outcome] == ["fetch_cancelled"]
    assert server.paths().count("/slowloris") == 1
    assert refusal(f, server.url("/ok")).reason == "fetch_cancelled"


def test_retries_stop_when_the_fetch_budget_is_spent(server):
    server.script("/busy", Step(status=503, headers={"Retry-After": "2"}))
    with fetcher(replace(LOCAL, retries=5, fetch_budget_s=3.0)) as f:
        took, error = elapsed_get(f, server.url("/busy"))
    assert (error.reason, error.status) == ("fetch_http_503", 503)
    assert server.paths().count("/busy") == 2  # a second wait of 2 s would not fit in the second or so left
    assert took < 3.0


def test_the_connection_goes_to_the_address_that_was_checked(server):
    """DNS rebinding: the check saw an allowed address; a second lookup when connecting (the system's,
    here: localhost is 127.0.0.1) would give a forbidden one. Only the checked address is ever contacted."""
    port = int(server.base_url.rsplit(":", 1)[1])
    with FeedServer(host="127.0.0.2", port=port) as approved:
        approved.script("/story", Step(body=b"<p>from the checked address</p>"))
        lookups: list[str] = []

        def rebinding(host: str, _port: int) -> list[str]:
            lookups.append(host)
            return ["127.0.0.2"] if len(lookups) == 1 else ["127.0.0.1"]

        strict = replace(LOCAL, allow_private=False)
        with fetcher(strict, allowed_networks=["127.0.0.2/32"], resolve=rebinding) as f:
            response = f.get(f"http://localhost:{port}/story", robots=False)
            assert response.content == b"<p>from the checked address</p>"
            assert approved.requests[0].headers["host"] == f"localhost:{port}"
            # The next lookup answers with the forbidden address: refused, nothing sent there.
            with pytest.raises(FetchError) as refused:
                f.get(f"http://localhost:{port}/story", robots=False)
            assert refused.value.reason == "fetch_private_address"
        assert lookups == ["localhost", "localhost"]
        assert len(approved.requests) == 1
    assert server.requests == []  # 127.0.0.1, where an unpinned client would have connected
