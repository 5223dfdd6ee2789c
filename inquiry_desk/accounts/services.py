"""Staff account operations: users, sign-in with a second factor, sessions.

Functions take what they need (``actor``, ``now``) and leave the commit to the
caller (the end of the request or the command).
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from datetime import datetime, timedelta

from email_validator import EmailNotValidError, validate_email
from flask import current_app
from sqlalchemy import func, or_, select, update
from sqlalchemy.orm.attributes import set_committed_value

from inquiry_desk.accounts import second_factor
from inquiry_desk.accounts.models import RecoveryCode, Role, StaffSession, User
from inquiry_desk.accounts.passwords import hash_password, needs_rehash, verify_password
from inquiry_desk.audit import services as audit
from inquiry_desk.core.database import rows_affected
from inquiry_desk.core.domain import DomainError
from inquiry_desk.core.extensions import db

# last_seen_at is written at most this often, not on every request.
SESSION_TOUCH_INTERVAL = timedelta(seconds=60)


class AccountError(DomainError):
    """Base of the domain errors raised here; views turn them into messages."""


class InvalidEmail(AccountError):
    pass


class EmailTaken(AccountError):
    pass


class WeakPassword(AccountError):
    pass


class LoginFailed(AccountError):
    """Wrong email, wrong password or locked account: deliberately one error."""


class SecondFactorFailed(AccountError):
    pass


class LastAdminError(AccountError):
    """The change would leave no active admin."""


def normalise_email(email: str) -> str:
    try:
        return validate_email(email.strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError as exc:
        raise InvalidEmail(str(exc)) from exc


def check_password_strength(password: str) -> None:
    minimum = current_app.config["PASSWORD_MIN_LENGTH"]
    if len(password) < minimum:
        raise WeakPassword(minimum)


def get_user(user_id: int) -> User | None:
    return db.session.get(User, user_id)


def find_user_by_email(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == email.strip().lower()))


def list_users() -> Sequence[User]:
    return db.session.scalars(select(User).order_by(User.name, User.id)).all()


def assignable_users() -> Sequence[User]:
    """Active staff who can hold inquiries (officers, leads, admins), by name."""
    ranks = [role.value for role in Role if role.at_least(Role.OFFICER)]
    return db.session.scalars(
        select(User).where(User.active.is_(True), User.role.in_(ranks)).order_by(User.name)
    ).all()


def create_user(
    *,
    name: str,
    email: str,
    role: Role | str,
    password: str,
    actor: User | None,
    now: datetime,
    language: str = "en",
    must_change_password: bool = False,
) -> User:
    email = normalise_email(email)
    check_password_strength(password)
    if find_user_by_email(email) is not None:
        raise EmailTaken(email)
    user = User(
        name=name.strip(),
        email=email,
        role=Role(role).value,
        language=language,
        password_hash=hash_password(password),
        must_change_password=must_change_password,
        created_at=now,
    )
    db.session.add(user)
    db.session.flush()
    audit.record(
        "user.created",
        actor_id=actor.id if actor else None,
        subject_type="user",
        subject_id=user.id,
        details={"role": user.role},
        now=now,
    )
    return user


def _is_locked(user: User, now: datetime) -> bool:
    return user.locked_until is not None and user.locked_until > now


def _record_failure(user: User, now: datetime, action: str, ip_address: str | None) -> None:
    user.failed_logins += 1
    if user.failed_logins >= current_app.config["LOGIN_MAX_FAILURES"]:
        user.locked_until = now + timedelta(minutes=current_app.config["LOGIN_LOCKOUT_MINUTES"])
        user.failed_logins = 0
        audit.record("user.locked", actor_id=None, subject_type="user", subject_id=user.id, now=now)
    audit.record(action, actor_id=None, subject_type="user", subject_id=user.id, ip_address=ip_address, now=now)


def check_password(email: str, password: str, *, now: datetime, ip_address: str | None = None) -> User:
    """First step of sign-in. Raises LoginFailed without saying why."""
    try:
        user = find_user_by_email(normalise_email(email))
    except InvalidEmail:
        user = None
    password_ok = verify_password(user.password_hash if user else None, password)
    if user is None or not user.active:
        raise LoginFailed()
    if _is_locked(user, now):
        raise LoginFailed()
    if not password_ok:
        _record_failure(user, now, "login.failed_password", ip_address)
        raise LoginFailed()
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return user


def check_second_factor(user: User, code: str, *, now: datetime, ip_address: str | None = None) -> None:
    """Second step: a TOTP code (each accepted once) or an unused recovery code."""
    if not user.active or _is_locked(user, now) or user.totp_secret is None:
        raise SecondFactorFailed()
    step = second_factor.matching_step(user.totp_secret, code, now)
    if step is not None and _use_totp_step(user, step):
        return
    if step is None and _use_recovery_code(user, code, now):
        audit.record("login.recovery_code_used", actor_id=user.id, subject_type="user", subject_id=user.id, now=now)
        return
    _record_failure(user, now, "login.failed_second_factor", ip_address)
    raise SecondFactorFailed()


def _use_totp_step(user: User, step: int) -> bool:
    """Take the code's time step, once: a conditional UPDATE, so that of two requests sent at the same
    moment with one code the database lets one through (the second finds the step already taken)."""
    result = db.session.execute(
        update(User)
        .where(User.id == user.id, or_(User.totp_last_step.is_(None), User.totp_last_step < step))
        .values(totp_last_step=step)
        .execution_options(synchronize_session=False)
    )
    if rows_affected(result) != 1:
        return False
    set_committed_value(user, "totp_last_step", step)
    return True


def _use_recovery_code(user: User, code: str, now: datetime) -> bool:
    code_hash = second_factor.hash_recovery_code(code)
    # One UPDATE marks the code used, so that two requests cannot both use it.
    result = db.session.execute(
        update(RecoveryCode)
        .where(
            RecoveryCode.user_id == user.id,
            RecoveryCode.code_hash == code_hash,
            RecoveryCode.used_at.is_(None),
        )
        .values(used_at=now)
    )
    return rows_affected(result) == 1


def remaining_recovery_codes(user: User) -> int:
    return db.session.scalar(
        select(func.count())
        .select_from(RecoveryCode)
        .where(RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))
    ) or 0


def confirm_enrolment(user: User, secret: str, code: str, *, now: datetime) -> list[str]:
    """Keep the new TOTP secret once the user proved they have it; returns fresh recovery codes."""
    step = second_factor.matching_step(secret, code, now)
    if step is None:
        raise SecondFactorFailed()
    user.totp_secret = secret
    user.totp_last_step = step
    audit.record("user.second_factor_enrolled", actor_id=user.id, subject_type="user", subject_id=user.id, now=now)
    return replace_recovery_codes(user, now=now)


def replace_recovery_codes(user: User, *, now: datetime) -> list[str]:
    codes = second_factor.new_recovery_codes()
    user.recovery_codes.clear()
    db.session.flush()
    for code in codes:
        user.recovery_codes.append(RecoveryCode(code_hash=second_factor.hash_recovery_code(code)))
    audit.record("user.recovery_codes_replaced", actor_id=user.id, subject_type="user", subject_id=user.id, now=now)
    return codes


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start_session(user: User, *, now: datetime, ip_address: str | None = None) -> str:
    """Sign the user in; returns the token to keep in the session cookie."""
    token = secrets.token_urlsafe(32)
    db.session.add(StaffSession(token_hash=_token_hash(token), user_id=user.id, created_at=now, last_seen_at=now))
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = now
    audit.record("login.succeeded", actor_id=user.id, subject_type="user", subject_id=user.id,
                 ip_address=ip_address, now=now)
    return token


def session_user(user_id: int, token: str | None, *, now: datetime) -> User | None:
    """The signed-in user for this cookie, or None when the session ended or timed out."""
    if not token:
        return None
    staff_session = db.session.scalar(select(StaffSession).where(StaffSession.token_hash == _token_hash(token)))
    if staff_session is None or staff_session.ended_at is not None or staff_session.user_id != user_id:
        return None
    config = current_app.config
    idle_limit = timedelta(minutes=config["SESSION_IDLE_MINUTES"])
    absolute_limit = timedelta(minutes=config["SESSION_ABSOLUTE_MINUTES"])
    if now - staff_session.last_seen_at > idle_limit or now - staff_session.created_at > absolute_limit:
        staff_session.ended_at = now
        return None
    user = staff_session.user
    if now - staff_session.last_seen_at > SESSION_TOUCH_INTERVAL:
        staff_session.last_seen_at = now  # left unflushed: the caller commits it
    return user if user.active else None


def end_session(token: str | None, *, now: datetime) -> None:
    if token:
        db.session.execute(
            update(StaffSession)
            .where(StaffSession.token_hash == _token_hash(token), StaffSession.ended_at.is_(None))
            .values(ended_at=now)
        )


def end_other_sessions(user: User, keep_token: str | None, *, now: datetime) -> None:
    query = update(StaffSession).where(StaffSession.user_id == user.id, StaffSession.ended_at.is_(None))
    if keep_token:
        query = query.where(StaffSession.token_hash != _token_hash(keep_token))
    db.session.execute(query.values(ended_at=now))


def change_password(user: User, current: str, new: str, *, keep_token: str | None, now: datetime) -> None:
    if not verify_password(user.password_hash, current):
        raise LoginFailed()
    check_password_strength(new)
    user.password_hash = hash_password(new)
    user.must_change_password = False
    end_other_sessions(user, keep_token, now=now)
    audit.record("user.password_changed", actor_id=user.id, subject_type="user", subject_id=user.id, now=now)


def _active_admin_count() -> int:
    return db.session.scalar(
        select(func.count()).select_from(User).where(User.role == Role.ADMIN.value, User.active.is_(True))
    ) or 0


def update_user(user: User, *, role: Role | str, active: bool, actor: User, now: datetime) -> None:
    """Change a user's role or active flag; never leaves the desk without an admin."""
    new_role = Role(role).value
    losing_admin = user.role == Role.ADMIN.value and user.active and (new_role != Role.ADMIN.value or not active)
    if losing_admin and _active_admin_count() <= 1:
        raise LastAdminError()
    changes: dict[str, list[str | bool]] = {}
    if user.role != new_role:
        changes["role"] = [user.role, new_role]
        user.role = new_role
    if user.active != active:
        changes["active"] = [user.active, active]
        user.active = active
        if not active:
            end_other_sessions(user, None, now=now)
    if changes:
        audit.record("user.updated", actor_id=actor.id, subject_type="user", subject_id=user.id,
                     details=changes, now=now)


