"""Fixtures for the outbound mail tests: a real SMTP server on loopback (see smtp_server.py)."""

import pytest

from inquiry_desk.mail import services

from .smtp_server import smtp_sink  # noqa: F401

REAL_JITTER = services.backoff_jitter


@pytest.fixture(autouse=True)
def full_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    """The outbox's retries without their jitter, so that the tests can write the retry times down
    (test_outbox.py::test_retries_are_spread_by_jitter puts the jitter back)."""
    monkeypatch.setattr(services, "backoff_jitter", lambda: 1.0)
