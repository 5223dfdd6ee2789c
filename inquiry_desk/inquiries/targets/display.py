"""Due times as staff read them: "due in 3 hr", "overdue by 1 day", in the page's language."""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Literal

from babel.dates import TIMEDELTA_UNITS, format_timedelta
from flask import current_app
from flask_babel import get_locale
from flask_babel import gettext as _

Width = Literal["narrow", "short", "medium", "long"]
DueText = tuple[str, str]
THRESHOLD = 0.85  # Babel's: 51 minutes read "1 hr", 21 hours "1 day"
ZERO, MINUTE = timedelta(0), timedelta(minutes=1)


def describe_due(due_at: datetime | None, now: datetime, *, width: Width = "short") -> DueText:
    """("overdue" | "soon" | "ok", "due in 3 hr" / "overdue by 1 day") in the current language.

    Needs a request (or ``force_locale``), as every translated text does.

    ("none", "") when there is no due time (waiting, resolved or closed). "soon"
    is within INBOX_DUE_SOON_MINUTES (240 by default). ``width`` is Babel's
    "long", "short" or "narrow".
    """
    if due_at is None:
        return "none", ""
    return due_describer(now, width=width)(due_at)


def due_describer(now: datetime, *, width: Width = "short") -> Callable[[datetime], DueText]:
    """``describe_due`` for many due times: the language, texts and threshold looked up once (a list's rows)."""
    language = str(get_locale())
    overdue, due_in, due_now = _("overdue by %(time)s"), _("due in %(time)s"), _("due now")
    soon = timedelta(minutes=current_app.config.get("INBOX_DUE_SOON_MINUTES", 240))

    def describe(due_at: datetime) -> DueText:
        left = due_at - now
        if left < ZERO:
            return "overdue", overdue % {"time": span_text(-left, width, language)}
        if left < MINUTE:
            return "soon", due_now
        return ("soon" if left < soon else "ok"), due_in % {"time": span_text(left, width, language)}

    return describe


def span_text(span: timedelta, width: Width, language: str) -> str:
    """Babel's ``format_timedelta(span, granularity="minute", threshold=0.85)``, at least a minute.

    The unit and its rounded number are worked out here as Babel does; the text of each
    (language, unit, number) is made by Babel once and kept.
    """
    seconds = max(int(span.days * 86400 + span.seconds), 60)
    for unit, per_unit in TIMEDELTA_UNITS:
        value = seconds / per_unit
        if value >= THRESHOLD or unit == "minute":
            return _unit_text(language, width, unit, round(max(1, value) if unit == "minute" else value))
    raise AssertionError("the minute always answers")  # pragma: no cover


@lru_cache(maxsize=2048)
def _unit_text(language: str, width: Width, unit: str, value: int) -> str:
    # An infinite threshold stops Babel at the unit asked for, with the exact number given.
    per_unit = dict(TIMEDELTA_UNITS)[unit]
    return format_timedelta(timedelta(seconds=value * per_unit), granularity=unit,  # type: ignore[arg-type]
                            threshold=math.inf, format=width, locale=language)
