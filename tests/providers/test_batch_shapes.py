"""Requests for real providers' batch shapes, account values and $$EntityId (SPEC §5.2):
the builder alone, no database, no network."""

from __future__ import annotations

import json
from urllib.parse import parse_qsl, urlsplit

import pytest

from providers.base import OutgoingMessage
from providers.kinds.generic import config as generic_config
from providers.kinds.generic.payload import GenericPayloadBuilder
from providers.secret_rows import MissingSecretValue

from .helpers import generic_config as base_config


def message(i, body="Hello", **values):
    return OutgoingMessage(
        id=i, to=f"+1415555{i:04d}", values={"Body": body, "MessageID": f"m{i}", **values}
    )


def build(config, messages, secrets=None, **campaign):
    builder = GenericPayloadBuilder(config, {"CampaignID": "7", **campaign}, secrets or {})
    return list(builder.requests(messages))


def joined(**overrides):
    fields = {
        "json_body": '{"src": "HUB", "dst": "$$To", "text": "$$Body"}',
        "batching": True,
        "batch_shape": "joined",
        "batch_delimiter": "<",
        "records_per_batch": 3,
        "account_values": [["auth_id", "MAXXX"]],
        **overrides,
    }
    return base_config("https://api.plivo.example/v1/Account/$$auth_id/Message/", **fields)


def test_joined_numbers_go_in_one_field_with_the_delimiter_in_batches():
    requests = build(joined(), [message(i) for i in range(1, 6)])

    assert [json.loads(r.body) for r in requests] == [
        {"src": "HUB", "dst": "+14155550001<+14155550002<+14155550003", "text": "Hello"},
        {"src": "HUB", "dst": "+14155550004<+14155550005", "text": "Hello"},
    ]
    assert requests[0].url == "https://api.plivo.example/v1/Account/MAXXX/Message/"
    assert requests[0].message_ids == (1, 2, 3)
    assert requests[0].recipients == ("+14155550001", "+14155550002", "+14155550003")


def test_joined_falls_back_to_one_request_per_message_whose_text_differs():
    messages = [message(1, "Hi Ann"), message(2, "Hi Bob"), message(3, "Hi Ann")]

    requests = build(joined(), messages)

    assert [(r.message_ids, json.loads(r.body)["dst"]) for r in requests] == [
        ((1, 3), "+14155550001<+14155550003"),
        ((2,), "+14155550002"),
    ]


def test_joined_numbers_work_in_a_form_body_and_a_query_too():
    config = joined(
        body_format="kv",
        json_body="",
        params=[["numbers", "$$To"], ["message", "$$Body"]],
        batch_delimiter=",",
    )
    (form,) = build(config, [message(1), message(2)])
    (query,) = build({**config, "request_type": "GET"}, [message(1), message(2)])

    assert dict(parse_qsl(form.body.decode()))["numbers"] == "+14155550001,+14155550002"
    assert dict(parse_qsl(urlsplit(query.url).query))["numbers"] == "+14155550001,+14155550002"


def test_a_number_array_takes_the_place_of_to_even_for_one_recipient():
    config = base_config(
        "https://sms.api.sinch.example/xms/v1/$$plan_id/batches",
        json_body='{"from": "HUB", "to": "$$To", "body": "$$Body"}',
        batching=True,
        batch_shape="numbers",
        records_per_batch=100,
        number_format="e164_no_plus",
        account_values=[["plan_id", "PLAN1"]],
    )

    both, alone = build(config, [message(1), message(2), message(3, "Other")])

    assert json.loads(both.body) == {
        "from": "HUB",
        "to": ["14155550001", "14155550002"],
        "body": "Hello",
    }
    assert json.loads(alone.body)["to"] == ["14155550003"]
    assert both.url == "https://sms.api.sinch.example/xms/v1/PLAN1/batches"


def test_a_root_array_holds_one_object_per_message():
    config = base_config(
        "https://api.bulksms.example/v1/messages",
        json_body='[{"to": "$$To", "body": "$$Body", "userSuppliedId": "$$MessageID"}]',
        batching=True,
        batch_shape="root",
        records_per_batch=2,
    )

    requests = build(config, [message(1), message(2), message(3)])

    assert [json.loads(r.body) for r in requests] == [
        [
            {"to": "+14155550001", "body": "Hello", "userSuppliedId": "m1"},
            {"to": "+14155550002", "body": "Hello", "userSuppliedId": "m2"},
        ],
        [{"to": "+14155550003", "body": "Hello", "userSuppliedId": "m3"}],
    ]


def test_a_batch_under_a_key_is_unchanged_when_the_shape_is_not_saved():
    config = base_config(
        "https://sms.example.com/send",
        json_body='{"tid": "$$TemplateID", "msgs": [{"to": "$$To"}]}',
        batching=True,
        batch_key="msgs",
        records_per_batch=10,
    )

    (request,) = build(config, [message(1), message(2)], TemplateID="T1")

    assert json.loads(request.body) == {
        "tid": "T1",
        "msgs": [{"to": "+14155550001"}, {"to": "+14155550002"}],
    }


def test_entity_id_and_account_values_go_anywhere_secret_ones_decrypted():
    config = base_config(
        "https://$$subdomain.exotel.example/v1/Accounts/$$sid/Sms/send",
        body_format="kv",
        json_body="",
        headers=[["X-Entity", "$$EntityId"]],
        params=[["To", "$$To"], ["Body", "$$Body"], ["Token", "t-$$api_token"]],
        account_values=[["subdomain", "api.in"], ["sid", "acme 1"], ["api_token", ""]],
        secret_rows={"account_values": ["api_token"]},
        entity_id="1101",
    )

    (request,) = build(config, [message(1)], {"account_values:api_token": "s3cret"})

    assert request.url == "https://api.in.exotel.example/v1/Accounts/acme%201/Sms/send"
    assert request.headers["X-Entity"] == "1101"
    assert dict(parse_qsl(request.body.decode()))["Token"] == "t-s3cret"


def test_an_account_value_cannot_add_a_path_or_host_of_its_own():
    config = base_config("https://api.example.com/$$sid/send", account_values=[["sid", "../x?y#"]])

    (request,) = build(config, [message(1)])

    assert request.url == "https://api.example.com/..%2Fx%3Fy%23/send"


def test_a_secret_account_value_without_a_saved_value_fails_the_render():
    config = base_config(
        "https://api.example.com/$$sid/send",
        account_values=[["sid", ""]],
        secret_rows={"account_values": ["sid"]},
    )

    with pytest.raises(MissingSecretValue):
        build(config, [message(1)])


def test_provider_values_are_no_custom_replacements_and_shapes_say_what_they_batch():
    config = joined(
        json_body='{"dst": "$$To", "text": "$$Body", "e": "$$EntityId", "x": "$$auth_id", '
        '"c": "$$coupon"}'
    )

    assert generic_config.custom_tokens(config) == ["coupon"]
    assert generic_config.campaign_wide_tokens(config) == set()
    assert generic_config.sends_one_text_to_many(config)
    assert generic_config.claim_size(config) == 3
    assert not generic_config.sends_one_text_to_many(base_config("https://x.example"))
