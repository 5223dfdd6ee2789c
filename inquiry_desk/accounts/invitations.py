"""Invitations: an admin invites a staff member, who sets their own password (issue 10).

No temporary password is handed over. The admin names the person, their role and language;
the account is made with a password nobody knows, and the person is emailed (in their
language) a link to set a password and then enrol the second factor, which signs them in.
The link holds 256 random bits, only its hash is kept; it is good once (a conditional UPDATE
claims it, so two clicks cannot both set a password) and for INVITATION_HOURS. A new
invitation for the same person withdraws the earlier ones. Each step is in the audit log.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update

from inquiry_desk.accounts import services as accounts
from inquiry_desk.accounts.models import Role, StaffInvitation, User
from inquiry_desk.accounts.passwords import hash_password
from inquiry_desk.audit import services as audit
from inquiry_desk.core.database import rows_affected
from inquiry_desk.core.domain import DomainError
from inquiry_desk.core.extensions import db
from inquiry_desk.core.urls import external_url
from inquiry_desk.mail import services as mail
from inquiry_desk.mail.rendering import render_email

TOKEN_BYTES = 32


class InvitationInvalid(DomainError):
    """No such invitation, or it was used or withdrawn."""

    code = "invitation_invalid"
    http_status = 404
    default_message = _l("This invitation link is not valid, or it was already used. Ask an administrator "
                         "for a new invitation.")


class InvitationExpired(InvitationInvalid):
    code = "invitation_expired"
    http_status = 410
    default_message = _l("This invitation link has expired. Ask an administrator for a new invitation.")


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def invite(*, name: str, email: str, role: Role | str, language: str, actor: User, now: datetime) -> User:
    """Make the account (no usable password) and email the invitation; raises accounts' errors."""
    user = accounts.create_user(name=name, email=email, role=role, password=secrets.token_urlsafe(32),
                                actor=actor, now=now, language=language)
    send_invitation(user, actor=actor, now=now)
    return user


def send_invitation(user: User, *, actor: User, now: datetime) -> StaffInvitation:
    """Email ``user`` a new invitation; earlier ones no longer work. Audited."""
    db.session.execute(update(StaffInvitation).where(
        StaffInvitation.user_id == user.id, StaffInvitation.used_at.is_(None),
        StaffInvitation.withdrawn_at.is_(None)).values(withdrawn_at=now))
    token = secrets.token_urlsafe(TOKEN_BYTES)
    hours = int(current_app.config["INVITATION_HOURS"])
    invitation = StaffInvitation(user_id=user.id, token_hash=_hash(token), invited_by_id=actor.id, created_at=now,
                                 expires_at=now + timedelta(hours=hours))
    db.session.add(invitation)
    db.session.flush()
    language = user.language if user.language in ("en", "fr") else "en"
    rendered = render_email("staff_invitation", language, name=user.name, invited_by=actor.name, hours=hours,
                            url=external_url("auth.invitation", token=token), sign_in_url=external_url("auth.login"))
    mail.queue_email(cause_key=f"user:{user.id}:invitation:{invitation.id}", to=user.email, rendered=rendered,
                     language=language, automatic=mail.AUTO_GENERATED, now=now)
    audit.record("user.invited", actor=actor, subject_type="user", subject_id=user.id,
                 details={"invitation_id": invitation.id, "hours": hours}, now=now)
    return invitation


def pending_invitation(token: str, *, now: datetime) -> StaffInvitation:
    """The invitation a link holds, still usable; raises InvitationInvalid or InvitationExpired."""
    invitation = db.session.scalar(select(StaffInvitation).where(StaffInvitation.token_hash == _hash(token)))
    if invitation is None or invitation.used_at is not None or invitation.withdrawn_at is not None:
        raise InvitationInvalid()
    if invitation.expires_at <= now or not invitation.user.active:
        raise InvitationExpired()
    return invitation


def accept(token: str, password: str, *, now: datetime, ip_address: str | None = None) -> User:
    """Set the invited person's password; the link is used up. The second factor comes next (the view).

    Raises InvitationInvalid / InvitationExpired, or accounts.WeakPassword.
    """
    invitation = pending_invitation(token, now=now)
    accounts.check_password_strength(password)
    claimed = db.session.execute(update(StaffInvitation).where(
        StaffInvitation.id == invitation.id, StaffInvitation.used_at.is_(None),
        StaffInvitation.withdrawn_at.is_(None)).values(used_at=now))
    if rows_affected(claimed) != 1:  # the other of two clicks at once
        raise InvitationInvalid()
    user = invitation.user
    user.password_hash = hash_password(password)
    user.must_change_password = False
    audit.record("user.invitation_accepted", actor_id=user.id, subject_type="user", subject_id=user.id,
                 details={"invitation_id": invitation.id}, ip_address=ip_address, now=now)
    return user
