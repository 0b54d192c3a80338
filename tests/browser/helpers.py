"""Helpers shared by the browser tests."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.test import Client
from playwright.sync_api import BrowserContext, Page

SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
# Strong enough for Django's password validators.
PASSWORD = "Plum-Orbit-Canvas-42!"


def log_in(context: BrowserContext, user, site: str) -> None:
    """Give the browser a logged-in session without the form (faster; the login form has its
    own test)."""
    client = Client()
    client.force_login(user)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME]
    context.add_cookies([{"name": cookie.key, "value": cookie.value, "url": site}])


def screenshot(page: Page, name: str) -> None:
    """A full-page screenshot for looking at the page by eye (test-artifacts is gitignored)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / f"{name}.png", full_page=True)
