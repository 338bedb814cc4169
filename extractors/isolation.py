"""One document's failure in a batch stage becomes that document's rejection; the rest of the batch goes on."""
from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from newsflow.extractors.records import Rejection

T = TypeVar("T")
R = TypeVar("R")


def failure_detail(exc: BaseException) -> str:
    """The exception's type and message, cut to a readable length."""
    return f"{type(exc).__name__}: {exc}"[:500]


def isolate(
    run: Callable[[list[T]], R], items: list[T], document_id: Callable[[T], str], reason: str
) -> tuple[R, list[Rejection]]:
    """run(items) and no rejection; when it raises, each item is run alone, the ones that fail are rejected
    with `reason` and the exception, and run() goes again without them.

    A failure that no item causes alone (the batch's size, a database error) is raised again, and so is one
    that recurs on the rest; so is anything that is not an Exception (Ctrl-C). A bug that hits every
    document rejects each of them with the bug's exception: visible as data, in `documents.error_detail`.
    """
    try:
        return run(items), []
    except Exception as exc:
        if not items:
            raise
        first = exc
    failed: list[Rejection] = []
    for item in items:
        try:
            run([item])
        except Exception as exc:  # noqa: BLE001 - that document's problem, recorded with it
            failed.append(Rejection(document_id(item), reason, failure_detail(exc)))
    if not failed:
        raise first
    gone = {r.document_id for r in failed}
    return run([item for item in items if document_id(item) not in gone]), failed
