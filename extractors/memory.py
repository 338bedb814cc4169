"""Python's cyclic garbage collector, set for this pipeline's processes.

Reference counting frees nearly everything a batch allocates (bare trafilatura over the 181 test pages: 138
collections found 10 objects), so the collector's passes are mostly cost, and a full pass walks every object
loaded at start-up: 0.55 CPU-s of a 181-page run's main process, 0.39 s of the Prefect server's import,
0.7-0.9 CPU-s of the workers over 905 pages. Start-up and short-lived workers run with rare passes; a process
that goes on to ingest leaves what it loaded out of later passes (gc.freeze) and collects as often as Python's
default again, so its cyclic garbage does not pile up. Measured on the main process: 181 pages, 0.10 CPU-s of
passes (default 0.55); 3,000 files, 0.45 s and a 320 MB peak (default 0.94 s, 314 MB; rare passes throughout
0.13 s, 361 MB, growing with the run).
"""
from __future__ import annotations

import atexit
import gc

# A pass every 100,000 new objects instead of 700.
RARE_THRESHOLDS = (100_000, 10, 10)
PYTHON_THRESHOLDS = (700, 10, 10)


def collect_rarely() -> None:
    """Start-up and short-lived processes: a collector pass every RARE_THRESHOLDS[0] new objects."""
    gc.set_threshold(*RARE_THRESHOLDS)


def _freeze() -> None:
    """gc.freeze, undone at exit, so a process that exits normally (the temporary server, the fork server) is
    collected and torn down as it always was. The `newsflow` command skips that teardown (flows/shutdown.py)."""
    if not gc.get_freeze_count():
        atexit.register(gc.unfreeze)
    gc.freeze()


def freeze_start_up() -> None:
    """Once the code is loaded, before ingesting: later passes skip it, and come as often as Python's default."""
    _freeze()
    gc.set_threshold(*PYTHON_THRESHOLDS)


def freeze_for_workers() -> None:
    """In the workers' fork server, after loading: workers never walk (and so copy) its objects, and collect rarely.

    Workers live for one batch, so their garbage goes with them.
    """
    gc.collect()
    _freeze()
    collect_rarely()
