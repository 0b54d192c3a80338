"""Campaign state transitions: queue messages, start, pause, resume, stop, finish.

Work is handed to Celery as id ranges after the transaction that made it due commits, so a
worker never looks for messages that are not there yet.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import partial

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Max, Min, Q
from django.utils import timezone

from providers import registry
from providers.services import TEST_MESSAGE_ID, send_test_sms
from providers.templating import BODY
from stats.rollups import Tally

from . import links, message_writes, personalize
from .compose import Composer, template_variables
from .models import Campaign, CampaignStatus, Message, MessageState, SkipReason

STOPPABLE = [CampaignStatus.SCHEDULED, CampaignStatus.SENDING, CampaignStatus.PAUSED]
# An archived or deleted provider is dead (SPEC §8): nothing launches, resumes or tests
# through it.
WITH_LIVE_PROVIDER = Q(provider__isnull=False, provider__archived_at__isnull=True)


class ProviderUnavailable(Exception):
    """The campaign's provider was archived or deleted: nothing can be sent through it."""


def provider_problem(campaign: Campaign) -> str:
    """Why nothing can be sent through the campaign's provider, in words ("" when it can)."""
    if campaign.provider is None:
        return "This campaign's provider was deleted. Choose another provider to send it."
    if campaign.provider.is_archived:
        return (
            f"This campaign's provider “{campaign.provider.nickname}” was archived. "
            "Choose another provider to send it."
        )
    return ""


def one_text_note(campaign: Campaign) -> str:
    """Why a provider that sends one text to many numbers per request will send some of this
    campaign's messages one request each (SPEC §5.2), in words ("" when it will not)."""
    provider = campaign.provider
    if provider is None or not registry.kind_of(provider).sends_one_text_to_many(provider.config):
        return ""
    custom = campaign.custom_values or {}
    personalised = any(
        personalize.names(text)
        for text in (
            campaign.body,
            template_variables(campaign.template_variables),
            *custom.values(),
        )
    )
    tracked = campaign.click_tracking and links.find_urls(campaign.body)
    if not (personalised or tracked):
        return ""
    why = "personalised" if personalised else "its links are tracked"
    return (
        f"“{provider.nickname}” sends one text to many numbers in a request, but this "
        f"campaign's text differs between recipients ({why}): recipients whose text differs "
        "are sent one request each, which takes longer."
    )


INSERT_BATCH = 5000


def save_draft(form, user, campaign: Campaign | None = None) -> Campaign:
    """Create or update a draft from a valid CampaignForm."""
    data = form.cleaned_data
    campaign = campaign or Campaign(created_by=user)
    campaign.name = data["name"]
    campaign.provider = data["provider"]
    campaign.audience = data["audience"]
    campaign.body = data["body"]
    campaign.template_id = data["template_id"]
    campaign.template_variables = data["template_variables"]
    campaign.custom_values = form.custom_values()
    campaign.click_tracking = data["click_tracking"]
    campaign.save()
    return campaign


def queue_messages(campaign: Campaign, recipients: Iterable[tuple[str, dict | None]]) -> int:
    """Add one queued message per (E.164 number, contact attributes) and mark the campaign
    prepared; returns how many. (Campaigns with an audience use `prepare` instead.)"""
    now = timezone.now()
    count = 0
    batch: list[Message] = []
    for to, values in recipients:
        batch.append(
            Message(
                campaign=campaign,
                provider_id=campaign.provider_id,
                to=to,
                values=values,
                next_attempt_at=now,
            )
        )
        if len(batch) == INSERT_BATCH:
            count += _insert(batch)
            batch = []
    count += _insert(batch)
    Campaign.objects.filter(pk=campaign.pk).update(prepared_at=now, recipients=count)
    return count


def _insert(batch: list[Message]) -> int:
    Message.objects.bulk_create(batch, batch_size=INSERT_BATCH)
    return len(batch)


