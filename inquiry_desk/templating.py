"""Helpers every template may use."""

from __future__ import annotations

from datetime import datetime

from flask import Flask
from flask_babel import format_datetime as babel_format_datetime
from flask_babel import lazy_gettext as _l

ROLE_LABELS = {
    "viewer": _l("Viewer"),
    "officer": _l("Officer"),
    "lead": _l("Lead"),
    "admin": _l("Administrator"),
}


def role_label(role: str) -> str:
    return str(ROLE_LABELS.get(role, role))


def format_datetime(value: datetime | None, format: str = "medium") -> str:
    """A UTC time shown in the team's time zone and the page's language."""
    if value is None:
        return ""
    return babel_format_datetime(value, format)


def init_app(app: Flask) -> None:
    app.jinja_env.globals.update(role_label=role_label, format_datetime=format_datetime)
