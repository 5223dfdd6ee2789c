"""Demo mailing lists: two public bulletins and a private one for settlement partners."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from inquiry_desk.core.extensions import db
from inquiry_desk.mailing import services
from inquiry_desk.mailing.models import MailingList

DEMO_LISTS = [
    services.ListFields("Resettlement update", "Mise à jour sur la réinstallation",
                        "The weekly update for every partner.",
                        "La mise à jour hebdomadaire pour tous les partenaires.",
                        public=True),
    services.ListFields("Private sponsorship news", "Nouvelles du parrainage privé",
                        "Monthly news for sponsorship groups.", "Les nouvelles mensuelles des groupes de parrainage.",
                        public=True, organisation_kinds=("private_sponsor",)),
    services.ListFields("Settlement partners", "Partenaires d'établissement",
                        "Coordination notes for service provider organisations.",
                        "Notes de coordination pour les organismes fournisseurs de services.",
                        public=False, organisation_kinds=("settlement_partner",)),
]


def seed_mailing_lists(now: datetime) -> list[str]:
    existing = set(db.session.scalars(select(MailingList.name_en)))  # idempotent: by English name
    created = 0
    for fields in DEMO_LISTS:
        if fields.name_en not in existing:
            services.save_list(None, fields, actor=None, now=now)
            created += 1
    return [f"mailing lists: {created} created"]
