"""Adding a provider kind touches its folder and one registry line (docs/adding-a-provider.md):
a throwaway kind (tests/providers/toy/) is registered by that one line and then set up,
sends a campaign and has its signed delivery reports counted, with nothing else changed."""

from __future__ import annotations

import json

import pytest
from django.core.cache import cache
from django.urls import reverse

from callbacks.models import CallbackRequest, Event
from campaigns.models import Message
from providers import message_ids, registry
from providers.models import Provider
from tests.campaigns.helpers import run, sending_campaign
from tests.providers.toy.receiver import signature

API_KEY = "toy-key-0001"


@pytest.fixture(autouse=True)
def toy_registered(monkeypatch, db):
    """The one registry line of the walk-through."""
    kinds = (*registry.KIND_CLASSES, "tests.providers.toy.kind.ToyKind")
    monkeypatch.setattr(registry, "KIND_CLASSES", kinds)
    registry.kinds.cache_clear()
    cache.clear()
    yield
    registry.kinds.cache_clear()


@pytest.fixture
def toy(admin_client, httpserver) -> Provider:
    """A Toy SMS provider set up through its page, as an admin does."""
    response = admin_client.post(
        reverse("providers:add-kind", args=["toy"]),
        {"nickname": "Toy", "endpoint": httpserver.url_for("/send"), "api_key": API_KEY},
    )
    assert response.status_code == 302, response.content.decode()
    return Provider.objects.get(kind="toy")


def report(client, provider, body: dict, *, key: str = API_KEY):
    raw = json.dumps(body).encode()
    return client.post(
        f"/callbacks/sms/{provider.callback_token}/",
        raw,
        content_type="application/json",
        HTTP_X_TOY_SIGNATURE=signature(key, raw),
    )


def test_the_add_page_offers_the_new_kind_and_its_page_lays_out_its_form(admin_client):
    page = admin_client.get(reverse("providers:add")).content.decode()
    assert "Toy SMS" in page
    assert "A provider with a JSON API, a Bearer key and signed delivery reports." in page

    form = admin_client.get(reverse("providers:add-kind", args=["toy"])).content.decode()
    assert "Add Toy SMS provider" in form
    for label in ("Nickname", "API URL", "API key", "Rate limit (requests per second)"):
        assert f">{label}" in form
    assert "Callback URL" in form  # the kind has a receiver


def test_its_form_rules_show_at_their_fields(admin_client):
    response = admin_client.post(
        reverse("providers:add-kind", args=["toy"]), {"nickname": "Toy", "endpoint": "nowhere"}
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "Enter an absolute http:// or https:// URL." in page
    assert "This field is required." in page
    assert not Provider.objects.exists()


def test_it_is_saved_with_its_secret_encrypted_and_listed_by_its_label(admin_client, toy):
    assert toy.config["endpoint"].endswith("/send")
    assert toy.get_secrets() == {"api_key": API_KEY}
    assert API_KEY not in toy.secrets_encrypted
    assert toy.get_kind_display() == "Toy SMS"
    assert "Toy SMS" in admin_client.get(reverse("providers:list")).content.decode()
    assert registry.has_callbacks(toy)


def test_a_campaign_sends_through_it_and_its_reports_are_counted(client, toy, httpserver):
    httpserver.expect_request("/send", method="POST").respond_with_json({"id": "toy-1"})
    campaign = sending_campaign(toy, count=2, body="Hello")

    run(campaign)

    sent = [(request.get_json(), request.headers["Authorization"]) for request, _ in httpserver.log]
    messages = list(Message.objects.filter(campaign=campaign).order_by("id"))
    assert sent == [
        ({"to": m.to, "text": "Hello", "ref": message_ids.sign(m.id)}, f"Bearer {API_KEY}")
        for m in messages
    ]
    assert {(m.state, m.provider_message_id) for m in Message.objects.all()} == {("sent", "toy-1")}

    first, second = messages
    delivered = {"ref": message_ids.sign(first.id), "state": "delivered", "at": 1_790_000_000}
    failed = {
        "ref": message_ids.sign(second.id),
        "state": "failed",
        "error": "Absent subscriber",
        "at": 1_790_000_001,
    }
    assert report(client, toy, delivered).json()["data"]["processed_events"] == 1
    assert report(client, toy, failed).status_code == 200
    again = report(client, toy, delivered).json()["data"]
    assert (again["processed_events"], again["duplicate_events"]) == (1, 1)  # SPEC §6.3

    first.refresh_from_db(), second.refresh_from_db()
    assert (first.outcome, second.outcome) == ("delivered", "failed")
    assert Event.objects.get(message=second).description == "Absent subscriber"


def test_its_receiver_refuses_a_forged_report_and_changes_nothing(client, toy):
    campaign = sending_campaign(toy, count=1)
    message = Message.objects.get(campaign=campaign)
    body = {"ref": message_ids.sign(message.id), "state": "delivered", "at": 1_790_000_000}

    response = report(client, toy, body, key="someone-else")

    assert response.status_code == 403
    assert response.json() == {
        "status": "error",
        "message": "Forbidden: the X-Toy-Signature does not match.",
        "error_code": 403,
    }
    assert not Event.objects.exists()
    assert CallbackRequest.objects.get().response_status == 403
