"""Partners' networks that the public form's rate limit spares, kept by leads (issue 10)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from inquiry_desk.core.clock import utcnow
from inquiry_desk.core.database import UTCDateTime
from inquiry_desk.core.extensions import Model


class ExemptNetwork(Model):
    """A network in CIDR form (``203.0.113.0/24``, ``2001:db8::/32``), stored as Python writes it."""

    __tablename__ = "rate_limit_exempt_networks"

    id: Mapped[int] = mapped_column(primary_key=True)
    # The longest IPv6 network written out is 43 characters.
    network: Mapped[str] = mapped_column(String(50), unique=True)
    label: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
