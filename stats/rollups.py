"""Keeping the per-day rollups (stats/models.py) and rebuilding them.

Every change that moves a count calls `Tally.add…` and then `Tally.save()` inside the same
transaction as the change itself: one upsert per table, whatever the number of messages.
`recompute()` derives the same rows from the messages and events; tests assert the two agree
after every scenario.
"""

from __future__ import annotations

import bisect
import random
from collections import defaultdict
from datetime import date, datetime

from django.db import connection
from django.db.models import Count, F
from django.db.models.functions import TruncDate
from django.utils import timezone

from .models import COUNTERS, ROLLUP_SHARDS, DailyError, DailyLatency, DailyStat

# Upper bounds, in seconds, of the sent-to-delivered latency buckets (the last is open).
LATENCY_BUCKETS = (1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 1800, 3600, 7200, 21600, 86400)


def local_day(moment: datetime) -> date:
    return timezone.localdate(moment)


def latency_bucket(seconds: float) -> int:
    return bisect.bisect_left(LATENCY_BUCKETS, max(seconds, 0))


class Tally:
    """Increments to the rollups, gathered while a transaction changes messages or events."""

    def __init__(self):
        self.stats: dict[tuple, dict[str, int]] = defaultdict(lambda: dict.fromkeys(COUNTERS, 0))
        self.errors: dict[tuple, int] = defaultdict(int)
        self.latency: dict[tuple, int] = defaultdict(int)

    def add(self, provider_id, campaign_id, moment: datetime, counter: str, n: int = 1) -> None:
        if n:
            self.stats[(provider_id, campaign_id, local_day(moment))][counter] += n

    def add_error(self, provider_id, campaign_id, moment: datetime, code: str, n: int = 1):
        if n:
            self.errors[(provider_id, campaign_id, local_day(moment), code)] += n

    def add_latency(self, provider_id, campaign_id, delivered: datetime, sent: datetime):
        bucket = latency_bucket((delivered - sent).total_seconds())
        self.latency[(provider_id, campaign_id, local_day(delivered), bucket)] += 1

    def save(self) -> None:
        """One upsert per rollup table into one shard picked at random (the caller's
        transaction makes it atomic). Call it last before the commit: its rows stay locked
        until then."""
        shard = random.randrange(ROLLUP_SHARDS)
        stats = [
            (*key, shard, *(values[c] for c in COUNTERS)) for key, values in self.stats.items()
        ]
        _upsert(DailyStat, ("provider_id", "campaign_id", "day", "shard", *COUNTERS), 4, stats)
        errors = [(*key, shard, n) for key, n in self.errors.items()]
        columns = ("provider_id", "campaign_id", "day", "code", "shard", "count")
        _upsert(DailyError, columns, 5, errors)
        latency = [(*key, shard, n) for key, n in self.latency.items()]
        columns = ("provider_id", "campaign_id", "day", "bucket", "shard", "count")
        _upsert(DailyLatency, columns, 5, latency)


def _upsert(model, columns: tuple[str, ...], key_size: int, rows: list[tuple]) -> None:
    """INSERT … ON CONFLICT (campaign, day[, code|bucket], shard) DO UPDATE adding the
    counts."""
    if not rows:
        return
    qn = connection.ops.quote_name
    keys = ["campaign_id", "day", *columns[3:key_size]]
    counters = columns[key_size:]
    one = "(" + ", ".join(["%s"] * len(columns)) + ")"
    table = qn(model._meta.db_table)
    updates = ", ".join(f"{qn(c)} = {table}.{qn(c)} + EXCLUDED.{qn(c)}" for c in counters)
    sql = (
        f"INSERT INTO {table} ({', '.join(qn(c) for c in columns)}) "
        f"VALUES {', '.join([one] * len(rows))} "
        f"ON CONFLICT ({', '.join(qn(k) for k in keys)}) DO UPDATE SET {updates}"
    )
    params = [
        connection.ops.adapt_datefield_value(value) if isinstance(value, date) else value
        for row in rows
        for value in row
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


# --- rebuilding ---------------------------------------------------------------------------------
def recompute() -> tuple[dict, dict, dict]:
    """The rollups as the messages and events say they should be: (stats, errors, latency),
    each a dict keyed like the tables, zero rows left out."""
    from callbacks.events import CLICKED, REPLIED
    from callbacks.models import Event
    from campaigns.models import Message, MessageState

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
