"""Cheap spam and abuse checks for public forms: a honeypot and a minimum fill time."""

from __future__ import annotations

import logging
import secrets
import time

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer

from inquiry_desk.core.domain import DomainError

log = logging.getLogger(__name__)


class SpamSuspected(DomainError):
    """The submission looks automated; ``reason`` is logged, never shown."""

    code = "spam_suspected"

    def __init__(self, reason: str) -> None:
        super().__init__()
        self.reason = reason


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="intake-form-started")


def form_started_token(now: float | None = None) -> str:
    """A signed note of when the form was shown and of this form's own nonce, carried in a hidden field.

    The nonce makes each form single-use (``FormSubmission``); the time gives it a minimum fill
    time and a maximum age.
    """
    return _serializer().dumps([int(now if now is not None else time.time()), secrets.token_urlsafe(16)])


class FormTooOld(SpamSuspected):
    """The form was shown too long ago (``INTAKE_FORM_MAX_HOURS``): shown again with a fresh token."""


def check_submission(honeypot: str | None, started_token: str | None, now: float | None = None) -> str:
    """The form's nonce when it looks sent by a person, from a form shown not too long ago."""
    now = now if now is not None else time.time()
    if honeypot:
        raise SpamSuspected("honeypot field filled")
    try:
        started, nonce = _serializer().loads(started_token or "")
        started = int(started)
        if not isinstance(nonce, str) or not 16 <= len(nonce) <= 64:
            raise ValueError(nonce)
    except (BadSignature, TypeError, ValueError) as exc:
        raise SpamSuspected("missing or forged start time") from exc
    if now - started < current_app.config["INTAKE_MIN_FILL_SECONDS"]:
        raise SpamSuspected("sent faster than a person can type")
    if now - started > current_app.config["INTAKE_FORM_MAX_HOURS"] * 3600:
        raise FormTooOld("form shown too long ago")
    return nonce
