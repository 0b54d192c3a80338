"""The parts every provider setup form shares: nickname, default flag, callback URL, secrets,
and the in-place form actions (add/remove rows, refresh) that htmx or a plain post trigger."""

from __future__ import annotations

import re
from collections.abc import Mapping
from urllib.parse import urlsplit

import phonenumbers
from django import forms
from django.conf import settings
from django.forms.utils import ErrorDict
from django.http import QueryDict
from django.views.decorators.debug import sensitive_variables

from .models import CALLBACK_PATH, Provider, new_callback_token

TOKEN_FORMAT = re.compile(r"^[A-Za-z0-9_-]{32,64}$")


class ProviderForm(forms.Form):
    """Base of each kind's setup form. Subclasses declare their fields and implement
    `to_config()`, `initial_from_config()` and list their secret fields in `secret_fields`."""

    kind: str
    secret_fields: tuple[str, ...] = ()

    nickname = forms.CharField(
        label="Nickname", max_length=100, help_text="Uniquely identifies the provider."
    )
    callback_token = forms.CharField(widget=forms.HiddenInput, required=False)
    is_default = forms.BooleanField(
        label="Mark as default",
        required=False,
        help_text="Preselected when a marketer creates a campaign.",
    )

    @sensitive_variables()
    def __init__(self, data=None, *, provider: Provider | None = None):
        self.provider = provider
        initial = {"callback_token": provider.callback_token if provider else new_callback_token()}
        if provider:
            initial.update(nickname=provider.nickname, is_default=provider.is_default)
            initial.update(self.initial_from_config(provider.config))
        super().__init__(data, initial=initial)
        saved = provider.readable_secrets() if provider else {}
        # Saved credentials that the current keys cannot decrypt must be typed again.
        self.secrets_unreadable = saved is None
        # Names only: the form never holds a saved secret's value.
        self.saved_secret_names = frozenset(name for name, value in (saved or {}).items() if value)
        for name in self.secret_fields:
            if (saved or {}).get(name):
                self.fields[name].mark_saved()
        if provider and provider.is_default:
            default_field = self.fields["is_default"]
            default_field.disabled = True
            default_field.help_text = "The default provider. To change it, mark another one."

    # --- kind hooks -------------------------------------------------------------------
    def initial_from_config(self, config: dict) -> dict:
        return dict(config)

    def to_config(self) -> dict:
        raise NotImplementedError

    def active_secret_fields(self) -> tuple[str, ...]:
        """Secret fields that the cleaned configuration uses (others are dropped on save)."""
        return self.secret_fields

    def destinations(self, values: Mapping) -> dict[str, str]:
        """The URLs saved secrets are sent to, by what to call them ("The endpoint": url), read
        from a saved configuration or the cleaned data (a kind uses the same names in both).
        A kind whose URLs are fixed (Twilio: TWILIO_API_BASE) has none."""
        return {}

    # --- shared behaviour ---------------------------------------------------------------
    def current(self, name: str):
        """The field's value as shown: what was posted, else the initial value."""
        return self[name].value()

    @property
    def callback_token_value(self) -> str:
        if self.provider:
            return self.provider.callback_token
        token = self.current("callback_token") or ""
        return token if TOKEN_FORMAT.match(token) else ""

    @property
    def default_callback_url(self) -> str:
        token = self.callback_token_value
        return settings.SITE_URL + CALLBACK_PATH.format(token=token) if token else ""

    def skip_validation(self) -> None:
        """Render a bound form without running validation (used by in-place refreshes)."""
        self._errors = ErrorDict()
        self.cleaned_data = {}

    def clean_nickname(self) -> str:
        nickname = self.cleaned_data["nickname"].strip()
        clash = Provider.objects.filter(nickname__iexact=nickname)
        if self.provider:
            clash = clash.exclude(pk=self.provider.pk)
        if clash.exists():
            raise forms.ValidationError("Another provider already uses this nickname.")
        return nickname

    def clean_callback_token(self) -> str:
        if self.provider:
            return self.provider.callback_token
        token = self.cleaned_data.get("callback_token") or ""
        if not TOKEN_FORMAT.match(token) or Provider.objects.filter(callback_token=token).exists():
            token = new_callback_token()
        return token

    def require(self, *names: str) -> None:
        """Mark fields as required for the current choices (e.g. the auth type's fields)."""
        for name in names:
            if not self.cleaned_data.get(name) and name not in self.errors:
                self.add_error(name, "This field is required.")

    def require_secret(self, name: str) -> None:
        if not self.cleaned_data.get(name) and not self.fields[name].is_saved:
            self.add_error(name, "This field is required.")

    def typed_secrets(self) -> dict[str, str]:
        return {name: self.cleaned_data.get(name) or "" for name in self.active_secret_fields()}

    def require_secrets_when_moved(self, data: dict) -> None:
        """Saved secrets go only to the hosts they were saved for (SPEC §8): when a destination
        moves to another scheme, host or port, each saved secret in use must be typed again,
        for a save as for a test from the form. Call at the end of `clean()`."""
        if not self.provider:
            return
        before = self.destinations(self.provider.config)
        moved = [
            what
            for what, url in self.destinations(data).items()
            if url and before.get(what) and origin(url) != origin(before[what])
        ]
        if not moved:
            return
        for name, value in self.typed_secrets().items():
            if value or name not in self.saved_secret_names:
                continue
            if name in self.fields:
                field_name, what = name, f"the {self.fields[name].label.lower()}"
            else:  # a secret key/value row, "<list>:<key>"
                field_name, key = name.split(":", 1)
                what = f"the value of {key!r}"
            self.add_error(field_name, f"{moved[0]} moved to a new host: type {what} again.")


