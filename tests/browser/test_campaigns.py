"""A marketer composes, sends and follows a campaign, then a recipient opens its tracked link
(SPEC §4, §4.1). A local HTTP server stands in for the provider and the landing page."""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import expect

from callbacks.models import Event
from campaigns import services, tasks
from campaigns.models import Campaign, Message, MessageState
from tests.campaigns.test_lifecycle import make_audience
from tests.providers.helpers import create_generic

from .helpers import screenshot

pytestmark = pytest.mark.browser

JSON_BODY = '{"to": "$$To", "text": "$$Body", "hid": "$$hid", "ref": "$$MessageID"}'


@pytest.fixture
def ranges(monkeypatch):
    """What the page hands to Celery: preparing runs at once (in the server), the id ranges
    are kept for the test to send, as a worker would, while the browser watches."""
    handed: list[tuple] = []
    monkeypatch.setattr(tasks.prepare, "delay", tasks.prepare)
    monkeypatch.setattr(tasks.send_range, "delay", lambda *args: handed.append(args))
    return handed


def test_a_marketer_sends_a_personalised_tracked_campaign(marketer_page, site, httpserver, ranges):
    httpserver.expect_request("/sms").respond_with_json({"accepted": True})
    httpserver.expect_request("/spring").respond_with_data(
        "<h1>Spring collection</h1>", content_type="text/html"
    )
    create_generic(None, nickname="Acme SMS", endpoint=httpserver.url_for("/sms"),
                   json_body=JSON_BODY)  # fmt: skip
    make_audience(
        [
            ("+14155550001", {"first_name": "Ada", "customer_id": "C-1"}),
            ("+14155550002", {"first_name": "Grace", "customer_id": "C-2"}),
        ]
    )
    page = marketer_page
    landing = httpserver.url_for("/spring")

    page.goto("/campaigns/")
    expect(page.get_by_text("No campaign yet")).to_be_visible()
    page.get_by_role("link", name="+ New campaign").first.click()
    page.get_by_label("Campaign name").fill("Spring sale")
    page.get_by_label("Audience").select_option(label="Customers (2 contacts)")
    expect(page.get_by_text("Contact attributes of this audience")).to_contain_text("{first_name}")
    page.get_by_label("Message").fill(f"Hi {{first_name}}, spring is here: {landing}")
    counter = page.locator("#counter-result")
    expect(counter).to_contain_text("GSM-7")
    page.get_by_label("Message").press_sequentially(" 🌷")
    expect(counter).to_contain_text("UCS-2 because of: 🌷")
    page.get_by_label("Track link clicks").check()
    send_at = page.get_by_label("Send at (UTC)")
    expect(send_at).to_be_hidden()
    page.get_by_label("Schedule for later").check()
    expect(send_at).to_be_visible()
    page.get_by_label("Send now").check()
    screenshot(page, "campaign-form")

    page.get_by_role("button", name="Send or schedule").click()
    expect(page.locator("#field-custom_hid")).to_contain_text("This field is required.")
    page.get_by_label("$$hid").fill("H-42")
    page.get_by_role("button", name="Send or schedule").click()

    expect(page.get_by_role("heading", name="Spring sale")).to_be_visible()
    bar = page.get_by_role("progressbar", name="Messages handled")
    expect(bar).to_have_attribute("aria-valuenow", "0")
    campaign = Campaign.objects.get()
    for args in ranges:  # the worker's part
        tasks.send_range(*args)
    expect(page.locator(".page-head .badge")).to_have_text("Sent", timeout=8_000)
    expect(bar).to_have_attribute("aria-valuenow", "100")
    expect(page.locator(".figures")).to_contain_text("Sent2")
    screenshot(page, "campaign-sent")

    sent = [json.loads(r.get_data()) for r, _ in httpserver.log if r.path == "/sms"]
    assert [s["hid"] for s in sent] == ["H-42", "H-42"]
    assert sent[0]["text"].startswith(f"Hi Ada, spring is here: {site}/l/")
    assert Message.objects.filter(campaign=campaign, state=MessageState.SENT).count() == 2

    tracked = sent[0]["text"].split(": ", 1)[1].split(" ", 1)[0]
    page.goto(tracked)
    expect(page.get_by_role("heading", name="Spring collection")).to_be_visible()
    assert page.url == landing
    click = Event.objects.get(type="clicked")
    assert (click.campaign_id, click.url) == (campaign.pk, landing)


def test_a_marketer_personalises_the_template_variables(marketer_page, httpserver, ranges):
    httpserver.expect_request("/sms").respond_with_json({"accepted": True})
    create_generic(None, nickname="Acme SMS", endpoint=httpserver.url_for("/sms"),
                   json_body='{"to": "$$To", "tid": "$$TemplateID", "vars": "$$TemplateVariables", '
                   '"text": "$$Body"}')  # fmt: skip
    make_audience(
        [
            ("+14155550001", {"first_name": "Ada", "customer_id": "C-1"}),
            ("+14155550002", {"first_name": "", "customer_id": "C-2"}),
        ]
    )
    page = marketer_page

    page.goto("/campaigns/new/")
    page.get_by_label("Campaign name").fill("Template sale")
    page.get_by_label("Audience").select_option(label="Customers (2 contacts)")
    # The form redraws for the chosen audience: type once it offers the audience's columns.
    expect(page.get_by_text("Contact attributes of this audience")).to_contain_text("{customer_id}")
    page.get_by_label("Message").fill("Hello")
    page.get_by_label("Template ID").fill("T-9")
    variables = page.get_by_label("Template Variables")
    variables.fill("{first_name|friend},{nickname}")
    page.get_by_role("button", name="Send or schedule").click()
    expect(page.locator("#field-template_variables")).to_contain_text(
        "The audience has no attribute “nickname”"
    )
    page.get_by_label("Template Variables").fill("{first_name|friend},{customer_id}")
    screenshot(page, "campaign-template-variables")
    page.get_by_role("button", name="Send or schedule").click()

    expect(page.get_by_role("heading", name="Template sale")).to_be_visible()
    for args in ranges:  # the worker's part
        tasks.send_range(*args)
    expect(page.locator(".page-head .badge")).to_have_text("Sent", timeout=8_000)
    sent = [json.loads(r.get_data()) for r, _ in httpserver.log if r.path == "/sms"]
    assert sorted((s["to"], s["tid"], s["vars"]) for s in sent) == [
        ("+14155550001", "T-9", "Ada,C-1"),
        ("+14155550002", "T-9", "friend,C-2"),
    ]


def test_stop_asks_first_and_stops_only_when_confirmed(marketer_page, httpserver, ranges):
    """The confirm is app.js's (data-confirm): the Content-Security-Policy runs no onsubmit."""
    provider = create_generic(None, nickname="Acme SMS", endpoint=httpserver.url_for("/sms"))
    audience = make_audience([("+14155550001", {"first_name": "Ada", "customer_id": "C-1"})])
    campaign = Campaign.objects.create(
        name="Autumn", provider=provider, audience=audience, body="Hi"
    )
    services.launch(campaign)
    page = marketer_page
    page.goto(campaign.get_absolute_url())
    asked: list[str] = []

    page.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.dismiss()))
    page.get_by_role("button", name="Stop").click()
    expect(page.locator(".page-head .badge")).to_have_text("Sending")
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Stop").click()

    expect(page.locator(".page-head .badge")).to_have_text("Stopped")
    assert asked == ["Stop this campaign? Messages not sent yet will never be sent."]
