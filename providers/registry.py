"""Provider kinds: what the add page offers and which form, template and rules each uses.

Adding a kind: see docs/adding-a-provider.md.
"""

from __future__ import annotations

from dataclasses import dataclass

from .forms import ProviderForm
from .kinds import generic, twilio
from .kinds.generic_sender import GenericSender
from .kinds.twilio_sender import TwilioSender
from .models import ProviderKind
from .templating import custom_tokens

Sender = GenericSender | TwilioSender


@dataclass(frozen=True)
class Kind:
    key: str
    label: str
    description: str
    form_class: type[ProviderForm]
    template: str


KINDS: dict[str, Kind] = {
    ProviderKind.GENERIC: Kind(
        key=ProviderKind.GENERIC,
        label="Generic (HTTP)",
        description="Any provider with an HTTP API: GET or POST, key-value or JSON, batching, "
        "Basic or OAuth 2.0 authentication.",
        form_class=generic.GenericProviderForm,
        template="providers/form_generic.html",
    ),
    ProviderKind.TWILIO: Kind(
        key=ProviderKind.TWILIO,
        label="Twilio",
        description="Twilio's Messaging API with status callbacks and replies.",
        form_class=twilio.TwilioProviderForm,
        template="providers/form_twilio.html",
    ),
}


def custom_tokens_of(kind: str, config: dict) -> list[str]:
    """The custom replacements a send through this configuration needs (SPEC §3.1)."""
    if kind == ProviderKind.GENERIC:
        return custom_tokens(generic.template_texts(config))
    return []


def campaign_wide_tokens(kind: str, config: dict) -> set[str]:
    """Custom replacements that take one value for the whole campaign (SPEC §3.1)."""
    if kind == ProviderKind.GENERIC:
        return generic.campaign_wide_tokens(config)
    return set()


def template_id_required(kind: str, config: dict) -> bool:
    """Whether campaigns through this provider must give a Template ID (SPEC §3.5, §4)."""
    if kind == ProviderKind.TWILIO:
        return bool(config.get("template_id_required"))
    return generic.template_id_required(config)


def sender_for(
    kind: str,
    config: dict,
    secrets: dict,
    *,
    callback_url: str,
    campaign_values: dict,
    session_key: str,
) -> Sender:
    """The sender of a configuration (saved or, for Send Test SMS, not yet saved)."""
    if kind == ProviderKind.TWILIO:
        return TwilioSender(
            config,
            secrets,
            callback_url=twilio.callback_url_of(config, callback_url),
            session_key=session_key,
        )
    return GenericSender(config, secrets, campaign_values=campaign_values, session_key=session_key)


def has_callbacks(provider) -> bool:
    """Whether delivery callbacks can reach this provider's messages (SPEC §2.2, used by §7)."""
    if provider.kind == ProviderKind.TWILIO:
        return True
    return generic.has_callbacks(provider.config)
