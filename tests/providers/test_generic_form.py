"""The Generic (HTTP) provider setup form: every rule of SPEC §2.2, good and bad."""

from __future__ import annotations

import pytest

from campaigns import retire
from providers import services
from providers.fields import is_http_url
from providers.kinds.generic.config import EXAMPLE_JSON, has_callbacks, template_texts
from providers.kinds.generic.form import GenericProviderForm
from providers.models import Provider

from .helpers import JSON_BODY, create_generic, generic_data

REQUIRED = "This field is required."
BAD_URL = "Enter an absolute http:// or https:// URL."
TO_JSON = "$$To must appear in the headers or the JSON payload."
TO_KV = "$$To must appear in the headers or parameters."
BODY_JSON = "$$Body or $$TemplateID must appear in the headers or the JSON payload."
BODY_KV = "$$Body or $$TemplateID must appear in the headers or parameters."
ONE_OBJECT = "'msgs' must hold an array of exactly one object (the per-message part)."
RECORDS = "Enter a number from 1 to 1000."
JSON_OK = '{"to": "$$To", "text": "$$Body"}'

BATCHED = """{
  "sender": "ACME", // global part
  "tid": "$$TemplateID",
  "msgs": [
    {"to": "$$To", "mid": "$$MessageID", "text": "$$Body", "uid": "$$uid"}
  ]
}"""


def form_for(provider=None, **kwargs) -> GenericProviderForm:
    return GenericProviderForm(generic_data(**kwargs), provider=provider)


def form_config(**kwargs) -> dict:
    form = form_for(**kwargs)
    assert form.is_valid(), form.errors
    return form.to_config()


def errors_of(**kwargs) -> dict:
    form = form_for(**kwargs)
    assert not form.is_valid()
    return form.errors


def batched(**kwargs) -> GenericProviderForm:
    kwargs.setdefault("json_body", BATCHED)
    kwargs.setdefault("batch_key", "msgs")
    return form_for(batching=True, **kwargs)


# --- the happy path ---------------------------------------------------------------------------


def test_it_accepts_a_complete_post_json_setup(db):
    form = form_for()

    assert form.is_valid(), form.errors


# --- Nickname -----------------------------------------------------------------------------


def test_it_requires_a_nickname(db):
    assert errors_of(nickname="") == {"nickname": [REQUIRED]}


def test_it_requires_a_nickname_that_is_not_only_blanks(db):
    assert errors_of(nickname="   ") == {"nickname": [REQUIRED]}


def test_it_rejects_a_nickname_used_by_another_provider_in_any_case(db):
    create_generic(nickname="Acme SMS")

    assert errors_of(nickname="aCME sms") == {
        "nickname": ["Another provider already uses this nickname."]
    }


def test_it_rejects_a_nickname_used_by_an_archived_provider(db):
    retire.archive_provider(create_generic(nickname="Old SMS"), None)

    assert errors_of(nickname="old sms") == {
        "nickname": ["Another provider already uses this nickname."]
    }


def test_it_accepts_a_nickname_no_other_provider_uses(db):
    create_generic(nickname="Acme SMS")

    assert form_for(nickname="Acme SMS 2").is_valid()


def test_it_lets_a_provider_keep_or_recase_its_own_nickname(db):
    provider = create_generic(nickname="Acme SMS")

    assert form_for(provider, nickname="Acme SMS").is_valid()
    assert form_for(provider, nickname="ACME sms").is_valid()


def test_it_strips_blanks_around_the_nickname(db):
    form = form_for(nickname="  Acme SMS  ")

    assert form.is_valid()
    assert form.cleaned_data["nickname"] == "Acme SMS"


def test_it_rejects_a_nickname_longer_than_100_characters(db):
    assert errors_of(nickname="x" * 101) == {
        "nickname": ["Ensure this value has at most 100 characters (it has 101)."]
    }


# --- HTTP Endpoint ------------------------------------------------------------------------


def test_it_requires_an_endpoint(db):
    assert errors_of(endpoint="") == {"endpoint": [REQUIRED]}


