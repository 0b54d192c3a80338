"""What a provider kind is: everything particular to one kind of provider, in one class.

A kind lives in its own folder, `providers/kinds/<kind>/`, and is registered by one line in
`providers/registry.py` (docs/adding-a-provider.md walks through adding one). Nothing outside
its folder asks which kind a provider is: it asks the provider's kind class.
"""

from __future__ import annotations

from typing import ClassVar

from django import forms
from django.conf import settings

from callbacks.receivers.base import Receiver

from ..base import Sender


class Kind:
    do_not_call_in_templates = True  # templates read a kind's attributes, never build one
    key: ClassVar[str]  # stored in Provider.kind; the form's `kind`
    label: ClassVar[str]  # the add page's card title and the provider list's Kind column
    description: ClassVar[str]  # the add page's card text
    form_class: ClassVar[type[forms.Form]]  # a providers.forms.ProviderForm
    # The setup page, with the form inside `{% partialdef provider-form inline %}`: the
    # default lays the form's fields out in order.
    template: ClassVar[str] = "providers/form_kind.html"
    # Reads the provider's own delivery reports and replies; None: it sends none we can read.
    receiver: ClassVar[Receiver | None] = None

    @classmethod
    def sender(
        cls,
        config: dict,
        secrets: dict,
        *,
        callback_url: str,
        campaign_values: dict,
        session_key: str,
    ) -> Sender:
        """The sender of a configuration (saved or, for Send Test SMS, not yet saved).
        `callback_url` is ours for this provider; `campaign_values` the replacements every
        message of the send shares; `session_key` names the send for connection reuse."""
        raise NotImplementedError

    @classmethod
    def custom_tokens(cls, config: dict) -> list[str]:
        """The custom replacements a send through this configuration needs (SPEC §3.1)."""
        return []

    @classmethod
    def campaign_wide_tokens(cls, config: dict) -> set[str]:
        """Custom replacements that take one value for the whole campaign (SPEC §3.1)."""
        return set()

    @classmethod
    def template_id_required(cls, config: dict) -> bool:
        """Whether campaigns through this provider must give a Template ID (SPEC §3.5, §4)."""
        return False

    @classmethod
    def has_callbacks(cls, config: dict) -> bool:
        """Whether delivery reports can reach this configuration's messages (SPEC §2.2, §7)."""
        return cls.receiver is not None

    @classmethod
    def report_trial_form(cls, data=None) -> forms.Form | None:
        """The setup page's Try a report box, for a kind that can read a pasted sample
        report (SPEC §5.3); None: it has none."""
        return None

    @classmethod
    def try_report(cls, form, trial_form, match):
        """What a valid `trial_form`'s sample becomes with the setup `form`'s settings;
        `match(events)` gives each event's message, or is None before the provider is saved."""
        raise NotImplementedError

    @classmethod
    def claim_size(cls, config: dict) -> int:
        """Messages a worker claims, renders and sends at once (SPEC §3.4)."""
        return settings.DISPATCH_GROUP_SIZE

    @classmethod
    def sends_one_text_to_many(cls, config: dict) -> bool:
        """Whether one request carries one text for many numbers, so that recipients whose
        text differs are sent one request each (SPEC §5.2): the campaign page says so."""
        return False
