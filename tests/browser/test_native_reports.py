"""A provider nobody here has seen, configured through the form alone to read its own
delivery reports and replies (SPEC §5.3, §5.4): Try a report shows the mapping, then real
reports posted to the callback URL show up as deliveries, a failure with its code and a
reply on the provider's Stats and Errors tabs."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlencode

import pytest
import requests
from django.utils import timezone
from playwright.sync_api import expect

from campaigns.models import Campaign, Message
from providers.models import Provider
from tests.rollups import settle

from .helpers import SCREENSHOTS, screenshot

pytestmark = pytest.mark.browser

# "Pigeon Post" posts form fields: ref (its id), dest, st (DLV / NDL / ACK), why, when
# (dd.mm.yyyy HH:MM, Berlin time); replies come as src and msg.
SAMPLE = "ref=PG-1&dest=4915112345601&st=DLV&when=30.11.2026+17%3A05"


def test_an_unseen_format_is_mapped_tried_and_counted(admin_page, site):
    page = admin_page
    page.goto("/settings/channels/sms/providers/add/generic/")
    page.get_by_label("Nickname").fill("Pigeon Post")
    page.get_by_label("HTTP Endpoint").fill("https://api.pigeon.example/send")
    page.get_by_label("JSON payload").fill('{"to": "$$To", "text": "$$Body"}')

    page.get_by_label("Form fields").check()
    expect(page.get_by_label("Status path")).to_be_visible()
    page.get_by_label("Provider ID path").fill("$.ref")
    page.get_by_label("Recipient number path").fill("$.dest")
    page.get_by_label("Status path").fill("$.st")
    page.get_by_label("Status values").fill("DLV = delivered\nNDL = failed\nACK = pending")
    page.get_by_label("Error code path").fill("$.why")
    page.get_by_label("Time path").fill("$.when")
    page.get_by_label("Time format").fill("%d.%m.%Y %H:%M")
    page.get_by_label("Time zone").fill("Europe/Berlin")
    page.get_by_label("Sender path").fill("$.src")
    page.get_by_label("Text path").fill("$.msg")

    page.locator("#report-trial summary").click()
    page.get_by_label("Sample report").fill(SAMPLE)
    page.get_by_role("button", name="Try a report").click()
    trial = page.locator(".trial-result")
    expect(trial).to_contain_text("1 item read. Nothing was recorded.")
    expect(trial).to_contain_text("Delivered")
    expect(trial).to_contain_text("2026-11-30T17:05:00+01:00")
    expect(trial).to_contain_text("Save the provider to match its messages")
    screenshot(page, "native-reports-try")
    page.locator("#delivery-reports").screenshot(path=SCREENSHOTS / "native-reports-section.png")

    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_have_text("Provider “Pigeon Post” saved.")
    provider = Provider.objects.get()
    assert provider.config["reports"]["status_map"] == {
        "DLV": "delivered",
        "NDL": "failed",
        "ACK": "pending",
    }

    campaign = Campaign.objects.create(name="Winter", provider=provider, body="Hi")
    for i in (1, 2):
        Message.objects.create(
            campaign=campaign,
            provider=provider,
            to=f"+491511234560{i}",
            state="sent",
            sent_at=timezone.now() - timedelta(minutes=30),
            provider_message_id=f"PG-{i}",
        )
    settle()
    url = page.get_by_label("Callback URL").input_value()
    now = timezone.localtime().strftime("%d.%m.%Y %H:%M")
    posts = [
        {"ref": "PG-1", "dest": "4915112345601", "st": "ACK", "when": now},
        {"ref": "PG-1", "dest": "4915112345601", "st": "DLV", "when": now},
        {"ref": "PG-2", "dest": "4915112345602", "st": "NDL", "why": "absent", "when": now},
        {"src": "4915112345602", "msg": "Who is this?"},
    ]
    for fields in posts:
        answer = requests.post(url, data=fields, timeout=10)
        assert (answer.status_code, answer.text) == (200, "")
    answer = requests.get(f"{url}?{urlencode(posts[1])}", timeout=10)  # a repeat, by GET
    assert answer.status_code == 200

    page.get_by_role("link", name="Stats").click()
    figures = page.locator(".stats-figures > div")
    for label, value in (("Delivered", "1"), ("Replies", "1"), ("Sent", "2")):
        card = figures.filter(has=page.locator("dt", has_text=label)).first
        expect(card.locator("dd")).to_contain_text(value)
    screenshot(page, "native-reports-stats")
    page.get_by_role("link", name="Errors").click()
    expect(page.get_by_role("cell", name="absent")).to_be_visible()
    screenshot(page, "native-reports-errors")
