"""isolate: one item's exception in a batch stage becomes that item's rejection; other failures still raise."""
import pytest

from newsflow.extractors.isolation import isolate
from newsflow.extractors.records import Rejection


def inverses(items: list[int]) -> list[float]:
    return [1 / x for x in items]


def test_the_item_that_fails_alone_is_rejected_and_the_rest_is_run_again():
    result, failed = isolate(inverses, [1, 0, 4], str, "clean_error")
    assert result == [1.0, 0.25]
    assert failed == [Rejection("0", "clean_error", "ZeroDivisionError: division by zero")]


def test_a_batch_that_runs_has_no_rejection():
    assert isolate(inverses, [2, 4], str, "clean_error") == ([0.5, 0.25], [])


def test_a_failure_that_hits_every_item_rejects_each_with_the_exception():
    result, failed = isolate(lambda items: [item.upper() for item in items], [1, 2], str, "dedup_error")
    assert result == []
    assert [(r.document_id, r.reason) for r in failed] == [("1", "dedup_error"), ("2", "dedup_error")]
    assert all(r.detail == "AttributeError: 'int' object has no attribute 'upper'" for r in failed)


def test_a_failure_no_item_causes_alone_is_raised():
    def at_most_two(items):
        if len(items) > 2:
            raise MemoryError("the batch is too big")
        return items

    with pytest.raises(MemoryError, match="too big"):
        isolate(at_most_two, [1, 2, 3], str, "entities_error")


def test_an_interrupt_is_never_taken_for_a_document_problem():
    def interrupted(items):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        isolate(interrupted, [1, 2], str, "clean_error")
