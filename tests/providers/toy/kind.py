from __future__ import annotations

from providers.kinds.base import Kind

from .form import ToyProviderForm
from .receiver import ToyReceiver
from .sender import ToySender


class ToyKind(Kind):
    key = ToyProviderForm.kind
    label = "Toy SMS"
    description = "A provider with a JSON API, a Bearer key and signed delivery reports."
    form_class = ToyProviderForm
    receiver = ToyReceiver()

    @classmethod
    def sender(cls, config, secrets, *, callback_url, campaign_values, session_key):
        return ToySender(config, secrets, session_key=session_key)
