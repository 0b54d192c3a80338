"""Twilio provider: its configuration and setup form (SPEC §3.5).

Configuration keys (Provider.config): account_sid, custom_callback_url ("" = ours),
from_number, service_sid, template_id_required, rate_limit (missing from configurations saved
before it existed). Secret: auth_token.
"""

from __future__ import annotations

import re

import phonenumbers
from django import forms

from ...fields import SecretField, is_http_url, rate_limit_field
from ...forms import ProviderForm

ACCOUNT_SID = re.compile(r"^AC[0-9a-fA-F]{32}$")
SERVICE_SID = re.compile(r"^MG[0-9a-fA-F]{32}$")
# Form action of the Restore button: put our callback URL back.
RESTORE_CALLBACK = "restore-callback"


def callback_url_of(config: dict, our_callback_url: str) -> str:
    """Where Twilio posts status callbacks: the custom URL if one is set, else ours."""
    return config.get("custom_callback_url") or our_callback_url


class TwilioProviderForm(ProviderForm):
    kind = "twilio"
    secret_fields = ("auth_token",)

    account_sid = forms.CharField(
        label="Account SID",
        max_length=34,
        help_text="From the Twilio Console: AC followed by 32 hexadecimal characters.",
    )
    auth_token = SecretField(label="Auth token")
    callback_url = forms.CharField(
        label="Callback URL",
        max_length=2000,
        required=False,
        help_text="Ours by default. A custom URL must relay Twilio's callbacks to ours "
        "exactly as received.",
    )
    from_number = forms.CharField(
        label="From Number",
        max_length=20,
        required=False,
        help_text="Your Twilio number in E.164 form, e.g. +14155550123.",
    )
    service_sid = forms.CharField(
        label="Service SID (Copilot)",
        max_length=34,
        required=False,
        help_text="Messaging Service SID (MG…). Used instead of the From Number when set.",
    )
    template_id_required = forms.BooleanField(
        label="Template ID",
        required=False,
        help_text="Campaigns using this provider must give a template ID.",
    )
    rate_limit = rate_limit_field()

    def __init__(self, data=None, **kwargs):
        super().__init__(data, **kwargs)
        if not self.is_bound and not self.initial.get("callback_url"):
            self.initial["callback_url"] = self.default_callback_url
        if self.is_bound and self.data.get("_action") == RESTORE_CALLBACK:
            self.data = self.data.copy()
            self.data["callback_url"] = self.default_callback_url

    @property
    def uses_custom_callback(self) -> bool:
        current = self.current("callback_url") or ""
        return bool(current) and current != self.default_callback_url

    def initial_from_config(self, config: dict) -> dict:
        initial = dict(config)
        initial["callback_url"] = config.get("custom_callback_url") or ""
        return initial

    def clean_account_sid(self) -> str:
        sid = self.cleaned_data["account_sid"].strip()
        if not ACCOUNT_SID.match(sid):
            raise forms.ValidationError(
                "An Account SID is AC followed by 32 hexadecimal characters."
            )
        return sid

    def clean_service_sid(self) -> str:
        sid = self.cleaned_data["service_sid"].strip()
        if sid and not SERVICE_SID.match(sid):
            raise forms.ValidationError(
                "A Messaging Service SID is MG followed by 32 hexadecimal characters."
            )
        return sid

    def clean_from_number(self) -> str:
        number = self.cleaned_data["from_number"].strip().replace(" ", "")
        if not number:
            return ""
        message = "Enter the number in E.164 form: + then country code and number."
        if not re.fullmatch(r"\+[1-9]\d{6,14}", number):
            raise forms.ValidationError(message)
        try:
            parsed = phonenumbers.parse(number)
        except phonenumbers.NumberParseException as exc:
            raise forms.ValidationError(message) from exc
        if not phonenumbers.is_possible_number(parsed):
            raise forms.ValidationError("This is not a possible phone number.")
        return number

    def clean_callback_url(self) -> str:
        url = self.cleaned_data["callback_url"].strip()
        if url and not is_http_url(url):
            raise forms.ValidationError("Enter an absolute http:// or https:// URL.")
        return url

    def clean(self) -> dict:
        data = super().clean()
        self.require_secret("auth_token")
        if (
            not data.get("from_number")
            and not data.get("service_sid")
            and not ({"from_number", "service_sid"} & set(self.errors))
        ):
            self.add_error("from_number", "Enter a From Number, a Service SID, or both.")
        return data

    def to_config(self) -> dict:
        data = self.cleaned_data
        callback = data["callback_url"]
        ours = self.default_callback_url
        return {
            "account_sid": data["account_sid"],
            "custom_callback_url": "" if callback in ("", ours) else callback,
            "from_number": data["from_number"],
            "service_sid": data["service_sid"],
            "template_id_required": data["template_id_required"],
            "rate_limit": data["rate_limit"],
        }
