"""Fixtures for the outbound mail tests: a real SMTP server on loopback (see smtp_server.py)."""

from .smtp_server import smtp_sink  # noqa: F401
