"""Finding 4 of issue 11: API keys that providers want in a header, a parameter or an OAuth
extra pair were stored in plain text, shown again on the edit page, and parameter values went
into the audit log. Any such value can now be marked secret (SPEC §5.2, §8): encrypted with the
credentials, never shown, masked in test output, and sent as typed."""

from __future__ import annotations

import importlib
import json
from urllib.parse import parse_qs, urlsplit

import pytest
from django.apps import apps as django_apps
from django.core.cache import cache
from django.db import connection

from audit.models import AuditEntry
from providers import services
from providers.kinds.generic.form import GenericProviderForm
from providers.models import Provider
from smshub import crypto
from tests.providers.helpers import create_generic, generic_data

BASE = "/settings/channels/sms/providers/"
FORM = "application/x-www-form-urlencoded"
# Characters that a query string, a form body and JSON each write differently.
API_KEY = "hdr-Key/9+x&y=z"
PARAM_KEY = "param-Key 7?+%"
EXTRA_SECRET = "extra-Secret-5&6"
PLAINTEXTS = (API_KEY, PARAM_KEY, EXTRA_SECRET)
MIGRATION = importlib.import_module("providers.migrations.0003_secret_row_values")


def sent_test_sms(provider):
    """Send Test SMS through the saved provider, as its Setup tab does."""
    return services.send_test_sms(
        provider.kind,
        provider.config,
        provider.get_secrets(),
        callback_url=provider.callback_url,
        to="+14155550123",
        message="Hi",
        custom_values={},
        session_key="test",
    )


@pytest.fixture(autouse=True)
def _fresh_cache(db):
    cache.clear()


def secret_rows_data(httpserver, **fields):
    """A GET provider with OAuth, a secret header, a secret parameter and a secret extra pair."""
    fields = {
        "request_type": "GET",
        "endpoint": httpserver.url_for("/sms"),
        "auth_type": "oauth2",
        "oauth_client_url": httpserver.url_for("/token"),
        "oauth_client_id": "client-1",
        "oauth_secret_key": "oauth-secret-1",
        **fields,
    }
    return generic_data(
        headers=[("X-Api-Key", API_KEY, True), ("X-Trace", "on")],
        params=[("to", "$$To"), ("text", "$$Body"), ("apikey", PARAM_KEY, True)],
        oauth_extra=[("audience", "sms"), ("client_assertion", EXTRA_SECRET, True)],
        **fields,
    )


@pytest.fixture
def provider(admin_client, httpserver):
    response = admin_client.post(
        f"{BASE}add/generic/", secret_rows_data(httpserver).urlencode(), content_type=FORM
    )
    assert response.status_code == 302, response.content.decode()
    return Provider.objects.get()


def raw_row(pk: int) -> tuple[str, str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT config, secrets_encrypted FROM providers_provider WHERE id = %s", [pk]
        )
        config, secrets = cursor.fetchone()
    return str(config), str(secrets)


def result_section(page: str) -> str:
    """The test-SMS outcome: the request sent and the provider's answer."""
    start = page.index('id="test-sms-result"')
    return page[start : page.index("</section>", start)]


def serve_token_and_sms(httpserver):
    httpserver.expect_request("/token", method="POST").respond_with_json(
        {"access_token": "tok-1", "expires_in": 3600}
    )
    httpserver.expect_request("/sms", method="GET").respond_with_json({"ok": True})


def test_it_stores_secret_values_encrypted_and_only_their_keys_in_the_config(provider):
    config, secrets = raw_row(provider.pk)

    for plain in PLAINTEXTS:
        assert plain not in config
        assert plain not in secrets
    assert provider.config["headers"] == [["X-Api-Key", ""], ["X-Trace", "on"]]
    assert provider.config["params"][2] == ["apikey", ""]
    assert provider.config["oauth_extra"] == [["audience", "sms"], ["client_assertion", ""]]
    assert provider.config["secret_rows"] == {
        "headers": ["X-Api-Key"],
        "params": ["apikey"],
        "oauth_extra": ["client_assertion"],
    }
    assert provider.get_secrets() == {
        "oauth_secret_key": "oauth-secret-1",
        "headers:X-Api-Key": API_KEY,
        "params:apikey": PARAM_KEY,
        "oauth_extra:client_assertion": EXTRA_SECRET,
    }


