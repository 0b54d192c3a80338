from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from campaigns.compose import Composer
from campaigns.models import Campaign
from campaigns.personalize import (
    Placeholder,
    TemplateError,
    names,
    names_without_default,
    parse,
    render,
    validate,
)
from providers.templating import TEMPLATE_VARIABLES


@pytest.mark.parametrize(
    ("template", "parts"),
    [
        ("", ()),
        ("Hello", ("Hello",)),
        ("Hi {first_name}!", ("Hi ", Placeholder("first_name"), "!")),
        ("Hi {first_name|there}!", ("Hi ", Placeholder("first_name", "there"), "!")),
        ("{ First Name | dear customer }", (Placeholder("First Name", "dear customer"),)),
        ("{name|}", (Placeholder("name", ""),)),
        ("{a|b|c}", (Placeholder("a", "b|c"),)),
        (
            "{customer-id}{Prénom}{2fa}",
            (Placeholder("customer-id"), Placeholder("Prénom"), Placeholder("2fa")),
        ),
        ("{{first_name}}", ("{first_name}",)),
        ("{{{first_name}}}", ("{", Placeholder("first_name"), "}")),
        ("a {{ b }} c", ("a { b } c",)),
    ],
)
def test_it_parses_placeholders_and_literal_braces(template, parts):
    assert parse(template) == parts
    validate(template)


@pytest.mark.parametrize(
    ("template", "position", "message"),
    [
        (
            "Hello there {name",
            13,
            "Unclosed { at character 13: write {{ for a literal brace.",
        ),
        ("50% off {", 9, "Unclosed { at character 9: write {{ for a literal brace."),
        ("{a {b}", 1, "Unclosed { at character 1: write {{ for a literal brace."),
        ("{a|{b}}", 1, "Unclosed { at character 1: write {{ for a literal brace."),
        ("a } b", 3, "Unmatched } at character 3: write }} for a literal brace."),
        ("{name}}", 7, "Unmatched } at character 7: write }} for a literal brace."),
        (
            "Hi {}",
            4,
            "Empty {} at character 4: put an attribute name inside, e.g. {first_name}, "
            "or write {{ and }} for literal braces.",
        ),
        (
            "Hi {  }",
            4,
            "Empty {} at character 4: put an attribute name inside, e.g. {first_name}, "
            "or write {{ and }} for literal braces.",
        ),
        (
            "Hi {|there}",
            4,
            "Missing attribute name before | at character 4: write e.g. {first_name|there}.",
        ),
        (
            "Hi {first.name}",
            4,
            'Invalid attribute name "first.name" at character 4: names may contain letters, '
            "digits, _, - and spaces; write {{ and }} for literal braces.",
        ),
        (
            'x = {"a": 1}',
            5,
            'Invalid attribute name ""a": 1" at character 5: names may contain letters, '
            "digits, _, - and spaces; write {{ and }} for literal braces.",
        ),
    ],
)
def test_it_rejects_bad_braces_saying_where(template, position, message):
    with pytest.raises(TemplateError) as error:
        validate(template)
    assert str(error.value) == message
    assert error.value.position == position
    assert isinstance(error.value, ValueError)
    with pytest.raises(TemplateError):
        render(template, {})


def test_it_lists_the_names_used_once_each_in_order():
    template = "{b|x} {a} {b} {c|y} {a|z} {c|w}"
    assert names(template) == ["b", "a", "c"]
    assert names_without_default(template) == ["a", "b"]
    assert names("No placeholders {{here}}") == []


@pytest.mark.parametrize(
    ("attributes", "expected"),
    [
        ({"first_name": "Ann"}, "Hi Ann, your code is 42. Bye Ann"),
        ({"first_name": "  "}, "Hi there, your code is 42. Bye   "),
        ({"first_name": ""}, "Hi there, your code is 42. Bye "),
        ({}, "Hi there, your code is 42. Bye "),
        ({"First_Name": "Ann"}, "Hi there, your code is 42. Bye "),
    ],
)
def test_it_renders_attributes_with_fallbacks(attributes, expected):
    template = "Hi {first_name|there}, your code is {code}. Bye {first_name}"
    assert render(template, {**attributes, "code": "42"}) == expected


