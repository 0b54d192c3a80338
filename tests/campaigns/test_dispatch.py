"""The dispatch engine against a real local HTTP server standing in for the provider
(SPEC §3.4): claims, outcomes, retries, authentication holds, auto-pause, set-based writes."""

from __future__ import annotations

import json
import threading
import time
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.utils import timezone
from werkzeug import Response

from campaigns import dispatch, services
from campaigns.models import Campaign, CampaignStatus, DispatchReason, Message, MessageState
from providers import message_ids
from providers.models import Provider, ProviderPace
from tests.providers.helpers import ACCOUNT_SID, create_generic, create_twilio

from .helpers import BATCH_JSON, make_due, numbers, run, sending_campaign, states


@pytest.fixture(autouse=True)
def _fresh_cache(db):
    cache.clear()


def generic(httpserver, path="/sms", **fields):
    return create_generic(None, endpoint=httpserver.url_for(path), **fields)


def batching(httpserver, size=100, **fields):
    return generic(
        httpserver,
        json_body=BATCH_JSON,
        batching=True,
        batch_key="msgs",
        records_per_batch=size,
        **fields,
    )


def sent_bodies(httpserver):
    return [json.loads(request.get_data()) for request, _ in httpserver.log]


def messages_of(campaign):
    return list(Message.objects.filter(campaign=campaign).order_by("id"))


def test_it_sends_250_batched_messages_in_requests_of_100_100_50(httpserver):
    httpserver.expect_request("/sms", method="POST").respond_with_json({"accepted": True})
    campaign = sending_campaign(
        batching(httpserver), 250, body="Sale!", custom_values={"hid": "H-7"}
    )

    run(campaign)

    bodies = sent_bodies(httpserver)
    assert [len(b["msgs"]) for b in bodies] == [100, 100, 50]
    assert [b["hid"] for b in bodies] == ["H-7"] * 3
    sent = [item for b in bodies for item in b["msgs"]]
    assert [item["to"] for item in sent] == numbers(250)
    assert {item["text"] for item in sent} == {"Sale!"}
    rows = messages_of(campaign)
    assert [message_ids.verify(item["mid"]) for item in sent] == [m.id for m in rows]
    assert states(campaign) == {MessageState.SENT: 250}
    assert all(m.attempts == 1 and m.sent_at and m.next_attempt_at is None for m in rows)


def test_it_sends_one_request_per_message_without_batching(httpserver):
    httpserver.expect_request("/sms").respond_with_json({"ok": True})
    campaign = sending_campaign(generic(httpserver), 3, body="Hi")

    run(campaign)

    bodies = sent_bodies(httpserver)
    assert [b["to"] for b in bodies] == numbers(3)
    assert [message_ids.verify(b["ref"]) for b in bodies] == [m.id for m in messages_of(campaign)]
    assert states(campaign) == {MessageState.SENT: 3}


def test_it_fills_custom_replacements_for_the_campaign_and_per_recipient(httpserver):
    httpserver.expect_request("/sms").respond_with_data("OK")
    provider = generic(
        httpserver,
        json_body='{"to": "$$To", "t": "$$Body", "h": "$$hid", '
        '"u": "$$uid", "c": "$$CampaignID", "tpl": "$$TemplateID"}',
    )
    campaign = sending_campaign(
        provider,
        2,
        custom_values={"hid": "H-1", "uid": "{uid}"},
        values=lambda i: {"uid": f"user-{i}"},
        template_id="T-9",
    )

    run(campaign)

    assert [(b["h"], b["u"], b["c"], b["tpl"]) for b in sent_bodies(httpserver)] == [
        ("H-1", "user-0", str(campaign.pk), "T-9"),
        ("H-1", "user-1", str(campaign.pk), "T-9"),
    ]


def test_it_personalises_the_template_variables_of_each_message_of_a_batch(httpserver):
    httpserver.expect_request("/sms").respond_with_data("OK")
    provider = generic(
        httpserver,
        json_body='{"tpl": "$$TemplateID", "msgs": [{"to": "$$To", "v": "$$TemplateVariables"}]}',
        batching=True,
        batch_key="msgs",
        records_per_batch=100,
    )
    names = ["Ada", "", None]
    campaign = sending_campaign(
        provider,
        3,
        template_id="T-9",
        template_variables="{first_name|friend};{code}",
        values=lambda i: {"code": f"C-{i}", **({"first_name": names[i]} if names[i] else {})},
    )

    run(campaign)

    (body,) = sent_bodies(httpserver)
    assert body["tpl"] == "T-9"
    assert body["msgs"] == [
        {"to": numbers(3)[0], "v": "Ada;C-0"},
        {"to": numbers(3)[1], "v": "friend;C-1"},
        {"to": numbers(3)[2], "v": "friend;C-2"},
    ]
    assert states(campaign) == {MessageState.SENT: 3}


