"""What mail tells the capabilities above it (they connect in create_app; mail imports none of them)."""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

# A bulk message was refused for good with "no such mailbox" (550, 551, 553): the address is already
# suppressed; the mailing lists may mark the subscriber. Receivers: handler(sender, *, address, message_id, now).
bounced = _signals.signal("mail.bounced")
