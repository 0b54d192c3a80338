from __future__ import annotations

from ...templating import CALLBACK_URL
from ..base import Kind
from . import config as generic_config
from .form import GenericProviderForm
from .receiver import GenericReceiver
from .report_form import TryReportForm
from .report_trial import try_report
from .sender import GenericSender


class GenericKind(Kind):
    key = GenericProviderForm.kind
    label = "Generic (HTTP)"
    description = (
        "Any provider with an HTTP API: GET or POST, key-value or JSON, batching, "
        "Basic or OAuth 2.0 authentication."
    )
    form_class = GenericProviderForm
    template = "generic/form.html"
    receiver = GenericReceiver()

    @classmethod
    def sender(cls, config, secrets, *, callback_url, campaign_values, session_key):
        values = {**campaign_values, CALLBACK_URL: callback_url}
        return GenericSender(config, secrets, campaign_values=values, session_key=session_key)

    @classmethod
    def custom_tokens(cls, config: dict) -> list[str]:
        return generic_config.custom_tokens(config)

    @classmethod
    def campaign_wide_tokens(cls, config: dict) -> set[str]:
        return generic_config.campaign_wide_tokens(config)

    @classmethod
    def template_id_required(cls, config: dict) -> bool:
        return generic_config.template_id_required(config)

    @classmethod
    def has_callbacks(cls, config: dict) -> bool:
        return generic_config.has_callbacks(config)

    @classmethod
    def report_trial_form(cls, data=None):
        return TryReportForm(data, prefix="try")

    @classmethod
    def try_report(cls, form, trial_form, match):
        sample, query = trial_form.cleaned_data["sample"], trial_form.cleaned_data["query"]
        return try_report(form, sample, query, match)

    @classmethod
    def claim_size(cls, config: dict) -> int:
        return generic_config.claim_size(config)

    @classmethod
    def sends_one_text_to_many(cls, config: dict) -> bool:
        return generic_config.sends_one_text_to_many(config)
