"""Email in: raw messages parsed, stored once, classified (bounce, automatic, list) and handed up.

This package knows no capability (the ``mail`` contract). It parses with the standard
library's ``email`` package, stores each message once (``InboundEmail``: unique by
Message-ID and by a hash of its content), recognises bounces (flufl.bounce) and automatic
messages (RFC 3834), and hands every other message to the handler a capability registered
(``ingest.register_handler``: ``inquiries.email_in`` decides threading, new inquiry, reopen).
"""
