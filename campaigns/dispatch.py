"""Sending a campaign's messages (SPEC §3.4): claim, render, send, record, all set-based.

The database is the truth. A worker claims due messages (queued → sending) in one short
transaction that commits *before* any request leaves, sends them, then writes every outcome
in one transaction. A worker that dies in between leaves its messages in *sending*; the
sweeper later marks them Dispatch Error (outcome unknown) and never sends them again, so a
message reaches the provider at most once unless the provider itself never answers us.
"""

from __future__ import annotations

import logging
import random
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import partial

import phonenumbers
from django.conf import settings
from django.db import InterfaceError, OperationalError, connection, transaction
from django.db.models import F, Min, Value
from django.db.models.functions import Coalesce, Concat, Right
from django.utils import timezone
from django.views.decorators.debug import sensitive_variables

from providers import pacing, registry
from providers.base import ERROR_KEPT, OutgoingMessage, SendResult, not_rendered
from providers.models import Provider
from providers.templating import MissingReplacement
from stats.rollups import Tally

from . import message_writes
from .compose import Composer
from .models import (
    Campaign,
    CampaignStatus,
    DispatchReason,
    Message,
    MessageState,
    SkipReason,
)
from .retry import Decision, decide

logger = logging.getLogger(__name__)
CREDENTIALS_LOST = (
    "The provider's saved credentials cannot be decrypted with the current ENCRYPTION_KEYS; "
    "an admin must type them again."
)


@dataclass(frozen=True)
class Claimed:
    """A message this worker now owns (state sending); `attempts` counts this attempt."""

    id: int
    to: str
    values: dict | None
    attempts: int
    first_attempt_at: datetime
    attempt_at: datetime  # this attempt's start (the message's last_attempt_at)


@dataclass(frozen=True)
class Attempt:
    """One request's messages and its result; `rendered` is false when no request could be
    built for them."""

    message_ids: tuple[int, ...]
    result: SendResult
    rendered: bool = True


class Dispatch:
    """What a worker needs to send one campaign: loaded once per task."""

    @sensitive_variables("secrets")
    def __init__(self, campaign: Campaign):
        self.campaign = campaign
        self.provider: Provider = campaign.provider
        secrets = self.provider.readable_secrets()
        self.credentials_lost = secrets is None
        config = self.provider.config
        self.composer = Composer(campaign)
        kind = registry.kind_of(self.provider)
        self.sender = kind.sender(
            config,
            secrets or {},
            callback_url=self.provider.callback_url,
            campaign_values=self.composer.shared_values,
            session_key=f"provider-{self.provider.pk}",
        )
        self.group_size = kind.claim_size(config)
        self.rate_limit = config.get("rate_limit") or None

    @classmethod
    def load(cls, campaign_id: int) -> Dispatch | None:
        campaign = (
            Campaign.objects.select_related("provider")
            .filter(pk=campaign_id, status=CampaignStatus.SENDING)
            .first()
        )
        if campaign is None:
            return None
        if campaign.provider is None or campaign.provider.is_archived:
            _stop_without_provider(campaign)
            return None
        return cls(campaign)


def _stop_without_provider(campaign: Campaign) -> None:
    """An archived or deleted provider sends nothing, whatever path asks (SPEC §8).
    Archiving stops the provider's campaigns; one that got past it (launched at that very
    moment, a retry falling due later) is stopped here, its pending messages skipped."""
    with transaction.atomic():
        stopped = Campaign.objects.filter(pk=campaign.pk, status=CampaignStatus.SENDING).update(
            status=CampaignStatus.STOPPED,
            finished_at=timezone.now(),
            pause_reason="Stopped: the campaign's provider was archived or deleted.",
        )
        if stopped:
            message_writes.skip_pending(campaign, SkipReason.CAMPAIGN_STOPPED)


