"""Dask preload of the local cluster's workers (distributed's documented `preload` hook).

Ctrl-C at a terminal reaches every process of its group, the workers of the command's local cluster included; the
command stops the run and then its cluster, so a worker ignores it rather than die with a KeyboardInterrupt
traceback in the middle of a chunk.
"""
import signal


def dask_setup(worker) -> None:
    """Ignore SIGINT in this worker process (the preload runs in its main thread)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
