"""The browser tests' waits leave room for a loaded machine (conftest: DEFAULT_TIMEOUT_MS, EXPECT_TIMEOUT_MS).

A button that appears after 11 s is still clicked (the action default was 10 s), and a text that appears
6 s after the click is still seen by expect() (Playwright's own default is 5 s). What never appears still
fails: the waits are bounded.
"""

from __future__ import annotations

import pytest

from .conftest import DEFAULT_TIMEOUT_MS, EXPECT_TIMEOUT_MS
from .support import Page, expect

pytestmark = pytest.mark.browser

LATE_BUTTON_MS = 11_000
LATE_TEXT_MS = 6_000


def test_a_slow_page_is_waited_for_and_a_missing_element_still_fails(page: Page) -> None:
    assert LATE_BUTTON_MS < DEFAULT_TIMEOUT_MS and LATE_TEXT_MS < EXPECT_TIMEOUT_MS
    page.set_content("<main></main>")
    page.evaluate("""([button, text]) => setTimeout(() => {
        const late = document.createElement('button');
        late.id = 'late';
        late.textContent = 'Late';
        late.addEventListener('click', () => setTimeout(() => {
            document.querySelector('main').insertAdjacentHTML('beforeend', '<p id="done">Done</p>');
        }, text));
        document.querySelector('main').append(late);
    }, button)""", [LATE_BUTTON_MS, LATE_TEXT_MS])
    page.locator("#late").click()
    expect(page.locator("#done")).to_have_text("Done")
    with pytest.raises(AssertionError):
        expect(page.locator("#never")).to_be_visible(timeout=100)
