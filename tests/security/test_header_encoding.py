"""Finding 5: a contact attribute such as `Zoë 😀` in a custom token used in a header raised
UnicodeEncodeError in the worker (its claimed group stayed *sending* until reconciled as
outcome unknown) and made the admin's Test SMS answer 500. Now that message alone fails with
a clear error; the rest of its group is sent; the Test SMS says why."""

from __future__ import annotations

import json

import pytest

from campaigns.models import DispatchReason, Message, MessageState
from providers import services
from providers.base import Cause
from tests.campaigns.helpers import run, sending_campaign
from tests.providers.helpers import create_generic

BATCH = '{"msgs": [{"to": "$$To", "mid": "$$MessageID", "text": "$$Body", "n": "$$name"}]}'
NAMES = ["Ann", "Zoë 😀", "Zoë", "Line\r\nX-Injected: 1"]


def per_recipient(i: int) -> dict:
    return {"name": NAMES[i]}


@pytest.fixture
def provider(db, httpserver):
    httpserver.expect_request("/sms").respond_with_json({"ok": True})
    return create_generic(None, endpoint=httpserver.url_for("/sms"), headers=[("X-Name", "$$name")])


def test_only_the_message_whose_header_cannot_be_sent_fails(provider, httpserver):
    campaign = sending_campaign(provider, 4, custom_values={"name": "{name}"}, values=per_recipient)

    run(campaign)

    received = [request.headers["X-Name"] for request, _ in httpserver.log]
    assert received == ["Ann", "Zoë"]  # Latin-1 is fine; the others never left
    rows = list(Message.objects.order_by("id"))
    assert [m.state for m in rows] == [
        MessageState.SENT,
        MessageState.DISPATCH_ERROR,
        MessageState.SENT,
        MessageState.DISPATCH_ERROR,
    ]
    assert rows[1].reason == DispatchReason.NOT_RENDERED
    assert "cannot carry" in rows[1].last_error
    assert "line break" in rows[3].last_error


def test_a_batch_sends_its_other_messages(db, httpserver):
    httpserver.expect_request("/sms").respond_with_json({"ok": True})
    provider = create_generic(
        None,
        endpoint=httpserver.url_for("/sms"),
        json_body=BATCH,
        batching=True,
        batch_key="msgs",
        records_per_batch=10,
        number_format="national",
    )
    campaign = sending_campaign(provider, 3, custom_values={"name": "{name}"})
    first = Message.objects.filter(campaign=campaign).order_by("id").first()
    Message.objects.filter(pk=first.pk).update(to="+0000")  # no national number to give

    run(campaign)

    (request,) = [request for request, _ in httpserver.log]
    assert [item["to"] for item in json.loads(request.get_data())["msgs"]] == [
        "4155550002",
        "4155550003",
    ]
    states = list(Message.objects.order_by("id").values_list("state", "reason"))
    assert states == [
        (MessageState.DISPATCH_ERROR, DispatchReason.NOT_RENDERED),
        (MessageState.SENT, ""),
        (MessageState.SENT, ""),
    ]


def test_the_admins_test_sms_explains_instead_of_a_500(admin_client, provider, httpserver):
    page = admin_client.post(
        f"/settings/channels/sms/providers/{provider.pk}/test-sms/",
        {
            "test-country_code": "+1",
            "test-mobile_number": "4155550199",
            "test-message": "Hi",
            "test-custom_name": "Zoë 😀",
        },
    )

    assert page.status_code == 200
    assert "would hold characters an HTTP header cannot carry" in page.content.decode()
    assert httpserver.log == []


def test_an_unencodable_value_that_reaches_the_wire_fails_that_request_only(httpserver):
    httpserver.expect_request("/sms").respond_with_json({"ok": True})
    config = {
        "request_type": "POST",
        "endpoint": httpserver.url_for("/sms"),
        "auth_type": "basic",
        "basic_username": "😀",  # requests encodes Basic credentials as Latin-1
        "headers": [],
        "body_format": "json",
        "json_body": '{"to": "$$To", "text": "$$Body"}',
        "params": [],
    }

    result = services.send_test_sms(
        "generic",
        config,
        {"basic_password": "x"},
        callback_url="http://testserver/cb/",
        to="+14155550199",
        message="Hi",
        custom_values={},
        session_key="test",
    )

    assert (result.ok, result.cause) == (False, Cause.UNENCODABLE)
    assert httpserver.log == []
