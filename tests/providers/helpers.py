"""Posted setup-form data and providers saved the way the views save them."""

from __future__ import annotations

from django.http import QueryDict

from providers import services
from providers.kinds.generic.form import GenericProviderForm
from providers.kinds.twilio.form import TwilioProviderForm

JSON_BODY = '{"to": "$$To", "text": "$$Body", "ref": "$$MessageID"}'
ACCOUNT_SID = "AC" + "0123456789abcdef" * 2
SERVICE_SID = "MG" + "fedcba9876543210" * 2

GENERIC_DEFAULTS = {
    "nickname": "Acme SMS",
    "request_type": "POST",
    "endpoint": "https://api.example.com/sms",
    "auth_type": "none",
    "body_format": "json",
    "json_body": JSON_BODY,
    "records_per_batch": "100",
    "number_format": "e164",
}
TWILIO_DEFAULTS = {
    "nickname": "Twilio US",
    "account_sid": ACCOUNT_SID,
    "auth_token": "twilio-auth-token-0001",
    "from_number": "+14155550123",
}


def form_data(defaults: dict, fields: dict, rows: dict) -> QueryDict:
    """A QueryDict as a browser posts it: `None` leaves a field out, True posts "on", and each
    key/value row list (headers=[(k, v), …]) becomes repeated `<name>-key`/`<name>-value`; a
    row (k, v, True) is ticked Secret (`<name>-secret` holds its index)."""
    data = QueryDict(mutable=True)
    for name, value in {**defaults, **fields}.items():
        if value is None or value is False:
            continue
        data[name] = "on" if value is True else str(value)
    for name, pairs in rows.items():
        for index, (key, value, *secret) in enumerate(pairs):
            data.appendlist(f"{name}-key", key)
            data.appendlist(f"{name}-value", value)
            if secret and secret[0]:
                data.appendlist(f"{name}-secret", str(index))
    return data


def generic_data(headers=(), params=(), oauth_extra=(), **fields) -> QueryDict:
    rows = {"headers": headers, "params": params, "oauth_extra": oauth_extra}
    return form_data(GENERIC_DEFAULTS, fields, rows)


def twilio_data(**fields) -> QueryDict:
    return form_data(TWILIO_DEFAULTS, fields, {})


def create_generic(actor=None, headers=(), params=(), oauth_extra=(), **fields):
    data = generic_data(headers=headers, params=params, oauth_extra=oauth_extra, **fields)
    form = GenericProviderForm(data)
    assert form.is_valid(), form.errors
    return services.save_from_form(form, actor)


def create_twilio(actor=None, **fields):
    form = TwilioProviderForm(twilio_data(**fields))
    assert form.is_valid(), form.errors
    return services.save_from_form(form, actor)


def generic_config(endpoint: str, **overrides) -> dict:
    """A complete Generic configuration, as senders read it, without going through the form."""
    base = {
        "request_type": "POST",
        "endpoint": endpoint,
        "auth_type": "none",
        "headers": [],
        "body_format": "json",
        "params": [],
        "json_body": '{"to": "$$To", "text": "$$Body", "mid": "$$MessageID"}',
        "batching": False,
        "batch_key": "",
        "records_per_batch": None,
        "number_format": "e164",
        "oauth_extra": [],
    }
    return {**base, **overrides}