def reset_second_factor(user: User, *, actor: User, now: datetime) -> None:
    """An admin clears a lost second factor; the user enrols again at next sign-in."""
    user.totp_secret = None
    user.totp_last_step = None
    user.recovery_codes.clear()
    end_other_sessions(user, None, now=now)
    audit.record("user.second_factor_reset", actor_id=actor.id, subject_type="user", subject_id=user.id, now=now)


def set_language(user: User, language: str) -> None:
    if language in ("en", "fr"):
        user.language = language


def set_digest_preference(user: User, wanted: bool, *, actor: User, now: datetime) -> None:
    """Turn the daily digest on or off for a staff member (audited when it changes)."""
    if user.wants_digest == wanted:
        return
    user.wants_digest = wanted
    audit.record("user.digest_preference", actor_id=actor.id, subject_type="user", subject_id=user.id,
                 details={"wants_digest": wanted}, now=now)


def set_notification_preference(user: User, wanted: bool, *, actor: User, now: datetime) -> None:
    """Turn the assignment and reply emails on or off for a staff member (audited when it changes)."""
    if user.wants_notifications == wanted:
        return
    user.wants_notifications = wanted
    audit.record("user.notification_preference", actor_id=actor.id, subject_type="user", subject_id=user.id,
                 details={"wants_notifications": wanted}, now=now)
