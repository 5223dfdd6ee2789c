"""Named sets of inbox filters, kept per user."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from urllib.parse import parse_qsl, urlencode

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from inquiry_desk.accounts.models import User
from inquiry_desk.core.domain import DomainError
from inquiry_desk.core.extensions import db
from inquiry_desk.core.text import TextRequired, parse_line
from inquiry_desk.inquiries.queues import QUEUES, SORTS, Filters
from inquiry_desk.inquiries.saved_views.models import SavedView

MAX_VIEWS_PER_USER = 30
NAME_MAX = 80  # the column's length
QUERY_MAX = 2000  # the column's length


class SavedViewError(DomainError, ValueError):
    pass


def views_of(user: User) -> Sequence[SavedView]:
    return db.session.scalars(select(SavedView).where(SavedView.user_id == user.id).order_by(SavedView.name)).all()


def canonical_query(query: str) -> str:
    """Only known keys with sensible values survive: a saved view can never smuggle anything in."""
    args = dict(parse_qsl(query, keep_blank_values=False))
    kept = Filters.from_args(args).as_args()
    if args.get("queue") in QUEUES:
        kept["queue"] = args["queue"]
    if args.get("sort") in SORTS:
        kept["sort"] = args["sort"]
    return urlencode(sorted(kept.items()))


def save_view(user: User, name: str, query: str, *, now: datetime) -> SavedView:
    """Save (or update, by name) one of the user's views. Raises SavedViewError or a core.text error."""
    try:
        name = parse_line(" ".join(name.split()), max_length=NAME_MAX)
    except TextRequired as exc:
        raise SavedViewError(_l("Give the view a name.")) from exc
    query = canonical_query(query)
    if len(query) > QUERY_MAX:
        raise SavedViewError(_l("This view has too many filters to be saved; remove some first."))
    existing = db.session.scalar(select(SavedView).where(SavedView.user_id == user.id, SavedView.name == name))
    if existing is not None:
        existing.query = query
        return existing
    if len(views_of(user)) >= MAX_VIEWS_PER_USER:
        raise SavedViewError(_l("You have too many saved views; delete one first."))
    view = SavedView(user_id=user.id, name=name, query=query, created_at=now)
    db.session.add(view)
    return view


def delete_view(user: User, view_id: int) -> bool:
    view = db.session.get(SavedView, view_id)
    if view is None or view.user_id != user.id:
        return False
    db.session.delete(view)
    return True
