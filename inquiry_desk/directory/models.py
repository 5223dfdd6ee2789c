"""Organisations, their verified email domains and partnership history, and contacts (the people who write)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, mapped_column, relationship
from sqlalchemy.sql.elements import ColumnElement

from inquiry_desk.core.clock import utcnow
from inquiry_desk.core.database import UTCDateTime
from inquiry_desk.core.extensions import Model


class OrganisationKind(StrEnum):
    NGO = "ngo"
    REFERRAL_PARTNER = "referral_partner"
    ADVOCACY_GROUP = "advocacy_group"
    SETTLEMENT_PARTNER = "settlement_partner"
    PRIVATE_SPONSOR = "private_sponsor"
    PROVINCE_TERRITORY = "province_territory"
    FEDERAL_PARTNER = "federal_partner"
    INTERNATIONAL = "international"
    OTHER = "other"
    # What the public form offers a stakeholder who writes for a government ("province,
    # territory or department"); the directory files an organisation under one of the two above.
    GOVERNMENT = "government"


# The kinds an organisation of the directory can have (GOVERNMENT is the stakeholder's word only).
DIRECTORY_KINDS = tuple(kind for kind in OrganisationKind if kind is not OrganisationKind.GOVERNMENT)


class PartnershipStatus(StrEnum):
    PROSPECTIVE = "prospective"
    ACTIVE = "active"
    TRUSTED = "trusted_referral_partner"
    INACTIVE = "inactive"


class Organisation(Model):
    __tablename__ = "organisations"
    # The directory list walks this by keyset (name, id).
    __table_args__ = (Index("ix_organisations_name_id", "name", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(300))
    name_fr: Mapped[str | None] = mapped_column(String(300))
    short_name: Mapped[str | None] = mapped_column(String(60))
    kind: Mapped[str] = mapped_column(String(40), default=OrganisationKind.OTHER.value, index=True)
    # Only a trusted referral partner's verified domains give its people the trusted badge.
    status: Mapped[str] = mapped_column(String(40), default=PartnershipStatus.PROSPECTIVE.value, index=True)
    status_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    website: Mapped[str | None] = mapped_column(String(300))
    country: Mapped[str | None] = mapped_column(String(100))
    notes: Mapped[str | None] = mapped_column(Text)
    # Deactivated organisations stay (their inquiries point to them) but leave the list.
    active: Mapped[bool] = mapped_column(default=True)
    # A duplicate merged into another organisation points to it.
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    domains: Mapped[list[OrganisationDomain]] = relationship(
        back_populates="organisation", cascade="all, delete-orphan", order_by="OrganisationDomain.domain"
    )
    tag_rows: Mapped[list[OrganisationTag]] = relationship(
        cascade="all, delete-orphan", order_by="OrganisationTag.tag"
    )

    @hybrid_property
    def trusted(self) -> bool:
        return self.status == PartnershipStatus.TRUSTED.value and self.active

    @trusted.inplace.expression
    @classmethod
    def _trusted_expression(cls) -> ColumnElement[bool]:
        return (cls.status == PartnershipStatus.TRUSTED.value) & cls.active.is_(True)

    @property
    def tags(self) -> list[str]:
        return [row.tag for row in self.tag_rows]

    def display_name(self, lang: str) -> str:
        return self.name_fr if lang == "fr" and self.name_fr else self.name


class OrganisationTag(Model):
    """A free label on an organisation ("health", "Kabul"), for filtering the list."""

    __tablename__ = "organisation_tags"

    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"), primary_key=True)
    tag: Mapped[str] = mapped_column(String(60), primary_key=True, index=True)


class OrganisationStatusChange(Model):
    """One change of partnership status: when, by whom, and why (the due-diligence note)."""

    __tablename__ = "organisation_status_changes"
    __table_args__ = (Index("ix_organisation_status_changes_org_at", "organisation_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"))
    status_before: Mapped[str | None] = mapped_column(String(40))
    status_after: Mapped[str] = mapped_column(String(40))
    reason: Mapped[str | None] = mapped_column(Text)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class OrganisationDomain(Model):
    """An email domain that belongs to an organisation; only verified ones confer trust."""

    __tablename__ = "organisation_domains"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"), index=True)
    domain: Mapped[str] = mapped_column(String(253), unique=True)
    # mail.example.org matches example.org only when the entry says so.
    include_subdomains: Mapped[bool] = mapped_column(default=False)
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    verified_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # How the team checked it (a call to a known number, a DNS record, a signed letter…).
    verification_method: Mapped[str | None] = mapped_column(String(300))

    organisation: Mapped[Organisation] = relationship(back_populates="domains")


class Contact(Model):
    """A person who wrote to the team or subscribed; one row per email address (kept in lower case)."""

    __tablename__ = "contacts"
    __table_args__ = (Index("ix_contacts_name_id", "name", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(40))
    title: Mapped[str | None] = mapped_column(String(200))
    notes: Mapped[str | None] = mapped_column(Text)
    organisation_name: Mapped[str | None] = mapped_column(String(300))
    organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="SET NULL"), index=True
    )
    language: Mapped[str] = mapped_column(String(2), default="en")
    active: Mapped[bool] = mapped_column(default=True)
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id", ondelete="SET NULL"), index=True)
    # Set when the person's data was erased at their request (their inquiries stay, anonymous).
    erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    organisation: Mapped[Organisation | None] = relationship(foreign_keys=[organisation_id])


class ImportStatus(StrEnum):
    PREVIEWED = "previewed"  # checked and shown; nothing written yet
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"  # nothing was written


class DirectoryImport(Model):
    """A CSV file of organisations or contacts, from its preview to its import (all rows or none)."""

    __tablename__ = "directory_imports"

    id: Mapped[int] = mapped_column(primary_key=True)
    subject: Mapped[str] = mapped_column(String(20))  # "organisations" or "contacts"
    filename: Mapped[str | None] = mapped_column(String(200))
    # The file as text, kept between the preview and the import (emptied once imported).
    content: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default=ImportStatus.PREVIEWED.value)
    total: Mapped[int] = mapped_column(default=0)
    created: Mapped[int] = mapped_column(default=0)
    updated: Mapped[int] = mapped_column(default=0)
    # The class of a failure only: never a row's content.
    error: Mapped[str | None] = mapped_column(String(500))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Rows checked and written so far, out of ``progress_total`` (rows checked plus rows to write),
    # written by the running import in transactions of its own (directory.imports.ProgressRecorder).
    progress_done: Mapped[int] = mapped_column(default=0, server_default="0")
    progress_total: Mapped[int] = mapped_column(default=0, server_default="0")
    progress_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
