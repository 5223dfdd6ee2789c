"""User administration by admins."""

from __future__ import annotations

from inquiry_desk.accounts.models import User
from inquiry_desk.audit.models import AuditEvent
from inquiry_desk.core.extensions import db

from ..helpers import form_errors, make_user, page


def test_admin_lists_and_creates_users(signed_in) -> None:
    admin = signed_in("admin")
    soup = page(admin.get("/staff/admin/users"))
    assert admin.user.email in soup.get_text()
    response = admin.post("/staff/admin/users/new", data={
        "name": "Nadia Benali", "email": "Nadia@Example.org", "role": "lead", "language": "fr"})
    assert response.status_code == 302
    user = db.session.scalar(db.select(User).where(User.email == "nadia@example.org"))
    assert user.role == "lead" and user.language == "fr"  # invited (tests/accounts/test_invitations.py)


def test_create_user_shows_clear_errors(signed_in) -> None:
    admin = signed_in("admin")
    soup = page(admin.post("/staff/admin/users/new", data={
        "name": "", "email": "not-an-email", "role": "viewer", "language": "en"}))
    assert soup.title.get_text().startswith("Error")
    assert len(form_errors(soup)) == 2
    assert soup.select_one("#email")["aria-invalid"] == "true"
    summary_links = [a["href"] for a in soup.select("[data-error-summary] a")]
    assert summary_links == ["#name", "#email"]
    soup = page(admin.post("/staff/admin/users/new", data={
        "name": "Twin", "email": admin.user.email, "role": "viewer", "language": "en"}))
    assert "already exists" in " ".join(form_errors(soup))


def test_admin_changes_role_and_deactivates(signed_in, app) -> None:
    admin = signed_in("admin")
    user = make_user(role="viewer")
    response = admin.post(f"/staff/admin/users/{user.id}", data={"role": "officer"})
    assert response.status_code == 302
    db.session.refresh(user)
    assert user.role == "officer" and not user.active
    event = db.session.scalar(db.select(AuditEvent).where(AuditEvent.action == "user.updated"))
    assert event.details == {"role": ["viewer", "officer"], "active": [True, False]}
    assert event.actor_id == admin.user.id


def test_the_last_admin_cannot_be_removed(signed_in) -> None:
    admin = signed_in("admin")
    soup = page(admin.post(f"/staff/admin/users/{admin.user.id}", data={"role": "viewer", "active": "y"}))
    assert "no active administrator" in " ".join(form_errors(soup))
    db.session.refresh(admin.user)
    assert admin.user.role == "admin"


def test_admin_resets_a_lost_second_factor(signed_in) -> None:
    admin = signed_in("admin")
    user = make_user()
    assert admin.post(f"/staff/admin/users/{user.id}/reset-second-factor").status_code == 302
    db.session.refresh(user)
    assert user.totp_secret is None


def test_viewer_is_refused_admin_pages(signed_in) -> None:
    viewer = signed_in("viewer")
    page(viewer.get("/staff/admin/users"), status=403)


def test_audit_log_is_shown_and_cannot_be_edited(signed_in) -> None:
    admin = signed_in("admin")
    soup = page(admin.get("/staff/admin/audit"))
    assert "Signed in" in soup.get_text() and "login.succeeded" not in soup.get_text()
    event = db.session.scalar(db.select(AuditEvent))
    event.action = "tampered"
    try:
        db.session.commit()
    except Exception as exc:  # the ORM guard refuses, and the database trigger too
        assert "append" in str(exc)
        db.session.rollback()
    else:
        raise AssertionError("an audit entry was changed")
    with db.engine.connect() as connection:
        try:
            connection.exec_driver_sql("UPDATE audit_events SET action = 'tampered'")
        except Exception as exc:
            assert "append-only" in str(exc)
        else:
            raise AssertionError("the database let an audit entry change")
        finally:
            connection.rollback()
