"""Demo organisations: the real, public partners named in PRODUCT.md, with their web domains."""

from __future__ import annotations

from datetime import datetime

from inquiry_desk.directory import services as directory
from inquiry_desk.directory.models import OrganisationKind

# (name, kind, trusted, verified domains)
DEMO_ORGANISATIONS: list[tuple[str, OrganisationKind, bool, tuple[str, ...]]] = [
    ("Aman Lara", OrganisationKind.NGO, True, ("amanlara.org",)),
    ("Journalists for Human Rights", OrganisationKind.NGO, True, ("jhr.ca",)),
    ("Veterans Transition Network", OrganisationKind.NGO, True, ("vtncanada.org",)),
    ("NATO", OrganisationKind.REFERRAL_PARTNER, True, ("nato.int",)),
    ("United States Government", OrganisationKind.REFERRAL_PARTNER, True, ("state.gov",)),
    ("Front Line Defenders", OrganisationKind.REFERRAL_PARTNER, True, ("frontlinedefenders.org",)),
    ("ProtectDefenders.eu", OrganisationKind.REFERRAL_PARTNER, True, ("protectdefenders.eu",)),
    ("Rainbow Railroad", OrganisationKind.ADVOCACY_GROUP, True, ("rainbowrailroad.org",)),
    ("COSTI Immigrant Services", OrganisationKind.SETTLEMENT_PARTNER, True, ("costi.org",)),
    ("Immigrant Services Society of BC", OrganisationKind.SETTLEMENT_PARTNER, True, ("issbc.org",)),
    ("Mennonite Central Committee Canada", OrganisationKind.PRIVATE_SPONSOR, True, ("mcccanada.ca",)),
    ("Friends of Kabul Sponsorship Group", OrganisationKind.PRIVATE_SPONSOR, False, ()),
]


def seed_organisations(now: datetime) -> list[str]:
    created = 0
    for name, kind, trusted, domains in DEMO_ORGANISATIONS:
        if directory.find_organisation_by_name(name) is None:
            directory.add_organisation(name=name, kind=kind.value, trusted=trusted, domains=domains, now=now)
            created += 1
    return [f"Organisations: {created} added, {len(DEMO_ORGANISATIONS) - created} already there."]