@transaction.atomic
def launch(campaign: Campaign) -> bool:
    """Send now (a draft) or at its time (a scheduled campaign): Sending, then a worker
    creates the messages and hands them out. False if it was not a draft or scheduled."""
    now = timezone.now()
    launched = (
        Campaign.objects.filter(
            pk=campaign.pk, status__in=[CampaignStatus.DRAFT, CampaignStatus.SCHEDULED]
        )
        .filter(WITH_LIVE_PROVIDER)
        .update(status=CampaignStatus.SENDING, started_at=now, heartbeat_at=now, pause_reason="")
    )
    if launched:
        campaign.status = CampaignStatus.SENDING
        transaction.on_commit(partial(prepare_later, campaign.pk))
    return bool(launched)


def prepare_later(campaign_id: int) -> None:
    """Have a worker create the campaign's messages (a million contacts take seconds)."""
    from .tasks import prepare  # tasks import this module

    prepare.delay(campaign_id)


@transaction.atomic
def schedule(campaign: Campaign, when) -> bool:
    """A draft waits until `when`; Celery beat launches it (`launch_due`)."""
    scheduled = (
        Campaign.objects.filter(pk=campaign.pk, status=CampaignStatus.DRAFT)
        .filter(WITH_LIVE_PROVIDER)
        .update(status=CampaignStatus.SCHEDULED, scheduled_at=when)
    )
    return bool(scheduled)


def launch_due() -> int:
    """Launch every scheduled campaign whose time has come; returns how many. The schedule
    lives in the database, so it survives restarts; launching twice is impossible."""
    due = Campaign.objects.filter(status=CampaignStatus.SCHEDULED, scheduled_at__lte=timezone.now())
    return sum(launch(campaign) for campaign in due)


def prepare(campaign_id: int) -> int:
    """Create the campaign's messages from its audience in one INSERT … SELECT (opted-out
    numbers become Skipped), exactly once, then hand them to workers. Returns how many
    messages were created (0 when already prepared)."""
    with transaction.atomic():
        now = timezone.now()
        claimed = Campaign.objects.filter(
            pk=campaign_id, status=CampaignStatus.SENDING, prepared_at__isnull=True
        ).update(prepared_at=now)
        created = 0
        if claimed:
            campaign = Campaign.objects.get(pk=campaign_id)
            created = message_writes.insert_messages_from_audience(campaign, now)
            Campaign.objects.filter(pk=campaign_id).update(recipients=created)
            skipped = Message.objects.filter(campaign=campaign, state=MessageState.SKIPPED)
            tally = Tally()
            tally.add(campaign.provider_id, campaign_id, now, "skipped", skipped.count())
            tally.save()
    enqueue(campaign_id)
    return created


@transaction.atomic
def pause(campaign: Campaign, reason: str) -> None:
    Campaign.objects.filter(pk=campaign.pk, status=CampaignStatus.SENDING).update(
        status=CampaignStatus.PAUSED, pause_reason=reason
    )


@transaction.atomic
def resume(campaign: Campaign) -> bool:
    """Send again after a pause; the auto-pause window starts afresh. False if it was not
    paused (or its provider is gone)."""
    now = timezone.now()
    resumed = (
        Campaign.objects.filter(pk=campaign.pk, status=CampaignStatus.PAUSED)
        .filter(WITH_LIVE_PROVIDER)
        .update(
            status=CampaignStatus.SENDING, pause_reason="", recent_outcomes="", heartbeat_at=now
        )
    )
    if resumed:
        transaction.on_commit(partial(enqueue, campaign.pk))
    return bool(resumed)


@transaction.atomic
def stop(campaign: Campaign, reason: str) -> int:
    """Stop for good: messages not yet handed over become Skipped with the reason; messages
    in flight finish. Returns how many were skipped."""
    Campaign.objects.filter(pk=campaign.pk, status__in=STOPPABLE).update(
        status=CampaignStatus.STOPPED, finished_at=timezone.now(), pause_reason=reason
    )
    return message_writes.skip_pending(campaign, SkipReason.CAMPAIGN_STOPPED)


