"""Setting a batch shape and a named account value in the Generic form, by their labels
(SPEC §5.2): the saved provider sends one text to many through its account's URL."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from providers.models import Provider

from .helpers import screenshot

pytestmark = pytest.mark.browser

ADD_GENERIC = "/settings/channels/sms/providers/add/generic/"
PLIVO = '{"src": "HUB", "dst": "$$To", "text": "$$Body"}'


def test_an_admin_sets_joined_numbers_and_an_account_value_by_their_labels(admin_page):
    page = admin_page
    page.goto(ADD_GENERIC)
    page.get_by_label("Nickname").fill("Plivo")
    page.get_by_label("HTTP Endpoint").fill("https://api.plivo.com/v1/Account/$$auth_id/Message/")
    page.get_by_label("Account value 1 key").fill("auth_id")
    page.get_by_label("Account value 1 value").fill("MAXXXXXXXXXXXXXXXXXX")
    page.get_by_label("JSON payload").fill(PLIVO)

    page.get_by_label("Enable batching").check()
    page.get_by_label("Numbers joined in the $$To field").check()
    expect(page.get_by_label("Number delimiter")).to_be_visible()
    expect(page.get_by_label("Batch key")).to_have_count(0)
    page.get_by_label("Number delimiter").fill("<")
    page.get_by_label("Provider message ID path").fill("$.message_uuid[*]")
    expect(page.locator("#custom-tokens")).to_contain_text("campaigns will only need the message")
    screenshot(page, "generic-joined-batch-and-account-value")
    page.get_by_role("button", name="Save").click()

    expect(page.locator(".flashes")).to_have_text("Provider “Plivo” saved.")
    # A plain value whose name looks like a credential: the page suggests marking it secret.
    expect(page.locator("#credential-notice")).to_contain_text("auth_id")
    config = Provider.objects.get().config
    assert config["batch_shape"] == "joined"
    assert config["batch_delimiter"] == "<"
    assert config["account_values"] == [["auth_id", "MAXXXXXXXXXXXXXXXXXX"]]


def test_the_form_says_what_is_wrong_with_a_batch_answer(admin_page):
    page = admin_page
    page.goto(ADD_GENERIC)
    page.get_by_label("Nickname").fill("Vonage")
    page.get_by_label("HTTP Endpoint").fill("https://rest.nexmo.com/sms/json")
    page.get_by_label("Rule for each item").fill('$.status == "0"')
    page.get_by_role("button", name="Save").click()

    expect(page.get_by_role("alert").get_by_role("link")).to_have_text(["Rule for each item"])
    expect(page.get_by_label("Rule for each item")).to_have_attribute("aria-invalid", "true")
    page.get_by_label("Answer items path").fill("$.messages[*]")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_have_text("Provider “Vonage” saved.")