def test_it_shows_secret_values_masked_on_the_edit_page(admin_client, provider):
    page = admin_client.get(f"{BASE}{provider.pk}/").content.decode()

    for plain in PLAINTEXTS:
        assert plain not in page
    assert page.count("Saved — leave blank to keep.") == 4  # 3 rows + the OAuth secret key
    assert page.count('placeholder="•••••••• (saved)"') == 4
    assert (
        '<input type="checkbox" class="kv-secret" id="id_headers-secret-0" '
        'name="headers-secret" value="0" checked>' in page
    )
    assert '<label for="id_headers-secret-0"><span class="sr-only">Header 1 </span>Secret' in page
    assert 'name="headers-value" value=""' in page
    assert '<input type="password" id="id_headers-value-0"' in page


def test_it_keeps_a_saved_secret_value_left_blank_and_sends_it(admin_client, provider, httpserver):
    serve_token_and_sms(httpserver)
    data = generic_data(
        headers=[("X-Api-Key", "", True), ("X-Trace", "on")],
        params=[("to", "$$To"), ("text", "$$Body"), ("apikey", "", True)],
        oauth_extra=[("audience", "sms"), ("client_assertion", "", True)],
        request_type="GET",
        endpoint=httpserver.url_for("/sms"),
        auth_type="oauth2",
        oauth_client_url=httpserver.url_for("/token"),
        oauth_client_id="client-1",
        nickname="Renamed",
    )

    response = admin_client.post(f"{BASE}{provider.pk}/", data.urlencode(), content_type=FORM)
    assert response.status_code == 302
    provider.refresh_from_db()
    result = sent_test_sms(provider)

    assert result.ok, result.error
    token_request, sms_request = (request for request, _ in httpserver.log)
    token_form = parse_qs(token_request.get_data(as_text=True))
    assert token_form["client_assertion"] == [EXTRA_SECRET]
    assert token_form["client_secret"] == ["oauth-secret-1"]
    assert sms_request.headers["X-Api-Key"] == API_KEY
    assert parse_qs(urlsplit(sms_request.url).query)["apikey"] == [PARAM_KEY]


def test_it_substitutes_and_masks_secret_values_in_the_test_sms_from_the_setup_form(
    admin_client, provider, httpserver
):
    serve_token_and_sms(httpserver)
    data = secret_rows_data(httpserver, _action="test-sms")
    data.update({"test-country_code": "+1", "test-mobile_number": "4155550123"})
    data["test-message"] = "Hello"

    page = admin_client.post(f"{BASE}{provider.pk}/", data.urlencode(), content_type=FORM)

    page = page.content.decode()
    shown = result_section(page)
    assert "The provider accepted the message" in shown
    sms_request = httpserver.log[-1][0]
    assert sms_request.headers["X-Api-Key"] == API_KEY
    assert parse_qs(urlsplit(sms_request.url).query)["apikey"] == [PARAM_KEY]
    assert "apikey=••••••" in shown
    assert "X-Api-Key: ••••••" in shown
    for plain in PLAINTEXTS:
        assert plain not in shown
        assert plain.replace("&", "&amp;") not in shown
    assert "Key%2F9" not in shown and "Key+7" not in shown and "Key%207" not in shown
    # What the admin typed in this form stays in its (password) input, as for a password
    # (docs/decisions.md): only a saved value is never rendered.
    assert '<input type="password" id="id_headers-value-0" name="headers-value" value="hdr-' in page


def test_it_masks_secret_values_in_the_saved_providers_test_sms(admin_client, provider, httpserver):
    serve_token_and_sms(httpserver)
    dialog = {"test-country_code": "+1", "test-mobile_number": "4155550123", "test-message": "Hi"}

    page = admin_client.post(f"{BASE}{provider.pk}/test-sms/", dialog).content.decode()

    assert "The provider accepted the message" in page
    assert "apikey=••••••" in page
    for plain in PLAINTEXTS:
        assert plain not in page
    assert "Key+7" not in page and "Key%207" not in page