def test_template_variables_saved_before_they_were_personalised_go_out_as_typed(httpserver):
    """A draft saved earlier with bare braces (a JSON object), which the form now refuses,
    is sent as it was then rather than failing every message."""
    httpserver.expect_request("/sms").respond_with_data("OK")
    json_body = '{"to": "$$To", "t": "$$TemplateID", "v": "$$TemplateVariables"}'
    provider = generic(httpserver, json_body=json_body)
    legacy = '{"otp": "1234"}'
    campaign = sending_campaign(provider, 2, template_id="T-9", template_variables=legacy)

    run(campaign)

    assert [body["v"] for body in sent_bodies(httpserver)] == [legacy, legacy]
    assert states(campaign) == {MessageState.SENT: 2}


def test_it_retries_a_500_later_with_backoff_then_counts_it_sent(httpserver, settings):
    httpserver.expect_ordered_request("/sms").respond_with_data("busy", status=500)
    httpserver.expect_ordered_request("/sms").respond_with_json({"ok": True})
    campaign = sending_campaign(generic(httpserver))
    before = timezone.now()

    run(campaign)

    (message,) = messages_of(campaign)
    assert message.state == MessageState.QUEUED
    assert message.attempts == 1
    assert (message.last_status, message.last_error) == (500, "HTTP 500: busy")
    wait = (message.next_attempt_at - before).total_seconds()
    assert 0.8 * settings.DISPATCH_BACKOFF_BASE <= wait <= 1.2 * settings.DISPATCH_BACKOFF_BASE + 5
    assert len(httpserver.log) == 1  # not retried before it falls due

    make_due(campaign)
    run(campaign)

    message.refresh_from_db()
    assert (message.state, message.attempts, message.last_status) == (MessageState.SENT, 2, 200)
    assert message.last_error == ""
    assert len(httpserver.log) == 2


def test_it_waits_at_least_what_retry_after_asks(httpserver):
    httpserver.expect_request("/sms").respond_with_response(
        Response("slow down", status=429, headers={"Retry-After": "300"})
    )
    campaign = sending_campaign(generic(httpserver))
    before = timezone.now()

    run(campaign)

    (message,) = messages_of(campaign)
    assert message.state == MessageState.QUEUED
    assert (message.next_attempt_at - before).total_seconds() >= 300


def test_it_does_not_retry_a_400_and_keeps_its_status_and_body(httpserver):
    httpserver.expect_request("/sms").respond_with_data("invalid number " + "x" * 600, status=400)
    campaign = sending_campaign(generic(httpserver))

    run(campaign)
    make_due(campaign)
    run(campaign)

    (message,) = messages_of(campaign)
    assert (message.state, message.reason) == (MessageState.DISPATCH_ERROR, DispatchReason.REJECTED)
    assert message.last_status == 400
    assert message.last_error.startswith("HTTP 400: invalid number xxx")
    assert len(message.last_error) == 500
    assert message.next_attempt_at is None
    assert len(httpserver.log) == 1
    provider = Provider.objects.get()
    assert provider.last_error.startswith("HTTP 400: invalid number")
    assert provider.last_error_at is not None


def test_it_gives_up_after_the_attempt_limit(httpserver, settings):
    settings.DISPATCH_MAX_ATTEMPTS = 3
    httpserver.expect_request("/sms").respond_with_data("down", status=503)
    campaign = sending_campaign(generic(httpserver))

    for _ in range(5):
        run(campaign)
        make_due(campaign)

    (message,) = messages_of(campaign)
    assert message.state == MessageState.DISPATCH_ERROR
    assert message.reason == DispatchReason.RETRIES_EXHAUSTED
    assert (message.attempts, message.last_status) == (3, 503)
    assert len(httpserver.log) == 3


