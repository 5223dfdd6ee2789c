"""Demo bulletins: one submitted for approval, one draft, in English and French, to the demo lists; a series."""

from __future__ import annotations

from datetime import datetime, time

from sqlalchemy import select

from inquiry_desk.accounts.models import Role, User
from inquiry_desk.bulletins import series, services
from inquiry_desk.bulletins.models import Bulletin, BulletinSeries
from inquiry_desk.core.extensions import db
from inquiry_desk.mailing.models import MailingList

SERIES_NAME = "Weekly partner update"
DEMO_BULLETINS = [
    ("Resettlement update: December", "Mise à jour sur la réinstallation : décembre", True,
     "## Arrivals this month\n\nThe next group arrives on 12 December. Read the "
     "[arrival checklist](https://example.org/arrivals) before then.\n\n## Office hours\n\n"
     "The desk is closed from 24 December to 1 January.\n",
     "## Arrivées ce mois-ci\n\nLe prochain groupe arrive le 12 décembre. Lisez la "
     "[liste de vérification des arrivées](https://example.org/arrivees) d’ici là.\n\n## Heures d’ouverture\n\n"
     "Le bureau est fermé du 24 décembre au 1er janvier.\n"),
    ("Private sponsorship news: winter", "Nouvelles du parrainage privé : hiver", False,
     "## Winter clothing\n\nGroups can ask for the winter clothing allowance until 15 January.\n",
     "## Vêtements d’hiver\n\nLes groupes peuvent demander l’allocation pour vêtements d’hiver "
     "jusqu’au 15 janvier.\n"),
]


def seed_bulletins(now: datetime) -> list[str]:
    author = db.session.scalar(select(User).where(User.role == Role.OFFICER.value).order_by(User.id))
    lists = list(db.session.scalars(select(MailingList.id).where(MailingList.public.is_(True))
                                    .order_by(MailingList.id)))
    if author is None or not lists:
        return ["bulletins: none (no officer or no public list)"]
    existing = set(db.session.scalars(select(Bulletin.title_en)))  # idempotent: by English title
    created = 0
    for title_en, title_fr, submit, body_en, body_fr in DEMO_BULLETINS:
        if title_en in existing:
            continue
        bulletin = services.create(services.BulletinFields(
            sender_name="Dedicated Stakeholder Team", list_ids=(lists[0],), title_en=title_en, title_fr=title_fr,
            subject_en=title_en, subject_fr=title_fr, body_en=body_en, body_fr=body_fr), actor=author, now=now)
        if submit:
            services.submit(bulletin, actor=author, now=now)
        created += 1
    return [f"bulletins: {created} created (one submitted for a lead's approval)", _seed_series(lists[0], now)]


def _seed_series(list_id: int, now: datetime) -> str:
    """"Weekly partner update, Thursdays 10:00", editions made three days ahead (idempotent by name)."""
    lead = db.session.scalar(select(User).where(User.role == Role.LEAD.value).order_by(User.id))
    if lead is None or db.session.scalar(select(BulletinSeries.id).where(BulletinSeries.name == SERIES_NAME)):
        return "bulletin series: none added"
    series.create(series.SeriesFields(
        name=SERIES_NAME, rule="weekly", weekday=4, at=time(10, 0), lead_minutes=3 * 24 * 60,
        template=services.BulletinFields(
            sender_name="Dedicated Stakeholder Team", list_ids=(list_id,), title_en="Weekly partner update",
            title_fr="Le point hebdomadaire des partenaires", subject_en="Weekly partner update",
            subject_fr="Le point hebdomadaire des partenaires",
            body_en="## This week\n\nWrite this week's news here.\n",
            body_fr="## Cette semaine\n\nÉcrivez ici les nouvelles de la semaine.\n")), actor=lead, now=now)
    return "bulletin series: 1 created (Thursdays 10:00, editions made three days ahead)"
