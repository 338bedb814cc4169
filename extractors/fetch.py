"""The one HTTP client for feeds and pages: safe addresses only, bounded in time and size, polite per host.

Every hop (the first request and each redirect) is checked the same way: http/https only, the host
resolved and every address refused when it is loopback, private, link-local, multicast, reserved or
otherwise not global (unless allowed), and the connection is pinned to the address that was checked
so a second DNS answer cannot swap it (DNS rebinding).

Time is bounded twice. Each attempt has one deadline, `total_timeout_s`, over connect, headers and body
together: httpx's own timeouts are per read, so a server dripping a byte a second would never trip them; a
watchdog shuts the attempt's socket down at the deadline instead, which ends a read blocked anywhere at
once. And one URL's whole fetch (its redirects, retries and the waits between them, but not the wait for a
per-host slot) has a budget, `fetch_budget_s`. A timed-out attempt is not tried again within the fetch (a
server that used the whole deadline once will likely do it again); the failure is transient, so the next
poll tries the entry again. Closing the Fetcher cuts every request in flight the same way, so a run being
stopped (SIGTERM, Ctrl-C) is not held by the fetches its task threads are in.
"""
from __future__ import annotations

import ipaddress
import random
import re
import socket
import ssl
import threading
import time
import urllib.robotparser
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from urllib.parse import urljoin, urlsplit

import httpx

from newsflow.extractors.deadline import Budget, Cutoff
from newsflow.extractors.settings import Http

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
Resolver = Callable[[str, int], list[str]]

REDIRECT_STATUSES = {301, 302, 303, 307, 308}
RETRY_STATUSES = {429, 500, 502, 503, 504}
# Reasons of failures that may well succeed on the next poll (the entry is not marked as seen).
TRANSIENT_REASONS = {"fetch_timeout", "fetch_connect_error", "fetch_dns_error", "fetch_protocol_error", "fetch_cancelled"}
NOT_RETRIED = {"fetch_timeout", "fetch_dns_error", "fetch_cancelled"}  # transient, but not worth another try now
ROBOTS_MAX_BYTES = 512_000
MAX_CRAWL_DELAY_S = 30.0  # a robots.txt Crawl-delay above this is capped, not obeyed


def is_transient(reason: str) -> bool:
    """Whether a fetch failed in a way the next attempt may not (timeouts, 429 and 5xx, network)."""
    if reason.startswith("fetch_http_") and reason[11:].isdigit():
        return int(reason[11:]) in RETRY_STATUSES
    return reason in TRANSIENT_REASONS


class FetchError(Exception):
    """A fetch that did not produce a usable response; `reason` is the snake_case rejection reason."""

    def __init__(self, reason: str, detail: str = "", *, status: int | None = None, transient: bool = False):
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail
        self.status = status
        self.transient = transient or reason in TRANSIENT_REASONS


@dataclass(slots=True)
class Response:
    """A completed fetch: final URL after redirects, status, lower-cased headers and the decoded body."""

    url: str
    final_url: str
    status: int
    headers: dict[str, str]
    content: bytes
    redirects: list[str] = field(default_factory=list)

    @property
    def not_modified(self) -> bool:
        return self.status == 304


def address_problem(ip: IPAddress) -> str | None:
    """Why an address must not be fetched by default ('loopback', 'private', ...), or None if global."""
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    for name in ("loopback", "link_local", "multicast", "unspecified", "reserved", "private"):
        if getattr(ip, f"is_{name}"):
            return name
    if not ip.is_global:
        return "not_global"
    return None


