"""A real Prefect server on 127.0.0.1 for a benchmark's commands (what `newsflow serve` and deployments use)."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def prefect_server(home: Path, port: int, wait_s: float = 300,
                   settle: Callable[[int], None] | None = None) -> Iterator[dict[str, str]]:
    """`prefect server start` with its own PREFECT_HOME, until it answers /health (then `settle(pid)`, e.g. to wait
    until it is idle); yields the env to reach it."""
    home.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "PREFECT_HOME": str(home), "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}
    log = home / "prefect-server.log"
    with log.open("w") as out:
        server = subprocess.Popen([sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1", "--port", str(port)],
                                  env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}/api"
    try:
        deadline = time.monotonic() + wait_s
        while True:
            try:
                urllib.request.urlopen(f"{url}/health", timeout=2).read()
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise RuntimeError("the Prefect server did not start: " + log.read_text()[-2000:])
                time.sleep(0.5)
        if settle is not None:
            settle(server.pid)
        yield {"PREFECT_API_URL": url, "PREFECT_HOME": str(home)}
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGTERM)
        server.wait()
