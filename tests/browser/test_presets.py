"""Adding a provider from a preset in the browser (SPEC §5.1): search the gallery, type the
provider's own inputs, land on the Generic form prefilled, change it and save."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from providers.models import Provider

from .helpers import SCREENSHOTS, log_in, screenshot

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
    # The report URL is filled in when each message is sent, so a rotated one is followed.
    expect(page.get_by_label("JSON payload")).to_have_value(re.compile(r"\$\$CallbackURL"))
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


INFOBIP_ANSWER = {
    "bulkId": "2034072219640523072",
    "messages": [
        {
            "messageId": "2250be2d4219-3af1-78856-aabe-1362af1edfd2",
            "status": {"groupId": 1, "groupName": "PENDING", "id": 26, "name": "PENDING_ACCEPTED"},
            "destination": "41793026727",
        }
    ],
}
# Infobip's documented delivery report (../shared/providers.md §3), two results.
INFOBIP_REPORT = """{"results": [
  {"bulkId": "BULK-ID-123-xyz", "messageId": "c9823180-94d4-4ea0-9bf3-ec907e7534a6",
   "to": "41793026727", "sentAt": "2019-11-09T16:00:00.000+0100",
   "doneAt": "2019-11-09T16:00:00.000+0100", "messageCount": 1, "callbackData": "",
   "status": {"groupId": 3, "groupName": "DELIVERED", "id": 5, "name": "DELIVERED_TO_HANDSET"},
   "error": {"groupId": 0, "groupName": "OK", "id": 0, "name": "NO_ERROR", "permanent": false}},
  {"bulkId": "BULK-ID-123-xyz", "messageId": "12db39c3-7822-4e72-a3ec-c87442c0ffc5",
   "to": "41793026834", "doneAt": "2019-11-09T16:00:00.000+0100", "messageCount": 1,
   "status": {"groupId": 2, "groupName": "UNDELIVERABLE", "id": 9,
              "name": "UNDELIVERABLE_NOT_DELIVERED"},
   "error": {"groupId": 1, "groupName": "HANDSET_ERRORS", "id": 27,
             "name": "EC_ABSENT_SUBSCRIBER", "permanent": false}}
]}"""


def test_a_preset_provider_sends_a_test_sms_and_reads_a_sample_report(admin_page, site, httpserver):
    """From the gallery to a working provider: a test SMS through a local server standing in
    for Infobip, then its documented report pasted into Try a report."""
    httpserver.expect_request("/sms/3/messages", method="POST").respond_with_json(INFOBIP_ANSWER)
    page = admin_page
    page.goto(ADD)
    page.get_by_role("region", name="Presets").get_by_role("link", name="Infobip").click()
    page.get_by_label("Base URL").fill("https://abc12.api.infobip.com/")
    page.get_by_label("Sender").fill("AcmeShop")
    page.get_by_label("API key").fill("ib-key-0001")
    page.get_by_role("button", name="Continue").click()
    page.get_by_label("HTTP Endpoint").fill(httpserver.url_for("/sms/3/messages"))

    page.locator("#test-sms-panel summary").click()
    page.get_by_label("Country code").fill("+41")
    page.get_by_label("Mobile number").fill("793026727")
    page.get_by_role("textbox", name="Message", exact=True).fill("Hello from the preset")
    page.get_by_role("button", name="Send Test SMS").click()
    result = page.locator("#test-sms-result")
    expect(result.get_by_role("heading", level=3)).to_contain_text("accepted")
    ((request, _),) = httpserver.log
    assert request.headers["Authorization"] == "App ib-key-0001"
    sent = request.get_json()["messages"][0]
    assert (sent["sender"], sent["destinations"][0]["to"]) == ("AcmeShop", "41793026727")
    screenshot(page, "presets-infobip-test-sms")

    report_format = page.get_by_role("group", name="Report format")
    expect(report_format.get_by_label("JSON")).to_be_checked()
    page.locator("#report-trial summary").click()
    page.get_by_label("Sample report").fill(INFOBIP_REPORT)
    page.get_by_role("button", name="Try a report").click()
    trial = page.locator(".trial-result")
    expect(trial).to_contain_text("2 items read. Nothing was recorded.")
    rows = trial.locator("tbody tr")
    expect(rows.nth(0)).to_contain_text("DELIVERED")
    expect(rows.nth(0)).to_contain_text("Delivered")
    expect(rows.nth(1)).to_contain_text("Failed")
    expect(rows.nth(1)).to_contain_text("27 EC_ABSENT_SUBSCRIBER")
    expect(rows.nth(1)).to_contain_text("provider message ID")
    page.locator("#report-trial").screenshot(path=SCREENSHOTS / "presets-infobip-try-report.png")
    assert not Provider.objects.exists()  # nothing saved by either