def system_resolve(host: str, port: int) -> list[str]:
    """Every address the system resolver gives for host (A and AAAA)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
    return list(dict.fromkeys(info[4][0] for info in infos))


def html_bytes(content: bytes, content_type: str | None) -> bytes:
    """Page bytes that decode right without the HTTP headers: when only the Content-Type charset says
    how (no BOM, no <meta>/XML declaration, not UTF-8), the page is transcoded to UTF-8 behind a BOM,
    which readers honour before anything else. Otherwise the bytes are kept exactly as received."""
    from newsflow.extractors.decoding import declared_charset

    match = re.search(r"charset\s*=\s*[\"']?([A-Za-z0-9_\-.:]+)", content_type or "", re.IGNORECASE)
    if match is None or content.startswith((b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")):
        return content
    charset = match.group(1).lower()
    if charset in ("utf-8", "utf8", "us-ascii", "ascii") or declared_charset(content):
        return content
    try:
        content.decode("utf-8")
        return content  # valid UTF-8 whatever the header says: the header is the likelier liar
    except UnicodeDecodeError:
        pass
    try:
        return b"\xef\xbb\xbf" + content.decode(charset).encode("utf-8")
    except (LookupError, UnicodeDecodeError):
        return content


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date), None if absent or bad."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - (now or datetime.now(timezone.utc))).total_seconds())


def _is_tls_failure(exc: BaseException) -> bool:
    """Whether a connection failed in the TLS handshake (certificate, protocol), not on the network."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ssl.SSLError):
            return True
        seen = seen.__cause__ or seen.__context__
    return "[SSL" in str(exc)  # httpcore re-raises ssl errors without chaining in some versions


def _cancelled() -> FetchError:
    return FetchError("fetch_cancelled", "the fetcher was closed (the run is stopping)")


class _HostGate:
    """Per-host politeness: at most `concurrency` requests in flight, starts spaced by `delay_s`."""

    def __init__(self, concurrency: int, delay_s: float, closed: threading.Event):
        self.slots = threading.Semaphore(max(1, concurrency))
        self.delay_s = delay_s
        self.closed = closed  # the Fetcher's: a closing fetcher does not sit out politeness delays
        self._lock = threading.Lock()
        self._next_start = 0.0

    def __enter__(self) -> None:
        self.slots.acquire()
        with self._lock:
            now = time.monotonic()
            start = max(now, self._next_start)
            self._next_start = start + self.delay_s
        stopped = self.closed.wait(start - now) if start > now else self.closed.is_set()
        if stopped:
            self.slots.release()
            raise _cancelled()

    def __exit__(self, *exc: object) -> None:
        self.slots.release()


