"""Send Test SMS from the provider list and from the setup form, to a local HTTP server
standing in for the provider (SPEC §2.3)."""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import expect

from tests.providers.helpers import create_generic

from .helpers import screenshot

pytestmark = pytest.mark.browser

LIST = "/settings/channels/sms/providers/"
JSON_BODY = '{"to": "$$To", "text": "$$Body", "hid": "$$hid", "ref": "$$MessageID"}'


@pytest.fixture
def provider(site, httpserver):
    return create_generic(
        None,
        nickname="Acme SMS",
        endpoint=httpserver.url_for("/sms"),
        json_body=JSON_BODY,
        auth_type="basic",
        basic_username="acme",
        basic_password="very-secret-pass",
    )


def fill_dialog(page, number="415 555 0123", message="Hello from the browser"):
    page.get_by_label("Country code").fill("+1")
    page.get_by_label("Mobile number").fill(number)
    page.get_by_role("textbox", name="Message", exact=True).fill(message)


def test_send_test_sms_from_the_list_shows_request_and_answer(admin_page, provider, httpserver):
    httpserver.expect_request("/sms", method="POST").respond_with_json(
        {"accepted": 1, "id": "gw-981"}, status=202
    )
    page = admin_page
    page.goto(LIST)
    page.get_by_label("Actions for Acme SMS").click()
    page.get_by_role("menuitem", name="Send Test SMS").click()
    expect(page.get_by_role("heading", name="Send Test SMS")).to_be_visible()

    fill_dialog(page, number="")
    page.get_by_role("button", name="Send Test SMS").click()
    expect(page.get_by_text("This field is required.").first).to_be_visible()
    assert httpserver.log == []

    fill_dialog(page)
    page.get_by_label("$$hid").fill("H-7")
    page.get_by_role("button", name="Send Test SMS").click()

    result = page.locator("#test-sms-result")
    expect(result.get_by_role("heading", level=3)).to_have_text(
        "✓ The provider accepted the message"
    )
    expect(result).to_contain_text("Provider's response: HTTP 202")
    expect(result).to_contain_text('"id": "gw-981"')
    expect(result).to_contain_text(f"POST {httpserver.url_for('/sms')}")
    expect(result).to_contain_text("Authorization: Basic •••••• (username acme)")
    expect(result).not_to_contain_text("very-secret-pass")
    sent = json.loads(httpserver.log[0][0].get_data())
    assert (sent["to"], sent["text"], sent["hid"]) == (
        "+14155550123",
        "Hello from the browser",
        "H-7",
    )
    screenshot(page, "send-test-sms-from-list")


def test_the_setup_form_tests_unsaved_settings(admin_page, provider, httpserver):
    httpserver.expect_request("/refuse").respond_with_data("unknown sender", status=400)
    page = admin_page
    page.goto(provider.get_absolute_url())
    page.get_by_label("HTTP Endpoint").fill(httpserver.url_for("/refuse"))
    page.get_by_text("Send Test SMS").first.click()  # opens the panel
    fill_dialog(page)
    page.get_by_role("button", name="Send Test SMS").click()
    expect(page.locator("#field-test-custom_hid")).to_contain_text("This field is required.")
    assert httpserver.log == []
    page.get_by_label("$$hid").fill("H-1")
    page.get_by_role("button", name="Send Test SMS").click()

    result = page.locator("#test-sms-result")
    expect(result.get_by_role("heading", level=3)).to_have_text("✗ The message was not accepted")
    expect(result).to_contain_text("HTTP 400: unknown sender")
    assert [r.path for r, _ in httpserver.log] == ["/refuse"]
    provider.refresh_from_db()
    assert provider.config["endpoint"] == httpserver.url_for("/sms")  # nothing saved
    screenshot(page, "send-test-sms-in-setup-form")