def test_a_secret_value_in_a_json_body_provider_is_masked_in_a_post_form_body(httpserver):
    httpserver.expect_request("/sms", method="POST").respond_with_json({"ok": True})
    provider = create_generic(
        None,
        endpoint=httpserver.url_for("/sms"),
        body_format="kv",
        params=[("to", "$$To"), ("text", "$$Body"), ("password", PARAM_KEY, True)],
    )

    result = sent_test_sms(provider)

    sent = parse_qs(httpserver.log[0][0].get_data(as_text=True))
    assert sent["password"] == [PARAM_KEY]
    assert "password=••••••" in result.request.body
    assert PARAM_KEY not in result.request.body


def test_it_keeps_secret_values_out_of_the_audit_log(admin_client, provider, httpserver):
    data = secret_rows_data(httpserver)
    # New values for the three secret rows, and a plain credential-looking parameter.
    for index, name in ((0, "headers-value"), (2, "params-value"), (1, "oauth_extra-value")):
        values = data.getlist(name)
        values[index] = f"new-{index}-{name}"
        data.setlist(name, values)
    data.appendlist("params-key", "access_key")
    data.appendlist("params-value", "plain-access-Key-3")

    admin_client.post(f"{BASE}{provider.pk}/", data.urlencode(), content_type=FORM)

    entries = json.dumps([e.changes for e in AuditEntry.objects.all()])
    for plain in (*PLAINTEXTS, "new-0-headers-value", "new-2-params-value", "plain-access-Key-3"):
        assert plain not in entries
    changes = AuditEntry.objects.filter(action="updated").get().changes
    assert changes["secret:headers:X-Api-Key"] == [None, "(changed)"]
    assert changes["secret:params:apikey"] == [None, "(changed)"]
    assert changes["secret:oauth_extra:client_assertion"] == [None, "(changed)"]
    assert changes["secret:params:access_key"] == [None, "(changed)"]
    assert changes["config.params"][1][-1] == ["access_key", "(hidden)"]
    audit_page = admin_client.get("/settings/audit-log/").content.decode()
    assert "plain-access-Key-3" not in audit_page


def test_a_renamed_secret_row_asks_for_its_value_again(admin_client, provider, httpserver):
    data = secret_rows_data(httpserver)
    data.setlist("headers-key", ["X-Other-Key", "X-Trace"])
    data.setlist("headers-value", ["", "on"])

    page = admin_client.post(f"{BASE}{provider.pk}/", data.urlencode(), content_type=FORM)

    assert page.status_code == 200
    assert "Type the value of &#x27;X-Other-Key&#x27; again: no secret value is saved under" in (
        page.content.decode()
    )
    assert Provider.objects.get().get_secrets()["headers:X-Api-Key"] == API_KEY


def test_secret_values_are_sent_as_typed_so_replacements_are_refused(db, httpserver):
    form = GenericProviderForm(generic_data(headers=[("Authorization", "Bearer $$token", True)]))

    assert not form.is_valid()
    assert form.errors["headers"] == [
        "The secret value of 'Authorization' holds a $$ replacement: secret values are sent "
        "exactly as typed. Untick Secret to use replacements."
    ]


def test_a_secret_row_key_is_used_once_per_list(db):
    form = GenericProviderForm(generic_data(headers=[("X-Key", "a", True), ("X-Key", "b", True)]))

    assert not form.is_valid()
    assert form.errors["headers"] == ["Only one secret header may be called 'X-Key'."]


def test_unticking_a_saved_secret_needs_its_value_typed(admin_client, provider, httpserver):
    data = secret_rows_data(httpserver)
    data.setlist("headers-value", ["", "on"])
    data.setlist("headers-secret", [])

    page = admin_client.post(f"{BASE}{provider.pk}/", data.urlencode(), content_type=FORM)

    assert "Type the value of &#x27;X-Api-Key&#x27; to make it plain" in page.content.decode()
    assert Provider.objects.get().config["secret_rows"]["headers"] == ["X-Api-Key"]


def test_removing_a_row_keeps_the_secret_ticks_on_their_rows(admin_client, provider, httpserver):
    data = secret_rows_data(httpserver, _action="remove-row:params:0")

    page = admin_client.post(f"{BASE}{provider.pk}/", data.urlencode(), content_type=FORM)

    page = page.content.decode()
    # apikey was row 2 and is row 1 now, still ticked; "text" (row 0 now) is not.
    assert 'name="params-secret" value="1" checked>' in page
    assert 'name="params-secret" value="0">' in page


