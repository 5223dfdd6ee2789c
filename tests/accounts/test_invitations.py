"""Invitations (issue 10): an admin invites a staff member; the email (in their language) holds a link
to set a password, then enrol the second factor; no temporary password; the link expires, works once,
and every step is audited."""

from __future__ import annotations

import re
from datetime import timedelta

import pyotp
from sqlalchemy import select

from inquiry_desk.accounts import invitations
from inquiry_desk.accounts.models import User
from inquiry_desk.accounts.passwords import verify_password
from inquiry_desk.audit.models import AuditEvent
from inquiry_desk.core.clock import utcnow
from inquiry_desk.core.extensions import db
from inquiry_desk.mail.models import OutgoingEmail

from ..helpers import form_errors, make_user, page

NEW_PASSWORD = "a phrase of several words"


def _invite(admin, *, email: str = "Nadia@Example.org", language: str = "fr") -> tuple[User, str]:
    response = admin.post("/staff/admin/users/new", data={"name": "Nadia Benali", "email": email, "role": "officer",
                                                          "language": language})
    assert response.status_code == 302
    user = db.session.scalar(select(User).where(User.email == email.lower()))
    email_row = db.session.scalars(select(OutgoingEmail).where(OutgoingEmail.to_address == user.email)
                                   .order_by(OutgoingEmail.id.desc())).first()
    match = re.search(r"https?://\S+/auth/invitation/(\S+)", email_row.body_text)
    assert match, email_row.body_text
    return user, match.group(1)


def test_an_invited_person_sets_a_password_then_enrols_the_second_factor(app, signed_in) -> None:
    admin = signed_in("admin")
    form = page(admin.get("/staff/admin/users/new"))
    assert form.select_one("input[type=password]") is None  # no temporary password to hand over
    user, token = _invite(admin)
    email = db.session.scalar(select(OutgoingEmail).where(OutgoingEmail.to_address == "nadia@example.org"))
    assert email.language == "fr" and email.subject == "Votre compte au bureau des demandes"
    assert "deuxième facteur" in email.body_text and "72 heures" in email.body_text
    assert user.role == "officer" and not user.totp_enrolled and not user.must_change_password
    assert token not in str([event.details for event in db.session.scalars(select(AuditEvent))])

    client = app.test_client()
    soup = page(client.get(f"/auth/invitation/{token}"))
    assert "nadia@example.org" in soup.get_text()
    soup = page(client.post(f"/auth/invitation/{token}", data={"new_password": "short",
                                                               "confirm_password": "short"}), status=422)
    assert soup.title.get_text().startswith("Error") and form_errors(soup)
    response = client.post(f"/auth/invitation/{token}", data={"new_password": NEW_PASSWORD,
                                                               "confirm_password": NEW_PASSWORD})
    assert response.status_code == 302 and response.headers["Location"] == "/auth/enrol"
    db.session.refresh(user)
    assert verify_password(user.password_hash, NEW_PASSWORD)
    soup = page(client.get("/auth/enrol"))
    secret = soup.select_one("[data-testid=totp-secret]").get_text(strip=True)
    page(client.post("/auth/enrol", data={"code": pyotp.TOTP(secret).now()}))
    assert client.get("/staff/").status_code == 200  # signed in, with the second factor
    actions = db.session.scalars(select(AuditEvent.action).where(AuditEvent.subject_type == "user",
                                                                 AuditEvent.subject_id == user.id)).all()
    assert {"user.created", "user.invited", "user.invitation_accepted"} <= set(actions)

    # The link works once.
    again = app.test_client()
    soup = page(again.get(f"/auth/invitation/{token}"), status=404)
    assert "already used" in soup.get_text()
    assert again.post(f"/auth/invitation/{token}", data={"new_password": "someone else's password",
                                                         "confirm_password": "someone else's password"}
                      ).status_code == 404
    db.session.refresh(user)
    assert verify_password(user.password_hash, NEW_PASSWORD)


def test_the_link_expires_and_a_new_invitation_withdraws_the_old(app, signed_in) -> None:
    admin = signed_in("admin")
    user, first = _invite(admin, email="omar@example.org", language="en")
    with app.test_request_context():
        later = utcnow() + timedelta(hours=73)
        try:
            invitations.pending_invitation(first, now=later)
        except invitations.InvitationExpired:
            pass
        else:
            raise AssertionError("an invitation 73 hours old still works")
    assert admin.post(f"/staff/admin/users/{user.id}/invitation").status_code == 302
    _, second = _invite_link(user)
    assert second != first
    assert page(app.test_client().get(f"/auth/invitation/{first}"), status=404)
    page(app.test_client().get(f"/auth/invitation/{second}"))
    email = db.session.scalars(select(OutgoingEmail).where(OutgoingEmail.to_address == user.email)).first()
    assert email.language == "en" and "second factor" in email.body_text


def _invite_link(user: User) -> tuple[User, str]:
    row = db.session.scalars(select(OutgoingEmail).where(OutgoingEmail.to_address == user.email)
                             .order_by(OutgoingEmail.id.desc())).first()
    match = re.search(r"/auth/invitation/(\S+)", row.body_text)
    assert match
    return user, match.group(1)


def test_a_deactivated_persons_invitation_no_longer_works(app, signed_in) -> None:
    admin = signed_in("admin")
    user, token = _invite(admin, email="gone@example.org")
    user.active = False
    db.session.commit()
    assert app.test_client().get(f"/auth/invitation/{token}").status_code == 410


def test_only_admins_invite(app, signed_in) -> None:
    target = make_user(role="viewer", enrolled=False)
    assert signed_in("lead").post(f"/staff/admin/users/{target.id}/invitation").status_code == 403
    assert signed_in("lead").post("/staff/admin/users/new", data={"name": "X", "email": "x@example.org",
                                                                  "role": "admin", "language": "en"}
                                  ).status_code == 403
