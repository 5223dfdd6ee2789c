"""Kinds of organisation as the public form and the inbox name them, in the page's language."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

# The values of directory.models.OrganisationKind.
ORGANISATION_KIND_LABELS = {
    "ngo": _l("Non-governmental organisation (NGO)"),
    "referral_partner": _l("Referral partner"),
    "advocacy_group": _l("Advocacy group"),
    "settlement_partner": _l("Settlement partner (service provider organisation)"),
    "private_sponsor": _l("Private sponsor or sponsorship group"),
    "government": _l("Government (province, territory or department)"),
    "international": _l("International partner"),
    "other": _l("Other, or writing for myself"),
}


def organisation_kind_label(kind: str | None) -> str:
    return str(ORGANISATION_KIND_LABELS.get(kind or "", kind or ""))


TEMPLATE_GLOBALS = {"organisation_kind_label": organisation_kind_label}
