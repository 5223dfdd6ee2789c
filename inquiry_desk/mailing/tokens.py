"""Signed tokens for the links in mailing emails: confirm, preferences, one-click unsubscribe.

Each kind is signed (HMAC, ``SECRET_KEY``) under a salt of its own, so a token of
one kind is worthless as another, and it names the one thing it is for (a
contact, a subscription): changing the id breaks the signature, so one
subscriber's token never opens another's. Only the confirmation expires (its payload
carries the time it was issued);
preference and unsubscribe links live in every bulletin and last as long as the
subscription (rotating ``SECRET_KEY`` ends them all).
"""

from __future__ import annotations

from typing import Any

from flask import current_app
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, URLSafeSerializer

from inquiry_desk.core.domain import InvalidInput, NotFound

CONFIRM = "mailing.confirm"
PREFERENCES = "mailing.preferences"
UNSUBSCRIBE = "mailing.unsubscribe"


class LinkExpired(InvalidInput):
    code = "link_expired"
    http_status = 410
    default_message = _l("This link has expired.")


class LinkInvalid(NotFound):
    code = "link_invalid"
    default_message = _l("This link is not valid.")


def _serializer(kind: str) -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=kind)


def sign(kind: str, payload: Any) -> str:
    return str(_serializer(kind).dumps(payload))


def read(kind: str, token: str) -> dict[str, Any]:
    """The payload (a dict), or LinkInvalid. Expiry is the caller's: it knows ``now``."""
    if not token or len(token) > 2000:
        raise LinkInvalid()
    try:
        payload = _serializer(kind).loads(token)
    except (BadSignature, UnicodeError, ValueError) as exc:
        raise LinkInvalid() from exc
    if not isinstance(payload, dict):
        raise LinkInvalid()
    return payload
