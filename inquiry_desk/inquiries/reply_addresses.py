"""Per-inquiry reply addresses (desk+TOKEN@…): an answer whose subject and headers were lost still threads.

The token is the inquiry's id and an HMAC of it with SECRET_KEY, so nobody can make one for
another inquiry; a reply to it still joins only when its sender may write in the inquiry
(inquiries.email_in). Used only when ``MAIL_INBOUND_PLUS_ADDRESSING`` and ``MAIL_INBOUND_ADDRESS`` are set.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from email.utils import parseaddr

from flask import current_app

from inquiry_desk.core.extensions import db
from inquiry_desk.inquiries.models import Inquiry

_TOKEN = re.compile(r"^(\d{1,12})\.([0-9a-f]{12})$")


def _token(inquiry_id: int) -> str:
    key = str(current_app.config["SECRET_KEY"]).encode()
    digest = hmac.new(key, f"reply-address:{inquiry_id}".encode(), hashlib.sha256).hexdigest()[:12]
    return f"{inquiry_id}.{digest}"


def reply_address(inquiry: Inquiry) -> str | None:
    """desk+TOKEN@domain for this inquiry, when plus addressing is configured; else None."""
    config = current_app.config
    inbound = parseaddr(config.get("MAIL_INBOUND_ADDRESS", ""))[1]
    if not config.get("MAIL_INBOUND_PLUS_ADDRESSING") or "@" not in inbound:
        return None
    local, domain = inbound.split("@", 1)
    return f"{local}+{_token(inquiry.id)}@{domain}"


def inquiry_by_reply_address(recipients: list[str]) -> Inquiry | None:
    inbound = parseaddr(current_app.config.get("MAIL_INBOUND_ADDRESS", ""))[1].lower()
    if not current_app.config.get("MAIL_INBOUND_PLUS_ADDRESSING") or "@" not in inbound:
        return None
    local, domain = inbound.split("@", 1)
    for address in recipients:
        their_local, _, their_domain = address.partition("@")
        if their_domain != domain or not their_local.startswith(local + "+"):
            continue
        match = _TOKEN.match(their_local[len(local) + 1:])
        if match and hmac.compare_digest(_token(int(match.group(1))), match.group(0)):
            return db.session.get(Inquiry, int(match.group(1)))
    return None
