"""The per-day rollups stay equal to a rebuild from the messages and events (SPEC §7, §9)
through every path that moves a count: retries, authentication holds, a killed worker, a
stopped campaign, opted-out contacts, repeated and out-of-order callbacks, tracked clicks,
early reports, and `manage.py recompute_stats` itself. The check after each test
(tests/conftest.py) asserts the same; these also say what the counts are."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.db.models import F
from django.utils import timezone

from audiences.models import Audience, Contact, OptOut
from campaigns import dispatch, services, sweeper, tasks
from campaigns.models import Campaign, CampaignStatus, DispatchReason, Message, MessageState
from providers.base import SendResult
from stats import rebuild
from stats.figures import DateRange, Scope, Totals, errors, figures, latency
from stats.models import DailyLatency, DailyStat
from tests.campaigns.helpers import make_due, run, sending_campaign, states

from . import clicked, delivered, epoch, failed, generic, post, replied

WEEK = DateRange.last(7, timezone.localdate())


@pytest.fixture(autouse=True)
def _fresh_cache(db):
    cache.clear()


@pytest.fixture
def accepting(httpserver):
    httpserver.expect_request("/sms").respond_with_json({"ok": True})
    return httpserver


@pytest.fixture
def provider(accepting):
    return generic(accepting)


def totals(campaign) -> Totals:
    return figures(Scope(campaign=campaign), WEEK).totals


def consistent() -> bool:
    return rebuild.snapshot() == rebuild.recompute()


def messages_of(campaign) -> list[Message]:
    return list(Message.objects.filter(campaign=campaign).order_by("id"))


def error_counts(campaign) -> dict[str, int]:
    by_code, by_reason = errors(Scope(campaign=campaign), WEEK)
    return {row.code: row.count for row in by_code + by_reason}


def stuck_in_flight(campaign, settings) -> list[dispatch.Claimed]:
    """Claim the campaign's messages as a worker would, then let the sweeper give up on them
    as if that worker had been SIGKILLed mid-request."""
    claimed = dispatch.claim(campaign.pk, 0, 2**62, 100)
    settings.DISPATCH_SENDING_TIMEOUT = 600
    later = timezone.now() + timedelta(seconds=601)
    assert sweeper.reconcile_in_flight(later) == len(claimed)
    return claimed


def record_success(campaign, claimed) -> None:
    """The killed worker's request did get through: its outcome is written late."""
    ids = tuple(c.id for c in claimed)
    loaded = dispatch.Dispatch.load(campaign.pk)
    dispatch.record(loaded, claimed, [dispatch.Attempt(ids, SendResult(ok=True))])


# --- dispatch --------------------------------------------------------------------------------
def test_it_counts_a_message_sent_after_retries_once(httpserver):
    httpserver.expect_ordered_request("/sms").respond_with_data("busy", status=503)
    httpserver.expect_ordered_request("/sms").respond_with_data("busy", status=500)
    httpserver.expect_ordered_request("/sms").respond_with_json({"ok": True})
    campaign = sending_campaign(generic(httpserver))

    run(campaign)
    assert totals(campaign) == Totals()  # a retry pending is no error yet
    assert consistent()
    for _ in range(2):
        make_due(campaign)
        run(campaign)

    assert states(campaign) == {MessageState.SENT: 1}
    assert totals(campaign) == Totals(sent=1)
    assert error_counts(campaign) == {}
    assert consistent()


def test_it_counts_one_dispatch_error_when_retries_run_out(httpserver, settings):
    settings.DISPATCH_MAX_ATTEMPTS = 3
    httpserver.expect_request("/sms").respond_with_data("down", status=502)
    campaign = sending_campaign(generic(httpserver), 2)

    for _ in range(3):
        run(campaign)
        make_due(campaign)

    assert {(m.state, m.reason, m.attempts) for m in messages_of(campaign)} == {
        (MessageState.DISPATCH_ERROR, DispatchReason.RETRIES_EXHAUSTED, 3)
    }
    assert totals(campaign) == Totals(dispatch_errors=2)
    assert error_counts(campaign) == {DispatchReason.RETRIES_EXHAUSTED: 2}
    assert consistent()


