"""A kind without a page of its own gets the default setup page (providers/form_kind.html):
its form's fields in order, labelled, with the callback URL when it has a receiver. The
throwaway kind of docs/adding-a-provider.md stands in for a new kind."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from providers import registry
from providers.models import Provider

from .helpers import screenshot

pytestmark = pytest.mark.browser


@pytest.fixture(autouse=True)
def toy_registered(monkeypatch):
    monkeypatch.setattr(
        registry, "KIND_CLASSES", (*registry.KIND_CLASSES, "tests.providers.toy.kind.ToyKind")
    )
    registry.kinds.cache_clear()
    yield
    registry.kinds.cache_clear()


def test_an_admin_sets_up_a_new_kind_on_the_default_page(admin_page, site):
    page = admin_page
    page.goto("/settings/channels/sms/providers/add/")
    expect(page.get_by_text("A provider with a JSON API, a Bearer key")).to_be_visible()
    page.get_by_role("link", name="Toy SMS").click()
    expect(page.get_by_role("heading", name="Add Toy SMS provider")).to_be_visible()
    assert page.get_by_label("Callback URL").input_value().startswith(site + "/callbacks/sms/")

    page.get_by_label("Nickname").fill("Toy")
    page.get_by_label("API URL").fill("toy.example.com")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#field-endpoint .error")).to_have_text(
        "Enter an absolute http:// or https:// URL."
    )
    expect(page.locator("#field-api_key .error")).to_have_text("This field is required.")
    screenshot(page, "new-kind-form-errors")
    assert not Provider.objects.exists()

    page.get_by_label("API URL").fill("https://toy.example.com/send")
    page.get_by_label("API key").fill("toy-key-0001")
    page.get_by_label("Rate limit (requests per second)").fill("5")
    page.get_by_role("button", name="Save").click()

    expect(page.get_by_role("status")).to_have_text("Provider “Toy” saved.")
    provider = Provider.objects.get()
    assert provider.get_kind_display() == "Toy SMS"
    assert provider.config == {"endpoint": "https://toy.example.com/send", "rate_limit": 5.0}
    assert provider.get_secrets() == {"api_key": "toy-key-0001"}
    expect(page.get_by_role("heading", name="Toy Toy SMS")).to_be_visible()
    expect(page.get_by_label("API key")).to_have_attribute("placeholder", "•••••••• (saved)")
    screenshot(page, "new-kind-saved")

    page.goto("/settings/channels/sms/providers/")
    expect(page.get_by_role("cell", name="Toy SMS")).to_be_visible()
