"""Admin page: the scheduled jobs, their next and last runs, and the scheduler that leads."""

from __future__ import annotations

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user
from werkzeug.wrappers import Response

from inquiry_desk.accounts.models import Role
from inquiry_desk.accounts.permissions import role_required
from inquiry_desk.audit import services as audit
from inquiry_desk.core.clock import utcnow
from inquiry_desk.core.navigation import STAFF_MENU, MenuItem
from inquiry_desk.core.templating import format_clock
from inquiry_desk.jobs import services
from inquiry_desk.jobs.registry import UnknownJob, get_job
from inquiry_desk.jobs.runner import run_job
from inquiry_desk.mail import services as mail

jobs_bp = Blueprint("jobs", __name__, url_prefix="/staff/admin/jobs")

STAFF_MENU.append(MenuItem("jobs.index", _l("Scheduled jobs"), Role.ADMIN.value))

OUTCOME_LABELS = {"running": _l("Running"), "ok": _l("Succeeded"), "failed": _l("Failed")}


def schedule_label(trigger: BaseTrigger) -> str:
    """"Every 5 minutes", "Every day at 07:00" (team time zone)."""
    if isinstance(trigger, IntervalTrigger):
        seconds = int(trigger.interval.total_seconds())
        if seconds % 3600 == 0:
            return ngettext("Every hour", "Every %(num)d hours", seconds // 3600)
        if seconds % 60 == 0:
            return ngettext("Every minute", "Every %(num)d minutes", seconds // 60)
        return ngettext("Every second", "Every %(num)d seconds", seconds)
    if isinstance(trigger, CronTrigger):
        fields = {field.name: str(field) for field in trigger.fields}
        if fields["hour"].isdigit() and fields["minute"].isdigit() and fields["day_of_week"] == "mon":
            return _("Every Monday at %(time)s", time=format_clock(int(fields["hour"]), int(fields["minute"])))
        if fields["hour"].isdigit() and fields["minute"].isdigit():
            return _("Every day at %(time)s", time=format_clock(int(fields["hour"]), int(fields["minute"])))
    return str(trigger)


@jobs_bp.get("/")
@role_required(Role.ADMIN)
def index() -> str:
    now = utcnow()
    return render_template("jobs/index.html", jobs=services.job_statuses(current_app.config, now),
                           lease=services.current_lease(now), schedule_label=schedule_label,
                           outcome_labels=OUTCOME_LABELS, failed_emails=mail.failed_emails(limit=50))


@jobs_bp.post("/<name>/run")
@role_required(Role.ADMIN)
def run_now(name: str) -> Response:
    """Run a job once, now, besides its schedule (issue 10): recorded in the audit log first."""
    try:
        get_job(current_app.config, name)
    except UnknownJob:
        abort(404)
    now = utcnow()
    audit.record("job.run_by_hand", actor=current_user, subject_type="job", details={"job": name},
                 ip_address=request.remote_addr, now=now)
    run = run_job(name, occurrence=None, now=now)  # commits the audit entry with the run's row
    if run.outcome == "ok":
        flash(_("%(job)s ran: %(summary)s", job=name, summary=run.summary or _("done")), "success")
    else:
        flash(_("%(job)s failed: %(error)s", job=name, error=run.error or ""), "error")
    return redirect(url_for("jobs.index"))