@pytest.mark.parametrize(
    "endpoint",
    [
        "ftp://files.example.com/sms",
        "/api/sms/send",
        "api.example.com/sms",
        "not a url",
        "http://",
        "https:api.example.com",
        "javascript:alert(1)",
        "http://[::1",
    ],
)
def test_it_rejects_an_endpoint_that_is_not_an_absolute_http_url(db, endpoint):
    assert errors_of(endpoint=endpoint) == {"endpoint": [BAD_URL]}


@pytest.mark.parametrize(
    "endpoint",
    ["http://127.0.0.1:8025/send", "https://api.example.com/v1/sms?key=1", "HTTPS://API.EXAMPLE"],
)
def test_it_accepts_an_absolute_http_or_https_endpoint(db, endpoint):
    form = form_for(endpoint=f"  {endpoint}  ")

    assert form.is_valid(), form.errors
    assert form.cleaned_data["endpoint"] == endpoint


def test_it_does_not_crash_on_a_malformed_host():
    assert is_http_url("http://[::1") is False
    assert is_http_url("http://[::1]:8000/") is True


# --- $$To and $$Body / $$TemplateID -------------------------------------------------------


def test_it_requires_to_in_the_json_payload_or_headers(db):
    assert errors_of(json_body='{"text": "$$Body"}') == {"json_body": [TO_JSON]}


def test_it_accepts_to_in_a_header(db):
    form = form_for(json_body='{"text": "$$Body"}', headers=[("X-To", "$$To")])

    assert form.is_valid(), form.errors


def test_it_requires_to_in_the_parameters_or_headers_for_key_value(db):
    errors = errors_of(body_format="kv", params=[("text", "$$Body"), ("to", "$To")])

    assert errors == {"params": [TO_KV]}


def test_it_accepts_to_in_the_key_value_parameters(db):
    form = form_for(body_format="kv", params=[("to", "$$To"), ("text", "$$Body")])

    assert form.is_valid(), form.errors


def test_it_counts_a_token_written_in_a_json_key(db):
    form = form_for(json_body='{"$$To": "$$Body"}')

    assert form.is_valid(), form.errors


def test_it_requires_body_or_template_id(db):
    assert errors_of(json_body='{"to": "$$To", "x": "$$TemplateVariables"}') == {
        "json_body": [BODY_JSON]
    }


def test_it_requires_body_or_template_id_for_key_value(db):
    assert errors_of(body_format="kv", params=[("to", "$$To")]) == {"params": [BODY_KV]}


def test_it_reports_both_missing_tokens_on_the_payload(db):
    assert errors_of(json_body='{"a": "b"}') == {"json_body": [TO_JSON, BODY_JSON]}


def test_it_accepts_template_id_instead_of_body(db):
    assert form_for(json_body='{"to": "$$To", "tid": "$$TemplateID"}').is_valid()


def test_it_accepts_body_in_a_header(db):
    form = form_for(json_body='{"to": "$$To"}', headers=[("X-Text", "$$Body")])

    assert form.is_valid(), form.errors


def test_it_ignores_tokens_written_only_in_comments(db):
    body = '{"a": "b"} // "to": "$$To", "text": "$$Body"'

    assert errors_of(json_body=body) == {"json_body": [TO_JSON, BODY_JSON]}


# --- JSON ---------------------------------------------------------------------------------


def test_it_requires_the_json_payload(db):
    assert errors_of(json_body="   ") == {"json_body": ["Enter the JSON payload."]}


def test_it_rejects_json_that_does_not_parse_with_its_position(db):
    errors = errors_of(json_body='{"to": "$$To"\n "text": "$$Body"}')

    assert errors == {"json_body": ["Invalid JSON: Expecting ',' delimiter (line 2, column 2)."]}


@pytest.mark.parametrize("body", ['["$$To", "$$Body"]', '"$$To $$Body"', "42", "null"])
def test_it_rejects_json_that_is_not_an_object(db, body):
    assert errors_of(json_body=body) == {
        "json_body": ["The JSON payload must be an object ({ … })."]
    }


def test_it_accepts_json_with_line_comments(db):
    body = """{
      // pasted from the provider's docs
      "to": "$$To", // the recipient
      "url": "https://example.com//x", // slashes in a string stay
      "text": "$$Body"
    }"""
    form = form_for(json_body=body)

    assert form.is_valid(), form.errors
    assert form.cleaned_data["json_body"] == body