def test_it_retries_a_timeout(httpserver, settings):
    settings.HTTP_READ_TIMEOUT = 0.2
    answered = threading.Event()

    def slow(request):
        time.sleep(0.5)
        answered.set()
        return Response("late")

    httpserver.expect_request("/sms").respond_with_handler(slow)
    campaign = sending_campaign(generic(httpserver))

    run(campaign)

    (message,) = messages_of(campaign)
    assert message.state == MessageState.QUEUED
    assert message.last_status is None
    assert message.last_error.startswith("Request timed out")
    answered.wait(2)  # the server's late answer must not land in the next test's log


def test_it_retries_a_refused_connection(db):
    provider = create_generic(None, endpoint="http://127.0.0.1:9/sms")
    campaign = sending_campaign(provider)

    run(campaign)

    (message,) = messages_of(campaign)
    assert message.state == MessageState.QUEUED
    assert message.last_error.startswith("Request could not connect")


def oauth_provider(httpserver, **fields):
    return generic(
        httpserver,
        auth_type="oauth2",
        oauth_client_url=httpserver.url_for("/token"),
        oauth_client_id="client-1",
        oauth_secret_key="oauth-secret",
        **fields,
    )


def test_it_fetches_one_oauth_token_for_all_batches(httpserver):
    httpserver.expect_request("/token").respond_with_json(
        {"access_token": "tok-1", "expires_in": 3600}
    )
    httpserver.expect_request("/sms").respond_with_json({"ok": True})
    provider = oauth_provider(
        httpserver, json_body=BATCH_JSON, batching=True, batch_key="msgs", records_per_batch=100
    )
    campaign = sending_campaign(provider, 250, custom_values={"hid": "H"})

    run(campaign)

    paths = [request.path for request, _ in httpserver.log]
    assert paths == ["/token", "/sms", "/sms", "/sms"]
    assert {r.headers["Authorization"] for r, _ in httpserver.log[1:]} == {"Bearer tok-1"}
    assert states(campaign) == {MessageState.SENT: 250}


def test_it_holds_messages_while_the_token_endpoint_fails_then_sends_them(httpserver, settings):
    httpserver.expect_ordered_request("/token").respond_with_data("down", status=503)
    campaign = sending_campaign(oauth_provider(httpserver), 3)
    before = timezone.now()

    run(campaign)

    rows = messages_of(campaign)
    assert {(m.state, m.reason, m.attempts) for m in rows} == {
        (MessageState.DISPATCH_ERROR, DispatchReason.AUTHENTICATION, 0)
    }
    wait = (rows[0].next_attempt_at - before).total_seconds()
    assert (
        settings.DISPATCH_AUTH_RETRY_INTERVAL <= wait <= settings.DISPATCH_AUTH_RETRY_INTERVAL + 5
    )
    provider = Provider.objects.get()
    assert provider.auth_failing_since is not None
    assert "Authentication failing" in provider.last_error
    assert [r.path for r, _ in httpserver.log] == ["/token"]  # nothing reached /sms

    httpserver.expect_ordered_request("/token").respond_with_json({"access_token": "tok-2"})
    httpserver.expect_request("/sms").respond_with_json({"ok": True})
    make_due(campaign)
    run(campaign)

    assert states(campaign) == {MessageState.SENT: 3}
    assert {m.attempts for m in messages_of(campaign)} == {1}
    assert Provider.objects.get().auth_failing_since is None


def test_it_stops_holding_messages_when_the_authentication_window_ends(httpserver):
    httpserver.expect_request("/token").respond_with_data("down", status=503)
    campaign = sending_campaign(oauth_provider(httpserver), 2)
    run(campaign)
    Message.objects.filter(campaign=campaign).update(
        first_attempt_at=timezone.now() - timedelta(minutes=59)
    )

    make_due(campaign)
    run(campaign)

    rows = messages_of(campaign)
    assert {(m.state, m.reason) for m in rows} == {
        (MessageState.DISPATCH_ERROR, DispatchReason.AUTHENTICATION)
    }
    assert {m.next_attempt_at for m in rows} == {None}


