"""Tracked links (SPEC §4.1): find where a code leads, and count real visits only."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from providers import message_ids

from . import links, personalize
from .models import Message

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


@dataclass(frozen=True)
class Target:
    message: Message
    index: int
    url: str


def is_prefetch(method: str, user_agent: str) -> bool:
    """HEAD requests and link-preview agents fetch a link without a person clicking it."""
    agent = user_agent.lower()
    return method == "HEAD" or any(name in agent for name in PREVIEW_AGENTS)


def resolve(code: str) -> Target | None:
    """The message and original URL behind a tracked link's code, or None. The URL is the
    code's link in the message's body as it was sent (personalised from the contact's
    attributes), so nothing per link needs storing."""
    decoded = links.decode(code)
    if decoded is None:
        return None
    message_id, index = decoded
    message = Message.objects.select_related("campaign", "provider").filter(pk=message_id).first()
    if message is None:
        return None
    body = personalize.render(message.campaign.body, message.values or {})
    url = links.original_url(body, index)
    return Target(message, index, url) if url else None


def record(target: Target, user_agent: str, short_url: str) -> None:
    """Every click is kept, as a Notification Clicked event of the message, the same as a
    provider's click callback (so stats count both the same way); unique clicks are the
    distinct messages clicked."""
    from callbacks.events import CLICKED, NormalizedEvent
    from callbacks.services import record_events

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
