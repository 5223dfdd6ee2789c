"""Issue 17: messages taken in per second by ``flask mail ingest``'s service, against the standard library alone.

    .venv/bin/python bench/ingest.py N [--database sqlite|postgres]

N messages are made from the test corpus's replies and new-inquiry messages (each with its
own Message-ID and a line of its own, so none is a duplicate): a third reply to existing
inquiries by their references, the rest open new inquiries. Each is taken in by
``ingest.ingest_and_commit`` (parse, store once, thread or create, acknowledge through the
outbox, one commit per message: what one MTA pipe delivery does, without the process start).
The floor parses the same messages with ``email.message_from_bytes(policy=default)`` and
reads their text, in the same run.

Output: ``name: value unit (ratio x floor)``.
"""

from __future__ import annotations

import argparse
import email
import sys
import tempfile
import time
from email import policy
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_DIR))

from bench.inbox import build_app, line, migrate, throwaway_database  # noqa: E402

CORPUS = PROJECT_DIR / "tests" / "data" / "mail"


def messages(count: int, references: list[str]) -> list[bytes]:
    new = [(CORPUS / f"{name}.eml").read_bytes() for name in ("new_plain_en", "new_plain_fr", "new_html_only",
                                                                "new_multipart_with_attachments", "reply_gmail_fr")]
    made = []
    for number in range(count):
        template = new[number % len(new)]
        raw = template.replace(b"Message-ID: <", f"Message-ID: <bench-{number}-".encode(), 1)
        raw = raw.replace(b"From: ", f"From: bench{number % 500}+".encode(), 1) if number % 3 else raw
        if number % 3 == 0 and references:
            raw = raw.replace(b"{{REFERENCE}}", references[number % len(references)].encode())
        made.append(raw + f"\r\nLine {number}\r\n".encode())
    return made


def floor(raws: list[bytes]) -> float:
    started = time.perf_counter()
    for raw in raws:
        message = email.message_from_bytes(raw, policy=policy.default)
        body = message.get_body(preferencelist=("plain", "html"))
        if body is not None:
            body.get_content()
    return len(raws) / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("count", type=int, nargs="?", default=300)
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--postgres-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder, throwaway_database(args.database, args.postgres_url,
                                                                     Path(folder)) as url:
        app = build_app(url, Path(folder))
        app.config["MAIL_INBOUND_MAX_PER_SENDER_HOUR"] = 0
        migrate(app)
        with app.app_context():
            from inquiry_desk.core.clock import utcnow
            from inquiry_desk.core.extensions import db
            from inquiry_desk.intake import services as intake
            from inquiry_desk.mail.inbound.ingest import ingest_and_commit

            references = []
            for number in range(20):
                inquiry = intake.submit_inquiry(intake.Submission(
                    name="Farida", email="farida@example.net", subject=f"Question {number}",
                    message="A question", language="fr", topic=None), now=utcnow())
                references.append(inquiry.reference or "")
            db.session.commit()
            raws = messages(args.count, references)
            floor_rate = max(floor(raws), floor(raws))
            started = time.perf_counter()
            outcomes: dict[str, int] = {}
            for raw in raws:
                result = ingest_and_commit(raw, source="pipe", now=utcnow())
                outcomes[result.outcome or result.status] = outcomes.get(result.outcome or result.status, 0) + 1
            rate = len(raws) / (time.perf_counter() - started)
        print("# outcomes: " + ", ".join(f"{name} {count}" for name, count in sorted(outcomes.items())))
        line("stdlib_parse", floor_rate, "messages/s")
        line("ingest", rate, "messages/s", rate / floor_rate)


if __name__ == "__main__":
    main()