def test_it_renders_a_missing_attribute_without_fallback_as_nothing():
    assert render("Hi {first_name}!", {}) == "Hi !"


def test_it_renders_non_text_attribute_values():
    assert render("{points} points, {vip|no}", {"points": 120, "vip": None}) == "120 points, no"


def test_it_never_expands_a_value_again():
    attributes = {"a": "{b}", "b": "B", "c": "{{ }} {"}
    assert render("{a} {b} {c}", attributes) == "{b} B {{ }} {"


def test_it_caches_parsing():
    parse.cache_clear()
    parse("Hi {name}")
    parse("Hi {name}")
    assert parse.cache_info().hits == 1


# Valid templates built from parts, with the text they must render to.
plain_names = st.from_regex(r"[A-Za-z0-9_-]{1,8}( [A-Za-z0-9_-]{1,8})?", fullmatch=True)
defaults = st.none() | st.text(st.characters(exclude_characters="{}"), max_size=10).map(str.strip)
placeholders = st.builds(Placeholder, plain_names, defaults)
literals = st.text(max_size=20)
values = st.text(max_size=10) | st.sampled_from(["{a}", "{{", "}", " ", "{a|b}"])


def source(part: str | Placeholder) -> str:
    if isinstance(part, str):
        return part.replace("{", "{{").replace("}", "}}")
    return f"{{{part.name}}}" if part.default is None else f"{{{part.name}|{part.default}}}"


def expected_text(part: str | Placeholder, attributes: dict[str, str]) -> str:
    if isinstance(part, str):
        return part
    value = attributes.get(part.name, "")
    if part.default is not None and not value.strip():
        return part.default
    return value


@given(
    st.lists(literals | placeholders, max_size=8),
    st.dictionaries(plain_names, values, max_size=6),
    st.lists(st.booleans(), min_size=8, max_size=8),
)
def test_it_renders_any_valid_template_in_one_pass(parts, attributes, present):
    template = "".join(source(part) for part in parts)
    for part, has_it in zip(parts, present, strict=False):
        if isinstance(part, Placeholder) and has_it:
            attributes.setdefault(part.name, "{" + part.name + "}")  # a value that looks like one
    validate(template)
    assert render(template, attributes) == "".join(expected_text(p, attributes) for p in parts)
    assert names(template) == list(
        dict.fromkeys(p.name for p in parts if isinstance(p, Placeholder))
    )


@given(st.text(max_size=40), st.dictionaries(st.text(max_size=5), st.text(max_size=5)))
def test_it_either_renders_or_raises_template_error(template, attributes):
    try:
        validate(template)
    except TemplateError as error:
        assert 1 <= error.position <= len(template)
        return
    assert isinstance(render(template, attributes), str)


@pytest.mark.parametrize(
    ("variables", "attributes", "expected"),
    [
        ("{first_name},{city|Paris}", {"first_name": "Ada", "city": "Rome"}, "Ada,Rome"),
        ("{first_name},{city|Paris}", {"first_name": "Bo"}, "Bo,Paris"),
        ("VIP", {"first_name": "Ada"}, "VIP"),
        ('{{"name": "{first_name|friend}"}}', {}, '{"name": "friend"}'),
    ],
)
def test_template_variables_render_per_recipient_like_the_body(variables, attributes, expected):
    campaign = Campaign(pk=7, body="Hi", template_variables=variables)

    composer = Composer(campaign)

    # What the payload builder renders a message with: the campaign's values, then its own.
    values = {**composer.shared_values, **composer.message_values(1, attributes)}
    assert values[TEMPLATE_VARIABLES] == expected


def test_template_variables_without_attributes_are_shared_by_every_message():
    composer = Composer(Campaign(pk=7, body="Hi {first_name}", template_variables="A,{{B}}"))

    assert composer.shared_values[TEMPLATE_VARIABLES] == "A,{B}"
    assert TEMPLATE_VARIABLES not in composer.message_values(1, {"first_name": "Ada"})
