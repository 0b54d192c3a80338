"""Fixtures for the browser tests: one headless Chromium per session, a fresh context per test,
users with roles, and full-page screenshots into test-artifacts/screenshots/."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path
from unittest import mock

import pytest
from django.core.servers.basehttp import WSGIServer
from django.test.testcases import LiveServerThread
from playwright.sync_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Page,
    expect,
    sync_playwright,
)
from pytest_django.live_server_helper import LiveServer

from accounts.roles import ADMIN, MARKETER
from accounts.users import create_user

from .helpers import PASSWORD, log_in

# Playwright's sync API keeps an event loop running in this thread; the test's own ORM calls
# (fixtures, assertions on saved state) are still plain synchronous code.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

expect.set_options(timeout=5_000)


def pytest_collection_modifyitems(items) -> None:
    # The session-wide live server starts before the suite's settings fixture can point
    # STATIC_ROOT away from the (uncollected) var/staticfiles/, so WhiteNoise warns once. Static
    # files are served by the live server's own static handler, from the source folders.
    here = Path(__file__).parent
    quiet = pytest.mark.filterwarnings("ignore:No directory at:UserWarning")
    for item in items:
        if here in Path(item.path).parents:
            item.add_marker(quiet)


class OneRequestAtATimeServer(WSGIServer):
    """The live server, answering one request after another.

    With SQLite in memory, every request thread shares the test's one database connection, and
    pages fire requests in parallel (htmx refreshes, assets): now and then a session read came
    back empty and a request was answered with the login page. Unthreaded, Django's server also
    closes each connection after its response, so the browser never waits on a kept-alive one.
    """

    def __init__(self, *args, connections_override=None, **kwargs):
        super().__init__(*args, **kwargs)


@pytest.fixture(scope="session")
def live_server(request) -> Iterator[LiveServer]:
    """pytest-django's live server (same address options), with OneRequestAtATimeServer."""
    addr = (
        request.config.getvalue("liveserver")
        or os.getenv("DJANGO_LIVE_TEST_SERVER_ADDRESS")
        or "localhost"
    )
    with mock.patch.object(LiveServerThread, "server_class", OneRequestAtATimeServer):
        server = LiveServer(addr)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is not installed (make browser installs it)")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def site(live_server, settings, transactional_db) -> str:
    """The live server's base URL; callback URLs are generated against it."""
    settings.SITE_URL = live_server.url
    # Hashing stays real (the login form checks it) but fast: PBKDF2 costs ~0.5 s per user.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    return live_server.url


# What Chromium prints when the Content-Security-Policy blocks something (SPEC §8): a page
# that needs an inline script or style, eval or a foreign asset is a failing page.
CSP_VIOLATION = ("Content Security Policy", "Refused to")


def _note_csp_violation(message: ConsoleMessage, violations: list[str]) -> None:
    if any(sign in message.text for sign in CSP_VIOLATION):
        page = message.page.url if message.page else "?"
        violations.append(f"{page} (from {message.location['url']}): {message.text}")


def _open_context(browser: Browser, site: str, **options) -> Iterator[BrowserContext]:
    context = browser.new_context(base_url=site, viewport={"width": 1280, "height": 800}, **options)
    context.set_default_timeout(5_000)
    violations: list[str] = []
    context.on("console", lambda message: _note_csp_violation(message, violations))
    in_flight: set = set()
    context.on("request", lambda request: in_flight.add(request))
    context.on("requestfinished", lambda request: in_flight.discard(request))
    context.on("requestfailed", lambda request: in_flight.discard(request))
    yield context
    # Let the server finish what the page last asked (say, a delayed htmx refresh) before the
    # database is emptied for the next test: both use the same connection. Waiting in the page
    # lets Playwright deliver the "finished" events.
    deadline = time.monotonic() + 2
    while in_flight and context.pages and time.monotonic() < deadline:
        context.pages[0].wait_for_timeout(20)
    context.close()
    assert not violations, "Content-Security-Policy violations:\n" + "\n".join(violations)


@pytest.fixture
def context(browser, site) -> Iterator[BrowserContext]:
    yield from _open_context(browser, site)


@pytest.fixture
def nojs_context(browser, site) -> Iterator[BrowserContext]:
    yield from _open_context(browser, site, java_script_enabled=False)


@pytest.fixture
def page(context) -> Page:
    return context.new_page()


@pytest.fixture
def admin(site):
    return create_user("ada", "ada@example.com", PASSWORD, ADMIN)


@pytest.fixture
def marketer(site):
    return create_user("mark", "mark@example.com", PASSWORD, MARKETER)


@pytest.fixture
def admin_page(context, page, admin, site) -> Page:
    log_in(context, admin, site)
    return page


@pytest.fixture
def marketer_page(context, page, marketer, site) -> Page:
    log_in(context, marketer, site)
    return page
