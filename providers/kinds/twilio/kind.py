from __future__ import annotations

from ..base import Kind
from .form import TwilioProviderForm, callback_url_of
from .receiver import TwilioReceiver
from .sender import TwilioSender


class TwilioKind(Kind):
    key = TwilioProviderForm.kind
    label = "Twilio"
    description = "Twilio's Messaging API with status callbacks and replies."
    form_class = TwilioProviderForm
    template = "twilio/form.html"
    receiver = TwilioReceiver()

    @classmethod
    def sender(cls, config, secrets, *, callback_url, campaign_values, session_key):
        return TwilioSender(
            config,
            secrets,
            callback_url=callback_url_of(config, callback_url),
            session_key=session_key,
        )

    @classmethod
    def template_id_required(cls, config: dict) -> bool:
        return bool(config.get("template_id_required"))
