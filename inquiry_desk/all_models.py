"""Imports every model so that ``db.metadata`` knows the whole schema (Alembic, tests)."""

from inquiry_desk.accounts.models import RecoveryCode, StaffSession, User
from inquiry_desk.audit.models import AuditEvent

__all__ = ["AuditEvent", "RecoveryCode", "StaffSession", "User"]
