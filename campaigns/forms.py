"""The campaign form (SPEC §4): what to send, to whom, through which provider, and when."""

from __future__ import annotations

from datetime import datetime

import phonenumbers
from django import forms
from django.utils import timezone

from audiences.models import Audience, Import, ImportStatus
from providers import registry
from providers.models import Provider
from providers.templating import TEMPLATE_VARIABLES

from . import personalize

SEND_NOW, SEND_LATER = "now", "later"
PERSONALISE_HELP = (
    "Personalise with contact attributes: {first_name}, or {first_name|there} with a "
    "default for contacts without one."
)


class ProviderChoiceField(forms.ModelChoiceField):
    """Marketers see providers by nickname only (SPEC §0)."""

    def label_from_instance(self, provider: Provider) -> str:
        return f"{provider.nickname} (default)" if provider.is_default else provider.nickname


class AudienceChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, audience: Audience) -> str:
        return f"{audience.name} ({audience.contact_count:,} contacts)"


def audience_attributes(audience: Audience | None) -> list[str]:
    """The contact attributes an audience offers: its imports' columns but the phone's."""
    if audience is None:
        return []
    names: dict[str, None] = {}
    imports = Import.objects.filter(audience=audience).exclude(status=ImportStatus.FAILED)
    for header, phone_column in imports.values_list("header", "phone_column"):
        for name in header:
            if name != phone_column:
                names[name] = None
    return list(names)


class CampaignForm(forms.Form):
    name = forms.CharField(label="Campaign name", max_length=200)
    provider = ProviderChoiceField(
        label="Provider", queryset=Provider.objects.active(), empty_label=None
    )
    audience = AudienceChoiceField(
        label="Audience", queryset=Audience.objects.all(), empty_label="Choose an audience"
    )
    body = forms.CharField(
        label="Message",
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=PERSONALISE_HELP,
    )
    template_id = forms.CharField(label="Template ID", max_length=200, required=False)
    template_variables = forms.CharField(
        label="Template Variables",
        max_length=2000,
        required=False,
        help_text="Sent to the provider as $$TemplateVariables; personalise it like the message.",
    )
    click_tracking = forms.BooleanField(
        label="Track link clicks",
        required=False,
        help_text="Links in the message become short links on this hub that count clicks.",
    )
    when = forms.ChoiceField(
        label="When",
        choices=[(SEND_NOW, "Send now"), (SEND_LATER, "Schedule for later")],
        initial=SEND_NOW,
        widget=forms.RadioSelect,
    )
    send_at = forms.DateTimeField(
        label="Send at",
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["send_at"].label = f"Send at ({timezone.get_current_timezone_name()})"
        if not self.is_bound and "provider" not in self.initial:
            self.initial["provider"] = Provider.objects.active().filter(is_default=True).first()
        self.chosen_provider = self._chosen("provider")
        self.chosen_audience = self._chosen("audience")
        self.attributes = audience_attributes(self.chosen_audience)
        self.campaign_wide: set[str] = set()
        self.custom_tokens: list[str] = []
        provider = self.chosen_provider
        if provider is not None:
            kind = registry.kind_of(provider)
            self.custom_tokens = kind.custom_tokens(provider.config)
            self.campaign_wide = kind.campaign_wide_tokens(provider.config)
            if kind.template_id_required(provider.config):
                self.fields["template_id"].required = True
        if TEMPLATE_VARIABLES in self.campaign_wide:
            self.fields["template_variables"].help_text = (
                "Sent to the provider as $$TemplateVariables, once per batch: one value for "
                "the whole campaign."
            )
        for token in self.custom_tokens:
            wide = token in self.campaign_wide
            self.fields[f"custom_{token}"] = forms.CharField(
                label=f"$${token}",
                max_length=1000,
                help_text="One value for the whole campaign."
                if wide
                else "A fixed value, or {attribute} to take it from each contact.",
            )

    def _chosen(self, name: str):
        field = self.fields[name]
        value = self[name].value()
        try:
            return field.clean(value) if value not in (None, "") else None
        except forms.ValidationError:
            return None

    def custom_fields(self):
        return [self[f"custom_{token}"] for token in self.custom_tokens]

    # --- validation --------------------------------------------------------------------
    def clean_body(self) -> str:
        # Browsers post a textarea's line breaks as CRLF; a message has plain newlines (one
        # character each, as the counter counts them).
        body = self.cleaned_data["body"].replace("\r\n", "\n")
        self._check_template(body)
        return body

    def clean_template_variables(self) -> str:
        value = self.cleaned_data["template_variables"]
        if TEMPLATE_VARIABLES in self.campaign_wide and personalize.names(value):
            raise forms.ValidationError(
                "$$TemplateVariables is sent once per batch, so it takes one value for the "
                "whole campaign, not a contact attribute."
            )
        self._check_template(value)
        return value

    def clean_send_at(self) -> datetime | None:
        send_at = self.cleaned_data.get("send_at")
        if self.data.get("when") == SEND_LATER:
            if send_at is None:
                raise forms.ValidationError("Choose when to send.")
            if send_at <= timezone.now():
                raise forms.ValidationError("Choose a time in the future.")
        return send_at

    def clean(self) -> dict:
        data = super().clean()
        for token in self.custom_tokens:
            name = f"custom_{token}"
            value = data.get(name)
            if value is None:
                continue
            try:
                if token in self.campaign_wide and personalize.names(value):
                    raise forms.ValidationError(
                        f"$${token} is sent once per batch, so it takes one value for the "
                        "whole campaign, not a contact attribute."
                    )
                self._check_template(value)
            except forms.ValidationError as error:
                self.add_error(name, error)
        return data

    def _check_template(self, template: str) -> None:
        try:
            personalize.validate(template)
        except personalize.TemplateError as error:
            raise forms.ValidationError(str(error)) from error
        if self.chosen_audience is None:
            return
        missing = [
            name
            for name in personalize.names_without_default(template)
            if name not in self.attributes
        ]
        if missing:
            name = missing[0]
            raise forms.ValidationError(
                f"The audience has no attribute “{name}”: add a default, like "
                f"{{{name}|…}}, or choose one of: {', '.join(self.attributes) or 'none'}."
            )

    # --- what to save --------------------------------------------------------------------
    def custom_values(self) -> dict[str, str]:
        return {token: self.cleaned_data[f"custom_{token}"] for token in self.custom_tokens}


class SendTestForm(forms.Form):
    """Send a test of the campaign to one number (SPEC §4)."""

    number = forms.CharField(
        label="Mobile number",
        max_length=30,
        help_text="With its country code, e.g. +14155550123.",
    )

    def clean_number(self) -> str:
        raw = self.cleaned_data["number"].strip()
        try:
            parsed = phonenumbers.parse(raw, None)
        except phonenumbers.NumberParseException:
            parsed = None
        if parsed is None or not phonenumbers.is_possible_number(parsed):
            raise forms.ValidationError("Enter the number with its country code, e.g. +1 415…")
        return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
