"""The public archive: bulletins sent to at least one public list, as they were sent, newest first."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select

from inquiry_desk.bulletins.models import Bulletin, BulletinSnapshot, BulletinStatus
from inquiry_desk.core.domain import NotFound
from inquiry_desk.core.extensions import db

PAGE = 50
SHOWN = (BulletinStatus.SENDING.value, BulletinStatus.SENT.value)


def published(limit: int = PAGE) -> Sequence[BulletinSnapshot]:
    return db.session.scalars(
        select(BulletinSnapshot).join(Bulletin, Bulletin.id == BulletinSnapshot.bulletin_id)
        .where(BulletinSnapshot.public.is_(True), Bulletin.status.in_(SHOWN))
        .order_by(BulletinSnapshot.started_at.desc(), BulletinSnapshot.id.desc()).limit(limit)).all()


def published_one(bulletin_id: int) -> BulletinSnapshot:
    snapshot = db.session.scalar(
        select(BulletinSnapshot).join(Bulletin, Bulletin.id == BulletinSnapshot.bulletin_id)
        .where(BulletinSnapshot.bulletin_id == bulletin_id, BulletinSnapshot.public.is_(True),
               Bulletin.status.in_(SHOWN)))
    if snapshot is None:
        raise NotFound()
    return snapshot


def in_language(snapshot: BulletinSnapshot, lang: str) -> tuple[str, dict[str, Any]]:
    """The language shown and its part: the one asked for, or the only one it was sent in."""
    if lang in snapshot.content:
        return lang, snapshot.content[lang]
    only = next(iter(snapshot.content))
    return only, snapshot.content[only]
