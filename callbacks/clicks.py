"""Tracked-link clicks (SPEC §4.1): count real visits only, as events of their message."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from campaigns.links import Target
from providers import message_ids

from .events import CLICKED, NormalizedEvent
from .services import record_events

# Link-preview fetchers and crawlers that open links without a person clicking.
PREVIEW_AGENTS = (
    "facebookexternalhit",
    "facebot",
    "twitterbot",
    "slackbot",
    "slack-imgproxy",
    "whatsapp",
    "telegrambot",
    "discordbot",
    "linkedinbot",
    "skypeuripreview",
    "applebot",
    "googlebot",
    "bingbot",
    "pinterestbot",
    "redditbot",
    "embedly",
    "iframely",
    "vkshare",
    "bitlybot",
    "outbrain",
    "google-pagerenderer",
    "snapchat",
    "viber",
    "line/",
    "yandex",
    "duckduckbot",
    "baiduspider",
)


def is_prefetch(method: str, user_agent: str) -> bool:
    """HEAD requests and link-preview agents fetch a link without a person clicking it."""
    agent = user_agent.lower()
    return method == "HEAD" or any(name in agent for name in PREVIEW_AGENTS)


def record(target: Target, user_agent: str, short_url: str) -> None:
    """Every click is kept, as a Notification Clicked event of the message, the same as a
    provider's click callback (so stats count both the same way); unique clicks are the
    distinct messages clicked."""
    message = target.message
    event = NormalizedEvent(
        CLICKED,
        timezone.now(),
        message_ids.sign(message.pk),
        url=target.url,
        short_url=short_url,
        properties={
            "wzrk_c2a": target.url,
            "wzrk_c2a_short_url": short_url,
            "source": "tracked link",
            "user_agent": user_agent[:300],
        },
    )
    with transaction.atomic():
        record_events(message.provider, None, [event])
