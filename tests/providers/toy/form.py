"""Toy SMS: its setup form. Configuration keys: endpoint, rate_limit. Secret: api_key."""

from __future__ import annotations

from django import forms

from providers.fields import SecretField, is_http_url, rate_limit_field
from providers.forms import ProviderForm


class ToyProviderForm(ProviderForm):
    kind = "toy"
    secret_fields = ("api_key",)

    endpoint = forms.CharField(label="API URL", max_length=2000)
    api_key = SecretField(label="API key")
    rate_limit = rate_limit_field()

    def clean_endpoint(self) -> str:
        endpoint = self.cleaned_data["endpoint"].strip()
        if not is_http_url(endpoint):
            raise forms.ValidationError("Enter an absolute http:// or https:// URL.")
        return endpoint

    def clean(self):
        data = super().clean()
        self.require_secret("api_key")
        self.require_secrets_when_moved(data)
        return data

    def destinations(self, values) -> dict[str, str]:
        return {"The API URL": values.get("endpoint", "")}

    def to_config(self) -> dict:
        return {
            "endpoint": self.cleaned_data["endpoint"],
            "rate_limit": self.cleaned_data["rate_limit"],
        }
