"""The dashboard in a real browser: period and a filter changed with the keyboard alone, a chart's data
table opened, axe-core clean in English and in French, and a screenshot kept as a test artefact
(``test-artifacts/dashboard-en.png`` and ``-fr.png``, beside the failure screenshots in tmp_path)."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
import time_machine
from flask import Flask

from ..conftest import PROJECT_DIR
from .support import Page, assert_accessible, create_user, expect, sign_in_with_cookie, switch_language

pytestmark = pytest.mark.browser

ARTEFACTS = PROJECT_DIR / "test-artifacts"


def _seed(app: Flask) -> None:
    from ..reports import dataset

    with app.app_context(), time_machine.travel(dataset.NOW, tick=False):
        dataset.build()


def _tab_to(page: Page, selector: str, limit: int = 80) -> None:
    """Press Tab until the element matching ``selector`` has the focus (the keyboard alone)."""
    target = page.locator(selector)
    for _ in range(limit):
        page.keyboard.press("Tab")
        if target.evaluate("element => element === document.activeElement"):
            return
    raise AssertionError(f"Tab never reached {selector}")


def _keep(page: Page, tmp_path: Path, name: str) -> None:
    shot = tmp_path / name
    page.screenshot(path=str(shot), full_page=True)
    ARTEFACTS.mkdir(exist_ok=True)
    shutil.copyfile(shot, ARTEFACTS / name)


def test_dashboard_with_the_keyboard_alone(page_factory: Callable[..., Page], live_app: Flask, live_server: str,
                                           tmp_path: Path) -> None:
    _seed(live_app)
    lead = create_user(live_app, role="lead", name="Lea Lead")
    page = page_factory("en")
    sign_in_with_cookie(page, live_app, live_server, lead)
    outside: list[str] = []
    page.on("request", lambda request: outside.append(request.url)
            if not request.url.startswith(live_server) else None)
    # The dashboard is in the staff menu.
    page.goto(f"{live_server}/staff/")
    page.get_by_role("navigation", name="Staff menu").get_by_role("link", name="Dashboard").click()
    expect(page.locator("h1")).to_have_text("Dashboard")

    # The period: "This quarter" (the figures themselves are tested in tests/reports).
    _tab_to(page, "#period")
    page.keyboard.press("ArrowDown")  # Last 4 weeks → This quarter
    expect(page.locator("#period")).to_have_value("quarter")
    # A filter: the kind of organisation, "Government…" (options in the order of the labels).
    _tab_to(page, "#kind")
    for _ in range(6):
        page.keyboard.press("ArrowDown")
    expect(page.locator("#kind")).to_have_value("government")
    _tab_to(page, "form.dashboard-filters button[type=submit]")
    page.keyboard.press("Enter")
    page.wait_for_url("**period=quarter**kind=government**")
    expect(page.locator("#period")).to_have_value("quarter")
    expect(page.locator("#kind")).to_have_value("government")

    # A chart's data table, one keystroke away from its summary.
    table = page.locator("#received-data table")
    expect(table).to_be_hidden()
    _tab_to(page, "#received-data > summary")
    page.keyboard.press("Enter")
    expect(table).to_be_visible()
    assert page.locator("#received-data").evaluate("details => details.open")
    expect(page.locator("#received-data caption")).to_contain_text("Inquiries received, by channel")
    assert page.locator("svg[role=img] > title#received-title").count() == 1
    assert_accessible(page)
    _keep(page, tmp_path, "dashboard-en.png")

    switch_language(page, "fr")
    expect(page.locator("h1")).to_have_text("Tableau de bord")
    expect(page.locator("#received-title")).to_have_text("Demandes reçues, par canal")
    assert_accessible(page)
    _keep(page, tmp_path, "dashboard-fr.png")
    assert not outside, f"requests left the site: {outside}"
