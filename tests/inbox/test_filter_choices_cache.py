"""The inbox's filter options are kept a minute, but a committed rename or deactivation shows at once."""

from __future__ import annotations

from flask import Flask
from flask_babel import force_locale
from sqlalchemy import select, update

from inquiry_desk.accounts.models import User
from inquiry_desk.core.extensions import db
from inquiry_desk.inbox.labels import filter_choices
from inquiry_desk.inquiries.models import Topic

from ..helpers import make_organisation, make_user


def _options(app: Flask) -> dict[str, list[tuple[str, str]]]:
    with app.test_request_context(), force_locale("en"):
        return filter_choices()


def test_a_rename_or_deactivation_is_shown_at_once(app: Flask) -> None:
    officer = make_user(role="officer", name="Amina Youssef", email="amina@example.org")
    partner = make_organisation("Aman Lara")
    topic = db.session.scalars(select(Topic).where(Topic.active.is_(True)).order_by(Topic.id)).first()
    assert topic is not None
    db.session.commit()
    first = _options(app)
    assert (str(officer.id), "Amina Youssef") in first["assignee"]
    assert (str(partner.id), "Aman Lara") in first["organisation"]
    assert (topic.code, topic.name_en) in first["topic"]

    officer.last_login_at = None  # a change the options do not show: they are kept
    officer.failed_logins = 3
    db.session.commit()
    assert _options(app) is first

    officer.name = "Amina Y. Haddad"
    topic.name_en = "Renamed topic"
    db.session.commit()
    renamed = _options(app)
    assert (str(officer.id), "Amina Y. Haddad") in renamed["assignee"]
    assert (str(officer.id), "Amina Youssef") not in renamed["assignee"]
    assert (topic.code, "Renamed topic") in renamed["topic"]

    partner.active = False  # no longer a trusted partner
    db.session.commit()
    assert (str(partner.id), "Aman Lara") not in _options(app)["organisation"]

    officer.name = "Never committed"  # rolled back: the options are not forgotten, nor changed
    db.session.flush()
    db.session.rollback()
    assert ("Never committed" not in dict(_options(app)["assignee"]).values())


def test_each_application_keeps_its_own_options(app: Flask, app_factory) -> None:
    """Per application, not per process: a test's (or another database's) staff never show in another's list.

    A change this process's ORM does not see (another process, a bulk UPDATE) shows within the minute.
    """
    user = make_user(role="officer", name="Only Here", email="only@example.org")
    db.session.commit()
    assert "Only Here" in dict(_options(app)["assignee"]).values()
    db.session.execute(update(User).where(User.id == user.id).values(name="Changed Elsewhere"))
    db.session.commit()
    assert "Only Here" in dict(_options(app)["assignee"]).values()  # kept (CHOICES_SECONDS)
    other = app_factory()
    with other.app_context():
        assert "Changed Elsewhere" in dict(_options(other)["assignee"]).values()
