"""Starting due bulletins: the scheduler's job calls ``dispatch_due``; the send engine does the rest.

**Once.** A bulletin is claimed by one UPDATE (``status = 'sending' WHERE status =
'scheduled'``) in the same transaction that creates its send, adds the recipients
and writes the snapshot: a second scheduler's UPDATE waits for the first one's
commit (PostgreSQL's row lock; SQLite has one writer), then matches nothing. The
engine's send key ``bulletin:<id>`` is unique as well.

**Recipients.** The mailing lists stream their deliverable subscribers
(``mailing.recipients.deliverable``); each gets the language of their subscription
(the other one when the bulletin is single-language), and one copy however many of
the lists they are on (the engine's unique key per normalised address). The snapshot
counts every member left out, once per list, by why: unsubscribed, unconfirmed,
suppressed (the lists' own check and the engine's, also on the send's
``left_out_suppressed``) or repeated (the engine's ``left_out_duplicate``).

**Links.** The email carries "read in your browser" (the public archive page, when a
target list is public) and the engine's ``%%UNSUBSCRIBE_URL%%``: the link maker
registered here gives each message its RFC 8058 one-click URL, and the engine writes
the List-Unsubscribe headers from it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Sequence
from datetime import datetime

from sqlalchemy import select, update

from inquiry_desk.audit import services as audit
from inquiry_desk.bulletins import rendering, series
from inquiry_desk.bulletins.models import Bulletin, BulletinSnapshot, BulletinStatus, BulletinTransition
from inquiry_desk.bulletins.services import languages_sent
from inquiry_desk.core.database import rows_affected
from inquiry_desk.core.extensions import db
from inquiry_desk.core.urls import external_url
from inquiry_desk.mail import composer, sending
from inquiry_desk.mail.models import MailSend, SendStatus
from inquiry_desk.mail.rendering import RenderedEmail
from inquiry_desk.mailing.models import MailingList
from inquiry_desk.mailing.recipients import deliverable, left_out
from inquiry_desk.mailing.services import unsubscribe_token_for

KIND = "bulletin"


def send_key(bulletin_id: int) -> str:
    return f"{KIND}:{bulletin_id}"


def _links(recipient: composer.BulkRecipient) -> dict[str, str]:
    if recipient.subscription_id is None:
        return {}
    return {"unsubscribe_url": external_url("mailing.one_click", token=unsubscribe_token_for(
        recipient.subscription_id))}


composer.register_link_maker(KIND, _links)


def is_public(bulletin: Bulletin) -> bool:
    """Sent to at least one public list: it has a page in the public archive."""
    return bool(db.session.scalar(select(MailingList.id).where(MailingList.id.in_(bulletin.list_ids),
                                                               MailingList.public.is_(True)).limit(1)))


def archive_url(bulletin: Bulletin, lang: str) -> str:
    return external_url("bulletins.archive_page", lang_code=lang, bulletin_id=bulletin.id)


def render(bulletin: Bulletin, *, public: bool) -> dict[str, RenderedEmail]:
    """The email per subscription language (both keys even for a single-language bulletin)."""
    languages = languages_sent(bulletin)
    rendered = {
        lang: rendering.render_bulletin(
            rendering.parts(bulletin.title(lang), bulletin.subject(lang), bulletin.body(lang)), lang,
            sender_name=bulletin.sender_name, archive_url=archive_url(bulletin, lang) if public else None,
            personal_links=True)
        for lang in languages}
    return {lang: rendered.get(lang, rendered[languages[0]]) for lang in ("en", "fr")}


def due(now: datetime) -> Sequence[int]:
    return db.session.scalars(select(Bulletin.id).where(Bulletin.status == BulletinStatus.SCHEDULED.value,
                                                        Bulletin.scheduled_for <= now)
                              .order_by(Bulletin.scheduled_for, Bulletin.id)).all()


def dispatch(bulletin_id: int, *, now: datetime) -> bool:
    """Claim and start one bulletin; False when another scheduler took it or it is no longer due.

    The caller commits (or rolls back on False)."""
    claimed = rows_affected(db.session.execute(
        update(Bulletin)
        .where(Bulletin.id == bulletin_id, Bulletin.status == BulletinStatus.SCHEDULED.value,
               Bulletin.approved_version == Bulletin.version, Bulletin.scheduled_for <= now)
        .values(status=BulletinStatus.SENDING.value, sent_at=now, send_key=send_key(bulletin_id))
        .execution_options(synchronize_session=False)))
    if claimed != 1:
        return False
    bulletin = db.session.get(Bulletin, bulletin_id)
    assert bulletin is not None
    db.session.refresh(bulletin)
    public = is_public(bulletin)
    content = render(bulletin, public=public)
    send = sending.create_send(send_key(bulletin.id), content, now=now)
    languages = languages_sent(bulletin)
    per_list: dict[str, dict[str, object]] = {}
    lists = db.session.scalars(select(MailingList).where(MailingList.id.in_(bulletin.list_ids))
                               .order_by(MailingList.id)).all()
    total = sending.Added()
    not_sent = {"unsubscribed": 0, "unconfirmed": 0, "suppressed": 0}  # list members, by why
    for mailing_list in lists:
        counts: Counter[str] = Counter()

        def recipients(ml: MailingList = mailing_list, counter: Counter[str] = counts) -> Iterator[sending.Recipient]:
            for subscription, contact in deliverable(ml):
                language = subscription.language if subscription.language in languages else languages[0]
                counter[language] += 1
                yield sending.Recipient(address=contact.email, language=language, subscription_id=subscription.id)

        added = sending.add_recipients(send, recipients(), now=now)
        # Those the list never offered (by their status, or suppressed): the engine could not count them.
        not_offered = left_out(mailing_list)
        sending.count_suppressed(send, not_offered.suppressed)
        total.added += added.added
        total.duplicate += added.duplicate
        list_not_sent = {"unsubscribed": not_offered.unsubscribed, "unconfirmed": not_offered.unconfirmed,
                         "suppressed": not_offered.suppressed + added.suppressed}
        for reason, count in list_not_sent.items():
            not_sent[reason] += count
        per_list[str(mailing_list.id)] = {"name_en": mailing_list.name_en, "name_fr": mailing_list.name_fr,
                                          "en": counts["en"], "fr": counts["fr"], **list_not_sent}
    db.session.add(BulletinSnapshot(
        bulletin_id=bulletin.id, version=bulletin.version,
        content={lang: {"subject": content[lang].subject, "html": content[lang].html, "text": content[lang].text,
                        "title": bulletin.title(lang), "fragment": rendering.to_html(bulletin.body(lang))}
                 for lang in languages},
        recipients={"lists": per_list, "added": total.added, **not_sent, "duplicate": total.duplicate,
                    "public": public, "languages": list(languages)},
        total=total.added, public=public, sender_name=bulletin.sender_name, approved_by_id=bulletin.approved_by_id,
        approved_at=bulletin.approved_at, scheduled_for=bulletin.scheduled_for, started_at=now))
    db.session.add(BulletinTransition(bulletin_id=bulletin.id, from_status=BulletinStatus.SCHEDULED.value,
                                      to_status=BulletinStatus.SENDING.value, version=bulletin.version,
                                      actor_id=None, at=now, details={"recipients": total.added}))
    audit.record("bulletin.sending", subject_type="bulletin", subject_id=bulletin.id,
                 details={"version": bulletin.version, "recipients": total.added}, now=now)
    sending.start_send(send, now=now)
    return True


def dispatch_due(now: datetime) -> int:
    """Start every due bulletin, each in its own transaction (committed here: a job's boundary)."""
    started = 0
    for bulletin_id in due(now):
        if dispatch(bulletin_id, now=now):
            db.session.commit()
            started += 1
        else:
            db.session.rollback()
    return started


def finish_sent(now: datetime) -> int:
    """Bulletins whose send is done are sent (a worker marks the send done when nothing is left)."""
    rows = db.session.execute(
        select(Bulletin, MailSend.finished_at).join(MailSend, MailSend.key == Bulletin.send_key)
        .where(Bulletin.status == BulletinStatus.SENDING.value, MailSend.status == SendStatus.DONE.value)).all()
    for bulletin, finished_at in rows:
        db.session.add(BulletinTransition(bulletin_id=bulletin.id, from_status=bulletin.status,
                                          to_status=BulletinStatus.SENT.value, version=bulletin.version,
                                          actor_id=None, at=now))
        audit.record("bulletin.sent", subject_type="bulletin", subject_id=bulletin.id,
                     details={"version": bulletin.version}, now=now)
        bulletin.status = BulletinStatus.SENT.value
        bulletin.finished_at = finished_at or now
    return len(rows)


def run(now: datetime) -> str:
    """The scheduler's job: make the series' editions due, decide those whose time came (approved ones are
    scheduled for it), start what is due, mark sent what finished."""
    made = series.create_due_editions(now)
    decided = series.decide_due_editions(now)
    started = dispatch_due(now)
    finished = finish_sent(now)
    db.session.commit()
    summary = f"started {started}, sent {finished}"
    return f"{summary}, editions made {made}, decided {decided}" if made or decided else summary