# --- the loop -------------------------------------------------------------------------------
def send_range(campaign_id: int, first_id: int, last_id: int) -> datetime | None:
    """Send every due message of the campaign with an id in [first_id, last_id].

    Returns when the next message of the range falls due (a retry), or None when the range
    has no work left. Other workers may work on the same range at the same time: claims
    never overlap.
    """
    dispatch = Dispatch.load(campaign_id)
    if dispatch is None:
        return None
    while claimed := claim(campaign_id, first_id, last_id, dispatch.group_size):
        in_flight = InFlight(claimed)
        attempts = send_claimed(dispatch, claimed, in_flight)
        _when_reachable(partial(record, dispatch, claimed, attempts, attempt_at=in_flight.since))
    return next_due(campaign_id, first_id, last_id)


RECORD_RETRY_FOR = 60.0  # seconds: a database restart or failover takes a few


def _when_reachable(write) -> None:
    """Run a write the database could not take because it was unreachable (restarted, failed
    over), again on a new connection until it can: the outcomes of a group already sent
    exist only in this worker's memory. A write that failed left nothing (one transaction);
    one that committed before its answer was lost changes nothing the second time (only
    messages still *sending* are written)."""
    deadline = time.monotonic() + RECORD_RETRY_FOR
    wait = 0.5
    while True:
        try:
            return write()
        except (OperationalError, InterfaceError):
            if time.monotonic() + wait > deadline:
                raise
            logger.warning("database unreachable while recording a group; retrying")
            connection.close()  # the next query opens a new connection
            time.sleep(wait)
            wait = min(wait * 2, 8.0)


class InFlight:
    """A claimed group while its requests go out. The sweeper takes a message still
    *sending* DISPATCH_SENDING_TIMEOUT after its `last_attempt_at` for one whose worker
    died; a group that takes long (many slow requests, a tight rate limit) keeps that time
    fresh, one UPDATE for the whole group at most every quarter of the timeout."""

    def __init__(self, claimed: Sequence[Claimed]):
        self.ids = [c.id for c in claimed]
        self.since = claimed[0].attempt_at
        self.refreshed = time.monotonic()

    def keep_alive(self) -> None:
        if time.monotonic() - self.refreshed < settings.DISPATCH_SENDING_TIMEOUT / 4:
            return
        since = timezone.now()
        self.refreshed = time.monotonic()
        try:
            Message.objects.filter(id__in=self.ids, state=MessageState.SENDING).update(
                last_attempt_at=since
            )
        except (OperationalError, InterfaceError):
            # The database is away for now: keep sending, the next refresh or the record
            # (which waits for the database) will do; the sweeper waits four times longer.
            logger.warning("database unreachable while keeping a group in flight")
            connection.close()
        else:
            self.since = since


def claim(campaign_id: int, first_id: int, last_id: int, limit: int) -> list[Claimed]:
    """Take up to `limit` due messages of a sending campaign: queued → sending, committed
    before anything is sent. SKIP LOCKED lets workers claim side by side on PostgreSQL;
    SQLite serialises the transaction instead (IMMEDIATE mode, see settings)."""
    now = timezone.now()
    with transaction.atomic():
        due = Message.objects.filter(
            campaign_id=campaign_id,
            id__gte=first_id,
            id__lte=last_id,
            next_attempt_at__lte=now,
            campaign__status=CampaignStatus.SENDING,
        ).order_by("id")
        if connection.features.has_select_for_update_skip_locked:
            due = due.select_for_update(skip_locked=True, of=("self",))
        rows = list(due.values_list("id", "to", "values", "attempts", "first_attempt_at")[:limit])
        if not rows:
            return []
        Message.objects.filter(id__in=[row[0] for row in rows]).update(
            state=MessageState.SENDING,
            reason="",
            next_attempt_at=None,
            attempts=F("attempts") + 1,
            first_attempt_at=Coalesce(F("first_attempt_at"), Value(now)),
            last_attempt_at=now,
        )
    return [
        Claimed(id, to, values, attempts + 1, first or now, now)
        for id, to, values, attempts, first in rows
    ]


