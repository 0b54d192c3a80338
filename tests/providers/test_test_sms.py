"""Send Test SMS (SPEC §2.3): the dialog on a saved provider and the panel in the setup form,
against a local HTTP server standing in for the provider."""

from __future__ import annotations

import base64
import json

import pytest
from django.core.cache import cache

from audit.models import AuditEntry
from campaigns import retire
from providers import message_ids
from providers.models import Provider
from providers.services import TEST_MESSAGE_ID

from .helpers import ACCOUNT_SID, create_generic, create_twilio, generic_data, twilio_data

BASE = "/settings/channels/sms/providers/"
PASSWORD = "s3cret-basic-pass"


@pytest.fixture(autouse=True)
def _fresh_cache(db):
    cache.clear()


def dialog_url(provider):
    return f"{BASE}{provider.pk}/test-sms/"


def dialog(**fields):
    data = {"test-country_code": "+1", "test-mobile_number": "415 555 0123"}
    data["test-message"] = "Hello from the test"
    data.update({f"test-{k}": v for k, v in fields.items()})
    return data


def basic_provider(httpserver, **fields):
    return create_generic(
        None,
        endpoint=httpserver.url_for("/sms"),
        auth_type="basic",
        basic_username="acme",
        basic_password=PASSWORD,
        **fields,
    )


def test_anonymous_users_are_sent_to_login(client, db, httpserver):
    provider = basic_provider(httpserver)
    page = client.get(dialog_url(provider))
    assert page.status_code == 302
    assert page["Location"].startswith("/accounts/login/")


def test_marketers_may_not_send_test_sms(marketer_client, httpserver):
    provider = basic_provider(httpserver)
    assert marketer_client.get(dialog_url(provider)).status_code == 403
    assert marketer_client.post(dialog_url(provider), dialog()).status_code == 403
    assert httpserver.log == []


def test_the_dialog_asks_for_number_message_and_custom_replacements(admin_client, httpserver):
    provider = basic_provider(httpserver, json_body='{"to": "$$To", "t": "$$Body", "h": "$$hid"}')
    page = admin_client.get(dialog_url(provider)).content.decode()
    for label in ("Country code", "Mobile number", "Message", "$$hid"):
        assert f">{label}" in page


def test_it_sends_one_message_and_shows_request_and_answer(admin_client, httpserver):
    httpserver.expect_request("/sms", method="POST").respond_with_json({"queued": 1}, status=202)
    provider = basic_provider(httpserver)

    page = admin_client.post(dialog_url(provider), dialog()).content.decode()

    assert len(httpserver.log) == 1
    request, _ = httpserver.log[0]
    assert request.headers["Authorization"] == "Basic " + base64.b64encode(
        f"acme:{PASSWORD}".encode()
    ).decode("ascii")
    body = json.loads(request.get_data())
    assert body["to"] == "+14155550123"
    assert body["text"] == "Hello from the test"
    assert message_ids.verify(body["ref"]) == TEST_MESSAGE_ID
    assert "The provider accepted the message" in page
    assert "HTTP 202" in page
    assert "&quot;queued&quot;: 1" in page or "{&quot;queued&quot;:1}" in page
    assert f"POST {httpserver.url_for('/sms')}" in page
    assert PASSWORD not in page
    assert base64.b64encode(f"acme:{PASSWORD}".encode()).decode() not in page


def test_it_shows_the_providers_refusal_in_plain_words(admin_client, httpserver):
    httpserver.expect_request("/sms").respond_with_data("invalid sender id", status=400)
    provider = basic_provider(httpserver)

    page = admin_client.post(dialog_url(provider), dialog()).content.decode()

    assert "The message was not accepted" in page
    assert "HTTP 400: invalid sender id" in page
    assert len(httpserver.log) == 1  # a 400 is never retried


def test_it_says_when_the_provider_cannot_be_reached(admin_client, db):
    provider = create_generic(None, endpoint="http://127.0.0.1:9/sms")

    page = admin_client.post(dialog_url(provider), dialog()).content.decode()

    assert "The message was not accepted" in page
    assert "could not connect" in page


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"mobile_number": "12"}, "mobile_number", "not a possible number"),
        ({"mobile_number": ""}, "mobile_number", "This field is required."),
        ({"country_code": "one"}, "country_code", "Enter a country calling code"),
        ({"message": ""}, "message", "This field is required."),
    ],
)
def test_bad_input_is_shown_at_its_field_and_sends_nothing(
    admin_client, httpserver, fields, field, message
):
    provider = basic_provider(httpserver)

    page = admin_client.post(dialog_url(provider), dialog(**fields)).content.decode()

    assert f'id="field-test-{field}"' in page
    assert message in page
    assert httpserver.log == []


