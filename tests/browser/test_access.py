"""Logging in, and who may open the provider pages (SPEC §0, §8)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from .helpers import PASSWORD, screenshot

pytestmark = pytest.mark.browser

PROVIDERS = "/settings/channels/sms/providers/"


def test_it_logs_in_with_username_and_password(page, admin):
    page.goto("/accounts/login/")
    screenshot(page, "login")

    page.get_by_label("Username").fill("ada")
    page.get_by_label("Password").fill("not-the-password")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("alert")).to_contain_text("correct username and password")
    screenshot(page, "login-error")

    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Overview")).to_be_visible()
    expect(page.get_by_role("button", name="Log out")).to_be_visible()
    expect(page.get_by_role("banner")).to_contain_text("ada")


def test_it_redirects_anonymous_visitors_to_the_login_page(page):
    page.goto(PROVIDERS)
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=/settings/channels/sms/"))
    expect(page.get_by_label("Username")).to_be_visible()


def test_it_returns_to_the_asked_page_after_logging_in(page, admin):
    page.goto(PROVIDERS)
    page.get_by_label("Username").fill("ada")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="SMS providers")).to_be_visible()


def test_it_shows_a_marketer_the_friendly_403_page(marketer_page):
    page = marketer_page
    for path in (PROVIDERS, PROVIDERS + "add/", PROVIDERS + "add/generic/"):
        response = page.goto(path)
        assert response.status == 403
        expect(page.get_by_role("heading", name="You don't have access")).to_be_visible()
    screenshot(page, "403")
    expect(page.get_by_role("navigation", name="Main")).not_to_contain_text("Settings")
    page.get_by_role("link", name="Back to the overview").click()
    expect(page.get_by_role("heading", name="Overview")).to_be_visible()


def test_it_shows_the_audit_log_empty_state(admin_page):
    admin_page.goto("/settings/audit-log/")
    expect(admin_page.get_by_role("heading", name="Nothing recorded yet")).to_be_visible()
    screenshot(admin_page, "audit-log-empty")
