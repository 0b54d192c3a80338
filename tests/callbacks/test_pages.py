"""The callback pages: event logs per campaign and per provider, and the admins' callback
requests with Reprocess (SPEC §6.5)."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from html import unescape
from itertools import count

import pytest
from django.contrib.messages import get_messages
from django.utils import timezone

from callbacks.models import CallbackRequest, Event, RequestStatus
from callbacks.pages import shown_body
from campaigns.models import Campaign, Message
from providers import message_ids
from providers.models import Provider
from tests.providers.helpers import create_generic

# Events and messages made by hand to fill the pages: no rollups to compare.
pytestmark = pytest.mark.no_rollup_check

T0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
TS = int(T0.timestamp())
_keys = count(1)


@pytest.fixture
def provider(db):
    return create_generic(None, nickname="Acme", endpoint="https://api.example.com/sms")


@pytest.fixture
def campaign(provider):
    return Campaign.objects.create(name="Spring sale", provider=provider, body="Hi", status="sent")


@pytest.fixture
def message(campaign, provider):
    return Message.objects.create(
        campaign=campaign, provider=provider, to="+14155550101", state="sent"
    )


def add_event(provider, type, ts=T0, message=None, **fields) -> Event:
    """An event row as callbacks/services.py stores it."""
    if message is not None:
        fields.setdefault("phone", message.to)
        fields.setdefault("campaign_id", message.campaign_id)
    return Event.objects.create(
        provider=provider,
        message=message,
        type=type,
        ts=ts,
        received_at=timezone.now(),
        dedup_key=f"key-{next(_keys)}",
        **fields,
    )


def add_request(provider, body, status=RequestStatus.PROCESSED, **fields) -> CallbackRequest:
    return CallbackRequest.objects.create(
        provider=provider,
        received_at=fields.pop("received_at", timezone.now()),
        content_type=fields.pop("content_type", "application/json"),
        body=body.encode() if isinstance(body, str) else body,
        status=status,
        **fields,
    )


def post_callback(client, provider, payload):
    return client.post(
        f"/callbacks/sms/{provider.callback_token}/",
        json.dumps(payload),
        content_type="application/json",
    )


def flashes(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def rows(response) -> list[str]:
    """The body rows of the page's first table, as text without tags."""
    html = response.content.decode()
    tbody = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return [
        " ".join(unescape(re.sub(r"<[^>]+>", " ", row)).split())
        for row in tbody.split("</tr>")[:-1]
    ]


def campaign_url(campaign) -> str:
    return f"/campaigns/{campaign.pk}/events/"


def provider_url(provider) -> str:
    return f"/settings/channels/sms/providers/{provider.pk}/events/"