def test_a_missing_custom_replacement_is_asked_for(admin_client, httpserver):
    provider = basic_provider(httpserver, json_body='{"to": "$$To", "t": "$$Body", "h": "$$hid"}')

    page = admin_client.post(dialog_url(provider), dialog()).content.decode()
    assert "This field is required." in page
    assert httpserver.log == []

    admin_client.post(dialog_url(provider), dialog(custom_hid="H-42"))
    assert json.loads(httpserver.log[0][0].get_data())["h"] == "H-42"


def test_archived_providers_cannot_be_tested(admin_client, httpserver):
    provider = basic_provider(httpserver)
    retire.archive_provider(provider, None)
    assert admin_client.post(dialog_url(provider), dialog()).status_code == 404
    assert httpserver.log == []


def test_the_setup_form_tests_the_unsaved_configuration(admin_client, httpserver):
    httpserver.expect_request("/other").respond_with_json({"ok": True})
    provider = basic_provider(httpserver)
    data = generic_data(
        nickname=provider.nickname,
        endpoint=httpserver.url_for("/other"),  # typed, not saved
        auth_type="basic",
        basic_username="acme",
        basic_password="",  # blank keeps the saved password
        _action="test-sms",
    )
    data.update(dialog())

    page = admin_client.post(f"{BASE}{provider.pk}/", data).content.decode()

    assert [r.path for r, _ in httpserver.log] == ["/other"]
    request = httpserver.log[0][0]
    assert request.authorization.password == PASSWORD
    assert "The provider accepted the message" in page
    provider.refresh_from_db()
    assert provider.config["endpoint"] == httpserver.url_for("/sms")  # nothing saved
    assert not AuditEntry.objects.filter(action="updated").exists()


def test_the_add_form_tests_before_anything_exists(admin_client, httpserver):
    httpserver.expect_request("/sms").respond_with_json({"ok": True})
    data = generic_data(endpoint=httpserver.url_for("/sms"), _action="test-sms")
    data.update(dialog())

    page = admin_client.post(f"{BASE}add/generic/", data).content.decode()

    assert len(httpserver.log) == 1
    assert "The provider accepted the message" in page
    assert not Provider.objects.exists()


def test_an_invalid_setup_form_shows_its_errors_and_sends_nothing(admin_client, httpserver):
    data = generic_data(endpoint=httpserver.url_for("/sms"), json_body='{"text": "$$Body"}')
    data["_action"] = "test-sms"
    data.update(dialog())

    page = admin_client.post(f"{BASE}add/generic/", data).content.decode()

    assert "Please correct the fields marked below." in page
    assert httpserver.log == []


def test_twilio_test_sms_posts_the_form_twilio_expects(admin_client, httpserver, settings):
    settings.TWILIO_API_BASE = httpserver.url_for("").rstrip("/")
    path = f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"
    httpserver.expect_request(path, method="POST").respond_with_json(
        {"sid": "SM123", "status": "queued"}, status=201
    )
    provider = create_twilio()

    page = admin_client.post(dialog_url(provider), dialog()).content.decode()

    request = httpserver.log[0][0]
    assert request.authorization.username == ACCOUNT_SID
    assert request.form["To"] == "+14155550123"
    assert request.form["From"] == "+14155550123"
    assert request.form["Body"] == "Hello from the test"
    assert request.form["StatusCallback"].startswith(provider.callback_url + "?meta=")
    assert "HTTP 201" in page
    assert twilio_data()["auth_token"] not in page


def test_the_setup_form_asks_for_custom_replacements_of_the_typed_config(admin_client, httpserver):
    httpserver.expect_request("/sms").respond_with_json({"ok": True})
    body = '{"to": "$$To", "t": "$$Body", "h": "$$hid"}'
    data = generic_data(endpoint=httpserver.url_for("/sms"), json_body=body, _action="test-sms")
    data.update(dialog())

    page = admin_client.post(f"{BASE}add/generic/", data).content.decode()
    assert 'name="test-custom_hid"' in page
    assert httpserver.log == []

    data["test-custom_hid"] = "H-9"
    admin_client.post(f"{BASE}add/generic/", data)
    assert json.loads(httpserver.log[0][0].get_data())["h"] == "H-9"
