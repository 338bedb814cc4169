"""The garbage collector's settings: rare passes at start-up and in workers, start-up objects frozen."""
import gc
import json
import subprocess
import sys
import weakref
from pathlib import Path

from newsflow.extractors.memory import PYTHON_THRESHOLDS, RARE_THRESHOLDS, collect_rarely, freeze_start_up


def test_python_thresholds_are_the_interpreters_defaults():
    out = subprocess.run([sys.executable, "-c", "import gc; print(list(gc.get_threshold()))"], capture_output=True,
                         text=True, check=True).stdout
    assert tuple(json.loads(out)) == PYTHON_THRESHOLDS


class _Node:
    pass


def test_after_start_up_loaded_objects_are_frozen_and_new_garbage_is_still_collected():
    before = gc.get_threshold()
    try:
        collect_rarely()
        assert gc.get_threshold() == RARE_THRESHOLDS
        loaded = _Node()
        freeze_start_up()
        assert gc.get_threshold() == PYTHON_THRESHOLDS
        assert gc.get_freeze_count() > 1000
        assert not any(o is loaded for o in gc.get_objects())  # frozen: out of every later pass
        cycle = _Node()
        cycle.itself = cycle
        gone = weakref.ref(cycle)
        del cycle
        gc.collect()
        assert gone() is None
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)


FORK_SERVER_GC = """
import gc
import json
from dataclasses import replace
from newsflow.extractors.settings import Limits, Settings
from newsflow.extractors.workers import start_workers, worker_pool

if __name__ == "__main__":
    start_workers(replace(Settings(), limits=replace(Limits(), extract_processes=2)))
    with worker_pool(2, 8) as pool:
        print(json.dumps([pool.apply(gc.get_threshold), pool.apply(gc.get_freeze_count), gc.get_threshold()]))
"""


def test_workers_start_with_the_fork_servers_objects_frozen(tmp_path):
    # A fresh interpreter: the fork server preloads only if it is started by start_workers.
    script = tmp_path / "fork_server_gc.py"
    script.write_text(FORK_SERVER_GC)
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=300,
                         cwd=Path(__file__).parent.parent, check=True).stdout
    worker_thresholds, frozen, parent_thresholds = json.loads(out)
    assert tuple(worker_thresholds) == RARE_THRESHOLDS
    assert frozen > 50_000  # trafilatura, lxml, the lexicons: collections in the workers skip them
    assert tuple(parent_thresholds) == PYTHON_THRESHOLDS  # the caller's collector is its own business


UNFROZEN_AT_EXIT = """
import atexit, gc
from newsflow.extractors.memory import freeze_start_up
atexit.register(lambda: print("at exit", gc.get_freeze_count()))  # runs after handlers registered later
freeze_start_up()
print("frozen", gc.get_freeze_count() > 1000)
"""


def test_frozen_objects_are_unfrozen_at_exit_so_shutdown_collects_them_as_always():
    out = subprocess.run([sys.executable, "-c", UNFROZEN_AT_EXIT], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).parent.parent).stdout.split("\n")
    assert out[:2] == ["frozen True", "at exit 0"]
