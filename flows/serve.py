"""`newsflow serve`: run the deployments of prefect.yaml on their schedules in this one process.

prefect.yaml is the single source of the deployments: `prefect deploy --all` registers them for a process
work pool, and `serve()` builds the same deployments (names, parameters, schedules, concurrency) with
`flow.to_deployment(...)` and hands them to `prefect.serve(...)`, which needs no work pool or worker.
"""
from __future__ import annotations

import importlib
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

REPO_FILE = Path(__file__).resolve().parents[1] / "prefect.yaml"


def find_prefect_yaml(path: str | Path | None = None) -> Path:
    """The given file, else ./prefect.yaml, else the one shipped beside the flows package."""
    for candidate in ([Path(path)] if path else [Path("prefect.yaml"), REPO_FILE]):
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(f"no prefect.yaml at {path or 'prefect.yaml'} (nor {REPO_FILE})")


def load_deployment_specs(path: str | Path | None = None) -> list[dict[str, Any]]:
    """The `deployments:` entries of prefect.yaml, with YAML anchors from `definitions:` resolved."""
    import yaml

    config = yaml.safe_load(find_prefect_yaml(path).read_text(encoding="utf-8")) or {}
    specs = config.get("deployments") or []
    if not specs:
        raise ValueError(f"{find_prefect_yaml(path)} defines no deployments")
    return specs


def module_entrypoint(entrypoint: str) -> tuple[str, str]:
    """`flows/ingest.py:ingest_inbox` -> (`newsflow.flows.ingest`, `ingest_inbox`), so flows load from any directory."""
    file, _, name = entrypoint.partition(":")
    module = "newsflow." + file.removesuffix(".py").replace("/", ".") if file.endswith(".py") else file
    return module, name


def build_schedules(entries: list[dict[str, Any]] | None) -> list:
    """prefect.yaml schedule entries (interval seconds or cron, optional timezone) as Prefect schedules."""
    from prefect.schedules import Cron, Interval

    schedules = []
    for entry in entries or []:
        common = {k: entry[k] for k in ("timezone", "active", "parameters", "slug") if k in entry}
        if "cron" in entry:
            schedules.append(Cron(entry["cron"], day_or=entry.get("day_or", True), **common))
        elif "interval" in entry:
            interval = entry["interval"]
            schedules.append(Interval(timedelta(seconds=interval) if isinstance(interval, (int, float)) else interval, **common))
        else:
            raise ValueError(f"schedule {entry!r} needs `cron` or `interval`")
    return schedules


def concurrency_of(spec: dict[str, Any]):
    """The deployment's concurrency limit (an int, or limit + collision strategy)."""
    value = spec.get("concurrency_limit")
    if isinstance(value, dict):
        from prefect.client.schemas.objects import ConcurrencyLimitConfig

        return ConcurrencyLimitConfig(**value)
    return value


def build_deployments(path: str | Path | None = None) -> list:
    """One RunnerDeployment per prefect.yaml deployment, as `prefect deploy --all` would register it."""
    from prefect.deployments.runner import EntrypointType

    deployments = []
    for spec in load_deployment_specs(path):
        module, name = module_entrypoint(spec["entrypoint"])
        flow = getattr(importlib.import_module(module), name)
        deployments.append(
            flow.to_deployment(
                name=spec["name"],
                description=spec.get("description"),
                tags=spec.get("tags"),
                parameters=spec.get("parameters") or {},
                schedules=build_schedules(spec.get("schedules")),
                concurrency_limit=concurrency_of(spec),
                paused=spec.get("paused"),
                entrypoint_type=EntrypointType.MODULE_PATH,
            )
        )
    return deployments


def serve(path: str | Path | None = None) -> None:
    """Run every deployment of prefect.yaml on its schedule until Ctrl-C; needs a Prefect server."""
    from prefect import serve as prefect_serve
    from prefect.settings import PREFECT_API_URL

    if not PREFECT_API_URL.value():
        # Prefect's temporary server does not run its scheduler service: nothing would ever be scheduled.
        print(
            "newsflow serve: schedules need a Prefect server. Start one with `prefect server start` "
            "(in another terminal), then `export PREFECT_API_URL=http://127.0.0.1:4200/api` and run "
            "`newsflow serve` again. (`newsflow watch` needs no server.)",
            file=sys.stderr,
        )
        raise SystemExit(2)
    prefect_serve(*build_deployments(path))