def test_it_counts_held_messages_only_when_the_authentication_window_ends(httpserver):
    httpserver.expect_request("/token").respond_with_data("down", status=503)
    campaign = sending_campaign(
        generic(
            httpserver,
            auth_type="oauth2",
            oauth_client_url=httpserver.url_for("/token"),
            oauth_client_id="client-1",
            oauth_secret_key="oauth-secret",
        ),
        3,
    )

    run(campaign)
    assert states(campaign) == {MessageState.DISPATCH_ERROR: 3}  # held, retried later
    assert totals(campaign) == Totals()
    assert consistent()

    Message.objects.filter(campaign=campaign).update(
        first_attempt_at=timezone.now() - timedelta(minutes=59)
    )
    make_due(campaign)
    run(campaign)

    assert {m.next_attempt_at for m in messages_of(campaign)} == {None}
    assert totals(campaign) == Totals(dispatch_errors=3)
    assert error_counts(campaign) == {DispatchReason.AUTHENTICATION: 3}
    assert consistent()


def test_it_takes_back_an_unknown_outcome_on_a_late_success(provider, settings):
    campaign = sending_campaign(provider, 2)
    claimed = stuck_in_flight(campaign, settings)
    assert totals(campaign) == Totals(dispatch_errors=2)
    assert error_counts(campaign) == {DispatchReason.OUTCOME_UNKNOWN: 2}
    assert consistent()

    record_success(campaign, claimed)

    assert states(campaign) == {MessageState.SENT: 2}
    assert totals(campaign) == Totals(sent=2)
    assert error_counts(campaign) == {}
    assert consistent()


def test_it_counts_an_unknown_outcome_sent_when_tried_on_a_report(client, provider, settings):
    campaign = sending_campaign(provider, 2)
    claimed = stuck_in_flight(campaign, settings)
    first, _ = messages_of(campaign)
    tried = first.last_attempt_at

    post(client, provider, delivered(first, epoch(tried) + 30))

    first.refresh_from_db()
    assert (first.state, first.sent_at) == (MessageState.SENT, tried)
    assert totals(campaign) == Totals(sent=1, dispatch_errors=1, delivered=1)
    assert latency(Scope(campaign=campaign), WEEK).count == 1
    assert consistent()

    # The worker's late answer then changes nothing for the message already counted sent.
    record_success(campaign, claimed)
    assert totals(campaign) == Totals(sent=2, delivered=1)
    assert consistent()


def test_it_counts_messages_skipped_by_a_stop(provider):
    campaign = sending_campaign(provider, 5)
    first, second, *_ = messages_of(campaign)
    claimed = dispatch.claim(campaign.pk, first.id, second.id, 10)
    record_success(campaign, claimed)

    assert services.stop(Campaign.objects.get(pk=campaign.pk), "Enough") == 3

    assert states(campaign) == {MessageState.SENT: 2, MessageState.SKIPPED: 3}
    assert totals(campaign) == Totals(sent=2, skipped=3)
    assert consistent()


def test_it_counts_opted_out_contacts_skipped_by_prepare(provider, monkeypatch):
    monkeypatch.setattr(tasks.send_range, "delay", lambda *args: None)
    audience = Audience.objects.create(name="Customers", contact_count=4)
    phones = [f"+1415555000{i}" for i in range(1, 5)]
    Contact.objects.bulk_create(Contact(audience=audience, phone=phone) for phone in phones)
    OptOut.objects.create(phone=phones[1], opted_out_at=timezone.now(), keyword="STOP")
    OptOut.objects.create(phone=phones[3], opted_out_at=timezone.now(), keyword="STOP")
    campaign = Campaign.objects.create(
        name="Spring", provider=provider, audience=audience, body="Hi",
        status=CampaignStatus.SENDING,
    )  # fmt: skip

    assert services.prepare(campaign.pk) == 4
    assert services.prepare(campaign.pk) == 0  # once only

    assert states(campaign) == {MessageState.QUEUED: 2, MessageState.SKIPPED: 2}
    assert totals(campaign) == Totals(skipped=2)
    assert consistent()
    run(campaign)
    assert totals(campaign) == Totals(sent=2, skipped=2)


