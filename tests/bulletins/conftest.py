from tests.mail.smtp_server import smtp_sink  # noqa: F401
