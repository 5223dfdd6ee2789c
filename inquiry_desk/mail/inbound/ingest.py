"""One raw message in: refused, stored once, a bounce recorded, or handed to the capability that decides.

``ingest`` works in the caller's transaction and never commits (``flask mail ingest`` and
the IMAP job commit once, after it). Its answer carries the exit code an MTA pipe expects
(sysexits.h): 0 taken (also a message already stored, or one ignored), ``EX_DATAERR`` (65)
refused for its content (too large, empty), ``EX_NOPERM`` (77) refused because one sender
sent too many in the last hour, ``EX_TEMPFAIL`` (75) when the database failed (the MTA
tries again later). Reasons are logged as codes, never with an address or a subject.

Stored once: the message's Message-ID and a hash of its content are unique
(``InboundEmail``), so an MTA retrying its pipe, or a pipe and IMAP delivering the same
message, make one row; the second arrival is answered "taken" and changes nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import parseaddr

from flask import current_app
from sqlalchemy import func, or_, select
from sqlalchemy.dialects import postgresql, sqlite

from inquiry_desk.core.extensions import db
from inquiry_desk.mail.inbound import bounces
from inquiry_desk.mail.inbound.classify import Kind, classify
from inquiry_desk.mail.inbound.models import InboundEmail, InboundOutcome
from inquiry_desk.mail.inbound.parsing import ParsedEmail, parse

log = logging.getLogger(__name__)

EX_OK = 0
EX_DATAERR = 65
EX_NOPERM = 77
EX_TEMPFAIL = 75

# handler(row, parsed, kind, now) -> (outcome, reason): what the capability above did with the message.
Handler = Callable[[InboundEmail, ParsedEmail, Kind, datetime], tuple[str, str | None]]
_handlers: list[Handler] = []


def register_handler(handler: Handler) -> None:
    """The capability that decides what a message means (inquiries.email_in) plugs in here at start-up."""
    if handler not in _handlers:
        _handlers.append(handler)


@dataclass(frozen=True)
class Result:
    status: str  # taken | duplicate | refused
    exit_code: int
    outcome: str | None = None
    reason: str | None = None
    inbound_id: int | None = None


def own_addresses() -> set[str]:
    """The desk's own addresses: nothing from them is answered or taken in (a loop)."""
    config = current_app.config
    values = [config.get("MAIL_FROM", ""), config.get("MAIL_REPLY_TO", ""), config.get("MAIL_TEAM_ADDRESS", ""),
              config.get("MAIL_INBOUND_ADDRESS", "")]
    return {parseaddr(value)[1].strip().lower() for value in values if value and "@" in value}


def is_own_address(address: str | None) -> bool:
    if not address:
        return False
    if address in own_addresses():
        return True
    inbound = parseaddr(current_app.config.get("MAIL_INBOUND_ADDRESS", ""))[1].lower()
    if "@" not in inbound or "@" not in address:
        return False
    local, domain = inbound.split("@", 1)
    their_local, their_domain = address.split("@", 1)
    return their_domain == domain and their_local.startswith(local + "+")


def _refused(reason: str, exit_code: int) -> Result:
    log.warning("inbound: message refused (%s)", reason)
    return Result(status="refused", exit_code=exit_code, reason=reason)


def _existing(parsed: ParsedEmail) -> InboundEmail | None:
    conditions = [InboundEmail.content_hash == parsed.content_hash]
    if parsed.message_id:
        conditions.append(InboundEmail.message_id == parsed.message_id)
    return db.session.scalar(select(InboundEmail).where(or_(*conditions)).limit(1))


def _too_many(sender: str | None, now: datetime) -> bool:
    limit = current_app.config["MAIL_INBOUND_MAX_PER_SENDER_HOUR"]
    if not sender or limit <= 0:
        return False
    count: int = db.session.scalar(select(func.count()).select_from(InboundEmail).where(
        InboundEmail.sender_key == sender, InboundEmail.received_at > now - timedelta(hours=1))) or 0
    return count >= int(limit)


