"""run_job: one run per occurrence, failures recorded (not raised), runs by hand; the CLI."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, text

from inquiry_desk.accounts.models import StaffSession
from inquiry_desk.core.extensions import db
from inquiry_desk.inquiries.models import PortalLink
from inquiry_desk.jobs import registry
from inquiry_desk.jobs.models import JobRun
from inquiry_desk.jobs.registry import Job, UnknownJob
from inquiry_desk.jobs.runner import describe_error, run_job, scheduled_occurrence

from ..helpers import make_inquiry, make_user

NOW = datetime(2026, 3, 2, 14, 0, tzinfo=UTC)


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> list[datetime]:
    """A registry of test jobs: ``count`` records each call, ``fail`` raises, ``leak`` fails in SQL."""
    seen: list[datetime] = []

    def count(now: datetime) -> str:
        seen.append(now)
        return f"call {len(seen)}"

    def fail(now: datetime) -> str:
        raise ValueError("the service broke")

    def leak(now: datetime) -> str:
        db.session.execute(text("SELECT * FROM no_such_table WHERE email = :email"), {"email": "person@example.org"})
        return "unreachable"

    every = registry._every(minutes=1)
    monkeypatch.setattr(registry, "JOBS", (Job("count", every, 50, count), Job("fail", every, 50, fail),
                                           Job("leak", every, 50, leak)))
    return seen


def test_an_occurrence_runs_once(app, calls) -> None:
    occurrence = scheduled_occurrence("count", NOW)
    assert occurrence == "count@2026-03-02T14:00:00+00:00"
    first = run_job("count", occurrence=occurrence, now=NOW, holder="a")
    second = run_job("count", occurrence=occurrence, now=NOW, holder="b")
    assert calls == [NOW]
    assert second.id == first.id and second.holder == "a"
    assert (first.outcome, first.summary, first.error) == ("ok", "call 1", None)
    assert first.started_at == NOW and first.finished_at is not None
    assert db.session.scalar(select(func.count()).select_from(JobRun)) == 1


def test_two_schedulers_firing_one_occurrence_at_once_run_it_once(app, calls) -> None:
    occurrence = scheduled_occurrence("count", NOW)
    barrier = threading.Barrier(4)
    runs: list[JobRun] = []

    def fire(holder: str) -> None:
        with app.app_context():
            barrier.wait()
            run = run_job("count", occurrence=occurrence, now=NOW, holder=holder)
            runs.append(run.id)
            db.session.remove()

    threads = [threading.Thread(target=fire, args=(f"h{n}",)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert len(calls) == 1 and len(set(runs)) == 1 and len(runs) == 4


def test_a_failure_is_recorded_not_raised(app, calls) -> None:
    run = run_job("fail", occurrence=scheduled_occurrence("fail", NOW), now=NOW)
    assert run.outcome == "failed" and run.summary is None
    assert run.error == "ValueError: the service broke"
    # The next occurrence runs as usual.
    assert run_job("count", occurrence=None, now=NOW).outcome == "ok"


def test_each_run_is_counted_for_the_metrics_by_outcome(app, calls) -> None:
    """Drift (issue 9): record_job_outcome was documented as counted by the runner and never was."""
    from inquiry_desk.jobs.metrics import JOB_OUTCOMES

    def counted(outcome: str) -> float:
        return JOB_OUTCOMES.labels(job="fail" if outcome == "failed" else "count", outcome=outcome)._value.get()

    ok_before, failed_before = counted("ok"), counted("failed")
    run_job("count", occurrence=None, now=NOW)
    run_job("fail", occurrence=None, now=NOW)
    assert (counted("ok"), counted("failed")) == (ok_before + 1, failed_before + 1)


def test_a_database_error_is_recorded_without_sql_or_parameters(app, calls) -> None:
    run = run_job("leak", occurrence=None, now=NOW)
    assert run.outcome == "failed"
    assert run.error.startswith(("OperationalError", "ProgrammingError"))
    assert "person@example.org" not in run.error and "SELECT" not in run.error
    assert "person@example.org" not in describe_error(RuntimeError("line one\nperson@example.org"))


def test_runs_by_hand_each_run(app, calls) -> None:
    first = run_job("count", occurrence=None, now=NOW)
    second = run_job("count", occurrence=None, now=NOW)
    assert first.id != second.id and len(calls) == 2
    assert first.occurrence.startswith("count@manual:") and first.occurrence != second.occurrence


def test_an_unknown_job_is_refused(app, calls) -> None:
    with pytest.raises(UnknownJob):
        run_job("nope", occurrence=None, now=NOW)


def test_flask_jobs_run_outbox_sweep(app) -> None:
    result = app.test_cli_runner().invoke(args=["jobs", "run", "outbox_sweep"])
    assert result.exit_code == 0, result.output
    assert "outbox_sweep: sent 0, retrying 0, failed 0" in result.output
    run = db.session.scalar(select(JobRun))
    assert run.job == "outbox_sweep" and run.outcome == "ok" and "@manual:" in run.occurrence


def test_flask_jobs_run_exits_1_on_failure_and_on_an_unknown_name(app, calls) -> None:
    runner = app.test_cli_runner()
    failed = runner.invoke(args=["jobs", "run", "fail"])
    assert failed.exit_code == 1 and "ValueError: the service broke" in failed.output
    unknown = runner.invoke(args=["jobs", "run", "nope"])
    assert unknown.exit_code != 0 and "No job named" in unknown.output


def test_flask_jobs_list(app) -> None:
    result = app.test_cli_runner().invoke(args=["jobs", "list"])
    assert result.exit_code == 0, result.output
    for name in ("outbox_sweep", "targets", "daily_digest", "retention", "housekeeping"):
        assert name in result.output


def test_housekeeping_prunes_the_old_successful_runs_of_frequent_jobs_only(app) -> None:
    def add_run(job: str, age: timedelta, outcome: str = "ok") -> None:
        db.session.add(JobRun(job=job, occurrence=f"{job}@{(NOW - age).isoformat()}", started_at=NOW - age,
                              finished_at=NOW - age, outcome=outcome))

    add_run("bulletins", timedelta(hours=25))  # once a second: kept a day
    add_run("bulletins", timedelta(hours=26), outcome="failed")  # a failure stays for whoever looks into it
    add_run("bulletins", timedelta(hours=23))
    add_run("outbox_sweep", timedelta(days=8))  # once a minute: kept a week
    add_run("outbox_sweep", timedelta(days=6))
    add_run("retention", timedelta(days=400))  # daily: kept for good
    db.session.commit()
    assert registry.prune_runs(NOW) == 2
    left = db.session.execute(select(JobRun.job, JobRun.started_at, JobRun.outcome).order_by(JobRun.job,
                                                                                            JobRun.started_at)).all()
    assert [(job, NOW - started, outcome) for job, started, outcome in left] == [
        ("bulletins", timedelta(hours=26), "failed"), ("bulletins", timedelta(hours=23), "ok"),
        ("outbox_sweep", timedelta(days=6), "ok"), ("retention", timedelta(days=400), "ok")]


def test_the_housekeeping_job_cleans_up_links_viewers_and_sessions(app) -> None:
    inquiry = make_inquiry(now=NOW - timedelta(days=200))  # its own link long expired
    user = make_user()
    db.session.add(StaffSession(token_hash="s".ljust(64, "0"), user_id=user.id, created_at=NOW - timedelta(days=20),
                                last_seen_at=NOW - timedelta(days=20), ended_at=NOW - timedelta(days=19)))
    db.session.commit()
    assert registry.housekeeping(NOW) == ("portal_links 1, inquiry_viewers 0, form_submissions 0, staff_sessions 1, "
                                          "unconfirmed_subscriptions 0, inbound_emails 0, job_runs 0")
    assert db.session.scalars(select(PortalLink).where(PortalLink.inquiry_id == inquiry.id)).all() == []
    assert db.session.scalars(select(StaffSession)).all() == []
