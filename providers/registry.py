"""The provider kinds this hub offers, by key (Provider.kind).

Adding a kind is a folder under providers/kinds/ and one line in KIND_CLASSES (see
docs/adding-a-provider.md). The classes are named by dotted path and imported on first use,
as Django names its backends: Provider.kind's choices come from here, and the kinds' forms
build on the Provider model, so importing them with the model would be circular.
"""

from __future__ import annotations

from functools import cache

from django.utils.module_loading import import_string

from .kinds.base import Kind

KIND_CLASSES = (
    "providers.kinds.generic.kind.GenericKind",
    "providers.kinds.twilio.kind.TwilioKind",
)


@cache
def kinds() -> dict[str, type[Kind]]:
    """Every kind class by its key, in the order the add page lists them."""
    return {kind.key: kind for kind in map(import_string, KIND_CLASSES)}


def kind_of(provider) -> type[Kind]:
    """A provider's kind class."""
    return kinds()[provider.kind]


def has_callbacks(provider) -> bool:
    """Whether delivery reports can reach this provider's messages (SPEC §2.2, used by §7)."""
    return kind_of(provider).has_callbacks(provider.config)