# --- callbacks -------------------------------------------------------------------------------
@pytest.fixture
def sent(provider):
    """A campaign of three messages, sent now."""
    campaign = sending_campaign(provider, 3)
    run(campaign)
    return campaign, messages_of(campaign)


def test_it_counts_repeated_callbacks_once(client, provider, sent):
    campaign, (first, second, third) = sent
    ts = epoch(first.sent_at) + 5
    payload = [
        delivered(first, ts),
        failed(second, ts, "901"),
        clicked(first, ts + 10),
        replied(third, ts + 20),
    ]

    assert post(client, provider, *payload)["duplicate_events"] == 0
    assert post(client, provider, *payload)["duplicate_events"] == 4
    assert post(client, provider, *payload, *payload)["duplicate_events"] == 8

    assert totals(campaign) == Totals(
        sent=3, delivered=1, failed=1, clicks=1, unique_clicks=1, replies=1
    )
    assert error_counts(campaign) == {"901": 1}
    assert latency(Scope(campaign=campaign), WEEK).count == 1
    assert consistent()


def test_it_counts_out_of_order_reports_by_their_first(client, provider, sent):
    campaign, (first, second, _) = sent
    ts = epoch(first.sent_at)
    # A failure reported before the delivery that preceded it, then a later delivery.
    post(client, provider, failed(first, ts + 60, "916"))
    post(client, provider, delivered(first, ts + 10))
    post(client, provider, delivered(first, ts + 90), delivered(second, ts + 5))

    first.refresh_from_db()
    assert first.outcome == "delivered"
    assert (epoch(first.delivered_at), epoch(first.failed_at)) == (ts + 10, ts + 60)
    assert totals(campaign) == Totals(sent=3, delivered=2, failed=1)
    assert error_counts(campaign) == {"916": 1}
    assert latency(Scope(campaign=campaign), WEEK).count == 2
    assert consistent()


def test_it_counts_a_long_failure_code_under_the_code_kept(client, provider, sent):
    campaign, (first, *_) = sent
    # Longer than a message keeps (20 characters), and than a rollup row's code (40).
    code = "SUBSCRIBER_ABSENT_FOR_LONGER_THAN_THE_NETWORK_WAITS"

    post(client, provider, failed(first, epoch(first.sent_at) + 5, code))

    first.refresh_from_db()
    assert first.failure_code == code[:20]
    assert error_counts(campaign) == {code[:20]: 1}
    assert consistent()


def test_it_counts_tracked_link_clicks_and_unique_clicks(client, accepting):
    campaign = sending_campaign(
        generic(accepting), 3, body="Sale: https://shop.example/a and www.shop.example/b",
        click_tracking=True,
    )  # fmt: skip
    run(campaign)
    texts = [request.get_json()["text"].split() for request, _ in accepting.log]
    first_a, first_b, second_a = texts[0][1], texts[0][3], texts[1][1]

    for link in (first_a, first_a, first_b, second_a):
        response = client.get(link.removeprefix("http://testserver"))
        assert response.status_code == 302
    prefetch = client.get(second_a.removeprefix("http://testserver"), HTTP_USER_AGENT="Slackbot")
    assert prefetch.status_code == 302  # a link preview, not a person: not counted

    assert totals(campaign) == Totals(sent=3, clicks=4, unique_clicks=2)
    assert consistent()


