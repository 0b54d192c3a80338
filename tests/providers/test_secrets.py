"""Provider credentials at rest (SPEC §2.2, §8): encrypted, never rendered, rotatable keys."""

from __future__ import annotations

import io

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.db import connection

from providers.models import Provider
from smshub import crypto

from .helpers import create_generic, create_twilio, generic_data

BASE = "/settings/channels/sms/providers/"
PASSWORD = "basic-password-Zq81"
OAUTH_SECRET = "oauth-secret-Kx42"
AUTH_TOKEN = "twilio-token-Wm73"


@pytest.fixture
def providers(admin_user):
    basic = create_generic(
        admin_user,
        nickname="Basic",
        auth_type="basic",
        basic_username="acme-user",
        basic_password=PASSWORD,
    )
    oauth = create_generic(
        admin_user,
        nickname="OAuth",
        auth_type="oauth2",
        oauth_client_url="https://auth.example.com/token",
        oauth_client_id="client-1",
        oauth_secret_key=OAUTH_SECRET,
    )
    twilio = create_twilio(admin_user, nickname="Twilio", auth_token=AUTH_TOKEN)
    return basic, oauth, twilio


def raw_rows() -> list[tuple[str, str]]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT secrets_encrypted, config FROM providers_provider")
        return [(str(secrets), str(config)) for secrets, config in cursor.fetchall()]


def test_it_stores_no_secret_in_plain_text(providers):
    rows = raw_rows()

    assert len(rows) == 3
    for secrets, config in rows:
        assert secrets
        for plain in (PASSWORD, OAUTH_SECRET, AUTH_TOKEN):
            assert plain not in secrets
            assert plain not in config


def test_it_keeps_secrets_out_of_every_column(providers):
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM providers_provider")
        dump = repr(cursor.fetchall())

    for plain in (PASSWORD, OAUTH_SECRET, AUTH_TOKEN):
        assert plain not in dump


def test_it_decrypts_what_it_stored(providers):
    basic, oauth, twilio = providers

    assert Provider.objects.get(pk=basic.pk).get_secrets() == {"basic_password": PASSWORD}
    assert Provider.objects.get(pk=oauth.pk).get_secrets() == {"oauth_secret_key": OAUTH_SECRET}
    assert Provider.objects.get(pk=twilio.pk).get_secrets() == {"auth_token": AUTH_TOKEN}


def test_it_never_renders_a_secret_on_the_edit_page(admin_client, providers):
    for provider in providers:
        response = admin_client.get(f"{BASE}{provider.pk}/")

        page = response.content.decode()
        assert response.status_code == 200
        assert "Saved — leave blank to keep." in page
        for plain in (PASSWORD, OAUTH_SECRET, AUTH_TOKEN):
            assert plain not in page


def test_it_never_renders_a_saved_secret_when_a_save_fails(admin_client, providers):
    basic = providers[0]
    data = generic_data(
        nickname="Basic", endpoint="not a url", auth_type="basic", basic_username="acme-user"
    )

    response = admin_client.post(
        f"{BASE}{basic.pk}/", data.urlencode(), content_type="application/x-www-form-urlencoded"
    )

    page = response.content.decode()
    assert response.status_code == 200
    assert "Enter an absolute http:// or https:// URL." in page
    assert PASSWORD not in page
    assert Provider.objects.get(pk=basic.pk).get_secrets() == {"basic_password": PASSWORD}


def test_it_never_renders_a_secret_on_the_list_or_the_audit_log(admin_client, providers):
    for url in (BASE, "/settings/audit-log/"):
        page = admin_client.get(url).content.decode()

        for plain in (PASSWORD, OAUTH_SECRET, AUTH_TOKEN):
            assert plain not in page


def test_it_round_trips_any_secret_text(settings):
    values = {"basic_password": "pä$$wörd \"'\\ 🔑", "oauth_secret_key": "x" * 500}

    ciphertext = crypto.encrypt_json(values)

    assert "pä" not in ciphertext
    assert crypto.decrypt_json(ciphertext) == values


def test_it_encrypts_the_same_secret_differently_each_time():
    assert crypto.encrypt_json({"a": "b"}) != crypto.encrypt_json({"a": "b"})


def test_it_stores_no_ciphertext_for_no_secrets():
    assert crypto.encrypt_json({}) == ""
    assert crypto.decrypt_json("") == {}
    assert crypto.reencrypt("") == ""


def test_it_drops_blank_secrets(db):
    provider = Provider(kind="generic", nickname="x")

    provider.set_secrets({"basic_password": "", "oauth_secret_key": None})

    assert provider.secrets_encrypted == ""
    assert provider.get_secrets() == {}


