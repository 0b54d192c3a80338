"""Adding a Generic (HTTP) provider in the browser, with and without JavaScript (SPEC §2.2)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from providers.models import Provider

from .helpers import log_in, screenshot

pytestmark = pytest.mark.browser

ADD_GENERIC = "/settings/channels/sms/providers/add/generic/"

JSON_WITHOUT_TO = """{
  "hid": "$$hid",
  "msgs": [{"mid": "$$MessageID", "body": "$$Body"}]
}"""

JSON_BATCHED = """{
  // Sender account, one value per campaign.
  "hid": "$$hid",
  "msgs": [{"to": "$$To", "mid": "$$MessageID", "body": "$$Body"}]
}"""


def field(page: Page, name: str):
    """The block holding one form field: label, control, help text and errors."""
    return page.locator(f"#field-{name}")


def test_it_adds_a_batched_json_provider_with_basic_auth(admin_page, site):
    page = admin_page
    page.goto("/settings/channels/sms/providers/")
    expect(page.get_by_role("heading", name="No active provider")).to_be_visible()
    screenshot(page, "providers-list-empty")

    page.get_by_role("link", name="+ Add Provider").first.click()
    expect(page.get_by_role("heading", name="Add SMS provider")).to_be_visible()
    screenshot(page, "providers-choose-kind")
    page.get_by_role("link", name="Generic (HTTP)").click()
    expect(page).to_have_url(site + ADD_GENERIC)
    expect(page.get_by_label("Callback URL")).to_have_value(
        re.compile(re.escape(site) + r"/callbacks/sms/[\w-]{32,}/$")
    )
    screenshot(page, "generic-form-empty")

    page.get_by_label("Nickname").fill("Acme SMS")
    page.get_by_label("HTTP Endpoint").fill("https://api.acme.example/v1/send")
    expect(page.get_by_label("Username")).to_have_count(0)
    page.get_by_label("Authentication").select_option(label="Basic Authentication")
    expect(page.get_by_label("Username")).to_be_visible()
    page.get_by_label("Username").fill("acme")
    page.get_by_label("Password").fill("s3cret-pass")

    page.get_by_label("Header 1 key").fill("X-Api-Version")
    page.get_by_label("Header 1 value").fill("2")
    page.get_by_role("button", name="+ Add header").click()
    page.get_by_label("Header 2 key").fill("X-Campaign")
    page.get_by_label("Header 2 value").fill("$$CampaignID")

    page.get_by_label("JSON payload").fill(JSON_WITHOUT_TO)
    expect(page.locator("#custom-tokens")).to_contain_text("Campaigns will ask for: hid")

    page.get_by_label("Enable batching").check()
    expect(page.get_by_label("Batch key")).to_be_visible()
    expect(page.get_by_label("Records per batch")).to_have_value("100")
    page.get_by_label("Batch key").fill("msgs")
    page.get_by_label("Records per batch").fill("5000")
    page.get_by_role("button", name="Save").click()

    summary = page.get_by_role("alert")
    expect(summary).to_contain_text("Please correct the fields marked below.")
    expect(summary).to_be_focused()
    expect(summary.get_by_role("link")).to_have_text(["JSON payload", "Records per batch"])
    expect(field(page, "json_body")).to_contain_text("$$To must be inside the 'msgs' object.")
    expect(page.get_by_label("JSON payload")).to_have_attribute("aria-invalid", "true")
    expect(field(page, "records_per_batch").locator(".error")).to_have_text(
        "Enter a number from 1 to 1000."
    )
    expect(field(page, "nickname").locator(".error")).to_have_count(0)
    # What was typed is kept, the secret included (it was never saved).
    expect(page.get_by_label("Username")).to_have_value("acme")
    expect(page.get_by_label("Header 2 value")).to_have_value("$$CampaignID")
    screenshot(page, "generic-form-errors")
    assert not Provider.objects.exists()

    page.get_by_label("JSON payload").fill(JSON_BATCHED)
    page.get_by_label("Records per batch").fill("500")
    page.get_by_role("button", name="Save").click()

    expect(page.get_by_role("status")).to_have_text("Provider “Acme SMS” saved.")
    provider = Provider.objects.get()
    expect(page).to_have_url(site + provider.get_absolute_url())
    assert provider.get_kind_display() == "Generic (HTTP)"
    assert provider.is_default  # the only active provider is the default
    assert provider.config == {
        "request_type": "POST",
        "endpoint": "https://api.acme.example/v1/send",
        "auth_type": "basic",
        "basic_username": "acme",
        "oauth_client_url": "",
        "oauth_client_id": "",
        "oauth_extra": [],
        "headers": [["X-Api-Version", "2"], ["X-Campaign", "$$CampaignID"]],
        "body_format": "json",
        "params": [],
        "json_body": JSON_BATCHED,
        "batching": True,
        "batch_key": "msgs",
        "records_per_batch": 500,
        "number_format": "e164",
        "success_rule": "",
        "message_id_path": "",
        "rate_limit": None,
    }
    assert provider.get_secrets() == {"basic_password": "s3cret-pass"}
    assert "s3cret-pass" not in page.content()

    # The edit page shows the saved settings, never the password.
    expect(page.get_by_label("Nickname")).to_have_value("Acme SMS")
    expect(page.get_by_label("Password")).to_have_value("")
    expect(field(page, "basic_password")).to_contain_text("Saved — leave blank to keep.")
    expect(page.locator("#custom-tokens")).to_contain_text("Campaigns will ask for: hid")
    screenshot(page, "generic-form-edit")


def test_it_checks_and_keeps_the_response_mapping_and_rate_limit(admin_page, site):
    page = admin_page
    page.goto(ADD_GENERIC)
    page.get_by_label("Nickname").fill("Mapped SMS")
    page.get_by_label("HTTP Endpoint").fill("https://api.mapped.example/send")
    section = page.locator("section", has=page.get_by_role("heading", name="Response and pacing"))
    expect(section.get_by_label("Success rule")).to_be_visible()
    expect(section.get_by_label("Provider message ID path")).to_be_visible()
    expect(section.get_by_label("Rate limit (requests per second)")).to_be_visible()
    expect(field(page, "success_rule")).to_contain_text("Without it, any 2xx answer is a success.")

    page.get_by_label("Success rule").fill("$.status == ok")
    page.get_by_label("Provider message ID path").fill("$.messages[*].id")
    page.get_by_label("Rate limit (requests per second)").fill("0")
    page.get_by_role("button", name="Save").click()

    summary = page.get_by_role("alert")
    expect(summary).to_contain_text("Please correct the fields marked below.")
    expect(summary.get_by_role("link")).to_have_text(
        ["Success rule", "Rate limit (requests per second)"]
    )
    expect(field(page, "success_rule").locator(".error")).to_have_text(
        'After == comes a JSON value: "text" in double quotes, a number, true, false or null.'
    )
    expect(page.get_by_label("Success rule")).to_have_attribute("aria-invalid", "true")
    expect(field(page, "rate_limit").locator(".error")).to_have_text(
        "Ensure this value is greater than or equal to 0.1."
    )
    expect(field(page, "message_id_path").locator(".error")).to_have_count(0)
    expect(page.get_by_label("Success rule")).to_have_value("$.status == ok")
    expect(page.get_by_label("Provider message ID path")).to_have_value("$.messages[*].id")
    screenshot(page, "generic-form-response-errors")
    assert not Provider.objects.exists()

    page.get_by_label("Success rule").fill('$.status == "ok"')
    page.get_by_label("Rate limit (requests per second)").fill("12.5")
    page.get_by_role("button", name="Save").click()

    expect(page.get_by_role("status")).to_have_text("Provider “Mapped SMS” saved.")
    provider = Provider.objects.get()
    assert provider.config["success_rule"] == '$.status == "ok"'
    assert provider.config["message_id_path"] == "$.messages[*].id"
    assert provider.config["rate_limit"] == 12.5

    page.goto("/settings/channels/sms/providers/")
    page.goto(provider.get_absolute_url())
    expect(page.get_by_label("Success rule")).to_have_value('$.status == "ok"')
    expect(page.get_by_label("Provider message ID path")).to_have_value("$.messages[*].id")
    expect(page.get_by_label("Rate limit (requests per second)")).to_have_value("12.5")
    screenshot(page, "generic-form-response-edit")


def test_it_keeps_what_was_typed_when_switching_to_get_and_back(admin_page):
    page = admin_page
    page.goto(ADD_GENERIC)
    page.get_by_label("JSON payload").fill(JSON_BATCHED)
    page.get_by_label("Enable batching").check()
    page.get_by_label("Batch key").fill("msgs")

    page.get_by_label("GET", exact=True).check()
    expect(page.get_by_label("JSON payload")).to_have_count(0)
    expect(page.get_by_label("Parameter 1 key")).to_be_visible()
    page.get_by_label("Parameter 1 key").fill("to")
    page.get_by_label("Parameter 1 value").fill("$$To")
    expect(page.locator("#custom-tokens")).to_contain_text("No custom replacements")

    page.get_by_label("POST", exact=True).check()
    expect(page.get_by_label("JSON payload")).to_have_value(JSON_BATCHED)
    expect(page.get_by_label("Batch key")).to_have_value("msgs")
    expect(page.locator("#custom-tokens")).to_contain_text("Campaigns will ask for: hid")
    page.get_by_label("Key-value pair").check()
    expect(page.get_by_label("Parameter 1 value")).to_have_value("$$To")


def test_it_switches_authentication_and_adds_rows_without_javascript(browser_nojs_page, site):
    page = browser_nojs_page
    page.goto(ADD_GENERIC)
    expect(page.get_by_label("Username")).to_have_count(0)
    page.get_by_label("Nickname").fill("Plain Gateway")
    page.get_by_label("HTTP Endpoint").fill("https://gateway.example/send")

    # Changing a choice does nothing by itself; "Update form" shows the choice's fields.
    page.get_by_label("Authentication").select_option(label="Basic Authentication")
    expect(page.get_by_label("Username")).to_have_count(0)
    auth = page.locator("section", has=page.get_by_role("heading", name="Authentication"))
    auth.get_by_role("button", name="Update form").click()
    expect(page.get_by_label("Username")).to_be_visible()
    expect(page.get_by_label("Nickname")).to_have_value("Plain Gateway")
    page.get_by_label("Username").fill("plain")
    page.get_by_label("Password").fill("pl41n-secret")

    page.get_by_label("Header 1 key").fill("X-One")
    page.get_by_label("Header 1 value").fill("1")
    page.get_by_role("button", name="+ Add header").click()
    expect(page.get_by_label("Header 2 key")).to_be_visible()
    page.get_by_label("Header 2 key").fill("X-Two")
    page.get_by_label("Header 2 value").fill("2")
    page.get_by_role("button", name="+ Add header").click()
    expect(page.get_by_label("Header 3 key")).to_be_visible()
    page.get_by_role("button", name="Remove header 1").click()
    expect(page.get_by_label("Header 1 key")).to_have_value("X-Two")
    expect(page.get_by_label("Header 2 key")).to_have_value("")
    expect(page.get_by_label("Header 3 key")).to_have_count(0)
    expect(page.get_by_label("Username")).to_have_value("plain")
    screenshot(page, "generic-form-nojs")

    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_have_text("Provider “Plain Gateway” saved.")
    provider = Provider.objects.get()
    assert provider.config["auth_type"] == "basic"
    assert provider.config["basic_username"] == "plain"
    assert provider.config["headers"] == [["X-Two", "2"]]
    assert provider.get_secrets() == {"basic_password": "pl41n-secret"}


@pytest.fixture
def browser_nojs_page(nojs_context, admin, site) -> Page:
    log_in(nojs_context, admin, site)
    return nojs_context.new_page()
