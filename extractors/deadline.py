"""One HTTP attempt cut at its deadline from another thread, and one URL's time budget (see extractors/fetch.py)."""
from __future__ import annotations

import socket
import threading


class Cutoff:
    """Ends one attempt from another thread (its deadline, or the Fetcher closing) by shutting its socket down,
    which wakes a read blocked in the headers or the body at once; `why` says which ended it."""

    def __init__(self, limit_s: float) -> None:
        self.limit_s = limit_s
        self.why: str | None = None
        self._socket: socket.socket | None = None
        self._lock = threading.Lock()

    def trace(self, event: str, info: dict) -> None:
        """httpx's `trace` request extension: keep the connection's socket (the TLS one after the handshake)."""
        if event in ("connection.connect_tcp.complete", "connection.start_tls.complete"):
            with self._lock:
                self._socket = info["return_value"].get_extra_info("socket")
                if self.why is not None:
                    self._shut()

    def cut(self, why: str) -> None:
        with self._lock:
            self.why = self.why or why
            self._shut()

    def _shut(self) -> None:
        if self._socket is None:
            return  # still connecting: the connect timeout, capped by the deadline, bounds that
        try:
            # socket.socket's own shutdown, also for a TLS socket: SSLSocket.shutdown would drop its SSL
            # object under the reading thread. During the handshake the plain socket is already handed over
            # to TLS and this fails: the handshake is bounded by the connect timeout.
            socket.socket.shutdown(self._socket, socket.SHUT_RDWR)
        except OSError:
            pass  # closed already


class Budget:
    """What is left of one URL's time: its attempts and the waits between them, not the per-host queue."""

    def __init__(self, seconds: float):
        self.left = seconds

    def spend(self, seconds: float) -> None:
        self.left -= seconds
