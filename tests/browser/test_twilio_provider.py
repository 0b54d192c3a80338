"""Adding and editing a Twilio provider in the browser (SPEC §3.5)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from providers.models import Provider

from .helpers import screenshot

pytestmark = pytest.mark.browser

ACCOUNT_SID = "AC" + "0123456789abcdef" * 2
CUSTOM_URL = "https://relay.example.com/twilio/status"


def test_it_adds_a_twilio_provider_and_restores_our_callback_url(admin_page, site):
    page = admin_page
    page.goto("/settings/channels/sms/providers/add/")
    page.get_by_role("link", name="Twilio").click()
    expect(page.get_by_role("heading", name="Add Twilio provider")).to_be_visible()

    callback = page.get_by_label("Callback URL")
    restore = page.get_by_role("button", name="Restore")
    ours = callback.input_value()
    assert ours.startswith(site + "/callbacks/sms/")
    assert ours.endswith("/")
    expect(restore).to_be_disabled()

    callback.fill(CUSTOM_URL)
    expect(restore).to_be_enabled()
    restore.click()
    expect(callback).to_have_value(ours)
    expect(restore).to_be_disabled()

    page.get_by_label("Nickname").fill("Twilio US")
    page.get_by_label("Account SID").fill("AC123")
    page.get_by_label("Auth token").fill("tw-auth-token-123")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#field-account_sid .error")).to_have_text(
        "An Account SID is AC followed by 32 hexadecimal characters."
    )
    expect(page.locator("#field-from_number .error")).to_have_text(
        "Enter a From Number, a Service SID, or both."
    )
    screenshot(page, "twilio-form-errors")
    assert not Provider.objects.exists()

    page.get_by_label("Account SID").fill(ACCOUNT_SID)
    page.get_by_label("From Number").fill("+14155550123")
    screenshot(page, "twilio-form")
    page.get_by_role("button", name="Save").click()

    expect(page.get_by_role("status")).to_have_text("Provider “Twilio US” saved.")
    provider = Provider.objects.get()
    expect(page).to_have_url(site + provider.get_absolute_url())
    assert provider.get_kind_display() == "Twilio"
    assert provider.config == {
        "account_sid": ACCOUNT_SID,
        "custom_callback_url": "",
        "from_number": "+14155550123",
        "service_sid": "",
        "template_id_required": False,
        "rate_limit": None,
    }
    assert provider.get_secrets() == {"auth_token": "tw-auth-token-123"}
    assert provider.callback_url == ours
    expect(page.get_by_label("Callback URL")).to_have_value(ours)
    expect(page.get_by_label("Auth token")).to_have_value("")
    assert "tw-auth-token-123" not in page.content()


def test_it_keeps_a_custom_callback_url_until_restored(admin_page, site):
    page = admin_page
    provider = Provider(kind="twilio", nickname="Twilio EU")
    provider.config = {
        "account_sid": ACCOUNT_SID,
        "custom_callback_url": CUSTOM_URL,
        "from_number": "+14155550123",
        "service_sid": "",
        "template_id_required": False,
    }
    provider.set_secrets({"auth_token": "kept-token"})
    provider.save()

    page.goto(provider.get_absolute_url())
    expect(page.get_by_label("Callback URL")).to_have_value(CUSTOM_URL)
    expect(page.get_by_text("Custom URL in use.")).to_be_visible()
    screenshot(page, "twilio-form-edit-custom-callback")
    page.get_by_role("button", name="Restore").click()
    expect(page.get_by_label("Callback URL")).to_have_value(provider.callback_url)
    expect(page.get_by_text("Custom URL in use.")).to_have_count(0)
    page.get_by_label("From Number").fill("+14155550199")
    page.get_by_role("button", name="Save").click()

    expect(page.get_by_role("status")).to_have_text("Provider “Twilio EU” saved.")
    provider.refresh_from_db()
    assert provider.config["custom_callback_url"] == ""
    assert provider.config["from_number"] == "+14155550199"
    assert provider.get_secrets() == {"auth_token": "kept-token"}

    page.get_by_role("link", name="Audit log").click()
    changes = page.get_by_role("row").filter(has_text="Updated provider “Twilio EU”")
    expect(changes).to_contain_text(CUSTOM_URL)
    expect(changes).to_contain_text("+14155550199")
    expect(changes).not_to_contain_text("kept-token")
    screenshot(page, "audit-log")
