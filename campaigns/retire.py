"""Retiring a provider (SPEC §2.3): archiving or deleting it stops its scheduled and running
campaigns in the same transaction. Campaigns build on providers, so the operation lives here
and calls down to providers.services."""

from __future__ import annotations

from django.db import transaction

from providers import services as provider_services
from providers.models import Provider

from .models import Campaign
from .services import STOPPABLE, stop


@transaction.atomic
def archive_provider(provider: Provider, actor) -> None:
    """Irreversible: the provider's campaigns stop; it can no longer be chosen or edited."""
    if provider.is_archived:
        return
    _stop_campaigns(provider, f"Stopped: the provider “{provider.nickname}” was archived.")
    provider_services.archive(provider, actor)


@transaction.atomic
def delete_provider(provider: Provider, actor) -> None:
    """The provider's campaigns stop and stay, without a provider; its messages go with it."""
    _stop_campaigns(provider, f"Stopped: the provider “{provider.nickname}” was deleted.")
    provider_services.delete(provider, actor)


def _stop_campaigns(provider: Provider, reason: str) -> None:
    for campaign in Campaign.objects.filter(provider=provider, status__in=STOPPABLE):
        stop(campaign, reason)
