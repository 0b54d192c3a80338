"""Rebuilding the per-day rollups (stats/models.py) from the messages and events they count.

`recompute()` derives the rows the increments (stats/rollups.py) should have written;
`snapshot()` reads the stored ones in the same shape, so tests and `recompute_stats --check`
compare the two, and `rebuild()` replaces the stored rows with the derived ones.
"""

from __future__ import annotations

from collections import defaultdict

from django.db.models import Count, F
from django.db.models.functions import TruncDate
from django.utils import timezone

from callbacks.events import CLICKED, REPLIED
from callbacks.models import Event
from campaigns.models import Message, MessageState

from .models import COUNTERS, DailyError, DailyLatency, DailyStat
from .rollups import latency_bucket, local_day


def recompute() -> tuple[dict, dict, dict]:
    """The rollups as the messages and events say they should be: (stats, errors, latency),
    each a dict keyed like the tables, zero rows left out."""
    tz = timezone.get_current_timezone()
    stats: dict[tuple, dict[str, int]] = defaultdict(lambda: dict.fromkeys(COUNTERS, 0))

    def count(queryset, column: str, counter: str) -> None:
        rows = (
            queryset.annotate(d=TruncDate(column, tzinfo=tz))
            .values("provider_id", "campaign_id", "d")
            .annotate(n=Count("id"))
        )
        for row in rows:
            stats[(row["provider_id"], row["campaign_id"], row["d"])][counter] += row["n"]

    messages = Message.objects.order_by()
    count(messages.filter(state=MessageState.SENT), "sent_at", "sent")
    count(
        messages.filter(state=MessageState.DISPATCH_ERROR, next_attempt_at__isnull=True),
        "last_attempt_at",
        "dispatch_errors",
    )
    count(messages.filter(state=MessageState.SKIPPED), "created_at", "skipped")
    count(messages.filter(delivered_at__isnull=False), "delivered_at", "delivered")
    count(messages.filter(failed_at__isnull=False), "failed_at", "failed")
    count(messages.filter(first_clicked_at__isnull=False), "first_clicked_at", "unique_clicks")
    events = Event.objects.order_by().filter(message__isnull=False)
    count(events.filter(type=CLICKED), "ts", "clicks")
    count(events.filter(type=REPLIED), "ts", "replies")

    errors: dict[tuple, int] = defaultdict(int)
    failed = (
        messages.filter(failed_at__isnull=False)
        .annotate(d=TruncDate("failed_at", tzinfo=tz))
        .values("provider_id", "campaign_id", "d", "failure_code")
        .annotate(n=Count("id"))
    )
    for row in failed:
        errors[(row["provider_id"], row["campaign_id"], row["d"], row["failure_code"])] += row["n"]
    dispatch = (
        messages.filter(state=MessageState.DISPATCH_ERROR, next_attempt_at__isnull=True)
        .annotate(d=TruncDate("last_attempt_at", tzinfo=tz))
        .values("provider_id", "campaign_id", "d", "reason")
        .annotate(n=Count("id"))
    )
    for row in dispatch:
        key = (row["provider_id"], row["campaign_id"], row["d"], f"dispatch:{row['reason']}")
        errors[key] += row["n"]

    latency: dict[tuple, int] = defaultdict(int)
    delivered = messages.filter(delivered_at__isnull=False, sent_at__isnull=False).values_list(
        "provider_id", "campaign_id", "delivered_at", F("delivered_at") - F("sent_at")
    )
    for provider_id, campaign_id, delivered_at, took in delivered.iterator():
        bucket = latency_bucket(took.total_seconds())
        latency[(provider_id, campaign_id, local_day(delivered_at), bucket)] += 1
    return _nonzero(stats), _nonzero(errors), _nonzero(latency)


def snapshot() -> tuple[dict, dict, dict]:
    """The rollups as stored (their shards added up), shaped like `recompute()`."""
    stats: dict[tuple, dict[str, int]] = defaultdict(lambda: dict.fromkeys(COUNTERS, 0))
    for row in DailyStat.objects.values("provider_id", "campaign_id", "day", *COUNTERS):
        counts = stats[(row["provider_id"], row["campaign_id"], row["day"])]
        for counter in COUNTERS:
            counts[counter] += row[counter]
    errors: dict[tuple, int] = defaultdict(int)
    for r in DailyError.objects.all():
        errors[(r.provider_id, r.campaign_id, r.day, r.code)] += r.count
    latency: dict[tuple, int] = defaultdict(int)
    for r in DailyLatency.objects.all():
        latency[(r.provider_id, r.campaign_id, r.day, r.bucket)] += r.count
    return _nonzero(stats), _nonzero(errors), _nonzero(latency)


def rebuild() -> None:
    """Replace the rollups with `recompute()` (run in one transaction by the command)."""
    stats, errors, latency = recompute()
    DailyStat.objects.all().delete()
    DailyError.objects.all().delete()
    DailyLatency.objects.all().delete()
    DailyStat.objects.bulk_create(
        DailyStat(provider_id=p, campaign_id=c, day=d, **values)
        for (p, c, d), values in stats.items()
    )
    DailyError.objects.bulk_create(
        DailyError(provider_id=p, campaign_id=c, day=d, code=code, count=n)
        for (p, c, d, code), n in errors.items()
    )
    DailyLatency.objects.bulk_create(
        DailyLatency(provider_id=p, campaign_id=c, day=d, bucket=b, count=n)
        for (p, c, d, b), n in latency.items()
    )


def _nonzero(table: dict) -> dict:
    result = {}
    for key, value in table.items():
        if isinstance(value, dict):
            if any(value.values()):
                result[key] = dict(value)
        elif value:
            result[key] = value
    return result
