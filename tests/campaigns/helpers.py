"""Campaigns ready to send, and running their dispatch in this process."""

from __future__ import annotations

from django.utils import timezone

from campaigns import dispatch, services
from campaigns.models import Campaign, CampaignStatus, Message

BATCH_JSON = '{"hid": "$$hid", "msgs": [{"to": "$$To", "mid": "$$MessageID", "text": "$$Body"}]}'


def numbers(count: int, start: int = 1) -> list[str]:
    return [f"+1415555{i:04d}" for i in range(start, start + count)]


def sending_campaign(provider, count=1, *, body="Hello", values=None, **fields) -> Campaign:
    """A campaign in state Sending with `count` queued messages (values per recipient from
    the `values(i)` callable, if given). Nothing is enqueued: tests drive dispatch."""
    campaign = Campaign.objects.create(
        name="Spring sale", provider=provider, body=body, status=CampaignStatus.SENDING, **fields
    )
    recipients = [(to, values(i) if values else None) for i, to in enumerate(numbers(count))]
    services.queue_messages(campaign, recipients)
    return campaign


def run(campaign) -> None:
    """Send everything due now, as one worker would."""
    first, last = 0, 2**62
    dispatch.send_range(campaign.pk, first, last)


def make_due(campaign) -> None:
    """Jump to the time the campaign's pending messages fall due."""
    Message.objects.filter(campaign=campaign, next_attempt_at__isnull=False).update(
        next_attempt_at=timezone.now()
    )


def states(campaign) -> dict[str, int]:
    counts: dict[str, int] = {}
    for state in Message.objects.filter(campaign=campaign).values_list("state", flat=True):
        counts[state] = counts.get(state, 0) + 1
    return counts
