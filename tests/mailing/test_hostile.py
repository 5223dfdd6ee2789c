"""QUALITY.md R7 for the mailing pages: huge numbers, broken tokens and odd values never give a 500."""

from __future__ import annotations

import pytest

from .support import make_list

HUGE = 99_999_999_999_999


@pytest.mark.parametrize("path", [
    f"/staff/mailing-lists/{HUGE}", f"/staff/mailing-lists/{HUGE}/members", f"/staff/mailing-lists/{HUGE}/edit",
    f"/staff/mailing-lists/contacts/{HUGE}", f"/staff/mailing-lists/1/import/{HUGE}",
    f"/staff/mailing-lists/1/import/{HUGE}/status", f"/staff/mailing-lists/{HUGE}/export.csv",
    "/staff/mailing-lists/1/members?before=99999999999&q=%25_%5C&organisation=%25&kind=x&status=y",
    "/staff/mailing-lists/suppressions?before=99999999999&q=%25", "/staff/mailing-lists/1/members?before=%C2%B2",
])
def test_staff_pages_never_fail(app, signed_in, path: str) -> None:
    make_list()
    assert signed_in("lead").get(path).status_code in (200, 404)


@pytest.mark.parametrize("path", [
    "/u/" + "A" * 3000, "/u/eyJzIjoiMSJ9.AAAA", "/en/mailing-lists/confirm/" + "é" * 20,
    "/fr/listes-de-diffusion/preferences/%00", "/en/mailing-lists/confirm/eyJjIjpudWxsfQ.xx",
])
def test_public_links_never_fail(app, client, path: str) -> None:
    assert client.get(path).status_code in (404, 410)
    assert client.post(path, data={"List-Unsubscribe": "One-Click"}).status_code in (404, 405, 410)


def test_odd_form_values_are_refused_cleanly(app, client) -> None:
    news = make_list()
    for data in ({"email": "a@example.org", "lists": "abc", "language": "en", "consent": "y"},
                 {"email": "a@example.org", "lists": str(HUGE), "language": "xx", "consent": "y"},
                 {"email": "a\x00@example.org", "lists": str(news.id), "language": "en", "consent": "y"}):
        assert client.post("/en/mailing-lists/subscribe", data=data).status_code == 200
