"""What mail tells the capabilities above it (they connect in create_app; mail imports none of them)."""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

# A bulk message was refused for good with "no such mailbox" (550, 551, 553): the address is already
# suppressed; the mailing lists may mark the subscriber. Receivers: handler(sender, *, address, message_id, now).
bounced = _signals.signal("mail.bounced")

# A bounce report came in by email (mail.inbound.bounces), in the ingest's transaction: the address is
# already in mail_suppressions (a hard bounce, or soft bounces past MAIL_SOFT_BOUNCE_LIMIT). Receivers write
# in db.session, which the ingest commits: handler(sender, *, address, message_id, now).
bounce_reported = _signals.signal("mail.bounce_reported")