def send_claimed(
    dispatch: Dispatch, claimed: Sequence[Claimed], in_flight: InFlight | None = None
) -> list[Attempt]:
    """Render the claimed messages into requests and send them, pacing each request."""
    all_ids = tuple(c.id for c in claimed)
    if dispatch.credentials_lost:
        return [Attempt(all_ids, SendResult(ok=False, error=CREDENTIALS_LOST, auth_failed=True))]
    requests, attempts = render(dispatch, claimed)
    for request in requests:
        if attempts and attempts[-1].result.auth_failed:
            # The token endpoint just failed: hold the rest of the group without asking again.
            attempts.append(Attempt(request.message_ids, attempts[-1].result))
            continue
        pacing.wait_for_slot(dispatch.provider.pk, dispatch.rate_limit)
        if in_flight is not None:
            in_flight.keep_alive()
        attempts.extend(_per_message(request.message_ids, dispatch.sender.send(request)))
    return attempts


def _per_message(ids: tuple[int, ...], result: SendResult) -> list[Attempt]:
    """A batch answer that says how each message fared (one failed item of three, SPEC §5.2)
    is one attempt per message: each is recorded, retried and counted on its own."""
    if not result.per_message:
        return [Attempt(ids, result)]
    return [Attempt((i,), part) for i, part in zip(ids, result.per_message, strict=True)]


# personalize.TemplateError and UnsafeHeader are ValueErrors too.
RENDER_ERRORS = (MissingReplacement, ValueError, phonenumbers.NumberParseException)


def render(dispatch: Dispatch, claimed: Sequence[Claimed]) -> tuple[list, list[Attempt]]:
    """The group's requests, and an Attempt for each message no request could be built for.

    One contact's value that cannot be sent (a line break or an emoji bound for a header, a
    broken number) fails that message only: the group is rendered again without it, so the
    others still go out, in batches as usual."""
    outgoing, failed = [], []
    for c in claimed:
        try:
            values = dispatch.composer.message_values(c.id, c.values)
        except RENDER_ERRORS as exc:
            failed.append(Attempt((c.id,), not_rendered(exc), rendered=False))
            continue
        outgoing.append(OutgoingMessage(c.id, c.to, values))
    try:
        return list(dispatch.sender.requests(outgoing)), failed
    except RENDER_ERRORS:
        pass
    renderable = []
    for message in outgoing:
        try:
            list(dispatch.sender.requests([message]))
        except RENDER_ERRORS as exc:
            failed.append(Attempt((message.id,), not_rendered(exc), rendered=False))
        else:
            renderable.append(message)
    try:
        return list(dispatch.sender.requests(renderable)), failed
    except RENDER_ERRORS as exc:  # what the messages share cannot be built (batch headers)
        ids = tuple(m.id for m in renderable)
        return [], [*failed, Attempt(ids, not_rendered(exc), rendered=False)]