def enqueue(campaign_id: int) -> int:
    """Hand the campaign's pending messages to workers as id ranges; returns the task count."""
    from .tasks import send_range  # tasks import this module

    bounds = Message.objects.filter(
        campaign_id=campaign_id, next_attempt_at__isnull=False
    ).aggregate(first=Min("id"), last=Max("id"))
    if bounds["first"] is None:
        finish_if_done(campaign_id)
        return 0
    size = range_size(campaign_id, bounds["last"] - bounds["first"] + 1)
    starts = range(bounds["first"], bounds["last"] + 1, size)
    for first in starts:
        send_range.delay(campaign_id, first, min(first + size - 1, bounds["last"]))
    return len(starts)


def range_size(campaign_id: int, span: int) -> int:
    """Ids per task: at most DISPATCH_RANGE_SIZE, and small enough that a campaign spreads
    over DISPATCH_SPREAD tasks, so every worker process takes part even in a small one;
    never below one claim, so a batching provider still fills its batches."""
    provider = Campaign.objects.select_related("provider").get(pk=campaign_id).provider
    kind = registry.kind_of(provider) if provider else None
    group = kind.claim_size(provider.config) if kind else settings.DISPATCH_GROUP_SIZE
    spread = -(-span // settings.DISPATCH_SPREAD)  # ceiling division
    return max(1, min(settings.DISPATCH_RANGE_SIZE, max(group, spread)))


def finish_if_done(campaign_id: int) -> bool:
    """A sending campaign with nothing pending and nothing in flight is Sent."""
    busy = Message.objects.filter(campaign_id=campaign_id, next_attempt_at__isnull=False).exists()
    busy = (
        busy or Message.objects.filter(campaign_id=campaign_id, state=MessageState.SENDING).exists()
    )
    if busy:
        return False
    return bool(
        Campaign.objects.filter(
            pk=campaign_id, status=CampaignStatus.SENDING, prepared_at__isnull=False
        ).update(status=CampaignStatus.SENT, finished_at=timezone.now())
    )


@dataclass(frozen=True)
class Progress:
    """Where a campaign stands: messages per state, and how much of it is finished."""

    queued: int
    sending: int
    sent: int
    dispatch_errors: int
    skipped: int
    opted_out: int

    @property
    def total(self) -> int:
        return self.queued + self.sending + self.sent + self.dispatch_errors + self.skipped

    @property
    def done(self) -> int:
        return self.sent + self.dispatch_errors + self.skipped

    @property
    def percent(self) -> int:
        return int(100 * self.done / self.total) if self.total else 0


def progress(campaign: Campaign) -> Progress:
    """One grouped count over the campaign's messages (the campaign+state index)."""
    counts = dict(
        Message.objects.filter(campaign=campaign)
        .values("state")
        .annotate(n=Count("id"))
        .values_list("state", "n")
    )
    opted_out = Message.objects.filter(
        campaign=campaign, state=MessageState.SKIPPED, reason=SkipReason.OPTED_OUT
    ).count()
    return Progress(
        queued=counts.get(MessageState.QUEUED, 0),
        sending=counts.get(MessageState.SENDING, 0),
        sent=counts.get(MessageState.SENT, 0),
        dispatch_errors=counts.get(MessageState.DISPATCH_ERROR, 0),
        skipped=counts.get(MessageState.SKIPPED, 0),
        opted_out=opted_out,
    )


def send_test(campaign: Campaign, to: str):
    """Send the campaign's message to one number now, through its provider, as a contact
    without attributes would get it (defaults apply). Returns the provider's SendResult."""
    problem = provider_problem(campaign)
    if problem:
        raise ProviderUnavailable(problem)
    provider = campaign.provider
    composer = Composer(campaign)
    values = composer.message_values(TEST_MESSAGE_ID, {})
    return send_test_sms(
        provider.kind,
        provider.config,
        provider.readable_secrets() or {},
        callback_url=provider.callback_url,
        to=to,
        message=values[BODY],
        custom_values={token: values[token] for token in composer.personal_tokens},
        shared_values=composer.shared_values,
        session_key=f"provider-{provider.pk}",
    )


def preview_body(body: str, attributes: dict | None) -> str:
    """The message as one contact would get it (placeholders kept when there is no contact
    or the text is not a valid template yet)."""
    if attributes is None:
        return body
    try:
        return personalize.render(body, attributes)
    except personalize.TemplateError:
        return body
