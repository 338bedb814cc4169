"""Ctrl-C stops the run even when it lands inside a finalizer or inside Prefect's task start."""
import signal
import sys
import time

import pytest

from newsflow.flows.interrupts import caused_by_ctrl_c, deliver_lost_ctrl_c


class _Finalized:
    def __del__(self):
        signal.raise_signal(signal.SIGINT)  # Ctrl-C lands while a finalizer runs


def test_ctrl_c_swallowed_by_a_finalizer_arrives_again(monkeypatch):
    monkeypatch.setattr(sys, "unraisablehook", sys.unraisablehook)  # put back after the test
    deliver_lost_ctrl_c()
    started = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        _Finalized()  # dropped at once: its __del__ runs here
        time.sleep(30)
    assert time.monotonic() - started < 15  # the interrupt came again and cut the wait short


def test_other_exceptions_in_finalizers_are_still_reported(monkeypatch):
    seen = []
    monkeypatch.setattr(sys, "unraisablehook", lambda unraisable: seen.append(unraisable.exc_type))
    deliver_lost_ctrl_c()

    class Failing:
        def __del__(self):
            raise OSError("closing failed")

    Failing()
    assert seen == [OSError]


def test_ctrl_c_while_prefect_creates_a_task_run_is_found_in_its_error(prefect_harness, monkeypatch):
    import prefect.task_engine
    from prefect import flow, task

    def interrupted(**_):
        raise KeyboardInterrupt  # where CI's Ctrl-C landed: before the task run exists

    @task
    def step() -> int:
        return 1

    @flow
    def one_step() -> int:
        return step()

    monkeypatch.setattr(prefect.task_engine, "_create_task_run_locally", interrupted)
    with pytest.raises(BaseException) as raised:
        one_step()
    assert caused_by_ctrl_c(raised.value)
    assert not caused_by_ctrl_c(ValueError("Task run is not set"))
