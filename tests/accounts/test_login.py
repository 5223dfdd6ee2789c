"""Sign-in with a password and a second factor; lockout, throttling, sessions."""

from __future__ import annotations

from datetime import timedelta

import pyotp
import time_machine

from inquiry_desk.accounts.models import StaffSession
from inquiry_desk.audit.models import AuditEvent
from inquiry_desk.core.clock import utcnow
from inquiry_desk.core.extensions import db

from ..helpers import PASSWORD, current_code, form_errors, make_user, page, sign_in


def _password_step(client, user, password: str = PASSWORD):
    return client.post("/auth/login", data={"email": user.email, "password": password})


def test_full_sign_in_with_totp(app, client) -> None:
    user = make_user(role="officer")
    response = _password_step(client, user)
    assert response.status_code == 302 and response.headers["Location"] == "/auth/second-factor"
    # Not signed in yet: the password alone opens nothing.
    assert client.get("/staff/").status_code == 302
    response = client.post("/auth/second-factor", data={"code": current_code(user)})
    assert response.status_code == 302 and response.headers["Location"] == "/staff/"
    soup = page(client.get("/staff/"))
    assert user.name in soup.get_text()
    actions = [e.action for e in db.session.scalars(db.select(AuditEvent).order_by(AuditEvent.id))]
    assert "login.succeeded" in actions


def test_sign_in_keeps_the_page_asked_for(client) -> None:
    user = make_user(role="admin")
    response = client.get("/staff/admin/users")
    assert response.headers["Location"].startswith("/auth/login?next=")
    client.post(response.headers["Location"], data={"email": user.email, "password": PASSWORD})
    response = client.post("/auth/second-factor", data={"code": current_code(user)})
    assert response.headers["Location"] == "/staff/admin/users"


def test_wrong_password_says_nothing_about_the_account(client) -> None:
    user = make_user()
    wrong = page(_password_step(client, user, "not the password!"))
    unknown = page(client.post("/auth/login", data={"email": "nobody@example.org", "password": "whatever1234"}))
    assert form_errors(wrong) == form_errors(unknown) and form_errors(wrong)
    assert wrong.title.get_text().startswith("Error")


def test_lockout_after_repeated_failures(app, client) -> None:
    user = make_user()
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        _password_step(client, user, "wrong password here")
    db.session.refresh(user)
    assert user.locked_until is not None and user.locked_until > utcnow()
    # Even the right password is refused while locked, with the same message.
    response = _password_step(client, user)
    assert response.status_code == 200 and "second-factor" not in response.headers.get("Location", "")
    with time_machine.travel(utcnow() + timedelta(minutes=app.config["LOGIN_LOCKOUT_MINUTES"] + 1)):
        response = _password_step(client, user)
    assert response.status_code == 302


def test_login_is_rate_limited(app, client) -> None:
    statuses = [
        client.post("/auth/login", data={"email": f"n{i}@example.org", "password": "x" * 12}).status_code
        for i in range(12)
    ]
    assert statuses[:10] == [200] * 10 and statuses[-1] == 429
    assert "Too many attempts" in client.post("/auth/login", data={}).get_data(as_text=True)


def test_totp_code_is_accepted_once_only(client, app) -> None:
    user = make_user()
    code = current_code(user)
    _password_step(client, user)
    assert client.post("/auth/second-factor", data={"code": code}).status_code == 302
    other = app.test_client()
    _password_step(other, user)
    soup = page(other.post("/auth/second-factor", data={"code": code}))
    assert soup.select_one("#code")["aria-invalid"] == "true"


def test_second_factor_failures_lock_the_account(app, client) -> None:
    user = make_user()
    _password_step(client, user)
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        client.post("/auth/second-factor", data={"code": "000000"})
    db.session.refresh(user)
    assert user.locked_until is not None
    assert client.post("/auth/second-factor", data={"code": current_code(user)}).status_code == 200