def test_it_stores_the_twilio_sid_and_turns_twilio_errors_into_dispatch_errors(
    httpserver, settings
):
    settings.TWILIO_API_BASE = httpserver.url_for("").rstrip("/")
    path = f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"
    httpserver.expect_ordered_request(path).respond_with_json({"sid": "SM-1"}, status=201)
    httpserver.expect_ordered_request(path).respond_with_json(
        {"code": 21211, "message": "The 'To' number is not valid."}, status=400
    )
    provider = create_twilio()
    campaign = sending_campaign(provider, 2, body="Hi there")

    run(campaign)

    first, second = messages_of(campaign)
    assert (first.state, first.provider_message_id) == (MessageState.SENT, "SM-1")
    assert (second.state, second.reason) == (MessageState.DISPATCH_ERROR, DispatchReason.REJECTED)
    assert second.last_error == "Twilio error 21211: The 'To' number is not valid."
    request = httpserver.log[0][0]
    assert request.form["Body"] == "Hi there"
    meta = request.form["StatusCallback"].split("meta=", 1)[1]
    assert message_ids.verify(meta) == first.id


def test_it_marks_messages_it_cannot_render(httpserver):
    provider = generic(httpserver, json_body='{"to": "$$To", "t": "$$Body", "u": "$$uid"}')
    campaign = sending_campaign(provider, 2)  # no value for $$uid

    run(campaign)

    assert {(m.state, m.reason) for m in messages_of(campaign)} == {
        (MessageState.DISPATCH_ERROR, DispatchReason.NOT_RENDERED)
    }
    assert "uid" in messages_of(campaign)[0].last_error
    assert httpserver.log == []


def test_it_pauses_a_campaign_whose_attempts_mostly_fail(httpserver, settings):
    settings.AUTO_PAUSE_WINDOW = 10
    settings.DISPATCH_GROUP_SIZE = 5
    httpserver.expect_request("/sms").respond_with_data("broken", status=500)
    campaign = sending_campaign(generic(httpserver), 30)

    run(campaign)

    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.PAUSED
    assert campaign.pause_reason.startswith("Paused automatically: 10 of the last 10 attempts")
    assert campaign.pause_reason.endswith("Last outcome: Refused by the provider: HTTP 500.")
    assert "broken" not in campaign.pause_reason  # the answer is for admins (SPEC §8)
    assert len(httpserver.log) == 10  # two groups of 5, then no more claims
    assert states(campaign) == {MessageState.QUEUED: 30}

    services.resume(campaign)
    campaign.refresh_from_db()
    assert (campaign.status, campaign.recent_outcomes) == (CampaignStatus.SENDING, "")


def test_it_does_not_pause_when_errors_stay_under_the_threshold(httpserver, settings):
    settings.AUTO_PAUSE_WINDOW = 10
    replies = iter([500, 200] * 20)
    httpserver.expect_request("/sms").respond_with_handler(
        lambda request: Response("x", status=next(replies))
    )
    campaign = sending_campaign(generic(httpserver), 20)

    run(campaign)

    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.SENDING
    assert states(campaign) == {MessageState.SENT: 10, MessageState.QUEUED: 10}


def test_a_paused_or_stopped_campaign_sends_nothing(httpserver):
    campaign = sending_campaign(generic(httpserver), 3)
    services.pause(campaign, "Paused by Mark")
    run(campaign)
    assert httpserver.log == []

    assert services.stop(campaign, "Stopped by Mark") == 3
    assert states(campaign) == {MessageState.SKIPPED: 3}
    assert Campaign.objects.get().status == CampaignStatus.STOPPED


def test_a_campaign_with_nothing_left_is_sent(httpserver):
    httpserver.expect_request("/sms").respond_with_json({"ok": True})
    campaign = sending_campaign(generic(httpserver), 2)
    assert services.finish_if_done(campaign.pk) is False

    run(campaign)

    assert services.finish_if_done(campaign.pk) is True
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.SENT and campaign.finished_at


def test_claims_never_overlap(httpserver):
    campaign = sending_campaign(generic(httpserver), 5)

    first = dispatch.claim(campaign.pk, 0, 2**62, 3)
    second = dispatch.claim(campaign.pk, 0, 2**62, 3)

    assert len(first) == 3 and len(second) == 2
    assert not {c.id for c in first} & {c.id for c in second}
    assert dispatch.claim(campaign.pk, 0, 2**62, 3) == []
    assert states(campaign) == {MessageState.SENDING: 5}