def record(
    dispatch: Dispatch,
    claimed: Sequence[Claimed],
    attempts: Sequence[Attempt],
    *,
    attempt_at: datetime | None = None,
) -> None:
    """Write the outcome of every claimed message in one transaction, one UPDATE per distinct
    outcome (not per message), then note the provider's errors and the campaign's progress.
    `attempt_at` is the group's `last_attempt_at` (refreshed while it was in flight)."""
    now = timezone.now()
    jitter = random.uniform(0.8, 1.2)
    by_id = {c.id: c for c in claimed}
    groups: dict[tuple, list[int]] = defaultdict(list)
    provider_message_ids: list[tuple[int, str]] = []
    outcomes: list[str] = []
    for attempt in attempts:
        result = attempt.result
        ids = attempt.message_ids
        matched = len(result.provider_message_ids) == len(ids)
        for index, message_id in enumerate(ids):
            message = by_id[message_id]
            if attempt.rendered:
                decision = decide(
                    result,
                    attempts=message.attempts,
                    first_attempt_at=message.first_attempt_at,
                    now=now,
                    jitter=jitter,
                )
            else:
                decision = Decision(MessageState.DISPATCH_ERROR, DispatchReason.NOT_RENDERED)
            groups[(decision, result.status, result.error[:ERROR_KEPT])].append(message_id)
            if matched and result.ok:
                provider_message_ids.append((message_id, result.provider_message_ids[index]))
        if attempt.rendered and not result.auth_failed:
            outcomes.append(("1" if result.ok else "0") * len(ids))
    tally = Tally()
    provider_id, campaign_id = dispatch.provider.pk, dispatch.campaign.pk
    attempt_at = attempt_at or claimed[0].attempt_at
    with transaction.atomic():
        for (decision, status_code, error), ids in groups.items():
            message_writes.write_send_outcome(
                provider_id, campaign_id, decision, status_code, error, ids, now, attempt_at, tally
            )
        tally.save()
        message_writes.set_provider_message_ids(provider_message_ids)
        _note_provider(dispatch.provider.pk, attempts, now)
        # Last, as it locks the campaign until the commit (workers of a campaign take turns
        # here). `stop` locks it too, to change its status: either it stopped before, and
        # the retries written above are skipped here, or it waits for this commit and its
        # own skip sees them.
        status = _note_campaign(dispatch.campaign.pk, "".join(outcomes), attempts, now)
        if status == CampaignStatus.STOPPED:
            message_writes.skip_pending(dispatch.campaign, SkipReason.CAMPAIGN_STOPPED)


def _note_provider(provider_id: int, attempts: Sequence[Attempt], now) -> None:
    """The provider list shows the last error; the setup page shows "authentication failing"
    while the provider's credentials cannot be used."""
    provider = Provider.objects.filter(pk=provider_id)
    if any(a.result.auth_failed for a in attempts):
        provider.filter(auth_failing_since__isnull=True).update(auth_failing_since=now)
    elif any(a.result.status is not None for a in attempts):
        provider.filter(auth_failing_since__isnull=False).update(auth_failing_since=None)
    errors = [a.result.error for a in attempts if not a.result.ok and a.result.error]
    if errors:
        provider.update(last_error=errors[-1][:ERROR_KEPT], last_error_at=now)


def _note_campaign(campaign_id: int, outcomes: str, attempts: Sequence[Attempt], now) -> str:
    """Heartbeat, and the auto-pause rule: more than AUTO_PAUSE_ERROR_RATE of the last
    AUTO_PAUSE_WINDOW attempts failed (authentication holds are not attempts). Returns the
    campaign's status, read under the lock this update takes."""
    campaign = Campaign.objects.filter(pk=campaign_id)
    window = settings.AUTO_PAUSE_WINDOW
    if outcomes:
        recent_outcomes = Right(Concat("recent_outcomes", Value(outcomes)), window)
        campaign.update(heartbeat_at=now, recent_outcomes=recent_outcomes)
    else:
        campaign.update(heartbeat_at=now)
    recent, status = campaign.values_list("recent_outcomes", "status").get()
    failed = recent.count("0")
    if outcomes and len(recent) >= window and failed > window * settings.AUTO_PAUSE_ERROR_RATE:
        # Marketers read this: the outcome in words, never the provider's raw error (SPEC §8);
        # admins find the error itself on the provider's page.
        last_failure = next((a.result for a in reversed(attempts) if not a.result.ok), None)
        last = last_failure.in_words if last_failure else "unknown."
        paused = campaign.filter(status=CampaignStatus.SENDING).update(
            status=CampaignStatus.PAUSED,
            pause_reason=(
                f"Paused automatically: {failed} of the last {window} attempts failed "
                f"(more than {settings.AUTO_PAUSE_ERROR_RATE:.0%}). Last outcome: {last}"
            ),
        )
        if paused:
            status = CampaignStatus.PAUSED
    return status


def next_due(campaign_id: int, first_id: int, last_id: int) -> datetime | None:
    return Message.objects.filter(
        campaign_id=campaign_id,
        id__gte=first_id,
        id__lte=last_id,
        next_attempt_at__isnull=False,
    ).aggregate(due=Min("next_attempt_at"))["due"]
