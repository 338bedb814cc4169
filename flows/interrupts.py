"""Ctrl-C that always stops a `newsflow` process, whatever it lands in.

Two places lose it without help: Python drops a KeyboardInterrupt raised while a finalizer (`__del__`, a
weakref callback) runs, printing "Exception ignored in ..." and carrying on; and Prefect's task engine,
interrupted before its task run exists, raises ValueError("Task run is not set") from the KeyboardInterrupt.
(DuckDB's RuntimeError('Query interrupted') is turned back in storage.db.ctrl_c_kept.)
"""
from __future__ import annotations

import signal
import sys
import threading


def deliver_lost_ctrl_c() -> None:
    """Make a KeyboardInterrupt that a finalizer swallowed arrive again in the main thread."""
    report = sys.unraisablehook

    def hook(unraisable) -> None:
        if unraisable.exc_type is not None and issubclass(unraisable.exc_type, KeyboardInterrupt):
            # Signal handlers run in the main thread only, so the finalizer ran there: signal it again, a moment
            # later from another thread (raised here, inside this hook, it would be lost the same way). A real
            # signal, not _thread.interrupt_main: it also wakes a main thread blocked in a wait.
            main = threading.main_thread().ident
            later = threading.Timer(0.05, signal.pthread_kill, (main, signal.SIGINT))
            later.daemon = True
            later.start()
            return
        report(unraisable)

    sys.unraisablehook = hook


def caused_by_ctrl_c(exc: BaseException) -> bool:
    """Whether a KeyboardInterrupt is in the exception's chain (its causes and contexts)."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        if isinstance(exc, KeyboardInterrupt):
            return True
        seen.add(id(exc))
        exc = exc.__cause__ or exc.__context__
    return False
