"""Topics, managed by leads: renamed in both languages, added (issue 10). Every change is audited."""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from inquiry_desk.accounts.models import Role, User
from inquiry_desk.audit import services as audit
from inquiry_desk.core.domain import Conflict, NotAllowed
from inquiry_desk.core.extensions import db
from inquiry_desk.core.text import parse_line
from inquiry_desk.inquiries.models import Topic

NAME_MAX = 120  # the columns' length


class TopicNameTaken(Conflict):
    code = "topic_name_taken"
    default_message = _l("Another topic already has this name.")


def _names(name_en: str, name_fr: str) -> tuple[str, str]:
    return parse_line(name_en, max_length=NAME_MAX), parse_line(name_fr, max_length=NAME_MAX)


def _check_lead(actor: User) -> None:
    if not actor.has_role(Role.LEAD):
        raise NotAllowed()


def _check_unique(name_en: str, name_fr: str, *, except_id: int | None = None) -> None:
    query = select(Topic.id).where((func.lower(Topic.name_en) == name_en.lower())
                                   | (func.lower(Topic.name_fr) == name_fr.lower()))
    if except_id is not None:
        query = query.where(Topic.id != except_id)
    if db.session.scalar(query.limit(1)) is not None:
        raise TopicNameTaken()


def all_topics() -> list[Topic]:
    return list(db.session.scalars(select(Topic).order_by(Topic.position, Topic.id)))


def rename(topic: Topic, name_en: str, name_fr: str, *, actor: User, now: datetime) -> Topic:
    """New names in English and French; the code, and so every inquiry's topic, stays."""
    _check_lead(actor)
    name_en, name_fr = _names(name_en, name_fr)
    _check_unique(name_en, name_fr, except_id=topic.id)
    before = {"name_en": topic.name_en, "name_fr": topic.name_fr}
    topic.name_en, topic.name_fr = name_en, name_fr
    audit.record("topic.renamed", actor=actor, subject_type="topic", subject_id=topic.id,
                 details={"before": before, "after": {"name_en": name_en, "name_fr": name_fr}}, now=now)
    return topic


def add(name_en: str, name_fr: str, *, actor: User, now: datetime) -> Topic:
    """A new topic, last in the list, with a code made from its English name."""
    _check_lead(actor)
    name_en, name_fr = _names(name_en, name_fr)
    _check_unique(name_en, name_fr)
    base = re.sub(r"[^a-z0-9]+", "_", unicodedata.normalize("NFKD", name_en).encode("ascii", "ignore").decode()
                  .lower()).strip("_")[:50] or "topic"
    code, number = base, 1
    while db.session.scalar(select(Topic.id).where(Topic.code == code)) is not None:
        number += 1
        code = f"{base}_{number}"
    position = (db.session.scalar(select(func.max(Topic.position))) or 0) + 1
    topic = Topic(code=code, name_en=name_en, name_fr=name_fr, position=position, active=True)
    db.session.add(topic)
    db.session.flush()
    audit.record("topic.added", actor=actor, subject_type="topic", subject_id=topic.id,
                 details={"code": code, "name_en": name_en, "name_fr": name_fr}, now=now)
    return topic
