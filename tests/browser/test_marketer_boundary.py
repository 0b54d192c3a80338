"""SPEC §8 tried in the browser as a marketer would: a paused campaign and *Send a test*
say what happened in words, with no endpoint, key, header, token or raw answer; an admin
unfolds the request and the answer."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from campaigns import retire
from campaigns.models import Campaign, CampaignStatus
from tests.campaigns.helpers import run, sending_campaign
from tests.providers.helpers import create_generic

from .helpers import screenshot

pytestmark = pytest.mark.browser

KEY, HEADER, ANSWER = "mk-key-91a0", "mk-header-91a1", "mk-answer-91a2"


@pytest.fixture
def paused(site, settings, httpserver):
    settings.AUTO_PAUSE_WINDOW = 3
    settings.DISPATCH_GROUP_SIZE = 3
    httpserver.expect_request("/send").respond_with_data(ANSWER, status=401)
    provider = create_generic(
        None,
        nickname="Acme",
        endpoint=httpserver.url_for("/send") + f"?apikey={KEY}",
        headers=[("X-Account", HEADER)],
    )
    campaign = sending_campaign(provider, 3, body="Spring sale: 20% off today")
    run(campaign)
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.PAUSED
    return campaign


def test_a_marketer_reads_outcomes_in_words(marketer_page, paused):
    page = marketer_page
    page.goto(paused.get_absolute_url())
    expect(page.get_by_role("alert").first).to_contain_text(
        "Last outcome: Refused by the provider: HTTP 401."
    )

    page.get_by_label("Mobile number").fill("+1 415 555 0199")
    page.get_by_role("button", name="Send test").click()

    result = page.locator("#test-sms-result")
    expect(result).to_contain_text("The message was not sent")
    expect(result).to_contain_text("Refused by the provider: HTTP 401.")
    expect(page.get_by_text("Request and answer")).to_have_count(0)
    html = page.content()
    for marker in (KEY, HEADER, ANSWER, paused.provider.callback_token, "/send"):
        assert marker not in html
    screenshot(page, "campaign-paused-test-send-marketer")


def test_an_admin_unfolds_the_request_and_the_answer(admin_page, paused):
    page = admin_page
    page.goto(paused.get_absolute_url())
    page.get_by_label("Mobile number").fill("+1 415 555 0199")
    page.get_by_role("button", name="Send test").click()

    page.get_by_text("Request and answer").click()
    details = page.locator(".test-details")
    expect(details).to_contain_text(f"X-Account: {HEADER}")
    expect(details).to_contain_text(ANSWER)
    screenshot(page, "campaign-test-send-admin")


def test_a_draft_of_an_archived_provider_says_why_it_cannot_be_sent(marketer_page, site):
    provider = create_generic(None, nickname="Acme", endpoint="https://api.example.com/sms")
    create_generic(None, nickname="Other", endpoint="https://other.example.com/sms")
    draft = Campaign.objects.create(name="Autumn", provider=provider, body="Hello")
    retire.archive_provider(provider, None)
    page = marketer_page

    page.goto(draft.get_absolute_url())

    expect(page.get_by_role("alert").first).to_contain_text(
        "This campaign's provider “Acme” was archived. Choose another provider to send it."
    )
    expect(page.get_by_role("button", name="Send now")).to_have_count(0)
    expect(page.get_by_role("button", name="Send test")).to_have_count(0)
    expect(page.get_by_role("link", name="Edit")).to_be_visible()
    screenshot(page, "campaign-draft-archived-provider")


def test_an_expired_form_gets_the_sites_own_page(marketer_page, context):
    page = marketer_page
    page.goto("/audiences/import/")
    cookies = [c for c in context.cookies() if c["name"] != "csrftoken"]
    context.clear_cookies()
    context.add_cookies(cookies)  # the session stays, the CSRF cookie is gone

    page.get_by_role("button", name="Upload and continue").click()

    expect(page.get_by_role("heading", name="This form has expired")).to_be_visible()
    screenshot(page, "csrf-failure")
