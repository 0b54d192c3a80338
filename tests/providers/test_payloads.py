from __future__ import annotations

import json
from urllib.parse import parse_qsl, urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st

from providers.base import OutgoingMessage
from providers.kinds.generic.payload import GenericPayloadBuilder, UnsafeHeader, format_number
from providers.templating import MissingReplacement

BATCH_JSON = """{
  "hid": "$$hid", // global part
  "tid": "$$TemplateID",
  "msgs": [{"to": "$$To", "mid": "$$MessageID", "body": "$$Body", "uid": "$$uid"}]
}"""


def config(**overrides):
    base = {
        "request_type": "POST",
        "endpoint": "https://sms.example.com/send",
        "headers": [["X-Api-Key", "k-$$hid"]],
        "body_format": "json",
        "params": [],
        "json_body": '{"to": "$$To", "text": "$$Body", "ref": "$$MessageID"}',
        "batching": False,
        "batch_key": "",
        "records_per_batch": None,
        "number_format": "e164",
    }
    return {**base, **overrides}


def message(i, body="Hello", **values):
    return OutgoingMessage(
        id=i, to=f"+1415555{i:04d}", values={"Body": body, "MessageID": f"m{i}", **values}
    )


def test_it_renders_one_json_request_per_message_without_batching():
    builder = GenericPayloadBuilder(config(), {"hid": "H"})
    requests = list(builder.requests([message(1), message(2)]))
    assert [r.message_ids for r in requests] == [(1,), (2,)]
    first = requests[0]
    assert first.method == "POST"
    assert first.url == "https://sms.example.com/send"
    assert first.headers == {"X-Api-Key": "k-H", "Content-Type": "application/json"}
    assert json.loads(first.body) == {"to": "+14155550001", "text": "Hello", "ref": "m1"}


def test_it_fills_the_batch_key_with_one_object_per_message_and_the_global_part_once():
    cfg = config(json_body=BATCH_JSON, batching=True, batch_key="msgs", records_per_batch=2)
    builder = GenericPayloadBuilder(cfg, {"hid": "H", "TemplateID": "T1"})
    messages = [message(i, uid=f"u{i}") for i in (1, 2, 3)]
    requests = list(builder.requests(messages))
    assert [r.message_ids for r in requests] == [(1, 2), (3,)]
    assert json.loads(requests[0].body) == {
        "hid": "H",
        "tid": "T1",
        "msgs": [
            {"to": "+14155550001", "mid": "m1", "body": "Hello", "uid": "u1"},
            {"to": "+14155550002", "mid": "m2", "body": "Hello", "uid": "u2"},
        ],
    }
    assert list(json.loads(requests[1].body)) == ["hid", "tid", "msgs"]
    assert len(json.loads(requests[1].body)["msgs"]) == 1


def test_it_form_encodes_key_value_posts_in_utf8():
    cfg = config(body_format="kv", params=[["to", "$$To"], ["msg", "$$Body"]], json_body="")
    request = next(GenericPayloadBuilder(cfg, {"hid": "H"}).requests([message(1, "Hé & =ok")]))
    assert request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert request.body == b"to=%2B14155550001&msg=H%C3%A9+%26+%3Dok"


def test_it_sends_get_parameters_as_the_query_string():
    cfg = config(
        request_type="GET",
        endpoint="https://sms.example.com/send?key=abc",
        params=[["to", "$$To"], ["text", "$$Body"]],
        json_body="",
    )
    request = next(GenericPayloadBuilder(cfg, {"hid": "H"}).requests([message(1, "a b/c")]))
    assert request.method == "GET"
    assert request.body is None
    assert "Content-Type" not in request.headers
    parts = urlsplit(request.url)
    assert parse_qsl(parts.query) == [("key", "abc"), ("to", "+14155550001"), ("text", "a b/c")]


def test_it_keeps_a_content_type_the_admin_set():
    cfg = config(headers=[["content-type", "application/vnd.api+json"]])
    request = next(GenericPayloadBuilder(cfg, {}).requests([message(1)]))
    assert request.headers == {"content-type": "application/vnd.api+json"}


def test_it_never_expands_a_replacement_twice():
    cfg = config(json_body='{"text": "Dear $$To: $$Body"}', headers=[])
    request = next(GenericPayloadBuilder(cfg, {}).requests([message(1, "call $$To $$hid")]))
    assert json.loads(request.body) == {"text": "Dear +14155550001: call $$To $$hid"}


def test_it_puts_a_whole_token_value_in_as_json():
    cfg = config(
        json_body='{"to": "$$To", "text": "$$Body", "vars": "$$TemplateVariables"}', headers=[]
    )
    msg = message(1, TemplateVariables=["Ana", 3])
    request = next(GenericPayloadBuilder(cfg, {}).requests([msg]))
    assert json.loads(request.body)["vars"] == ["Ana", 3]


def test_it_rejects_a_header_value_with_a_line_break():
    cfg = config(headers=[["X-Name", "$$Body"]])
    builder = GenericPayloadBuilder(cfg, {})
    with pytest.raises(UnsafeHeader):
        next(builder.requests([message(1, "evil\r\nX-Injected: 1")]))


def test_it_names_a_missing_replacement():
    builder = GenericPayloadBuilder(config(), {})
    with pytest.raises(MissingReplacement) as excinfo:
        next(builder.requests([message(1)]))
    assert excinfo.value.name == "hid"


@pytest.mark.parametrize(
    ("number_format", "number", "expected"),
    [
        ("e164", "+14155550123", "+14155550123"),
        ("e164_no_plus", "+14155550123", "14155550123"),
        ("national", "+14155550123", "4155550123"),
        ("national", "+447400123456", "7400123456"),
        ("national", "+919876543210", "9876543210"),
    ],
)
def test_it_formats_numbers_per_provider(number_format, number, expected):
    assert format_number(number, number_format) == expected


@given(st.text())
def test_it_turns_any_body_into_valid_json_that_decodes_to_it(body):
    cfg = config(json_body='{"to": "$$To", "text": "Hi $$Body!", "raw": "$$Body"}', headers=[])
    request = next(GenericPayloadBuilder(cfg, {}).requests([message(1, body)]))
    decoded = json.loads(request.body.decode("utf-8"))
    assert decoded["raw"] == body
    assert decoded["text"] == f"Hi {body}!"


@pytest.mark.parametrize(
    "body", ['say "hi" \\ bye', "line1\nline2\ttab", "emoji 🎉👍🏽", "हिन्दी संदेश", "$$To"]
)
def test_it_encodes_awkward_bodies_as_utf8_json(body):
    cfg = config(headers=[])
    request = next(GenericPayloadBuilder(cfg, {}).requests([message(1, body)]))
    assert json.loads(request.body.decode("utf-8"))["text"] == body
