"""Bounce reports (RFC 3464 and the common non-standard formats that flufl.bounce knows).

flufl.bounce names the failed recipients, permanent and temporary; no rule of our own reads
the report. A permanent failure marks the outbox email or bulk delivery that bounced (found
by the original's Message-ID in the report) failed, suppresses the address
(``mail_suppressions``) and sends ``signals.bounce_reported`` for the capabilities above
(the mailing lists' register, the directory's follow-up). Temporary failures are counted per
address (``mail_bounced_addresses``); at ``MAIL_SOFT_BOUNCE_LIMIT`` the address is treated
as a hard bounce.
"""

from __future__ import annotations

import email
import logging
import re
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite

from inquiry_desk.core.extensions import db
from inquiry_desk.mail import signals
from inquiry_desk.mail.inbound.models import BouncedAddress
from inquiry_desk.mail.models import Delivery, DeliveryStatus, EmailStatus, OutgoingEmail
from inquiry_desk.mail.sending import normalise_address, suppress

log = logging.getLogger(__name__)
logging.getLogger("flufl.bounce").setLevel(logging.WARNING)  # its INFO lines name detectors and addresses

_ORIGINAL_ID = re.compile(rb"^message-id:\s*(<[^<>\s\x00-\x1f\x7f-\xff]{1,250}>)", re.IGNORECASE | re.MULTILINE)
_BULK_ID = re.compile(r"^<send-(\d+)\.(\d+)@")
MAX_ADDRESSES = 50


@dataclass
class BounceReport:
    permanent: list[str] = field(default_factory=list)
    temporary: list[str] = field(default_factory=list)
    original_ids: list[str] = field(default_factory=list)

    @property
    def found(self) -> bool:
        return bool(self.permanent or self.temporary)


def _addresses(found: object) -> list[str]:
    addresses: list[str] = []
    if not isinstance(found, (set, frozenset)):
        return addresses
    for item in found:
        text = item.decode("utf-8", "replace") if isinstance(item, bytes) else str(item)
        text = normalise_address(text.strip("<> "))
        if "@" in text and len(text) <= 400 and text.isprintable() and " " not in text and text not in addresses:
            addresses.append(text)
    return sorted(addresses)[:MAX_ADDRESSES]


def read_report(raw: bytes, own_message_id: str | None) -> BounceReport:
    """Who failed, for good or for now, and the Message-IDs of the original quoted in the report."""
    from flufl.bounce import all_failures

    try:
        message = email.message_from_bytes(raw)  # flufl.bounce reads compat32 messages
        temporary, permanent = all_failures(message)
    except Exception as exc:  # a detector that trips on a malformed report: no bounce found
        log.info("inbound: bounce detection failed (%s)", type(exc).__name__)
        return BounceReport()
    report = BounceReport(permanent=_addresses(permanent), temporary=_addresses(temporary))
    report.temporary = [address for address in report.temporary if address not in report.permanent]
    ids = [match.decode("ascii", "replace") for match in _ORIGINAL_ID.findall(raw.replace(b"\r\n", b"\n"))]
    report.original_ids = [item for item in dict.fromkeys(ids) if item != own_message_id][:10]
    return report


def record(report: BounceReport, *, soft_limit: int, now: datetime) -> list[str]:
    """Write what the report says; returns the addresses suppressed now (hard, or soft past the limit)."""
    suppressed: list[str] = []
    for address in report.temporary:
        _bounced_row(address, now)
        db.session.execute(update(BouncedAddress).where(BouncedAddress.address_key == address)
                           .values(soft_count=BouncedAddress.soft_count + 1, last_at=now))
        count = db.session.scalar(select(BouncedAddress.soft_count).where(BouncedAddress.address_key == address))
        if soft_limit > 0 and (count or 0) >= soft_limit:
            suppressed.append(address)
    for address in report.permanent:
        _bounced_row(address, now)
        db.session.execute(update(BouncedAddress).where(BouncedAddress.address_key == address)
                           .values(hard_at=now, last_at=now))
        suppressed.append(address)
    for address in suppressed:
        _mark_failed(address, report.original_ids)
        suppress(address, "bounce", now=now)
        signals.bounce_reported.send(None, address=address,
                                     message_id=report.original_ids[0] if report.original_ids else None, now=now)
    if report.found:
        log.info("inbound: bounce report, %d permanent and %d temporary failure(s), %d address(es) suppressed",
                 len(report.permanent), len(report.temporary), len(suppressed))
    return suppressed


def _bounced_row(address: str, now: datetime) -> None:
    insert = postgresql.insert if db.session.get_bind().dialect.name == "postgresql" else sqlite.insert
    db.session.execute(insert(BouncedAddress).values(address_key=address, soft_count=0, last_at=now)
                       .on_conflict_do_nothing(index_elements=["address_key"]))


def _mark_failed(address: str, original_ids: list[str]) -> None:
    """The email that bounced, when the report quotes its Message-ID: an outbox row or a bulk delivery."""
    if not original_ids:
        return
    db.session.execute(
        update(OutgoingEmail)
        .where(OutgoingEmail.message_id.in_(original_ids), OutgoingEmail.status != EmailStatus.FAILED.value)
        .values(status=EmailStatus.FAILED.value, last_error="bounce report")
        .execution_options(synchronize_session=False))
    delivery_ids = [int(match.group(2)) for match in map(_BULK_ID.match, original_ids) if match]
    if delivery_ids:
        db.session.execute(
            update(Delivery).where(Delivery.id.in_(delivery_ids), Delivery.address_key == address)
            .values(status=DeliveryStatus.FAILED.value, last_error="bounce report")
            .execution_options(synchronize_session=False))
