"""Partners' networks that the public form's rate limit spares (issue 10, defect 10).

An NGO office behind one address sends many inquiries: leads list its network here. The
setting ``INTAKE_RATE_LIMIT_EXEMPT_NETWORKS`` still works (for what operations set up); the
form spares an address that is in either. Each addition and removal is in the audit log.

A network is stored as Python writes it (``203.0.113.0/24``), so one network is listed once
however it was typed. Refused, each with its own message: what is not an address or a network,
a network with host bits set (the message names the network meant), the loopback (it would
spare the server itself, and everyone behind a misconfigured proxy), and networks wider than
/16 in IPv4 or /32 in IPv6 (a whole provider: that is no partner's office).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from datetime import datetime

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from inquiry_desk.accounts.models import Role, User
from inquiry_desk.audit import services as audit
from inquiry_desk.core.app_cache import AppCache
from inquiry_desk.core.domain import Conflict, InvalidInput, NotAllowed
from inquiry_desk.core.extensions import db
from inquiry_desk.core.text import parse_line
from inquiry_desk.intake.models import ExemptNetwork

Network = ipaddress.IPv4Network | ipaddress.IPv6Network

NETWORK_MAX = 50
LABEL_MAX = 200
WIDEST_PREFIX = {4: 16, 6: 32}


class NotANetwork(InvalidInput):
    code = "not_a_network"
    default_message = _l("This is not an IP address or a network in CIDR form. Write it like 203.0.113.0/24 "
                         "or 2001:db8::/48.")


class HostBitsSet(InvalidInput):
    code = "host_bits_set"

    def __init__(self, meant: Network) -> None:
        super().__init__(_l("This address has bits set beyond the network’s prefix. Did you mean %(network)s?",
                            network=str(meant)))


class NetworkTooWide(InvalidInput):
    code = "network_too_wide"

    def __init__(self, widest: int) -> None:
        super().__init__(_l("This network is too wide for one partner’s office: use a prefix of /%(prefix)d "
                            "or longer.", prefix=widest))


class LoopbackNetwork(InvalidInput):
    code = "loopback_network"
    default_message = _l("The loopback network is the server itself: it cannot be spared.")


class NetworkListed(Conflict):
    code = "network_listed"
    default_message = _l("This network is already on the list.")


def parse_network(value: object) -> Network:
    """A network typed by a person (a lone address is a network of one), checked and normalised."""
    text = parse_line(value, max_length=NETWORK_MAX)
    try:
        network = ipaddress.ip_network(text, strict=False)
    except ValueError as exc:
        raise NotANetwork() from exc
    if "/" in text and _host_bits(text):
        raise HostBitsSet(network)
    if network.is_loopback:
        raise LoopbackNetwork()
    widest = WIDEST_PREFIX[network.version]
    if network.prefixlen < widest:
        raise NetworkTooWide(widest)
    return network


def _host_bits(text: str) -> bool:
    try:
        ipaddress.ip_network(text, strict=True)
    except ValueError:
        return True
    return False


def listed() -> Sequence[ExemptNetwork]:
    return db.session.scalars(select(ExemptNetwork).order_by(ExemptNetwork.network)).all()


def add(network: str, label: str, *, actor: User, now: datetime) -> ExemptNetwork:
    """List a partner's network (leads and admins); audited."""
    if not actor.has_role(Role.LEAD):
        raise NotAllowed()
    parsed = str(parse_network(network))
    label = parse_line(label, max_length=LABEL_MAX)
    if db.session.scalar(select(ExemptNetwork.id).where(ExemptNetwork.network == parsed)) is not None:
        raise NetworkListed()
    entry = ExemptNetwork(network=parsed, label=label, created_at=now, created_by_id=actor.id)
    db.session.add(entry)
    db.session.flush()
    audit.record("rate_limit.network_added", actor=actor, subject_type="exempt_network", subject_id=entry.id,
                 details={"network": parsed, "label": label}, now=now)
    return entry


def remove(entry: ExemptNetwork, *, actor: User, now: datetime) -> None:
    """Take a network off the list (leads and admins); audited."""
    if not actor.has_role(Role.LEAD):
        raise NotAllowed()
    audit.record("rate_limit.network_removed", actor=actor, subject_type="exempt_network", subject_id=entry.id,
                 details={"network": entry.network, "label": entry.label}, now=now)
    db.session.delete(entry)


def configured() -> tuple[Network, ...]:
    """The networks of the setting INTAKE_RATE_LIMIT_EXEMPT_NETWORKS (shown on the page, not editable there)."""
    return tuple(current_app.config["INTAKE_RATE_LIMIT_EXEMPT_NETWORKS"])


def is_exempt(address: str | None) -> bool:
    """Whether the public form's rate limit spares this client address (the setting or the leads' list)."""
    if not address:
        return False
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    if any(ip in network for network in configured()):
        return True
    return any(ip in network for network in _LISTED.get(_read_listed))


# The leads' list, parsed, kept per process (every public POST asks, and the limiter asks twice): forgotten
# when this process commits an addition or a removal; another process's is seen within seconds.
_LISTED: AppCache[tuple[Network, ...]] = AppCache("intake_exempt_networks", watch={ExemptNetwork: None},
                                                  seconds=5.0)


def _read_listed() -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(text) for text in db.session.scalars(select(ExemptNetwork.network)))
