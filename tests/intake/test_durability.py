"""Concurrent submissions get distinct references; a crash after commit loses no email."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading

import pytest
from sqlalchemy import func, select

from inquiry_desk.core.clock import utcnow
from inquiry_desk.core.extensions import db
from inquiry_desk.inquiries.models import Inquiry
from inquiry_desk.mail.models import OutgoingEmail

from ..conftest import PROJECT_DIR, build_app, is_postgres
from ..processes import die_with_parent
from .mailbox import deliver, sent_messages


@pytest.mark.skipif(not is_postgres(), reason="concurrent writers need PostgreSQL")
def test_twenty_concurrent_submissions_get_twenty_references(app, database_url) -> None:
    from inquiry_desk.inquiries import services as inquiries
    from inquiry_desk.intake import services as intake

    worker_app = build_app(database_url, SQLALCHEMY_ENGINE_OPTIONS={"pool_size": 20, "max_overflow": 5})
    barrier = threading.Barrier(20)
    errors: list[BaseException] = []

    def submit(number: int) -> None:
        try:
            barrier.wait(timeout=30)  # all start together
            with worker_app.app_context():
                submission = intake.Submission(
                    name=f"Sender {number}", email=f"sender{number}@example.org", subject=f"Question {number}",
                    message="Body", language="fr" if number % 2 else "en", topic=inquiries.topic_by_code("other"))
                intake.submit_inquiry(submission, now=utcnow())
                db.session.commit()
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=submit, args=(n,)) for n in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    references = db.session.scalars(select(Inquiry.reference)).all()
    assert len(references) == 20 and len(set(references)) == 20
    with worker_app.app_context():
        db.engine.dispose()


CRASH_AFTER_COMMIT = textwrap.dedent("""
    import os, sys
    sys.path.insert(0, {project!r})
    from tests.conftest import build_app
    from inquiry_desk.core.clock import utcnow
    from inquiry_desk.core.extensions import db
    from inquiry_desk.inquiries import services as inquiries
    from inquiry_desk.intake import services as intake

    app = build_app({url!r})
    with app.app_context():
        submission = intake.Submission(name="Crash Test", email="crash@example.org", subject="Crash",
                                       message="Sent just before the power went out", language="fr",
                                       topic=inquiries.topic_by_code("other"))
        intake.submit_inquiry(submission, now=utcnow())
        db.session.commit()
        print("committed", flush=True)
        os._exit(1)  # dies between the commit and the send
""")


def test_confirmation_survives_a_crash_between_commit_and_send(app, database_url) -> None:
    script = CRASH_AFTER_COMMIT.format(project=str(PROJECT_DIR), url=database_url)
    result = subprocess.run([sys.executable, "-c", script], cwd=PROJECT_DIR, capture_output=True, timeout=120,
                            preexec_fn=die_with_parent)
    assert result.stdout.decode().strip() == "committed", result.stderr.decode()[-2000:]
    assert db.session.scalar(select(func.count()).select_from(Inquiry)) == 1
    assert db.session.scalar(select(OutgoingEmail.status)) == "pending"
    deliver(app)
    deliver(app)
    messages = sent_messages(app)
    assert len(messages) == 1 and messages[0]["To"] == "crash@example.org"
    assert "Votre demande" in messages[0]["Subject"]