def test_enrolment_on_first_sign_in_gives_recovery_codes_that_work_once(app, client) -> None:
    user = make_user(enrolled=False)
    response = _password_step(client, user)
    assert response.headers["Location"] == "/auth/enrol"
    soup = page(client.get("/auth/enrol"))
    assert soup.select_one(".qr-code[role=img] svg") is not None
    secret = soup.select_one("[data-testid=totp-secret]").get_text(strip=True)
    wrong_code = "123456" if pyotp.TOTP(secret).now() != "123456" else "654321"
    soup = page(client.post("/auth/enrol", data={"code": wrong_code}))
    assert form_errors(soup)
    soup = page(client.post("/auth/enrol", data={"code": pyotp.TOTP(secret).now()}))
    codes = [c.get_text(strip=True) for c in soup.select("[data-testid=recovery-codes] code")]
    assert len(codes) == 10 and len(set(codes)) == 10
    db.session.refresh(user)
    assert user.totp_secret == secret
    assert client.get("/staff/").status_code == 200

    # A recovery code stands in for the phone, once.
    for attempt, expected in ((1, 302), (2, 200)):
        other = app.test_client()
        _password_step(other, user)
        response = other.post("/auth/second-factor", data={"code": codes[0].upper()})
        assert response.status_code == expected, f"attempt {attempt}"


def test_logout_ends_the_session_on_the_server(app, client) -> None:
    user = make_user()
    sign_in(client, user)
    with client.session_transaction() as session:
        stolen = dict(session)
    assert client.post("/auth/logout").status_code == 302
    assert client.get("/staff/").status_code == 302
    # Replaying the old cookie does not bring the session back.
    replay = app.test_client()
    with replay.session_transaction() as session:
        session.update(stolen)
    assert replay.get("/staff/").status_code == 302


def test_session_is_renewed_at_sign_in(client) -> None:
    user = make_user()
    with client.session_transaction() as session:
        session["planted"] = "by an attacker"
    _password_step(client, user)
    client.post("/auth/second-factor", data={"code": current_code(user)})
    with client.session_transaction() as session:
        assert "planted" not in session


def test_idle_and_absolute_timeouts(app, client) -> None:
    user = make_user()
    sign_in(client, user)
    assert client.get("/staff/").status_code == 200
    idle = app.config["SESSION_IDLE_MINUTES"]
    with time_machine.travel(utcnow() + timedelta(minutes=idle + 1)):
        assert client.get("/staff/").status_code == 302
    other = app.test_client()
    sign_in(other, user)
    start = utcnow()
    absolute = app.config["SESSION_ABSOLUTE_MINUTES"]
    step = timedelta(minutes=idle - 1)
    moment = start
    while moment < start + timedelta(minutes=absolute - idle):
        moment += step
        with time_machine.travel(moment):
            assert other.get("/staff/").status_code == 200
    with time_machine.travel(start + timedelta(minutes=absolute + 1)):
        assert other.get("/staff/").status_code == 302


def test_password_change_ends_other_sessions(app, signed_in) -> None:
    client = signed_in("viewer")
    user = client.user
    laptop = app.test_client()
    sign_in(laptop, user)
    new_password = "a much longer new password"
    soup = page(client.post("/staff/account/password", data={
        "current_password": PASSWORD, "new_password": "short", "confirm_password": "short"}))
    assert soup.select_one("#new_password")["aria-invalid"] == "true"
    response = client.post("/staff/account/password", data={
        "current_password": PASSWORD, "new_password": new_password, "confirm_password": new_password})
    assert response.status_code == 302
    assert client.get("/staff/").status_code == 200
    assert laptop.get("/staff/").status_code == 302
    open_sessions = db.session.scalars(db.select(StaffSession).where(
        StaffSession.user_id == user.id, StaffSession.ended_at.is_(None))).all()
    assert len(open_sessions) == 1


def test_temporary_password_must_be_changed_first(app, client) -> None:
    user = make_user()
    user.must_change_password = True
    db.session.commit()
    sign_in(client, user)
    assert client.get("/staff/").headers["Location"] == "/staff/account/password"
    assert client.get("/staff/account/password").status_code == 200


def test_deactivated_user_cannot_sign_in(client) -> None:
    user = make_user(active=False)
    assert _password_step(client, user).status_code == 200


def test_staff_pages_are_not_cached(signed_in) -> None:
    client = signed_in("viewer")
    assert client.get("/staff/").headers["Cache-Control"] == "no-store"


def test_passwords_are_hashed_with_argon2id(app) -> None:
    user = make_user()
    assert user.password_hash.startswith("$argon2id$") and PASSWORD not in user.password_hash
