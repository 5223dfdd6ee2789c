"""Due times as staff read them: "due in 3 hr", "overdue by 1 day", in the page's language."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Literal

from babel.dates import format_timedelta
from flask import current_app
from flask_babel import get_locale
from flask_babel import gettext as _

Width = Literal["narrow", "short", "medium", "long"]


def describe_due(due_at: datetime | None, now: datetime, *, width: Width = "short") -> tuple[str, str]:
    """("overdue" | "soon" | "ok", "due in 3 hr" / "overdue by 1 day") in the current language.

    Needs a request (or ``force_locale``), as every translated text does.

    ("none", "") when there is no due time (waiting, resolved or closed). "soon"
    is within INBOX_DUE_SOON_MINUTES (240 by default). ``width`` is Babel's
    "long", "short" or "narrow".
    """
    if due_at is None:
        return "none", ""
    left = due_at - now
    if left < timedelta(0):
        return "overdue", _("overdue by %(time)s", time=_format_span(-left, width))
    if left < timedelta(minutes=1):
        return "soon", _("due now")
    soon = timedelta(minutes=current_app.config.get("INBOX_DUE_SOON_MINUTES", 240))
    return ("soon" if left < soon else "ok"), _("due in %(time)s", time=_format_span(left, width))


def _format_span(span: timedelta, width: Width) -> str:
    span = max(span, timedelta(minutes=1))
    return format_timedelta(span, granularity="minute", threshold=0.85, format=width, locale=get_locale())
