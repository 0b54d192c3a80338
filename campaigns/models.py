"""Campaigns and their messages.

A campaign is one send: a provider, a body, the replacement values shared by every message
(SPEC §3.1) and one Message row per recipient. The message rows are the truth about what was
sent (SPEC §3.4); Celery only carries id ranges to work on.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.urls import reverse

from audiences.models import Audience
from providers.models import Provider


class CampaignStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    SCHEDULED = "scheduled", "Scheduled"
    SENDING = "sending", "Sending"
    PAUSED = "paused", "Paused"
    SENT = "sent", "Sent"
    STOPPED = "stopped", "Stopped"


class Campaign(models.Model):
    name = models.CharField(max_length=200)
    # A deleted provider takes its messages with it (SPEC §2.3); the stopped campaign stays.
    provider = models.ForeignKey(
        Provider, null=True, blank=True, on_delete=models.DB_SET_NULL, related_name="campaigns"
    )
    audience = models.ForeignKey(
        Audience, null=True, blank=True, on_delete=models.DB_SET_NULL, related_name="campaigns"
    )
    body = models.TextField()
    click_tracking = models.BooleanField(default=False)
    scheduled_at = models.DateTimeField(null=True, blank=True)
    template_id = models.CharField(max_length=200, blank=True, default="")
    template_variables = models.TextField(blank=True, default="")
    # Campaign-wide values of the provider's custom replacements ({"hid": "H-1"}).
    custom_values = models.JSONField(default=dict, blank=True)
    status = models.CharField(
        max_length=20, choices=CampaignStatus.choices, default=CampaignStatus.DRAFT
    )
    pause_reason = models.TextField(blank=True, default="")
    # "1" (sent) / "0" (failed) for the latest attempts, newest last: the auto-pause window.
    recent_outcomes = models.TextField(blank=True, default="")
    # Last time a worker recorded progress; the sweeper re-enqueues a campaign that went quiet.
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    # Set in the transaction that created the messages, so they are created exactly once.
    prepared_at = models.DateTimeField(null=True, blank=True)
    recipients = models.PositiveIntegerField(default=0)  # messages created, skipped included
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.DB_SET_NULL
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status"], name="campaign_status")]
        permissions = [("manage_campaigns", "Can create, send and stop campaigns")]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("campaigns:detail", args=[self.pk])


class MessageState(models.TextChoices):
    QUEUED = "queued", "Queued"
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"
    DISPATCH_ERROR = "dispatch_error", "Dispatch Error"
    SKIPPED = "skipped", "Skipped"


class DispatchReason(models.TextChoices):
    """Why a message is a Dispatch Error (SPEC §3.4); stats group dispatch errors by it."""

    REJECTED = "rejected", "Rejected by the provider"
    RETRIES_EXHAUSTED = "retries_exhausted", "Retries exhausted"
    AUTHENTICATION = "authentication", "Authentication"
    OUTCOME_UNKNOWN = "outcome_unknown", "Outcome unknown"
    NOT_RENDERED = "not_rendered", "Could not be rendered"
    BLOCKED = "blocked", "Address not allowed"


class SkipReason(models.TextChoices):
    """Why a message was never handed to the provider."""

    OPTED_OUT = "opted_out", "Opted out"
    CAMPAIGN_STOPPED = "campaign_stopped", "Campaign stopped"


class Message(models.Model):
    """One recipient of one campaign.

    `next_attempt_at` is set exactly when the message has work pending: queued messages, and
    Dispatch Errors (authentication) still inside their retry window. Workers claim due
    messages by it; every other state leaves it empty.
    """

    id = models.BigAutoField(primary_key=True)
    # Deleted by the database with their campaign or provider: millions of rows must not go
    # through Django's delete collector.
    # (campaign, state) below serves every lookup by campaign: no separate index to feed.
    campaign = models.ForeignKey(
        Campaign, on_delete=models.DB_CASCADE, related_name="messages", db_index=False
    )
    provider = models.ForeignKey(Provider, on_delete=models.DB_CASCADE, related_name="messages")
    to = models.CharField(max_length=20)  # E.164
    # The recipient's contact attributes when the campaign started (personalisation).
    values = models.JSONField(null=True, blank=True)
    state = models.CharField(
        max_length=20, choices=MessageState.choices, default=MessageState.QUEUED
    )
    reason = models.CharField(max_length=30, blank=True, default="")
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    first_attempt_at = models.DateTimeField(null=True, blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    last_status = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True, default="")
    provider_message_id = models.CharField(max_length=200, blank=True, default="")
    sent_at = models.DateTimeField(null=True, blank=True)
    # What the provider's callbacks said last (callbacks/services.py): delivered or failed,
    # at the time of the later of the two events.
    outcome = models.CharField(max_length=20, blank=True, default="")
    outcome_at = models.DateTimeField(null=True, blank=True)
    # The first report of each kind, set once (stats count each message once, SPEC §7).
    delivered_at = models.DateTimeField(null=True, blank=True)
    failed_at = models.DateTimeField(null=True, blank=True)
    failure_code = models.CharField(max_length=20, blank=True, default="")
    first_clicked_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [
            models.Index(
                fields=["campaign", "next_attempt_at"],
                condition=models.Q(next_attempt_at__isnull=False),
                name="message_pending",
            ),
            models.Index(
                fields=["last_attempt_at"],
                condition=models.Q(state="sending"),
                name="message_in_flight",
            ),
            models.Index(fields=["campaign", "state"], name="message_campaign_state"),
            # Reports that name the provider's id of a message, not ours (SPEC §5.3).
            models.Index(
                fields=["provider", "provider_message_id"],
                condition=~models.Q(provider_message_id=""),
                name="message_provider_message_id",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.to} ({self.state})"
