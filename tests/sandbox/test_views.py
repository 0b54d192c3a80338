"""The sandbox endpoint, POST /sandbox/sms/ (SPEC §3.6)."""

from __future__ import annotations

import pytest

from campaigns.models import Campaign, Message
from providers import message_ids
from providers.response_mapping import provider_message_ids
from sandbox import services, simulate

from .helpers import sandbox_provider, send


@pytest.fixture
def provider(db):
    return sandbox_provider()


@pytest.fixture
def messages(provider):
    """Two messages of a campaign sent through the sandbox provider."""
    campaign = Campaign.objects.create(name="Spring", provider=provider, body="Hi")
    return Message.objects.bulk_create(
        Message(campaign=campaign, provider=provider, to=f"+1415555000{i}", state="sending")
        for i in (1, 2)
    )


def items(messages, text="Spring sale: https://shop.example/spring"):
    return [{"to": m.to, "text": text, "ref": message_ids.sign(m.pk)} for m in messages]


def test_it_refuses_a_request_without_the_key(client, provider, scheduled):
    response = send(client, [], key=None)

    assert response.status_code == 401
    assert response.json() == {
        "status": "error",
        "error_code": 401,
        "message": "Missing or wrong X-Sandbox-Key header.",
    }
    assert scheduled == []


def test_it_refuses_a_wrong_key(client, provider, messages, scheduled):
    response = send(client, items(messages), key="0" * 64)

    assert response.status_code == 401
    assert scheduled == []


def test_it_answers_405_to_get(client, provider):
    assert client.get("/sandbox/sms/").status_code == 405


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b'{"messages": [', "The body is not valid JSON"),
        (b"[]", "The body must be a JSON object."),
        (b'{"sender": "X"}', "'messages' must be a non-empty array."),
        (b'{"messages": []}', "'messages' must be a non-empty array."),
        (b'{"messages": ["hi"]}', "messages[0] must be an object."),
        (b'{"messages": [{"to": "+14155550101", "text": "Hi"}]}', "messages[0].ref must be"),
        (b'{"messages": [{"to": "", "text": "Hi", "ref": "r"}]}', "messages[0].to must be"),
        (b'{"messages": [{"to": "+1", "text": 3, "ref": "r"}]}', "messages[0].text must be"),
        (b'{"sender": 1, "messages": [{"to": "+1", "text": "", "ref": "r"}]}', "'sender' must"),
    ],
)
def test_it_answers_400_with_the_reason(client, provider, scheduled, body, reason):
    response = send(client, body)

    assert response.status_code == 400
    answer = response.json()
    assert answer["status"] == "error"
    assert answer["error_code"] == 400
    assert answer["message"].startswith(reason)
    assert scheduled == []


def test_it_refuses_more_than_1000_messages(client, provider, scheduled):
    many = [{"to": "+14155550101", "text": "Hi", "ref": f"r{i}"} for i in range(1001)]

    response = send(client, many)

    assert response.status_code == 400
    assert response.json()["message"] == "At most 1000 messages per request, not 1001."


def test_it_accepts_a_batch_and_answers_one_id_per_message(client, provider, messages):
    sent = items(messages)

    response = send(client, sent)

    assert response.status_code == 200
    assert response.json() == {
        "accepted": 2,
        "messages": [
            {"ref": item["ref"], "id": simulate.provider_message_id(item["ref"])} for item in sent
        ],
    }
    ids = provider_message_ids(services.MESSAGE_ID_PATH, response.content.decode(), 2)
    assert ids == tuple(simulate.provider_message_id(item["ref"]) for item in sent)


def test_it_schedules_exactly_one_task_per_request(client, provider, messages, scheduled):
    sent = items(messages)

    send(client, sent)

    assert len(scheduled) == 1
    (provider_id, submitted, received_ms), options = scheduled[0]
    assert provider_id == provider.pk
    assert submitted == [
        {"ref": item["ref"], "to": item["to"], "url": "https://shop.example/spring"}
        for item in sent
    ]
    assert isinstance(received_ms, int) and received_ms > 1_700_000_000_000
    assert options == {"countdown": 3.0}


def test_it_takes_the_delay_from_settings_when_set(client, provider, messages, scheduled, settings):
    settings.SANDBOX_CALLBACK_DELAY = 0.5

    send(client, items(messages))

    assert scheduled[0][1] == {"countdown": 0.5}


def test_it_reports_to_the_provider_that_sent_the_messages(client, provider, scheduled):
    from tests.providers.helpers import create_generic

    other = create_generic(None, nickname="Copy of the sandbox", headers=provider.config["headers"])
    campaign = Campaign.objects.create(name="Copy", provider=other, body="Hi")
    message = Message.objects.create(campaign=campaign, provider=other, to="+14155550109")

    send(client, items([message]))

    assert scheduled[0][0][0] == other.pk


def test_it_reports_a_test_sms_to_the_sandbox_provider(client, provider, scheduled):
    test_ref = message_ids.sign(0)  # what a Send Test SMS carries: no message has id 0

    response = send(client, [{"to": "+14155550101", "text": "Test", "ref": test_ref}])

    assert response.status_code == 200
    assert scheduled[0][0][0] == provider.pk
    assert scheduled[0][0][1] == [{"ref": test_ref, "to": "+14155550101", "url": ""}]


def test_it_refuses_a_body_over_the_size_limit(client, provider, messages, scheduled, monkeypatch):
    from sandbox import views

    monkeypatch.setattr(views, "MAX_BODY_BYTES", 100)

    response = send(client, items(messages))

    assert response.status_code == 413
    assert response.json()["message"] == "The body is larger than 100 bytes."
    assert scheduled == []
