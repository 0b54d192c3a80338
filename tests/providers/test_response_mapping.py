"""Reading a provider's answer: JSON paths, success rules and provider message ids (SPEC §3.4)."""

from __future__ import annotations

import pytest

from providers.response_mapping import (
    check_success_rule,
    is_success,
    parse_path,
    provider_message_ids,
    select,
)

DOCUMENT = {
    "status": "ok",
    "code": 0,
    "success": True,
    "count": 1,
    "messages": [{"id": "a1", "to": "+1"}, {"id": "a2", "to": "+2"}, {"to": "+3"}],
    "message ids": ["x", "y"],
    'odd "key"': 7,
    "nested": {"deeper": {"id": 42}},
    "ünï-code_1": "yes",
    "nothing": None,
}


# --- paths --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "selected"),
    [
        ("$", [DOCUMENT]),
        ("$.status", ["ok"]),
        ("$.nested.deeper.id", [42]),
        ("$.ünï-code_1", ["yes"]),
        ("$.nothing", [None]),
        ('$["message ids"]', [["x", "y"]]),
        ('$["message ids"][1]', ["y"]),
        ('$[ "status" ]', ["ok"]),
        (r'$["odd \"key\""]', [7]),
        ("$.messages[0].id", ["a1"]),
        ("$.messages[ 1 ].to", ["+2"]),
        ("$.messages[*].id", ["a1", "a2"]),
        ("$.messages[*].to", ["+1", "+2", "+3"]),
        ("$.messages[*]", DOCUMENT["messages"]),
    ],
)
def test_it_selects_what_each_path_form_names(path, selected):
    assert select(path, DOCUMENT) == selected


@pytest.mark.parametrize(
    "path",
    [
        "$.missing",
        "$.messages[3]",
        "$.messages[99].id",
        "$.messages.id",  # a key on an array
        "$.nested[0]",  # an index on an object
        "$.status[*]",  # a wildcard over a string
        "$.nested[*]",  # a wildcard over an object
        "$.status.length",
        "$.nothing.id",
    ],
)
def test_it_selects_nothing_for_a_path_that_does_not_fit(path):
    assert select(path, DOCUMENT) == []


def test_it_selects_nested_wildcards_in_order():
    document = {"batches": [{"r": [{"id": 1}, {"id": 2}]}, {"r": [{"id": 3}]}]}

    assert select("$.batches[*].r[*].id", document) == [1, 2, 3]


def test_it_selects_in_a_document_that_is_an_array_or_a_scalar():
    assert select("$[1]", ["a", "b"]) == ["b"]
    assert select("$[*]", [1, 2]) == [1, 2]
    assert select("$", "text") == ["text"]
    assert select("$.a", "text") == []


def test_it_ignores_blanks_around_a_path():
    assert parse_path("  $.a[0]  ") == ("a", 0)


def test_it_parses_each_step():
    assert parse_path('$.a["b c"][2][*]') == ("a", "b c", 2, None)


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("", "A JSON path starts with $, e.g. $.messages[*].id."),
        ("messages[*].id", "A JSON path starts with $, e.g. $.messages[*].id."),
        ("$..id", "Unexpected '..id' at character 2: "),
        ("$.a.", "Unexpected '.' at character 4: "),
        ("$a", "Unexpected 'a' at character 2: "),
        ("$.1st", "Unexpected '.1st' at character 2: "),
        ("$[-1]", "Unexpected '[-1]' at character 2: "),
        ("$['single']", "Unexpected \"['single']\" at character 2: "),
        ('$["unclosed]', "Unexpected '[\"unclosed]' at character 2: "),
        (r'$["bad \q escape"]', "Unexpected '[\"bad \\\\q escape\"]' at character 2: "),
        ("$.a[0", "Unexpected '[0' at character 4: "),
        ("$.a b", "Unexpected ' b' at character 4: "),
        ('$.status == "ok"', "Unexpected ' == \"ok\"' at character 9: "),
    ],
)
def test_it_rejects_a_malformed_path_saying_where(path, message):
    with pytest.raises(ValueError) as error:
        parse_path(path)

    assert str(error.value).startswith(message)
    if "Unexpected" in message:
        assert str(error.value).endswith('a path continues with .key, ["key"], [0] or [*].')


# --- success rules ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rule", "body", "ok"),
    [
        ('$.status == "ok"', '{"status": "ok"}', True),
        ('$.status == "ok"', '{"status": "error"}', False),
        ('$.status == "ok"', '{"status": "OK"}', False),
        ('$.status=="ok"', '{"status": "ok"}', True),
        ("$.success == true", '{"success": true}', True),
        ("$.success == true", '{"success": 1}', False),
        ("$.success == false", '{"success": 0}', False),
        ("$.success == false", '{"success": false}', True),
        ("$.code == 0", '{"code": 0}', True),
        ("$.code == 0", '{"code": 0.0}', True),
        ("$.code == 0", '{"code": "0"}', False),
        ("$.code == 0", '{"code": false}', False),
        ("$.code == 1", '{"code": true}', False),
        ("$.code == -1.5", '{"code": -1.5}', True),
        ("$.error == null", '{"error": null}', True),
        ("$.error == null", '{"other": 1}', False),
        ('$.tags == ["a", "b"]', '{"tags": ["a", "b"]}', True),
        (
            '$.results[*].status == "queued"',
            '{"results": [{"status": "failed"}, {"status": "queued"}]}',
            True,
        ),
        ('$.results[*].status == "queued"', '{"results": []}', False),
        ('$.status == "ok"', "status: ok", False),
        ('$.status == "ok"', "", False),
    ],
)
def test_it_applies_a_path_equals_literal_rule(rule, body, ok):
    assert is_success(rule, body) is ok


