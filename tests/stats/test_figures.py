"""The stats figures and their formulas (SPEC §7) on hand-computed fixtures: sends through
dispatch against a local server, reports through the callback endpoint, clicks through the
tracked-link redirect; hand-made rollup rows only where no real path gives the case."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from django.core.cache import cache
from django.db.models import Sum
from werkzeug import Response

from campaigns.models import Campaign, Message
from providers import registry
from stats import rollups
from stats.figures import (
    DateRange,
    ErrorRow,
    Figures,
    Latency,
    Scope,
    Totals,
    daily,
    errors,
    figures,
    latency,
    provider_comparison,
)
from stats.models import DailyLatency, DailyStat
from tests.campaigns.helpers import numbers

from . import (
    Clock,
    clicked,
    delivered,
    epoch,
    failed,
    generic,
    post,
    replied,
    send,
    utc,
)

NOON = utc(2026, 1, 14, 12, 0)
TODAY = NOON.date()
WEEK = DateRange.last(7, TODAY)


@pytest.fixture(autouse=True)
def _fresh_cache(db):
    cache.clear()


@pytest.fixture
def clock(monkeypatch):
    return Clock(monkeypatch, NOON)


@pytest.fixture
def accepting(httpserver):
    """The provider takes every message, except those to the numbers in `refused` (400)."""
    refused: set[str] = set()

    def answer(request):
        if json.loads(request.get_data())["to"] in refused:
            return Response('{"error": "bad number"}', status=400)
        return Response('{"ok": true}', content_type="application/json")

    httpserver.expect_request("/sms").respond_with_handler(answer)
    return refused


def messages_of(campaign) -> list[Message]:
    return list(Message.objects.filter(campaign=campaign).order_by("id"))


def week_of(provider) -> Figures:
    return figures(Scope(provider=provider), WEEK)


# --- totals and rates ------------------------------------------------------------------------
@pytest.fixture
def busy_week(client, httpserver, accepting, clock):
    """Ten messages: 8 sent, 2 refused (dispatch errors). Reports: m1-m5 delivered (m5 twice,
    with different ts), m1 then failed, m6 and m7 failed; m1 clicked twice, m2 and m3 once;
    m3 and m4 replied once each."""
    provider = generic(httpserver)
    accepting.update(numbers(2, start=9))
    campaign = send(provider, 10)
    m = messages_of(campaign)
    ts = epoch(NOON)
    post(
        client,
        provider,
        *(delivered(m[i], ts + 10) for i in range(5)),
        delivered(m[4], ts + 70),
        failed(m[0], ts + 300, "914"),
        failed(m[5], ts + 20, "901"),
        failed(m[6], ts + 20, "914"),
        clicked(m[0], ts + 60),
        clicked(m[0], ts + 90),
        clicked(m[1], ts + 60),
        clicked(m[2], ts + 60, "https://shop.example/other"),
        replied(m[2], ts + 120),
        replied(m[3], ts + 120, "STOP"),
    )
    return provider, campaign


def test_it_counts_each_total_by_its_definition(busy_week):
    provider, campaign = busy_week

    for scope in (Scope(provider=provider), Scope(campaign=campaign), Scope()):
        assert figures(scope, WEEK).totals == Totals(
            sent=8, dispatch_errors=2, delivered=5, failed=3, clicks=4, unique_clicks=3, replies=2
        )
    assert figures(Scope(provider=provider), WEEK).totals.errors == 5  # 2 dispatch + 3 failed


def test_it_computes_rates_and_daily_averages(busy_week):
    provider, _ = busy_week

    result = week_of(provider)

    assert result.has_callbacks is True
    assert result.delivery_rate == 62.5  # 5 / 8
    assert result.ctr == 60.0  # 3 unique clicks / 5 delivered
    assert result.daily_avg_sent == 1.14  # 8 / 7 days
    assert result.daily_avg_delivered == 0.71  # 5 / 7 days
    thirty = figures(Scope(provider=provider), DateRange.last(30, TODAY))
    assert (thirty.daily_avg_sent, thirty.daily_avg_delivered) == (0.27, 0.17)


def test_it_gives_one_row_per_day_of_the_range(busy_week):
    provider, _ = busy_week

    rows = daily(Scope(provider=provider), WEEK, has_callbacks=True)

    assert [row.day for row in rows] == [TODAY - timedelta(days=n) for n in range(6, -1, -1)]
    assert [(r.sent, r.delivered, r.errors, r.clicks, r.unique_clicks, r.ctr) for r in rows] == [
        (0, 0, 0, 0, 0, 0.0)
    ] * 6 + [(8, 5, 5, 4, 3, 60.0)]


def test_it_lists_errors_by_code_and_dispatch_errors_by_reason(busy_week):
    provider, _ = busy_week

    by_code, by_reason = errors(Scope(provider=provider), WEEK)

    assert by_code == [
        ErrorRow("914", "Undelivered", 2, 40.0),
        ErrorRow("901", "DND failure", 1, 20.0),
    ]
    assert by_reason == [ErrorRow("rejected", "Rejected by the provider", 2, 40.0)]


def test_it_counts_a_message_delivered_twice_once(client, httpserver, accepting, clock):
    provider = generic(httpserver)
    (message,) = messages_of(send(provider))

    post(client, provider, delivered(message, epoch(NOON) + 5))
    answer = post(client, provider, delivered(message, epoch(NOON) + 50))

    assert answer["duplicate_events"] == 0  # a second report, not a repeated one
    assert week_of(provider).totals.delivered == 1
    assert week_of(provider).delivery_rate == 100.0
    message.refresh_from_db()
    assert message.delivered_at == NOON + timedelta(seconds=5)  # dated by the first report


def test_it_counts_delivered_then_failed_in_both(client, httpserver, accepting, clock):
    provider = generic(httpserver)
    (message,) = messages_of(send(provider))

    post(client, provider, delivered(message, epoch(NOON) + 5))
    post(client, provider, failed(message, epoch(NOON) + 60, "916"))

    totals = week_of(provider).totals
    assert (totals.delivered, totals.failed, totals.errors) == (1, 1, 1)
    assert week_of(provider).delivery_rate == 100.0


def test_it_gives_no_delivery_rate_and_ctr_on_sent_without_callbacks(
    client, httpserver, accepting, clock
):
    provider = generic(httpserver, callbacks=False)
    assert registry.has_callbacks(provider) is False
    campaign = send(provider, 4, body="Sale at https://shop.example/sale", click_tracking=True)
    links = [json.loads(r.get_data())["text"].split()[-1] for r, _ in httpserver.log]
    assert all(link.startswith("http://testserver/l/") for link in links)

    for link in (links[0], links[0], links[1]):
        clock.set(clock.now + timedelta(seconds=1))
        assert client.get(link.removeprefix("http://testserver")).status_code == 302

    result = figures(Scope(campaign=campaign), WEEK)
    assert (result.totals.sent, result.totals.clicks, result.totals.unique_clicks) == (4, 3, 2)
    assert result.has_callbacks is False
    assert result.delivery_rate == 0.0
    assert result.ctr == 50.0  # 2 unique clicks / 4 sent
    (today,) = daily(Scope(campaign=campaign), DateRange(TODAY, TODAY), has_callbacks=False)
    assert today.ctr == 50.0


def test_it_gives_zero_for_every_zero_denominator(client, httpserver, accepting, clock):
    quiet = generic(httpserver, "Quiet")
    clicked_only = generic(httpserver, "Clicked only")
    (message,) = messages_of(send(clicked_only))
    post(client, clicked_only, clicked(message, epoch(NOON) + 5))  # clicked, no report yet

    nothing = week_of(quiet)
    assert nothing.totals == Totals()
    assert (nothing.delivery_rate, nothing.ctr) == (0.0, 0.0)
    assert (nothing.daily_avg_sent, nothing.daily_avg_delivered) == (0.0, 0.0)
    assert {row.ctr for row in daily(Scope(provider=quiet), WEEK, has_callbacks=True)} == {0.0}
    assert errors(Scope(provider=quiet), WEEK) == ([], [])
    assert latency(Scope(provider=quiet), WEEK) == Latency(None, None, 0)

    some = week_of(clicked_only)
    assert (some.totals.unique_clicks, some.totals.delivered) == (1, 0)
    assert some.ctr == 0.0  # unique clicks / 0 delivered
    assert some.delivery_rate == 0.0  # 0 delivered / 1 sent
    assert Figures(Totals(unique_clicks=2), WEEK, has_callbacks=False).ctr == 0.0  # / 0 sent


@pytest.mark.no_rollup_check
def test_it_sums_only_the_days_and_scope_asked_for(db, httpserver):
    with_reports = generic(httpserver, "With reports")
    without = generic(httpserver, "Without", callbacks=False)
    first = Campaign.objects.create(name="First", provider=with_reports, body="x")
    second = Campaign.objects.create(name="Second", provider=with_reports, body="x")
    third = Campaign.objects.create(name="Third", provider=without, body="x")
    rows = [
        (first, TODAY, dict(sent=100, delivered=80, failed=5, dispatch_errors=3, unique_clicks=8)),
        (first, TODAY - timedelta(days=6), dict(sent=50, delivered=40, unique_clicks=4)),
        (first, TODAY - timedelta(days=7), dict(sent=1000, delivered=1000)),  # before the range
        (first, TODAY + timedelta(days=1), dict(sent=1000, delivered=1000)),  # after it
        (second, TODAY, dict(sent=10, delivered=10, clicks=3, unique_clicks=2, replies=1)),
        (third, TODAY, dict(sent=40, unique_clicks=10, skipped=7)),
    ]
    DailyStat.objects.bulk_create(
        DailyStat(provider=c.provider, campaign=c, day=day, **counts) for c, day, counts in rows
    )

    one = figures(Scope(campaign=first), WEEK)
    assert one.totals == Totals(
        sent=150, delivered=120, failed=5, dispatch_errors=3, unique_clicks=12
    )
    assert (one.delivery_rate, one.ctr, one.totals.errors) == (80.0, 10.0, 8)
    assert (one.daily_avg_sent, one.daily_avg_delivered) == (21.43, 17.14)

    both = figures(Scope(provider=with_reports), WEEK)
    assert (both.totals.sent, both.totals.delivered, both.totals.unique_clicks) == (160, 130, 14)
    assert (both.delivery_rate, both.ctr) == (81.25, 10.77)

    other = figures(Scope(provider=without), WEEK)
    assert (other.delivery_rate, other.ctr, other.totals.skipped) == (0.0, 25.0, 7)

    everything = figures(Scope(), WEEK)
    assert everything.has_callbacks is True  # any provider has them
    assert (everything.totals.sent, everything.totals.delivered) == (200, 130)

    days = daily(Scope(provider=with_reports), WEEK, has_callbacks=True)
    assert [(d.sent, d.delivered, d.errors, d.ctr) for d in (days[0], days[-1])] == [
        (50, 40, 0, 10.0),
        (110, 90, 8, 11.11),
    ]


# --- days in the site's time zone ------------------------------------------------------------
@pytest.mark.parametrize(
    ("zone", "late", "early"),
    [
        # 23:30 local, and 00:10 the next local day; both fall on 14 January in UTC.
        ("Asia/Kolkata", utc(2026, 1, 14, 18, 0), utc(2026, 1, 14, 18, 40)),
        # 23:30 local is 04:30 UTC the next day; 00:10 local the next day too.
        ("America/New_York", utc(2026, 1, 15, 4, 30), utc(2026, 1, 15, 5, 10)),
    ],
)
def test_it_dates_sends_and_reports_by_the_local_day(
    client, httpserver, accepting, clock, settings, zone, late, early
):
    settings.TIME_ZONE = zone
    provider = generic(httpserver)
    clock.set(late)
    (evening,) = messages_of(send(provider))
    clock.set(early)
    (night,) = messages_of(send(provider))
    # The evening message's report arrives after midnight; the night one's at once.
    post(
        client, provider, delivered(evening, epoch(late) + 35 * 60), delivered(night, epoch(early))
    )

    jan_14, jan_15 = date(2026, 1, 14), date(2026, 1, 15)
    rows = daily(Scope(provider=provider), DateRange(jan_14, jan_15), has_callbacks=True)
    assert [(r.day, r.sent, r.delivered) for r in rows] == [(jan_14, 1, 0), (jan_15, 1, 2)]
    per_campaign_day = (
        DailyStat.objects.values("campaign", "day")
        .annotate(sent=Sum("sent"), delivered=Sum("delivered"))
        .values_list("day", "sent", "delivered")
    )  # whatever the shards
    assert sorted(per_campaign_day) == [
        (jan_14, 1, 0),
        (jan_15, 0, 1),
        (jan_15, 1, 1),
    ]
    assert figures(Scope(provider=provider), DateRange(jan_14, jan_14)).totals.sent == 1


@pytest.mark.parametrize(
    ("moments", "days"),
    [
        # 8 March 2026, 02:00 EST → 03:00 EDT: a 23-hour day.
        (
            [
                utc(2026, 3, 8, 4, 30),  # 7 March 23:30 EST
                utc(2026, 3, 8, 6, 59),  # 8 March 01:59 EST
                utc(2026, 3, 8, 7, 1),  # 8 March 03:01 EDT
                utc(2026, 3, 9, 3, 30),  # 8 March 23:30 EDT (04:30 the 9th at EST's offset)
                utc(2026, 3, 9, 4, 30),  # 9 March 00:30 EDT (23:30 the 8th at EST's offset)
            ],
            [date(2026, 3, 7), date(2026, 3, 8), date(2026, 3, 9)],
        ),
        # 1 November 2026, 02:00 EDT → 01:00 EST: a 25-hour day, 01:30 comes twice.
        (
            [
                utc(2026, 11, 1, 3, 30),  # 31 October 23:30 EDT
                utc(2026, 11, 1, 5, 30),  # 1 November 01:30 EDT
                utc(2026, 11, 1, 6, 30),  # 1 November 01:30 EST
                utc(2026, 11, 2, 4, 30),  # 1 November 23:30 EST (00:30 the 2nd at EDT's offset)
                utc(2026, 11, 2, 5, 30),  # 2 November 00:30 EST
            ],
            [date(2026, 10, 31), date(2026, 11, 1), date(2026, 11, 2)],
        ),
    ],
    ids=["spring-forward", "fall-back"],
)
def test_it_counts_on_the_right_local_days_around_a_daylight_saving_change(
    client, httpserver, accepting, clock, settings, moments, days
):
    settings.TIME_ZONE = "America/New_York"
    provider = generic(httpserver)
    sent = []
    for moment in moments:
        clock.set(moment)
        sent += messages_of(send(provider))
    # Each delivered 20 minutes after it was sent: the same local day each time.
    post(
        client,
        provider,
        *(delivered(m, epoch(at) + 20 * 60) for m, at in zip(sent, moments, strict=True)),
    )

    rows = daily(Scope(provider=provider), DateRange(days[0], days[-1]), has_callbacks=True)

    assert [(r.day, r.sent, r.delivered) for r in rows] == [
        (days[0], 1, 1),
        (days[1], 3, 3),
        (days[2], 1, 1),
    ]
    assert figures(Scope(provider=provider), DateRange(days[1], days[1])).totals.sent == 3


# --- latency ------------------------------------------------------------------------------------
def deliver_after(client, provider, messages, seconds: list[int]) -> None:
    """Each message's delivery report `seconds` after it was sent (at NOON)."""
    post(
        client,
        provider,
        *(delivered(m, epoch(NOON) + s) for m, s in zip(messages, seconds, strict=True)),
    )


