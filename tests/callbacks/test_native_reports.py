"""A Generic provider's own delivery reports and replies through the callback endpoint
(SPEC §5.3, §5.4): the same pipeline as the reference callbacks (dedupe, forward-only
outcome, rollups in the same transaction, unmatched kept), answered 200 with an empty body."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

import pytest
from django.utils import timezone

from audiences.models import OptOut
from callbacks.models import CallbackRequest, Event, RequestStatus
from campaigns.models import Campaign, Message
from providers import message_ids
from stats.figures import DateRange, Scope, errors, figures
from tests.providers.helpers import create_generic
from tests.rollups import settle

from .receiver_cases import INFOBIP_REPORTS

INBOUND = {"from_path": "$.from", "to_path": "$.to", "text_path": "$.text"}


@pytest.fixture
def infobip(db):
    provider = create_generic(None, nickname="Infobip")
    provider.config.update(reports=INFOBIP_REPORTS, inbound=INBOUND)
    provider.save()
    return provider


def sent(provider, count: int, *, provider_ids=None) -> list[Message]:
    campaign = Campaign.objects.create(name="Spring", provider=provider, body="Hi")
    messages = Message.objects.bulk_create(
        Message(
            campaign=campaign,
            provider=provider,
            to=f"+4179302670{i}",
            state="sent",
            sent_at=timezone.now() - timedelta(hours=1),
            provider_message_id=(provider_ids or {}).get(i, ""),
        )
        for i in range(count)
    )
    settle()
    return messages


def report(message, status: str, *, our_id=True, error=(0, "NO_ERROR"), done="16:00:00"):
    item = {
        "bulkId": "BULK-ID-123-xyz",
        "messageId": message.provider_message_id or f"ib-{message.id}",
        "to": message.to.lstrip("+"),
        "doneAt": f"2026-11-30T{done}.000+0100",
        "status": {"groupId": 3, "groupName": status},
        "error": {"groupId": 0, "id": error[0], "name": error[1]},
    }
    if our_id:
        item["callbackData"] = message_ids.sign(message.id)
    return item


def post(client, provider, document, query=""):
    path = f"/callbacks/sms/{provider.callback_token}/" + (f"?{query}" if query else "")
    return client.post(path, json.dumps(document), content_type="application/json")


def today_figures(provider):
    return figures(Scope(provider=provider), DateRange.last(30, timezone.localdate()))


def test_a_batch_of_reports_is_counted_and_answered_with_an_empty_200(client, infobip):
    delivered, failed, pending = sent(infobip, 3)
    document = {
        "results": [
            report(delivered, "DELIVERED"),
            report(failed, "UNDELIVERABLE", error=(27, "EC_ABSENT_SUBSCRIBER")),
            report(pending, "PENDING"),
        ]
    }

    response = post(client, infobip, document)

    assert (response.status_code, response.content) == (200, b"")
    outcomes = {m.id: m.outcome for m in Message.objects.all()}
    assert outcomes == {delivered.id: "delivered", failed.id: "failed", pending.id: ""}
    assert Event.objects.get(message=delivered).ts == datetime(2026, 11, 30, 15, 0, tzinfo=UTC)
    shown = today_figures(infobip)
    assert (shown.totals.delivered, shown.totals.failed) == (1, 1)
    by_code, _ = errors(Scope(provider=infobip), DateRange.last(30, timezone.localdate()))
    assert [(row.code, row.count) for row in by_code] == [("27", 1)]
    assert Event.objects.get(message=failed).description == "EC_ABSENT_SUBSCRIBER"
    row = CallbackRequest.objects.get()
    assert (row.status, row.processed_events, row.unmatched_events) == (
        RequestStatus.PROCESSED,
        3,
        0,
    )


def test_a_repeat_and_a_late_pending_change_nothing(client, infobip):
    (message,) = sent(infobip, 1)
    post(client, infobip, {"results": [report(message, "DELIVERED")]})

    post(client, infobip, {"results": [report(message, "DELIVERED")]})
    post(client, infobip, {"results": [report(message, "PENDING", done="15:59:00")]})

    message.refresh_from_db()
    assert message.outcome == "delivered"
    assert today_figures(infobip).totals.delivered == 1
    assert list(
        CallbackRequest.objects.order_by("id").values_list("duplicate_events", flat=True)
    ) == [0, 1, 0]


def test_reports_without_our_id_match_by_the_providers_id(client, infobip):
    (message,) = sent(infobip, 1, provider_ids={0: "2250be2d4219-3af1"})

    post(client, infobip, {"results": [report(message, "DELIVERED", our_id=False)]})

    message.refresh_from_db()
    assert message.outcome == "delivered"


def test_an_id_shared_by_a_request_matches_by_number(client, db):
    provider = create_generic(None, nickname="MessageBird")
    provider.config["reports"] = {
        "format": "query",
        "provider_id_path": "$.id",
        "number_path": "$.recipient",
        "status_path": "$.status",
        "status_map": {"delivered": "delivered", "delivery_failed": "failed"},
        "time_path": "$.statusDatetime",
    }
    provider.save()
    first, second = sent(provider, 2, provider_ids={0: "49e40bae", 1: "49e40bae"})
    query = urlencode(
        {
            "id": "49e40bae",
            "recipient": second.to.lstrip("+"),
            "status": "delivery_failed",
            "statusDatetime": "2026-11-30T15:00:05+00:00",
        }
    )

    response = client.get(f"/callbacks/sms/{provider.callback_token}/?{query}")

    assert (response.status_code, response.content) == (200, b"")
    first.refresh_from_db(), second.refresh_from_db()
    assert (first.outcome, second.outcome) == ("", "failed")


def test_reports_of_no_message_are_kept_unmatched(client, infobip):
    (message,) = sent(infobip, 1)
    stranger = report(message, "DELIVERED", our_id=False)
    stranger["messageId"] = "not-ours"

    post(client, infobip, {"results": [stranger]})

    assert CallbackRequest.objects.get().unmatched_events == 1
    assert Event.objects.get().message_id is None
    message.refresh_from_db()
    assert message.outcome == ""


def test_a_reply_is_counted_and_stop_opts_the_sender_out(client, infobip):
    (message,) = sent(infobip, 1)
    inbound = {
        "results": [
            {
                "messageId": "817790313235066447",
                "from": message.to.lstrip("+"),
                "to": "41793026000",
                "text": "STOP",
                "receivedAt": "2026-11-30T16:00:00.000+0000",
            }
        ]
    }

    response = post(client, infobip, inbound)

    assert (response.status_code, response.content) == (200, b"")
    event = Event.objects.get()
    assert (event.type, event.message_id, event.text) == ("replied", message.id, "STOP")
    assert OptOut.objects.filter(phone=message.to).exists()
    assert today_figures(infobip).totals.replies == 1


def test_a_request_the_mapping_cannot_read_is_refused_and_kept(client, infobip):
    response = post(client, infobip, {"results": [{"messageId": "x"}]})

    assert response.status_code == 400
    assert response.json()["details"]["missing_fields"] == ["$.status.groupName"]
    assert CallbackRequest.objects.get().status == RequestStatus.REJECTED
    assert not Event.objects.exists()
