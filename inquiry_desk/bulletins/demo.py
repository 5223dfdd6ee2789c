"""Demo bulletins: one submitted for approval, one draft, both in English and French, to the demo lists."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from inquiry_desk.accounts.models import Role, User
from inquiry_desk.bulletins import services
from inquiry_desk.bulletins.models import Bulletin
from inquiry_desk.core.extensions import db
from inquiry_desk.mailing.models import MailingList

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
    return [f"bulletins: {created} created (one submitted for a lead's approval)"]
