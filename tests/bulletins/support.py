"""Helpers for the bulletin tests: lists with subscribers, a bulletin in both languages, moved along."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta

from flask import Flask

from inquiry_desk.accounts.models import User
from inquiry_desk.bulletins import services
from inquiry_desk.bulletins.models import Bulletin
from inquiry_desk.core.extensions import db
from inquiry_desk.mailing import services as mailing
from inquiry_desk.mailing.models import MailingList

from ..helpers import make_user

T0 = datetime(2026, 11, 30, 15, 0, tzinfo=UTC)

BODY_EN = "## News\n\nRead the [sponsorship guide](https://example.org/guide).\n"
BODY_FR = "## Nouvelles\n\nLisez le [guide du parrainage](https://example.org/guide-fr).\n"


def make_list(name: str = "Partner news", *, public: bool = True) -> MailingList:
    fields = mailing.ListFields(name_en=name, name_fr=f"{name} (fr)", public=public)
    mailing_list = mailing.save_list(None, fields, actor=None, now=T0 - timedelta(days=30))
    db.session.commit()
    return mailing_list


def subscribe(mailing_list: MailingList, email: str, language: str = "en") -> None:
    mailing.add_member(mailing_list, email, name=None, language=language, consent_source="asked by phone",
                       actor=None, now=T0 - timedelta(days=20))
    db.session.commit()


def fields(list_ids: tuple[int, ...], **overrides: str) -> services.BulletinFields:
    values = {"sender_name": "Dedicated Stakeholder Team", "title_en": "November update",
              "title_fr": "Le point de novembre", "subject_en": "November update for partners",
              "subject_fr": "Le point de novembre pour les partenaires", "body_en": BODY_EN, "body_fr": BODY_FR}
    values.update(overrides)
    return services.BulletinFields(list_ids=list_ids, **values)


def make_bulletin(author: User, list_ids: tuple[int, ...], **overrides: str) -> Bulletin:
    bulletin = services.create(fields(list_ids, **overrides), actor=author, now=T0)
    db.session.commit()
    return bulletin


def approved(list_ids: tuple[int, ...], **overrides: str) -> tuple[Bulletin, User, User]:
    """A bulletin written by an officer and approved by a lead."""
    author = make_user(role="officer")
    approver = make_user(role="lead")
    bulletin = make_bulletin(author, list_ids, **overrides)
    services.submit(bulletin, actor=author, now=T0)
    from inquiry_desk.bulletins import checks

    keys = [finding.key for finding in checks.run_checks(bulletin)]
    services.approve(bulletin, version=bulletin.version, acknowledged=keys, actor=approver, now=T0)
    db.session.commit()
    return bulletin, author, approver


def at_once(apps: Sequence[Flask], work: Callable[[], int]) -> list[int]:
    """``work`` in each app's context, each on its own thread and connection, started together by a barrier
    (two schedulers racing); the results. The caller's session is closed first: its connection must not
    hold a lock the racers wait for."""
    barrier = threading.Barrier(len(apps))
    results: list[int] = []
    errors: list[BaseException] = []

    def one(instance: Flask) -> None:
        try:
            with instance.app_context():
                barrier.wait(timeout=10)
                results.append(work())
                db.session.remove()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=one, args=(instance,)) for instance in apps]
    db.session.remove()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    return results
