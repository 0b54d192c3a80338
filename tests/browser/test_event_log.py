"""Reading callbacks in the browser: a campaign's event log, a provider's, and the admins'
callback requests with Reprocess (SPEC §6.5)."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from callbacks.models import CallbackRequest, Event, RequestStatus
from campaigns.models import Campaign, Message
from providers import message_ids
from tests.providers.helpers import create_generic

from .helpers import log_in, screenshot

# Events made by hand to fill the pages: no rollups to compare.
pytestmark = [pytest.mark.browser, pytest.mark.no_rollup_check]

T0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def sent(site):
    """A sent campaign of three messages, with a few events of each kind."""
    provider = create_generic(None, nickname="Acme SMS", endpoint="https://api.example.com/sms")
    campaign = Campaign.objects.create(
        name="Spring sale", provider=provider, body="Spring sale! 20% off", status="sent"
    )
    messages = [
        Message.objects.create(campaign=campaign, provider=provider, to=f"+1415555010{i}")
        for i in range(1, 4)
    ]
    events = [
        ("delivered", 0, messages[0], {"description": "Delivered to handset"}),
        ("delivered", 1, messages[1], {"description": "Delivered to handset"}),
        ("failed", 2, messages[2], {"code": "901", "description": "DND failure"}),
        (
            "clicked",
            3,
            messages[0],
            {"url": "https://shop.example/spring", "short_url": "ct9.io/a"},
        ),
        ("clicked", 4, messages[1], {"url": "https://shop.example/spring?c=2"}),
        ("replied", 5, messages[0], {"text": "Thanks, see you there!"}),
        ("delivered", 6, None, {"meta": "forged"}),
    ]
    Event.objects.bulk_create(
        Event(
            provider=provider,
            message=message,
            campaign=campaign if message else None,
            phone=message.to if message else "",
            type=kind,
            ts=T0 + timedelta(minutes=minute),
            received_at=timezone.now(),
            dedup_key=f"k{n}",
            **fields,
        )
        for n, (kind, minute, message, fields) in enumerate(events)
    )
    return campaign


def test_a_marketer_filters_a_campaigns_events_to_clicks(marketer_page, sent):
    page = marketer_page

    page.goto("/campaigns/")
    page.get_by_role("link", name="Spring sale").click()
    page.get_by_role("navigation", name="Campaign").get_by_role("link", name="Events").click()

    expect(page).to_have_url(re.compile(rf"/campaigns/{sent.pk}/events/$"))
    expect(page.get_by_role("link", name="Events")).to_have_attribute("aria-current", "page")
    table = page.get_by_role("table", name="Events")
    expect(table.locator("tbody tr")).to_have_count(6)
    screenshot(page, "event-log-campaign")

    page.get_by_label("Event type").select_option(label="Notification Clicked")

    expect(page).to_have_url(re.compile(rf"/campaigns/{sent.pk}/events/\?type=clicked$"))
    rows = page.get_by_role("table", name="Events").locator("tbody tr")
    expect(rows).to_have_count(2)
    for i in range(2):
        expect(rows.nth(i)).to_contain_text("Notification Clicked")
    expect(rows.first).to_contain_text("https://shop.example/spring?c=2")
    expect(rows.nth(1)).to_contain_text("ct9.io/a")
    expect(page.get_by_text("2 “Notification Clicked” events")).to_be_visible()
    expect(page.locator("#event-log")).not_to_have_class(re.compile("htmx-request"))
    screenshot(page, "event-log-campaign-clicked")

    page.reload()  # the address bar holds the filter
    expect(page.get_by_label("Event type")).to_have_value("clicked")
    expect(page.get_by_role("table", name="Events").locator("tbody tr")).to_have_count(2)


def test_the_filter_works_without_javascript(nojs_context, marketer, site, sent):
    log_in(nojs_context, marketer, site)
    page = nojs_context.new_page()

    page.goto(f"/campaigns/{sent.pk}/events/")
    page.get_by_label("Event type").select_option("failed")
    page.get_by_role("button", name="Filter").click()

    expect(page).to_have_url(re.compile(r"\?type=failed$"))
    rows = page.get_by_role("table", name="Events").locator("tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("901 DND failure")


def test_a_marketer_reads_a_providers_events_without_its_setup(marketer_page, sent):
    page = marketer_page

    page.goto(f"/settings/channels/sms/providers/{sent.provider_id}/events/")

    tabs = page.get_by_role("navigation", name="Provider")
    expect(tabs.get_by_role("link")).to_have_text(["Stats", "Errors", "Events"])
    rows = page.get_by_role("table", name="Events").locator("tbody tr")
    expect(rows).to_have_count(7)
    expect(rows.first).to_contain_text("Unmatched")
    expect(page.get_by_text("api.example.com")).to_have_count(0)
    screenshot(page, "event-log-provider-marketer")


def test_an_admin_reprocesses_a_callback_request(admin_page, sent):
    message = Message.objects.filter(campaign=sent).order_by("id").first()
    payload = [{"event": "delivered", "data": [
        {"ts": int(T0.timestamp()) + 3600, "meta": message_ids.sign(message.id),
         "description": "Delivered to handset"},
    ]}]  # fmt: skip
    now = timezone.now()
    CallbackRequest.objects.create(
        provider=sent.provider,
        received_at=now - timedelta(minutes=5),
        content_type="application/json",
        body=json.dumps(payload).encode(),
        status=RequestStatus.FAILED,
        error="OperationalError: database is locked",
        attempts=1,
    )
    CallbackRequest.objects.create(
        provider=sent.provider,
        received_at=now - timedelta(minutes=2),
        content_type="application/json",
        body=b'{"event": "opened"',
        status=RequestStatus.REJECTED,
        response_status=400,
        error="The body is not valid JSON.",
        attempts=1,
    )
    page = admin_page

    page.goto("/")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Callbacks").click()
    expect(page.get_by_role("heading", name="Callback requests")).to_be_visible()
    table = page.get_by_role("table", name="Callback requests")
    expect(table.locator("tbody tr")).to_have_count(2)
    screenshot(page, "callback-requests")

    failed = table.get_by_role("row").filter(has_text="Failed")
    failed.get_by_role("link").click()
    expect(page.get_by_role("heading", name=re.compile(r"Callback request #\d+"))).to_be_visible()
    expect(page.locator("pre.request-body")).to_contain_text('"event": "delivered"')
    screenshot(page, "callback-request-failed")

    page.get_by_role("button", name="Reprocess").click()

    expect(page.get_by_role("status")).to_have_text(
        "Reprocessed: 1 event processed, 0 duplicates (already recorded), 0 unmatched."
    )
    rows = page.get_by_role("table", name="Events of this request").locator("tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Spring sale")
    screenshot(page, "callback-request-reprocessed")

    page.get_by_role("button", name="Reprocess").click()
    expect(page.get_by_role("status")).to_have_text(
        "Reprocessed: 1 event processed, 1 duplicate (already recorded), 0 unmatched."
    )
    assert Event.objects.filter(campaign=sent).count() == 7

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Callbacks").click()
    page.get_by_label("Status").select_option(label="Rejected")
    expect(page).to_have_url(re.compile(r"/settings/callbacks/\?status=rejected$"))
    expect(page.get_by_role("table", name="Callback requests").locator("tbody tr")).to_have_count(1)
    expect(page.locator("#request-log")).not_to_have_class(re.compile("htmx-request"))
    screenshot(page, "callback-requests-rejected")


def test_an_admin_goes_from_a_providers_setup_to_its_events(admin_page, sent):
    page = admin_page

    page.goto(f"/settings/channels/sms/providers/{sent.provider_id}/")
    tabs = page.get_by_role("navigation", name="Provider")
    expect(tabs.get_by_role("link")).to_have_text(["Setup", "Stats", "Errors", "Events"])
    tabs.get_by_role("link", name="Events").click()

    expect(page).to_have_url(re.compile(rf"/providers/{sent.provider_id}/events/$"))
    expect(tabs.get_by_role("link", name="Events")).to_have_attribute("aria-current", "page")
    page.get_by_label("Event type").select_option(label="Notification Delivered")
    rows = page.get_by_role("table", name="Events").locator("tbody tr")
    expect(rows).to_have_count(3)
    expect(rows.first).to_contain_text("Unmatched")
    expect(page.locator("#event-log")).not_to_have_class(re.compile("htmx-request"))
    screenshot(page, "event-log-provider-admin")
