"""The periodic safety net of dispatch (SPEC §3.4, §9), run by Celery beat.

1. Messages left in *sending* past DISPATCH_SENDING_TIMEOUT (their worker died mid-request)
   become Dispatch Error (outcome unknown). They are never re-sent: the provider may have
   taken them, and a duplicate SMS is worse than a visible unknown.
2. A sending campaign with due messages (or no messages yet) and no progress for
   DISPATCH_STALL_AFTER seconds lost its task (a killed worker, a broker that dropped it):
   its ranges (or its preparation) are enqueued again.
   A duplicate task is harmless, since claims never overlap.
3. A sending campaign with nothing left is marked Sent.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from smshub import db
from stats.rollups import Tally

from . import services
from .models import Campaign, CampaignStatus, DispatchReason, Message, MessageState

OUTCOME_UNKNOWN_ERROR = (
    "No outcome was recorded within {seconds:.0f} s (the worker stopped mid-request). "
    "Not sent again, to avoid a duplicate: the provider may have taken it."
)


@dataclass(frozen=True)
class SweepReport:
    reconciled: int
    revived: int
    finished: int


def reconcile_in_flight(now) -> int:
    """Messages in flight past the timeout become Dispatch Error (outcome unknown); one
    UPDATE … RETURNING tells the rollups which campaigns and days they belong to."""
    timeout = settings.DISPATCH_SENDING_TIMEOUT
    table = connection.ops.quote_name(Message._meta.db_table)
    ops = connection.ops
    tally = Tally()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET state = %s, reason = %s, last_error = %s "
            "WHERE state = %s AND last_attempt_at < %s "
            "RETURNING provider_id, campaign_id, last_attempt_at",
            [
                MessageState.DISPATCH_ERROR,
                DispatchReason.OUTCOME_UNKNOWN,
                OUTCOME_UNKNOWN_ERROR.format(seconds=timeout),
                MessageState.SENDING,
                ops.adapt_datetimefield_value(now - timedelta(seconds=timeout)),
            ],
        )
        rows = cursor.fetchall()
        code = f"dispatch:{DispatchReason.OUTCOME_UNKNOWN}"
        for provider_id, campaign_id, attempt_at in rows:
            attempt_at = db.as_aware(attempt_at)
            tally.add(provider_id, campaign_id, attempt_at, "dispatch_errors")
            tally.add_error(provider_id, campaign_id, attempt_at, code)
        tally.save()
    return len(rows)


def sweep() -> SweepReport:
    now = timezone.now()
    reconciled = reconcile_in_flight(now)

    sending = Campaign.objects.filter(status=CampaignStatus.SENDING)
    due = Message.objects.filter(campaign=OuterRef("pk"), next_attempt_at__lte=now)
    quiet_since = now - timedelta(seconds=settings.DISPATCH_STALL_AFTER)
    stalled = list(
        sending.filter(Q(heartbeat_at__isnull=True) | Q(heartbeat_at__lt=quiet_since))
        .filter(Q(prepared_at__isnull=True) | Exists(due))
        .values_list("pk", "prepared_at")
    )
    for campaign_id, prepared_at in stalled:
        Campaign.objects.filter(pk=campaign_id).update(heartbeat_at=now)
        if prepared_at is None:  # its messages were never created: the prepare task was lost
            services.prepare_later(campaign_id)
        else:
            services.enqueue(campaign_id)
    stalled_ids = [campaign_id for campaign_id, _ in stalled]

    finished = sum(
        services.finish_if_done(campaign_id)
        for campaign_id in sending.exclude(pk__in=stalled_ids).values_list("pk", flat=True)
    )
    return SweepReport(reconciled, len(stalled), finished)