# --- existing rows: the data migration and the notice -------------------------------------------
def plain_provider(**config) -> Provider:
    """A provider saved before secret rows existed: credentials in plain text in its config."""
    base = {
        "request_type": "GET",
        "endpoint": "https://api.example.com/sms",
        "auth_type": "basic",
        "basic_username": "acme",
        "headers": [["X-Api-Key", API_KEY], ["X-Trace", "on"], ["X-Auth-Token", "Bearer $$tok"]],
        "params": [["to", "$$To"], ["text", "$$Body"], ["apikey", PARAM_KEY], ["pwd", "p-9"]],
        "oauth_extra": [],
        "body_format": "kv",
        "json_body": "",
        "number_format": "e164",
    }
    return Provider.objects.create(
        kind="generic",
        nickname="Old",
        config={**base, **config},
        secrets_encrypted=crypto.encrypt_json({"basic_password": "pw-1"}),
    )


def test_the_migration_encrypts_plain_credentials_of_existing_providers(db):
    old = plain_provider()

    MIGRATION.make_credentials_secret(django_apps, None)

    provider = Provider.objects.get(pk=old.pk)
    config, secrets = raw_row(provider.pk)
    for plain in (API_KEY, PARAM_KEY, "p-9", "pw-1"):
        assert plain not in config
        assert plain not in secrets
    assert provider.get_secrets() == {
        "basic_password": "pw-1",
        "headers:X-Api-Key": API_KEY,
        "params:apikey": PARAM_KEY,
        "params:pwd": "p-9",
    }
    assert provider.config["secret_rows"] == {
        "headers": ["X-Api-Key"],
        "params": ["apikey", "pwd"],
    }
    # A value with a replacement stays plain (a secret value is sent as typed).
    assert provider.config["headers"] == [
        ["X-Api-Key", ""],
        ["X-Trace", "on"],
        ["X-Auth-Token", "Bearer $$tok"],
    ]


def test_the_migrated_provider_sends_what_it_sent_before(db, httpserver):
    httpserver.expect_request("/sms").respond_with_json({"ok": True})
    plain_provider(endpoint=httpserver.url_for("/sms"), headers=[["X-Api-Key", API_KEY]])

    MIGRATION.make_credentials_secret(django_apps, None)
    provider = Provider.objects.get()
    sent_test_sms(provider)

    request = httpserver.log[0][0]
    assert request.headers["X-Api-Key"] == API_KEY
    assert parse_qs(urlsplit(request.url).query)["apikey"] == [PARAM_KEY]
    assert parse_qs(urlsplit(request.url).query)["pwd"] == ["p-9"]


def test_the_migration_leaves_providers_whose_secrets_it_cannot_read(db):
    old = plain_provider()
    Provider.objects.filter(pk=old.pk).update(secrets_encrypted="not-a-fernet-token")

    MIGRATION.make_credentials_secret(django_apps, None)

    assert Provider.objects.get(pk=old.pk).config == old.config


def test_the_migration_reverses(db):
    old = plain_provider()
    MIGRATION.make_credentials_secret(django_apps, None)

    MIGRATION.make_secrets_plain(django_apps, None)

    provider = Provider.objects.get(pk=old.pk)
    assert provider.config == old.config
    assert provider.get_secrets() == {"basic_password": "pw-1"}


def test_the_provider_page_asks_to_mark_plain_credentials_secret(admin_client, db):
    old = plain_provider()

    before = admin_client.get(f"{BASE}{old.pk}/").content.decode()
    MIGRATION.make_credentials_secret(django_apps, None)
    after = admin_client.get(f"{BASE}{old.pk}/").content.decode()

    assert "The header “X-Api-Key” looks like a credential: mark it secret." in before
    assert "The parameter “apikey” looks like a credential: mark it secret." in before
    assert "The header “X-Api-Key” looks like a credential" not in after
    assert "The parameter “apikey” looks like a credential" not in after
    assert (
        "The header “X-Auth-Token” looks like a credential: mark it secret. Its value uses $$ "
        "replacements, which a secret value does not take" in after
    )
