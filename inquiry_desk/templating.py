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

STATUS_LABELS = {
    "new": _l("New"),
    "open": _l("Open"),
    "waiting": _l("Waiting on the stakeholder"),
    "resolved": _l("Resolved"),
    "closed": _l("Closed"),
}
# What the requester reads in the portal.
PUBLIC_STATUS_LABELS = {
    "new": _l("Received"),
    "open": _l("Being handled"),
    "waiting": _l("Waiting for your reply"),
    "resolved": _l("Answered"),
    "closed": _l("Closed"),
}
PRIORITY_LABELS = {"low": _l("Low"), "normal": _l("Normal"), "high": _l("High"), "urgent": _l("Urgent")}


def status_label(status: str) -> str:
    return str(STATUS_LABELS.get(status, status))


def public_status_label(status: str) -> str:
    return str(PUBLIC_STATUS_LABELS.get(status, status))


def priority_label(priority: str) -> str:
    return str(PRIORITY_LABELS.get(priority, priority))


def role_label(role: str) -> str:
    return str(ROLE_LABELS.get(role, role))


def format_datetime(value: datetime | None, format: str = "medium") -> str:
    """A UTC time shown in the team's time zone and the page's language."""
    if value is None:
        return ""
    return babel_format_datetime(value, format)


def init_app(app: Flask) -> None:
    app.jinja_env.globals.update(
        role_label=role_label, format_datetime=format_datetime, status_label=status_label,
        public_status_label=public_status_label,
        priority_label=priority_label,
    )
