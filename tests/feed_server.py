"""A real HTTP server on 127.0.0.1 for tests: serves files (with ETag/Last-Modified/304) and scripted replies.

    with FeedServer(root=FEEDS) as server:
        server.script("/flaky", Step(status=500), Step(body=b"ok"))
        fetcher.get(server.url("/flaky"))
        assert [r.path for r in server.requests] == ["/robots.txt", "/flaky", "/flaky"]
"""
from __future__ import annotations

import gzip
import hashlib
import mimetypes
import socket
import ssl
import threading
import time
from dataclasses import dataclass, field
from email.utils import formatdate, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

CONTENT_TYPES = {
    ".xml": "application/xml", ".rss": "application/rss+xml", ".atom": "application/atom+xml",
    ".rdf": "application/rdf+xml", ".json": "application/feed+json", ".opml": "text/x-opml",
    ".html": "text/html; charset=utf-8", ".txt": "text/plain; charset=utf-8",
}


@dataclass
class Step:
    """One scripted reply; a path's steps are used in order and the last one repeats."""

    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0  # before the status line (a server that thinks too long)
    chunk_delay_s: float = 0.0  # between body chunks (a server that trickles)
    drip_s: float = 0.0  # the status line and headers one byte every drip_s seconds (a slow-loris reply)
    gzip: bool = False
    content_type: str = "text/html; charset=utf-8"


@dataclass
class Request:
    """What the server saw: method, path with query, and the request headers (lower-cased names)."""

    method: str
    path: str
    headers: dict[str, str]


class FeedServer:
    """ThreadingHTTPServer on an ephemeral loopback port; every request is logged in `requests`."""

    def __init__(self, root: Path | None = None, host: str = "127.0.0.1", tls: ssl.SSLContext | None = None,
                 port: int = 0):
        self.root = root
        self.host = host
        self.port = port  # 0: an ephemeral one
        self.tls = tls  # a server-side context: serve https
        self.requests: list[Request] = []
        self.replies: list[tuple[str, int, int]] = []  # (path, status, body bytes) of each reply sent whole or not
        self._scripts: dict[str, list[Step]] = {}
        self.in_flight = 0
        # The most requests the server was answering at once, each from its arrival until its reply begins: once
        # the reply is out, the client may send its next request before this thread runs again.
        self.max_in_flight = 0
        self._lock = threading.Lock()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def __enter__(self) -> FeedServer:
        handler = type("Handler", (_Handler,), {"owner": self})
        server_class = ThreadingHTTPServer
        if ":" in self.host:
            server_class = type("Server6", (ThreadingHTTPServer,), {"address_family": socket.AF_INET6})
        self._httpd = server_class((self.host, self.port), handler)
        self._httpd.daemon_threads = True
        self._httpd.block_on_close = False
        if self.tls is not None:
            self._httpd.socket = self.tls.wrap_socket(self._httpd.socket, server_side=True)
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._httpd is not None
        self._httpd.shutdown()
        self._httpd.server_close()

    @property
    def base_url(self) -> str:
        assert self._httpd is not None
        scheme = "https" if self.tls is not None else "http"
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{scheme}://{host}:{self._httpd.server_address[1]}"

    def url(self, path: str) -> str:
        return self.base_url + path

    def script(self, path: str, *steps: Step) -> str:
        """Reply to path with steps in order (the last repeats); returns the full URL."""
        with self._lock:
            self._scripts[path] = list(steps)
        return self.url(path)

    def paths(self) -> list[str]:
        with self._lock:
            return [r.path for r in self.requests]

    def _enter(self) -> None:
        with self._lock:
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)

    def _leave(self) -> None:
        with self._lock:
            self.in_flight -= 1

    def _log(self, request: Request) -> Step | None:
        with self._lock:
            self.requests.append(request)
            steps = self._scripts.get(request.path)
            if not steps:
                return None
            return steps.pop(0) if len(steps) > 1 else steps[0]


