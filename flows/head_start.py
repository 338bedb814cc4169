"""A one-shot run's head start: the inbox's first chunk read and extracted while Prefect loads.

Prefect's import and the flow run's start take 2-3 s of a one-shot `newsflow ingest inbox`; the worker
pool would sit idle meanwhile. The CLI starts the first chunk here (this module imports no Prefect) and
hands it to the flow run through a context variable; flows.ingest uses it like its own read-ahead: only
when, under the writer lock, the chunk is still the first and its files are unchanged.
"""
from __future__ import annotations

import concurrent.futures
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from newsflow.extractors.extraction import extract_drafts, live_documents
from newsflow.extractors.reading import InboxFile, list_inbox, read_inbox
from newsflow.extractors.records import Draft, RawDocument, Rejection
from newsflow.extractors.settings import Settings

# read_inbox's documents, rejections and files, then extract_drafts' drafts and rejections
Extracted = tuple[list[RawDocument], list[Rejection], list[InboxFile], tuple[list[Draft], list[Rejection]]]


@dataclass(slots=True)
class ReadAhead:
    """A chunk of inbox files being read and extracted ahead of its batch."""

    inbox: Path
    chunk: list[Path]
    states: list[tuple[int, int, int] | None]  # file_states(chunk) before reading
    settings: Settings
    future: Any  # a concurrent.futures.Future or a PrefectFuture: its result() is read_and_extract's

    def matches(self, inbox: Path, chunk: list[Path], settings: Settings) -> bool:
        """Whether this is the given chunk, read with these settings, its files unchanged since."""
        same = (self.inbox, self.chunk, self.settings.limits) == (inbox, chunk, settings.limits)
        return same and self.states == file_states(chunk)


_HEAD_START: ContextVar[ReadAhead | None] = ContextVar("newsflow_head_start", default=None)


def file_states(paths: list[Path]) -> list[tuple[int, int, int] | None]:
    """(inode, size, mtime_ns) of each file, None when it is gone: what must not change under a read-ahead."""
    states = []
    for path in paths:
        try:
            stat = path.stat()
        except OSError:
            states.append(None)
        else:
            states.append((stat.st_ino, stat.st_size, stat.st_mtime_ns))
    return states


def read_and_extract(inbox: Path, chunk: list[Path], settings: Settings) -> Extracted:
    """read_inbox and extract_drafts of one chunk: (documents, rejections, files, extract_drafts' result)."""
    docs, rejections, files = read_inbox(inbox, chunk, settings.limits)
    return docs, rejections, files, extract_drafts(live_documents(docs, rejections), settings.limits)


@contextmanager
def head_start(inbox: Path, settings: Settings) -> Iterator[ReadAhead | None]:
    """Within this block the inbox's first chunk is read and extracted on a thread (the pages on the worker
    pool), for the flow run started inside it. Yields the head start (None for an empty inbox).

    A normal exit waits for the thread; an exception (Ctrl-C) does not: the process is on its way out, and
    multiprocessing's exit handler terminates the thread's pool. The head start writes and moves nothing.
    """
    chunk = list_inbox(inbox)[: max(1, settings.limits.batch_size)]
    if not chunk:
        yield None
        return
    future: concurrent.futures.Future = concurrent.futures.Future()

    def run() -> None:
        try:
            future.set_result(read_and_extract(inbox, chunk, settings))
        except BaseException as exc:  # noqa: BLE001 - raised again where the flow run takes the result
            future.set_exception(exc)

    ahead = ReadAhead(inbox, chunk, file_states(chunk), settings, future)
    thread = threading.Thread(target=run, name="head-start", daemon=True)
    token = _HEAD_START.set(ahead)
    thread.start()
    try:
        yield ahead
    finally:
        _HEAD_START.reset(token)
    thread.join()


def take_head_start() -> ReadAhead | None:
    """The head start of this context, once (the first batch of the flow run takes it)."""
    ahead = _HEAD_START.get()
    if ahead is not None:
        _HEAD_START.set(None)
    return ahead
