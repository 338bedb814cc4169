"""The temporary Prefect server the CLI starts itself when no API is configured."""
import os
import shutil
import sqlite3
import subprocess
import sys
import urllib.request
from pathlib import Path

from newsflow.flows.temporary_server import api_url_configured, start_temporary_server


def test_an_api_url_anywhere_prefect_looks_means_no_server(tmp_path):
    home, cwd = tmp_path / "home", tmp_path / "work"
    home.mkdir(), cwd.mkdir()
    env = {"PREFECT_HOME": str(home)}
    assert not api_url_configured(env, cwd)
    assert api_url_configured(env | {"PREFECT_API_URL": "http://127.0.0.1:4200/api"}, cwd)

    (home / "profiles.toml").write_text('active = "local"\n[profiles.local]\nPREFECT_API_URL = "http://127.0.0.1:4200/api"\n')
    assert api_url_configured(env, cwd)
    assert not api_url_configured(env | {"PREFECT_PROFILE": "other"}, cwd)
    (home / "profiles.toml").write_text('active = "ephemeral"\n[profiles.ephemeral]\nPREFECT_SERVER_ALLOW_EPHEMERAL_MODE = "true"\n')
    assert not api_url_configured(env, cwd)

    (cwd / "prefect.toml").write_text('[api]\nurl = "http://127.0.0.1:4200/api"\n')
    assert api_url_configured(env, cwd)
    (cwd / "prefect.toml").unlink()
    (cwd / "pyproject.toml").write_text('[tool.prefect.api]\nurl = "http://127.0.0.1:4200/api"\n')
    assert api_url_configured(env, cwd)
    (cwd / "pyproject.toml").write_text("[tool.prefect.api]\nurl = \n")  # broken TOML is no configuration
    assert not api_url_configured(env, cwd)
    (cwd / ".env").write_text("PREFECT_API_URL=http://127.0.0.1:4200/api\n")
    assert api_url_configured(env, cwd)


def test_the_server_answers_then_stops(tmp_path, monkeypatch):
    monkeypatch.setenv("PREFECT_API_URL", "")  # unset for the server; restored (removed) afterwards
    monkeypatch.setenv("PREFECT_HOME", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    server = start_temporary_server()
    assert server is not None
    try:
        url = server.wait_ready()
        assert os.environ["PREFECT_API_URL"] == url == server.api_url
        assert urllib.request.urlopen(f"{url}/health", timeout=5).read() == b"true"
    finally:
        server.stop()
    assert server.process.poll() is not None


def test_a_server_that_cannot_start_is_reported_with_its_output_not_on_the_terminal(tmp_path, monkeypatch, capfd):
    import pytest

    not_a_folder = tmp_path / "home"
    not_a_folder.write_text("x")  # Prefect cannot create its database under it
    monkeypatch.setenv("PREFECT_API_URL", "")
    monkeypatch.setenv("PREFECT_HOME", str(not_a_folder))
    monkeypatch.chdir(tmp_path)
    server = start_temporary_server()
    try:
        with pytest.raises(RuntimeError, match="exited with status") as failure:
            server.wait_ready(timeout_s=60)
    finally:
        server.stop()
    assert "unable to open database file" in str(failure.value)  # the end of the server's own output
    assert "unable to open database file" not in capfd.readouterr().err


def test_cli_runs_its_flow_on_the_temporary_server_and_leaves_nothing_running(tmp_path, samples_dir):
    inbox = tmp_path / "inbox"
    shutil.copytree(samples_dir, inbox)
    home = tmp_path / "prefect-home"
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"} | {"PREFECT_HOME": str(home)}
    done = subprocess.run([sys.executable, "-m", "newsflow.flows.cli", "ingest", "inbox", str(inbox), "--db", str(tmp_path / "n.duckdb")],
                          capture_output=True, text=True, env=env, timeout=300, cwd=Path(__file__).parents[1])
    assert done.returncode == 0, done.stderr[-3000:]
    assert "new articles: 3" in done.stdout
    # The flow run is recorded in the temporary server's database under this PREFECT_HOME.
    with sqlite3.connect(home / "prefect.db") as con:
        runs = con.execute("SELECT f.name, r.state_type FROM flow_run r JOIN flow f ON f.id = r.flow_id").fetchall()
    assert runs == [("ingest-inbox", "COMPLETED")]
    assert _servers_under(home) == []


def _servers_under(home: Path) -> list[int]:
    """Pids of Prefect server processes started with this PREFECT_HOME."""
    found = []
    for proc in Path("/proc").iterdir():
        try:
            if b"prefect.server.api.server:create_app" in (proc / "cmdline").read_bytes() and \
                    f"PREFECT_HOME={home}".encode() in (proc / "environ").read_bytes():
                found.append(int(proc.name))
        except (OSError, ValueError):
            continue
    return found
