"""Duplicate callbacks (SPEC §6.5, §9): the same events posted again, one after the other or
at the same moment over real HTTP, count once; the repeats are reported as duplicates in the
JSON answer (SPEC §6.3) and in the stored request records."""

from __future__ import annotations

import contextlib
import json
import threading
from urllib.parse import urlencode

import pytest

from callbacks import services
from callbacks.models import CallbackRequest, Event, RequestStatus
from campaigns.models import Message
from providers import message_ids
from stats import rebuild
from tests.callbacks.test_twilio_callbacks import (
    TWIML,
    inbound_form,
    sign,
    status_form,
    status_url,
    twilio_posts,
)
from tests.providers.helpers import create_generic, create_twilio

from .callback_books import (
    TS,
    needs_postgres,
    post_at_once,
    quiet_live_server,
    sent_messages,
    totals,
)

COUNT = 10_000  # CALLBACK_MAX_RECORDS: the most one request may carry
SUCCESS = {"status": "success", "message": "Callback processed successfully"}


def data_of(answer: dict) -> dict:
    """The `data` of a 200 answer, its exact shape checked, without the timestamp."""
    assert {k: v for k, v in answer.items() if k != "data"} == SUCCESS
    data = dict(answer["data"])
    assert isinstance(data.pop("timestamp"), int)
    return data


def side_by_side(monkeypatch, requests: int) -> None:
    """Hold each request at `record_events` until all `requests` have been read, so they are
    certainly recorded at the same time (up to 5 s, in case recording is serialised)."""
    all_read = threading.Barrier(requests)
    record_events = services.record_events

    def record_side_by_side(*args, **kwargs):
        with contextlib.suppress(threading.BrokenBarrierError):
            all_read.wait(timeout=5)
        return record_events(*args, **kwargs)

    monkeypatch.setattr(services, "record_events", record_side_by_side)


def request_records() -> list[tuple]:
    rows = CallbackRequest.objects.values_list(
        "status", "response_status", "processed_events", "duplicate_events", "unmatched_events"
    )
    return sorted(rows, key=lambda row: row[3])


@needs_postgres
@quiet_live_server
def test_the_same_10000_events_posted_three_times_at_once_count_once(live_server, monkeypatch):
    """Three identical 10,000-event requests recorded side by side through the real
    endpoint: 10,000 delivered messages and events, two whole requests reported duplicate."""
    side_by_side(monkeypatch, 3)
    provider = create_generic(None, nickname="Acme", endpoint="https://api.example.com/sms")
    messages = sent_messages(provider, COUNT)
    records = [
        {"ts": TS + i % 600, "meta": message_ids.sign(m.id), "description": "Delivered"}
        for i, m in enumerate(messages)
    ]
    body = json.dumps([{"event": "delivered", "data": records}])
    url = f"{live_server.url}/callbacks/sms/{provider.callback_token}/"

    answers = post_at_once(3, url, data=body, headers={"Content-Type": "application/json"})

    assert [a.status_code for a in answers] == [200] * 3
    datas = sorted((data_of(a.json()) for a in answers), key=lambda d: d["duplicate_events"])
    assert datas == [
        {"processed_events": COUNT, "duplicate_events": 0, "unmatched_events": 0},
        {"processed_events": COUNT, "duplicate_events": COUNT, "unmatched_events": 0},
        {"processed_events": COUNT, "duplicate_events": COUNT, "unmatched_events": 0},
    ]
    assert request_records() == [
        (RequestStatus.PROCESSED, 200, COUNT, 0, 0),
        (RequestStatus.PROCESSED, 200, COUNT, COUNT, 0),
        (RequestStatus.PROCESSED, 200, COUNT, COUNT, 0),
    ]
    assert Event.objects.filter(type="delivered", message__isnull=False).count() == COUNT
    assert Event.objects.count() == COUNT
    delivered = Message.objects.filter(outcome="delivered", delivered_at__isnull=False)
    assert delivered.count() == COUNT
    assert totals()["delivered"] == COUNT
    assert rebuild.snapshot() == rebuild.recompute()


def test_a_twilio_delivered_callback_posted_twice_counts_once(client, db):
    """Twilio's own retry of a signed `delivered` status callback (no carrier time, so the
    receipt time differs): one event, the second answer and record say duplicate."""
    provider = create_twilio(None)
    (message,) = sent_messages(provider, 1)
    url = status_url(provider, message)

    first = twilio_posts(client, url, status_form("delivered"))
    again = twilio_posts(client, url, status_form("delivered"))

    assert (first.status_code, again.status_code) == (200, 200)
    assert data_of(first.json()) == {
        "processed_events": 1,
        "duplicate_events": 0,
        "unmatched_events": 0,
    }
    assert data_of(again.json()) == {
        "processed_events": 1,
        "duplicate_events": 1,
        "unmatched_events": 0,
    }
    assert request_records() == [
        (RequestStatus.PROCESSED, 200, 1, 0, 0),
        (RequestStatus.PROCESSED, 200, 1, 1, 0),
    ]
    assert Event.objects.get().message_id == message.id
    message.refresh_from_db()
    assert message.outcome == "delivered"
    assert totals()["delivered"] == 1
    assert rebuild.snapshot() == rebuild.recompute()


@needs_postgres
@quiet_live_server
@pytest.mark.parametrize("case", ["delivered", "inbound reply"])
def test_a_twilio_callback_posted_twice_at_once_counts_once(live_server, monkeypatch, case):
    """The same signed Twilio callback arriving twice at the same moment (Twilio's retry
    while the first is still being processed): one event, one duplicate in the records."""
    side_by_side(monkeypatch, 2)
    provider = create_twilio(None)
    (message,) = sent_messages(provider, 1)
    base = f"{live_server.url}/callbacks/sms/{provider.callback_token}/"
    if case == "delivered":
        url, form = (
            f"{base}?{urlencode({'meta': message_ids.sign(message.id)})}",
            status_form(case),
        )
    else:
        url, form = base, inbound_form(message.to, "Thanks!")
    headers = {"X-Twilio-Signature": sign(url, form)}

    answers = post_at_once(2, url, data=form, headers=headers)

    assert [a.status_code for a in answers] == [200, 200]
    if case == "delivered":
        duplicates = sorted(data_of(a.json())["duplicate_events"] for a in answers)
        assert duplicates == [0, 1]
    else:  # Twilio is answered an empty TwiML, whatever was recorded
        assert [a.text for a in answers] == [TWIML, TWIML]
    assert request_records() == [
        (RequestStatus.PROCESSED, 200, 1, 0, 0),
        (RequestStatus.PROCESSED, 200, 1, 1, 0),
    ]
    assert Event.objects.get().message_id == message.id
    counted = totals()
    assert (counted["delivered"], counted["replies"]) == ((1, 0) if case == "delivered" else (0, 1))
    assert rebuild.snapshot() == rebuild.recompute()
