"""Imports every model so that ``db.metadata`` knows the whole schema (Alembic, tests)."""

from inquiry_desk.accounts.models import RecoveryCode, StaffSession, User
from inquiry_desk.audit.models import AuditEvent, AuditSeal
from inquiry_desk.directory.models import Contact, Organisation, OrganisationDomain
from inquiry_desk.inquiries.canned.models import CannedResponse
from inquiry_desk.inquiries.models import (
    Inquiry,
    InquiryViewer,
    Message,
    NamedStaff,
    PersonConcerned,
    PortalLink,
    Tag,
    Topic,
)
from inquiry_desk.inquiries.saved_views.models import SavedView
from inquiry_desk.inquiries.targets.models import Closure, ServiceTarget, TeamCalendar
from inquiry_desk.jobs.models import JobRun, SchedulerLease
from inquiry_desk.mail.models import OutgoingEmail

__all__ = [
    "AuditEvent",
    "AuditSeal",
    "CannedResponse",
    "Closure",
    "Contact",
    "Inquiry",
    "InquiryViewer",
    "JobRun",
    "Message",
    "NamedStaff",
    "Organisation",
    "OrganisationDomain",
    "OutgoingEmail",
    "PersonConcerned",
    "PortalLink",
    "RecoveryCode",
    "SavedView",
    "SchedulerLease",
    "ServiceTarget",
    "StaffSession",
    "Tag",
    "TeamCalendar",
    "Topic",
    "User",
]
