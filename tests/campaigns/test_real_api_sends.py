"""Sends through real providers' shapes (SPEC §5.2), against a local HTTP server standing in
for the provider: the exact requests it receives, and what each message records."""

from __future__ import annotations

import json
from urllib.parse import parse_qsl, urlsplit

import pytest
from django.core.cache import cache
from werkzeug import Response

from campaigns.models import DispatchReason, Message, MessageState
from providers import services
from providers.kinds.generic.form import GenericProviderForm
from tests.providers.helpers import GENERIC_DEFAULTS, form_data

from .helpers import numbers, run, sending_campaign, states

ROW_LISTS = ("headers", "params", "oauth_extra", "account_values")


@pytest.fixture(autouse=True)
def _fresh_cache(db):
    cache.clear()


def provider(httpserver, path, **fields):
    rows = {name: fields.pop(name, ()) for name in ROW_LISTS}
    data = form_data(GENERIC_DEFAULTS, {"endpoint": httpserver.url_for(path), **fields}, rows)
    form = GenericProviderForm(data)
    assert form.is_valid(), form.errors
    return services.save_from_form(form, None)


def received(httpserver):
    return [(request.path, json.loads(request.get_data())) for request, _ in httpserver.log]


def messages_of(campaign):
    return list(Message.objects.filter(campaign=campaign).order_by("id"))


def test_a_plivo_like_batch_joins_the_numbers_with_a_chevron(httpserver):
    httpserver.expect_request("/v1/Account/MAXXX/Message/", method="POST").respond_with_json(
        {"api_id": "a", "message_uuid": ["u1", "u2", "u3"]}, status=202
    )
    plivo = provider(
        httpserver,
        "/v1/Account/$$auth_id/Message/",
        json_body='{"src": "HUB", "dst": "$$To", "text": "$$Body"}',
        batching=True,
        batch_shape="joined",
        batch_delimiter="<",
        records_per_batch="100",
        message_id_path="$.message_uuid[*]",
        account_values=[("auth_id", "MAXXX")],
    )
    campaign = sending_campaign(plivo, 3, body="Sale!")

    run(campaign)

    assert received(httpserver) == [
        (
            "/v1/Account/MAXXX/Message/",
            {"src": "HUB", "dst": "<".join(numbers(3)), "text": "Sale!"},
        )
    ]
    assert [m.provider_message_id for m in messages_of(campaign)] == ["u1", "u2", "u3"]
    assert states(campaign) == {MessageState.SENT: 3}


def test_a_bulksms_like_root_array_matches_the_ids_by_number(httpserver):
    def answer(request):
        sent = json.loads(request.get_data())
        items = [{"id": f"b-{m['to'][-1]}", "to": m["to"].lstrip("+")} for m in reversed(sent)]
        return Response(json.dumps(items), status=201, content_type="application/json")

    httpserver.expect_request("/v1/messages", method="POST").respond_with_handler(answer)
    bulksms = provider(
        httpserver,
        "/v1/messages",
        json_body='[{"to": "$$To", "body": "$$Body"}]',
        batching=True,
        batch_shape="root",
        records_per_batch="2",
        answer_items_path="$[*]",
        recipient_path="$.to",
        message_id_path="$.id",
    )
    campaign = sending_campaign(bulksms, 3, body="Hi")

    run(campaign)

    to = numbers(3)
    assert received(httpserver) == [
        ("/v1/messages", [{"to": to[0], "body": "Hi"}, {"to": to[1], "body": "Hi"}]),
        ("/v1/messages", [{"to": to[2], "body": "Hi"}]),
    ]
    assert [m.provider_message_id for m in messages_of(campaign)] == ["b-1", "b-2", "b-3"]
    assert states(campaign) == {MessageState.SENT: 3}