def test_it_reads_latency_percentiles_from_the_histogram(client, httpserver, accepting, clock):
    provider = generic(httpserver)
    messages = messages_of(send(provider, 7))
    # Buckets (upper bounds, s): 1 → ≤1, 4 and 4 → ≤5, 15 → ≤20, 45 → ≤60; 90,000 s is past
    # the last bound (a day) and reads as that bound. The seventh is never delivered.
    deliver_after(client, provider, messages[:6], [1, 4, 4, 15, 45, 90_000])

    assert sorted(DailyLatency.objects.values_list("day", "bucket", "count")) == [
        (TODAY, 0, 1),
        (TODAY, 2, 2),
        (TODAY, 4, 1),
        (TODAY, 6, 1),
        (TODAY + timedelta(days=1), len(rollups.LATENCY_BUCKETS), 1),
    ]
    two_days = DateRange(TODAY, TODAY + timedelta(days=1))
    # Median: the 3rd of 6 is in the ≤5 s bucket; 95th percentile: the 6th (5.7 of 6).
    assert latency(Scope(provider=provider), two_days) == Latency(5.0, 86400.0, 6)
    # Latency is dated by the delivery: the day after holds only the slow one.
    assert latency(Scope(provider=provider), DateRange(TODAY, TODAY)) == Latency(5.0, 60.0, 5)


