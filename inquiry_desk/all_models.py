"""Imports every model so that ``db.metadata`` knows the whole schema (Alembic, tests)."""

from inquiry_desk.accounts.models import RecoveryCode, StaffSession, User
from inquiry_desk.audit.models import AuditEvent
from inquiry_desk.directory.models import Contact, Organisation, OrganisationDomain
from inquiry_desk.inquiries.models import Inquiry, Message, PortalLink, Topic
from inquiry_desk.mail.models import OutgoingEmail

__all__ = [
    "AuditEvent", "Contact", "Inquiry", "Message", "Organisation", "OrganisationDomain", "OutgoingEmail",
    "PortalLink", "RecoveryCode", "StaffSession", "Topic", "User",
]
