"""Requests that may carry files get a larger body limit than ``MAX_CONTENT_LENGTH``.

The limit must be raised before anything reads the form, and the CSRF check (an app-wide
``before_request``) reads it first: so the pages that take files name their endpoints here
(``accept_files``) and this hook, placed before every other, raises the limit for them alone
to the attachments' per-message limit plus room for the text fields.
"""

from __future__ import annotations

from flask import Flask, current_app, request

FORM_ROOM = 1_000_000
_endpoints: set[str] = set()


def accept_files(*endpoints: str) -> None:
    _endpoints.update(endpoints)


def _raise_limit() -> None:
    if request.endpoint in _endpoints and request.method == "POST":
        request.max_content_length = int(current_app.config["ATTACHMENTS_MAX_MESSAGE_BYTES"]) + FORM_ROOM


def init_app(app: Flask) -> None:
    app.before_request_funcs.setdefault(None, []).insert(0, _raise_limit)