def test_it_accepts_the_example_payload(db):
    assert form_for(json_body=EXAMPLE_JSON).is_valid()


# --- Batching -----------------------------------------------------------------------------


def test_it_accepts_a_batched_payload(db):
    form = batched()

    assert form.is_valid(), form.errors


def test_it_requires_a_batch_key(db):
    form = batched(batch_key="  ")

    assert not form.is_valid()
    assert form.errors == {"batch_key": [REQUIRED]}


def test_it_requires_the_batch_key_at_the_top_level(db):
    body = '{"data": {"msgs": [{"to": "$$To", "text": "$$Body"}]}}'
    form = batched(json_body=body)

    assert not form.is_valid()
    assert form.errors == {"batch_key": ["The JSON payload has no top-level key 'msgs'."]}


@pytest.mark.parametrize(
    "msgs",
    [
        "[]",
        '[{"to": "$$To", "text": "$$Body"}, {"to": "$$To", "text": "$$Body"}]',
        '"$$To $$Body"',
        '{"to": "$$To", "text": "$$Body"}',
        '["$$To"]',
        "[[]]",
        "null",
    ],
)
def test_it_requires_the_batch_key_to_hold_an_array_of_exactly_one_object(db, msgs):
    form = batched(json_body=f'{{"all": "$$To $$Body", "msgs": {msgs}}}')

    assert not form.is_valid()
    assert form.errors == {"batch_key": [ONE_OBJECT]}


def test_it_requires_to_inside_the_batch_object(db):
    form = batched(json_body='{"to": "$$To", "msgs": [{"text": "$$Body"}]}')

    assert not form.is_valid()
    assert form.errors == {"json_body": ["$$To must be inside the 'msgs' object."]}


def test_it_rejects_to_in_the_global_part_too(db):
    form = batched(json_body='{"to": "$$To", "msgs": [{"to": "$$To", "text": "$$Body"}]}')

    assert not form.is_valid()
    assert form.errors == {"json_body": ["$$To must be inside the 'msgs' object."]}


def test_it_rejects_message_id_in_the_global_part(db):
    body = '{"ref": "$$MessageID", "msgs": [{"to": "$$To", "text": "$$Body"}]}'
    form = batched(json_body=body)

    assert not form.is_valid()
    assert form.errors == {"json_body": ["$$MessageID must be inside the 'msgs' object."]}


def test_it_rejects_per_message_tokens_in_headers_when_batching(db):
    form = batched(headers=[("X-Ref", "$$MessageID"), ("X-To", "$$To")])

    assert not form.is_valid()
    assert form.errors == {
        "headers": [
            "$$MessageID must be inside the 'msgs' object, not a header.",
            "$$To must be inside the 'msgs' object, not a header.",
        ]
    }


def test_it_accepts_message_id_in_a_header_without_batching(db):
    form = form_for(headers=[("X-Ref", "$$MessageID")])

    assert form.is_valid(), form.errors


def test_it_accepts_a_payload_without_message_id_when_batching(db):
    form = batched(json_body='{"msgs": [{"to": "$$To", "text": "$$Body"}]}')

    assert form.is_valid(), form.errors


def test_it_accepts_custom_tokens_in_the_global_part(db):
    form = batched(json_body='{"sender": "$$sender", "msgs": [{"to": "$$To", "t": "$$Body"}]}')

    assert form.is_valid(), form.errors


@pytest.mark.parametrize("records", ["0", "1001", "-5"])
def test_it_rejects_records_per_batch_outside_1_to_1000(db, records):
    form = batched(records_per_batch=records)

    assert not form.is_valid()
    assert form.errors == {"records_per_batch": [RECORDS]}


@pytest.mark.parametrize("records", ["1", "1000", "100"])
def test_it_accepts_records_per_batch_from_1_to_1000(db, records):
    form = batched(records_per_batch=records)

    assert form.is_valid(), form.errors
    assert form.to_config()["records_per_batch"] == int(records)


