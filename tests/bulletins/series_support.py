"""Helpers for the series tests: a weekly series (Thursdays 10:00 Toronto) to one list, and its editions."""

from __future__ import annotations

import itertools
from datetime import datetime, time

from inquiry_desk.accounts.models import User
from inquiry_desk.bulletins import checks, series, services
from inquiry_desk.bulletins.models import Bulletin, BulletinSeries
from inquiry_desk.core.extensions import db

from .support import fields

_numbers = itertools.count(1)


def staff(role: str = "lead", *, language: str = "en") -> User:
    """A staff account that never signs in: no password hash to compute (argon2 costs a second a user on a
    loaded machine; the service tests need many accounts)."""
    number = next(_numbers)
    user = User(name=f"Series {role} {number}", email=f"series-{role}{number}@example.org", role=role,
                language=language, password_hash="!", active=True)
    db.session.add(user)
    db.session.commit()
    return user


def weekly(list_ids: tuple[int, ...], *, lead: User | None = None, editors: tuple[int, ...] = (),
           now: datetime, weekday: int = 4, at: time = time(10, 0), lead_minutes: int = 3 * 24 * 60,
           **template: str) -> BulletinSeries:
    """"Weekly partner update, Thursdays 10:00 Toronto time", editions made 3 days ahead."""
    lead = lead or staff("lead")
    created = series.create(series.SeriesFields(
        name="Weekly partner update", rule="weekly", at=at, lead_minutes=lead_minutes, weekday=weekday,
        editor_ids=editors, template=fields(list_ids, **template)), actor=lead, now=now)
    db.session.commit()
    return created


def approve(bulletin: Bulletin, *, now: datetime) -> User:
    """Submitted by an officer, approved by a lead who wrote none of it."""
    officer = staff("officer")
    approver = staff("lead")
    if bulletin.status == "draft":
        services.submit(bulletin, actor=officer, now=now)
    keys = [finding.key for finding in checks.run_checks(bulletin)]
    services.approve(bulletin, version=bulletin.version, acknowledged=keys, actor=approver, now=now)
    db.session.commit()
    return approver
