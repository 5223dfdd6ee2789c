"""The dashboard page (officers and above) and each chart's data as a streamed CSV download."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass

from flask import Blueprint, current_app, render_template, request, stream_with_context
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from werkzeug.exceptions import NotFound
from werkzeug.wrappers import Response

from inquiry_desk.accounts.models import Role
from inquiry_desk.accounts.permissions import role_required
from inquiry_desk.core.clock import team_timezone, utcnow
from inquiry_desk.core.navigation import STAFF_MENU, MenuItem
from inquiry_desk.core.text import has_control_characters
from inquiry_desk.directory.labels import ORGANISATION_KIND_LABELS
from inquiry_desk.inquiries.access import Reader
from inquiry_desk.inquiries.services import active_topics
from inquiry_desk.reports import charts, periods, svg
from inquiry_desk.reports.services import Filters, Scope

reports_bp = Blueprint("reports", __name__, url_prefix="/staff/dashboard")

# Right after "Inquiries" (the inbox's views are imported first, see create_app).
STAFF_MENU.insert(1, MenuItem("reports.dashboard", _l("Dashboard"), Role.OFFICER.value))

PERIOD_LABELS = {"week": _l("This week"), "4weeks": _l("Last 4 weeks"), "quarter": _l("This quarter"),
                 "custom": _l("Custom dates")}
LANGUAGES = {"en": "English", "fr": "Français"}
MAX_ID = 2**31 - 1
BULLETIN_PAGE_ROLE = Role.OFFICER  # who may open a bulletin's page (bulletins.staff_views.show)


@dataclass
class Choice:
    period: periods.Period
    kind: str
    first: str
    last: str
    filters: Filters
    error: str | None = None

    def args(self) -> dict[str, str]:
        found = {"period": self.kind, **self.filters.as_args()}
        if self.kind == "custom":
            found.update({"from": self.first, "to": self.last})
        return found


def _arg(name: str) -> str:
    value = request.args.get(name, "")
    return "" if has_control_characters(value) else value.strip()[:40]


def _id(name: str) -> int | None:
    value = _arg(name)
    return int(value) if value.isdigit() and 0 < int(value) <= MAX_ID else None


def _choice() -> Choice:
    """The period and filters asked for; what makes no sense is left out (a bad period says so)."""
    zone = team_timezone()
    today = utcnow().astimezone(zone).date()
    kind = _arg("period") if _arg("period") in periods.KINDS else "4weeks"
    first, last = _arg("from"), _arg("to")
    kind_arg = _arg("kind")
    language = _arg("language")
    filters = Filters(topic_id=_id("topic"),
                      organisation_kind=kind_arg if kind_arg in ORGANISATION_KIND_LABELS else None,
                      trusted=_arg("trusted") == "1", language=language if language in LANGUAGES else None,
                      assignee_id=_id("assignee"))
    try:
        period = periods.resolve(kind, today=today, zone=zone, first=periods.parse_day(first),
                                 last=periods.parse_day(last))
    except periods.InvalidPeriod as error:
        return Choice(periods.resolve("4weeks", today=today, zone=zone), kind, first, last, filters, error.message)
    return Choice(period, kind, first, last, filters)


@reports_bp.get("/")
@role_required(Role.OFFICER)
def dashboard() -> str:
    choice = _choice()
    now = utcnow()
    board = charts.build(choice.period, Scope(Reader(current_user), choice.filters, now), now)
    return render_template(
        "reports/dashboard.html", board=board, choice=choice, drawings=svg.draw_all(board.charts),
        period_labels=PERIOD_LABELS, period_text=charts.period_label(choice.period),
        previous_text=charts.period_label(choice.period.previous()), topics=active_topics(),
        kinds=ORGANISATION_KIND_LABELS, languages=LANGUAGES, assignees=charts.assignees(),
        may_open_bulletins=current_user.has_role(BULLETIN_PAGE_ROLE))


@reports_bp.get("/<chart_id>.csv")
@role_required(Role.OFFICER)
def chart_csv(chart_id: str) -> Response:
    """One chart's figures as CSV, streamed (the same figures as its data table)."""
    if chart_id not in charts.CHART_IDS:
        raise NotFound()
    choice = _choice()
    now = utcnow()
    chart = charts.build_chart(chart_id, choice.period, Scope(Reader(current_user), choice.filters, now), now)
    filename = f"{chart_id}-{choice.period.first_day.isoformat()}-{choice.period.last_day.isoformat()}.csv"
    return current_app.response_class(stream_with_context(_csv(chart)), mimetype="text/csv",
                                      headers={"Content-Disposition": f'attachment; filename="{filename}"'})


def _csv(chart: charts.Chart) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    unit = {"hours": _("hours"), "percent": "%"}.get(chart.unit)
    writer.writerow(_safe([chart.category_header] + [f"{label} ({unit})" if unit else label
                                                    for label, _values in chart.series]))
    for category, values in chart.rows(raw=True):
        writer.writerow(_safe([category] + [chart.raw(value) for value in values]))
        if buffer.tell() > 16_384:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def _safe(values: list[str]) -> list[str]:
    """A cell starting with = + - @ is a formula in a spreadsheet: prefix it so that it stays text."""
    return ["'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value for value in values]
