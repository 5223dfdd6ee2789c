"""The mail worker while the database is away: it logs, waits longer each time (never spins), and carries on."""

from __future__ import annotations

import logging
import threading

import pytest
from sqlalchemy.exc import OperationalError

from inquiry_desk.mail.worker import LONGEST_FAILURE_WAIT, PassResult, Sender, Settings, failure_delay


class _RecordingStop(threading.Event):
    """A stop event whose waits return at once and are recorded (no real sleeping in the test)."""

    def __init__(self) -> None:
        super().__init__()
        self.waits: list[float | None] = []

    def wait(self, timeout: float | None = None) -> bool:
        self.waits.append(timeout)
        return self.is_set()


def test_failed_passes_back_off_and_are_logged(app, caplog: pytest.LogCaptureFixture) -> None:
    stop = _RecordingStop()
    sender = Sender(app, Settings.from_config(app.config, poll_seconds=0.25), stop=stop)
    outcomes: list[Exception | None] = [
        *(OperationalError("SELECT 1", None, Exception("connection refused")) for _ in range(5)),
        ValueError("a bug"),  # not the database: logged with its traceback, and the worker goes on
        None,  # working again
        OperationalError("SELECT 1", None, Exception("server closed the connection")),
    ]

    def run_once(now: object = None) -> PassResult:
        outcome = outcomes.pop(0)
        if not outcomes:
            stop.set()
        if outcome is not None:
            raise outcome
        return PassResult(outbox=1)

    sender.run_once = run_once  # type: ignore[method-assign]
    with caplog.at_level(logging.WARNING, logger="inquiry_desk.mail.worker"):
        sender.run()
    # 0.25 s doubled after each failure in a row; after a pass that worked, the first wait again.
    assert stop.waits == [0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 0.25]
    messages = [record.getMessage() for record in caplog.records]
    assert sum("database error (OperationalError: " in message for message in messages) == 6
    assert any("retrying in 8.0 s (failure 6)" in message for message in messages)
    bug = [record for record in caplog.records if record.levelno == logging.ERROR]
    assert len(bug) == 1 and bug[0].exc_info is not None and "a bug" in str(bug[0].exc_info[1])
    assert any("working again after 6 failed pass(es)" in message for message in messages)


def test_the_wait_between_failures_is_capped() -> None:
    assert failure_delay(1, 0.25) == 0.25
    assert failure_delay(40, 0.25) == LONGEST_FAILURE_WAIT == 30.0
    assert failure_delay(3, 0) == pytest.approx(0.2)  # a poll interval of 0 never spins either