def test_it_requires_records_per_batch_when_batching(db):
    form = batched(records_per_batch="")

    assert not form.is_valid()
    assert form.errors == {"records_per_batch": [REQUIRED]}


def test_it_reports_a_non_number_of_records_once(db):
    form = batched(records_per_batch="lots")

    assert not form.is_valid()
    assert form.errors == {"records_per_batch": ["Enter a whole number."]}


def test_it_ignores_the_batching_fields_without_batching(db):
    form = form_for(batch_key="nope", records_per_batch="0")

    assert form.is_valid(), form.errors


def test_it_ignores_batching_for_key_value_parameters(db):
    form = form_for(
        body_format="kv",
        batching=True,
        batch_key="",
        params=[("to", "$$To"), ("text", "$$Body")],
    )

    assert form.is_valid(), form.errors
    assert form.to_config()["batching"] is False


# --- Authentication -----------------------------------------------------------------------


def test_it_requires_username_and_password_for_basic_auth(db):
    assert errors_of(auth_type="basic") == {
        "basic_username": [REQUIRED],
        "basic_password": [REQUIRED],
    }


def test_it_requires_the_password_for_basic_auth(db):
    assert errors_of(auth_type="basic", basic_username="acme") == {"basic_password": [REQUIRED]}


def test_it_requires_the_username_for_basic_auth(db):
    assert errors_of(auth_type="basic", basic_password="pw-1") == {"basic_username": [REQUIRED]}


def test_it_accepts_basic_auth_with_username_and_password(db):
    form = form_for(auth_type="basic", basic_username="acme", basic_password="s3cret-pw")

    assert form.is_valid(), form.errors
    assert form.typed_secrets() == {"basic_password": "s3cret-pw"}


def test_it_keeps_a_saved_password_when_left_blank(db):
    provider = create_generic(auth_type="basic", basic_username="acme", basic_password="s3cret-pw")
    form = form_for(provider, auth_type="basic", basic_username="acme", basic_password="")

    assert form.fields["basic_password"].help_text == "Saved — leave blank to keep."
    assert form.is_valid(), form.errors
    saved = services.save_from_form(form, None)
    assert saved.get_secrets() == {"basic_password": "s3cret-pw"}


def test_it_replaces_a_saved_password_when_a_new_one_is_typed(db):
    provider = create_generic(auth_type="basic", basic_username="acme", basic_password="old-pw")
    form = form_for(provider, auth_type="basic", basic_username="acme", basic_password="new-pw")

    assert form.is_valid(), form.errors
    assert services.save_from_form(form, None).get_secrets() == {"basic_password": "new-pw"}


def test_it_does_not_say_saved_when_nothing_is_saved(db):
    form = GenericProviderForm()

    assert form.fields["basic_password"].help_text == ""
    assert form.fields["basic_password"].is_saved is False


def test_it_drops_the_password_when_authentication_is_turned_off(db):
    provider = create_generic(auth_type="basic", basic_username="acme", basic_password="pw-1")
    form = form_for(provider, auth_type="none", basic_username="acme", basic_password="")

    assert form.is_valid(), form.errors
    saved = services.save_from_form(form, None)
    assert saved.get_secrets() == {}
    assert saved.secrets_encrypted == ""
    assert saved.config["basic_username"] == ""


def test_it_requires_client_url_id_and_secret_for_oauth(db):
    assert errors_of(auth_type="oauth2") == {
        "oauth_client_url": [REQUIRED],
        "oauth_client_id": [REQUIRED],
        "oauth_secret_key": [REQUIRED],
    }


@pytest.mark.parametrize("url", ["ftp://auth.example.com/token", "auth.example.com", "/token"])
def test_it_requires_an_http_client_url_for_oauth(db, url):
    errors = errors_of(
        auth_type="oauth2", oauth_client_url=url, oauth_client_id="id", oauth_secret_key="k"
    )

    assert errors == {"oauth_client_url": [BAD_URL]}


