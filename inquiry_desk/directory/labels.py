"""Kinds of organisation and partnership statuses as the pages name them, in the page's language."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

# What the public form offers a stakeholder to say about themselves (inquiries.organisation_kind).
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

# The kinds of an organisation of the directory (directory.models.DIRECTORY_KINDS).
DIRECTORY_KIND_LABELS = {
    "ngo": ORGANISATION_KIND_LABELS["ngo"],
    "referral_partner": ORGANISATION_KIND_LABELS["referral_partner"],
    "advocacy_group": ORGANISATION_KIND_LABELS["advocacy_group"],
    "settlement_partner": ORGANISATION_KIND_LABELS["settlement_partner"],
    "private_sponsor": ORGANISATION_KIND_LABELS["private_sponsor"],
    "province_territory": _l("Province or territory"),
    "federal_partner": _l("Federal partner"),
    "international": ORGANISATION_KIND_LABELS["international"],
    "other": _l("Other"),
}
DIRECTORY_KIND_CHOICES = list(DIRECTORY_KIND_LABELS.items())

PARTNERSHIP_STATUS_LABELS = {
    "prospective": _l("Prospective"),
    "active": _l("Active"),
    "trusted_referral_partner": _l("Trusted referral partner"),
    "inactive": _l("Inactive"),
}


DIRECTORY_EVENT_LABELS = {
    "organisation.created": _l("Added to the directory"),
    "organisation.updated": _l("Details changed"),
    "organisation.domain_added": _l("Verified domain added"),
    "organisation.domain_removed": _l("Verified domain removed"),
    "organisation.deactivated": _l("Deactivated"),
    "organisation.reactivated": _l("Reactivated"),
    "organisation.merged_into": _l("Merged into another organisation"),
    "organisation.merged_from": _l("A duplicate was merged into this organisation"),
    "contact.created": _l("Added to the directory"),
    "contact.updated": _l("Details changed"),
    "contact.deactivated": _l("Deactivated"),
    "contact.reactivated": _l("Reactivated"),
    "contact.merged_into": _l("Merged into another contact"),
    "contact.merged_from": _l("A duplicate was merged into this contact"),
    "contact.data_exported": _l("The person's data was exported"),
    "contact.erased": _l("The person's data was erased"),
}


def directory_event_label(action: str | None) -> str:
    return str(DIRECTORY_EVENT_LABELS.get(action or "", action or ""))


def organisation_kind_label(kind: str | None) -> str:
    """The kind a stakeholder chose on the form (an inquiry's)."""
    label = ORGANISATION_KIND_LABELS.get(kind or "") or DIRECTORY_KIND_LABELS.get(kind or "")
    return str(label or kind or "")


def directory_kind_label(kind: str | None) -> str:
    """The kind of an organisation of the directory."""
    return str(DIRECTORY_KIND_LABELS.get(kind or "") or organisation_kind_label(kind))


def partnership_status_label(status: str | None) -> str:
    return str(PARTNERSHIP_STATUS_LABELS.get(status or "", status or ""))


TEMPLATE_GLOBALS = {"organisation_kind_label": organisation_kind_label,
                    "directory_kind_label": directory_kind_label,
                    "partnership_status_label": partnership_status_label,
                    "directory_event_label": directory_event_label}
