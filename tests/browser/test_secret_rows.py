"""Marking a header's value secret in the browser (SPEC §5.2): by its label, from the keyboard;
the saved value is encrypted and the edit page shows it masked."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from providers.models import Provider
from tests.providers.helpers import create_generic

from .helpers import screenshot

pytestmark = pytest.mark.browser

ADD_GENERIC = "/settings/channels/sms/providers/add/generic/"
API_KEY = "live-api-Key-7781"


def test_an_admin_marks_a_header_secret_and_sees_it_masked(admin_page):
    page = admin_page
    page.goto(ADD_GENERIC)
    page.get_by_label("Nickname").fill("Acme SMS")
    page.get_by_label("HTTP Endpoint").fill("https://api.acme.example/v1/send")
    page.get_by_label("Header 1 key").fill("X-Api-Key")
    page.get_by_label("Header 1 value").fill(API_KEY)
    expect(page.get_by_label("Header 1 value")).to_have_attribute("type", "text")

    secret = page.get_by_label("Header 1 Secret")
    secret.focus()
    page.keyboard.press("Space")

    expect(secret).to_be_checked()
    expect(page.get_by_label("Header 1 value")).to_have_attribute("type", "password")
    page.get_by_role("button", name="+ Add header").click()
    page.get_by_label("Header 2 key").fill("X-Trace")
    page.get_by_label("Header 2 value").fill("on")
    expect(page.get_by_label("Header 1 Secret")).to_be_checked()  # kept through the refresh
    page.get_by_role("button", name="Save").click()

    expect(page.get_by_text("Provider “Acme SMS” saved.")).to_be_visible()
    provider = Provider.objects.get()
    assert provider.config["headers"] == [["X-Api-Key", ""], ["X-Trace", "on"]]
    assert provider.get_secrets() == {"headers:X-Api-Key": API_KEY}
    value = page.get_by_label("Header 1 value")
    expect(value).to_have_value("")
    expect(value).to_have_attribute("type", "password")
    expect(value).to_have_attribute("placeholder", "•••••••• (saved)")
    expect(value).to_have_accessible_description("Saved — leave blank to keep.")
    expect(page.get_by_label("Header 1 Secret")).to_be_checked()
    expect(page.get_by_label("Header 2 value")).to_have_value("on")
    assert API_KEY not in page.content()
    screenshot(page, "generic-secret-header-saved")

    page.get_by_label("Nickname").fill("Acme SMS 2")
    page.get_by_role("button", name="Save").click()

    expect(page.get_by_text("Provider “Acme SMS 2” saved.")).to_be_visible()
    assert Provider.objects.get().get_secrets() == {"headers:X-Api-Key": API_KEY}


def test_removing_a_row_keeps_the_secret_tick_on_its_row(admin_page):
    page = admin_page
    page.goto(ADD_GENERIC)
    page.get_by_label("Header 1 key").fill("X-Trace")
    page.get_by_role("button", name="+ Add header").click()
    page.get_by_label("Header 2 key").fill("X-Api-Key")
    page.get_by_label("Header 2 Secret").check()

    page.get_by_role("button", name="Remove header 1").click()

    expect(page.get_by_label("Header 1 key")).to_have_value("X-Api-Key")
    expect(page.get_by_label("Header 1 Secret")).to_be_checked()
    expect(page.get_by_label("Header 2 key")).to_have_count(0)


def test_the_provider_page_asks_to_mark_a_plain_credential_secret(admin_page):
    page = admin_page
    provider = create_generic(None, headers=[("X-Api-Key", API_KEY), ("X-Trace", "on")])
    page.goto(provider.get_absolute_url())
    notice = page.locator("#credential-notice")
    expect(notice).to_contain_text(
        "The header “X-Api-Key” looks like a credential: mark it secret."
    )
    screenshot(page, "generic-credential-notice")

    page.get_by_label("Header 1 Secret").check()
    page.get_by_role("button", name="Save").click()

    expect(page.get_by_text("Provider “Acme SMS” saved.")).to_be_visible()
    expect(page.locator("#credential-notice")).to_have_count(0)
    assert Provider.objects.get().get_secrets() == {"headers:X-Api-Key": API_KEY}