def test_it_accepts_oauth_with_url_id_secret_and_extra_pairs(db):
    form = form_for(
        auth_type="oauth2",
        oauth_client_url="https://auth.example.com/token",
        oauth_client_id="client-1",
        oauth_secret_key="oauth-secret-1",
        oauth_extra=[("scope", "sms"), ("", "")],
    )

    assert form.is_valid(), form.errors
    assert form.typed_secrets() == {"oauth_secret_key": "oauth-secret-1"}
    assert form.to_config()["oauth_extra"] == [["scope", "sms"]]


def test_it_keeps_a_saved_oauth_secret_when_left_blank(db):
    oauth = {
        "auth_type": "oauth2",
        "oauth_client_url": "https://auth.example.com/token",
        "oauth_client_id": "client-1",
    }
    provider = create_generic(oauth_secret_key="oauth-secret-1", **oauth)
    form = form_for(provider, oauth_secret_key="", **oauth)

    assert form.is_valid(), form.errors
    assert services.save_from_form(form, None).get_secrets() == {
        "oauth_secret_key": "oauth-secret-1"
    }


# --- Headers and key/value rows -----------------------------------------------------------


@pytest.mark.parametrize("value", ["a\nb", "a\rb", "a\r\nX-Injected: 1"])
def test_it_rejects_a_header_value_with_a_line_break(db, value):
    assert errors_of(headers=[("X-Note", value)]) == {
        "headers": ["Header 'X-Note' contains a line break."]
    }


@pytest.mark.parametrize("name", ["X-A\nX-B", "X Bad", "a:b", "Ünïcode", "X(1)"])
def test_it_rejects_a_header_name_that_http_does_not_allow(db, name):
    assert errors_of(headers=[(name, "1")]) == {
        "headers": [f"{name!r} is not a valid header name (letters, digits and - _ . only)."]
    }


@pytest.mark.parametrize("name", ["X-Api-Key", "Authorization", "x_custom.v2", "X-Rate~1"])
def test_it_accepts_header_names_http_allows(db, name):
    assert form_for(headers=[(name, "1")]).is_valid()


def test_it_rejects_a_header_with_a_value_but_no_key(db):
    assert errors_of(headers=[("X-Ok", "1"), ("  ", "$$To")]) == {
        "headers": ["Every header needs a key."]
    }


def test_it_rejects_a_parameter_with_a_value_but_no_key(db):
    errors = errors_of(body_format="kv", params=[("to", "$$To"), ("", "$$Body")])

    assert errors == {"params": ["Every parameter needs a key."]}


def test_it_rejects_an_oauth_pair_with_a_value_but_no_key(db):
    errors = errors_of(
        auth_type="oauth2",
        oauth_client_url="https://auth.example.com/token",
        oauth_client_id="client-1",
        oauth_secret_key="k",
        oauth_extra=[("", "sms")],
    )

    assert errors == {"oauth_extra": ["Every extra pair needs a key."]}


def test_it_drops_blank_rows_and_trims_keys_but_keeps_values(db):
    form = form_for(
        headers=[("", ""), ("  X-Api-Key ", " $$apikey "), ("", "   ")],
    )

    assert form.is_valid(), form.errors
    assert form.cleaned_data["headers"] == [("X-Api-Key", " $$apikey ", False)]


def test_it_accepts_a_header_with_a_key_and_no_value(db):
    form = form_for(headers=[("X-Empty", "")])

    assert form.is_valid(), form.errors
    assert form.cleaned_data["headers"] == [("X-Empty", "", False)]


# --- GET ----------------------------------------------------------------------------------


def test_it_uses_the_parameters_for_get_and_ignores_the_json(db):
    form = form_for(
        request_type="GET",
        json_body="{ this is not json",
        params=[("to", "$$To"), ("text", "$$Body")],
    )

    assert form.is_valid(), form.errors
    config = form.to_config()
    assert config["params"] == [["to", "$$To"], ["text", "$$Body"]]
    assert config["json_body"] == ""
    assert config["body_format"] == "kv"


def test_it_does_not_take_tokens_from_the_json_for_get(db):
    assert errors_of(request_type="GET", json_body=JSON_OK) == {"params": [TO_KV, BODY_KV]}


