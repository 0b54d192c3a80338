"""`$$` tokens and the JSON-with-comments reader (SPEC §3.1, §2.2)."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from providers.templating import (
    SYSTEM_TOKENS,
    custom_tokens,
    find_tokens,
    parse_json_template,
    strings_in,
    strip_json_comments,
)


def test_it_finds_every_token_in_every_text():
    texts = ["Bearer $$Token", '{"to": "$$To", "text": "$$Body"}', "", None]

    assert find_tokens(texts) == {"Token", "To", "Body"}


def test_it_reads_a_token_name_as_letters_digits_and_underscores():
    assert find_tokens(["$$To,$$Body.$$a_1-$$_x9 $$Sender!"]) == {
        "To",
        "Body",
        "a_1",
        "_x9",
        "Sender",
    }


def test_it_does_not_take_a_name_starting_with_a_digit_or_a_single_dollar():
    assert find_tokens(["$$1abc", "$To", "$ $Body", "$$", "price: 5$$"]) == set()


def test_it_takes_the_token_after_a_third_dollar():
    assert find_tokens(["$$$To"]) == {"To"}


def test_it_is_case_sensitive():
    assert find_tokens(["$$to $$TO $$To"]) == {"to", "TO", "To"}


def test_it_lists_custom_tokens_sorted_without_system_tokens():
    texts = ["$$uid $$To $$Body $$TemplateID", "$$TemplateVariables $$CampaignID $$MessageID $$hid"]

    assert custom_tokens(texts) == ["hid", "uid"]


def test_it_lists_each_custom_token_once():
    assert custom_tokens(["$$hid", "$$hid-$$hid"]) == ["hid"]


def test_it_has_exactly_the_system_tokens_of_the_spec():
    spec = {"To", "Body", "TemplateID", "TemplateVariables", "CampaignID", "MessageID"}

    assert spec == SYSTEM_TOKENS


def test_it_has_no_custom_tokens_when_only_system_tokens_are_used():
    assert custom_tokens(["$$To $$Body"]) == []


def test_it_removes_a_comment_at_the_end_of_a_line():
    text = '{\n  "to": "$$To", // the recipient\n  "body": "$$Body"\n}'

    assert strip_json_comments(text) == '{\n  "to": "$$To", \n  "body": "$$Body"\n}'


def test_it_removes_a_comment_on_a_line_of_its_own_and_at_the_end_of_the_text():
    text = '// the payload\n{"a": 1}\n// the end'

    assert strip_json_comments(text) == '\n{"a": 1}\n'


def test_it_keeps_the_line_breaks_so_errors_point_at_the_right_line():
    text = '{\n// one\n// two\n"a": }'

    with pytest.raises(json.JSONDecodeError) as excinfo:
        parse_json_template(text)

    assert excinfo.value.lineno == 4


def test_it_keeps_double_slashes_inside_strings():
    text = '{"url": "http://x.example/a//b", "note": "//not a comment"}'

    assert strip_json_comments(text) == text


def test_it_handles_escaped_quotes_inside_strings():
    text = '{"a": "say \\"hi\\" // still a string", "b": 1} // a comment'

    assert strip_json_comments(text) == '{"a": "say \\"hi\\" // still a string", "b": 1} '
    assert json.loads(strip_json_comments(text)) == {"a": 'say "hi" // still a string', "b": 1}


def test_it_handles_an_escaped_backslash_before_the_closing_quote():
    text = '{"path": "C:\\\\", "u": "http://x"} // comment'

    assert strip_json_comments(text) == '{"path": "C:\\\\", "u": "http://x"} '
    assert json.loads(strip_json_comments(text)) == {"path": "C:\\", "u": "http://x"}


def test_it_keeps_a_single_slash_outside_strings():
    # Not JSON, but not a comment either: the parser must report it, not the stripper hide it.
    assert strip_json_comments('{"a": 1 / 2}') == '{"a": 1 / 2}'


def test_it_parses_a_template_with_comments():
    text = """{
      "tid": "$$TemplateID", // template
      "msgs": [ // one object per message
        {"to": "$$To", "link": "https://example.com//x"}
      ]
    }"""

    assert parse_json_template(text) == {
        "tid": "$$TemplateID",
        "msgs": [{"to": "$$To", "link": "https://example.com//x"}],
    }


def test_it_raises_on_invalid_json():
    with pytest.raises(json.JSONDecodeError):
        parse_json_template('{"a": }')


def test_it_yields_every_key_and_string_value_of_a_parsed_document():
    value = {"k$$A": ["$$B", {"c": "$$C", "n": 1, "t": True, "z": None}], "d": 2.5}

    assert list(strings_in(value)) == ["k$$A", "$$B", "c", "$$C", "n", "t", "z", "d"]


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(), children, max_size=4)
    ),
    max_leaves=20,
)


@given(json_values, st.booleans(), st.sampled_from([None, 2]))
def test_it_leaves_a_document_without_comments_unchanged(value, ensure_ascii, indent):
    text = json.dumps(value, ensure_ascii=ensure_ascii, indent=indent)

    assert strip_json_comments(text) == text


@given(st.dictionaries(st.text(), st.text(), max_size=5), st.text().filter(lambda t: "\n" not in t))
def test_it_parses_a_document_with_a_trailing_comment_to_the_same_value(value, comment):
    text = json.dumps(value, ensure_ascii=False) + " //" + comment

    assert parse_json_template(text) == value
