"""Per-day rollups (SPEC §7): stats pages read these, never the messages, so a page costs
the same for a thousand and for ten million messages.

Days are the site's time zone. A (campaign, day) is kept in up to ROLLUP_SHARDS rows, one
picked at random by each transaction that adds to it: a single row would be locked by every
callback and every sent group of a busy campaign until its commit, serialising them all.
Readers only ever sum, so the shards are invisible to them.

Each counter's date is fixed by one column of the message or event that caused it, so
`recompute_stats` can rebuild them exactly (stats/rebuild.py):

| counter | counts | dated by |
| --- | --- | --- |
| sent | messages in state sent | sent_at |
| dispatch_errors | messages in state dispatch error, no retry pending | last_attempt_at |
| skipped | messages skipped | created_at |
| delivered | messages with a delivered event (once each) | delivered_at (first report) |
| failed | messages with a failed event (once each) | failed_at (first report) |
| clicks | click events of messages | event ts |
| unique_clicks | messages with a click (once each) | first_clicked_at |
| replies | reply events of messages | event ts |
"""

from __future__ import annotations

from django.db import models

COUNTERS = (
    "sent",
    "dispatch_errors",
    "skipped",
    "delivered",
    "failed",
    "clicks",
    "unique_clicks",
    "replies",
)


ROLLUP_SHARDS = 8


class DailyStat(models.Model):
    id = models.BigAutoField(primary_key=True)
    day = models.DateField()
    shard = models.PositiveSmallIntegerField(default=0)
    provider = models.ForeignKey(
        "providers.Provider", on_delete=models.DB_CASCADE, related_name="+"
    )
    campaign = models.ForeignKey(
        "campaigns.Campaign", on_delete=models.DB_CASCADE, related_name="+"
    )
    sent = models.BigIntegerField(default=0)
    dispatch_errors = models.BigIntegerField(default=0)
    skipped = models.BigIntegerField(default=0)
    delivered = models.BigIntegerField(default=0)
    failed = models.BigIntegerField(default=0)
    clicks = models.BigIntegerField(default=0)
    unique_clicks = models.BigIntegerField(default=0)
    replies = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "day", "shard"], name="dailystat_campaign_day_shard"
            )
        ]
        indexes = [models.Index(fields=["provider", "day"], name="dailystat_provider_day")]

    def __str__(self) -> str:
        return f"{self.day} campaign {self.campaign_id}"


class DailyError(models.Model):
    """Errors per day and code: a failed event's code (first report per message), or
    `dispatch:<reason>` for a dispatch error."""

    id = models.BigAutoField(primary_key=True)
    day = models.DateField()
    shard = models.PositiveSmallIntegerField(default=0)
    provider = models.ForeignKey(
        "providers.Provider", on_delete=models.DB_CASCADE, related_name="+"
    )
    campaign = models.ForeignKey(
        "campaigns.Campaign", on_delete=models.DB_CASCADE, related_name="+"
    )
    code = models.CharField(max_length=40)
    count = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "day", "code", "shard"],
                name="dailyerror_campaign_day_code_shard",
            )
        ]
        indexes = [models.Index(fields=["provider", "day"], name="dailyerror_provider_day")]

    def __str__(self) -> str:
        return f"{self.day} {self.code}: {self.count}"


class DailyLatency(models.Model):
    """How long messages took from sent to their first delivered report, as a histogram
    per day (of delivery) and provider: percentiles come from the buckets, in constant time."""

    id = models.BigAutoField(primary_key=True)
    day = models.DateField()
    shard = models.PositiveSmallIntegerField(default=0)
    provider = models.ForeignKey(
        "providers.Provider", on_delete=models.DB_CASCADE, related_name="+"
    )
    campaign = models.ForeignKey(
        "campaigns.Campaign", on_delete=models.DB_CASCADE, related_name="+"
    )
    bucket = models.PositiveSmallIntegerField()  # stats.rollups.LATENCY_BUCKETS index
    count = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "day", "bucket", "shard"],
                name="dailylatency_campaign_day_bucket_shard",
            )
        ]
        indexes = [models.Index(fields=["provider", "day"], name="dailylatency_provider_day")]

    def __str__(self) -> str:
        return f"{self.day} bucket {self.bucket}: {self.count}"
