"""Reading batch answers (SPEC §5.2): a rule per item, items matched by number, ids from a
text answer, one id shared by a request. Pure."""

from __future__ import annotations

import json

import pytest

from providers.response_mapping import (
    ITEM_FAILED,
    ITEM_MISSING,
    ITEM_SENT,
    AnswerMapping,
    ItemOutcome,
    check_id_regex,
    check_item_rule,
    is_success,
)

VONAGE = AnswerMapping(
    message_id_path='$["message-id"]',
    items_path="$.messages[*]",
    item_success_rule='$.status == "0"',
)


def states(answer):
    return [(item.state, item.provider_id) for item in answer.items]


def test_a_failed_item_fails_only_its_message():
    body = json.dumps(
        {"messages": [{"status": "0", "message-id": "a"}, {"status": "4", "error-text": "Bad"}]}
    )

    answer = VONAGE.read(body, ["+1", "+2"])

    assert answer.ok
    assert states(answer) == [(ITEM_SENT, "a"), (ITEM_FAILED, "")]
    assert "Bad" in answer.items[1].item


def test_items_that_do_not_match_the_messages_leave_every_message_unknown():
    body = json.dumps({"messages": [{"status": "0", "message-id": "a"}]})

    assert states(VONAGE.read(body, ["+1", "+2"])) == [(ITEM_MISSING, ""), (ITEM_MISSING, "")]
    assert states(VONAGE.read("not json", ["+1"])) == [(ITEM_MISSING, "")]


def test_items_are_matched_by_number_whatever_their_order_and_format():
    mapping = AnswerMapping(
        message_id_path="$.messageId",
        items_path="$.SMSMessageData.Recipients[*]",
        item_success_rule="$.statusCode in [100, 101, 102]",
        recipient_path="$.number",
    )
    body = json.dumps(
        {
            "SMSMessageData": {
                "Recipients": [
                    {"number": "254711000002", "statusCode": 403, "messageId": "None"},
                    {"number": "+254711000001", "statusCode": 101, "messageId": "ATX-1"},
                ]
            }
        }
    )

    answer = mapping.read(body, ["+254711000001", "+254711000002", "+254711000003"])

    assert states(answer) == [(ITEM_SENT, "ATX-1"), (ITEM_FAILED, ""), (ITEM_MISSING, "")]
    assert answer.ids == ("ATX-1", "", "")


def test_a_national_number_matches_its_e164_form():
    mapping = AnswerMapping(items_path="$[*]", recipient_path="$.to", message_id_path="$.id")

    answer = mapping.read('[{"to": 4155550001, "id": 9}]', ["+14155550001"])

    assert answer.items == (ItemOutcome(ITEM_SENT, "9", '{"to": 4155550001, "id": 9}'),)


def test_a_text_answer_gives_its_ids_by_regular_expression():
    mapping = AnswerMapping(success_rule="^success", message_id_regex=r"\| (\d+)\s*$")

    assert mapping.read("success | 919812345678 | 3562478123\n", ["+919812345678"]).ids == (
        "3562478123",
    )
    assert mapping.read("success | 91 | 1\nsuccess | 92 | 2", ["+1", "+2"]).ids == ()
    assert not mapping.read("error | 105 | Invalid", ["+1"]).ok


def test_a_multiline_text_answer_gives_one_id_per_line():
    mapping = AnswerMapping(message_id_regex=r"(?m)\| (\d+)$")

    assert mapping.read("success | 91 | 11\nsuccess | 92 | 22", ["+1", "+2"]).ids == ("11", "22")


def test_one_shared_id_is_stored_on_every_message_of_the_request():
    mapping = AnswerMapping(message_id_path="$.id", shared_message_id=True)

    assert (
        mapping.read('{"id": "01FC66621XXXXX"}', ["+1", "+2", "+3"]).ids == ("01FC66621XXXXX",) * 3
    )
    assert mapping.read('{"id": ["a", "b"]}', ["+1", "+2"]).ids == ()


def test_a_shared_id_with_items_is_read_in_the_whole_answer():
    mapping = AnswerMapping(
        message_id_path="$.id",
        shared_message_id=True,
        items_path="$.recipients.items[*]",
        recipient_path="$.recipient",
        item_success_rule='$.status == "sent"',
    )
    body = json.dumps(
        {
            "id": "mb-1",
            "recipients": {
                "items": [
                    {"recipient": 14155550001, "status": "sent"},
                    {"recipient": 14155550002, "status": "failed"},
                ]
            },
        }
    )

    assert states(mapping.read(body, ["+14155550001", "+14155550002"])) == [
        (ITEM_SENT, "mb-1"),
        (ITEM_FAILED, ""),
    ]


@pytest.mark.parametrize(
    ("rule", "body", "passes"),
    [
        ("$.code in [100, 101]", '{"code": 101}', True),
        ("$.code in [100, 101]", '{"code": 102}', False),
        ('$.code in["0"]', '{"code": "0"}', True),
        ("$.code in [1]", '{"code": true}', False),
    ],
)
def test_a_rule_may_list_the_values_that_pass(rule, body, passes):
    assert is_success(rule, body) is passes


@pytest.mark.parametrize(
    ("check", "value", "message"),
    [
        (check_item_rule, "^ok", "An item rule is a JSON path"),
        (check_item_rule, "$.code in 100", "After in comes a JSON array"),
        (check_item_rule, "$.code >= 100", "Unexpected '>= 100'"),
        (check_id_regex, "success (", "Not a valid regular expression"),
        (check_id_regex, r"\d+", "exactly one capture group"),
        (check_id_regex, r"(\d+)\|(\d+)", "and has 2"),
    ],
)
def test_it_rejects_malformed_item_rules_and_id_expressions(check, value, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace("|", r"\|")):
        check(value)
    check_item_rule('$.status == "0"')
    check_id_regex(r"\| (\d+)")
