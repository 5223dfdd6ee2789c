"""core.database's INSERT … RETURNING helpers give rows as ORM objects loaded in the session, with statements
built once per shape; the upsert keeps what it is told to keep, and refuses what it is told to refuse."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import event, inspect, select

from inquiry_desk.core.clock import utcnow
from inquiry_desk.core.database import _PREBUILT, insert_row, upsert_row
from inquiry_desk.core.extensions import db
from inquiry_desk.directory.models import Contact
from inquiry_desk.inquiries.models import PortalLink

from ..helpers import make_inquiry


def _upsert(**values: object) -> Contact | None:
    row = {"email": "zahra@example.org", "name": "Zahra", "created_at": utcnow(), "language": "en", "phone": None,
           **values}
    return upsert_row(Contact, row, ["email"], ["language", "phone"], keep_unless_given=("phone",),
                      only_if_same=("name",))


def test_the_returned_row_is_an_object_as_loaded(app: Flask) -> None:
    contact = _upsert(phone="+1 613 555 0100")
    assert contact is not None and inspect(contact).persistent and contact not in db.session.dirty
    seen: list[str] = []

    def note(conn: object, cursor: object, statement: str, *args: object) -> None:
        seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", note)
    assert (contact.name, contact.phone, contact.active) == ("Zahra", "+1 613 555 0100", True)  # no query
    assert contact.organisation is None and not seen
    event.remove(db.engine, "before_cursor_execute", note)
    db.session.commit()
    assert db.session.scalars(select(Contact)).one().email == "zahra@example.org"


def test_the_upsert_updates_keeps_and_refuses_as_told(app: Flask) -> None:
    first = _upsert(phone="+1 613 555 0100")
    db.session.commit()
    loaded = db.session.scalars(select(Contact)).one()
    again = _upsert(language="fr")  # no phone given: the one given before stays
    assert again is loaded and (loaded.language, loaded.phone) == ("fr", "+1 613 555 0100")
    assert _upsert(name="Zahra Noorzai", language="en") is None  # another name: the row is left as it was
    db.session.expire_all()
    assert (first.name, first.language) == ("Zahra", "fr")
    shapes = len(_PREBUILT)
    _upsert(language="en")
    assert len(_PREBUILT) == shapes  # the same shape reuses its statement


def test_insert_row(app: Flask) -> None:
    inquiry = make_inquiry()
    now = utcnow()
    link = insert_row(PortalLink, {"inquiry_id": inquiry.id, "token_hash": "0" * 64, "created_at": now,
                                   "expires_at": now, "revoked_at": None})
    assert link.id is not None and link.inquiry is inquiry and inspect(link).persistent
    db.session.commit()
    assert db.session.get(PortalLink, link.id) is link