@pytest.mark.parametrize(
    ("seconds", "bucket"),
    [(0, 0), (1, 0), (1.5, 1), (2, 1), (60, 6), (61, 7), (86400, 14), (86401, 15)],
)
def test_it_puts_a_latency_in_the_bucket_of_its_upper_bound(seconds, bucket):
    assert rollups.latency_bucket(seconds) == bucket


def test_it_compares_providers_side_by_side(client, httpserver, accepting, clock):
    fast = generic(httpserver, "Fast")
    slow = generic(httpserver, "Slow")
    blind = generic(httpserver, "Blind", callbacks=False)
    idle = generic(httpserver, "Idle")
    fast_messages = messages_of(send(fast, 4))
    slow_messages = messages_of(send(slow, 2))
    send(blind, 5)
    deliver_after(client, fast, fast_messages[:3], [1, 2, 8])
    deliver_after(client, slow, slow_messages, [30, 600])
    post(client, fast, clicked(fast_messages[0], epoch(NOON) + 60))

    rows = {row.provider.nickname: row for row in provider_comparison(WEEK)}

    assert set(rows) == {"Fast", "Slow", "Blind", "Idle"}
    summary = {
        name: (
            row.figures.totals.sent,
            row.figures.totals.delivered,
            row.figures.delivery_rate,
            row.figures.ctr,
            row.latency,
        )
        for name, row in rows.items()
    }
    assert summary == {
        "Fast": (4, 3, 75.0, 33.33, Latency(2.0, 10.0, 3)),
        "Slow": (2, 2, 100.0, 0.0, Latency(30.0, 600.0, 2)),
        "Blind": (5, 0, 0.0, 0.0, Latency(None, None, 0)),
        "Idle": (0, 0, 0.0, 0.0, Latency(None, None, 0)),
    }
    # The same figures as each provider's own Stats tab.
    for provider in (fast, slow, blind, idle):
        assert rows[provider.nickname].figures == week_of(provider)
        assert rows[provider.nickname].latency == latency(Scope(provider=provider), WEEK)
