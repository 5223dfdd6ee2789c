"""Absolute URLs for links that leave the app (emails, feeds), built from the routes.

``external_url("intake.portal", lang_code="fr", token=token)`` gives
``BASE_URL`` + the route's path, inside or outside a request (a job, a command):
links in emails never depend on the Host header a request happened to carry.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import current_app
from werkzeug.routing import MapAdapter


def _adapter() -> MapAdapter:
    adapters: dict[str, MapAdapter] = current_app.extensions.setdefault("external_url_adapters", {})
    base = current_app.config["BASE_URL"].rstrip("/")
    adapter = adapters.get(base)
    if adapter is None:
        parts = urlsplit(base)
        adapter = current_app.url_map.bind(parts.netloc, script_name=parts.path or "/", url_scheme=parts.scheme)
        adapters[base] = adapter
    return adapter


def external_url(endpoint: str, **values: Any) -> str:
    """The absolute URL of ``endpoint`` under ``BASE_URL``; values fill the route (and the query)."""
    return _adapter().build(endpoint, values, force_external=True)