def test_a_sinch_like_number_array_stores_the_shared_batch_id_on_each_message(httpserver):
    httpserver.expect_request("/xms/v1/PLAN-1/batches", method="POST").respond_with_json(
        {"id": "01FC66621XXXXX", "to": ["14155550001", "14155550002"]}, status=201
    )
    sinch = provider(
        httpserver,
        "/xms/v1/$$plan_id/batches",
        json_body='{"from": "HUB", "to": "$$To", "body": "$$Body"}',
        number_format="e164_no_plus",
        batching=True,
        batch_shape="numbers",
        records_per_batch="100",
        message_id_path="$.id",
        shared_message_id=True,
        account_values=[("plan_id", "PLAN-1")],
        headers=[("Authorization", "Bearer tok-1", True)],
    )
    campaign = sending_campaign(sinch, 2, body="Hello")

    run(campaign)

    assert received(httpserver) == [
        (
            "/xms/v1/PLAN-1/batches",
            {"from": "HUB", "to": ["14155550001", "14155550002"], "body": "Hello"},
        )
    ]
    assert httpserver.log[0][0].headers["Authorization"] == "Bearer tok-1"
    assert {m.provider_message_id for m in messages_of(campaign)} == {"01FC66621XXXXX"}
    assert states(campaign) == {MessageState.SENT: 2}


def test_a_vonage_like_answer_with_one_failed_item_fails_only_its_message(httpserver):
    httpserver.expect_request("/sms/json", method="POST").respond_with_json(
        {
            "message-count": "3",
            "messages": [
                {"to": "14155550001", "message-id": "v1", "status": "0"},
                {"to": "14155550002", "status": "4", "error-text": "Bad Credentials"},
                {"to": "14155550003", "message-id": "v3", "status": "0"},
            ],
        }
    )
    vonage = provider(
        httpserver,
        "/sms/json",
        json_body=(
            '{"from": "HUB", '
            '"messages": [{"to": "$$To", "text": "$$Body", "client-ref": "$$MessageID"}]}'
        ),
        batching=True,
        batch_key="messages",
        records_per_batch="10",
        answer_items_path="$.messages[*]",
        item_success_rule='$.status == "0"',
        message_id_path='$["message-id"]',
    )
    campaign = sending_campaign(vonage, 3)

    run(campaign)

    assert len(httpserver.log) == 1
    first, second, third = messages_of(campaign)
    assert (first.state, first.provider_message_id) == (MessageState.SENT, "v1")
    assert (third.state, third.provider_message_id) == (MessageState.SENT, "v3")
    assert (second.state, second.reason) == (MessageState.DISPATCH_ERROR, DispatchReason.REJECTED)
    assert "Bad Credentials" in second.last_error
    assert second.next_attempt_at is None


def test_a_message_the_answer_does_not_mention_is_not_sent_again(httpserver):
    httpserver.expect_request("/sms/json").respond_with_json(
        {"messages": [{"to": "14155550001", "message-id": "v1", "status": "0"}]}
    )
    vonage = provider(
        httpserver,
        "/sms/json",
        json_body='{"messages": [{"to": "$$To", "text": "$$Body"}]}',
        batching=True,
        batch_key="messages",
        records_per_batch="10",
        answer_items_path="$.messages[*]",
        recipient_path="$.to",
        message_id_path='$["message-id"]',
    )
    campaign = sending_campaign(vonage, 2)

    run(campaign)

    first, second = messages_of(campaign)
    assert first.state == MessageState.SENT
    assert (second.state, second.reason) == (
        MessageState.DISPATCH_ERROR,
        DispatchReason.OUTCOME_UNKNOWN,
    )
    assert second.next_attempt_at is None


def test_a_gupshup_like_text_answer_gives_the_id_by_expression(httpserver):
    def answer(request):
        number = request.args["send_to"]
        return Response(f"success | {number} | 35624{number[-4:]}\n", content_type="text/plain")

    httpserver.expect_request("/GatewayAPI/rest", method="GET").respond_with_handler(answer)
    gupshup = provider(
        httpserver,
        "/GatewayAPI/rest",
        request_type="GET",
        number_format="e164_no_plus",
        params=[("send_to", "$$To"), ("msg", "$$Body"), ("principalEntityId", "$$EntityId")],
        entity_id="1101",
        success_rule="^success",
        message_id_regex=r"\| (\d+)\s*$",
    )
    campaign = sending_campaign(gupshup, 2, body="Hi")

    run(campaign)

    queries = [dict(parse_qsl(urlsplit(r.url).query)) for r, _ in httpserver.log]
    assert queries == [
        {"send_to": "14155550001", "msg": "Hi", "principalEntityId": "1101"},
        {"send_to": "14155550002", "msg": "Hi", "principalEntityId": "1101"},
    ]
    assert [m.provider_message_id for m in messages_of(campaign)] == ["356240001", "356240002"]


