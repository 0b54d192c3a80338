"""Waiting for a campaign the way beat would drive it, and the books every fault test ends
with: rollups == recompute, and the ids the provider accepted == the messages marked Sent."""

from __future__ import annotations

from collections import Counter

from campaigns import sweeper
from campaigns.models import Campaign, CampaignStatus, Message, MessageState
from stats import rebuild
from tests.campaigns.worker import wait_until

from .stub import Stub


def states(campaign: Campaign) -> Counter:
    return Counter(Message.objects.filter(campaign=campaign).values_list("state", flat=True))


def finish(campaign: Campaign, timeout: float = 60) -> None:
    """Wait for the campaign to end Sent, sweeping meanwhile (what Celery beat runs)."""
    done = wait_until(
        lambda: Campaign.objects.get(pk=campaign.pk).status == CampaignStatus.SENT,
        timeout=timeout,
        interval=0.25,
        on_wait=sweeper.sweep,
    )
    assert done, (Campaign.objects.get(pk=campaign.pk).status, states(campaign))


def ids_in(campaign: Campaign, state: str, **filters) -> set[int]:
    messages = Message.objects.filter(campaign=campaign, state=state, **filters)
    return set(messages.values_list("id", flat=True))


def assert_books_balance(campaign: Campaign, stub: Stub | None, unknown: set[int] = frozenset()):
    """`unknown`: messages whose worker died in flight (Dispatch Error, outcome unknown);
    the provider may have accepted them although they are not marked Sent."""
    counts = states(campaign)
    assert set(counts) <= {MessageState.SENT, MessageState.DISPATCH_ERROR}, counts
    pending = Message.objects.filter(campaign=campaign, next_attempt_at__isnull=False)
    assert not pending.exists()
    assert rebuild.snapshot() == rebuild.recompute(), "rollups differ from a recompute"
    accepted = stub.accepted if stub else Counter()
    sent = ids_in(campaign, MessageState.SENT)
    assert sent <= set(accepted)
    assert set(accepted) - sent <= unknown
    assert set(accepted.values()) <= {1}, "the provider accepted a message twice"
