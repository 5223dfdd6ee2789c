"""Issue 10 defect 10: the public form's limit counts accepted submissions (and obvious abuse) only,
and a partner's network can be allowed past it."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask

from config import ConfigError, parse_networks

from ..helpers import inquiry_form_data

FORM = "/en/inquiry"


def _post(client, **fields: object) -> int:
    return client.post(FORM, data=inquiry_form_data(**fields)).status_code


def test_typos_do_not_use_up_the_limit(client) -> None:
    """An NGO office behind one address was locked out after a few typos."""
    refused = [_post(client, email="not-an-address", subject=f"Try {n}") for n in range(8)]
    assert 429 not in refused
    accepted = [_post(client, subject=f"Question {n}") for n in range(5)]
    assert accepted == [302] * 5
    assert _post(client, subject="One too many") == 429


def test_obvious_abuse_counts(client) -> None:
    statuses = [_post(client, website="http://spam.example", subject=f"Spam {n}") for n in range(5)]
    assert 429 not in statuses
    assert _post(client, subject="Now a real one") == 429


def test_a_partner_network_is_allowed_past_the_limit(app_factory: Callable[..., Flask]) -> None:
    app = app_factory(INTAKE_RATE_LIMIT_EXEMPT_NETWORKS=parse_networks("203.0.113.0/24, 2001:db8::/32"))
    with app.app_context():
        partner = app.test_client()
        partner.environ_base["REMOTE_ADDR"] = "203.0.113.40"
        assert [_post(partner, subject=f"Question {n}") for n in range(7)] == [302] * 7
        other = app.test_client()
        other.environ_base["REMOTE_ADDR"] = "198.51.100.7"
        assert [_post(other, subject=f"Question {n}") for n in range(6)][-1] == 429


@pytest.mark.parametrize("value", ["203.0.113.0/33", "not-a-network", "203.0.113.1/24"])
def test_a_wrong_network_is_refused_at_start(value: str) -> None:
    with pytest.raises(ConfigError):
        parse_networks(value)
