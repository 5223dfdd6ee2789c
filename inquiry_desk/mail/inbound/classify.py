"""What kind of message this is, from its headers alone (RFC 3834, RFC 2369, RFC 3464).

- ``automatic``: a message no automatic answer may go to (``Auto-Submitted`` other than
  ``no``, ``Precedence: bulk/list/junk``, a ``List-Id``, an empty Return-Path, or from one of
  the desk's own addresses); ``reason`` says which, as a code (never personal data).
- ``out_of_office``: an automatic reply to one of ours (``Auto-Submitted: auto-replied``,
  ``X-Autoreply``, Outlook's ``X-MS-Exchange-…-AutoReply``, or the subjects mail programs give
  them in English and French).
- ``looks_like_bounce``: a delivery report (``multipart/report``) or a message from the
  null sender or a mailer daemon; flufl.bounce then says who failed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from inquiry_desk.mail.inbound.parsing import ParsedEmail

_OOO_SUBJECT = re.compile(
    r"^\s*(auto(matic)?[ -]?(reply|response)|out of (the )?office|absent|absence|autoreply|"
    r"r[ée]ponse automatique|r[ée]ponse\s+automatique|absence du bureau|message d.absence|"
    r"je suis absente?|i am out of|i.m out of)",
    re.IGNORECASE,
)
_DAEMON = re.compile(r"^(mailer-daemon|postmaster|mail-daemon|mailer_daemon)@", re.IGNORECASE)


@dataclass(frozen=True)
class Kind:
    automatic: bool
    reason: str | None
    out_of_office: bool
    looks_like_bounce: bool


def classify(parsed: ParsedEmail, own_addresses: Iterable[str]) -> Kind:
    auto_submitted = parsed.header("auto-submitted").split(";")[0].strip().lower()
    precedence = parsed.header("precedence").strip().lower()
    subject = parsed.subject
    out_of_office = (
        auto_submitted == "auto-replied"
        or bool(parsed.header("x-autoreply") or parsed.header("x-autorespond"))
        or precedence == "auto_reply"
        or bool(parsed.header("x-ms-exchange-inbox-rules-loop") and _OOO_SUBJECT.search(subject))
        or bool(_OOO_SUBJECT.search(subject))
    )
    reason: str | None = None
    own = {address.strip().lower() for address in own_addresses if address}
    if parsed.from_address and parsed.from_address in own:
        reason = "own_address"
    elif auto_submitted and auto_submitted != "no":
        reason = "auto_submitted"
    elif precedence in ("bulk", "list", "junk"):
        reason = "precedence"
    elif parsed.header("list-id"):
        reason = "list"
    elif parsed.return_path == "":
        reason = "null_sender"
    elif out_of_office:
        reason = "out_of_office"
    looks_like_bounce = (
        parsed.content_type == "multipart/report"
        or parsed.return_path == ""
        or bool(parsed.from_address and _DAEMON.match(parsed.from_address))
    )
    return Kind(automatic=reason is not None, reason=reason, out_of_office=out_of_office,
                looks_like_bounce=looks_like_bounce)
