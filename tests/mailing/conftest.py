"""Fixtures of the mailing tests: the SMTP sink of the send engine's tests (bounces)."""

from ..mail.smtp_server import smtp_sink  # noqa: F401
