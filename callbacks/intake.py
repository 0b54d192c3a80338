"""Turning a stored callback request into events (SPEC §6.2, §6.5, §6.6).

Used by the endpoint (in the transaction that stores the request), by the periodic retry of
requests whose processing failed, and by an admin's "Reprocess".
"""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from providers import registry
from providers.models import Provider
from smshub import db

from . import services
from .models import CallbackRequest, RequestStatus
from .receivers.base import Outcome, Rejected


def process(row: CallbackRequest, provider: Provider) -> Outcome:
    """Read the request and record its events; updates `row`. Raises on our own failures
    (the caller's transaction then stores nothing but the raw request)."""
    receiver = registry.kind_of(provider).receiver
    try:
        if receiver is None:
            raise Rejected(404, "Not Found")
        parsed = receiver.parse(row, provider)
    except Rejected as rejected:
        outcome = Outcome.refused(rejected)
    else:
        if row.pk is None:
            _reserve_id(row)
        counts = services.record_events(provider, row, parsed.everything)
        outcome = Outcome(200, counts, parsed)
    _finish(row, outcome)
    return outcome


FINISH_FIELDS = [
    "status",
    "response_status",
    "processed_events",
    "duplicate_events",
    "unmatched_events",
    "error",
    "attempts",
    "processed_at",
]


def _finish(row: CallbackRequest, outcome: Outcome) -> None:
    counts = outcome.counts
    row.status = RequestStatus.PROCESSED if outcome.status < 300 else RequestStatus.REJECTED
    row.response_status = outcome.status
    row.processed_events = counts.processed if counts else 0
    row.duplicate_events = counts.duplicates if counts else 0
    row.unmatched_events = counts.unmatched if counts else 0
    row.error = outcome.message
    row.attempts += 1
    row.processed_at = timezone.now()
    if row._state.adding:  # new: written once, with its outcome
        row.save(force_insert=True)
    else:  # never send the stored body back to the database
        row.save(update_fields=FINISH_FIELDS)


def _reserve_id(row: CallbackRequest) -> None:
    """A new request's id, for its events to refer to before the row itself is written, once,
    with its outcome (their foreign key is checked at commit). Without sequences (SQLite)
    the row is written now and updated at the end."""
    if not db.is_postgresql():
        row.save()
        return
    row.pk = db.reserve_next_id(CallbackRequest._meta.db_table)


def reprocess(row_id: int) -> Outcome | None:
    """Process a stored request again (events already recorded count as duplicates)."""
    with transaction.atomic():
        row = (
            CallbackRequest.objects.select_for_update()
            .select_related("provider")
            .filter(pk=row_id)
            .first()
        )
        if row is None:
            return None
        return process(row, row.provider)


def retry_failed() -> int:
    """Reprocess the requests whose processing failed on our side (run by Celery beat)."""
    retried = 0
    failed = CallbackRequest.objects.filter(
        status=RequestStatus.FAILED, attempts__lt=settings.CALLBACK_MAX_ATTEMPTS
    ).values_list("pk", flat=True)[:100]
    for row_id in failed:
        try:
            reprocess(row_id)
        except Exception as exc:  # our bug or outage: keep it for the next run, with the reason
            CallbackRequest.objects.filter(pk=row_id).update(
                attempts=F("attempts") + 1, error=f"{type(exc).__name__}: {exc}"[:2000]
            )
        retried += 1
    return retried