@pytest.mark.parametrize(
    ("body", "ok"),
    [
        ('{"id": "abc"}', True),
        ('{"id": 7}', True),
        ('{"id": true}', True),
        ('{"id": ""}', False),
        ('{"id": 0}', False),
        ('{"id": null}', False),
        ('{"id": false}', False),
        ('{"id": []}', False),
        ("{}", False),
        ("not json", False),
    ],
)
def test_it_applies_a_path_rule_as_exists_and_truthy(body, ok):
    assert is_success("$.id", body) is ok


@pytest.mark.parametrize(
    ("rule", "body", "ok"),
    [
        ("^OK", "OK: queued 1", True),
        ("^OK", "NOT OK", False),
        ("accepted", '{"state": "accepted"}', True),
        (r"id=\d+", "status=sent id=123", True),
        (r"id=\d+", "status=sent id=", False),
        ('"status":\\s*"ok"', '{"status": "ok"}', True),
    ],
)
def test_it_searches_a_regular_expression_in_the_raw_answer(rule, body, ok):
    assert is_success(rule, body) is ok


@pytest.mark.parametrize("rule", ["", "   "])
def test_it_accepts_every_answer_without_a_rule(rule):
    assert is_success(rule, "anything at all") is True
    check_success_rule(rule)


@pytest.mark.parametrize(
    "rule",
    ['$.status == "ok"', "$.success == true", "$.code == 0", "$.id", "^OK$", "sent|queued"],
)
def test_it_accepts_a_well_formed_rule(rule):
    check_success_rule(rule)


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        (
            "$.status == ok",
            'After == comes a JSON value: "text" in double quotes, a number, true, false or null.',
        ),
        ("$.status == 'ok'", "After == comes a JSON value:"),
        ("$.status ==", "After == comes a JSON value:"),
        ('$.status == "ok" extra', "After == comes a JSON value:"),
        ("$.code == 01", "After == comes a JSON value:"),
        (
            '$.status = "ok"',
            "Unexpected '= \"ok\"' at character 10: a path continues with "
            '.key, ["key"], [0] or [*], and may end with == and a JSON value.',
        ),
        ('$..status == "ok"', "Unexpected '..status == \"ok\"' at character 2:"),
        ('$.status != "ok"', "Unexpected '!= \"ok\"' at character 10:"),
        ("[unclosed", "Not a valid regular expression: unterminated character set at position 0."),
        ("(ok", "Not a valid regular expression: missing ), unterminated subpattern"),
        ("*ok", "Not a valid regular expression: nothing to repeat at position 0."),
    ],
)
def test_it_rejects_a_malformed_rule_with_a_clear_message(rule, message):
    with pytest.raises(ValueError) as error:
        check_success_rule(rule)

    assert str(error.value).startswith(message)
    with pytest.raises(ValueError):
        is_success(rule, "{}")


# --- provider message ids -----------------------------------------------------------------


def test_it_takes_one_id_for_one_message():
    assert provider_message_ids("$.id", '{"id": "p-1"}', 1) == ("p-1",)


def test_it_takes_the_ids_of_a_batch_in_order():
    body = '{"results": [{"id": "c"}, {"id": "a"}, {"id": "b"}]}'

    assert provider_message_ids("$.results[*].id", body, 3) == ("c", "a", "b")


def test_it_turns_numbers_into_strings():
    body = '{"results": [{"id": 12}, {"id": 12345678901234567890}, {"id": 1.5}]}'

    assert provider_message_ids("$.results[*].id", body, 3) == (
        "12",
        "12345678901234567890",
        "1.5",
    )


@pytest.mark.parametrize(
    ("path", "body", "count"),
    [
        ("$.id", '{"id": "only-one"}', 3),  # one id for three messages is not repeated
        ("$.r[*].id", '{"r": [{"id": "a"}, {"id": "b"}]}', 3),
        ("$.r[*].id", '{"r": [{"id": "a"}, {"id": "b"}, {"id": "c"}]}', 2),
        ("$.r[*].id", '{"r": [{"id": "a"}, {"id": null}, {"id": "c"}]}', 3),
        ("$.r[*].id", '{"r": [{"id": "a"}, {}, {"id": "c"}]}', 3),
        ("$.r[*].id", '{"r": [{"id": "a"}, {"id": ""}]}', 2),
        ("$.id", '{"id": null}', 1),
        ("$.id", '{"id": true}', 1),
        ("$.id", '{"id": {"value": 1}}', 1),
        ("$.id", '{"id": ["a"]}', 1),
        ("$.id", '{"other": "a"}', 1),
        ("$.id", "id=a", 1),
        ("$.id", "", 1),
        ("", '{"id": "a"}', 1),
        ("   ", '{"id": "a"}', 1),
    ],
)
def test_it_keeps_no_ids_unless_they_match_the_messages_one_to_one(path, body, count):
    assert provider_message_ids(path, body, count) == ()


def test_it_refuses_a_malformed_id_path():
    with pytest.raises(ValueError):
        provider_message_ids("$..id", '{"id": "a"}', 1)
