"""Adding a provider from a preset in the browser (SPEC §5.1): search the gallery, type the
provider's own inputs, land on the Generic form prefilled, change it and save."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from providers.models import Provider

from .helpers import log_in, screenshot

pytestmark = pytest.mark.browser

ADD = "/settings/channels/sms/providers/add/"


def test_it_adds_infobip_from_the_gallery(admin_page, site):
    page = admin_page
    page.goto(ADD)
    gallery = page.get_by_role("region", name="Presets")
    cards = gallery.locator("[data-preset-card]")
    expect(cards.filter(visible=True)).to_have_count(15)

    page.get_by_label("Search presets").press_sequentially("pigeon")
    expect(cards.filter(visible=True)).to_have_count(0)
    expect(gallery.get_by_text("No preset matches “pigeon”; use Generic (HTTP).")).to_be_visible()
    screenshot(page, "presets-gallery-no-match")

    page.get_by_label("Search presets").fill("")
    page.get_by_label("Search presets").press_sequentially("info")
    expect(cards.filter(visible=True)).to_have_count(1)
    expect(gallery.get_by_text("1 of 15 presets match.")).to_be_visible()
    screenshot(page, "presets-gallery-search")
    gallery.get_by_role("link", name="Infobip").click()

    expect(page.get_by_role("heading", name="Add Infobip provider")).to_be_visible()
    page.get_by_label("Base URL").fill("https://abc12.api.infobip.com/")
    page.get_by_label("Sender").fill("AcmeShop")
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("alert")).to_contain_text("API key: This field is required.")
    expect(page.get_by_label("API key")).to_have_attribute("aria-invalid", "true")
    screenshot(page, "presets-infobip-inputs-error")
    page.get_by_label("API key").fill("ib-key-0001")
    expect(page.get_by_label("API key")).to_have_attribute("type", "password")
    page.get_by_role("button", name="Continue").click()

    expect(page.get_by_role("heading", name="Add Generic (HTTP) provider")).to_be_visible()
    expect(page.get_by_role("alert")).to_have_count(0)
    expect(page.get_by_label("Nickname")).to_have_value("Infobip")
    expect(page.get_by_label("HTTP Endpoint")).to_have_value(
        "https://abc12.api.infobip.com/sms/3/messages"
    )
    expect(page.get_by_label("Header 1 key")).to_have_value("Authorization")
    expect(page.get_by_label("Header 1 value")).to_have_attribute("type", "password")
    expect(page.get_by_label("Batch key")).to_have_value("messages")
    callback_url = page.get_by_label("Callback URL").input_value()
    assert re.fullmatch(re.escape(site) + r"/callbacks/sms/[\w-]{32,}/", callback_url)
    expect(page.get_by_label("JSON payload")).to_have_value(re.compile(re.escape(callback_url)))
    expect(page.get_by_text("Prefilled from the Infobip preset")).to_be_visible()
    expect(page.get_by_role("link", name="Infobip's documentation")).to_have_attribute(
        "href", "https://www.infobip.com/docs/developer-resources/quickstart"
    )
    screenshot(page, "presets-infobip-prefilled")

    page.get_by_label("HTTP Endpoint").fill("https://eu.api.infobip.example/sms/3/messages")
    page.get_by_role("button", name="Save").click()

    expect(page.get_by_role("navigation", name="Provider")).to_be_visible()
    provider = Provider.objects.get()
    assert provider.nickname == "Infobip"
    assert provider.config["endpoint"] == "https://eu.api.infobip.example/sms/3/messages"
    assert provider.config["preset"] == "infobip"
    assert provider.callback_url == callback_url
    assert provider.readable_secrets()["headers:Authorization"] == "App ib-key-0001"
    expect(page.get_by_text("Set up from the Infobip preset")).to_be_visible()
    screenshot(page, "presets-infobip-saved")


def test_the_gallery_search_works_without_javascript(nojs_context, admin, site):
    log_in(nojs_context, admin, site)
    page = nojs_context.new_page()
    page.goto(ADD)
    page.get_by_label("Search presets").fill("india")
    page.get_by_role("button", name="Search").click()

    expect(page).to_have_url(re.compile(r"\?q=india$"))
    cards = page.locator("[data-preset-card]").filter(visible=True)
    expect(cards.get_by_role("link")).to_have_text(
        ["Exotel", "Gupshup", "MSG91", "SMSINDIAHUB", "Textlocal"]
    )
    screenshot(page, "presets-gallery-nojs")
