"""An inquiry's status, priority and channel as people read them, in the page's language."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from inquiry_desk.core.templating import translated_label

STATUS_LABELS = {
    "new": _l("New"),
    "open": _l("Open"),
    "waiting": _l("Waiting on the stakeholder"),
    "resolved": _l("Resolved"),
    "closed": _l("Closed"),
}
# What the stakeholder reads in the portal.
PUBLIC_STATUS_LABELS = {
    "new": _l("Received"),
    "open": _l("Being handled"),
    "waiting": _l("Waiting for your reply"),
    "resolved": _l("Answered"),
    "closed": _l("Closed"),
}
PRIORITY_LABELS = {"low": _l("Low"), "normal": _l("Normal"), "high": _l("High"), "urgent": _l("Urgent")}
CHANNEL_LABELS = {"web": _l("Web form"), "email": _l("Email"), "phone": _l("Phone"), "manual": _l("Entered by staff")}


def status_label(status: str) -> str:
    return translated_label(STATUS_LABELS, status)


def public_status_label(status: str) -> str:
    return str(PUBLIC_STATUS_LABELS.get(status, status))


def priority_label(priority: str) -> str:
    return translated_label(PRIORITY_LABELS, priority)


def channel_label(channel: str) -> str:
    return str(CHANNEL_LABELS.get(channel, channel))


TEMPLATE_GLOBALS = {"status_label": status_label, "public_status_label": public_status_label,
                    "priority_label": priority_label, "channel_label": channel_label}
