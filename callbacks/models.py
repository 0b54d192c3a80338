"""What providers post to us: every request, raw, and the events read from it (SPEC §6)."""

from __future__ import annotations

from django.db import models

from campaigns.models import Campaign, Message
from providers.models import Provider

from .events import EVENT_TYPES, SYSTEM_EVENTS


class RequestStatus(models.TextChoices):
    RECEIVED = "received", "Received"
    PROCESSED = "processed", "Processed"
    REJECTED = "rejected", "Rejected"  # a 4xx answer: nothing from it counts
    FAILED = "failed", "Failed"  # stored, but reading it failed on our side: retried


class CallbackRequest(models.Model):
    """One request from a provider, kept as received. A 2xx is only answered once this row
    is committed, so a provider's callback is never lost after it got its 2xx."""

    id = models.BigAutoField(primary_key=True)
    provider = models.ForeignKey(
        Provider, on_delete=models.DB_CASCADE, related_name="callback_requests"
    )
    received_at = models.DateTimeField()
    content_type = models.CharField(max_length=200, blank=True, default="")
    query = models.TextField(blank=True, default="")
    body = models.BinaryField()
    # The header its kind's receiver authenticates it by (signature_header: X-Twilio-Signature…)
    signature = models.CharField(max_length=200, blank=True, default="")
    url = models.TextField(blank=True, default="")  # as the provider addressed it
    status = models.CharField(max_length=20, choices=RequestStatus.choices)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    processed_events = models.PositiveIntegerField(default=0)
    duplicate_events = models.PositiveIntegerField(default=0)
    unmatched_events = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True, default="")
    attempts = models.PositiveSmallIntegerField(default=0)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        indexes = [
            models.Index(fields=["provider", "received_at"], name="callback_provider_time"),
            models.Index(
                fields=["received_at"],
                condition=models.Q(status="failed"),
                name="callback_failed",
            ),
        ]

    def __str__(self) -> str:
        return f"callback {self.pk} ({self.status})"

    @property
    def body_text(self) -> str:
        return bytes(self.body).decode("utf-8", errors="replace")


class Event(models.Model):
    """One delivered/failed/clicked/replied (or intermediate status) event. `dedup_key`
    makes the same event received twice count once (SPEC §6.5)."""

    id = models.BigAutoField(primary_key=True)
    # No single-column indexes on these keys: the composite ones below lead with them, and
    # every index costs each of the tens of thousands of inserts a second callbacks make.
    provider = models.ForeignKey(
        Provider, on_delete=models.DB_CASCADE, related_name="events", db_index=False
    )
    message = models.ForeignKey(
        Message,
        null=True,
        blank=True,
        on_delete=models.DB_CASCADE,
        related_name="events",
        db_index=False,
    )
    campaign = models.ForeignKey(
        Campaign,
        null=True,
        blank=True,
        on_delete=models.DB_CASCADE,
        related_name="events",
        db_index=False,
    )
    request = models.ForeignKey(
        CallbackRequest, null=True, blank=True, on_delete=models.DB_SET_NULL, related_name="events"
    )
    type = models.CharField(max_length=20, choices=[(t, SYSTEM_EVENTS[t]) for t in EVENT_TYPES])
    ts = models.DateTimeField()
    received_at = models.DateTimeField()
    meta = models.CharField(max_length=200, blank=True, default="")
    code = models.CharField(max_length=20, blank=True, default="")
    description = models.TextField(blank=True, default="")
    url = models.TextField(blank=True, default="")
    short_url = models.TextField(blank=True, default="")
    text = models.TextField(blank=True, default="")
    phone = models.CharField(max_length=32, blank=True, default="")
    properties = models.JSONField(default=dict, blank=True)
    dedup_key = models.CharField(max_length=64)

    class Meta:
        ordering = ["-ts", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["provider", "dedup_key"], name="event_dedup")
        ]
        indexes = [
            models.Index(fields=["campaign", "type", "ts"], name="event_campaign_type_ts"),
            models.Index(fields=["provider", "type", "ts"], name="event_provider_type_ts"),
            models.Index(fields=["message"], name="event_message"),
        ]

    def __str__(self) -> str:
        return f"{self.type} at {self.ts}"

    @property
    def system_event(self) -> str:
        return SYSTEM_EVENTS[self.type]

    @property
    def matched(self) -> bool:
        return self.message_id is not None
