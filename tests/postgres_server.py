"""A real PostgreSQL server for the tests (Debian's `postgresql` package), on 127.0.0.1 and a free port."""
from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path


def binary(name: str) -> str:
    """A PostgreSQL program: on PATH, else where Debian installs it (/usr/lib/postgresql/<version>/bin)."""
    found = shutil.which(name) or next(iter(sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)), None)
    if not found:
        raise RuntimeError(f"PostgreSQL's {name} is not installed: apt-get install postgresql (`make install` does)")
    return found


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PostgresServer:
    """initdb in a temporary folder, `postgres` listening on 127.0.0.1 only; as the `postgres` user when run as root
    (the server refuses root). `conninfo` is for libpq, and so for DuckLake's ducklake:postgres:."""

    def __init__(self, database: str = "news") -> None:
        self.database = database
        self.port = _free_port()
        self.folder = Path(tempfile.mkdtemp(prefix="newsflow-pg-"))
        self.process: subprocess.Popen | None = None
        self.conninfo = f"dbname={database} host=127.0.0.1 port={self.port} user=postgres"

    def _as_owner(self, *command: str) -> list[str]:
        return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else list(command)

    def __enter__(self) -> PostgresServer:
        if os.geteuid() == 0:
            shutil.chown(self.folder, "postgres")
        data = self.folder / "data"
        subprocess.run(self._as_owner(binary("initdb"), "-D", str(data), "-A", "trust", "-U", "postgres"),
                       check=True, capture_output=True, timeout=120)
        self.process = subprocess.Popen(
            self._as_owner(binary("postgres"), "-D", str(data), "-h", "127.0.0.1", "-p", str(self.port), "-k", str(self.folder)),
            stdout=subprocess.DEVNULL, stderr=(self.folder / "server.log").open("w"),
        )
        deadline = time.monotonic() + 60
        while subprocess.run([binary("pg_isready"), "-h", "127.0.0.1", "-p", str(self.port)], capture_output=True).returncode:
            if time.monotonic() > deadline or self.process.poll() is not None:
                raise RuntimeError("PostgreSQL did not start: " + (self.folder / "server.log").read_text()[-2000:])
            time.sleep(0.2)
        subprocess.run([binary("createdb"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", self.database],
                       check=True, capture_output=True, timeout=60)
        return self

    def __exit__(self, *exc) -> None:
        if self.process is not None:
            self.process.terminate()  # SIGTERM: PostgreSQL's smart shutdown
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        shutil.rmtree(self.folder, ignore_errors=True)
