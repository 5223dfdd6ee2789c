"""The staff home's figures from the inbox: mine open, due soon, overdue, and new unassigned (issue 10)."""

from __future__ import annotations

from typing import Any

from flask import url_for
from flask_babel import gettext as _

from inquiry_desk.core.clock import utcnow
from inquiry_desk.core.navigation import STAFF_HOME_FIGURES, HomeFigure
from inquiry_desk.inquiries import queues


def inbox_figures(user: Any) -> list[HomeFigure]:
    counts = queues.home_figures(user, utcnow())
    mine = str(user.id)
    unassigned = HomeFigure(_("New and unassigned"), counts["new_unassigned"],
                            url_for("inbox.index", queue="new", assignee="none"))
    if not user.has_role("officer"):  # a viewer is never assigned
        return [unassigned]
    return [
        HomeFigure(_("My open inquiries"), counts["mine_open"], url_for("inbox.index", queue="mine")),
        HomeFigure(_("Mine due soon"), counts["mine_due_soon"],
                   url_for("inbox.index", queue="due_soon", assignee=mine),
                   "warning" if counts["mine_due_soon"] else ""),
        HomeFigure(_("Mine overdue"), counts["mine_overdue"], url_for("inbox.index", queue="overdue", assignee=mine),
                   "warning" if counts["mine_overdue"] else ""),
        unassigned,
    ]


STAFF_HOME_FIGURES.append(inbox_figures)
