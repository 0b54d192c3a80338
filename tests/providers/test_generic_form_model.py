"""The Generic form's fields for real APIs (SPEC §5.2): batch shapes, answer mapping, named
account values and $$EntityId; each rule's error, and the keys a valid form saves."""

from __future__ import annotations

import pytest

from providers import registry, services
from providers.kinds.generic.form import GenericProviderForm
from providers.models import Provider

from .helpers import GENERIC_DEFAULTS, form_data

ROW_LISTS = ("headers", "params", "oauth_extra", "account_values")

PLIVO = '{"src": "HUB", "dst": "$$To", "text": "$$Body"}'
ROOT = '[{"to": "$$To", "body": "$$Body", "userSuppliedId": "$$MessageID"}]'


def form_for(provider=None, **fields) -> GenericProviderForm:
    rows = {name: fields.pop(name, ()) for name in ROW_LISTS}
    return GenericProviderForm(form_data(GENERIC_DEFAULTS, fields, rows), provider=provider)


def create_generic(**fields) -> Provider:
    form = form_for(**fields)
    assert form.is_valid(), form.errors
    return services.save_from_form(form, None)


def config_of(**fields) -> dict:
    form = form_for(**fields)
    assert form.is_valid(), form.errors
    return form.to_config()


def errors_of(**fields) -> dict:
    form = form_for(**fields)
    assert not form.is_valid()
    return form.errors


def shaped(shape, **fields):
    return {"batching": True, "batch_shape": shape, "records_per_batch": "50", **fields}


# --- batch shapes -----------------------------------------------------------------------------


def test_it_saves_joined_numbers_with_their_delimiter(db):
    config = config_of(json_body=PLIVO, **shaped("joined", batch_delimiter="<"))

    assert config["batching"] is True
    assert config["batch_shape"] == "joined"
    assert config["batch_delimiter"] == "<"
    assert config["batch_key"] == ""
    assert config["records_per_batch"] == 50


def test_joined_numbers_batch_key_value_pairs_too_and_a_comma_is_not_saved(db):
    config = config_of(
        body_format="kv",
        params=[("numbers", "$$To"), ("message", "$$Body")],
        **shaped("joined", batch_delimiter=""),
    )

    assert config["batching"] is True
    assert "batch_delimiter" not in config


def test_it_saves_a_root_array_and_a_number_array(db):
    root = config_of(json_body=ROOT, **shaped("root"))
    numbers = config_of(json_body='{"to": "$$To", "body": "$$Body"}', **shaped("numbers"))

    assert (root["batch_shape"], root["batching"]) == ("root", True)
    assert (numbers["batch_shape"], numbers["batching"]) == ("numbers", True)


def test_a_configuration_without_the_new_features_has_none_of_their_keys(db):
    config = config_of()

    new_keys = {
        "batch_shape",
        "batch_delimiter",
        "message_id_regex",
        "answer_items_path",
        "item_success_rule",
        "recipient_path",
        "shared_message_id",
        "account_values",
        "entity_id",
    }
    assert new_keys.isdisjoint(config)


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        (
            {
                "json_body": '{"dst": "$$To", "text": "$$Body", "ref": "$$MessageID"}',
                **shaped("joined"),
            },
            "json_body",
            "$$MessageID differs for every message",
        ),
        (
            {"json_body": PLIVO, "headers": [("X-Ref", "$$MessageID")], **shaped("joined")},
            "headers",
            "$$MessageID differs for every message",
        ),
        (
            {"json_body": '{"to": "+$$To", "body": "$$Body"}', **shaped("numbers")},
            "json_body",
            "$$To stands alone as a value",
        ),
        ({"json_body": PLIVO, **shaped("root")}, "json_body", "an array of exactly one object"),
        (
            {"json_body": '[{"to": "$$To"}, {"to": "$$To"}]', **shaped("root")},
            "json_body",
            "an array of exactly one object",
        ),
        (
            {"json_body": ROOT, "headers": [("X-To", "$$To")], **shaped("root")},
            "headers",
            "$$To must be inside the per-message object, not a header.",
        ),
        (
            {"json_body": '[{"body": "$$Body"}]', **shaped("root")},
            "json_body",
            "$$To must be inside the per-message object.",
        ),
        (
            {"body_format": "kv", "params": [("to", "$$To"), ("b", "$$Body")], **shaped("root")},
            "batch_shape",
            "This shape needs the JSON payload",
        ),
        (
            {
                "request_type": "GET",
                "params": [("to", "$$To"), ("b", "$$Body")],
                **shaped("numbers"),
            },
            "batch_shape",
            "This shape needs the JSON payload",
        ),
        (
            {"json_body": PLIVO, **shaped("joined", records_per_batch="0")},
            "records_per_batch",
            "from 1 to 1000",
        ),
        ({"json_body": '{"text": "$$Body"}', **shaped("joined")}, "json_body", "$$To must appear"),
    ],
)
def test_each_batch_shape_rule_shows_next_to_its_field(db, fields, field, message):
    assert any(message in error for error in errors_of(**fields)[field])


def test_a_batch_key_left_from_a_json_setup_is_ignored_under_get(db):
    config = config_of(
        request_type="GET", params=[("to", "$$To"), ("b", "$$Body")], **shaped("key", batch_key="m")
    )

    assert config["batching"] is False


# --- the answer -------------------------------------------------------------------------------


