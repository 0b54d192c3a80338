"""The Twilio provider setup form (SPEC §3.5)."""

from __future__ import annotations

import pytest

from providers import services
from providers.kinds.twilio import form as twilio
from providers.kinds.twilio.form import TwilioProviderForm

from .helpers import ACCOUNT_SID, SERVICE_SID, create_twilio, twilio_data

REQUIRED = "This field is required."
BAD_ACCOUNT_SID = "An Account SID is AC followed by 32 hexadecimal characters."
BAD_SERVICE_SID = "A Messaging Service SID is MG followed by 32 hexadecimal characters."
BAD_E164 = "Enter the number in E.164 form: + then country code and number."
NO_SENDER = "Enter a From Number, a Service SID, or both."
BAD_URL = "Enter an absolute http:// or https:// URL."
RELAY = "https://relay.example.com/twilio/status"


def form_for(provider=None, **fields) -> TwilioProviderForm:
    return TwilioProviderForm(twilio_data(**fields), provider=provider)


def errors_of(provider=None, **fields) -> dict:
    form = form_for(provider, **fields)
    assert not form.is_valid()
    return form.errors


def test_it_accepts_a_complete_setup(db):
    form = form_for()

    assert form.is_valid(), form.errors


# --- Account SID --------------------------------------------------------------------------


def test_it_requires_the_account_sid(db):
    assert errors_of(account_sid="") == {"account_sid": [REQUIRED]}


@pytest.mark.parametrize(
    "sid",
    [
        "AC123",
        "MG" + "0" * 32,
        "ac" + "0" * 32,
        "AC" + "g" * 32,
        "AC" + "0" * 31,
        "AC" + "0" * 31 + " ",
    ],
)
def test_it_rejects_an_account_sid_that_is_not_ac_and_32_hex(db, sid):
    assert errors_of(account_sid=sid) == {"account_sid": [BAD_ACCOUNT_SID]}


def test_it_rejects_an_account_sid_that_is_too_long(db):
    assert errors_of(account_sid="AC" + "0" * 33) == {
        "account_sid": ["Ensure this value has at most 34 characters (it has 35)."]
    }


@pytest.mark.parametrize("sid", [ACCOUNT_SID, "AC" + "ABCDEF0123456789" * 2])
def test_it_accepts_an_account_sid_of_ac_and_32_hex(db, sid):
    form = form_for(account_sid=f" {sid} ")

    assert form.is_valid(), form.errors
    assert form.cleaned_data["account_sid"] == sid


# --- Service SID and From Number ----------------------------------------------------------


@pytest.mark.parametrize("sid", ["MG123", ACCOUNT_SID, "MG" + "z" * 32, "mg" + "0" * 32])
def test_it_rejects_a_service_sid_that_is_not_mg_and_32_hex(db, sid):
    assert errors_of(service_sid=sid) == {"service_sid": [BAD_SERVICE_SID]}


def test_it_accepts_a_service_sid_of_mg_and_32_hex(db):
    form = form_for(service_sid=SERVICE_SID)

    assert form.is_valid(), form.errors
    assert form.to_config()["service_sid"] == SERVICE_SID


@pytest.mark.parametrize("number", ["4155550123", "0044 20 7183 8750", "+0123456789", "phone"])
def test_it_rejects_a_from_number_not_in_e164(db, number):
    assert errors_of(from_number=number) == {"from_number": [BAD_E164]}


def test_it_rejects_a_from_number_with_an_unknown_country_code(db):
    assert errors_of(from_number="+99912345678") == {"from_number": [BAD_E164]}


def test_it_rejects_a_from_number_that_cannot_exist(db):
    assert errors_of(from_number="+1415555012") == {
        "from_number": ["This is not a possible phone number."]
    }


@pytest.mark.parametrize(
    ("typed", "saved"),
    [("+14155550123", "+14155550123"), ("+44 20 7183 8750", "+442071838750")],
)
def test_it_accepts_an_e164_from_number_without_its_spaces(db, typed, saved):
    form = form_for(from_number=typed)

    assert form.is_valid(), form.errors
    assert form.to_config()["from_number"] == saved


def test_it_requires_a_from_number_or_a_service_sid(db):
    assert errors_of(from_number="", service_sid="") == {"from_number": [NO_SENDER]}


def test_it_accepts_a_service_sid_without_a_from_number(db):
    form = form_for(from_number="", service_sid=SERVICE_SID)

    assert form.is_valid(), form.errors


def test_it_accepts_both_a_from_number_and_a_service_sid(db):
    form = form_for(service_sid=SERVICE_SID)

    assert form.is_valid(), form.errors
    assert form.to_config()["from_number"] == "+14155550123"


def test_it_does_not_add_the_sender_error_to_an_invalid_sender(db):
    assert errors_of(from_number="", service_sid="MG1") == {"service_sid": [BAD_SERVICE_SID]}


# --- Auth token ---------------------------------------------------------------------------


def test_it_requires_the_auth_token_on_create(db):
    assert errors_of(auth_token="") == {"auth_token": [REQUIRED]}


def test_it_keeps_the_saved_auth_token_when_left_blank(db):
    provider = create_twilio(auth_token="token-1")
    form = form_for(provider, auth_token="")

    assert form.fields["auth_token"].help_text == "Saved — leave blank to keep."
    assert form.is_valid(), form.errors
    assert services.save_from_form(form, None).get_secrets() == {"auth_token": "token-1"}


