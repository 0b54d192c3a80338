"""The reference document's payloads byte for byte, every mandatory key removed in turn, the
limits, concurrent duplicates, and a database that fails mid-request (SPEC §6, §9)."""

from __future__ import annotations

import json
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from django.db import OperationalError, connection
from django.test import Client

from callbacks.models import CallbackRequest, Event
from campaigns.models import Campaign, Message
from providers import message_ids
from tests.providers.helpers import create_generic
from tests.rollups import settle

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
# The JSON samples of the reference document (../shared/reference/000_…txt, "Send Callback
# Events" and "Error Code 900"), copied byte for byte: CI's clone has only the repository.
SAMPLES_DIR = Path(__file__).parent / "reference_samples"
SAMPLES = {
    path.stem.replace("_", "+"): path.read_text(encoding="utf-8")
    for path in sorted(SAMPLES_DIR.glob("*.json"))
}
REFERENCE_META = "9999999999.1200000000.165263328.20220606.0.wzrk_default.1."


@pytest.fixture
def provider(db):
    return create_generic(None, nickname="Acme", endpoint="https://api.example.com/sms")


@pytest.fixture
def message(provider):
    campaign = Campaign.objects.create(name="Spring", provider=provider, body="Hi")
    message = Message.objects.create(
        campaign=campaign, provider=provider, to="+14155550001", state="sent", sent_at=NOW
    )
    settle()
    return message


def post(client, provider, body):
    body = body if isinstance(body, str) else json.dumps(body)
    return client.post(
        f"/callbacks/sms/{provider.callback_token}/", body, content_type="application/json"
    )


def test_every_sample_of_the_reference_is_here():
    assert set(SAMPLES) == {
        "delivered",
        "clicked",
        "replied",
        "failed",  # the code 900 sample
        "delivered+clicked+replied+failed",
    }


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_every_reference_sample_is_accepted_verbatim(client, provider, name):
    """Their meta is the reference's own format, not one of our tokens: accepted, stored,
    and reported unmatched (SPEC §6.5)."""
    response = post(client, provider, SAMPLES[name])

    assert response.status_code == 200
    data = response.json()["data"]
    count = len(name.split("+"))
    assert data["processed_events"] == count
    assert data["unmatched_events"] == count
    assert Event.objects.filter(meta=REFERENCE_META, message__isnull=True).count() == count


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_every_reference_sample_has_its_effects_with_our_meta(client, provider, message, name):
    body = SAMPLES[name].replace(REFERENCE_META, message_ids.sign(message.id))

    response = post(client, provider, body)

    assert response.status_code == 200
    assert response.json()["data"]["unmatched_events"] == 0
    types = set(Event.objects.filter(message=message).values_list("type", flat=True))
    assert types == set(name.split("+"))
    message.refresh_from_db()
    if "failed" in name and "delivered" not in name:
        assert message.outcome == "failed"
        event = Event.objects.get(type="failed")
        if event.code == "900":  # "Other": the description sent is kept
            assert event.description == "Not able to send message to this phone"


RECORDS = {
    "delivered": {"ts": 1435322805, "meta": "m", "description": "Delivered to handset"},
    "failed": {"ts": 1435322805, "meta": "m", "code": "901", "description": "blocked"},
    "clicked": {"ts": 1435322805, "meta": "m", "url": "www.example.com"},
    "replied": {"ts": 1435322805, "meta": "m", "incomingText": "Hi"},
}
REMOVALS = [(event, key) for event, record in RECORDS.items() for key in record]


@pytest.mark.parametrize(("event", "key"), REMOVALS)
def test_every_mandatory_key_removed_in_turn_is_named(client, provider, event, key):
    record = {k: v for k, v in RECORDS[event].items() if k != key}

    response = post(client, provider, [{"event": event, "data": [record]}])

    assert response.status_code == 400
    assert response.json()["details"]["missing_fields"] == [key]
    assert Event.objects.count() == 0


@pytest.mark.parametrize("body", ["[]", '[{"event": "delivered", "data": []}]'])
def test_a_request_without_events_is_a_bad_request(client, provider, body):
    response = post(client, provider, body)
    assert response.status_code == 400
    assert response.json()["message"] == "Bad request. The request holds no events."


def test_10001_records_are_too_many(client, provider, message):
    record = {"ts": 1, "meta": message_ids.sign(message.id), "description": "d"}
    response = post(client, provider, [{"event": "delivered", "data": [record] * 10_001}])

    assert response.status_code == 413
    assert response.json()["error_code"] == 413
    assert Event.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_the_same_1000_events_posted_three_times_at_once_count_once(provider):
    campaign = Campaign.objects.create(name="Spring", provider=provider, body="Hi")
    Message.objects.bulk_create(
        Message(
            campaign=campaign, provider=provider, to=f"+1415555{i:04d}", state="sent", sent_at=NOW
        )
        for i in range(1000)
    )
    settle()
    records = [
        {"ts": 1_700_000_000 + i, "meta": message_ids.sign(m), "description": "ok"}
        for i, m in enumerate(Message.objects.values_list("id", flat=True))
    ]
    body = json.dumps([{"event": "delivered", "data": records}])
    answers: list[dict] = []

    def provider_posts():
        """Post, and post again after a 5xx, as a provider does (SQLite may answer 503 while
        another request holds its write lock)."""
        for _ in range(50):
            response = Client().post(
                f"/callbacks/sms/{provider.callback_token}/", body, content_type="application/json"
            )
            if response.status_code == 200:
                answers.append(response.json()["data"])
                break
            assert response.status_code in (500, 503)
            time.sleep(0.05)
        connection.close()

    threads = [threading.Thread(target=provider_posts) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(answers) == 3
    assert Event.objects.count() == 1000
    assert Message.objects.filter(outcome="delivered").count() == 1000
    assert [a["processed_events"] for a in answers] == [1000] * 3
    assert sorted(a["duplicate_events"] for a in answers) == [0, 1000, 1000]


def test_a_database_failing_mid_request_answers_5xx_and_keeps_nothing(
    client, provider, message, monkeypatch
):
    from campaigns import message_writes

    def down(*args, **kwargs):
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(message_writes, "apply_reports", down)  # after the events were inserted
    record = {"ts": 1, "meta": message_ids.sign(message.id), "description": "d"}

    response = post(client, provider, [{"event": "delivered", "data": [record]}])

    assert response.status_code == 503
    assert response.json() == {
        "status": "error",
        "message": "Service Unavailable",
        "error_code": 503,
    }
    assert Event.objects.count() == 0
    assert CallbackRequest.objects.count() == 0
    message.refresh_from_db()
    assert message.outcome == ""
