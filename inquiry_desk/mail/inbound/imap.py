"""The IMAP job: new messages fetched over TLS, each stored (and committed) before it is moved.

Each message of ``IMAP_FOLDER`` is read (``BODY.PEEK[]``: not marked seen), taken in by
``ingest.ingest_and_commit`` and, once committed, moved to ``IMAP_PROCESSED_FOLDER``
(created when missing). A crash between the commit and the move leaves the message in the
folder: the next run finds it already stored (its Message-ID and hash are unique), stores
nothing, and moves it. A temporary failure (the database) stops the run with the message
left where it is. Refused messages (too large, too many from one sender) are moved too,
their reason logged, so that they are not fetched again every minute.
"""

from __future__ import annotations

import logging
import ssl
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import current_app

from inquiry_desk.mail.inbound.ingest import EX_TEMPFAIL, ingest_and_commit

log = logging.getLogger(__name__)


@dataclass
class FetchReport:
    taken: int = 0
    duplicates: int = 0
    refused: int = 0
    left: int = 0  # temporary failures: fetched again next time


def configured() -> bool:
    return bool(current_app.config.get("IMAP_HOST"))


def _connect() -> Any:
    from imapclient import IMAPClient

    config = current_app.config
    context = ssl.create_default_context(cafile=config["IMAP_CA_FILE"] or None)
    client = IMAPClient(config["IMAP_HOST"], port=config["IMAP_PORT"], ssl=True, ssl_context=context, timeout=60)
    client.login(config["IMAP_USER"], config["IMAP_PASSWORD"])
    return client


def fetch(now: datetime) -> FetchReport:
    """One pass over the folder, at most IMAP_BATCH messages (a batch job: it commits a message at a time)."""
    config = current_app.config
    report = FetchReport()
    client = _connect()
    try:
        processed = config["IMAP_PROCESSED_FOLDER"]
        if not client.folder_exists(processed):
            client.create_folder(processed)
        client.select_folder(config["IMAP_FOLDER"])
        uids = sorted(client.search(["NOT", "DELETED"]))[: max(config["IMAP_BATCH"], 1)]
        for uid in uids:
            fetched = client.fetch([uid], ["BODY.PEEK[]"]).get(uid, {})
            raw = fetched.get(b"BODY[]")
            if not isinstance(raw, bytes):
                continue
            result = ingest_and_commit(raw, source="imap", now=now)
            if result.exit_code == EX_TEMPFAIL:
                report.left += 1
                break
            report.taken += result.status == "taken"
            report.duplicates += result.status == "duplicate"
            report.refused += result.status == "refused"
            move(client, uid, processed)
    finally:
        try:
            client.logout()
        except Exception as exc:  # the connection may already be gone
            log.info("imap: logout failed (%s)", type(exc).__name__)
    log.info("imap: %d taken, %d already stored, %d refused, %d left", report.taken, report.duplicates,
             report.refused, report.left)
    return report


def move(client: Any, uid: int, folder: str) -> None:
    """MOVE when the server has it (RFC 6851), else COPY, flag deleted and expunge that one message."""
    if client.has_capability("MOVE"):
        client.move([uid], folder)
        return
    client.copy([uid], folder)
    client.delete_messages([uid])
    client.uid_expunge([uid]) if client.has_capability("UIDPLUS") else client.expunge()
