"""Recorded runs: each flow run is one `runs` row, written when it starts and again when it ends, however it ends."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from newsflow.storage.db import compact_lake, connection
from newsflow.storage.held import held
from newsflow.storage.lake import is_lake
from newsflow.storage.writes import finish_run, start_run


COMPACT_EVERY_PARTS = 20  # a watch session merges its lake's small files every this many micro-batches


@dataclass
class RecordedRun:
    """The run being recorded: its id, and the totals the flow adds up as it goes (written at the end)."""

    run_id: str
    flow: str
    totals: dict[str, int] = field(default_factory=dict)


def run_id_now() -> str:
    """The Prefect flow run id, so `runs` rows match the Prefect UI."""
    from prefect.runtime import flow_run

    return str(flow_run.id or datetime.now(timezone.utc).strftime("local-%Y%m%dT%H%M%S%f"))


@contextmanager
def recorded_run(db: str | Path, flow: str, part: int | None = None) -> Iterator[RecordedRun]:
    """Record the run started (marking runs of dead processes crashed first), then completed with its totals, or
    failed with the error on any exception, KeyboardInterrupt included (the totals so far are kept); re-raises.

    `part` numbers the micro-batches of one long flow run (`watch`): their run ids are `<flow run id>/<part>`.
    A lake is attached once for the run, every stage of every batch included (storage/held.py); a watch session
    holds it for all its micro-batches already.
    """
    with held(db), _recorded(db, flow, part) as run:
        yield run


@contextmanager
def _recorded(db: str | Path, flow: str, part: int | None) -> Iterator[RecordedRun]:
    """recorded_run's rows and compaction, inside its held() block."""
    run = RecordedRun(run_id_now() if part is None else f"{run_id_now()}/{part}", flow)
    with connection(db) as con:
        start_run(con, run.run_id, flow)
    try:
        yield run
    except BaseException as exc:
        with connection(db) as con:
            finish_run(con, run.run_id, run.totals, error=f"{type(exc).__name__}: {exc}")
        raise
    with connection(db) as con:
        finish_run(con, run.run_id, run.totals)
    if is_lake(db) and (part is None or part % COMPACT_EVERY_PARTS == 0):
        compact_lake(db)