def test_it_replaces_the_saved_auth_token_when_a_new_one_is_typed(db):
    provider = create_twilio(auth_token="token-1")
    form = form_for(provider, auth_token="token-2")

    assert form.is_valid(), form.errors
    assert services.save_from_form(form, None).get_secrets() == {"auth_token": "token-2"}


def test_it_never_prefills_the_auth_token(db):
    provider = create_twilio(auth_token="token-1")
    form = TwilioProviderForm(provider=provider)

    assert form["auth_token"].value() is None
    assert "token-1" not in str(form)


# --- Callback URL -------------------------------------------------------------------------


def test_it_prefills_our_callback_url_on_create(db):
    form = TwilioProviderForm()
    token = form["callback_token"].value()

    assert form.default_callback_url == f"http://testserver/callbacks/sms/{token}/"
    assert form["callback_url"].value() == form.default_callback_url
    assert form.uses_custom_callback is False


def test_it_prefills_the_providers_callback_url_on_edit(db):
    provider = create_twilio()
    form = TwilioProviderForm(provider=provider)

    assert form["callback_url"].value() == provider.callback_url
    assert form.default_callback_url == provider.callback_url
    assert form.uses_custom_callback is False


def test_it_saves_our_callback_url_as_no_custom_url(db):
    page = TwilioProviderForm()
    form = form_for(
        callback_token=page["callback_token"].value(), callback_url=page.initial["callback_url"]
    )

    assert form.is_valid(), form.errors
    provider = services.save_from_form(form, None)
    assert provider.config["custom_callback_url"] == ""
    ours = provider.callback_url
    assert twilio.callback_url_of(provider.config, ours) == ours == page.default_callback_url


def test_it_saves_a_blank_callback_url_as_ours(db):
    form = form_for(callback_url="")

    assert form.is_valid(), form.errors
    assert form.to_config()["custom_callback_url"] == ""


def test_it_saves_a_custom_callback_url_in_the_config(db):
    provider = create_twilio(callback_url=f"  {RELAY}  ")

    assert provider.config == {
        "account_sid": ACCOUNT_SID,
        "custom_callback_url": RELAY,
        "from_number": "+14155550123",
        "service_sid": "",
        "template_id_required": False,
        "rate_limit": None,
    }
    assert twilio.callback_url_of(provider.config, provider.callback_url) == RELAY
    form = TwilioProviderForm(provider=provider)
    assert form["callback_url"].value() == RELAY
    assert form.uses_custom_callback is True


@pytest.mark.parametrize("url", ["ftp://relay.example.com/x", "relay.example.com", "not a url"])
def test_it_rejects_an_invalid_custom_callback_url(db, url):
    assert errors_of(callback_url=url) == {"callback_url": [BAD_URL]}


def test_it_puts_our_callback_url_back_on_restore(db):
    provider = create_twilio(callback_url=RELAY)
    form = form_for(provider, callback_url=RELAY, _action=twilio.RESTORE_CALLBACK)

    assert form["callback_url"].value() == provider.callback_url
    assert form.uses_custom_callback is False
    assert form.is_valid(), form.errors
    saved = services.save_from_form(form, None)
    assert saved.config["custom_callback_url"] == ""
    assert twilio.callback_url_of(saved.config, saved.callback_url) == provider.callback_url


def test_it_restores_the_callback_url_of_an_unsaved_provider_from_its_token(db):
    token = TwilioProviderForm()["callback_token"].value()
    form = form_for(callback_token=token, callback_url=RELAY, _action="restore-callback")

    assert form["callback_url"].value() == f"http://testserver/callbacks/sms/{token}/"


def test_it_saves_the_template_id_choice(db):
    provider = create_twilio(template_id_required=True)

    assert provider.config["template_id_required"] is True


# --- Rate limit ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "saved"), [("", None), ("0.1", 0.1), ("40", 40.0), ("10000", 10000.0)]
)
def test_it_saves_the_rate_limit(db, typed, saved):
    provider = create_twilio(rate_limit=typed)

    assert provider.config["rate_limit"] == saved
    assert TwilioProviderForm(provider=provider)["rate_limit"].value() == saved


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("0", "Ensure this value is greater than or equal to 0.1."),
        ("-1", "Ensure this value is greater than or equal to 0.1."),
        ("10001", "Ensure this value is less than or equal to 10000."),
        ("lots", "Enter a number."),
    ],
)
def test_it_rejects_a_rate_limit_outside_0_1_to_10000(db, typed, message):
    assert errors_of(rate_limit=typed) == {"rate_limit": [message]}


def test_it_edits_a_provider_saved_before_the_rate_limit_existed(db):
    provider = create_twilio()
    del provider.config["rate_limit"]
    provider.save()

    assert TwilioProviderForm(provider=provider)["rate_limit"].value() is None
    form = form_for(provider)
    assert form.is_valid(), form.errors
    assert services.save_from_form(form, None).config["rate_limit"] is None


def test_the_form_says_a_trial_account_only_sends_to_verified_numbers(admin_client):
    page = admin_client.get("/settings/channels/sms/providers/add/twilio/").content.decode()

    assert "A Twilio trial account only sends to numbers verified in its Twilio dashboard." in page
