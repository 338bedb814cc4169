"""Progress of a long one-shot run: one line rewritten in place on a terminal, one plain line per batch in a log.

    with Progress(len(paths)) as progress:
        for batch in batches:
            ...
            progress.batch_done(counts)    # counts as ingest_paths' per batch: files, articles, rejected, ...

Pure Python: no Prefect, no dependency. Nothing here may fail a run: a stream that stops accepting writes
(a closed pipe, a hung-up terminal) only ends the display.
"""
from __future__ import annotations

import os
import shutil
import sys
import time
from typing import Callable, TextIO

CLEAR_TO_END = "\x1b[K"  # ANSI "erase in line": a shorter line leaves nothing of the longer one before it


def _clock_text(seconds: float) -> str:
    """Seconds as M:SS, or H:MM:SS from an hour."""
    seconds = max(0, int(round(seconds)))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def _is_terminal(stream: TextIO) -> bool:
    """A terminal that understands \\r and ANSI erase (TERM=dumb gets the plain lines, as in other tools)."""
    try:
        return bool(stream.isatty()) and os.environ.get("TERM") != "dumb"
    except (AttributeError, ValueError, OSError):  # no isatty, or a closed stream
        return False


def _columns(stream: TextIO) -> int:
    """The stream's terminal width, asked at each draw (the window may be resized); else shutil's answer."""
    try:
        columns = os.get_terminal_size(stream.fileno()).columns
    except (AttributeError, ValueError, OSError):
        columns = 0
    # A terminal that reports no size (0 columns, e.g. a fresh pseudo-terminal) gets COLUMNS or 80.
    return columns if columns > 0 else shutil.get_terminal_size().columns


class Progress:
    """Files done of total, articles/s, rejects and an ETA, written to `stream` after each batch."""

    def __init__(self, total_files: int, stream: TextIO | None = None, quiet: bool = False,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.total = max(0, int(total_files))
        self.stream = sys.stderr if stream is None else stream
        self.clock = clock
        self.started = clock()
        self.batches = 0
        self.counts: dict[str, int] = {}
        self.enabled = self.total > 0 and not quiet
        self.terminal = self.enabled and _is_terminal(self.stream)
        self.drawn = False  # a terminal line is on screen without its newline yet

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.finish()  # also on an error or Ctrl-C: its message must start on a line of its own

    def batch_done(self, counts: dict[str, int]) -> None:
        """Add one batch's counts and show where the run stands."""
        self.batches += 1
        for key, value in counts.items():
            self.counts[key] = self.counts.get(key, 0) + value
        if not self.enabled:
            return
        if self.terminal:
            self._write("\r" + self.status_line(_columns(self.stream) - 1) + CLEAR_TO_END)
            self.drawn = True
        else:
            self._write(self.log_line() + "\n")

    def finish(self) -> None:
        """End the terminal line with a newline (once); a log needs nothing more."""
        if self.drawn:
            self.drawn = False
            self._write("\n")

    def elapsed(self) -> float:
        """Seconds since the progress started."""
        return max(0.0, self.clock() - self.started)

    def rate(self) -> float:
        """New articles per second over the run so far."""
        elapsed = self.elapsed()
        return self.counts.get("articles", 0) / elapsed if elapsed > 0 else 0.0

    def eta(self) -> float | None:
        """Seconds left at the run's file rate so far; None before any file is done."""
        done = self.counts.get("files", 0)
        if done <= 0:
            return None
        return max(0, self.total - done) * self.elapsed() / done

    def log_line(self) -> str:
        """The line written per batch when the stream is not a terminal."""
        return (f"batch {self.batches}: {self.counts.get('files', 0)}/{self.total} files, "
                f"{self.counts.get('articles', 0)} new, {self.counts.get('rejected', 0)} rejected, "
                f"{self.rate():.1f} articles/s")

    def status_line(self, width: int) -> str:
        """The terminal line: whole fields while they fit in `width` columns, the first one cut if it alone does not."""
        done = self.counts.get("files", 0)
        percent = min(100, done * 100 // self.total) if self.total else 100
        eta = self.eta()
        fields = [
            f"{done}/{self.total} files {percent}%",
            f"{self.counts.get('articles', 0)} new",
            f"{self.rate():.1f} articles/s",
            f"{self.counts.get('rejected', 0)} rejected",
            f"{_clock_text(self.elapsed())} elapsed",
            f"ETA {_clock_text(eta)}" if eta is not None else "ETA -:--",
        ]
        line = fields[0][:max(0, width)]
        for field in fields[1:]:
            if len(line) + 3 + len(field) > width:
                break
            line += " | " + field
        return line

    def _write(self, text: str) -> None:
        """Write and flush; a stream that refuses (closed pipe, hung-up terminal) ends the display, not the run."""
        try:
            self.stream.write(text)
            self.stream.flush()
        except (OSError, ValueError):
            self.enabled = self.drawn = False
