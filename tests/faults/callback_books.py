"""Shared by the callback fault tests: messages already sent, the same request posted from
several threads at once over real HTTP, and the counts a callback may or may not change."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
import requests
from django.conf import settings
from django.db.models import Sum

from audiences.models import OptOut
from callbacks.models import Event
from campaigns.models import Campaign, Message, MessageState
from stats import rebuild
from stats.models import COUNTERS, DailyStat
from tests.campaigns.helpers import numbers
from tests.rollups import settle

# A day ago, at a whole hour: replies match messages sent in the last week
# (callbacks.services.REPLY_MATCH_WINDOW), so a fixed date stops matching a week later.
SENT_AT = (datetime.now(UTC) - timedelta(days=1)).replace(minute=0, second=0, microsecond=0)
TS = int(SENT_AT.timestamp()) + 60  # reports come a minute after the send

needs_postgres = pytest.mark.skipif(
    not settings.DATABASES["default"]["ENGINE"].endswith("postgresql"),
    reason="concurrent requests need a database that serves several connections: SQLite's "
    "in-memory test database is one connection, shared by the live server's threads",
)
# The session's live server starts before the suite's settings point STATIC_ROOT away from
# var/staticfiles/, so WhiteNoise warns once (as in tests/sandbox).
quiet_live_server = pytest.mark.filterwarnings("ignore:No directory at:UserWarning")


def sent_messages(provider, count: int) -> list[Message]:
    """`count` messages of one campaign of `provider`, sent at SENT_AT, rollups settled."""
    campaign = Campaign.objects.create(name="Spring", provider=provider, body="Hi")
    Message.objects.bulk_create(
        Message(
            campaign=campaign,
            provider=provider,
            to=to,
            state=MessageState.SENT,
            sent_at=SENT_AT,
        )
        for to in numbers(count)
    )
    settle()
    return list(Message.objects.filter(campaign=campaign).order_by("id"))


def post_at_once(times: int, url: str, data, headers: dict) -> list[requests.Response]:
    """POST the same request `times` times from as many threads, released together. Each
    connection closes after its answer, and with it the server thread's database connection
    (one left open would outlive the test database)."""
    start = threading.Barrier(times)
    answers: list[requests.Response] = []

    def post() -> None:
        start.wait()
        answers.append(
            requests.post(url, data=data, headers={**headers, "Connection": "close"}, timeout=120)
        )

    threads = [threading.Thread(target=post) for _ in range(times)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(answers) == times
    return answers


def totals() -> dict[str, int]:
    """Each rollup counter summed over every provider, campaign and day."""
    sums = DailyStat.objects.aggregate(**{name: Sum(name) for name in COUNTERS})
    return {name: value or 0 for name, value in sums.items()}


def books() -> dict:
    """Everything a callback may count: attributed events, every message's state and
    reports, opt-outs and the rollups (unmatched events are looked at separately)."""
    return {
        "events": list(
            Event.objects.filter(message__isnull=False)
            .order_by("id")
            .values_list("id", "type", "message_id")
        ),
        "messages": list(
            Message.objects.order_by("id").values_list(
                "id",
                "state",
                "outcome",
                "outcome_at",
                "delivered_at",
                "failed_at",
                "first_clicked_at",
                "sent_at",
            )
        ),
        "opt_outs": OptOut.objects.count(),
        "rollups": rebuild.snapshot(),
    }