def test_it_keeps_the_default_choices_when_their_controls_are_not_posted(db):
    form = form_for(body_format=None, number_format=None, auth_type=None)

    assert form.is_valid(), form.errors
    assert form.cleaned_data["body_format"] == "json"
    assert form.cleaned_data["number_format"] == "e164"
    assert form.cleaned_data["auth_type"] == "none"


def test_it_rejects_an_unknown_request_type(db):
    assert errors_of(request_type="PUT") == {
        "request_type": ["Select a valid choice. PUT is not one of the available choices."]
    }


def test_it_rejects_an_unknown_number_format(db):
    assert errors_of(number_format="local") == {
        "number_format": ["Select a valid choice. local is not one of the available choices."]
    }


# --- custom replacements ------------------------------------------------------------------


def test_it_lists_the_custom_tokens_typed_in_headers_and_json(db):
    form = form_for(
        headers=[("X-Hid", "$$hid")],
        json_body='{"to": "$$To", "text": "$$Body", "user": "$$uid"} // not $$here',
    )

    assert form.detected_custom_tokens() == ["hid", "uid"]


def test_it_lists_the_custom_tokens_of_key_value_parameters(db):
    form = form_for(
        body_format="kv",
        json_body='{"in_json": "$$ignored"}',
        params=[("to", "$$To"), ("uid", "$$uid"), ("hid", "$$hid")],
    )

    assert form.detected_custom_tokens() == ["hid", "uid"]


def test_it_lists_custom_tokens_even_when_the_form_is_invalid(db):
    form = form_for(endpoint="", json_body='{"a": "$$uid", ')

    assert not form.is_valid()
    assert form.detected_custom_tokens() == ["uid"]


def test_it_lists_the_saved_custom_tokens_on_the_edit_form(db):
    provider = create_generic(headers=[("X-Hid", "$$hid")])

    assert GenericProviderForm(provider=provider).detected_custom_tokens() == ["hid"]


def test_it_lists_no_custom_tokens_for_system_tokens_only(db):
    assert form_for().detected_custom_tokens() == []


def test_it_knows_whether_callbacks_can_be_matched(db):
    with_id = create_generic(nickname="With id")
    without_id = create_generic(nickname="Without id", json_body=JSON_OK)
    in_comment = create_generic(nickname="Comment", json_body=JSON_OK + " // $$MessageID")
    in_header = create_generic(
        nickname="Header", json_body=JSON_OK, headers=[("X-Ref", "$$MessageID")]
    )

    assert has_callbacks(with_id.config) is True
    assert has_callbacks(without_id.config) is False
    assert has_callbacks(in_comment.config) is False
    assert has_callbacks(in_header.config) is True


def test_it_lists_the_texts_that_may_hold_tokens(db):
    config = form_config(headers=[("X-A", "$$a")], json_body='{"b": "$$b $$To $$Body"} // $$c')

    assert template_texts(config) == ["$$a", '{"b": "$$b $$To $$Body"} ']


# --- Response and pacing ------------------------------------------------------------------


@pytest.mark.parametrize(
    "rule",
    ['$.status == "ok"', "$.success == true", "$.code == 0", "$.id", "^OK", "queued|sent"],
)
def test_it_accepts_a_success_rule(db, rule):
    config = form_config(success_rule=f"  {rule}  ")

    assert config["success_rule"] == rule


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        (
            "$.status == ok",
            'After == comes a JSON value: "text" in double quotes, a number, true, false or null.',
        ),
        (
            '$..status == "ok"',
            "Unexpected '..status == \"ok\"' at character 2: a path continues with .key, "
            '["key"], [0] or [*], and may end with == and a JSON value.',
        ),
        ("[unclosed", "Not a valid regular expression: unterminated character set at position 0."),
    ],
)
def test_it_rejects_a_malformed_success_rule_at_the_field(db, rule, message):
    assert errors_of(success_rule=rule) == {"success_rule": [message]}


