"""prefect.yaml and `newsflow serve`: the same deployments, schedules and parameters either way."""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import yaml

from newsflow.flows.serve import build_deployments, load_deployment_specs, module_entrypoint

REPO = Path(__file__).resolve().parents[1]
PREFECT_YAML = REPO / "prefect.yaml"


def test_prefect_yaml_is_what_prefect_deploy_reads():
    from prefect.cli.deploy._models import PrefectYamlModel

    model = PrefectYamlModel.model_validate(yaml.safe_load(PREFECT_YAML.read_text()))
    by_name = {d.name: d for d in model.deployments}
    assert sorted(by_name) == ["feeds", "inbox-sweep"]
    assert by_name["inbox-sweep"].entrypoint == "flows/ingest.py:ingest_inbox"
    assert by_name["feeds"].entrypoint == "flows/feeds.py:ingest_feeds"
    assert {d.work_pool.name for d in model.deployments} == {"newsflow"}


def test_shared_parts_live_in_definitions():
    raw = yaml.safe_load(PREFECT_YAML.read_text())
    shared = raw["definitions"]
    for spec in raw["deployments"]:
        assert spec["work_pool"] == shared["work_pools"]["process"]
        assert spec["tags"] == shared["tags"]
        assert spec["parameters"]["db"] == shared["db"]
        assert spec["concurrency_limit"] == shared["one_at_a_time"]
    specs = {s["name"]: s for s in raw["deployments"]}
    assert specs["inbox-sweep"]["schedules"] == [shared["schedules"]["every_minute"]]
    assert specs["feeds"]["schedules"] == [shared["schedules"]["every_15_minutes"]]


def test_serve_builds_the_deployments_of_prefect_yaml():
    built = {d.name: d for d in build_deployments(PREFECT_YAML)}
    assert sorted(built) == ["feeds", "inbox-sweep"]
    sweep, feeds = built["inbox-sweep"], built["feeds"]
    assert sweep.flow_name == "ingest-inbox" and feeds.flow_name == "ingest-feeds"
    assert sweep.entrypoint == "newsflow.flows.ingest.ingest_inbox"  # a module path: runs from any folder
    assert [s.schedule.interval for s in sweep.schedules] == [timedelta(seconds=60)]
    assert [(s.schedule.cron, s.schedule.timezone) for s in feeds.schedules] == [("*/15 * * * *", "UTC")]
    assert sweep.parameters == {"inbox": "inbox", "db": "newsflow.duckdb"}
    assert feeds.parameters == {"sources": ["feeds.txt"], "subscribed": True, "db": "newsflow.duckdb"}
    for deployment in built.values():
        assert deployment.concurrency_limit == 1
        assert deployment.concurrency_options.collision_strategy.value == "CANCEL_NEW"
        assert deployment.tags == ["newsflow"]


def test_parameters_in_prefect_yaml_fit_the_flows():
    import importlib

    for spec in load_deployment_specs(PREFECT_YAML):
        module, name = module_entrypoint(spec["entrypoint"])
        flow = getattr(importlib.import_module(module), name)
        validated = flow.validate_parameters(spec["parameters"])  # raises on a name the flow does not take
        assert {key: validated[key] for key in spec["parameters"]} == spec["parameters"]


def test_module_entrypoint():
    assert module_entrypoint("flows/feeds.py:ingest_feeds") == ("newsflow.flows.feeds", "ingest_feeds")
    assert module_entrypoint("newsflow.flows.feeds:ingest_feeds") == ("newsflow.flows.feeds", "ingest_feeds")


def test_newsflow_serve_without_a_prefect_server_says_how_to_start_one(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"} | {"PREFECT_HOME": str(tmp_path)}
    done = subprocess.run([sys.executable, "-m", "newsflow.flows.cli", "serve"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert "prefect server start" in done.stderr and "PREFECT_API_URL=http://127.0.0.1:4200/api" in done.stderr


def test_newsflow_serve_runs_the_inbox_sweep(tmp_path, prefect_harness, samples_dir):
    """The command a user runs: `newsflow serve` in a folder with an inbox; a run of the sweep lands the files."""
    from prefect.deployments import run_deployment
    from prefect.settings import PREFECT_API_URL

    (tmp_path / "inbox").mkdir()
    sample = sorted(samples_dir.glob("*.txt"))[0]
    shutil.copy(sample, tmp_path / "inbox" / sample.name)
    env = os.environ | {
        "PREFECT_API_URL": PREFECT_API_URL.value(),
        "PREFECT_RUNNER_POLL_FREQUENCY": "1",
        "NEWSFLOW_NER_ENABLED": "false",
        "PYTHONUNBUFFERED": "1",
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "newsflow.flows.cli", "serve"], cwd=tmp_path, env=env,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        run = None
        deadline = time.monotonic() + 60
        while run is None and time.monotonic() < deadline and server.poll() is None:
            try:  # the deployment exists once serve has registered it
                run = run_deployment("ingest-inbox/inbox-sweep", timeout=120)
            except Exception:  # ObjectNotFound until then
                time.sleep(0.5)
        assert run is not None, "serve never registered inbox-sweep"
        assert run.state.is_completed(), run.state
        assert run.parameters == {"inbox": "inbox", "db": "newsflow.duckdb"}
    finally:
        server.send_signal(signal.SIGINT)
        try:
            out, _ = server.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            out, _ = server.communicate()
    assert not any((tmp_path / "inbox").iterdir()), out
    assert [p.name for p in (tmp_path / "archive").rglob("*.txt")] == [sample.name]
    from newsflow.storage.db import connection

    with connection(tmp_path / "newsflow.duckdb", read_only=True) as con:
        assert con.execute("SELECT source_ref, status FROM documents").fetchall() == [(sample.name, "new")]