def test_texts_that_differ_fall_back_to_one_request_each_and_the_campaign_says_so(
    httpserver, marketer_client
):
    httpserver.expect_request("/send").respond_with_json({"ok": True})
    joined = provider(
        httpserver,
        "/send",
        body_format="kv",
        params=[("numbers", "$$To"), ("message", "$$Body")],
        batching=True,
        batch_shape="joined",
        records_per_batch="100",
    )
    names = ["Ann", "Bob", "Ann"]
    campaign = sending_campaign(joined, 3, body="Hi {name}", values=lambda i: {"name": names[i]})

    run(campaign)

    sent = [dict(parse_qsl(r.get_data(as_text=True))) for r, _ in httpserver.log]
    to = numbers(3)
    assert sent == [
        {"numbers": f"{to[0]},{to[2]}", "message": "Hi Ann"},
        {"numbers": to[1], "message": "Hi Bob"},
    ]
    assert states(campaign) == {MessageState.SENT: 3}
    page = marketer_client.get(campaign.get_absolute_url()).content.decode()
    assert "recipients whose text differs are sent one request each" in page


def test_personalised_template_variables_split_a_one_text_batch_and_the_campaign_says_so(
    httpserver, marketer_client
):
    httpserver.expect_request("/send").respond_with_json({"ok": True})
    joined = provider(
        httpserver,
        "/send",
        body_format="kv",
        params=[("numbers", "$$To"), ("tid", "$$TemplateID"), ("vars", "$$TemplateVariables")],
        batching=True,
        batch_shape="joined",
        records_per_batch="100",
    )
    names = ["Ann", "Bob", "Ann"]
    campaign = sending_campaign(
        joined,
        3,
        template_id="T-1",
        template_variables="{name}",
        values=lambda i: {"name": names[i]},
    )

    run(campaign)

    sent = [dict(parse_qsl(r.get_data(as_text=True))) for r, _ in httpserver.log]
    to = numbers(3)
    assert sent == [
        {"numbers": f"{to[0]},{to[2]}", "tid": "T-1", "vars": "Ann"},
        {"numbers": to[1], "tid": "T-1", "vars": "Bob"},
    ]
    page = marketer_client.get(campaign.get_absolute_url()).content.decode()
    assert "recipients whose text differs are sent one request each" in page


def test_the_campaign_says_nothing_when_every_text_is_the_same(httpserver, marketer_client):
    joined = provider(
        httpserver,
        "/send",
        body_format="kv",
        params=[("numbers", "$$To"), ("message", "$$Body")],
        batching=True,
        batch_shape="joined",
        records_per_batch="100",
    )
    campaign = sending_campaign(joined, 1, body="Same for all")

    page = marketer_client.get(campaign.get_absolute_url()).content.decode()

    assert "one request each" not in page


def test_a_test_sms_shows_the_outcome_of_its_item(httpserver):
    httpserver.expect_request("/sms/json").respond_with_json(
        {"messages": [{"to": "14155550001", "status": "4", "error-text": "Bad Credentials"}]}
    )
    vonage = provider(
        httpserver,
        "/sms/json",
        json_body='{"to": "$$To", "text": "$$Body"}',
        answer_items_path="$.messages[*]",
        item_success_rule='$.status == "0"',
    )
    result = services.send_test_sms(
        vonage.kind,
        vonage.config,
        {},
        callback_url="",
        to="+14155550001",
        message="Hi",
        custom_values={},
        session_key="test",
    )

    assert not result.ok
    assert "Bad Credentials" in result.error