@pytest.mark.parametrize("path", ["$.id", "$.messages[*].id", '$["message ids"][0]'])
def test_it_accepts_a_provider_message_id_path(db, path):
    config = form_config(message_id_path=f" {path} ")

    assert config["message_id_path"] == path


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("messages[*].id", "A JSON path starts with $, e.g. $.messages[*].id."),
        (
            "$.messages[*].id == 1",
            "Unexpected ' == 1' at character 17: a path continues with .key, [\"key\"], [0] "
            "or [*].",
        ),
        (
            "$.a[-1]",
            "Unexpected '[-1]' at character 4: a path continues with .key, [\"key\"], [0] or [*].",
        ),
    ],
)
def test_it_rejects_a_malformed_provider_message_id_path_at_the_field(db, path, message):
    assert errors_of(message_id_path=path) == {"message_id_path": [message]}


@pytest.mark.parametrize(("typed", "saved"), [("0.1", 0.1), ("5", 5.0), ("10000", 10000.0)])
def test_it_accepts_a_rate_limit_from_0_1_to_10000(db, typed, saved):
    assert form_config(rate_limit=typed)["rate_limit"] == saved


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("0", "Ensure this value is greater than or equal to 0.1."),
        ("0.05", "Ensure this value is greater than or equal to 0.1."),
        ("-3", "Ensure this value is greater than or equal to 0.1."),
        ("10000.5", "Ensure this value is less than or equal to 10000."),
        ("fast", "Enter a number."),
        ("inf", "Enter a number."),
        ("nan", "Enter a number."),
    ],
)
def test_it_rejects_a_rate_limit_outside_0_1_to_10000(db, typed, message):
    assert errors_of(rate_limit=typed) == {"rate_limit": [message]}


def test_it_saves_blank_response_and_pacing_fields_as_no_mapping_and_no_limit(db):
    config = form_config(success_rule="   ", message_id_path="", rate_limit="")

    assert (config["success_rule"], config["message_id_path"], config["rate_limit"]) == (
        "",
        "",
        None,
    )


def test_it_prefills_and_keeps_the_response_and_pacing_fields(db):
    provider = create_generic(
        success_rule='$.status == "ok"', message_id_path="$.messages[*].id", rate_limit="2.5"
    )
    form = GenericProviderForm(provider=provider)

    assert form["success_rule"].value() == '$.status == "ok"'
    assert form["message_id_path"].value() == "$.messages[*].id"
    assert form["rate_limit"].value() == 2.5


def test_it_edits_a_provider_saved_before_the_response_and_pacing_fields_existed(db):
    provider = create_generic()
    for key in ("success_rule", "message_id_path", "rate_limit"):
        del provider.config[key]
    provider.save()
    form = GenericProviderForm(provider=provider)

    assert [form[name].value() for name in ("success_rule", "message_id_path", "rate_limit")] == [
        None,
        None,
        None,
    ]
    assert 'name="success_rule"' in str(form["success_rule"])
    assert "value=" not in str(form["success_rule"])
    resaved = form_for(provider)
    assert resaved.is_valid(), resaved.errors
    config = services.save_from_form(resaved, None).config
    assert (config["success_rule"], config["message_id_path"], config["rate_limit"]) == (
        "",
        "",
        None,
    )


# --- configuration ------------------------------------------------------------------------


def test_it_builds_the_configuration_of_a_get_provider(db):
    config = form_config(
        request_type="GET",
        endpoint="https://api.example.com/send",
        auth_type="basic",
        basic_username="acme",
        basic_password="pw-1",
        headers=[("Accept", "application/json")],
        params=[("to", "$$To"), ("text", "$$Body"), ("ref", "$$MessageID")],
        number_format="e164_no_plus",
        batching=True,
        batch_key="msgs",
    )

    assert config == {
        "request_type": "GET",
        "endpoint": "https://api.example.com/send",
        "auth_type": "basic",
        "basic_username": "acme",
        "oauth_client_url": "",
        "oauth_client_id": "",
        "oauth_extra": [],
        "headers": [["Accept", "application/json"]],
        "body_format": "kv",
        "params": [["to", "$$To"], ["text", "$$Body"], ["ref", "$$MessageID"]],
        "json_body": "",
        "batching": False,
        "batch_key": "",
        "records_per_batch": None,
        "number_format": "e164_no_plus",
        "success_rule": "",
        "message_id_path": "",
        "rate_limit": None,
    }


