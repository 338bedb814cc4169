"""flows/api.py: without PREFECT_API_URL a command starts one Prefect server, and its Dask workers use it."""
import os
import shutil
import subprocess
import sys
import sqlite3
import time
from contextlib import closing
from pathlib import Path

import duckdb

from tests.test_tasks import cmdline, descendants


def server_processes(pids: list[int]) -> set[int]:
    """The Prefect API servers among these processes: `python -m prefect server start`, or the uvicorn app of
    Prefect's temporary server (not the process that holds the command's server and stops it)."""
    found = set()
    for pid in pids:
        try:
            argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if argv[1:5] == [b"-m", b"prefect", b"server", b"start"] or any(b"prefect.server.api.server" in a for a in argv):
            found.add(pid)
    return found


def test_without_an_api_url_the_command_and_its_workers_share_one_server_stopped_at_exit(tmp_path, shared_dir):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    for page in sorted((shared_dir / "benchdata" / "extraction_aeb" / "html").glob("*.html"))[:40]:
        shutil.copy(page, inbox / page.name)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_API", "NEWSFLOW_"))}
    env.update(PREFECT_HOME=str(tmp_path / "prefect"), PREFECT_LOGGING_LEVEL="WARNING", NEWSFLOW_CHUNK_SIZE="4",
               NEWSFLOW_WORKERS="2", NEWSFLOW_CACHE_DIR=os.environ["NEWSFLOW_CACHE_DIR"])
    proc = subprocess.Popen([sys.executable, "-m", "newsflow.flows.cli", "ingest", "inbox", str(inbox), "--db",
                             str(tmp_path / "news.duckdb"), "--no-entities"],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    seen: set[int] = set()
    workers: set[int] = set()
    deadline = time.monotonic() + 600
    while proc.poll() is None and time.monotonic() < deadline:
        # The command's server runs in a session of its own: look at every process, not only the command's children.
        everyone = [int(p.name) for p in Path("/proc").iterdir() if p.name.isdigit()]
        ours = [p for p in everyone if f"PREFECT_HOME={tmp_path / 'prefect'}" in _environ(p)]
        seen |= server_processes(ours)
        workers |= {p for p in descendants(proc.pid) if "multiprocessing" in cmdline(p) and "spawn" in cmdline(p)}
        time.sleep(0.1)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err[-3000:]
    assert "files: 40" in out
    assert len(seen) == 1, [cmdline(p) for p in seen]  # one server: no worker started one of its own
    assert workers, "no local cluster worker was seen"
    assert not any(Path(f"/proc/{p}").exists() for p in seen)  # stopped at exit
    con = duckdb.connect(str(tmp_path / "news.duckdb"), read_only=True)
    (run_id,), = con.execute("SELECT run_id FROM runs").fetchall()
    con.close()
    # The task runs of the workers' chunks were recorded in that server's database (PREFECT_HOME's).
    with closing(sqlite3.connect(tmp_path / "prefect" / "prefect.db")) as prefect_db:
        names = [n for (n,) in prefect_db.execute("SELECT name FROM task_run WHERE flow_run_id = ?", [run_id])]
    assert sum(n.startswith("extract_and_clean") for n in names) == 4, names  # 40 documents: two chunks per worker


def _environ(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/environ").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def test_a_command_killed_by_sigkill_leaves_no_prefect_server_behind(tmp_path, samples_dir):
    home = tmp_path / "prefect"
    inbox = tmp_path / "inbox"
    shutil.copytree(samples_dir, inbox)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_API", "NEWSFLOW_"))}
    env.update(PREFECT_HOME=str(home), PREFECT_LOGGING_LEVEL="WARNING", NEWSFLOW_CACHE_DIR=os.environ["NEWSFLOW_CACHE_DIR"])
    proc = subprocess.Popen([sys.executable, "-m", "newsflow.flows.cli", "ingest", "inbox", str(inbox), "--db",
                             str(tmp_path / "news.duckdb")], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def ours() -> set[int]:
        pids = [int(p.name) for p in Path("/proc").iterdir() if p.name.isdigit() and int(p.name) != proc.pid]
        return {p for p in pids if f"PREFECT_HOME={home}" in _environ(p) and cmdline(p)}  # zombies have no cmdline

    deadline = time.monotonic() + 300
    while not server_processes(list(ours())) and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server_processes(list(ours())), "the command started no Prefect server"
    proc.kill()  # no exit handler runs
    proc.wait()
    deadline = time.monotonic() + 60
    while ours() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not ours(), [cmdline(p) for p in ours()]