def origin(url: str) -> tuple[str, str, int | None] | None:
    """Scheme, host and port of a URL (the default port made explicit); None if malformed."""
    try:
        parts = urlsplit(url or "")
        port = parts.port or {"http": 80, "https": 443}.get(parts.scheme.lower())
    except ValueError:
        return None
    return parts.scheme.lower(), (parts.hostname or "").lower(), port


def apply_form_action(data: QueryDict, action: str) -> QueryDict:
    """Apply an in-place action to posted data: `add-row:<field>` appends a blank row,
    `remove-row:<field>:<index>` removes one (the rows after it move up, with their "Secret"
    ticks, which carry row indexes). Other actions (refresh) change nothing."""
    data = data.copy()
    parts = action.split(":")
    if parts[0] == "add-row" and len(parts) == 2:
        field = parts[1]
        for suffix in ("key", "value"):
            data.setlist(f"{field}-{suffix}", [*data.getlist(f"{field}-{suffix}"), ""])
    elif parts[0] == "remove-row" and len(parts) == 3 and parts[2].isdigit():
        field, index = parts[1], int(parts[2])
        for suffix in ("key", "value"):
            values = data.getlist(f"{field}-{suffix}")
            if index < len(values):
                del values[index]
            data.setlist(f"{field}-{suffix}", values)
        ticked = [int(i) for i in data.getlist(f"{field}-secret") if i.isdigit()]
        data.setlist(f"{field}-secret", [str(i - (i > index)) for i in ticked if i != index])
    return data


class TestSmsForm(forms.Form):
    """The Send Test SMS dialog (SPEC §2.3): a number, a message and one input per custom
    replacement of the provider's configuration."""

    country_code = forms.CharField(
        label="Country code", max_length=5, initial="+1", help_text="e.g. +1, +44, +91"
    )
    mobile_number = forms.CharField(label="Mobile number", max_length=20)
    message = forms.CharField(
        label="Message",
        initial="This is a test message.",
        max_length=1600,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args, custom_tokens: list[str] = (), **kwargs):
        super().__init__(*args, **kwargs)
        self.custom_tokens = list(custom_tokens)
        for token in self.custom_tokens:
            self.fields[f"custom_{token}"] = forms.CharField(
                label=f"$${token}", max_length=1000, help_text="Custom replacement"
            )

    def clean(self) -> dict:
        data = super().clean()
        code = (data.get("country_code") or "").strip().lstrip("+")
        number = re.sub(r"[\s().-]", "", data.get("mobile_number") or "")
        if not code.isdigit():
            self.add_error("country_code", "Enter a country calling code such as +1.")
        elif number:
            try:
                parsed = phonenumbers.parse(f"+{code}{number.lstrip('0')}")
            except phonenumbers.NumberParseException:
                parsed = None
            if parsed is None or not phonenumbers.is_possible_number(parsed):
                self.add_error("mobile_number", "This is not a possible number for that country.")
            else:
                data["to"] = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
        return data

    def custom_values(self) -> dict[str, str]:
        return {token: self.cleaned_data[f"custom_{token}"] for token in self.custom_tokens}