class Fetcher:
    """Thread-safe GETs with the safety, size, time, redirect, retry, politeness and robots rules of `Http`."""

    def __init__(
        self,
        http: Http,
        *,
        allowed_networks: Iterable[str] = (),
        resolve: Resolver = system_resolve,
        backoff_s: float = 0.5,
        max_retry_after_s: float = 60.0,
        verify: ssl.SSLContext | bool = True,
    ):
        self.http = http
        self.allowed_networks: tuple[IPNetwork, ...] = tuple(
            ipaddress.ip_network(n, strict=False) for n in allowed_networks
        )
        self.resolve = resolve
        self.backoff_s = backoff_s
        self.max_retry_after_s = max_retry_after_s
        self.verify = verify  # an SSLContext with extra CAs (a company proxy's, a test CA); never False in use
        # One connection pool per host name: connections go to pinned addresses, and a pool keyed by
        # address alone could reuse a TLS connection verified for one name for a request to another.
        self._clients: dict[str, httpx.Client] = {}
        self._gates: dict[str, _HostGate] = {}
        self._robots: dict[str, urllib.robotparser.RobotFileParser | None] = {}
        self._robots_locks: dict[str, threading.Lock] = {}
        self._lock = threading.Lock()
        self._closed = threading.Event()
        self._in_flight: set[Cutoff] = set()

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the connections; requests still in flight (in other threads) end as `fetch_cancelled`, and
        no new one starts."""
        with self._lock:
            self._closed.set()
            clients, self._clients = list(self._clients.values()), {}
            in_flight = list(self._in_flight)
        for cutoff in in_flight:
            cutoff.cut("closed")
        for client in clients:
            client.close()

    def _client(self, scheme: str, host: str) -> httpx.Client:
        with self._lock:
            if self._closed.is_set():
                raise _cancelled()
            client = self._clients.get(f"{scheme}://{host}")
            if client is None:
                client = self._clients[f"{scheme}://{host}"] = httpx.Client(
                    timeout=httpx.Timeout(self.http.total_timeout_s, connect=self.http.connect_timeout_s),
                    # No keep-alive: a reused connection is not announced to the trace extension, so its socket
                    # could not be cut at the deadline. Requests to one host are spaced out anyway.
                    limits=httpx.Limits(max_keepalive_connections=0),
                    follow_redirects=False,
                    verify=self.verify,
                    trust_env=False,  # a proxy from the environment would resolve names itself, past the checks
                    headers={"User-Agent": self.http.user_agent, "Accept-Encoding": "gzip, deflate"},
                )
            return client

    # -- safety ---------------------------------------------------------------------------------

    def check_url(self, url: str) -> str:
        """The address to connect to for url, after every safety check; raises FetchError if refused."""
        try:
            parts = urlsplit(url)
            port = parts.port or (443 if parts.scheme == "https" else 80)
        except ValueError as exc:
            raise FetchError("fetch_bad_url", f"{url!r}: {exc}") from exc
        if parts.scheme not in ("http", "https"):
            raise FetchError("fetch_bad_scheme", f"{parts.scheme or 'no'} scheme in {url!r}: only http and https")
        host = parts.hostname
        if not host:
            raise FetchError("fetch_bad_url", f"no host in {url!r}")
        try:
            addresses = [ipaddress.ip_address(host)]
        except ValueError:
            try:
                addresses = [ipaddress.ip_address(a.split("%", 1)[0]) for a in self.resolve(host, port)]
            except (OSError, UnicodeError) as exc:
                raise FetchError("fetch_dns_error", f"{host}: {exc}") from exc
        if not addresses:
            raise FetchError("fetch_dns_error", f"{host}: no addresses")
        if not self.http.allow_private:
            for ip in addresses:  # every address, so a mixed answer cannot sneak a private one in
                problem = address_problem(ip)
                if problem and not any(ip in net for net in self.allowed_networks if ip.version == net.version):
                    where = f"{host} is" if host == str(ip) else f"{host} resolves to {ip},"
                    raise FetchError("fetch_private_address", f"{where} a {problem} address; --allow-private lifts this")
        return str(addresses[0])

    # -- politeness -----------------------------------------------------------------------------

    def _gate(self, host: str) -> _HostGate:
        with self._lock:
            gate = self._gates.get(host)
            if gate is None:
                gate = self._gates[host] = _HostGate(self.http.per_host_concurrency, self.http.per_host_delay_s,
                                                     self._closed)
            return gate

    def robots_allow(self, url: str) -> bool:
        """Whether robots.txt of url's origin lets our User-Agent fetch it (fetched once per origin)."""
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        with self._lock:
            origin_lock = self._robots_locks.setdefault(origin, threading.Lock())
        with origin_lock:
            if origin not in self._robots:
                self._robots[origin] = self._load_robots(origin)
        parser = self._robots[origin]
        return True if parser is None else parser.can_fetch(self.http.user_agent, url)

    def _load_robots(self, origin: str) -> urllib.robotparser.RobotFileParser | None:
        """The parsed robots.txt of an origin; None means no rules (absent, 4xx, or unreachable)."""
        try:
            response = self._follow(f"{origin}/robots.txt", {}, check_robots=False, max_bytes=ROBOTS_MAX_BYTES)
        except FetchError as exc:
            if exc.status is not None and exc.status >= 500:
                # RFC 9309: a server error on robots.txt means "assume complete disallow" for now.
                parser = urllib.robotparser.RobotFileParser()
                parser.parse(["User-agent: *", "Disallow: /"])
                return parser
            return None
        parser = urllib.robotparser.RobotFileParser()
        parser.parse(response.content.decode("utf-8", "replace").splitlines())
        delay = parser.crawl_delay(self.http.user_agent)
        if delay:
            host = urlsplit(origin).hostname or ""
            gate = self._gate(host)
            gate.delay_s = max(gate.delay_s, min(float(delay), MAX_CRAWL_DELAY_S))
        return parser

    # -- fetching -------------------------------------------------------------------------------

    def get(
        self,
        url: str,
        *,
        etag: str | None = None,
        last_modified: str | None = None,
        accept: str | None = None,
        robots: bool = True,
        max_bytes: int | None = None,
    ) -> Response:
        """GET url following redirects by hand; conditional when etag/last_modified are given.

        robots=False skips robots.txt for this request (a feed the user subscribed to is not crawling).
        max_bytes: this request's body limit instead of `max_body_bytes` (sitemaps have their own).
        Each attempt ends within `total_timeout_s`, and the whole fetch (redirects, retries, waits) within
        `fetch_budget_s` plus the time spent waiting for a per-host slot (and for robots.txt, fetched once).
        """
        headers = {}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        if accept:
            headers["Accept"] = accept
        check = robots and self.http.respect_robots
        return self._follow(url, headers, check_robots=check, max_bytes=max_bytes or self.http.max_body_bytes)

    def get_many(self, urls: Sequence[str], *, accept: str | None = None, workers: int = 8) -> list[Response | FetchError]:
        """GET each url concurrently (per-host caps still apply); results in the order of urls."""
        def one(url: str) -> Response | FetchError:
            try:
                return self.get(url, accept=accept)
            except FetchError as exc:
                return exc

        if not urls:
            return []
        with ThreadPoolExecutor(max_workers=max(1, min(workers, len(urls)))) as pool:
            return list(pool.map(one, urls))

    def _follow(self, url: str, headers: dict[str, str], *, check_robots: bool, max_bytes: int) -> Response:
        """Request url and each redirect target, re-checking every hop, all within one budget."""
        budget = Budget(self.http.fetch_budget_s)
        hops: list[str] = []
        current = url
        while True:
            if check_robots and not self.robots_allow(current):
                raise FetchError("fetch_robots_disallowed", f"robots.txt disallows {current}")
            status, response_headers, content = self._with_retries(current, headers, max_bytes, budget)
            if status in REDIRECT_STATUSES:
                location = response_headers.get("location")
                if not location:
                    raise FetchError(f"fetch_http_{status}", f"redirect without Location from {current}", status=status)
                if len(hops) >= self.http.max_redirects:
                    raise FetchError("fetch_too_many_redirects", f"more than {self.http.max_redirects} from {url}")
                hops.append(current)
                current = urljoin(current, location.strip())
                headers = {k: v for k, v in headers.items() if k == "Accept"}  # validators belong to the first URL
                continue
            if status == 304 or 200 <= status < 300:
                return Response(url, current, status, response_headers, content, hops)
            raise FetchError(f"fetch_http_{status}", f"HTTP {status} from {current}", status=status,
                             transient=status in RETRY_STATUSES)

    def _with_retries(
        self, url: str, headers: dict[str, str], max_bytes: int, budget: Budget
    ) -> tuple[int, dict[str, str], bytes]:
        """One hop, retried with exponential backoff on 429/5xx and transport errors, honouring Retry-After,
        while the budget lasts (when the next wait would not fit, the last outcome stands)."""
        attempt = 0
        while True:
            error: FetchError | None = None
            try:
                status, response_headers, content = self._request(url, headers, max_bytes, budget)
            except FetchError as exc:
                if not exc.transient or exc.reason in NOT_RETRIED or attempt >= self.http.retries:
                    raise
                error, wait = exc, None
            else:
                if status not in RETRY_STATUSES or attempt >= self.http.retries:
                    return status, response_headers, content
                wait = parse_retry_after(response_headers.get("retry-after"))
                if wait is not None and wait > self.max_retry_after_s:
                    raise FetchError(f"fetch_http_{status}", f"Retry-After {wait:.0f}s from {url} is too long",
                                     status=status, transient=True)
            if wait is None:
                wait = self.backoff_s * (2 ** attempt) * random.uniform(0.75, 1.25)
            if wait >= budget.left:
                if error is not None:
                    raise error
                return status, response_headers, content
            budget.spend(wait)
            if self._closed.wait(wait):
                raise _cancelled()
            attempt += 1

    def _request(
        self, url: str, headers: dict[str, str], max_bytes: int, budget: Budget
    ) -> tuple[int, dict[str, str], bytes]:
        """A single GET to the checked, pinned address, done within the deadline (or the budget's rest)."""
        address = self.check_url(url)
        logical = httpx.URL(url)
        pinned = logical.copy_with(host=address)
        name = f"[{logical.host}]" if ":" in logical.host else logical.host  # an IPv6 literal keeps its brackets
        host_header = name if logical.port is None else f"{name}:{logical.port}"
        extensions = {"sni_hostname": logical.host} if logical.scheme == "https" else {}
        client = self._client(logical.scheme, logical.host)
        with self._gate(logical.host):
            started = time.monotonic()
            limit = min(self.http.total_timeout_s, budget.left)
            if limit <= 0:
                raise FetchError("fetch_timeout", f"{url}: the fetch's {self.http.fetch_budget_s:g}s are spent")
            cutoff = Cutoff(limit)
            request = client.build_request(
                "GET", pinned, headers={**headers, "Host": host_header}, extensions={**extensions, "trace": cutoff.trace},
                timeout=httpx.Timeout(limit, connect=min(self.http.connect_timeout_s, limit)),
            )
            watchdog = threading.Timer(limit, cutoff.cut, ("deadline",))
            watchdog.daemon = True
            with self._lock:
                if self._closed.is_set():
                    raise _cancelled()
                self._in_flight.add(cutoff)
            watchdog.start()
            try:
                return self._attempt(client, request, url, max_bytes, started + limit, cutoff)
            finally:
                watchdog.cancel()
                with self._lock:
                    self._in_flight.discard(cutoff)
                budget.spend(time.monotonic() - started)

    def _attempt(
        self, client: httpx.Client, request: httpx.Request, url: str, max_bytes: int, deadline: float, cutoff: Cutoff
    ) -> tuple[int, dict[str, str], bytes]:
        """Send the request and read the whole response; an error after a cutoff is the cutoff's."""
        try:
            response = client.send(request, stream=True)
            try:
                response_headers = {k.lower(): v for k, v in response.headers.items()}
                return response.status_code, response_headers, self._read_body(response, url, max_bytes, deadline)
            finally:
                response.close()
        except httpx.RequestError as exc:
            if cutoff.why == "closed":
                raise _cancelled() from exc
            if cutoff.why == "deadline" or isinstance(exc, httpx.TimeoutException):
                raise FetchError("fetch_timeout", f"{url}: no whole response within {cutoff.limit_s:g}s") from exc
            if isinstance(exc, httpx.ConnectError):
                if _is_tls_failure(exc):  # a bad certificate will not be better in a second
                    raise FetchError("fetch_tls_error", f"{url}: {exc}") from exc
                raise FetchError("fetch_connect_error", f"{url}: {exc}") from exc
            if isinstance(exc, httpx.DecodingError):
                raise FetchError("fetch_decoding_error", f"{url}: {exc}") from exc
            raise FetchError("fetch_protocol_error", f"{url}: {type(exc).__name__} {exc}") from exc
        except RuntimeError as exc:  # httpx refuses a client closed between the check and the send
            if cutoff.why == "closed":
                raise _cancelled() from exc
            raise

    def _read_body(self, response: httpx.Response, url: str, max_bytes: int, deadline: float) -> bytes:
        """The decoded body, refusing more than max_bytes (before and after gzip) or reading past the deadline."""
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > max_bytes:
            raise FetchError("fetch_too_large", f"{url}: Content-Length {declared} > {max_bytes}")
        chunks: list[bytes] = []
        size = 0
        for chunk in response.iter_bytes():
            size += len(chunk)
            if size > max_bytes:
                raise FetchError("fetch_too_large", f"{url}: body over {max_bytes} bytes")
            if time.monotonic() > deadline:
                raise FetchError("fetch_timeout", f"{url}: body not read within {self.http.total_timeout_s:g}s")
            chunks.append(chunk)
        return b"".join(chunks)
