"""Sign-ups never confirmed are removed after ``MAILING_PENDING_DAYS`` (the housekeeping job)."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app

from inquiry_desk.core.batches import delete_in_batches
from inquiry_desk.mailing.models import Subscription, SubscriptionStatus


def remove_unconfirmed(now: datetime) -> int:
    """Delete pending subscriptions older than the limit (they carry no consent); commits per batch."""
    cutoff = now - timedelta(days=current_app.config["MAILING_PENDING_DAYS"])
    return delete_in_batches(Subscription.id, (Subscription.status == SubscriptionStatus.PENDING.value)
                             & (Subscription.created_at < cutoff))
