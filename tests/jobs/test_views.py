"""The admin jobs page."""

from __future__ import annotations

from datetime import UTC, datetime

from inquiry_desk.core.extensions import db
from inquiry_desk.jobs.leader import Leader
from inquiry_desk.jobs.models import JobRun


def test_admins_see_each_job_with_its_last_run_and_the_leader(app, signed_in) -> None:
    db.session.add(JobRun(job="retention", occurrence="retention@manual:x", started_at=datetime(2026, 3, 2, tzinfo=UTC),
                          finished_at=datetime(2026, 3, 2, tzinfo=UTC), outcome="failed",
                          error="ValueError: the service broke"))
    db.session.add(JobRun(job="outbox_sweep", occurrence="outbox_sweep@manual:y", outcome="ok",
                          summary="sent 3, retrying 0, failed 0"))
    db.session.commit()
    leader = Leader(app, holder="scheduler-host:4242")
    try:
        assert leader.try_acquire()
        response = signed_in("admin").get("/staff/admin/jobs/")
    finally:
        leader.release()
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    for name in ("outbox_sweep", "targets", "daily_digest", "retention", "housekeeping"):
        assert name in page
    assert "ValueError: the service broke" in page and "sent 3, retrying 0, failed 0" in page
    assert "scheduler-host:4242" in page
    assert "Every minute" in page and "Every 5 minutes" in page and "Every day at 2:30\u202fa.m." in page
    assert 'href="/staff/admin/jobs/"' in page  # in the staff menu


def test_the_page_says_when_no_scheduler_runs(app, signed_in) -> None:
    page = signed_in("admin").get("/staff/admin/jobs/").get_data(as_text=True)
    assert "No scheduler is running" in page and "Never" in page


def test_leads_may_not_open_the_jobs_page(app, signed_in) -> None:
    assert signed_in("lead").get("/staff/admin/jobs/").status_code == 403


def test_emails_given_up_on_are_listed_for_admins(app, signed_in) -> None:
    from inquiry_desk.mail.models import OutgoingEmail

    from ..mail.support import T0, queue

    failed = queue("test:failed", to="bounced@example.net", subject="Your inquiry INQ-2026-000042", now=T0)
    failed.status, failed.attempts, failed.last_error = "failed", 3, "PermanentDeliveryError 550: refused"
    queue("test:sent", to="fine@example.net", subject="Delivered fine", now=T0)
    db.session.commit()
    page = signed_in("admin").get("/staff/admin/jobs/").get_data(as_text=True)
    assert "bounced@example.net" in page and "PermanentDeliveryError 550" in page
    assert "fine@example.net" not in page
    assert db.session.query(OutgoingEmail).count() == 2


def test_no_failed_email_warning_when_none_failed(app, signed_in) -> None:
    """Defect 6: the query result object was always true, so the warning always showed."""
    page = signed_in("admin").get("/staff/admin/jobs/").get_data(as_text=True)
    assert "None: every email was sent or is still being retried." in page
    assert "The mail server refused these for good" not in page


def test_the_leader_time_ends_with_one_period(app, signed_in) -> None:
    """Defect 6: "since 4:30 p.m.." once the time ended the sentence."""
    leader = Leader(app, holder="scheduler-host:4242")
    try:
        assert leader.try_acquire()
        for language in ("en", "fr"):
            client = signed_in("admin", language=language)
            page = client.get("/staff/admin/jobs/", headers={"Accept-Language": language}).get_data(as_text=True)
            assert "scheduler-host:4242" in page
            assert ".." not in page.replace("...", "")
    finally:
        leader.release()


def test_an_admin_runs_a_job_now_and_it_is_audited(app, signed_in) -> None:
    from sqlalchemy import select

    from inquiry_desk.audit.models import AuditEvent

    admin = signed_in("admin")
    page = admin.get("/staff/admin/jobs/").get_data(as_text=True)
    assert 'action="/staff/admin/jobs/outbox_sweep/run"' in page
    response = admin.post("/staff/admin/jobs/outbox_sweep/run")
    assert response.status_code == 302
    [run] = db.session.scalars(select(JobRun).where(JobRun.job == "outbox_sweep")).all()
    assert run.outcome == "ok" and run.occurrence.startswith("outbox_sweep@manual:")
    [event] = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "job.run_by_hand")).all()
    assert event.actor_id == admin.user.id and event.details == {"job": "outbox_sweep"}
    assert "outbox_sweep ran:" in admin.get("/staff/admin/jobs/").get_data(as_text=True)


def test_running_an_unknown_job_is_404(app, signed_in) -> None:
    assert signed_in("admin").post("/staff/admin/jobs/no_such_job/run").status_code == 404
    assert signed_in("lead").post("/staff/admin/jobs/outbox_sweep/run").status_code == 403
