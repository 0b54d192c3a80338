"""Generic JSON callbacks end to end through the endpoint (SPEC §6.1 to §6.5)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from audiences.models import OptOut
from callbacks.models import CallbackRequest, Event, RequestStatus
from campaigns.models import Campaign, DispatchReason, Message, MessageState
from providers import message_ids
from tests.providers.helpers import create_generic
from tests.rollups import settle

TS = 1_700_000_000
SENT = datetime.fromtimestamp(TS - 60, tz=UTC)


@pytest.fixture
def provider(db):
    return create_generic(None, nickname="Acme", endpoint="https://api.example.com/sms")


@pytest.fixture
def sent(provider):
    """Three messages of one campaign, sent."""
    campaign = Campaign.objects.create(name="Spring", provider=provider, body="Hi")
    Message.objects.bulk_create(
        Message(
            campaign=campaign, provider=provider, to=f"+1415555000{i}", state="sent", sent_at=SENT
        )
        for i in range(1, 4)
    )
    settle()
    return list(Message.objects.order_by("id"))


def meta(message) -> str:
    return message_ids.sign(message.id)


def post(client, provider, payload, **extra):
    body = payload if isinstance(payload, (bytes, str)) else json.dumps(payload)
    return client.post(
        f"/callbacks/sms/{provider.callback_token}/",
        body,
        content_type="application/json",
        **extra,
    )


def delivered(message, ts=TS, description="Delivered to handset"):
    return {"ts": ts, "meta": meta(message), "description": description}


def test_it_records_every_event_type_and_answers_the_exact_shape(client, provider, sent):
    first, second, third = sent
    payload = [
        {"event": "delivered", "data": [delivered(first)]},
        {"event": "failed", "data": [
            {"ts": TS, "meta": meta(second), "code": "901", "description": "sender blocked"}
        ]},
        {"event": "clicked", "data": [
            {"ts": TS + 5, "meta": meta(first), "url": "https://shop.example",
             "shorturl": "ct9.io/1", "extra": "ignored"}
        ]},
        {"event": "replied", "data": [
            {"ts": TS + 9, "meta": meta(third), "incomingText": "  Thanks! " + "x" * 600,
             "toPhone": "5555"}
        ]},
    ]  # fmt: skip

    response = post(client, provider, payload)

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "success"
    assert body["message"] == "Callback processed successfully"
    assert body["data"]["processed_events"] == 4
    assert body["data"]["duplicate_events"] == 0
    assert body["data"]["unmatched_events"] == 0
    assert isinstance(body["data"]["timestamp"], int)
    events = {e.type: e for e in Event.objects.all()}
    assert events["failed"].code == "901"
    assert events["failed"].description == "DND failure"  # the reference description
    assert events["clicked"].properties == {
        "wzrk_c2a": "https://shop.example",
        "wzrk_c2a_short_url": "ct9.io/1",
    }
    assert events["replied"].text == ("Thanks! " + "x" * 600)[:512]
    assert events["delivered"].ts == datetime.fromtimestamp(TS, tz=UTC)
    assert events["delivered"].campaign_id == first.campaign_id
    outcomes = dict(Message.objects.values_list("id", "outcome"))
    assert outcomes == {first.id: "delivered", second.id: "failed", third.id: ""}
    request = CallbackRequest.objects.get()
    assert (request.status, request.response_status, request.processed_events) == (
        RequestStatus.PROCESSED,
        200,
        4,
    )


def test_a_single_object_and_millisecond_timestamps_are_accepted(client, provider, sent):
    payload = {"event": "delivered", "data": [delivered(sent[0], ts=str(TS * 1000))]}

    assert post(client, provider, payload).status_code == 200

    assert Event.objects.get().ts == datetime.fromtimestamp(TS, tz=UTC)


def test_an_event_received_twice_counts_once(client, provider, sent):
    payload = [{"event": "delivered", "data": [delivered(sent[0]), delivered(sent[0])]}]

    first = post(client, provider, payload).json()["data"]
    again = post(client, provider, payload).json()["data"]

    assert (first["processed_events"], first["duplicate_events"]) == (2, 1)
    assert (again["processed_events"], again["duplicate_events"]) == (2, 2)
    assert Event.objects.count() == 1


def test_the_later_of_delivered_and_failed_wins_in_any_order(client, provider, sent):
    message = sent[0]
    failed = {"ts": TS + 10, "meta": meta(message), "code": "914", "description": "x"}
    post(client, provider, [{"event": "failed", "data": [failed]}])
    post(client, provider, [{"event": "delivered", "data": [delivered(message, ts=TS)]}])

    message.refresh_from_db()
    assert (message.outcome, message.outcome_at.timestamp()) == ("failed", TS + 10)
    assert Event.objects.count() == 2  # both kept as events

    post(client, provider, [{"event": "delivered", "data": [delivered(message, ts=TS + 20)]}])
    message.refresh_from_db()
    assert message.outcome == "delivered"


def test_a_forged_or_foreign_meta_is_stored_unmatched(client, provider, sent):
    other = create_generic(None, nickname="Other", endpoint="https://api.example.org/sms")
    foreign = Message.objects.create(
        campaign=Campaign.objects.create(name="X", provider=other, body="x"),
        provider=other,
        to="+14155550009",
    )
    token = meta(sent[0])
    altered = token[:20] + ("B" if token[20] == "A" else "A") + token[21:]
    records = [
        {"ts": TS, "meta": altered, "description": "d"},
        {"ts": TS, "meta": "not-a-token", "description": "d"},
        {"ts": TS, "meta": meta(foreign), "description": "d"},  # another provider's
    ]

    body = post(client, provider, [{"event": "delivered", "data": records}]).json()

    assert body["data"]["unmatched_events"] == 3
    assert Event.objects.filter(message__isnull=True).count() == 3
    assert not Message.objects.exclude(outcome="").exists()


@pytest.mark.parametrize(
    ("payload", "missing"),
    [
        ([{"event": "delivered", "data": [{"ts": TS, "description": "d"}]}], ["meta"]),
        ([{"event": "failed", "data": [{"ts": TS, "meta": "m"}]}], ["code", "description"]),
        ([{"event": "clicked", "data": [{"meta": "m"}]}], ["ts", "url"]),
        ([{"event": "replied", "data": [{"ts": TS, "meta": "m"}]}], ["incomingText"]),
        ([{"data": []}], ["event"]),
        ([{"event": "delivered"}], ["data"]),
    ],
)
def test_a_missing_key_is_a_400_naming_every_missing_field(
    client, provider, sent, payload, missing
):
    good = {"event": "delivered", "data": [delivered(sent[0])]}

    response = post(client, provider, [good, *payload])

    assert response.status_code == 400
    body = response.json()
    assert body["status"] == "error"
    assert body["message"] == "Bad request. Some mandatory parameter was missing."
    assert body["error_code"] == 400
    assert body["details"]["missing_fields"] == missing
    assert isinstance(body["details"]["timestamp"], int)
    assert Event.objects.count() == 0  # the good record of a refused request counts neither
    assert not Message.objects.exclude(outcome="").exists()
    assert CallbackRequest.objects.get().status == RequestStatus.REJECTED


@pytest.mark.parametrize(
    ("payload", "says"),
    [
        (b"{not json", "not valid JSON"),
        ([{"event": "opened", "data": []}], "Unknown event 'opened'"),
        ([{"event": "delivered", "data": [{"ts": "soon", "meta": "m", "description": "d"}]}],
         "'ts' must be a Unix timestamp"),
        ([{"event": "delivered", "data": {"ts": TS}}], "must be an array"),
        ([{"event": "failed", "data": [{"ts": TS, "meta": "m", "code": {"x": 1},
                                        "description": "d"}]}], "'code' must be a string"),
    ],
)  # fmt: skip
def test_malformed_requests_are_400_saying_what_is_wrong(client, provider, payload, says):
    response = post(client, provider, payload)

    assert response.status_code == 400
    assert says in response.json()["message"]
    assert response.json()["details"]["missing_fields"] == []
    assert Event.objects.count() == 0


def test_unknown_tokens_methods_and_sizes_are_refused(client, provider, settings):
    assert client.post("/callbacks/sms/nope-nope-nope/", "[]", content_type="x").status_code == 404
    response = client.get(f"/callbacks/sms/{provider.callback_token}/")
    assert response.status_code == 405
    assert response["Allow"] == "POST"
    assert response.json() == {
        "status": "error",
        "message": "Method Not Allowed",
        "error_code": 405,
    }

    settings.CALLBACK_MAX_BYTES = 100
    assert post(client, provider, b"[" + b" " * 200 + b"]").status_code == 413

    settings.CALLBACK_MAX_BYTES = 5_000_000
    settings.CALLBACK_MAX_RECORDS = 2
    records = [{"ts": TS, "meta": "m", "description": "d"}] * 3
    assert post(client, provider, [{"event": "delivered", "data": records}]).status_code == 413


def test_a_rotated_token_no_longer_works(client, provider, sent):
    from providers import services

    old = provider.callback_token
    services.rotate_callback_token(provider, None)

    response = client.post(f"/callbacks/sms/{old}/", "[]", content_type="application/json")

    assert response.status_code == 404


def test_callbacks_need_no_login_and_no_csrf(provider, sent):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    payload = [{"event": "delivered", "data": [delivered(sent[0])]}]
    assert post(strict, provider, payload).status_code == 200


def test_a_stop_reply_opts_the_number_out_and_start_back_in(client, provider, sent):
    message = sent[0]
    stop = {"ts": TS, "meta": meta(message), "incomingText": " stop "}
    post(client, provider, [{"event": "replied", "data": [stop]}])
    assert OptOut.objects.filter(phone=message.to).exists()

    start = {"ts": TS + 1, "meta": meta(message), "incomingText": "START"}
    post(client, provider, [{"event": "replied", "data": [start]}])
    assert not OptOut.objects.filter(phone=message.to).exists()


def test_a_delivery_report_for_an_outcome_unknown_message_counts_it_sent(client, provider, sent):
    message = sent[0]
    Message.objects.filter(pk=message.pk).update(
        state=MessageState.DISPATCH_ERROR,
        reason=DispatchReason.OUTCOME_UNKNOWN,
        sent_at=None,
        last_attempt_at=SENT,
    )
    settle()

    post(client, provider, [{"event": "delivered", "data": [delivered(message)]}])

    message.refresh_from_db()
    assert (message.state, message.outcome) == (MessageState.SENT, "delivered")


def test_a_100_event_request_is_a_handful_of_queries(
    client, provider, sent, django_assert_max_num_queries
):
    records = [delivered(sent[i % 3], ts=TS + i) for i in range(100)]
    with django_assert_max_num_queries(16):
        response = post(client, provider, [{"event": "delivered", "data": records}])
    assert response.json()["data"]["processed_events"] == 100
    assert Event.objects.count() == 100


def test_our_own_failure_keeps_the_request_for_a_retry(client, provider, sent, monkeypatch):
    from callbacks import intake, services

    def broken(*args, **kwargs):
        raise RuntimeError("bug")

    monkeypatch.setattr(services, "record_events", broken)
    payload = [{"event": "delivered", "data": [delivered(sent[0])]}]

    response = post(client, provider, payload)

    assert response.status_code == 500
    assert response.json() == {"status": "error", "message": "Server error", "error_code": 500}
    stored = CallbackRequest.objects.get()
    assert stored.status == RequestStatus.FAILED
    assert Event.objects.count() == 0

    monkeypatch.undo()
    assert intake.retry_failed() == 1
    stored.refresh_from_db()
    assert (stored.status, stored.processed_events) == (RequestStatus.PROCESSED, 1)
    assert Event.objects.count() == 1
