"""A real SMTP server on 127.0.0.1 (aiosmtpd) for tests: it records, counts and misbehaves on demand.

    @pytest.mark.allow_smtp
    def test_something(smtp_sink, app_factory):
        app = app_factory(**smtp_sink.app_config())
        smtp_sink.answer("rcpt", "451 4.7.1 Try again later", to="farida@example.net", times=1)
        ...
        assert smtp_sink.sessions == 1 and smtp_sink.recipients() == [...]
        smtp_sink.stop()   # nothing listens on the port any more: the server is down
        smtp_sink.start()  # back again, on the same port

``sessions`` counts SMTP connections; ``received`` holds each accepted message
(envelope, raw bytes, parsed message, and the number of the connection that
carried it). ``SmtpSink(credentials=("user", "secret"))`` requires SMTP AUTH
(PLAIN or LOGIN, without TLS) before MAIL FROM.

Tests that use it must be marked ``@pytest.mark.allow_smtp``. The ``smtp_sink``
fixture is registered for tests/mail by its conftest.py; elsewhere, import it in
that package's conftest.py: ``from tests.mail.smtp_server import smtp_sink  # noqa: F401``.
"""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from typing import Any, Literal

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

Stage = Literal["rcpt", "data"]


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


@dataclass
class Received:
    session: int  # which connection carried it: 1 for the first since start() or reset()
    mail_from: str
    rcpt_tos: list[str]
    raw: bytes
    message: EmailMessage


@dataclass
class _Rule:
    stage: Stage
    reply: str
    to: str | None  # None: every recipient
    remaining: int | None  # None: for ever


@dataclass(eq=False)
class SmtpSink:
    """A local SMTP server with a switch for every fault the outbox must survive."""

    host: str = "127.0.0.1"
    port: int = field(default_factory=free_port)
    credentials: tuple[str, str] | None = None
    smtputf8: bool = True  # offer SMTPUTF8 (RFC 6531), as aiosmtpd can; False: a server without it
    data_delay: float = 0.0  # seconds the server takes to accept each message (a slow server)
    received: list[Received] = field(default_factory=list)
    sessions: int = 0
    logins: list[str] = field(default_factory=list)  # user names that logged in successfully
    _rules: list[_Rule] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _controller: Controller | None = None

    # --- control --------------------------------------------------------------------------

    def start(self) -> SmtpSink:
        if self._controller is None:
            self._controller = _SinkController(self)
            self._controller.start()
            self.reset()  # start() opens one connection of its own to check the server is up
        return self

    def stop(self) -> None:
        """Close the port: a client now gets "connection refused", as when the server is down."""
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    @property
    def running(self) -> bool:
        return self._controller is not None

    def answer(self, stage: Stage, reply: str, *, to: str | None = None, times: int | None = None) -> None:
        """Answer ``reply`` (e.g. "451 4.7.1 Try later", "550 5.1.1 No such user") at RCPT TO or
        after DATA, for one recipient (``to``) or for all, ``times`` times or until clear_answers()."""
        code = reply[:3]
        assert code.isdigit() and code[0] in "45", f"not an error reply: {reply!r}"
        with self._lock:
            self._rules.append(_Rule(stage, reply, to.lower() if to else None, times))

    def clear_answers(self) -> None:
        with self._lock:
            self._rules.clear()

    def reset(self) -> None:
        """Forget what was received and counted (the configured answers stay)."""
        with self._lock:
            self.received.clear()
            self.logins.clear()
            self.sessions = 0

    def app_config(self, **overrides: Any) -> dict[str, Any]:
        """Settings for ``app_factory`` that send through this server."""
        config: dict[str, Any] = {"MAIL_BACKEND": "smtp", "SMTP_HOST": self.host, "SMTP_PORT": self.port,
                                  "SMTP_SECURITY": "none", "SMTP_TIMEOUT": 5}
        if self.credentials:
            config["SMTP_USERNAME"], config["SMTP_PASSWORD"] = self.credentials
        config.update(overrides)
        return config

    # --- reading --------------------------------------------------------------------------

    @property
    def messages(self) -> list[EmailMessage]:
        return [item.message for item in self.received]

    def recipients(self) -> list[str]:
        return [address for item in self.received for address in item.rcpt_tos]

    # --- called from the server's thread --------------------------------------------------

    def _connected(self) -> int:
        with self._lock:
            self.sessions += 1
            return self.sessions

    def _reply_for(self, stage: Stage, recipients: list[str]) -> str | None:
        wanted = {address.lower() for address in recipients}
        with self._lock:
            for rule in self._rules:
                if rule.stage == stage and (rule.to is None or rule.to in wanted):
                    if rule.remaining is not None:
                        rule.remaining -= 1
                        if rule.remaining <= 0:
                            self._rules.remove(rule)
                    return rule.reply
        return None

    def _record(self, number: int, envelope: Envelope) -> None:
        raw = envelope.original_content or b""
        message = BytesParser(policy=policy.default).parsebytes(raw)
        assert isinstance(message, EmailMessage)
        with self._lock:
            self.received.append(Received(number, str(envelope.mail_from), list(envelope.rcpt_tos), raw, message))