def test_it_saves_the_answer_mapping_of_a_batch(db):
    config = config_of(
        message_id_path='$["message-id"]',
        answer_items_path="$.messages[*]",
        item_success_rule='$.status == "0"',
        recipient_path="$.to",
    )

    assert config["answer_items_path"] == "$.messages[*]"
    assert config["item_success_rule"] == '$.status == "0"'
    assert config["recipient_path"] == "$.to"


def test_it_saves_an_id_expression_and_a_shared_id(db):
    config = config_of(message_id_regex=r"\| (\d+)$", shared_message_id=True)

    assert config["message_id_regex"] == r"\| (\d+)$"
    assert config["shared_message_id"] is True


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"message_id_regex": "(a"}, "message_id_regex", "Not a valid regular expression"),
        ({"message_id_regex": r"\d+"}, "message_id_regex", "exactly one capture group"),
        (
            {"message_id_path": "$.id", "message_id_regex": "(a)"},
            "message_id_regex",
            "not both",
        ),
        ({"answer_items_path": "messages"}, "answer_items_path", "A JSON path starts with $"),
        ({"item_success_rule": "ok"}, "item_success_rule", "An item rule is a JSON path"),
        ({"item_success_rule": '$.status == "0"'}, "item_success_rule", "answer items path too"),
        ({"recipient_path": "$.to"}, "recipient_path", "answer items path too"),
        ({"recipient_path": "to", "answer_items_path": "$[*]"}, "recipient_path", "starts with $"),
        ({"shared_message_id": True}, "shared_message_id", "Say where the ID is"),
        (
            {"message_id_regex": "(a)", "answer_items_path": "$[*]"},
            "message_id_regex",
            "With answer items",
        ),
        ({"success_rule": "$.code in 1"}, "success_rule", "After in comes a JSON array"),
    ],
)
def test_each_answer_rule_shows_next_to_its_field(db, fields, field, message):
    assert any(message in error for error in errors_of(**fields)[field])


# --- account values and $$EntityId ------------------------------------------------------------


def test_account_values_are_saved_secret_ones_encrypted_and_not_asked_of_campaigns(db):
    provider = create_generic(
        endpoint="https://api.plivo.example/v1/Account/$$auth_id/Message/",
        json_body='{"dst": "$$To", "text": "$$Body", "pe": "$$EntityId", "k": "$$api_key"}',
        account_values=[("auth_id", "MAXXX"), ("api_key", "k-123", True)],
        entity_id=" 1101 ",
    )

    assert provider.config["account_values"] == [["auth_id", "MAXXX"], ["api_key", ""]]
    assert provider.config["secret_rows"] == {"account_values": ["api_key"]}
    assert provider.config["entity_id"] == "1101"
    assert provider.get_secrets() == {"account_values:api_key": "k-123"}
    assert form_for().detected_custom_tokens() == []
    assert registry.kind_of(provider).custom_tokens(provider.config) == []


def test_a_saved_secret_account_value_is_kept_when_left_blank(db):
    provider = create_generic(account_values=[("api_key", "k-123", True)])

    form = form_for(provider=provider, account_values=[("api_key", "", True)])

    assert form.is_valid(), form.errors
    assert "saved" in form.as_div().lower()


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"account_values": [("auth id", "x")]}, "account_values", "cannot be a name"),
        ({"account_values": [("1st", "x")]}, "account_values", "cannot be a name"),
        ({"account_values": [("To", "x")]}, "account_values", "$$To is a system replacement"),
        ({"account_values": [("EntityId", "x")]}, "account_values", "system replacement"),
        (
            {"account_values": [("sid", "a"), ("sid", "b")]},
            "account_values",
            "Only one account value may be called 'sid'",
        ),
        (
            {"account_values": [("token", "$$To", True)]},
            "account_values",
            "holds a $$ replacement",
        ),
        (
            {"endpoint": "https://api.example.com/$$sid/send"},
            "endpoint",
            "$$sid is not an account value",
        ),
        (
            {"endpoint": "https://api.example.com/$$To/send"},
            "endpoint",
            "$$To is not an account value",
        ),
        (
            {
                "endpoint": "https://$$sub.example.com/send",
                "account_values": [("sub", "acme", True)],
            },
            "endpoint",
            "cannot be in the host",
        ),
        (
            {"endpoint": "$$base/send", "account_values": [("base", "https://x")]},
            "endpoint",
            "absolute",
        ),
        (
            {"json_body": '{"to": "$$To", "text": "$$Body", "pe": "$$EntityId"}'},
            "entity_id",
            "The payload uses $$EntityId: enter it.",
        ),
    ],
)
def test_each_account_rule_shows_next_to_its_field(db, fields, field, message):
    assert any(message in error for error in errors_of(**fields)[field])


def test_re_pointing_the_endpoint_by_an_account_value_needs_the_secrets_again(db):
    provider = create_generic(
        endpoint="https://$$subdomain.exotel.example/v1/send",
        account_values=[("subdomain", "api")],
        headers=[("X-Api-Key", "k-1", True)],
    )

    same = form_for(
        provider=provider,
        endpoint="https://$$subdomain.exotel.example/v1/other",
        account_values=[("subdomain", "api")],
        headers=[("X-Api-Key", "", True)],
    )
    moved = form_for(
        provider=provider,
        endpoint="https://$$subdomain.exotel.example/v1/send",
        account_values=[("subdomain", "evil.attacker.example#")],
        headers=[("X-Api-Key", "", True)],
    )

    assert same.is_valid(), same.errors
    assert not moved.is_valid()
    assert "The endpoint moved to a new host" in moved.errors["headers"][0]
    assert Provider.objects.count() == 1
