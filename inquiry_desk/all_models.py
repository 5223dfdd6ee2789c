"""Imports every model so that ``db.metadata`` knows the whole schema (Alembic, tests)."""

from inquiry_desk.accounts.models import RecoveryCode, StaffSession, User
from inquiry_desk.audit.models import AuditEvent
from inquiry_desk.directory.models import (
    Contact,
    DirectoryImport,
    Organisation,
    OrganisationDomain,
    OrganisationStatusChange,
    OrganisationTag,
)
from inquiry_desk.inquiries.canned.models import CannedResponse
from inquiry_desk.inquiries.models import (
    Inquiry,
    InquiryLink,
    InquiryViewer,
    Message,
    PortalLink,
    ReplyNotice,
    Tag,
    Topic,
)
from inquiry_desk.inquiries.saved_views.models import SavedView
from inquiry_desk.inquiries.targets.models import Closure, ServiceTarget, TeamCalendar
from inquiry_desk.jobs.models import JobRun, SchedulerLease
from inquiry_desk.mail.models import Delivery, MailSend, OutgoingEmail, SendThrottle, Suppression

__all__ = [
    "AuditEvent",
    "CannedResponse",
    "Closure",
    "Contact",
    "Delivery",
    "DirectoryImport",
    "Inquiry",
    "InquiryLink",
    "InquiryViewer",
    "JobRun",
    "MailSend",
    "Message",
    "Organisation",
    "OrganisationDomain",
    "OrganisationStatusChange",
    "OrganisationTag",
    "OutgoingEmail",
    "PortalLink",
    "RecoveryCode",
    "ReplyNotice",
    "SavedView",
    "SchedulerLease",
    "SendThrottle",
    "ServiceTarget",
    "StaffSession",
    "Suppression",
    "Tag",
    "TeamCalendar",
    "Topic",
    "User",
]
