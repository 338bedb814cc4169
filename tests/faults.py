"""The newsflow command with one fault: SIGKILL to its process group at the Nth step of moving originals.

    python -m tests.faults MODE N INBOX newsflow-arguments...

MODE is where the kill lands, on the Nth file of INBOX that reaches that step (start it with start_new_session=True):
  before-move  the Nth os.rename/os.replace of an inbox file: the batch is written, the file not moved yet
  mid-copy     the Nth os.sendfile (shutil's copy across file systems): 100 bytes copied, then killed
  after-copy   the Nth os.unlink of an inbox file: the copy is complete, the original not removed yet
"""
from __future__ import annotations

import os
import signal
import sys
from pathlib import Path


def main() -> None:
    mode, nth, inbox, argv = sys.argv[1], int(sys.argv[2]), os.path.abspath(sys.argv[3]), sys.argv[4:]
    files: list[str] = []  # inbox files seen so far, in order

    def in_inbox(path) -> bool:
        """An inbox file (not a hidden one: newsflow's own probe of the folder is no original)."""
        if not isinstance(path, (str, os.PathLike)):
            return False
        path = os.path.abspath(path)
        return path.startswith(inbox + os.sep) and not os.path.basename(path).startswith(".")

    def due(path) -> bool:
        """Whether this call is on the Nth inbox file (a copy makes several sendfile calls per file)."""
        path = os.path.abspath(path)
        if path not in files:
            files.append(path)
        return files.index(path) + 1 == nth

    def kill() -> None:
        os.killpg(os.getpgrp(), signal.SIGKILL)

    real_rename, real_replace, real_unlink, real_sendfile = os.rename, os.replace, os.unlink, os.sendfile

    if mode == "before-move":
        def guarded(real):
            def rename(src, dst, *args, **kwargs):
                if in_inbox(src) and due(src):
                    kill()
                return real(src, dst, *args, **kwargs)
            return rename

        os.rename, os.replace = guarded(real_rename), guarded(real_replace)
    elif mode == "after-copy":
        def unlink(path, *args, **kwargs):
            if in_inbox(path) and due(path):
                kill()
            return real_unlink(path, *args, **kwargs)

        os.unlink = unlink
    elif mode == "mid-copy":
        def sendfile(out_fd, in_fd, offset, count):
            try:  # sendfile sees descriptors only: which file is it reading?
                source = os.readlink(f"/proc/self/fd/{in_fd}")
            except OSError:
                source = ""
            if in_inbox(source) and due(source):
                real_sendfile(out_fd, in_fd, offset, min(count, 100))
                kill()
            return real_sendfile(out_fd, in_fd, offset, count)

        os.sendfile = sendfile
    else:
        raise SystemExit(f"unknown fault {mode!r}")
    sys.argv = ["newsflow", *argv]
    from newsflow.flows.cli import run

    run()


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    main()
