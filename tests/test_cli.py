"""`flask` commands: the first admin, demo data."""

from __future__ import annotations

from sqlalchemy import func, select

from inquiry_desk.accounts.models import User
from inquiry_desk.core.extensions import db


def test_users_create_makes_the_first_admin(app) -> None:
    runner = app.test_cli_runner()
    result = runner.invoke(args=["users", "create", "--email", "First@Example.org", "--name", "First Admin",
                                 "--role", "admin", "--password", "a long enough password"])
    assert result.exit_code == 0, result.output
    user = db.session.scalar(select(User).where(User.email == "first@example.org"))
    assert user is not None and user.role == "admin" and user.totp_secret is None


def test_users_create_refuses_bad_input(app) -> None:
    runner = app.test_cli_runner()
    result = runner.invoke(args=["users", "create", "--email", "not-an-email", "--password", "a long enough password"])
    assert result.exit_code != 0 and "Not a valid email" in result.output
    result = runner.invoke(args=["users", "create", "--email", "a@example.org", "--password", "short"])
    assert result.exit_code != 0 and "at least 12" in result.output


def test_seed_demo_twice_duplicates_nothing(app) -> None:
    runner = app.test_cli_runner()
    first = runner.invoke(args=["seed-demo"])
    assert first.exit_code == 0, first.output
    count = db.session.scalar(select(func.count()).select_from(User))
    roles = set(db.session.scalars(select(User.role)))
    assert roles == {"viewer", "officer", "lead", "admin"}
    second = runner.invoke(args=["seed-demo"])
    assert second.exit_code == 0
    assert db.session.scalar(select(func.count()).select_from(User)) == count
    assert "admin@example.org" in second.output


def test_users_code_prints_the_current_code(app) -> None:
    runner = app.test_cli_runner()
    runner.invoke(args=["seed-demo"])
    result = runner.invoke(args=["users", "code", "admin@example.org"])
    assert result.exit_code == 0 and result.output.strip().isdigit() and len(result.output.strip()) == 6


def test_the_demo_desk_is_in_good_order(app) -> None:
    """Issue 10 defect 8: half the demo inquiries were overdue, and the first run sent 104 emails."""
    from inquiry_desk.core.clock import utcnow
    from inquiry_desk.inquiries.models import Inquiry
    from inquiry_desk.inquiries.reminders import send_target_reminders
    from inquiry_desk.mail.models import OutgoingEmail

    assert app.test_cli_runner().invoke(args=["seed-demo"]).exit_code == 0
    now = utcnow()
    total = db.session.scalar(select(func.count()).select_from(Inquiry))
    running = select(func.count()).select_from(Inquiry).where(Inquiry.status.in_(["new", "open"]))
    overdue = db.session.scalar(running.where(Inquiry.due_at < now))
    assert 1 <= overdue <= total * 0.05, (overdue, total)
    staff = db.session.scalar(select(func.count()).select_from(User))
    before = db.session.scalar(select(func.count()).select_from(OutgoingEmail))
    send_target_reminders(now)
    sent = db.session.scalar(select(func.count()).select_from(OutgoingEmail)) - before
    assert sent <= staff + 1  # one per person, and the team address
