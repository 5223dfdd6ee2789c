"""Requests that may carry files get a larger body limit than ``MAX_CONTENT_LENGTH``.

The limit must be raised before anything reads the form, and the CSRF check (an app-wide
``before_request``) reads it first: so the pages that take files name their endpoints here
(``accept_files``) and this hook, placed before every other, raises the limit for them alone
to the attachments' per-message limit plus room for the text fields.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask, current_app, request

FORM_ROOM = 1_000_000
_endpoints: set[str] = set()
_limits_text: list[Callable[[], str]] = []


def accept_files(*endpoints: str) -> None:
    _endpoints.update(endpoints)


def describe_limits(text: Callable[[], str]) -> None:
    """Name the sentence that tells the files' limits (the module that knows them owns it)."""
    _limits_text[:] = [text]


def accepts_files() -> bool:
    return request.endpoint in _endpoints


def over_limit_text() -> str | None:
    return _limits_text[0]() if _limits_text else None


def _raise_limit() -> None:
    if accepts_files() and request.method == "POST":
        request.max_content_length = int(current_app.config["ATTACHMENTS_MAX_MESSAGE_BYTES"]) + FORM_ROOM


def init_app(app: Flask) -> None:
    app.before_request_funcs.setdefault(None, []).insert(0, _raise_limit)
