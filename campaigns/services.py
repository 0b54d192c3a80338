"""Campaign state transitions: queue messages, start, pause, resume, stop, finish.

Work is handed to Celery as id ranges after the transaction that made it due commits, so a
worker never looks for messages that are not there yet.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import partial

from django.conf import settings
from django.db import transaction
from django.db.models import Max, Min
from django.utils import timezone

from .models import Campaign, CampaignStatus, Message, MessageState

INSERT_BATCH = 5000


def queue_messages(campaign: Campaign, recipients: Iterable[tuple[str, dict | None]]) -> int:
    """Add one queued message per (E.164 number, per-recipient values); returns how many."""
    now = timezone.now()
    count = 0
    batch: list[Message] = []
    for to, values in recipients:
        batch.append(
            Message(
                campaign=campaign,
                provider_id=campaign.provider_id,
                to=to,
                values=values,
                next_attempt_at=now,
            )
        )
        if len(batch) == INSERT_BATCH:
            count += _insert(batch)
            batch = []
    return count + _insert(batch)


def _insert(batch: list[Message]) -> int:
    Message.objects.bulk_create(batch, batch_size=INSERT_BATCH)
    return len(batch)


@transaction.atomic
def start(campaign: Campaign) -> None:
    """Begin sending the campaign's queued messages."""
    now = timezone.now()
    Campaign.objects.filter(pk=campaign.pk).update(
        status=CampaignStatus.SENDING, started_at=now, heartbeat_at=now, pause_reason=""
    )
    campaign.status = CampaignStatus.SENDING
    transaction.on_commit(partial(enqueue, campaign.pk))


@transaction.atomic
def pause(campaign: Campaign, reason: str) -> None:
    Campaign.objects.filter(pk=campaign.pk, status=CampaignStatus.SENDING).update(
        status=CampaignStatus.PAUSED, pause_reason=reason
    )


@transaction.atomic
def resume(campaign: Campaign) -> None:
    """Send again after a pause; the auto-pause window starts afresh."""
    now = timezone.now()
    resumed = Campaign.objects.filter(pk=campaign.pk, status=CampaignStatus.PAUSED).update(
        status=CampaignStatus.SENDING, pause_reason="", recent_outcomes="", heartbeat_at=now
    )
    if resumed:
        transaction.on_commit(partial(enqueue, campaign.pk))


@transaction.atomic
def stop(campaign: Campaign, reason: str) -> int:
    """Stop for good: messages not yet handed over become Skipped with the reason; messages
    in flight finish. Returns how many were skipped."""
    Campaign.objects.filter(
        pk=campaign.pk, status__in=[CampaignStatus.SENDING, CampaignStatus.PAUSED]
    ).update(status=CampaignStatus.STOPPED, finished_at=timezone.now(), pause_reason=reason)
    return Message.objects.filter(campaign=campaign, next_attempt_at__isnull=False).update(
        state=MessageState.SKIPPED, reason="campaign_stopped", next_attempt_at=None
    )


def enqueue(campaign_id: int) -> int:
    """Hand the campaign's pending messages to workers as id ranges; returns the task count."""
    from .tasks import send_range  # tasks import this module

    bounds = Message.objects.filter(
        campaign_id=campaign_id, next_attempt_at__isnull=False
    ).aggregate(first=Min("id"), last=Max("id"))
    if bounds["first"] is None:
        finish_if_done(campaign_id)
        return 0
    size = settings.DISPATCH_RANGE_SIZE
    starts = range(bounds["first"], bounds["last"] + 1, size)
    for first in starts:
        send_range.delay(campaign_id, first, min(first + size - 1, bounds["last"]))
    return len(starts)


def finish_if_done(campaign_id: int) -> bool:
    """A sending campaign with nothing pending and nothing in flight is Sent."""
    busy = Message.objects.filter(campaign_id=campaign_id, next_attempt_at__isnull=False).exists()
    busy = (
        busy or Message.objects.filter(campaign_id=campaign_id, state=MessageState.SENDING).exists()
    )
    if busy:
        return False
    return bool(
        Campaign.objects.filter(pk=campaign_id, status=CampaignStatus.SENDING).update(
            status=CampaignStatus.SENT, finished_at=timezone.now()
        )
    )