def _store(raw: bytes, parsed: ParsedEmail, *, source: str, now: datetime) -> int | None:
    """INSERT … ON CONFLICT DO NOTHING on either unique key: None when the message is already stored."""
    insert = postgresql.insert if db.session.get_bind().dialect.name == "postgresql" else sqlite.insert
    values = {"message_id": parsed.message_id, "content_hash": parsed.content_hash, "raw": raw, "size": len(raw),
              "sender_key": parsed.from_address, "source": source, "received_at": now,
              "outcome": InboundOutcome.PENDING}
    return db.session.scalar(insert(InboundEmail).values(values).on_conflict_do_nothing()
                             .returning(InboundEmail.id))


def ingest(raw: bytes, *, source: str, now: datetime) -> Result:
    """Take one message (see the module notes); the caller commits."""
    if len(raw) > current_app.config["MAIL_INBOUND_MAX_BYTES"]:
        return _refused("too_large", EX_DATAERR)
    if not raw.strip():
        return _refused("empty", EX_DATAERR)
    parsed = parse(raw)
    existing = _existing(parsed)
    if existing is not None and existing.outcome != InboundOutcome.PENDING:
        log.info("inbound: message %s already stored (%s)", existing.id, source)
        return Result(status="duplicate", exit_code=EX_OK, outcome=existing.outcome, inbound_id=existing.id)
    if existing is None:
        if _too_many(parsed.from_address, now):
            return _refused("too_many_from_sender", EX_NOPERM)
        row_id = _store(raw, parsed, source=source, now=now)
        if row_id is None:  # stored meanwhile by another delivery of the same message
            log.info("inbound: message already stored (%s)", source)
            return Result(status="duplicate", exit_code=EX_OK)
        row = db.session.get_one(InboundEmail, row_id)
    else:
        row = existing
    outcome, reason = _decide(row, raw, parsed, now)
    row.outcome, row.reason = outcome, reason
    log.info("inbound: message %s %s (%s, %s)", row.id, outcome, reason or "-", source)
    return Result(status="taken", exit_code=EX_OK, outcome=outcome, reason=reason, inbound_id=row.id)


def _decide(row: InboundEmail, raw: bytes, parsed: ParsedEmail, now: datetime) -> tuple[str, str | None]:
    kind = classify(parsed, own_addresses())
    if is_own_address(parsed.from_address):
        return InboundOutcome.IGNORED, "own_address"
    if kind.looks_like_bounce:
        report = bounces.read_report(raw, parsed.message_id)
        if report.found:
            bounces.record(report, soft_limit=current_app.config["MAIL_SOFT_BOUNCE_LIMIT"], now=now)
            return InboundOutcome.BOUNCE, "permanent" if report.permanent else "temporary"
        if parsed.content_type == "multipart/report":
            return InboundOutcome.IGNORED, "report_without_failure"
    if not _handlers:
        return InboundOutcome.IGNORED, "no_handler"
    outcome, reason = InboundOutcome.IGNORED, None
    for handler in _handlers:
        outcome, reason = handler(row, parsed, kind, now)
    return outcome, reason


def ingest_and_commit(raw: bytes, *, source: str, now: datetime) -> Result:
    """``ingest`` and one commit; a database failure (or any unforeseen error) is a temporary failure:
    nothing is kept, and the MTA delivers the message again later."""
    try:
        result = ingest(raw, source=source, now=now)
        db.session.commit()
    except Exception as exc:
        db.session.rollback()
        log.error("inbound: temporary failure (%s); the message will be delivered again", type(exc).__name__)
        return Result(status="tempfail", exit_code=EX_TEMPFAIL, reason=type(exc).__name__)
    return result


UNATTACHED_DAYS = 30


def purge_unattached(now: datetime) -> int:
    """Delete the emails that became no message of an inquiry (ignored, bounce reports) after
    ``UNATTACHED_DAYS``: long enough to check a bounce, not kept for ever. The others go with
    their inquiry (the retention purge, a person's erasure). Returns how many."""
    from sqlalchemy import delete

    from inquiry_desk.core.database import rows_affected

    result = db.session.execute(delete(InboundEmail).where(
        InboundEmail.outcome.in_([InboundOutcome.IGNORED, InboundOutcome.BOUNCE]),
        InboundEmail.received_at < now - timedelta(days=UNATTACHED_DAYS)))
    return rows_affected(result)