def tls_contexts(tmp: Path, names: list[str]) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """A throwaway CA and a server certificate for names: (server context, client context trusting the CA)."""
    import datetime as dt
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = dt.datetime.now(dt.timezone.utc)
    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "newsflow test CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
          .serial_number(1).not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=1))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True).sign(ca_key, hashes.SHA256()))
    sans = [x509.IPAddress(ipaddress.ip_address(n)) if n[0].isdigit() else x509.DNSName(n) for n in names]
    cert = (x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])]))
            .issuer_name(ca_name).public_key(key.public_key()).serial_number(2)
            .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName(sans), critical=False).sign(ca_key, hashes.SHA256()))
    cert_path, key_path, ca_path = tmp / "server.pem", tmp / "server.key", tmp / "ca.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    ca_path.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(cert_path, key_path)
    return server, ssl.create_default_context(cafile=str(ca_path))


class _Handler(BaseHTTPRequestHandler):
    owner: FeedServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:  # keep test output quiet
        pass

    def do_GET(self) -> None:
        headers = {k.lower(): v for k, v in self.headers.items()}
        step = self.owner._log(Request("GET", self.path, headers))
        self.owner._enter()
        self._answering = True
        try:
            if step is not None:
                self._reply_step(step, headers)
            else:
                self._reply_file(headers)
        finally:
            self._replying()

    def _replying(self) -> None:
        if self._answering:
            self._answering = False
            self.owner._leave()

    def _reply_step(self, step: Step, headers: dict[str, str]) -> None:
        if step.delay_s:
            time.sleep(step.delay_s)
        body = step.body
        extra = dict(step.headers)
        if step.gzip:
            body = gzip.compress(body)
            extra["Content-Encoding"] = "gzip"
        if step.drip_s:
            self._drip(step, body)
            return
        self._send(step.status, body, step.content_type, extra, step.chunk_delay_s)

    def _drip(self, step: Step, body: bytes) -> None:
        """Headers one byte at a time, each soon enough to keep a per-read timeout from ever firing."""
        self._replying()
        head = (f"HTTP/1.1 {step.status} OK\r\nContent-Type: {step.content_type}\r\n"
                f"Content-Length: {len(body)}\r\n" + "".join(f"{k}: {v}\r\n" for k, v in step.headers.items())
                + "\r\n").encode("latin-1")
        try:
            for i in range(len(head)):
                self.wfile.write(head[i:i + 1])
                self.wfile.flush()
                time.sleep(step.drip_s)
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass
        self.close_connection = True

    def _reply_file(self, headers: dict[str, str]) -> None:
        root = self.owner.root
        rel = unquote(urlsplit(self.path).path).lstrip("/")
        path = (root / rel).resolve() if root is not None and rel else None
        if path is None or root is None or not path.is_relative_to(root.resolve()) or not path.is_file():
            self._send(404, b"not found", "text/plain", {})
            return
        body = path.read_bytes()
        etag = '"' + hashlib.sha1(body).hexdigest()[:16] + '"'
        mtime = int(path.stat().st_mtime)
        validators = {"ETag": etag, "Last-Modified": formatdate(mtime, usegmt=True)}
        # RFC 9110 13.2.2: If-Modified-Since is not evaluated when If-None-Match is sent (a file rewritten within the
        # second of its last read has a new ETag and the same Last-Modified).
        unchanged = headers["if-none-match"] == etag if "if-none-match" in headers else \
            _not_modified_since(headers.get("if-modified-since"), mtime)
        if unchanged:
            self._send(304, b"", None, validators)
            return
        content_type = CONTENT_TYPES.get(path.suffix.lower()) or mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        self._send(200, body, content_type, validators)

    def _send(self, status: int, body: bytes, content_type: str | None, extra: dict[str, str], chunk_delay_s: float = 0.0) -> None:
        self._replying()
        with self.owner._lock:
            self.owner.replies.append((self.path, status, len(body)))
        try:
            self.send_response(status)
            if content_type and status != 304:
                self.send_header("Content-Type", content_type)
            for name, value in extra.items():
                self.send_header(name, value)
            if status != 304:
                self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if not chunk_delay_s:
                self.wfile.write(body)
                return
            for i in range(0, len(body), 64):
                self.wfile.write(body[i : i + 64])
                self.wfile.flush()
                time.sleep(chunk_delay_s)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (timeout or size cap), which is what some tests want


def _not_modified_since(value: str | None, mtime: int) -> bool:
    if not value:
        return False
    try:
        return mtime <= parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError):
        return False
