"""Keeping the per-day rollups (stats/models.py) and rebuilding them.

Every change that moves a count calls `Tally.add…` and then `Tally.save()` inside the same
transaction as the change itself: one upsert per table, whatever the number of messages.
`stats.rebuild.recompute()` derives the same rows from the messages and events; tests assert
the two agree after every scenario.
"""

from __future__ import annotations

import bisect
import random
from collections import defaultdict
from datetime import date, datetime

from django.db import connection
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
