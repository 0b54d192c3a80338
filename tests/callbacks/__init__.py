"""Callback tests: shared helpers."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from campaigns.models import Campaign, Message
from tests.rollups import settle


def sent_message(provider, to: str = "+14155550001") -> Message:
    """One message of a campaign through `provider`, sent an hour ago (stats settled)."""
    campaign = Campaign.objects.create(name="Spring", provider=provider, body="Hi")
    message = Message.objects.create(
        campaign=campaign,
        provider=provider,
        to=to,
        state="sent",
        sent_at=timezone.now() - timedelta(hours=1),
    )
    settle()
    return message
