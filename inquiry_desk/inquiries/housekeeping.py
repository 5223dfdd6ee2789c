"""Housekeeping of inquiries: delete private links and "looking at this" rows that have stopped meaning anything.

- private links (``portal_links``) expired, or revoked, more than ``PORTAL_LINK_GRACE`` ago
  (the grace lets the portal still say "this link has expired" rather than "unknown link"
  for a while);
- "who is looking at this" rows (``inquiry_viewers``) not refreshed for ``VIEWER_GRACE``
  (the collision warning counts them fresh for 5 minutes only).

The scheduler's ``housekeeping`` job calls this. Links go in batches, with a commit after
each (``core.batches``); viewer rows are few and go at once.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import and_, delete, or_

from inquiry_desk.core.batches import BATCH_SIZE, delete_in_batches
from inquiry_desk.core.database import rows_affected
from inquiry_desk.core.extensions import db
from inquiry_desk.inquiries.models import FormSubmission, InquiryViewer, PortalLink

PORTAL_LINK_GRACE = timedelta(days=30)
VIEWER_GRACE = timedelta(days=1)
# A public form's nonce is kept past the form's maximum age (INTAKE_FORM_MAX_HOURS, 24 h): after that,
# the form is refused as too old anyway.
FORM_SUBMISSION_GRACE = timedelta(days=7)


def delete_stale_links_and_viewers(now: datetime, *, batch_size: int = BATCH_SIZE) -> dict[str, int]:
    """Delete stale private links and viewer rows; returns how many of each were deleted."""
    link_limit = now - PORTAL_LINK_GRACE
    links = delete_in_batches(PortalLink.id, or_(
        PortalLink.expires_at < link_limit,
        and_(PortalLink.revoked_at.is_not(None), PortalLink.revoked_at < link_limit),
    ), batch_size=batch_size)
    viewers = db.session.execute(delete(InquiryViewer).where(InquiryViewer.seen_at < now - VIEWER_GRACE))
    db.session.commit()
    return {"portal_links": links, "inquiry_viewers": rows_affected(viewers)}


def delete_old_form_submissions(now: datetime, *, batch_size: int = BATCH_SIZE) -> int:
    """Delete the single-use marks of public forms too old to be sent again; returns how many."""
    return delete_in_batches(FormSubmission.id, FormSubmission.created_at < now - FORM_SUBMISSION_GRACE,
                             batch_size=batch_size)
