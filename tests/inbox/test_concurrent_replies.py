"""QUALITY.md R9: two staff act on one inquiry at the same moment; one wins, the other is told.

Real concurrent requests (threads with their own test clients and sessions) against one
inquiry: however the requests interleave, the stakeholder gets exactly one answer and the
others see the conflict page listing what changed.
"""

from __future__ import annotations

import threading

from sqlalchemy import select

from inquiry_desk.core.extensions import db
from inquiry_desk.inquiries.models import Message, MessageKind
from inquiry_desk.mail.models import OutgoingEmail

from ..helpers import make_inquiry, make_user, sign_in


def test_three_simultaneous_replies_send_one_answer(app) -> None:
    inquiry = make_inquiry()
    inquiry_id, version = inquiry.id, inquiry.version
    clients = []
    for number in range(3):
        client = app.test_client()
        sign_in(client, make_user(role="officer", email=f"officer{number}@example.gc.ca"))
        clients.append(client)
    db.session.commit()
    barrier = threading.Barrier(len(clients))
    statuses: list[int] = []

    def reply(client: object, number: int) -> None:
        barrier.wait()
        response = client.post(f"/staff/inquiries/{inquiry_id}/reply",  # type: ignore[attr-defined]
                               data={"body": f"Answer number {number}", "language": "en",
                                     "next_status": "waiting", "version": str(version)})
        statuses.append(response.status_code)

    threads = [threading.Thread(target=reply, args=(client, n)) for n, client in enumerate(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(statuses) == [302, 409, 409]
    db.session.expire_all()
    replies = db.session.scalars(select(Message).where(Message.inquiry_id == inquiry_id,
                                                       Message.kind == MessageKind.REPLY.value)).all()
    answers = db.session.scalars(select(OutgoingEmail).where(OutgoingEmail.cause_key.like(
        f"inquiry:{inquiry_id}:reply:%"))).all()
    assert len(replies) == 1 and len(answers) == 1
