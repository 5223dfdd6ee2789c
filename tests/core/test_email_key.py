"""One parse for an address that keys a contact (core.text.parse_email_key: the directory's forms and
import, the mailing lists' sign-ups, members and import): its quick path for plain addresses gives the
same answers as the full check."""

from __future__ import annotations

import random
import string

import pytest

from inquiry_desk.core.domain import InvalidInput
from inquiry_desk.core.text import parse_email_address, parse_email_key

TRICKY = [
    "a@example.org", "A.B@Example.ORG", "a..b@example.org", ".a@example.org", "a.@example.org",
    "a@example", "a@localhost", "a@x.test", "a@x.local", "a@x.onion", "a@-x.org", "a@x-.org", "a@x..org",
    "a@xn--nxasmq6b.com", "a@ab--cd.org", "a@x.o", "a@x.123", "a@1.2.3.4", "a+b%c_d-e@sub.example.co.uk",
    "a" * 64 + "@example.org", "a" * 65 + "@example.org", "a@" + "b" * 63 + ".org", "a@" + "b" * 64 + ".org",
    "a@" + ".".join(["b" * 60] * 5) + ".org", "é@example.org", "a@exämple.org", "a b@example.org",
    "a@example.org.", "\"a\"@example.org", "a@[127.0.0.1]", "a@example.org\n", "", "@example.org", "a@",
]


def _full(address: str) -> str | None:
    try:
        return parse_email_address(address).lower()
    except InvalidInput:
        return None


def _quick(address: str) -> str | None:
    try:
        return parse_email_key(address)
    except InvalidInput:
        return None


@pytest.mark.parametrize("address", TRICKY)
def test_tricky_addresses_get_the_same_answer(app, address: str) -> None:
    assert _quick(address) == _full(address)


def test_random_addresses_get_the_same_answer(app) -> None:
    rng = random.Random(14)
    alphabet = string.ascii_letters + string.digits + ".-_+%@"
    for _ in range(3000):
        local = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 12)))
        domain = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 14)))
        address = f"{local}@{domain}" if rng.random() < 0.9 else local + domain
        assert _quick(address) == _full(address), address


def test_random_plausible_addresses_get_the_same_answer(app) -> None:
    rng = random.Random(41)
    letters = string.ascii_lowercase + string.digits

    def part(chars: str, low: int, high: int) -> str:
        return "".join(rng.choice(chars) for _ in range(rng.randint(low, high)))

    for _ in range(3000):
        local = ".".join(part(letters + "_+-%", 1, 8) for _ in range(rng.randint(1, 3)))
        labels = [part(letters + "-", 1, 10) for _ in range(rng.randint(1, 3))]
        tld = rng.choice(["org", "ca", "fr", "test", "local", "x", "c0m", "museum", "LOCALHOST", "Org"])
        address = f"{local}@{'.'.join([*labels, tld])}"
        assert _quick(address) == _full(address), address