class _Handler:
    def __init__(self, sink: SmtpSink) -> None:
        self.sink = sink

    async def handle_RCPT(self, server: SMTP, session: Session, envelope: Envelope, address: str,
                          rcpt_options: list[str]) -> str:
        reply = self.sink._reply_for("rcpt", [address])
        if reply:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self.sink.data_delay:
            await asyncio.sleep(self.sink.data_delay)
        reply = self.sink._reply_for("data", list(envelope.rcpt_tos))
        if reply:
            return reply
        self.sink._record(getattr(server, "sink_session", 0), envelope)
        return "250 Message accepted for delivery"


class _SinkController(Controller):
    def __init__(self, sink: SmtpSink) -> None:
        self.sink = sink
        options: dict[str, Any] = {"enable_SMTPUTF8": sink.smtputf8}
        if sink.credentials:
            options.update(auth_require_tls=False, authenticator=self._authenticate)
        # server_hostname: no getfqdn() lookup, which can be slow on a machine without DNS.
        super().__init__(_Handler(sink), hostname=sink.host, port=sink.port, server_hostname="smtp.test",
                         ready_timeout=10, **options)

    def factory(self) -> SMTP:
        server = super().factory()  # called once per connection
        server.sink_session = self.sink._connected()  # type: ignore[attr-defined]
        if self.sink.credentials:
            # Require AUTH before MAIL FROM. Set here rather than with auth_required=True, which
            # warns about AUTH without TLS on every connection (on purpose: loopback only).
            server._auth_required = True
        return server

    def _authenticate(self, server: SMTP, session: Session, envelope: Envelope, mechanism: str,
                      auth_data: object) -> AuthResult:
        assert self.sink.credentials
        user, password = self.sink.credentials
        ok = (isinstance(auth_data, LoginPassword) and auth_data.login.decode() == user
              and auth_data.password.decode() == password)
        if ok:
            with self.sink._lock:
                self.sink.logins.append(user)
        return AuthResult(success=ok, handled=False)


@contextmanager
def running_sink(**options: Any) -> Iterator[SmtpSink]:
    """``with running_sink(credentials=("desk", "secret")) as sink:`` a started SmtpSink, stopped after."""
    sink = SmtpSink(**options).start()
    try:
        yield sink
    finally:
        sink.stop()


@pytest.fixture
def smtp_sink() -> Iterator[SmtpSink]:
    """A running SmtpSink on a free port of 127.0.0.1, stopped after the test."""
    with running_sink() as sink:
        yield sink


@contextmanager
def silent_listener() -> Iterator[int]:
    """A listener on loopback that accepts connections and never says a word (a hung mail server);
    yields its port."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(100)
    listener.settimeout(0.2)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                accepted.append(listener.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1]
    finally:
        stop.set()
        thread.join(2)
        for connection in accepted:
            connection.close()
        listener.close()
