"""A hand-built data set whose figures are known in advance (the tests of reports share it).

The clock stands at Wednesday 4 November 2026, 10:00 in Toronto (15:00 UTC). Daylight-saving
time ended there on Sunday 1 November at 02:00 (UTC-4 before, UTC-5 after). The current period
is the custom fortnight Monday 26 October to Sunday 8 November (it crosses the change); the
previous one is 12 to 25 October. The team works Monday to Friday, 08:30 to 16:30.

Current period (6 received):

====  ==========================  =======  ========  =====  ====  ===========  =====================  ==========
name  received (Toronto)          channel  priority  topic  kind  organisation first response (met?)  resolution
====  ==========================  =======  ========  =====  ====  ===========  =====================  ==========
A     Mon 26 Oct 09:00            web      normal    T1     ngo   O1           60 min (yes)           120 (yes)
B     Tue 27 Oct 09:00            email    high      T1     ngo   O1           30 min (no)            open
C     Fri 30 Oct 10:00            web      normal    T2     gov   O2           240 min (yes)          300 (no)
D     Sat 31 Oct 23:30 EDT        email    normal    T2     ngo   O2           Mon 09:30 EST: 60 (yes) open, restricted
E     Sun 1 Nov 23:30 EST         web      urgent    T1     ngo   O1           none                   open
F     Wed 4 Nov 09:00             phone    normal    T1     ngo   O3           10 min (yes)           20 (yes)
====  ==========================  =======  ========  =====  ====  ===========  =====================  ==========

First responses: 10, 30, 60, 60, 240 → median 60, 90th percentile 240, 4 of 5 met.
Resolutions: 20, 120, 300 → median 120, 90th percentile 300, 2 of 3 met.
Previous period: P1 (Tue 13 Oct 10:00, first response 120 met, resolution 180 met) and P2 (Sun 25 Oct
23:30 EDT, which is 26 Oct in UTC, still open). OLD (1 Oct) is open throughout.
Workload: Alice has B (due in an hour) open and resolved A and F; Bob has D (an hour overdue) open
and resolved C.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from inquiry_desk.accounts.models import User
from inquiry_desk.core.extensions import db
from inquiry_desk.inquiries import services as inquiries
from inquiry_desk.inquiries.models import Inquiry

from ..helpers import edit, make_inquiry, make_organisation, make_user

TORONTO = ZoneInfo("America/Toronto")
NOW = datetime(2026, 11, 4, 15, 0, tzinfo=UTC)
FIRST = date(2026, 10, 26)
LAST = date(2026, 11, 8)


def local(year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=TORONTO).astimezone(UTC)


@dataclass
class Dataset:
    alice: User
    bob: User
    lead: User
    officer: User  # neither assignee nor named on D
    t1: int
    t2: int
    o1: int
    o2: int
    o3: int
    inquiries: dict[str, Inquiry]


def _inquiry(received: datetime, *, channel: str, priority: str, topic: int, kind: str | None,
             organisation: int | None, first: int | None = None, first_met: bool = True,
             resolved: int | None = None, resolved_met: bool = True, assignee: User | None = None,
             first_at: datetime | None = None, **extra: Any) -> Inquiry:
    inquiry = make_inquiry(now=received)
    fields: dict[str, Any] = dict(channel=channel, priority=priority, topic_id=topic, organisation_kind=kind,
                                  organisation_id=organisation, assignee_id=assignee.id if assignee else None,
                                  status="open", first_response_at=None, resolved_at=None,
                                  first_response_due_at=None, resolution_due_at=None, due_at=None)
    if first is not None or first_at is not None:
        answered = first_at or received + timedelta(minutes=first or 0)
        fields["first_response_at"] = answered
        fields["first_response_due_at"] = answered + timedelta(minutes=1 if first_met else -1)
    if resolved is not None:
        done = received + timedelta(minutes=resolved)
        fields.update(status="resolved", resolved_at=done,
                      resolution_due_at=done + timedelta(minutes=1 if resolved_met else -1))
    fields.update(extra)
    edit(inquiry, **fields)
    db.session.commit()
    return inquiry


def build() -> Dataset:
    alice = make_user(role="officer", name="Alice Martin")
    bob = make_user(role="officer", name="Bob Tremblay")
    lead = make_user(role="lead", name="Lea Lead")
    officer = make_user(role="officer", name="Oscar Officer")
    topic_1 = inquiries.topic_by_code("private_sponsorship")
    topic_2 = inquiries.topic_by_code("other")
    assert topic_1 is not None and topic_2 is not None
    t1, t2 = topic_1.id, topic_2.id
    o1 = make_organisation("Organisation One", kind="ngo", domains=("one.example",)).id
    o2 = make_organisation("Organisation Two", kind="ngo", trusted=False, domains=("two.example",)).id
    o3 = make_organisation("Organisation Three", kind="ngo", domains=("three.example",)).id
    made = {
        "OLD": _inquiry(local(2026, 10, 1, 10), channel="web", priority="low", topic=t2, kind=None,
                        organisation=None),
        "P1": _inquiry(local(2026, 10, 13, 10), channel="web", priority="normal", topic=t1, kind="ngo",
                       organisation=o3, first=120, resolved=180),
        "P2": _inquiry(local(2026, 10, 25, 23, 30), channel="email", priority="normal", topic=t1, kind="ngo",
                       organisation=o1),
        "A": _inquiry(local(2026, 10, 26, 9), channel="web", priority="normal", topic=t1, kind="ngo",
                      organisation=o1, first=60, resolved=120, assignee=alice),
        "B": _inquiry(local(2026, 10, 27, 9), channel="email", priority="high", topic=t1, kind="ngo",
                      organisation=o1, first=30, first_met=False, assignee=alice, due_at=NOW + timedelta(hours=1)),
        "C": _inquiry(local(2026, 10, 30, 10), channel="web", priority="normal", topic=t2, kind="government",
                      organisation=o2, first=240, resolved=300, resolved_met=False, assignee=bob,
                      trusted_partner=True),
        "D": _inquiry(local(2026, 10, 31, 23, 30), channel="email", priority="normal", topic=t2, kind="ngo",
                      organisation=o2, first_at=local(2026, 11, 2, 9, 30), assignee=bob, restricted=True,
                      due_at=NOW - timedelta(hours=1), language="fr"),
        "E": _inquiry(local(2026, 11, 1, 23, 30), channel="web", priority="urgent", topic=t1, kind="ngo",
                      organisation=o1, status="new"),
        "F": _inquiry(local(2026, 11, 4, 9), channel="phone", priority="normal", topic=t1, kind="ngo",
                      organisation=o3, first=10, resolved=20, assignee=alice),
    }
    return Dataset(alice, bob, lead, officer, t1, t2, o1, o2, o3, made)
