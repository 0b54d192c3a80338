"""Campaign pages for every role, the form's rules, and the actions (SPEC §4, §0)."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from campaigns import services
from campaigns.models import Campaign, CampaignStatus, Message
from providers.models import Provider
from tests.providers.helpers import create_generic, create_twilio

from .test_lifecycle import make_audience

JSON_BODY = '{"to": "$$To", "text": "$$Body", "h": "$$hid", "u": "$$uid"}'
BATCH_BODY = '{"h": "$$hid", "m": [{"to": "$$To", "text": "$$Body", "u": "$$uid"}]}'


@pytest.fixture
def provider(db, httpserver):
    return create_generic(
        None, nickname="Acme", endpoint=httpserver.url_for("/sms"), json_body=JSON_BODY
    )


@pytest.fixture
def audience(db):
    return make_audience(
        [("+14155550001", {"first_name": "Ada", "customer_id": "C-1"})], name="Customers"
    )


def form_data(chosen_provider, chosen_audience, **fields):
    data = {
        "name": "Spring sale",
        "provider": chosen_provider.pk,
        "audience": chosen_audience.pk,
        "body": "Hi {first_name|there}!",
        "template_id": "",
        "template_variables": "",
        "custom_hid": "H-1",
        "custom_uid": "{customer_id}",
        "when": "now",
        "send_at": "",
    }
    data.update(fields)
    return {k: v for k, v in data.items() if v is not None}


PAGES = ["/campaigns/", "/campaigns/new/"]


@pytest.mark.parametrize("path", PAGES)
def test_anonymous_users_are_sent_to_login(client, db, path):
    response = client.get(path)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize("path", PAGES)
def test_marketers_and_admins_see_campaign_pages(marketer_client, admin_client, path):
    assert marketer_client.get(path).status_code == 200
    assert admin_client.get(path).status_code == 200


def test_the_list_has_an_empty_state(marketer_client):
    page = marketer_client.get("/campaigns/").content.decode()
    assert "No campaign yet" in page


def test_the_form_preselects_the_default_provider_and_shows_only_nicknames(
    marketer_client, provider, audience, httpserver
):
    other = create_generic(None, nickname="Backup", endpoint=httpserver.url_for("/b"))
    create_generic(None, nickname="Gone", endpoint=httpserver.url_for("/g"))
    from campaigns import retire

    retire.archive_provider(Provider.objects.get(nickname="Gone"), None)

    page = marketer_client.get("/campaigns/new/").content.decode()

    assert f'<option value="{provider.pk}" selected>Acme (default)</option>' in page
    assert f'<option value="{other.pk}">Backup</option>' in page
    assert "Gone" not in page
    assert httpserver.url_for("/sms") not in page  # no endpoint, no credentials
    assert "Customers (1 contacts)" in page or "Customers (1 contact" in page


def test_the_form_asks_for_the_custom_replacements_of_the_chosen_provider(
    marketer_client, provider, audience, httpserver
):
    twilio = create_twilio()
    data = form_data(provider, audience, _action="refresh")

    page = marketer_client.post("/campaigns/new/", data).content.decode()
    assert ">$$hid" in page and ">$$uid" in page
    assert "This field is required" not in page  # a refresh shows no errors

    data["provider"] = twilio.pk
    page = marketer_client.post("/campaigns/new/", data).content.decode()
    assert ">$$hid" not in page


def test_it_sends_now(marketer_client, provider, audience, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = marketer_client.post("/campaigns/new/", form_data(provider, audience))

    campaign = Campaign.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/campaigns/{campaign.pk}/"
    assert campaign.status == CampaignStatus.SENDING
    assert campaign.custom_values == {"hid": "H-1", "uid": "{customer_id}"}
    assert Message.objects.count() == 1


def test_it_saves_a_draft_and_edits_it(marketer_client, provider, audience):
    marketer_client.post("/campaigns/new/", form_data(provider, audience, _action="draft"))
    campaign = Campaign.objects.get()
    assert campaign.status == CampaignStatus.DRAFT

    page = marketer_client.get(f"/campaigns/{campaign.pk}/edit/").content.decode()
    assert 'value="Spring sale"' in page
    marketer_client.post(
        f"/campaigns/{campaign.pk}/edit/",
        form_data(provider, audience, name="Summer sale", _action="draft"),
    )
    assert Campaign.objects.get().name == "Summer sale"


def test_it_schedules(marketer_client, provider, audience, settings):
    settings.TIME_ZONE = "Europe/Paris"
    when = timezone.localtime(timezone.now() + timedelta(days=1))
    data = form_data(provider, audience, when="later", send_at=when.strftime("%Y-%m-%dT%H:%M"))

    marketer_client.post("/campaigns/new/", data)

    campaign = Campaign.objects.get()
    assert campaign.status == CampaignStatus.SCHEDULED
    assert abs((campaign.scheduled_at - when).total_seconds()) < 60


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"name": ""}, "name", "This field is required."),
        ({"audience": ""}, "audience", "This field is required."),
        ({"body": ""}, "body", "This field is required."),
        ({"body": "Hi {first_name"}, "body", "Unclosed"),
        ({"body": "Hi {nickname}"}, "body", "The audience has no attribute “nickname”"),
        ({"custom_hid": ""}, "custom_hid", "This field is required."),
        ({"custom_uid": "{unknown}"}, "custom_uid", "no attribute “unknown”"),
        ({"template_variables": "{unknown}"}, "template_variables", "no attribute “unknown”"),
        ({"template_variables": "{first_name"}, "template_variables", "Unclosed"),
        ({"when": "later"}, "send_at", "Choose when to send."),
        ({"when": "later", "send_at": "2001-01-01T10:00"}, "send_at", "in the future"),
    ],
)
def test_every_problem_is_shown_at_its_field(
    marketer_client, provider, audience, fields, field, message
):
    page = marketer_client.post("/campaigns/new/", form_data(provider, audience, **fields))

    html = page.content.decode()
    assert page.status_code == 200
    assert f'id="field-{field}"' in html
    assert message in html
    assert not Campaign.objects.exists()


def test_a_campaign_wide_token_cannot_take_a_contact_attribute(
    marketer_client, audience, httpserver
):
    batched = create_generic(
        None,
        endpoint=httpserver.url_for("/sms"),
        json_body=BATCH_BODY,
        batching=True,
        batch_key="m",
        records_per_batch=100,
    )
    data = form_data(batched, audience, custom_hid="{customer_id}")

    html = marketer_client.post("/campaigns/new/", data).content.decode()

    assert "takes one value for the whole campaign" in html
    assert not Campaign.objects.exists()


def test_campaign_wide_template_variables_cannot_take_a_contact_attribute(
    marketer_client, audience, httpserver
):
    batched = create_generic(
        None,
        endpoint=httpserver.url_for("/sms"),
        json_body='{"v": "$$TemplateVariables", "m": [{"to": "$$To", "text": "$$Body"}]}',
        batching=True,
        batch_key="m",
        records_per_batch=100,
    )
    data = form_data(batched, audience, custom_hid=None, custom_uid=None)

    html = marketer_client.post(
        "/campaigns/new/", {**data, "template_variables": "{first_name}"}
    ).content.decode()

    assert 'id="field-template_variables"' in html
    assert "$$TemplateVariables is sent once per batch" in html
    assert not Campaign.objects.exists()
    marketer_client.post("/campaigns/new/", {**data, "template_variables": "V-1"})
    assert Campaign.objects.get().template_variables == "V-1"


def test_per_message_template_variables_take_contact_attributes(
    marketer_client, audience, httpserver
):
    batched = create_generic(
        None,
        endpoint=httpserver.url_for("/sms"),
        json_body='{"m": [{"to": "$$To", "text": "$$Body", "v": "$$TemplateVariables"}]}',
        batching=True,
        batch_key="m",
        records_per_batch=100,
    )
    data = form_data(batched, audience, custom_hid=None, custom_uid=None)

    marketer_client.post(
        "/campaigns/new/", {**data, "template_variables": "{first_name},{city|Paris}"}
    )

    assert Campaign.objects.get().template_variables == "{first_name},{city|Paris}"


def test_the_template_id_is_required_when_the_provider_demands_it(marketer_client, audience):
    twilio = create_twilio(template_id_required=True)
    data = form_data(twilio, audience, custom_hid=None, custom_uid=None)

    html = marketer_client.post("/campaigns/new/", data).content.decode()

    assert 'id="field-template_id"' in html and "This field is required." in html


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("Hello", "<strong>5</strong> characters · GSM-7 · <strong>1</strong> SMS"),
        ("Hello 🎉", "<strong>8</strong> characters · UCS-2 · <strong>1</strong> SMS"),
        ("x" * 161, "<strong>161</strong> characters · GSM-7 · <strong>2</strong> SMS"),
        ("{a}", "<strong>5</strong> characters"),  # braces are GSM-7 extension characters
    ],
)
def test_the_counter_counts_encoding_and_segments(marketer_client, body, expected):
    html = marketer_client.post("/campaigns/counter/", {"body": body}).content.decode()
    assert expected in html


def test_the_counter_names_the_characters_that_force_ucs2(marketer_client):
    html = marketer_client.post("/campaigns/counter/", {"body": "Café ✓ ok"}).content.decode()
    assert "UCS-2 because of: <code>✓</code>" in html


def test_the_counter_counts_the_first_contact_and_tracked_links(
    marketer_client, audience, settings
):
    settings.SITE_URL = "https://hub.example.com"
    data = {"body": "Hi {first_name}", "audience": audience.pk}
    html = marketer_client.post("/campaigns/counter/", data).content.decode()
    assert "<strong>6</strong> characters" in html  # "Hi Ada"

    plain = {"body": "Go https://x.io"}
    tracked = {**plain, "click_tracking": "on"}
    short = marketer_client.post("/campaigns/counter/", plain).content.decode()
    long = marketer_client.post("/campaigns/counter/", tracked).content.decode()
    assert "<strong>15</strong>" in short
    assert "<strong>15</strong>" not in long


def test_the_campaign_page_shows_progress(marketer_client, provider, audience):
    campaign = Campaign.objects.create(
        name="Spring", provider=provider, audience=audience, body="Hi", status="sending"
    )
    services.queue_messages(campaign, [("+14155550001", None), ("+14155550002", None)])

    page = marketer_client.get(f"/campaigns/{campaign.pk}/").content.decode()
    assert 'aria-valuenow="0"' in page
    assert 'hx-trigger="every 2s"' in page

    part = marketer_client.get(f"/campaigns/{campaign.pk}/?part=progress", HTTP_HX_REQUEST="true")
    assert part.content.decode().lstrip().startswith("<section")

    Campaign.objects.update(status=CampaignStatus.SENT)
    part = marketer_client.get(f"/campaigns/{campaign.pk}/?part=progress", HTTP_HX_REQUEST="true")
    assert part["HX-Refresh"] == "true"  # finished: the whole page shows the new status


def test_stop_and_resume(marketer_client, provider, audience):
    campaign = Campaign.objects.create(
        name="Spring", provider=provider, audience=audience, body="Hi", status="paused"
    )
    services.queue_messages(campaign, [("+14155550001", None)])

    marketer_client.post(f"/campaigns/{campaign.pk}/resume/")
    assert Campaign.objects.get().status == CampaignStatus.SENDING
    marketer_client.post(f"/campaigns/{campaign.pk}/stop/")
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.STOPPED
    assert campaign.pause_reason == "Stopped by mark."


def test_send_a_test_to_one_number(marketer_client, provider, audience, httpserver):
    httpserver.expect_request("/sms").respond_with_json({"ok": True})
    campaign = Campaign.objects.create(
        name="Spring",
        provider=provider,
        audience=audience,
        body="Hi {first_name|friend}",
        custom_values={"hid": "H-1", "uid": "{customer_id|none}"},
    )

    page = marketer_client.post(f"/campaigns/{campaign.pk}/test/", {"number": "+1 415 555 0199"})

    sent = json.loads(httpserver.log[0][0].get_data())
    assert (sent["to"], sent["text"], sent["h"], sent["u"]) == (
        "+14155550199",
        "Hi friend",
        "H-1",
        "none",
    )
    assert "The provider accepted the message" in page.content.decode()
    assert Message.objects.count() == 0


def test_a_bad_test_number_is_shown_at_its_field(marketer_client, provider, audience, httpserver):
    campaign = Campaign.objects.create(name="S", provider=provider, audience=audience, body="Hi")
    html = marketer_client.post(f"/campaigns/{campaign.pk}/test/", {"number": "12"}).content
    assert "with its country code" in html.decode()
    assert httpserver.log == []
