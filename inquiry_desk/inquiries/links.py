"""Links: two inquiries related without moving anything (one family, one policy change).

Unlike a merge, a link moves no message and closes nothing: each inquiry keeps its own
stakeholder, thread and private link, and each stakeholder is answered in their own thread.
Both inquiries show the link. Linking and unlinking are changes to both inquiries, recorded
(and audited) on each through the recorder. Officers link; viewers only read.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, select

from inquiry_desk.accounts.models import Role, User
from inquiry_desk.core.extensions import db
from inquiry_desk.inquiries import recorder
from inquiry_desk.inquiries.models import Inquiry, InquiryLink
from inquiry_desk.inquiries.rules import InvalidValue, require_role


def _pair(first: Inquiry, second: Inquiry) -> tuple[int, int]:
    return (first.id, second.id) if first.id < second.id else (second.id, first.id)


def is_linked(first: Inquiry, second: Inquiry) -> bool:
    low, high = _pair(first, second)
    return db.session.get(InquiryLink, (low, high)) is not None


def link(inquiry: Inquiry, other: Inquiry, *, actor: User | None, now: datetime) -> bool:
    """Relate two inquiries; False when they already were. ``actor=None`` is the system
    (a stakeholder's reply long after closing opens a new inquiry linked to the old one)."""
    if actor is not None:
        require_role(actor, Role.OFFICER)
    if inquiry.id == other.id:
        raise InvalidValue(_l("An inquiry cannot be linked to itself."))
    if is_linked(inquiry, other):
        return False
    low, high = _pair(inquiry, other)
    with recorder.change(inquiry, actor=actor, now=now) as change, \
            recorder.change(other, actor=actor, now=now) as other_change:
        db.session.add(InquiryLink(low_id=low, high_id=high, created_at=now,
                                   created_by_id=actor.id if actor is not None else None))
        change.event("linked", other=other.id, other_reference=other.reference)
        other_change.event("linked", other=inquiry.id, other_reference=inquiry.reference)
    return True


def unlink(inquiry: Inquiry, other: Inquiry, *, actor: User, now: datetime) -> None:
    """Undo a link (InvalidValue when there is none)."""
    require_role(actor, Role.OFFICER)
    if inquiry.id == other.id or not is_linked(inquiry, other):
        raise InvalidValue(_l("These inquiries are not linked."))
    low, high = _pair(inquiry, other)
    with recorder.change(inquiry, actor=actor, now=now) as change, \
            recorder.change(other, actor=actor, now=now) as other_change:
        db.session.execute(delete(InquiryLink).where(InquiryLink.low_id == low, InquiryLink.high_id == high))
        change.event("unlinked", other=other.id, other_reference=other.reference)
        other_change.event("unlinked", other=inquiry.id, other_reference=inquiry.reference)


def linked_inquiries(inquiry: Inquiry) -> Sequence[Inquiry]:
    """The inquiries linked to this one, oldest first."""
    others = select(InquiryLink.high_id).where(InquiryLink.low_id == inquiry.id).union_all(
        select(InquiryLink.low_id).where(InquiryLink.high_id == inquiry.id))
    query = (select(Inquiry).where(Inquiry.id.in_(others))
             .order_by(Inquiry.received_at, Inquiry.id))
    return db.session.scalars(query).all()


