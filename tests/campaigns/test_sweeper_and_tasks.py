"""The dispatch safety net (sweeper), the Celery tasks' hand-offs, retry timing and the shared
rate limit (SPEC §3.4, §9)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from campaigns import retry, services, sweeper, tasks
from campaigns.models import Campaign, CampaignStatus, DispatchReason, Message, MessageState
from providers import pacing
from providers.base import SendResult
from providers.models import ProviderPace
from tests.providers.helpers import create_generic

from .helpers import run, sending_campaign, states


@pytest.fixture
def provider(db, httpserver):
    httpserver.expect_request("/sms").respond_with_json({"ok": True})
    return create_generic(None, endpoint=httpserver.url_for("/sms"))


def test_it_reconciles_messages_stuck_in_sending_without_resending_them(provider, settings):
    settings.DISPATCH_SENDING_TIMEOUT = 600
    sending_campaign(provider, 3, heartbeat_at=timezone.now())
    long_ago = timezone.now() - timedelta(seconds=601)
    stuck, recent, _ = Message.objects.order_by("id")
    Message.objects.filter(pk=stuck.pk).update(state=MessageState.SENDING, last_attempt_at=long_ago)
    Message.objects.filter(pk=recent.pk).update(
        state=MessageState.SENDING, last_attempt_at=timezone.now(), next_attempt_at=None
    )
    Message.objects.filter(pk=stuck.pk).update(next_attempt_at=None)

    report = sweeper.sweep()

    assert report.reconciled == 1
    stuck.refresh_from_db()
    assert (stuck.state, stuck.reason) == (
        MessageState.DISPATCH_ERROR,
        DispatchReason.OUTCOME_UNKNOWN,
    )
    assert stuck.next_attempt_at is None
    assert "Not sent again" in stuck.last_error
    assert Message.objects.get(pk=recent.pk).state == MessageState.SENDING
    assert Campaign.objects.get().status == CampaignStatus.SENDING


def test_a_late_success_overrides_an_unknown_outcome(provider, httpserver, settings):
    campaign = sending_campaign(provider, 1)
    from campaigns import dispatch

    claimed = dispatch.claim(campaign.pk, 0, 2**62, 10)
    settings.DISPATCH_SENDING_TIMEOUT = 0  # the sweeper gives up on it at once
    assert sweeper.reconcile_in_flight(timezone.now() + timedelta(seconds=1)) == 1
    assert states(campaign) == {MessageState.DISPATCH_ERROR: 1}
    loaded = dispatch.Dispatch.load(campaign.pk)
    dispatch.record(loaded, claimed, [dispatch.Attempt((claimed[0].id,), SendResult(ok=True))])

    assert states(campaign) == {MessageState.SENT: 1}


def test_it_enqueues_again_a_campaign_whose_task_was_lost(provider, enqueued, settings):
    settings.DISPATCH_STALL_AFTER = 60
    settings.DISPATCH_RANGE_SIZE = 2
    campaign = sending_campaign(provider, 5)
    first_id = Message.objects.order_by("id").first().id
    Campaign.objects.update(heartbeat_at=timezone.now() - timedelta(seconds=61))

    assert sweeper.sweep().revived == 1

    assert enqueued == [
        (campaign.pk, first_id, first_id + 1),
        (campaign.pk, first_id + 2, first_id + 3),
        (campaign.pk, first_id + 4, first_id + 4),
    ]
    assert sweeper.sweep().revived == 0  # its heartbeat was renewed: give the tasks time


def test_it_leaves_alone_a_campaign_that_is_making_progress(provider, enqueued):
    sending_campaign(provider, 5, heartbeat_at=timezone.now())

    assert sweeper.sweep().revived == 0
    assert enqueued == []


def test_it_leaves_alone_a_campaign_whose_retries_are_not_due(provider, enqueued):
    campaign = sending_campaign(provider, 2, heartbeat_at=timezone.now() - timedelta(hours=1))
    Message.objects.update(next_attempt_at=timezone.now() + timedelta(minutes=5))

    assert sweeper.sweep().revived == 0
    assert Campaign.objects.get(pk=campaign.pk).status == CampaignStatus.SENDING


def test_it_marks_a_campaign_with_nothing_left_as_sent(provider, enqueued):
    campaign = sending_campaign(provider, 2, heartbeat_at=timezone.now())
    run(campaign)

    assert sweeper.sweep().finished == 1
    assert Campaign.objects.get().status == CampaignStatus.SENT


def test_start_enqueues_id_ranges_after_commit(
    provider, enqueued, settings, django_capture_on_commit_callbacks
):
    settings.DISPATCH_RANGE_SIZE = 1000
    settings.DISPATCH_SPREAD = 2
    campaign = Campaign.objects.create(name="Big", provider=provider, body="Hi")
    services.queue_messages(campaign, [(f"+1415555{i:04d}", None) for i in range(2500)])
    first_id = Message.objects.order_by("id").first().id

    with django_capture_on_commit_callbacks() as callbacks:
        services.launch(campaign)
        assert enqueued == []  # nothing is handed over before the transaction commits
    for callback in callbacks:
        callback()

    assert Campaign.objects.get().status == CampaignStatus.SENDING
    assert [(first, last - first + 1) for _, first, last in enqueued] == [
        (first_id, 1000),
        (first_id + 1000, 1000),
        (first_id + 2000, 500),
    ]


def test_a_small_campaign_is_spread_over_several_tasks_of_at_least_one_claim(
    provider, enqueued, settings
):
    settings.DISPATCH_SPREAD = 8
    settings.DISPATCH_GROUP_SIZE = 20
    campaign = sending_campaign(provider, 400)
    services.enqueue(campaign.pk)
    assert [last - first + 1 for _, first, last in enqueued] == [50] * 8

    enqueued.clear()
    small = sending_campaign(provider, 30)
    services.enqueue(small.pk)
    assert [last - first + 1 for _, first, last in enqueued] == [20, 10]


def test_a_batching_provider_keeps_whole_batches_per_task(provider, enqueued, settings):
    settings.DISPATCH_SPREAD = 8
    provider.config.update(batching=True, batch_key="messages", records_per_batch=1000)
    provider.save()
    campaign = sending_campaign(provider, 3000)
    services.enqueue(campaign.pk)
    assert [last - first + 1 for _, first, last in enqueued] == [1000] * 3


def test_the_task_comes_back_when_its_next_retry_falls_due(provider, monkeypatch, httpserver):
    httpserver.clear()
    httpserver.expect_request("/sms").respond_with_data("busy", status=503)
    campaign = sending_campaign(provider, 1)
    scheduled = []
    monkeypatch.setattr(
        tasks.send_range, "apply_async", lambda args, eta: scheduled.append((args, eta))
    )

    tasks.send_range(campaign.pk, 0, 10**9)

    (message,) = Message.objects.all()
    assert scheduled == [((campaign.pk, 0, 10**9), message.next_attempt_at)]


def test_the_task_finishes_the_campaign_when_its_range_is_done(provider):
    campaign = sending_campaign(provider, 2)

    tasks.send_range(campaign.pk, 0, 10**9)

    assert Campaign.objects.get().status == CampaignStatus.SENT


def test_the_sweeper_runs_on_a_schedule(settings):
    schedule = settings.CELERY_BEAT_SCHEDULE["sweep-dispatch"]
    assert schedule == {
        "task": "campaigns.tasks.sweep",
        "schedule": settings.DISPATCH_SWEEP_INTERVAL,
    }
    assert tasks.sweep.name == "campaigns.tasks.sweep"


@pytest.mark.parametrize(
    ("attempt", "retry_after", "expected"),
    [(1, None, 20), (2, None, 60), (3, None, 180), (4, None, 540), (5, None, 900), (1, 45, 45)],
)
def test_it_backs_off_exponentially_and_honours_retry_after(attempt, retry_after, expected):
    assert retry.backoff_seconds(attempt, retry_after, jitter=1.0) == expected


def test_five_attempts_fit_in_about_a_quarter_of_an_hour():
    worst = sum(retry.backoff_seconds(n, jitter=1.2) for n in range(1, 5))
    assert worst <= 17 * 60


def test_a_long_retry_after_is_capped_at_an_hour():
    assert retry.backoff_seconds(1, 86400) == retry.MAX_RETRY_AFTER


def test_it_hands_out_slots_one_interval_apart(provider, monkeypatch):
    clock = [1_000.0]
    slept: list[float] = []
    monkeypatch.setattr(pacing.time, "time", lambda: clock[0])
    monkeypatch.setattr(pacing.time, "sleep", slept.append)

    waits = [pacing.wait_for_slot(provider.pk, 4) for _ in range(5)]

    interval = 0.25 / pacing.HEADROOM  # a little under 4 per second
    assert waits == pytest.approx([0.0, interval, 2 * interval, 3 * interval, 4 * interval])
    assert slept == pytest.approx(waits[1:])
    assert ProviderPace.objects.get().next_slot == pytest.approx(1_000 + 5 * interval)


def test_a_worker_late_for_its_slot_leaves_it_and_takes_the_next(provider, monkeypatch):
    """Woken 0.2 s after its slot (a busy core): sending then would crowd the next slots'
    requests into one second, so it waits for a fresh slot instead."""
    clock = [1_000.0]
    monkeypatch.setattr(pacing.time, "time", lambda: clock[0])

    sleeps = []

    def oversleep(seconds):
        sleeps.append(seconds)
        clock[0] += seconds + (0.2 if len(sleeps) == 1 else 0.0)  # late the first time only

    monkeypatch.setattr(pacing.time, "sleep", oversleep)
    pacing.wait_for_slot(provider.pk, 4)  # slot 1000.0, at once
    interval = 0.25 / pacing.HEADROOM

    pacing.wait_for_slot(provider.pk, 4)

    # Its slot (1000 + interval) found it at + 0.2 s; it waited for the next free one.
    assert sleeps == pytest.approx([interval, 2 * interval - (interval + 0.2)])
    assert clock[0] == pytest.approx(1_000 + 2 * interval)
    assert ProviderPace.objects.get().next_slot == pytest.approx(1_000 + 3 * interval)


def test_a_worker_late_for_every_slot_sends_after_a_few(provider, monkeypatch):
    """A limit tighter than a reservation's own round trip (1000/s against a busy database:
    every slot is half an interval gone by the time it is handed out) must not hold the
    worker for ever: it leaves MAX_SKIPPED_SLOTS slots, then sends."""
    clock = [1_000.0]

    def slow_clock():
        clock[0] += 0.001  # each look at the clock costs a millisecond
        return clock[0]

    monkeypatch.setattr(pacing.time, "time", slow_clock)
    monkeypatch.setattr(pacing.time, "sleep", lambda seconds: None)

    pacing.wait_for_slot(provider.pk, 1000)

    interval = 0.001 / pacing.HEADROOM
    assert ProviderPace.objects.get().next_slot <= 1_000 + 3 * pacing.MAX_SKIPPED_SLOTS * 0.001
    assert ProviderPace.objects.get().next_slot >= 1_000 + pacing.MAX_SKIPPED_SLOTS * interval


def test_an_idle_provider_gets_a_slot_at_once(provider, monkeypatch):
    clock = [1_000.0]
    monkeypatch.setattr(pacing.time, "time", lambda: clock[0])
    monkeypatch.setattr(pacing.time, "sleep", lambda seconds: None)
    pacing.wait_for_slot(provider.pk, 2)
    clock[0] = 1_010.0  # long after the last slot: no debt, no burst credit

    assert pacing.wait_for_slot(provider.pk, 2) == 0.0
    assert pacing.wait_for_slot(provider.pk, 2) == pytest.approx(0.5 / pacing.HEADROOM)


def test_no_limit_never_touches_the_database(provider, django_assert_num_queries):
    with django_assert_num_queries(0):
        assert pacing.wait_for_slot(provider.pk, None) == 0.0