def test_it_counts_an_early_report_s_latency_when_the_send_is_written(client, provider):
    campaign = sending_campaign(provider, 2)
    claimed = dispatch.claim(campaign.pk, 0, 2**62, 10)
    first, _ = messages_of(campaign)
    assert first.state == MessageState.SENDING
    # A fast provider reports the delivery before the worker has written the send.
    post(client, provider, delivered(first, epoch(first.last_attempt_at) + 2))
    assert totals(campaign) == Totals(delivered=1)
    assert not DailyLatency.objects.exists()  # not sent yet: no latency to measure
    assert consistent()

    record_success(campaign, claimed)

    assert totals(campaign) == Totals(sent=2, delivered=1)
    assert latency(Scope(campaign=campaign), WEEK).count == 1
    assert consistent()


def test_it_counts_latency_once_when_a_report_races_the_send(client, provider, monkeypatch):
    from callbacks import services as callback_services

    campaign = sending_campaign(provider, 1)
    claimed = dispatch.claim(campaign.pk, 0, 2**62, 10)
    (message,) = messages_of(campaign)
    look_up = callback_services._targets

    def worker_commits_meanwhile(*args):
        # The report's request read the message while it was sending; the worker then
        # wrote the send (finding no delivery yet) before the report is written.
        targets = look_up(*args)
        record_success(campaign, claimed)
        return targets

    monkeypatch.setattr(callback_services, "_targets", worker_commits_meanwhile)
    post(client, provider, delivered(message, epoch(message.last_attempt_at) + 2))

    assert totals(campaign) == Totals(sent=1, delivered=1)
    assert latency(Scope(campaign=campaign), WEEK).count == 1
    assert consistent()


def test_it_keeps_an_early_report_s_latency_through_an_unknown_outcome(client, provider, settings):
    campaign = sending_campaign(provider, 1)
    dispatch.claim(campaign.pk, 0, 2**62, 10)  # a worker that will never answer
    (message,) = messages_of(campaign)
    post(client, provider, delivered(message, epoch(message.last_attempt_at) + 2))
    settings.DISPATCH_SENDING_TIMEOUT = 600
    assert sweeper.reconcile_in_flight(timezone.now() + timedelta(seconds=601)) == 1
    assert totals(campaign) == Totals(dispatch_errors=1, delivered=1)
    assert consistent()

    # Any later report proves it was sent: counted sent when tried, with its latency.
    post(client, provider, clicked(message, epoch(message.last_attempt_at) + 60))

    message.refresh_from_db()
    assert message.state == MessageState.SENT
    assert totals(campaign) == Totals(sent=1, delivered=1, clicks=1, unique_clicks=1)
    assert latency(Scope(campaign=campaign), WEEK).count == 1
    assert consistent()


# --- recompute_stats -------------------------------------------------------------------------
def test_it_rebuilds_exactly_and_check_finds_a_corrupted_row(client, provider, sent, settings):
    campaign, (first, second, third) = sent
    ts = epoch(first.sent_at)
    post(client, provider, delivered(first, ts + 3), failed(second, ts + 4, "914"))
    post(client, provider, clicked(first, ts + 30), replied(third, ts + 40))
    other = sending_campaign(provider, 2)
    stuck_in_flight(other, settings)
    before = rebuild.snapshot()
    assert before == rebuild.recompute()
    assert len(before[0]) == 2 and len(before[1]) == 2  # (campaign, day) and error rows

    out = io.StringIO()
    call_command("recompute_stats", stdout=out)
    assert out.getvalue() == "Rollups rebuilt from the messages and events.\n"
    assert rebuild.snapshot() == before

    out = io.StringIO()
    call_command("recompute_stats", "--check", stdout=out)
    assert out.getvalue() == "The rollups match the messages and events.\n"

    DailyStat.objects.filter(campaign=campaign).update(delivered=F("delivered") + 1)
    err = io.StringIO()
    with pytest.raises(SystemExit) as exit_:
        call_command("recompute_stats", "--check", stderr=err)
    assert exit_.value.code == 1
    assert err.getvalue() == "The rollups differ from the messages and events.\n"

    DailyLatency.objects.all().delete()  # a lost table is found and rebuilt too
    call_command("recompute_stats", stdout=io.StringIO())
    assert rebuild.snapshot() == before
    call_command("recompute_stats", "--check", stdout=io.StringIO())