def test_it_decrypts_old_ciphertexts_with_the_old_key_second(settings):
    old_key = settings.ENCRYPTION_KEYS[0]
    old = crypto.encrypt_json({"auth_token": AUTH_TOKEN})
    new_key = Fernet.generate_key().decode()

    settings.ENCRYPTION_KEYS = [new_key, old_key]

    assert crypto.decrypt_json(old) == {"auth_token": AUTH_TOKEN}


def test_it_reencrypts_with_the_new_key_so_the_old_one_can_go(settings):
    old_key = settings.ENCRYPTION_KEYS[0]
    old = crypto.encrypt_json({"auth_token": AUTH_TOKEN})
    new_key = Fernet.generate_key().decode()
    settings.ENCRYPTION_KEYS = [new_key, old_key]

    rotated = crypto.reencrypt(old)

    settings.ENCRYPTION_KEYS = [new_key]
    assert crypto.decrypt_json(rotated) == {"auth_token": AUTH_TOKEN}
    with pytest.raises(crypto.InvalidToken):
        crypto.decrypt_json(old)


def test_it_encrypts_new_secrets_with_the_first_key(settings):
    old_key = settings.ENCRYPTION_KEYS[0]
    new_key = Fernet.generate_key().decode()
    settings.ENCRYPTION_KEYS = [new_key, old_key]

    ciphertext = crypto.encrypt_json({"a": "b"})

    settings.ENCRYPTION_KEYS = [new_key]
    assert crypto.decrypt_json(ciphertext) == {"a": "b"}


def test_it_reencrypts_every_provider_with_the_command(settings, providers):
    old_key = settings.ENCRYPTION_KEYS[0]
    new_key = Fernet.generate_key().decode()
    settings.ENCRYPTION_KEYS = [new_key, old_key]

    call_command("rotate_secrets", stdout=io.StringIO())

    settings.ENCRYPTION_KEYS = [new_key]
    basic, oauth, twilio = (Provider.objects.get(pk=p.pk) for p in providers)
    assert basic.get_secrets() == {"basic_password": PASSWORD}
    assert oauth.get_secrets() == {"oauth_secret_key": OAUTH_SECRET}
    assert twilio.get_secrets() == {"auth_token": AUTH_TOKEN}


def test_it_refuses_a_ciphertext_from_another_key(settings):
    ciphertext = crypto.encrypt_json({"a": "b"})

    settings.ENCRYPTION_KEYS = [Fernet.generate_key().decode()]

    with pytest.raises(crypto.InvalidToken):
        crypto.decrypt_json(ciphertext)


def test_it_refuses_a_tampered_ciphertext():
    ciphertext = crypto.encrypt_json({"auth_token": AUTH_TOKEN})
    # Flip one character in the middle (the encrypted payload, covered by the HMAC).
    middle = len(ciphertext) // 2
    flipped = "A" if ciphertext[middle] != "A" else "B"
    tampered = ciphertext[:middle] + flipped + ciphertext[middle + 1 :]

    with pytest.raises(crypto.InvalidToken):
        crypto.decrypt_json(tampered)


def test_it_refuses_a_truncated_ciphertext():
    ciphertext = crypto.encrypt_json({"auth_token": AUTH_TOKEN})

    with pytest.raises(crypto.InvalidToken):
        crypto.decrypt_json(ciphertext[:-4])


def test_it_falls_back_to_a_key_derived_from_secret_key_in_development(settings):
    settings.ENCRYPTION_KEYS = []

    ciphertext = crypto.encrypt_json({"a": "b"})

    assert crypto.decrypt_json(ciphertext) == {"a": "b"}
    settings.SECRET_KEY = "another-secret-key"
    with pytest.raises(crypto.InvalidToken):
        crypto.decrypt_json(ciphertext)


def test_it_asks_again_for_secrets_that_the_current_keys_cannot_read(admin_client, settings):
    provider = create_generic(
        None, nickname="Lost", auth_type="basic", basic_username="u", basic_password=PASSWORD
    )
    settings.ENCRYPTION_KEYS = [Fernet.generate_key().decode()]  # the old key is gone

    page = admin_client.get(f"{BASE}{provider.pk}/")

    assert page.status_code == 200
    assert "can't be decrypted" in page.content.decode()
    form = page.context["form"]
    assert form.secrets_unreadable is True
    assert form.fields["basic_password"].is_saved is False

    data = generic_data(
        nickname="Lost", auth_type="basic", basic_username="u", basic_password="new-pass-1"
    )
    data["callback_token"] = provider.callback_token
    response = admin_client.post(f"{BASE}{provider.pk}/", data)

    assert response.status_code == 302
    assert Provider.objects.get(pk=provider.pk).get_secrets() == {"basic_password": "new-pass-1"}