def test_it_builds_the_configuration_of_a_post_key_value_provider(db):
    config = form_config(
        body_format="kv",
        auth_type="oauth2",
        oauth_client_url="https://auth.example.com/token",
        oauth_client_id="client-1",
        oauth_secret_key="secret-1",
        oauth_extra=[("scope", "sms")],
        basic_username="ignored",
        params=[("to", "$$To"), ("text", "$$Body")],
        number_format="national",
    )

    assert config == {
        "request_type": "POST",
        "endpoint": "https://api.example.com/sms",
        "auth_type": "oauth2",
        "basic_username": "",
        "oauth_client_url": "https://auth.example.com/token",
        "oauth_client_id": "client-1",
        "oauth_extra": [["scope", "sms"]],
        "headers": [],
        "body_format": "kv",
        "params": [["to", "$$To"], ["text", "$$Body"]],
        "json_body": "",
        "batching": False,
        "batch_key": "",
        "records_per_batch": None,
        "number_format": "national",
        "success_rule": "",
        "message_id_path": "",
        "rate_limit": None,
    }


def test_it_builds_the_configuration_of_a_post_json_provider(db):
    config = form_config(
        headers=[("X-Key", "$$apikey")],
        params=[("left", "over")],
        batch_key="msgs",
        records_per_batch="5",
    )

    assert config == {
        "request_type": "POST",
        "endpoint": "https://api.example.com/sms",
        "auth_type": "none",
        "basic_username": "",
        "oauth_client_url": "",
        "oauth_client_id": "",
        "oauth_extra": [],
        "headers": [["X-Key", "$$apikey"]],
        "body_format": "json",
        "params": [],
        "json_body": JSON_BODY,
        "batching": False,
        "batch_key": "",
        "records_per_batch": None,
        "number_format": "e164",
        "success_rule": "",
        "message_id_path": "",
        "rate_limit": None,
    }


def test_it_builds_the_configuration_of_a_batched_json_provider(db):
    form = batched(batch_key=" msgs ", records_per_batch="250")

    assert form.is_valid(), form.errors
    assert form.to_config() == {
        "request_type": "POST",
        "endpoint": "https://api.example.com/sms",
        "auth_type": "none",
        "basic_username": "",
        "oauth_client_url": "",
        "oauth_client_id": "",
        "oauth_extra": [],
        "headers": [],
        "body_format": "json",
        "params": [],
        "json_body": BATCHED,
        "batching": True,
        "batch_key": "msgs",
        "records_per_batch": 250,
        "number_format": "e164",
        "success_rule": "",
        "message_id_path": "",
        "rate_limit": None,
    }


def test_it_prefills_the_edit_form_from_the_saved_configuration(db):
    provider = create_generic(
        request_type="GET",
        params=[("to", "$$To"), ("text", "$$Body")],
        headers=[("X-Hid", "$$hid")],
    )
    form = GenericProviderForm(provider=provider)

    assert form["nickname"].value() == "Acme SMS"
    assert form["request_type"].value() == "GET"
    assert form["params"].value() == [("to", "$$To", False), ("text", "$$Body", False)]
    assert form["headers"].value() == [("X-Hid", "$$hid", False)]
    assert form["records_per_batch"].value() == 100
    assert form["json_body"].value() == EXAMPLE_JSON
    assert form["callback_token"].value() == provider.callback_token


def test_it_saves_a_new_provider_with_the_token_shown_on_the_form(db):
    page = GenericProviderForm()
    shown = page.default_callback_url
    form = GenericProviderForm(generic_data(callback_token=page["callback_token"].value()))
    assert form.default_callback_url == shown
    assert form.is_valid(), form.errors

    provider = services.save_from_form(form, None)

    assert provider.callback_url == shown
    assert Provider.objects.get().config == form.to_config()


def test_it_replaces_a_posted_callback_token_that_is_malformed_or_taken(db):
    taken = create_generic(nickname="First").callback_token
    for token in ("short", taken, "bad token with spaces and more than thirty-two chars"):
        form = GenericProviderForm(generic_data(nickname=f"P {token[:5]}", callback_token=token))
        assert form.is_valid(), form.errors

        assert form.cleaned_data["callback_token"] != token
        assert len(form.cleaned_data["callback_token"]) >= 32