# --- who may open what --------------------------------------------------------------------------
def test_it_sends_anonymous_visitors_to_the_login_page(client, provider, campaign):
    row = add_request(provider, "[]")
    urls = [
        campaign_url(campaign),
        provider_url(provider),
        "/settings/callbacks/",
        f"/settings/callbacks/{row.pk}/",
    ]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith("/accounts/login/?next="), url

    response = client.post(f"/settings/callbacks/{row.pk}/reprocess/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    assert CallbackRequest.objects.get().attempts == 0


def test_it_lets_marketers_read_event_logs_but_not_callback_requests(
    marketer_client, provider, campaign
):
    row = add_request(provider, "[]")

    assert marketer_client.get(campaign_url(campaign)).status_code == 200
    assert marketer_client.get(provider_url(provider)).status_code == 200
    assert marketer_client.get("/settings/callbacks/").status_code == 403
    assert marketer_client.get(f"/settings/callbacks/{row.pk}/").status_code == 403
    assert marketer_client.post(f"/settings/callbacks/{row.pk}/reprocess/").status_code == 403
    assert CallbackRequest.objects.get().attempts == 0


def test_it_lets_admins_open_every_page(admin_client, provider, campaign):
    row = add_request(provider, "[]")

    for url in [
        campaign_url(campaign),
        provider_url(provider),
        "/settings/callbacks/",
        f"/settings/callbacks/{row.pk}/",
    ]:
        assert admin_client.get(url).status_code == 200, url


def test_it_answers_404_for_unknown_ids(admin_client, marketer_client):
    assert marketer_client.get("/campaigns/999/events/").status_code == 404
    assert marketer_client.get("/settings/channels/sms/providers/999/events/").status_code == 404
    assert admin_client.get("/settings/callbacks/999/").status_code == 404
    assert admin_client.post("/settings/callbacks/999/reprocess/").status_code == 404


def test_reprocess_only_accepts_post(admin_client, provider):
    row = add_request(provider, "[]")

    assert admin_client.get(f"/settings/callbacks/{row.pk}/reprocess/").status_code == 405


# --- navigation -------------------------------------------------------------------------------
def test_it_links_callbacks_in_the_main_navigation_for_admins_only(admin_client, marketer_client):
    assert b'href="/settings/callbacks/"' in admin_client.get("/").content
    assert b'href="/settings/callbacks/"' not in marketer_client.get("/").content


def test_the_campaign_page_has_an_events_tab(marketer_client, campaign):
    detail = marketer_client.get(f"/campaigns/{campaign.pk}/").content.decode()
    assert f'<a href="/campaigns/{campaign.pk}/events/">Events</a>' in detail

    events = marketer_client.get(campaign_url(campaign)).content.decode()
    assert f'<a href="/campaigns/{campaign.pk}/">Overview</a>' in events
    assert f'<a href="{campaign_url(campaign)}" aria-current="page">Events</a>' in events


def test_the_provider_tabs_show_setup_to_admins_only(admin_client, marketer_client, provider):
    setup_url = f"/settings/channels/sms/providers/{provider.pk}/"
    setup = admin_client.get(setup_url).content.decode()
    assert f'<a href="{setup_url}" aria-current="page">Setup</a>' in setup
    assert f'<a href="{provider_url(provider)}">Events</a>' in setup

    admin_events = admin_client.get(provider_url(provider)).content.decode()
    assert f'<a href="{setup_url}">Setup</a>' in admin_events
    assert f'<a href="{provider_url(provider)}" aria-current="page">Events</a>' in admin_events

    marketer_events = marketer_client.get(provider_url(provider)).content.decode()
    assert "Setup</a>" not in marketer_events
    assert f'href="{setup_url}"' not in marketer_events
    assert 'href="/settings/channels/sms/providers/"' not in marketer_events


def test_marketers_see_the_nickname_but_no_credential_or_endpoint(marketer_client):
    provider = create_generic(
        None,
        nickname="Secretive",
        endpoint="https://hidden-endpoint.example.com/send",
        auth_type="basic",
        basic_username="api-user",
        basic_password="hunter2-password",
    )
    html = marketer_client.get(provider_url(provider)).content.decode()

    assert "Secretive" in html
    for secret in ["hidden-endpoint", "api-user", "hunter2-password", provider.callback_token]:
        assert secret not in html


# --- event logs ---------------------------------------------------------------------------------
def test_it_lists_a_campaigns_events_newest_first_with_their_details(
    marketer_client, settings, provider, campaign, message
):
    settings.TIME_ZONE = "Europe/Paris"
    add_event(provider, "delivered", T0, message, description="Delivered to handset")
    add_event(
        provider,
        "failed",
        T0 + timedelta(minutes=1),
        message,
        code="901",
        description="DND failure",
    )
    add_event(
        provider,
        "clicked",
        T0 + timedelta(minutes=2),
        message,
        url="https://shop.example/spring",
        short_url="ct9.io/1",
        properties={"wzrk_c2a": "https://shop.example/spring", "wzrk_c2a_short_url": "ct9.io/1"},
    )
    add_event(provider, "replied", T0 + timedelta(minutes=3), message, text="Thanks <3")
    add_event(provider, "status", T0 + timedelta(minutes=4), message, properties={"status": "sent"})
    other = Campaign.objects.create(name="Other", provider=provider, body="x")
    add_event(provider, "delivered", T0, campaign_id=other.pk, phone="+14155550999")

    response = marketer_client.get(campaign_url(campaign))

    assert response.status_code == 200
    assert rows(response) == [
        "2024-05-01 14:04:00 CEST Provider Status +14155550101 Acme Status sent",
        "2024-05-01 14:03:00 CEST Notification Replied +14155550101 Acme Thanks <3",
        "2024-05-01 14:02:00 CEST Notification Clicked +14155550101 Acme "
        "URL https://shop.example/spring Short URL ct9.io/1",
        "2024-05-01 14:01:00 CEST Notification Failed +14155550101 Acme 901 DND failure",
        "2024-05-01 14:00:00 CEST Notification Delivered +14155550101 Acme Delivered to handset",
    ]
    assert b"Thanks &lt;3" in response.content  # provider text is escaped
    assert b"5 events, newest first" in response.content


def test_it_filters_events_by_type(marketer_client, provider, campaign, message):
    add_event(provider, "delivered", T0, message)
    add_event(provider, "clicked", T0 + timedelta(seconds=1), message, url="https://a.example")
    add_event(provider, "clicked", T0 + timedelta(seconds=2), message, url="https://b.example")

    response = marketer_client.get(campaign_url(campaign), {"type": "clicked"})

    texts = rows(response)
    assert len(texts) == 2
    assert all("Notification Clicked" in text for text in texts)
    assert b'<option value="clicked" selected>Notification Clicked</option>' in response.content
    assert b"2 \xe2\x80\x9cNotification Clicked\xe2\x80\x9d events" in response.content


def test_an_unknown_type_shows_every_event(marketer_client, provider, campaign, message):
    add_event(provider, "delivered", T0, message)
    add_event(provider, "clicked", T0, message, url="https://a.example")

    response = marketer_client.get(campaign_url(campaign), {"type": "opened"})

    assert response.status_code == 200
    assert len(rows(response)) == 2
    assert b'<option value="" selected>All events</option>' in response.content


def test_the_filter_works_without_javascript(marketer_client, campaign):
    html = marketer_client.get(campaign_url(campaign)).content.decode()

    assert f'<form method="get" action="{campaign_url(campaign)}"' in html
    assert '<noscript><button type="submit" class="btn">Filter</button></noscript>' in html
    assert 'hx-trigger="change"' in html
    assert 'hx-push-url="true"' in html


def test_htmx_gets_the_log_region_and_the_filtered_url(
    marketer_client, provider, campaign, message
):
    add_event(provider, "clicked", T0, message, url="https://a.example")

    response = marketer_client.get(
        campaign_url(campaign), {"type": "clicked"}, headers={"HX-Request": "true"}
    )

    html = response.content.decode()
    assert html.lstrip().startswith('<div id="event-log"')
    assert "<nav" not in html  # no page around it
    assert response["HX-Push-Url"] == f"{campaign_url(campaign)}?type=clicked"

    everything = marketer_client.get(
        campaign_url(campaign), {"type": ""}, headers={"HX-Request": "true"}
    )
    assert everything["HX-Push-Url"] == campaign_url(campaign)


def test_pages_of_50_keep_the_filter(marketer_client, provider, campaign, message):
    for i in range(60):
        add_event(provider, "delivered", T0 + timedelta(seconds=i), message)
    add_event(provider, "clicked", T0, message, url="https://a.example")

    first = marketer_client.get(campaign_url(campaign), {"type": "delivered"})
    second = marketer_client.get(campaign_url(campaign), {"type": "delivered", "page": "2"})

    assert len(rows(first)) == 50
    assert b'href="?type=delivered&amp;page=2"' in first.content
    assert b"Page 1 of 2" in first.content
    assert len(rows(second)) == 10
    assert b'href="?type=delivered&amp;page=1"' in second.content
    assert "12:00:09" in rows(second)[0]  # the oldest ten, newest first
    unfiltered = marketer_client.get(campaign_url(campaign))
    assert b'href="?page=2"' in unfiltered.content


def test_it_shows_an_empty_state(marketer_client, provider, campaign):
    response = marketer_client.get(campaign_url(campaign))
    assert b"No events yet: they appear when the provider posts delivery, click and reply" in (
        response.content
    )

    filtered = marketer_client.get(provider_url(provider), {"type": "replied"})
    assert "No “Notification Replied” events" in filtered.content.decode()


def test_the_provider_log_shows_campaigns_and_unmatched_events(
    marketer_client, provider, campaign, message
):
    add_event(provider, "delivered", T0, message)
    add_event(provider, "delivered", T0 + timedelta(seconds=1), meta="forged", phone="")
    other = create_generic(None, nickname="Other", endpoint="https://api.example.org/sms")
    add_event(other, "delivered", T0)

    response = marketer_client.get(provider_url(provider))

    assert rows(response) == [
        "2024-05-01 12:00:01 UTC Notification Delivered — Unmatched —",
        "2024-05-01 12:00:00 UTC Notification Delivered +14155550101 Spring sale",
    ]
    assert response.content.count(b'class="badge badge-unmatched"') == 1


def test_an_archived_providers_events_stay_readable(marketer_client, provider):
    Provider.objects.filter(pk=provider.pk).update(archived_at=timezone.now(), is_default=False)
    add_event(provider, "delivered", T0)

    response = marketer_client.get(provider_url(provider))

    assert response.status_code == 200
    assert len(rows(response)) == 1


def test_the_event_log_costs_the_same_queries_for_many_campaigns(
    marketer_client, provider, django_assert_max_num_queries
):
    for i in range(40):
        campaign = Campaign.objects.create(name=f"C{i}", provider=provider, body="x")
        add_event(provider, "delivered", T0, campaign_id=campaign.pk)

    with django_assert_max_num_queries(8):
        response = marketer_client.get(provider_url(provider))

    assert len(rows(response)) == 40


# --- callback requests --------------------------------------------------------------------------
def test_it_lists_requests_newest_first_with_their_counts(admin_client, provider):
    add_request(
        provider,
        "[]",
        received_at=T0,
        response_status=200,
        processed_events=3,
        duplicate_events=1,
        unmatched_events=2,
    )
    add_request(
        provider,
        "{bad",
        status=RequestStatus.REJECTED,
        received_at=T0 + timedelta(minutes=1),
        response_status=400,
        error="The body is not valid JSON.",
    )

    response = admin_client.get("/settings/callbacks/")

    assert rows(response) == [
        "2024-05-01 12:01:00 UTC Acme Rejected 400 0 0 0 The body is not valid JSON.",
        "2024-05-01 12:00:00 UTC Acme Processed 200 3 1 2 —",
    ]
    assert b'class="badge badge-rejected"' in response.content


def test_it_filters_requests_by_provider_and_status(admin_client, provider):
    other = create_generic(None, nickname="Other", endpoint="https://api.example.org/sms")
    add_request(provider, "[]", received_at=T0)
    add_request(provider, "[]", status=RequestStatus.FAILED, received_at=T0)
    add_request(other, "[]", status=RequestStatus.FAILED, received_at=T0)

    by_provider = admin_client.get("/settings/callbacks/", {"provider": other.pk})
    by_status = admin_client.get("/settings/callbacks/", {"status": "failed"})
    both = admin_client.get("/settings/callbacks/", {"provider": provider.pk, "status": "failed"})
    unknown = admin_client.get("/settings/callbacks/", {"provider": "999"})

    assert [r.split()[3] for r in rows(by_provider)] == ["Other"]
    assert sorted(r.split()[3] for r in rows(by_status)) == ["Acme", "Other"]
    assert [r.split()[3:5] for r in rows(both)] == [["Acme", "Failed"]]
    assert len(rows(unknown)) == 3


def test_htmx_gets_the_request_log_region_and_the_filtered_url(admin_client, provider):
    add_request(provider, "[]", status=RequestStatus.FAILED)

    response = admin_client.get(
        "/settings/callbacks/", {"provider": "", "status": "failed"}, headers={"HX-Request": "true"}
    )

    assert response.content.decode().lstrip().startswith('<div id="request-log"')
    assert response["HX-Push-Url"] == "/settings/callbacks/?status=failed"
    assert len(rows(response)) == 1


def test_request_pages_keep_the_filters(admin_client, provider):
    CallbackRequest.objects.bulk_create(
        CallbackRequest(
            provider=provider,
            received_at=T0 + timedelta(seconds=i),
            body=b"[]",
            status=RequestStatus.FAILED,
        )
        for i in range(55)
    )

    response = admin_client.get(
        "/settings/callbacks/", {"provider": provider.pk, "status": "failed"}
    )

    assert len(rows(response)) == 50
    assert f'href="?provider={provider.pk}&amp;status=failed&amp;page=2"'.encode() in (
        response.content
    )


def test_it_shows_a_request_with_its_body_and_events(admin_client, provider, message):
    body = json.dumps([{"event": "delivered", "data": [{"ts": TS, "meta": "m"}]}])
    row = add_request(
        provider,
        body,
        query="a=1",
        url=f"http://testserver/callbacks/sms/{provider.callback_token}/",
        response_status=200,
        processed_events=1,
    )
    add_event(provider, "delivered", T0, message, request=row)

    response = admin_client.get(f"/settings/callbacks/{row.pk}/")

    html = response.content.decode()
    assert '<pre class="code-block request-body"' in html
    assert "&quot;event&quot;: &quot;delivered&quot;,\n" in html  # pretty-printed
    assert "application/json" in html
    assert "a=1" in html
    assert "Spring sale" in html
    assert rows(response) == [
        "2024-05-01 12:00:00 UTC Notification Delivered +14155550101 Spring sale"
    ]
    assert provider.callback_token not in html  # the URL it was posted to holds the secret


def test_a_body_that_is_not_json_is_shown_as_text():
    assert shown_body(b"To=%2B1415&Body=<b>hi</b>").text == "To=%2B1415&Body=<b>hi</b>"
    assert shown_body(b'{"a":[1,2]}').text == '{\n  "a": [\n    1,\n    2\n  ]\n}'
    assert shown_body(b"\xff\xfeok").text == "\ufffd\ufffdok"
    long = shown_body(b"x" * 150_000)
    assert (len(long.text), long.truncated, long.size) == (100_000, True, 150_000)


def test_it_escapes_a_body_that_is_not_json(admin_client, provider):
    row = add_request(
        provider, "Body=<script>alert(1)</script>", content_type="application/x-www-form-urlencoded"
    )

    html = admin_client.get(f"/settings/callbacks/{row.pk}/").content.decode()

    assert "Body=&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script>alert(1)" not in html


# --- reprocess ------------------------------------------------------------------------------------
def test_reprocessing_a_processed_request_records_nothing_new(admin_client, provider, message):
    payload = [{"event": "delivered", "data": [
        {"ts": TS, "meta": message_ids.sign(message.id), "description": "ok"},
        {"ts": TS, "meta": "not-ours", "description": "ok"},
    ]}]  # fmt: skip
    assert post_callback(admin_client, provider, payload).status_code == 200
    row = CallbackRequest.objects.get()
    assert Event.objects.count() == 2

    response = admin_client.post(f"/settings/callbacks/{row.pk}/reprocess/", follow=True)

    assert response.redirect_chain == [(f"/settings/callbacks/{row.pk}/", 302)]
    assert flashes(response) == [
        "Reprocessed: 2 events processed, 2 duplicates (already recorded), 1 unmatched."
    ]
    assert Event.objects.count() == 2
    row.refresh_from_db()
    assert (row.status, row.duplicate_events, row.attempts) == (RequestStatus.PROCESSED, 2, 2)
    assert b"Events already recorded count as duplicates" in response.content


def test_reprocessing_a_failed_request_records_its_events(admin_client, provider, message):
    payload = [{"event": "failed", "data": [
        {"ts": TS, "meta": message_ids.sign(message.id), "code": "901", "description": "x"}
    ]}]  # fmt: skip
    row = add_request(provider, json.dumps(payload), status=RequestStatus.FAILED, error="boom")

    response = admin_client.post(f"/settings/callbacks/{row.pk}/reprocess/")

    assert response.status_code == 302
    assert flashes(response) == [
        "Reprocessed: 1 event processed, 0 duplicates (already recorded), 0 unmatched."
    ]
    event = Event.objects.get()
    assert (event.type, event.code, event.message_id, event.request_id) == (
        "failed",
        "901",
        message.pk,
        row.pk,
    )
    row.refresh_from_db()
    assert (row.status, row.response_status, row.processed_events, row.error) == (
        RequestStatus.PROCESSED,
        200,
        1,
        "",
    )
    message.refresh_from_db()
    assert message.outcome == "failed"


def test_reprocessing_a_bad_request_says_it_was_rejected(admin_client, provider):
    row = add_request(provider, "{not json", status=RequestStatus.FAILED)

    response = admin_client.post(f"/settings/callbacks/{row.pk}/reprocess/")

    [flash] = flashes(response)
    assert flash.startswith("Reprocessed: rejected (HTTP 400). ")
    assert flash.endswith("Nothing from it was recorded.")
    row.refresh_from_db()
    assert row.status == RequestStatus.REJECTED
    assert not Event.objects.exists()


def test_a_failure_while_reprocessing_keeps_the_request(admin_client, provider, monkeypatch):
    from callbacks import intake

    row = add_request(provider, "[]", status=RequestStatus.FAILED)

    def broken(row_id):
        raise RuntimeError("database went away")

    monkeypatch.setattr(intake, "reprocess", broken)

    response = admin_client.post(f"/settings/callbacks/{row.pk}/reprocess/")

    assert response.status_code == 302
    assert flashes(response) == ["Reprocessing failed on our side (RuntimeError). Try again later."]
    row.refresh_from_db()
    assert row.status == RequestStatus.FAILED
