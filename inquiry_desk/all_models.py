"""Imports every model so that ``db.metadata`` knows the whole schema (Alembic, tests)."""

from inquiry_desk.accounts.models import RecoveryCode, StaffInvitation, StaffSession, User
from inquiry_desk.audit.models import AuditEvent, AuditSeal
from inquiry_desk.bulletins.models import (
    Bulletin,
    BulletinSeries,
    BulletinSnapshot,
    BulletinTransition,
    BulletinVersion,
    SeriesOccurrence,
)
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
    Attachment,
    FormSubmission,
    Inquiry,
    InquiryLink,
    InquiryViewer,
    Message,
    NamedStaff,
    PersonConcerned,
    PortalLink,
    ReplyNotice,
    Tag,
    Topic,
)
from inquiry_desk.inquiries.saved_views.models import SavedView
from inquiry_desk.inquiries.tallies import QueueTally
from inquiry_desk.inquiries.targets.models import Closure, ServiceTarget, TeamCalendar
from inquiry_desk.intake.models import ExemptNetwork
from inquiry_desk.jobs.models import JobRun, SchedulerLease
from inquiry_desk.mail.inbound.models import BouncedAddress, InboundEmail
from inquiry_desk.mail.models import Delivery, MailSend, MailSuppression, OutgoingEmail, SendThrottle
from inquiry_desk.mailing.models import ConsentRecord, ImportBatch, MailingList, Subscription, SuppressionEntry
from inquiry_desk.reports.models import DailyRollup

__all__ = [
    "Attachment",
    "AuditEvent",
    "AuditSeal",
    "BouncedAddress",
    "Bulletin",
    "BulletinSeries",
    "BulletinSnapshot",
    "BulletinTransition",
    "BulletinVersion",
    "CannedResponse",
    "Closure",
    "ConsentRecord",
    "Contact",
    "DailyRollup",
    "Delivery",
    "DirectoryImport",
    "ExemptNetwork",
    "FormSubmission",
    "ImportBatch",
    "InboundEmail",
    "Inquiry",
    "InquiryLink",
    "InquiryViewer",
    "JobRun",
    "MailSend",
    "MailSuppression",
    "MailingList",
    "Message",
    "NamedStaff",
    "Organisation",
    "OrganisationDomain",
    "OrganisationStatusChange",
    "OrganisationTag",
    "OutgoingEmail",
    "PersonConcerned",
    "PortalLink",
    "QueueTally",
    "RecoveryCode",
    "ReplyNotice",
    "SavedView",
    "SchedulerLease",
    "SendThrottle",
    "SeriesOccurrence",
    "ServiceTarget",
    "StaffInvitation",
    "StaffSession",
    "Subscription",
    "SuppressionEntry",
    "Tag",
    "TeamCalendar",
    "Topic",
    "User",
]
