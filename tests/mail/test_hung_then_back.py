"""Issue 15: a mail server that hangs (accepts, never greets) and then comes back: the message leaves once."""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator

import pytest

from .send_support import make_send, received_counts, statuses, worker
from .smtp_server import SmtpSink
from .support import MINUTE, T0

pytestmark = pytest.mark.allow_smtp


class HangingProxy:
    """A port in front of the sink: while ``hanging``, connections are accepted and never answered;
    after, each is relayed to the sink."""

    def __init__(self, sink: SmtpSink) -> None:
        self.sink = sink
        self.hanging = threading.Event()
        self.hanging.set()
        self.hung = 0
        self._stop = threading.Event()
        self._sockets: list[socket.socket] = []
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.2)
        self.port = self._listener.getsockname()[1]
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                client = self._listener.accept()[0]
            except OSError:
                continue
            self._sockets.append(client)
            if self.hanging.is_set():
                self.hung += 1
                continue
            upstream = socket.create_connection((self.sink.host, self.sink.port))
            self._sockets.append(upstream)
            for source, target in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(source, target), daemon=True).start()

    @staticmethod
    def _pipe(source: socket.socket, target: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                target.sendall(data)
        with contextlib.suppress(OSError):
            target.shutdown(socket.SHUT_WR)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(2)
        self._listener.close()
        for item in self._sockets:
            with contextlib.suppress(OSError):
                item.close()


@pytest.fixture
def proxy(smtp_sink: SmtpSink) -> Iterator[HangingProxy]:
    hanging = HangingProxy(smtp_sink)
    try:
        yield hanging
    finally:
        hanging.close()


def test_a_server_that_hangs_then_comes_back_gets_the_message_once(app_factory, smtp_sink: SmtpSink,
                                                                   proxy: HangingProxy) -> None:
    app = app_factory(**smtp_sink.app_config(SMTP_PORT=proxy.port, SMTP_TIMEOUT=1, MAIL_WORKER_LEASE_SECONDS=10))
    with app.app_context():
        send = make_send(["once@example.net"])
        sender = worker(app)
        hung = sender.run_once(T0)  # the server accepts and never greets: the SMTP timeout ends the wait
        assert (hung.sent, hung.retrying) == (0, 1) and proxy.hung >= 1
        assert statuses(send) == {"queued": 1} and not smtp_sink.received  # put back, not left 'sending'
        sender.close()
        proxy.hanging.clear()  # the server is back
        assert sender.run_once(T0).claimed == 0  # not before its retry time (backoff)
        later = T0
        for _ in range(6):
            later += 2 * MINUTE
            sender.run_once(later)
            if statuses(send) == {"sent": 1}:
                break
        assert statuses(send) == {"sent": 1}
        sender.run_once(later + 60 * MINUTE)
        sender.close()
    assert received_counts(smtp_sink) == {"once@example.net": 1}
