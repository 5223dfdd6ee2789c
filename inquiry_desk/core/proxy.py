"""The client's address behind the TLS proxy: believed from the configured proxies only.

gunicorn takes the scheme from a trusted proxy (``forwarded_allow_ips``) but never the
client's address; without this, every rate limit and every audit entry would see the
proxy. ``TrustedProxies`` wraps the WSGI app: a request whose peer is one of
``TRUSTED_PROXIES`` (``FORWARDED_ALLOW_IPS``, the setting gunicorn reads too) has its
address and scheme taken from the last ``PROXY_COUNT`` entries of ``X-Forwarded-For`` and
``X-Forwarded-Proto`` (werkzeug's ``ProxyFix``); any other peer's forwarded headers are
dropped, so that a client who reaches the server directly cannot choose its address.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterable
from typing import Any

from werkzeug.middleware.proxy_fix import ProxyFix

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
FORWARDED_HEADERS = ("HTTP_X_FORWARDED_FOR", "HTTP_X_FORWARDED_PROTO", "HTTP_X_FORWARDED_HOST",
                     "HTTP_X_FORWARDED_PORT", "HTTP_X_FORWARDED_PREFIX", "HTTP_FORWARDED")


def parse_trusted(value: str) -> list[Network] | None:
    """``"127.0.0.1, ::1, 10.0.0.0/8"`` as networks; ``"*"`` (trust every peer) as None.

    Raises ValueError for an entry that is not an address or a network.
    """
    entries = [entry.strip() for entry in value.split(",") if entry.strip()]
    if "*" in entries:
        return None
    return [ipaddress.ip_network(entry, strict=False) for entry in entries]


class TrustedProxies:
    def __init__(self, app: Callable[..., Iterable[bytes]], trusted: list[Network] | None, count: int) -> None:
        self.app = app
        self.trusted = trusted
        self.count = count
        self.fixed = ProxyFix(app, x_for=count, x_proto=count) if count > 0 else app

    def is_trusted(self, peer: str) -> bool:
        if self.trusted is None:
            return True
        if not peer:  # a Unix socket: only processes of this machine reach it
            return True
        try:
            address = ipaddress.ip_address(peer)
        except ValueError:
            return False
        return any(address in network for network in self.trusted)

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if self.count > 0 and self.is_trusted(str(environ.get("REMOTE_ADDR") or "")):
            return self.fixed(environ, start_response)
        for header in FORWARDED_HEADERS:
            environ.pop(header, None)
        return self.app(environ, start_response)
