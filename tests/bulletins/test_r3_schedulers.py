"""QUALITY.md R3 for bulletins: real scheduler processes on PostgreSQL, each due bulletin and each series
edition dispatched once.

Two ``flask scheduler run`` processes (the real job table: the ``bulletins`` job every second) and, at the
same moment, a ``flask jobs run bulletins`` process (a person running the job by hand while the leader
runs it: real concurrent dispatchers, which the leader lease alone would not give) work on one database
holding three approved bulletins due in two seconds, a series whose next edition's lead time has begun, and
an approved edition whose time comes in three seconds. Counted afterwards: the engine's sends (one per
bulletin, key ``bulletin:<id>``), their deliveries (one per subscriber), the editions made (one per
occurrence) and the notices to the editors (one).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from datetime import time as clock_time
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, select

from inquiry_desk.bulletins import series, services
from inquiry_desk.bulletins.models import Bulletin, SeriesOccurrence
from inquiry_desk.core.clock import team_timezone, utcnow
from inquiry_desk.core.extensions import db
from inquiry_desk.mail.models import Delivery, MailSend, OutgoingEmail

from ..conftest import PROJECT_DIR, is_postgres
from ..processes import die_with_parent
from .series_support import approve, staff
from .support import fields, make_list, subscribe

pytestmark = [pytest.mark.slow, pytest.mark.skipif(not is_postgres(), reason="R3 runs on PostgreSQL")]
# How long to wait for every dispatch: a process starts in ~3.5 s of CPU (22 s of wall time at a load of 18).
LIMIT = float(os.environ.get("R3_BULLETIN_SECONDS", "60"))


def _env(database_url: str) -> dict[str, str]:
    return dict(os.environ, APP_ENV="testing", DATABASE_URL=database_url, LOG_LEVEL="WARNING", PYTHONUNBUFFERED="1")


@pytest.fixture
def processes(database_url: str, tmp_path: Path) -> Iterator[list[subprocess.Popen]]:
    started: list[subprocess.Popen] = []
    yield started
    for process in started:
        if process.poll() is None:
            process.kill()
        process.wait(10)


def test_scheduler_processes_dispatch_each_bulletin_and_edition_once(
        app: Flask, database_url: str, processes: list[subprocess.Popen], tmp_path: Path) -> None:
    mailing_list = make_list()
    for number, lang in enumerate(("en", "fr", "fr")):
        subscribe(mailing_list, f"r3-{number}@example.net", lang)
    lists = (mailing_list.id,)
    now = utcnow()
    due = now + timedelta(seconds=2)
    bulletin_ids = []
    author = staff("officer")
    for _ in range(3):
        bulletin = services.create(fields(lists), actor=author, now=now)
        approve(bulletin, now=now)
        services.schedule(bulletin, due, actor=author, now=now)
        db.session.commit()
        bulletin_ids.append(bulletin.id)
    # A series at the next whole minute with three days' lead: its edition is to be made now.
    local = (now + timedelta(minutes=2)).astimezone(team_timezone())
    item = series.create(series.SeriesFields(
        name="Weekly partner update", rule="weekly", at=clock_time(local.hour, local.minute),
        lead_minutes=3 * 24 * 60, weekday=local.isoweekday(), template=fields(lists)), actor=staff("lead"), now=now)
    # An approved edition of it whose time comes in three seconds.
    edition = services.create_edition(fields(lists), author_id=item.template_by_id, now=now)
    db.session.add(SeriesOccurrence(series_id=item.id, occurs_at=now + timedelta(seconds=3), state="created",
                                    bulletin_id=edition.id, created_at=now, details={}))
    db.session.commit()
    approve(edition, now=now)
    bulletin_ids.append(edition.id)
    db.session.remove()

    lease = ["--lease-seconds", "3", "--renew-seconds", "1", "--poll-seconds", "1"]
    for number in range(2):
        processes.append(subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "wsgi", "scheduler", "run", *lease], cwd=PROJECT_DIR,
            env=_env(database_url), stdout=(tmp_path / f"scheduler{number}.log").open("w"), stderr=subprocess.STDOUT,
            preexec_fn=die_with_parent))
    while utcnow() < due:
        time.sleep(0.1)
    by_hand = [subprocess.Popen([sys.executable, "-m", "flask", "--app", "wsgi", "jobs", "run", "bulletins"],
                                cwd=PROJECT_DIR, env=_env(database_url), stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True, preexec_fn=die_with_parent)]
    processes.extend(by_hand)

    def dispatched() -> int:
        db.session.expire_all()
        count = db.session.scalar(select(func.count()).select_from(Bulletin).where(
            Bulletin.id.in_(bulletin_ids), Bulletin.send_key.is_not(None))) or 0
        db.session.commit()
        return count

    deadline = time.monotonic() + LIMIT
    while dispatched() < len(bulletin_ids) and time.monotonic() < deadline:
        time.sleep(0.25)
    for process in by_hand:
        output, _ = process.communicate(timeout=60)
        assert process.returncode == 0, output
    time.sleep(1.5)  # one more second of the leader's job: nothing more may start
    for process in processes:
        process.terminate()
    for process in processes:
        process.wait(20)
    logs = "\n".join(path.read_text()[-2000:] for path in tmp_path.glob("scheduler*.log"))
    assert dispatched() == len(bulletin_ids), logs

    sends = Counter(db.session.scalars(select(MailSend.key)))
    assert sorted(sends) == sorted(f"bulletin:{bulletin_id}" for bulletin_id in bulletin_ids)
    assert set(sends.values()) == {1}
    per_send = Counter(db.session.scalars(select(Delivery.send_id)))
    assert sorted(per_send.values()) == [3, 3, 3, 3]  # each subscriber once per bulletin
    occurrences = db.session.scalars(select(SeriesOccurrence).order_by(SeriesOccurrence.occurs_at)).all()
    assert [row.state for row in occurrences] == ["sent", "created"]  # the edition at its time; the next made once
    editions = db.session.scalar(select(func.count()).select_from(Bulletin)) or 0
    assert editions == len(bulletin_ids) + 1
    notices = db.session.scalars(select(OutgoingEmail.cause_key).where(
        OutgoingEmail.cause_key.like("bulletin_series:%:ready:%"))).all()
    assert len(notices) == 1, notices
