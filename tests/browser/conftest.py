"""Browser fixtures: a live server on the test's clean database, and one Chromium per session.

Chromium comes from Debian (/usr/bin/chromium, or $CHROMIUM_EXECUTABLE); Playwright
never downloads one. Without a browser the tests are skipped, unless
REQUIRE_BROWSER=1, in which case they fail (CI sets it so that a broken browser
cannot pass silently).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from flask import Flask
from werkzeug.serving import WSGIRequestHandler, make_server

if TYPE_CHECKING:
    from playwright.sync_api import Browser, ConsoleMessage, Page, Response

CHROMIUM = os.environ.get("CHROMIUM_EXECUTABLE", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
# How long Playwright waits for a page, an element or an action (DEFAULT_TIMEOUT_MS), and how long expect()
# keeps retrying its assertion (EXPECT_TIMEOUT_MS; Playwright's own default is 5 s), in milliseconds. On a
# loaded machine (load 14 on two cores) 10 s and 5 s ran out for pages that were right. expect() follows an
# action whose page may still be loading, so it waits as long. They bound the wait only: a wrong page never
# passes, it fails 30 s later. Waits of the tests' own (an email sent after the response) take WAIT_SECONDS.
DEFAULT_TIMEOUT_MS = 30_000
EXPECT_TIMEOUT_MS = DEFAULT_TIMEOUT_MS
WAIT_SECONDS = DEFAULT_TIMEOUT_MS / 1000
# Browser locales that make the app's first guess (from Accept-Language) English or French.
LOCALES = {"en": "en-CA", "fr": "fr-CA"}


def _browser_unavailable(message: str) -> None:
    if os.environ.get("REQUIRE_BROWSER") == "1":
        pytest.fail(f"{message} (REQUIRE_BROWSER=1, so this is a failure, not a skip)", pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        _browser_unavailable(f"no Chromium at {CHROMIUM}: install Debian's chromium package")
    try:
        from playwright.sync_api import expect, sync_playwright
    except ImportError as exc:
        _browser_unavailable(f"Playwright for Python is not installed: {exc}")
    expect.set_options(timeout=EXPECT_TIMEOUT_MS)
    playwright = sync_playwright().start()
    try:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    except Exception as exc:  # any launch failure means "no browser here"
        playwright.stop()
        _browser_unavailable(f"Playwright could not launch {CHROMIUM}: {exc}")
    yield browser
    browser.close()
    playwright.stop()


@pytest.fixture
def live_app(app_factory: Callable[..., Flask]) -> Flask:
    """The app the live server serves, on this test's clean database, with CSRF checks on.

    Create users with ``support.create_user(live_app, ...)`` (it opens the app context).
    """
    return app_factory(WTF_CSRF_ENABLED=True)


class _ClosedOnceSent:
    """A response body whose ``close()`` runs as soon as it has been written, and once only.

    PEP 3333 wants the server to call ``close()`` on every response, whatever
    happened; the app sends the mail a request queued from there. Werkzeug's
    development server skips it when the client resets the connection while the
    server reads what is left on the socket after the response (Chromium does,
    now and then, after the redirect that follows a POST): the mail would then
    wait for the sweeper, and a test that waits for it would fail at random.
    An empty body is left to the server, which sends the headers only after it.
    """

    def __init__(self, iterable: Iterable[bytes]) -> None:
        self._iterable = iterable
        self._closed = False

    def __iter__(self) -> Iterator[bytes]:
        wrote = False
        for chunk in self._iterable:
            wrote = wrote or bool(chunk)
            yield chunk
        if wrote:  # the last chunk is written when the server asks for the next one
            self.close()

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            close = getattr(self._iterable, "close", None)
            if close is not None:
                close()


def _closing_responses(app: Flask) -> Callable[[dict[str, Any], Callable[..., Any]], _ClosedOnceSent]:
    def wsgi(environ: dict[str, Any], start_response: Callable[..., Any]) -> _ClosedOnceSent:
        return _ClosedOnceSent(app(environ, start_response))

    return wsgi


class _OneRequestPerConnection(WSGIRequestHandler):
    """HTTP/1.0: each request on a connection of its own, closed after the response.

    A threaded Werkzeug server speaks HTTP/1.1 with keep-alive; Chromium then
    reuses idle connections, and one the server is closing as Chromium sends the
    next request on it comes back as net::ERR_CONNECTION_RESET (CI once failed
    on a favicon that way). Gunicorn, in production, closes or keeps alive by
    its own rules; the tests need only that no request meets a half-closed socket.
    """

    protocol_version = "HTTP/1.0"


@pytest.fixture
def live_server(live_app: Flask) -> Iterator[str]:
    """Serve ``live_app`` on a free port in a daemon thread; yields the base URL."""
    server = make_server("127.0.0.1", 0, _closing_responses(live_app), threaded=True,  # type: ignore[arg-type]
                         request_handler=_OneRequestPerConnection)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[Any]) -> Iterator[Any]:
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


def _new_page(browser: Browser, lang: str) -> Page:
    context = browser.new_context(locale=LOCALES[lang])
    context.set_default_timeout(DEFAULT_TIMEOUT_MS)
    return context.new_page()


# Every page names its icon (issue 10 defect 11): a missing one is a problem like any other.
IGNORED_RESOURCES: tuple[str, ...] = ()
# A page the app answers with one of these statuses is a whole page (a form shown again
# with its errors, 422; a reply refused because someone changed the inquiry, 409), not a
# resource that failed to load, although Chromium logs it as one.
PAGE_STATUSES = (409, 422)
FAILED_TO_LOAD = "Failed to load resource"


def _console_problem(message: ConsoleMessage, problems: list[tuple[str, str]]) -> None:
    if message.type != "error":
        return
    url = (message.location or {}).get("url", "")
    if url.endswith(IGNORED_RESOURCES):
        return
    problems.append((url, f"console {message.type}: {message.text} ({url or 'no url'})"))


def _pages_with_a_status(response: Response, pages: set[str]) -> None:
    if response.request.resource_type == "document" and response.status in PAGE_STATUSES:
        pages.add(response.url)


@pytest.fixture
def page_factory(browser: Browser, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable[..., Page]]:
    """``page_factory(lang="fr")``: a page in a new browser context whose browser prefers ``lang``.

    At teardown each context is closed. Errors in the browser console (a script
    error, a resource refused by the Content-Security-Policy, a missing file) fail
    the test; when a test failed, a screenshot and the HTML are kept in tmp_path.
    """
    pages: list[tuple[Page, list[tuple[str, str]]]] = []
    documents: set[str] = set()

    def factory(lang: str = "en") -> Page:
        page = _new_page(browser, lang)
        problems: list[tuple[str, str]] = []
        page.on("console", lambda msg: _console_problem(msg, problems))
        page.on("pageerror", lambda exc: problems.append(("", f"uncaught script error: {exc}")))
        page.on("response", lambda response: _pages_with_a_status(response, documents))
        pages.append((page, problems))
        return page

    yield factory

    report = getattr(request.node, "report_call", None)
    all_problems: list[str] = []
    for number, (page, problems) in enumerate(pages):
        if report is not None and report.failed and not page.is_closed():
            try:
                page.screenshot(path=str(tmp_path / f"page{number}.png"), full_page=True)
                (tmp_path / f"page{number}.html").write_text(page.content(), encoding="utf-8")
                print(f"browser page {number} ({page.url}) kept in {tmp_path}")
            except Exception as exc:  # a screenshot is a courtesy; never hide the real failure
                print(f"could not keep page {number}: {exc}")
        all_problems.extend(text for url, text in problems
                            if not (url in documents and text.startswith(f"console error: {FAILED_TO_LOAD}")))
        page.context.close()
    if all_problems and (report is None or report.passed):
        pytest.fail("the browser reported problems:\n" + "\n".join(all_problems), pytrace=False)


@pytest.fixture
def page(page_factory: Callable[..., Page]) -> Page:
    """A fresh context and page (browser language English); closed at teardown."""
    return page_factory("en")