def test_a_group_costs_the_same_queries_whatever_its_size(
    httpserver, django_assert_max_num_queries
):
    httpserver.expect_request("/sms").respond_with_json({"ok": True})
    provider = batching(httpserver, size=1000)
    small = sending_campaign(provider, 10, custom_values={"hid": "h"})
    large = sending_campaign(provider, 1000, custom_values={"hid": "h"})

    with django_assert_max_num_queries(20) as small_queries:
        run(small)
    with django_assert_max_num_queries(20) as large_queries:
        run(large)

    assert len(large_queries.captured_queries) == len(small_queries.captured_queries)
    assert states(large) == {MessageState.SENT: 1000}


def test_it_paces_a_rate_limited_provider_through_the_shared_slots(httpserver):
    httpserver.expect_request("/sms").respond_with_json({"ok": True})
    provider = generic(httpserver, rate_limit="1000")
    campaign = sending_campaign(provider, 5)
    before = time.time()

    run(campaign)

    pace = ProviderPace.objects.get(provider=provider)
    assert before + 5 / 1000 <= pace.next_slot <= time.time() + 5 / 1000
    assert states(campaign) == {MessageState.SENT: 5}


def test_the_provider_pages_show_its_health(admin_client, httpserver):
    httpserver.expect_request("/token").respond_with_data("down", status=503)
    provider = oauth_provider(httpserver)
    run(sending_campaign(provider, 1))

    setup = admin_client.get(provider.get_absolute_url()).content.decode()
    listing = admin_client.get("/settings/channels/sms/providers/").content.decode()

    assert "Authentication failing</strong> since" in setup
    assert "tried again every 2 minutes, for up to 60 minutes" in setup
    assert "Authentication failing</span>" in listing
    assert "Authentication failing: token endpoint answered HTTP 503" in listing


def test_the_provider_list_shows_the_last_error_and_when(admin_client, httpserver):
    httpserver.expect_request("/sms").respond_with_data("no credit left", status=402)
    provider = generic(httpserver)
    run(sending_campaign(provider, 1))

    listing = admin_client.get("/settings/channels/sms/providers/").content.decode()
    setup = admin_client.get(provider.get_absolute_url()).content.decode()

    assert "HTTP 402: no credit left" in listing
    assert '<span class="muted">now</span>' in listing
    assert "Last error now" in setup


def test_a_group_answered_with_a_retry_after_its_campaign_stopped_is_skipped(
    httpserver, monkeypatch
):
    """The campaign is stopped while its group is at the provider, which answers 500: the
    retry that answer asks for never comes (claims take sending campaigns only), so the
    group is skipped with the rest, not left queued."""
    httpserver.expect_request("/sms").respond_with_data("busy", status=500)
    campaign = sending_campaign(generic(httpserver), 3)
    send_claimed = dispatch.send_claimed

    def stopped_meanwhile(*args, **kwargs):
        attempts = send_claimed(*args, **kwargs)
        services.stop(Campaign.objects.get(pk=campaign.pk), "Stopped by a marketer.")
        return attempts

    monkeypatch.setattr(dispatch, "send_claimed", stopped_meanwhile)
    run(campaign)

    assert states(campaign) == {MessageState.SKIPPED: 3}
    assert not Message.objects.filter(campaign=campaign, next_attempt_at__isnull=False).exists()


def test_a_record_the_database_refuses_for_a_moment_is_written_once_it_is_back(
    httpserver, monkeypatch
):
    """The outcomes of a group already sent exist only in the worker's memory: a record
    that meets an unreachable database is tried again, and is written once. (The new
    connection it opens is proven by the fault suite's PostgreSQL restart; here the test's
    own transaction must stay open.)"""
    from django.db import OperationalError

    httpserver.expect_request("/sms").respond_with_json({"accepted": True})
    campaign = sending_campaign(generic(httpserver), 2)
    record, failures = dispatch.record, []

    def flaky_record(*args, **kwargs):
        if not failures:
            failures.append(1)
            raise OperationalError("terminating connection due to administrator command")
        return record(*args, **kwargs)

    monkeypatch.setattr(dispatch, "record", flaky_record)
    monkeypatch.setattr(dispatch.time, "sleep", lambda seconds: None)
    monkeypatch.setattr(dispatch.connection, "close", lambda: None)
    run(campaign)

    assert failures == [1]
    assert states(campaign) == {MessageState.SENT: 2}
    assert len(httpserver.log) == 2  # nothing sent again
