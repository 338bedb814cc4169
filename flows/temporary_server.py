"""Prefect's temporary API server, started by the CLI at once instead of by Prefect at its first API call.

Without PREFECT_API_URL, Prefect starts a temporary server on the first API call: it imports the
whole server app into this process first (~3 s here), then waits for the server process to come up
(~4 s), while nothing else runs. Started here, before Prefect is even imported, the server process
comes up on the other core while this one imports Prefect and the workers preload their models.
It is the same server Prefect would start (same app and environment flags; Python's garbage collector set as
in newsflow's own process), stopped at exit.
Its output goes to a temporary file unless asked for (`newsflow -v`): stopped at exit, the server may log
the cancelled flush of its last task-run events, a traceback that is no concern of a finished run. A
server that fails to start is reported with the end of that output.
"""
from __future__ import annotations

import atexit
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import tomllib
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import IO

SERVER_APP = "prefect.server.api.server:create_app"


@dataclass(slots=True)
class TemporaryServer:
    process: subprocess.Popen
    port: int
    output: IO[bytes] | None = None  # the server's stderr, when not shown

    def last_output(self, chars: int = 2000) -> str:
        """The end of the server's captured output ('' when it went to the terminal)."""
        if self.output is None or self.output.closed:
            return ""
        self.output.seek(0)
        return self.output.read().decode("utf-8", "replace")[-chars:].strip()

    def _failure(self, message: str) -> RuntimeError:
        tail = self.last_output()
        return RuntimeError(f"{message}; its output ends:\n{tail}" if tail else message)

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api"

    def wait_ready(self, timeout_s: float = 120.0) -> str:
        """Block until the server answers its health check; its API URL. Raises RuntimeError if it does not."""
        deadline = time.monotonic() + timeout_s
        while True:
            status = self.process.poll()
            if status is not None:
                raise self._failure(f"Prefect's temporary server exited with status {status} before it was ready")
            try:
                with urllib.request.urlopen(f"{self.api_url}/health", timeout=2) as response:
                    if response.status == 200:
                        return self.api_url
            except OSError:
                pass
            if time.monotonic() > deadline:
                error = self._failure(f"Prefect's temporary server did not answer within {timeout_s:g} s")
                self.stop()
                raise error
            time.sleep(0.05)

    def stop(self) -> None:
        """Terminate the server process, reap it and discard its captured output."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.output is not None:
            self.output.close()


def api_url_configured(environ: dict[str, str] | None = None, cwd: Path | None = None) -> bool:
    """Whether a Prefect API URL is set where Prefect looks for one (then no server is started).

    Read without importing Prefect, which is the cost this module avoids: the environment, a .env,
    prefect.toml or pyproject.toml in the working directory, and the active Prefect profile.
    """
    env = os.environ if environ is None else environ
    here = Path.cwd() if cwd is None else cwd
    if env.get("PREFECT_API_URL"):
        return True
    if any(line.split("=", 1)[0].strip() == "PREFECT_API_URL" for line in _lines(here / ".env")):
        return True
    if _toml(here / "prefect.toml").get("api", {}).get("url"):
        return True
    if _toml(here / "pyproject.toml").get("tool", {}).get("prefect", {}).get("api", {}).get("url"):
        return True
    home = Path(env.get("PREFECT_HOME") or Path.home() / ".prefect").expanduser()
    profiles = _toml(Path(env.get("PREFECT_PROFILES_PATH") or home / "profiles.toml").expanduser())
    active = env.get("PREFECT_PROFILE") or profiles.get("active") or "ephemeral"
    return bool(profiles.get("profiles", {}).get(active, {}).get("PREFECT_API_URL"))


def _lines(path: Path) -> list[str]:
    try:
        return path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return []


def _toml(path: Path) -> dict:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return {}


def _die_with_parent() -> None:
    """In the child, before exec: be killed when the CLI dies, even by SIGKILL (Linux only)."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _launch(output: IO[bytes] | None) -> tuple[subprocess.Popen, int]:
    """Start the server process Prefect's SubprocessASGIServer would start, on a loopback port bound here.

    Binding here (uvicorn serves the inherited socket) leaves no window for another process to take the
    port, and clients connecting before the server is up wait in the listen backlog instead of failing.
    """
    env = {**os.environ, "PREFECT_UI_ENABLED": "0", "PREFECT__SERVER_EPHEMERAL": "1", "PREFECT__SERVER_FINAL": "1"}
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(128)
        process = subprocess.Popen(
            # `python -m uvicorn`, with the app imported first under rare collector passes and then frozen
            # (extractors.memory): its import took 0.39 CPU-s of collection, 0.13 s so.
            [sys.executable, "-c", "from newsflow.extractors.memory import collect_rarely, freeze_start_up; collect_rarely(); "
             f"import {SERVER_APP.split(':')[0]}; freeze_start_up(); import uvicorn; uvicorn.main()",
             "--fd", str(sock.fileno()), "--factory",
             SERVER_APP, "--log-level", "error", "--lifespan", "on"],
            env=env, stdin=subprocess.DEVNULL, stderr=output, pass_fds=[sock.fileno()],
            preexec_fn=_die_with_parent if sys.platform == "linux" else None,
            # Out of the terminal's process group: on Ctrl-C the flow run still records its Crashed state
            # on this server (a dead server makes Prefect retry for minutes); it is stopped at exit.
            start_new_session=True,
        )
        return process, sock.getsockname()[1]


def start_temporary_server(quiet: bool = True) -> TemporaryServer | None:
    """Start the server now unless an API URL is configured, and point PREFECT_API_URL at it; stopped at exit.
    `quiet`: its output is kept in a temporary file (shown if it fails to start), not on the terminal.

    Call it before Prefect is imported: Prefect reads PREFECT_API_URL once, at import.
    """
    if api_url_configured():
        return None
    output = tempfile.TemporaryFile() if quiet else None
    process, port = _launch(output)
    server = TemporaryServer(process, port, output)
    atexit.register(server.stop)
    os.environ["PREFECT_API_URL"] = server.api_url
    return server
