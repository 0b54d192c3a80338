"""Each preset sends what its provider's documentation shows (SPEC §5.1): a campaign through a
provider made from the preset, against a local server standing in for the provider, which
checks the exact request (method, path, query, auth, content type, fields) and answers with
the documented answer; the provider's message id is read from it."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlsplit

import pytest
from django.core.cache import cache

from campaigns.models import Message, MessageState
from providers import message_ids, services
from providers.kinds.generic import presets
from providers.kinds.generic.config import has_callbacks
from providers.kinds.generic.form import GenericProviderForm
from providers.models import new_callback_token
from tests.campaigns.helpers import numbers, run, sending_campaign

TO = "+14155550001"
CALLBACK = "CALLBACK"  # stands for the provider's callback URL in the expected requests
MID = "MID"  # stands for the message's $$MessageID


def basic(username: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()


@dataclass
class Case:
    method: str
    path: str
    headers: dict[str, str]  # the auth and content-type headers the docs show
    answer: object  # the documented answer's body
    provider_id: str
    json: dict | list | None = None
    form: dict | None = None
    query: dict = field(default_factory=dict)
    status: int = 200
    campaign: dict = field(default_factory=dict)


CASES = {
    "plivo": Case(
        "POST",
        "/v1/Account/MAXXXXXXXXXXXXXXXXXX/Message/",
        {
            "Authorization": basic("MAXXXXXXXXXXXXXXXXXX", "plivo-auth-token-0001"),
            "Content-Type": "application/json",
        },
        json={
            "src": "+14151234567",
            "dst": "14155550001",
            "text": "Hello",
            "url": CALLBACK,
            "method": "POST",
        },
        status=202,
        answer={
            "message": "message(s) queued",
            "message_uuid": ["db3ce55a-7f1d-11e1-8ea7-1231380bc196"],
            "api_id": "db342550-7f1d-11e1-8ea7-1231380bc196",
        },
        provider_id="db3ce55a-7f1d-11e1-8ea7-1231380bc196",
    ),
    "vonage": Case(
        "POST",
        "/sms/json",
        {"Content-Type": "application/x-www-form-urlencoded"},
        form={
            "api_key": "abcd1234",
            "api_secret": "vonage-secret-0001",
            "from": "AcmeInc",
            "to": "14155550001",
            "text": "Hello",
            "client-ref": MID,
        },
        answer={
            "message-count": "1",
            "messages": [
                {
                    "to": "14155550001",
                    "message-id": "0A0000000123ABCD1",
                    "status": "0",
                    "remaining-balance": "3.14",
                    "message-price": "0.0333",
                    "network": "12345",
                }
            ],
        },
        provider_id="0A0000000123ABCD1",
    ),
    "infobip": Case(
        "POST",
        "/sms/3/messages",
        {
            "Authorization": "App 003026bbc133714df1834b8638bb496e-8f4b3d9a",
            "Content-Type": "application/json",
            "Accept": "application/json",
        },
        json={
            "messages": [
                {
                    "sender": "InfoSMS",
                    "destinations": [{"to": "14155550001", "messageId": MID}],
                    "content": {"text": "Hello"},
                    "webhooks": {
                        "delivery": {"url": CALLBACK},
                        "contentType": "application/json",
                        "callbackData": MID,
                    },
                }
            ]
        },
        answer={
            "bulkId": "2034072219640523072",
            "messages": [
                {
                    "messageId": MID,
                    "status": {
                        "groupId": 1,
                        "groupName": "PENDING",
                        "id": 26,
                        "name": "PENDING_ACCEPTED",
                        "description": "Message sent to next instance",
                    },
                    "destination": "14155550001",
                    "details": {"messageCount": 1},
                }
            ],
        },
        provider_id=MID,  # Infobip takes our id as its own
    ),
    "sinch": Case(
        "POST",
        "/xms/v1/a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6/batches",
        {"Authorization": "Bearer sinch-api-token-0001", "Content-Type": "application/json"},
        json={
            "from": "+12025551234",
            "to": [TO],
            "body": "Hello",
            "delivery_report": "per_recipient_final",
            "callback_url": CALLBACK,
        },
        status=201,
        answer={
            "id": "01FC66621XXXXX119Z8PMV1QPQ",
            "to": [TO],
            "from": "+12025551234",
            "canceled": False,
            "body": "Hello",
            "type": "mt_text",
            "delivery_report": "per_recipient_final",
        },
        provider_id="01FC66621XXXXX119Z8PMV1QPQ",
    ),
    "telnyx": Case(
        "POST",
        "/v2/messages",
        {"Authorization": "Bearer KEY0123456789ABCDEF_telnyx", "Content-Type": "application/json"},
        json={
            "from": "+18445550001",
            "to": TO,
            "text": "Hello",
            "webhook_url": f"{CALLBACK}?mid={MID}",
        },
        answer={
            "data": {
                "record_type": "message",
                "direction": "outbound",
                "id": "40385f64-5717-4562-b3fc-2c963f66afa6",
                "to": [{"phone_number": TO, "status": "queued", "carrier": "", "line_type": ""}],
                "text": "Hello",
                "errors": [],
            }
        },
        provider_id="40385f64-5717-4562-b3fc-2c963f66afa6",
    ),
    "msg91": Case(
        "POST",
        "/api/v5/flow/",
        {"authkey": "123456ABCDEFabcdef123456", "Content-Type": "application/json"},
        json={
            "template_id": "6412ab34cd56ef7890123456",
            "short_url": "0",
            "recipients": [{"mobiles": "14155550001", "VAR1": "Hello"}],
        },
        answer={"type": "success", "message": "5762846b4f8d285d378b4567"},
        provider_id="5762846b4f8d285d378b4567",
        campaign={"template_id": "6412ab34cd56ef7890123456"},
    ),
    "textlocal": Case(
        "POST",
        "/send/",
        {"Content-Type": "application/x-www-form-urlencoded"},
        form={
            "apikey": "NmE0ZjY1NzU3NjRlNmQ2YjQ1NjE0ZDMzNjQ3NTQ4NjQ=",
            "numbers": "14155550001",
            "sender": "TXTLCL",
            "message": "Hello",
            "receipt_url": CALLBACK,
            "custom": MID,
        },
        answer={
            "balance": 1162,
            "batch_id": 123456789,
            "cost": 1,
            "num_messages": 1,
            "message": {"num_parts": 1, "sender": "TXTLCL", "content": "Hello"},
            "receipt_url": "",
            "custom": "",
            "messages": [{"id": "1151346216", "recipient": 14155550001}],
            "status": "success",
        },
        provider_id="1151346216",
    ),
    "exotel": Case(
        "POST",
        "/v1/Accounts/exotel123/Sms/send.json",
        {
            "Authorization": basic(
                "a1b2c3d4e5f6a1b2c3d4e5f6a1b2c3d4e5f6a1b2c3d4e5f6", "exotel-api-token-0001"
            ),
            "Content-Type": "application/x-www-form-urlencoded",
        },
        form={
            "From": "EXOTEL",
            "To": TO,
            "Body": "Hello",
            "StatusCallback": CALLBACK,
            "CustomField": MID,
        },
        answer={
            "SMSMessage": {
                "Sid": "b6cf3a4c0c2e4e0c9d2b5d6f7e8a9b0c",
                "AccountSid": "exotel123",
                "From": "EXOTEL",
                "To": TO,
                "DateCreated": "2026-12-02 10:00:00",
                "Body": "Hello",
                "Status": "queued",
                "DetailedStatus": "PENDING_TO_OPERATOR",
                "DetailedStatusCode": 21010,
            }
        },
        provider_id="b6cf3a4c0c2e4e0c9d2b5d6f7e8a9b0c",
    ),
    "bulksms": Case(
        "POST",
        "/v1/messages",
        {
            "Authorization": basic(
                "B2C9E7F1A3D44E5F8A9B0C1D2E3F4A5B-02-1", "bulksms-token-secret-0001"
            ),
            "Content-Type": "application/json",
        },
        query={"auto-unicode": "true"},
        json=[{"to": TO, "body": "Hello", "deliveryReports": "ALL"}],
        status=201,
        answer=[
            {
                "id": "1161520187",
                "type": "SENT",
                "from": "",
                "to": TO,
                "body": "Hello",
                "status": {"id": "ACCEPTED.null", "type": "ACCEPTED", "subtype": None},
                "submission": {"id": "2-00000000000394839839", "date": "2026-12-02T10:00:00Z"},
            }
        ],
        provider_id="1161520187",
    ),
    "africastalking": Case(
        "POST",
        "/version1/messaging",
        {
            "apiKey": "atsk_0123456789abcdef",
            "Accept": "application/json",
            "Content-Type": "application/x-www-form-urlencoded",
        },
        form={"username": "myapp", "to": TO, "message": "Hello"},
        status=201,
        answer={
            "SMSMessageData": {
                "Message": "Sent to 1/1 Total Cost: KES 0.8000",
                "Recipients": [
                    {
                        "cost": "KES 0.8000",
                        "messageId": "ATXid_4b1f4d9c6e0c2b1f",
                        "messageParts": 1,
                        "number": TO,
                        "status": "Success",
                        "statusCode": 101,
                    }
                ],
            }
        },
        provider_id="ATXid_4b1f4d9c6e0c2b1f",
    ),
    "messagebird": Case(
        "POST",
        "/messages",
        {
            "Authorization": "AccessKey live_0123456789abcdefABCDEF",
            "Content-Type": "application/json",
        },
        json={
            "originator": "AcmeInc",
            "recipients": ["14155550001"],
            "body": "Hello",
            "reference": MID,
        },
        status=201,
        answer={
            "id": "49e40bae5b3b4b3d9e2a0b8e1c1f6b2a",
            "href": "https://rest.messagebird.com/messages/49e40bae5b3b4b3d9e2a0b8e1c1f6b2a",
            "direction": "mt",
            "originator": "AcmeInc",
            "body": "Hello",
            "reference": MID,
            "recipients": {
                "totalCount": 1,
                "totalSentCount": 1,
                "items": [{"recipient": 14155550001, "status": "sent", "messagePartCount": 1}],
            },
        },
        provider_id="49e40bae5b3b4b3d9e2a0b8e1c1f6b2a",
    ),
    "mitto": Case(
        "POST",
        "/sms",
        {"X-Mitto-API-Key": "mitto-api-key-0001", "Content-Type": "application/json"},
        json={"from": "Mitto", "to": "14155550001", "text": "Hello", "type": "Auto"},
        answer={
            "id": "7d35863fe6f44695a713d54e6ba0aeb5",
            "timestamp": "2019-04-13T17:51:06.3091182Z",
            "responseCode": 0,
            "textLength": " 5",
            "responseText": "SMS sent",
            "test": False,
        },
        provider_id="7d35863fe6f44695a713d54e6ba0aeb5",
    ),
    "kaleyra": Case(
        "POST",
        "/v1/HXIN1234567890IN/messages",
        {"api-key": "A0123456789abcdef0123456789abcdef", "Content-Type": "application/json"},
        json={
            "to": TO,
            "sender": "KLRHXA",
            "type": "TXN",
            "body": "Hello",
            "template_id": "1107161234567890123",
            "ref": MID,
            "callback": {"url": f"{CALLBACK}?mid={MID}", "method": "POST"},
        },
        status=202,
        answer={
            "id": "a1b2c3d4-aaaa-bbbb-cccc-0123456789ab",
            "data": [{"message_id": "ee8a2bd5-3a40-4f5c-9b71-7c2f9b717a30:1", "recipient": TO}],
        },
        provider_id="ee8a2bd5-3a40-4f5c-9b71-7c2f9b717a30:1",
        campaign={"template_id": "1107161234567890123"},
    ),
    "gupshup": Case(
        "GET",
        "/GatewayAPI/rest",
        {},
        query={
            "method": "SendMessage",
            "v": "1.1",
            "auth_scheme": "plain",
            "msg_type": "TEXT",
            "format": "json",
            "userid": "2000123456",
            "password": "gupshup-password-0001",
            "send_to": "14155550001",
            "msg": "Hello",
            "mask": "GUPSHP",
            "principalEntityId": "1201159000000000000",
            "dltTemplateId": "1107161234567890123",
        },
        answer={
            "response": {
                "id": "3562707498794989059-328736121207676738",
                "phone": "14155550001",
                "details": "",
                "status": "success",
            }
        },
        provider_id="3562707498794989059-328736121207676738",
        campaign={"template_id": "1107161234567890123"},
    ),
    "smsindiahub": Case(
        "GET",
        "/api/mt/SendSMS",
        {},
        query={
            "APIKey": "smsindiahub-api-key-0001",
            "senderid": "SMSHUB",
            "channel": "Trans",
            "DCS": "0",
            "flashsms": "0",
            "number": "14155550001",
            "text": "Hello",
            "EntityId": "1201159000000000000",
            "DLTTemplateId": "1107161234567890123",
        },
        answer={
            "ErrorCode": "000",
            "ErrorMessage": "Done",
            "JobId": "20047",
            "MessageData": [{"Number": "14155550001", "MessageId": "mvHdpSyS7UOs9hjxixQLvw"}],
        },
        provider_id="mvHdpSyS7UOs9hjxixQLvw",
        campaign={"template_id": "1107161234567890123"},
    ),
}
# Documented error answers that come with HTTP 200: the message is not sent.
ERROR_ANSWERS = {
    "vonage": {
        "message-count": "1",
        "messages": [{"status": "4", "error-text": "Bad Credentials"}],
    },
    "msg91": {"type": "error", "message": "Missing Authentication Key", "code": "106"},
    "mitto": {"id": "", "responseCode": 8, "responseText": "Invalid receiver"},
    "smsindiahub": {"ErrorCode": "013", "ErrorMessage": "Invalid mobile number", "MessageData": []},
    "africastalking": {
        "SMSMessageData": {
            "Message": "Sent to 0/1",
            "Recipients": [
                {"messageId": "None", "status": "InvalidPhoneNumber", "statusCode": 403}
            ],
        }
    },
}


def _digits(numbers: list[str]) -> list[str]:
    return [number.lstrip("+") for number in numbers]


@dataclass
class Batch:
    """A preset that sends several messages per request, as its provider documents: the
    request for the given numbers (E.164), the numbers a received request carries, and the
    documented answer naming the given ids (one per number, or the one id `shared` by the
    request)."""

    request: Callable[[list[str]], object]
    recipients: Callable[[object], list[str]]  # the parsed JSON or form of a request
    answer: Callable[[list[str], list[str]], object]
    shared: bool = False


def _plivo_answer(numbers, ids):
    return {**CASES["plivo"].answer, "message_uuid": ids}


def _bulksms_answer(numbers, ids):
    (item,) = CASES["bulksms"].answer
    # Reversed: the items are matched to the messages by number, not by position.
    return [{**item, "id": i, "to": n} for n, i in reversed(list(zip(numbers, ids, strict=True)))]


def _sinch_answer(numbers, ids):
    return {**CASES["sinch"].answer, "id": ids[0], "to": numbers}


def _msg91_answer(numbers, ids):
    return {**CASES["msg91"].answer, "message": ids[0]}


def _africastalking_answer(numbers, ids):
    (item,) = CASES["africastalking"].answer["SMSMessageData"]["Recipients"]
    recipients = [{**item, "number": n, "messageId": i} for n, i in zip(numbers, ids, strict=True)]
    message = f"Sent to {len(numbers)}/{len(numbers)} Total Cost: KES {0.8 * len(numbers):.4f}"
    return {"SMSMessageData": {"Message": message, "Recipients": recipients}}


BATCHES = {
    "plivo": Batch(
        lambda to: {**CASES["plivo"].json, "dst": "<".join(_digits(to))},
        lambda sent: sent["dst"].split("<"),
        _plivo_answer,
    ),
    "bulksms": Batch(
        lambda to: [{**CASES["bulksms"].json[0], "to": n} for n in to],
        lambda sent: [item["to"] for item in sent],
        _bulksms_answer,
    ),
    "sinch": Batch(
        lambda to: {**CASES["sinch"].json, "to": to},
        lambda sent: sent["to"],
        _sinch_answer,
        shared=True,
    ),
    "msg91": Batch(
        lambda to: {
            **CASES["msg91"].json,
            "recipients": [{"mobiles": n, "VAR1": "Hello"} for n in _digits(to)],
        },
        lambda sent: [recipient["mobiles"] for recipient in sent["recipients"]],
        _msg91_answer,
        shared=True,
    ),
    "africastalking": Batch(
        lambda to: {**CASES["africastalking"].form, "to": ",".join(to)},
        lambda sent: sent["to"].split(","),
        _africastalking_answer,
    ),
}


@pytest.fixture(autouse=True)
def _fresh_cache(db):
    cache.clear()


def test_every_preset_has_a_send_case():
    assert set(CASES) == set(presets.all_presets())


def provider_from(slug: str, httpserver):
    """A provider made from the preset with its example inputs, as the pages make it, its
    endpoint moved to the local server (path and query kept)."""
    preset = presets.get(slug)
    token = new_callback_token()
    config = preset.fill({item.name: item.example for item in preset.inputs})
    endpoint = urlsplit(config["endpoint"])
    query = f"?{endpoint.query}" if endpoint.query else ""
    data = presets.form_data(preset, config, token)
    data["endpoint"] = httpserver.url_for(endpoint.path) + query
    form = GenericProviderForm(data)
    assert form.is_valid(), form.errors
    return services.save_from_form(form, None)


def expected(value, provider, message):
    """The expected value with CALLBACK and MID filled in for this provider and message."""
    if isinstance(value, str):
        return value.replace(CALLBACK, provider.callback_url).replace(
            MID, message_ids.sign(message.id)
        )
    if isinstance(value, dict):
        return {k: expected(v, provider, message) for k, v in value.items()}
    if isinstance(value, list):
        return [expected(v, provider, message) for v in value]
    return value


def send_one(slug, httpserver, answer, status):
    case = CASES[slug]
    provider = provider_from(slug, httpserver)
    campaign = sending_campaign(provider, 1, body="Hello", **case.campaign)
    message = Message.objects.get(campaign=campaign)
    httpserver.expect_request(case.path, method=case.method).respond_with_data(
        json.dumps(expected(answer, provider, message)),
        status=status,
        content_type="application/json",
    )
    run(campaign)
    (request, _), *others = httpserver.log
    assert others == []
    message.refresh_from_db()
    return provider, message, request


@pytest.mark.parametrize("slug", sorted(CASES))
def test_a_preset_sends_the_documented_request_and_reads_the_id(slug, httpserver):
    case = CASES[slug]

    provider, message, request = send_one(slug, httpserver, case.answer, case.status)

    assert request.method == case.method
    assert request.path == case.path
    assert dict(parse_qsl(request.query_string.decode(), keep_blank_values=True)) == expected(
        case.query, provider, message
    )
    for name, value in case.headers.items():
        assert request.headers.get(name, "").split(";")[0] == value, name
    if case.json is not None:
        assert json.loads(request.get_data()) == expected(case.json, provider, message)
    elif case.form is not None:
        form = dict(parse_qsl(request.get_data(as_text=True), keep_blank_values=True))
        assert form == expected(case.form, provider, message)
    else:
        assert request.get_data() == b""
    assert message.state == MessageState.SENT, message.last_error
    assert message.provider_message_id == expected(case.provider_id, provider, message)


@pytest.mark.parametrize("slug", sorted(ERROR_ANSWERS))
def test_a_documented_error_answer_is_not_a_sent_message(slug, httpserver):
    _, message, _ = send_one(slug, httpserver, ERROR_ANSWERS[slug], 200)

    assert message.state == MessageState.DISPATCH_ERROR
    assert message.provider_message_id == ""


def test_a_per_request_report_url_follows_a_rotated_callback_url(httpserver):
    """Plivo takes its report URL with each request: the payload holds $$CallbackURL, so a
    rotated URL goes out from then on (the old one answers 404)."""
    case = CASES["plivo"]
    httpserver.expect_request(case.path, method="POST").respond_with_json(
        case.answer, status=case.status
    )
    provider = provider_from("plivo", httpserver)
    old = provider.callback_url
    services.rotate_callback_token(provider, None)
    provider.refresh_from_db()
    campaign = sending_campaign(provider, 1, body="Hello")

    run(campaign)

    ((request, _),) = httpserver.log
    assert provider.callback_url != old
    assert request.get_json()["url"] == provider.callback_url


@pytest.mark.parametrize("slug", sorted(BATCHES))
def test_a_batching_preset_sends_three_messages_in_one_documented_request(slug, httpserver):
    case, batch = CASES[slug], BATCHES[slug]
    to = numbers(3)
    ids = [f"{case.provider_id}-{n}" for n in range(1 if batch.shared else 3)]
    httpserver.expect_request(case.path, method=case.method).respond_with_json(
        batch.answer(to, ids), status=case.status
    )
    provider = provider_from(slug, httpserver)
    assert has_callbacks(provider.config)  # reports match on the provider's ids
    campaign = sending_campaign(provider, 3, body="Hello", **case.campaign)

    run(campaign)

    ((request, _),) = httpserver.log
    assert (request.method, request.path) == (case.method, case.path)
    assert dict(parse_qsl(request.query_string.decode())) == case.query
    for name, value in case.headers.items():
        assert request.headers.get(name, "").split(";")[0] == value, name
    callback = {CALLBACK: provider.callback_url}
    if case.json is not None:
        sent = json.loads(request.get_data())
        assert sent == _replaced(batch.request(to), callback)
    else:
        sent = dict(parse_qsl(request.get_data(as_text=True), keep_blank_values=True))
        assert sent == batch.request(to)
    messages = Message.objects.filter(campaign=campaign).order_by("id")
    assert [m.state for m in messages] == [MessageState.SENT] * 3
    assert [m.provider_message_id for m in messages] == (ids * 3 if batch.shared else ids)


def _replaced(value, replacements: dict[str, str]):
    if isinstance(value, str):
        return replacements.get(value, value)
    if isinstance(value, dict):
        return {k: _replaced(v, replacements) for k, v in value.items()}
    if isinstance(value, list):
        return [_replaced(v, replacements) for v in value]
    return value


def test_a_batch_item_africas_talking_refuses_fails_only_its_message(httpserver):
    case, batch = CASES["africastalking"], BATCHES["africastalking"]
    to = numbers(3)
    answer = batch.answer(to, ["ATXid_1", "ATXid_2", "ATXid_3"])
    refused = {"messageId": "None", "status": "InvalidPhoneNumber", "statusCode": 403}
    answer["SMSMessageData"]["Recipients"][1].update(refused)
    httpserver.expect_request(case.path, method="POST").respond_with_json(answer, status=201)
    campaign = sending_campaign(provider_from("africastalking", httpserver), 3, body="Hello")

    run(campaign)

    messages = Message.objects.filter(campaign=campaign).order_by("id")
    assert [(m.state, m.provider_message_id) for m in messages] == [
        (MessageState.SENT, "ATXid_1"),
        (MessageState.DISPATCH_ERROR, ""),
        (MessageState.SENT, "ATXid_3"),
    ]


def test_a_long_vonage_text_keeps_its_first_parts_id(httpserver):
    """Vonage answers one messages[] item per part of a long text, each naming the number."""
    case = CASES["vonage"]
    (part,) = case.answer["messages"]
    answer = {
        "message-count": "2",
        "messages": [part, {**part, "message-id": "0A0000000123ABCD2"}],
    }
    httpserver.expect_request(case.path, method="POST").respond_with_json(answer)
    campaign = sending_campaign(provider_from("vonage", httpserver), 1, body="Hello " * 40)

    run(campaign)

    message = Message.objects.get(campaign=campaign)
    assert (message.state, message.provider_message_id) == (MessageState.SENT, case.provider_id)
