"""The end of a `newsflow` process: its exit handlers in Python's order, then the exit, without the teardown.

After a run, the interpreter's own shutdown took 0.4-0.5 s on one core with nothing else left to do (from
the last line of output to the exit: 0.51-0.66 s, 0.14-0.16 s so): its final collection walks every object
Prefect, trafilatura and DuckDB loaded, and it tears down some 2,500 modules to free memory the exit frees
anyway. What an exit must do still happens: the non-daemon threads are joined, the atexit handlers run
(Prefect's event and log workers drain, the temporary server stops, worker pools end, logging flushes), and
stdout and stderr are flushed.
"""
from __future__ import annotations

import atexit
import os
import sys
import threading
from typing import NoReturn


def exit_process(code: int) -> NoReturn:
    """Join non-daemon threads, run the atexit handlers, flush stdout and stderr, and end the process with `code`.

    Only for a process about to exit: never call it inside another program (tests call flows.cli.main).
    """
    # What Py_FinalizeEx runs first, in this order. threading._shutdown also stops idle thread-pool
    # workers (joining them by hand would wait forever); atexit prints and ignores a failing handler.
    threading._shutdown()
    atexit._run_exitfuncs()
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except OSError:  # the reader went away (a closed pipe): Python's own exit reports this as status 120
        code = code or 120
    os._exit(code)
