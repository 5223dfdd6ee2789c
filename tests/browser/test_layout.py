"""The page frame in a real browser: room between the header, the content and the footer (issue 10, defect 7).

``.container`` once reset ``main``'s padding, so the first panel touched the header and
the last button sat on the footer's rule.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask

from .support import Page, create_user, sign_in_with_cookie

pytestmark = pytest.mark.browser

# At least this many CSS pixels between the header and the content, and the content and the footer.
ROOM = 16


def _gaps(page: Page) -> dict[str, float]:
    return page.evaluate("""() => {
        const main = document.querySelector('main');
        const header = document.querySelector('.site-header').getBoundingClientRect();
        const footer = document.querySelector('.site-footer').getBoundingClientRect();
        const children = [...main.children].filter(e => e.getBoundingClientRect().height > 0);
        const first = children[0].getBoundingClientRect(), last = children[children.length - 1].getBoundingClientRect();
        return {top: first.top - header.bottom, bottom: footer.top - last.bottom,
                paddingTop: parseFloat(getComputedStyle(main).paddingTop)};
    }""")


@pytest.mark.parametrize("path", ["/", "/en/inquiry", "/fr/confidentialite", "/auth/login"])
def test_public_content_stands_clear_of_header_and_footer(page_factory: Callable[..., Page], live_server: str,
                                                          path: str) -> None:
    page = page_factory("en")
    page.goto(f"{live_server}{path}")
    gaps = _gaps(page)
    assert gaps["paddingTop"] >= ROOM and gaps["top"] >= ROOM and gaps["bottom"] >= ROOM, gaps


def test_staff_content_stands_clear_of_header_and_footer(page_factory: Callable[..., Page], live_app: Flask,
                                                         live_server: str) -> None:
    user = create_user(live_app, role="lead")
    page = page_factory("en")
    sign_in_with_cookie(page, live_app, live_server, user)
    for path in ("/staff/", "/staff/inquiries/"):
        page.goto(f"{live_server}{path}")
        gaps = _gaps(page)
        assert gaps["top"] >= ROOM and gaps["bottom"] >= ROOM, (path, gaps)
