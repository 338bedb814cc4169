"""One Prefect API for a whole command: the flow process and every Dask worker report to the same server.

prefect-dask sends the flow's settings with each task, and a worker reports to the API URL they hold; with none
it would start a temporary server of its own (6-7 s each, and its runs out of sight). So the URL is always in the
settings: the configured one (PREFECT_API_URL, a profile), else that of a server started for the command.

That server is `prefect server start` (Prefect's public command) on a free loopback port, in a session of its own:
Ctrl-C at the terminal reaches every process of the terminal's group, and a server stopped by it would leave the
interrupted run retrying to record its end for minutes. It is stopped when the command ends, however it ends: a
small parent process holds the server and the read end of a pipe whose write end only the command holds, and
stops the server when the pipe closes (the kernel closes it when the command dies, even by SIGKILL). For frequent
one-shot runs a long-running `prefect server start` and PREFECT_API_URL save its start-up, several seconds each time.
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
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager


class ServerFailed(RuntimeError):
    """The Prefect server this command started did not come up."""


@contextmanager
def shared_api() -> Iterator[str]:
    """The Prefect API URL of this process's settings, within this block, for the workers too: the configured one,
    else that of Prefect's temporary server (started once per process by Prefect itself, stopped at exit)."""
    from prefect.client.orchestration import get_client
    from prefect.settings import PREFECT_API_URL, temporary_settings

    url = PREFECT_API_URL.value()
    if url:
        yield url
        return
    url = str(get_client(sync_client=True).api_url)  # in ephemeral mode this starts the temporary server, once
    with temporary_settings({PREFECT_API_URL: url}):
        yield url


# Runs `prefect server start ...` (its arguments) until the server exits, or until its standard input, a pipe from
# the command, closes: then it stops the server. It exits with the server's status.
_HOLD_SERVER = """
import subprocess, sys, threading
server = subprocess.Popen(sys.argv[1:], stdin=subprocess.DEVNULL)
def stop_at_eof():
    sys.stdin.buffer.read()
    server.terminate()
    try:
        server.wait(10)
    except subprocess.TimeoutExpired:
        server.kill()
threading.Thread(target=stop_at_eof, daemon=True).start()
sys.exit(server.wait())
"""


@contextmanager
def command_api(show_output: bool = False, timeout_s: float = 120.0) -> Iterator[str]:
    """The command's Prefect API URL within this block: the configured one, else a `prefect server start` started
    now (its output shown only with `show_output`, or when it fails) and stopped at exit: after Prefect's own exit
    handlers, which send the last logs and events of the run to it (atexit runs the last registered first)."""
    from prefect.settings import PREFECT_API_URL, temporary_settings

    url = PREFECT_API_URL.value()
    if url:
        yield url
        return
    output = None if show_output else tempfile.TemporaryFile()
    port = _free_port()
    url = f"http://127.0.0.1:{port}/api"
    process = subprocess.Popen(
        [sys.executable, "-c", _HOLD_SERVER, sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1",
         "--port", str(port), "--no-ui", "--no-scheduler", "--no-late-runs", "--analytics-off"],
        stdin=subprocess.PIPE, stdout=output, stderr=output, start_new_session=True,
    )
    atexit.register(_stop, process, output)
    try:
        _wait_healthy(process, url, timeout_s, output)
    except BaseException:
        _stop(process, output)
        raise
    os.environ["PREFECT_API_URL"] = url  # for the processes this command starts (the local cluster's workers)
    with temporary_settings({PREFECT_API_URL: url}):
        yield url


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_healthy(process: subprocess.Popen, url: str, timeout_s: float, output) -> None:
    """Block until the server answers its health check; raise ServerFailed, with the end of its output, if it does not."""
    deadline = time.monotonic() + timeout_s
    while process.poll() is None and time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    why = f"exited with status {process.returncode}" if process.poll() is not None else f"did not answer within {timeout_s:g} s"
    tail = ""
    if output is not None:
        output.seek(0)
        tail = output.read().decode("utf-8", "replace")[-2000:].strip()
    raise ServerFailed(f"the Prefect server this command started (prefect server start) {why}" + (f"; its output ends:\n{tail}" if tail else ""))


def _stop(process: subprocess.Popen, output) -> None:
    """Close the holder's pipe (it stops the server and waits for it), reap the holder and drop the server's output."""
    if output is not None:
        output.close()
    process.stdin.close()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
