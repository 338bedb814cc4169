"""Progress output: a real pseudo-terminal for the rewritten line, plain streams for the per-batch log lines."""
from __future__ import annotations

import io
import os
import select
import termios
import time
import tty
from contextlib import suppress

import pytest

from newsflow.flows.progress import CLEAR_TO_END, Progress

BATCH = {"files": 200, "documents": 200, "articles": 150, "duplicates": 40, "rejected": 10, "mentions": 900}


class Clock:
    """A clock the test moves by hand, so rates and ETAs need no sleeping."""

    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def terminal(monkeypatch):
    """A pseudo-terminal in raw mode (bytes arrive as written), 60 columns wide: (stream on its slave, master fd)."""
    monkeypatch.setenv("TERM", "xterm")
    master, slave = os.openpty()
    tty.setraw(slave)
    termios.tcsetwinsize(slave, (24, 60))
    stream = open(slave, "w", encoding="utf-8")
    yield stream, master
    stream.close()
    os.close(master)


def read_until(master: int, predicate, deadline_s: float = 5.0) -> str:
    """What the terminal showed, read until predicate(text) holds or the deadline passes."""
    data = b""
    deadline = time.monotonic() + deadline_s
    while not predicate(data.decode("utf-8", "replace")) and time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], 0.05)
        if ready:
            data += os.read(master, 65536)
    return data.decode("utf-8", "replace")


def test_terminal_line_is_rewritten_in_place_and_ended_by_finish(terminal):
    stream, master = terminal
    clock = Clock()
    progress = Progress(1000, stream=stream, clock=clock)
    clock.now += 10
    progress.batch_done(BATCH)
    clock.now += 10
    progress.batch_done(BATCH)
    progress.finish()
    progress.finish()  # a second finish adds nothing
    shown = read_until(master, lambda text: text.endswith("\n"))
    assert shown == (
        "\r200/1000 files 20% | 150 new | 15.0 articles/s" + CLEAR_TO_END
        + "\r400/1000 files 40% | 300 new | 15.0 articles/s" + CLEAR_TO_END
        + "\n"
    )  # 59 columns hold no more fields than these
    termios.tcsetwinsize(stream.fileno(), (24, 200))
    wide = Progress(1000, stream=stream, clock=clock)
    clock.now += 20
    wide.batch_done(BATCH)
    shown = read_until(master, lambda text: text.endswith(CLEAR_TO_END))
    assert shown == ("\r200/1000 files 20% | 150 new | 7.5 articles/s | 10 rejected | 0:20 elapsed | ETA 1:20"
                     + CLEAR_TO_END)


def test_terminal_line_never_wider_than_the_terminal_even_after_a_resize(terminal):
    stream, master = terminal
    clock = Clock()
    progress = Progress(123456, stream=stream, clock=clock)
    shown = ""
    for columns in (80, 30, 12, 1):
        termios.tcsetwinsize(stream.fileno(), (24, columns))
        clock.now += 3700
        progress.batch_done({"files": 1000, "articles": 990, "rejected": 10})
        shown = read_until(master, lambda text: text.endswith(CLEAR_TO_END))
        line = shown.removeprefix("\r").removesuffix(CLEAR_TO_END)
        assert shown.startswith("\r") and len(line) <= columns - 1, (columns, line)
    termios.tcsetwinsize(stream.fileno(), (24, 30))
    progress.batch_done({"files": 1000, "articles": 990, "rejected": 10})
    assert read_until(master, lambda text: text.endswith(CLEAR_TO_END)) == "\r5000/123456 files 4%" + CLEAR_TO_END


def test_terminal_line_ends_before_an_error_message(terminal):
    stream, master = terminal
    with pytest.raises(KeyboardInterrupt):
        with Progress(10, stream=stream, clock=Clock()) as progress:
            progress.batch_done({"files": 5})
            raise KeyboardInterrupt
    assert read_until(master, lambda text: text.endswith("\n")).endswith(CLEAR_TO_END + "\n")


def test_dumb_terminal_gets_plain_lines(terminal, monkeypatch):
    stream, master = terminal
    monkeypatch.setenv("TERM", "dumb")
    Progress(400, stream=stream, clock=Clock()).batch_done(BATCH)
    assert read_until(master, lambda text: text.endswith("\n")) == "batch 1: 200/400 files, 150 new, 10 rejected, 0.0 articles/s\n"


def test_log_gets_one_exact_line_per_batch():
    stream, clock = io.StringIO(), Clock()
    progress = Progress(1000, stream=stream, clock=clock)
    clock.now += 2
    progress.batch_done(BATCH)
    clock.now += 2
    progress.batch_done(BATCH)
    clock.now += 3.04
    progress.batch_done({"files": 200, "documents": 200, "articles": 149, "duplicates": 0, "rejected": 20, "mentions": 0})
    progress.finish()
    assert stream.getvalue().splitlines(keepends=True) == [
        "batch 1: 200/1000 files, 150 new, 10 rejected, 75.0 articles/s\n",
        "batch 2: 400/1000 files, 300 new, 20 rejected, 75.0 articles/s\n",
        "batch 3: 600/1000 files, 449 new, 40 rejected, 63.8 articles/s\n",
    ]


def test_log_in_a_real_file(tmp_path):
    with open(tmp_path / "run.log", "w", encoding="utf-8") as log:
        with Progress(3, stream=log, clock=Clock()) as progress:
            progress.batch_done({"files": 3, "articles": 2, "rejected": 1})
    assert (tmp_path / "run.log").read_text(encoding="utf-8") == "batch 1: 3/3 files, 2 new, 1 rejected, 0.0 articles/s\n"


def test_rate_and_eta_from_the_injected_clock():
    clock = Clock(50.0)
    progress = Progress(1000, stream=io.StringIO(), clock=clock)
    assert progress.rate() == 0.0 and progress.eta() is None  # nothing done, no time passed: no division by zero
    clock.now += 8
    progress.batch_done({"files": 250, "articles": 200, "rejected": 5})
    assert progress.elapsed() == 8.0
    assert progress.rate() == 25.0
    assert progress.eta() == 24.0  # 750 files left at 250 per 8 s
    clock.now += 8
    progress.batch_done({"files": 750, "articles": 600})
    assert progress.rate() == 50.0 and progress.eta() == 0.0
    assert "1000/1000 files 100%" in progress.status_line(200) and "ETA 0:00" in progress.status_line(200)


def test_nothing_printed_for_an_empty_run_or_when_quiet(terminal):
    stream, master = terminal
    for quiet_one in (Progress(0, stream=stream), Progress(10, stream=stream, quiet=True)):
        quiet_one.batch_done(BATCH)
        quiet_one.finish()
    log = io.StringIO()
    for quiet_one in (Progress(0, stream=log), Progress(10, stream=log, quiet=True)):
        quiet_one.batch_done(BATCH)
        quiet_one.finish()
    assert log.getvalue() == ""
    stream.write("end")  # a marker: everything before it was written by the quiet ones
    stream.flush()
    assert read_until(master, lambda text: text.endswith("end")) == "end"


def test_a_closed_pipe_ends_the_display_not_the_run():
    read_end, write_end = os.pipe()
    os.close(read_end)
    stream = open(write_end, "w", encoding="utf-8")
    progress = Progress(10, stream=stream, clock=Clock())
    progress.batch_done({"files": 5})  # EPIPE on flush: Python ignores SIGPIPE, so it is an OSError here
    progress.batch_done({"files": 5})
    progress.finish()
    assert not progress.enabled and progress.counts == {"files": 10}
    with suppress(BrokenPipeError):
        stream.close()
