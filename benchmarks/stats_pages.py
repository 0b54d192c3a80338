"""Stats cost against message volume (SPEC §7: a stats page costs the same for a thousand
and for ten million messages): seed N messages over 90 days, build the rollups, then time
the stats data layer and, when they exist, the two Stats pages for a 90-day range.

    BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/smshub_bench \\
        .venv/bin/python -m benchmarks.stats_pages [--quick]

B5: 10,000 then 2,000,000 messages (--quick: 200,000); the pages at 10,000 are the
baseline. Needs PostgreSQL (the messages are loaded with COPY). It empties the campaigns,
providers, events and rollups of the database it uses: never point it at real data.
"""

from __future__ import annotations

import math
import random
import statistics
import sys
import time
import warnings
from datetime import datetime, timedelta

from benchmarks.common import configure, provider_for
from benchmarks.report import Row, emit

DAYS = 90
CAMPAIGNS_PER_DAY = 2
RUNS = 9
ADMIN = "bench-admin"

# Message fates, as shares of all messages (the rest is sent with no report).
SKIPPED, DISPATCH_ERROR = 0.02, 0.04
DELIVERED, FAILED = 0.88, 0.08  # of the sent
CLICKED, REPLIED = 0.07, 0.01  # of the delivered / of the sent
DISPATCH_REASONS = (("rejected", 400), ("retries_exhausted", 503), ("outcome_unknown", None))
FAILURE_CODES = ("901", "905", "910", "914", "914", "916", "30003", "30006")

MESSAGE_COLUMNS = (
    "campaign_id", "provider_id", "to", "values", "state", "reason", "attempts",
    "next_attempt_at", "first_attempt_at", "last_attempt_at", "last_status", "last_error",
    "provider_message_id", "sent_at", "outcome", "outcome_at", "delivered_at", "failed_at",
    "failure_code", "first_clicked_at", "created_at",
)  # fmt: skip
EVENT_COLUMNS = (
    "provider_id", "message_id", "campaign_id", "type", "ts", "received_at", "meta", "code",
    "description", "url", "short_url", "text", "phone", "properties", "dedup_key",
)  # fmt: skip


# --- seeding -------------------------------------------------------------------------------------
def empty() -> None:
    """Everything this benchmark (and the others) may have left: TRUNCATE, since deleting two
    million messages row by row would take longer than seeding them."""
    from django.db import connection

    from callbacks.models import CallbackRequest, Event
    from campaigns.models import Campaign, Message
    from providers.models import Provider
    from stats.models import DailyError, DailyLatency, DailyStat

    models = (DailyStat, DailyError, DailyLatency, Event, CallbackRequest, Message, Campaign)
    tables = ", ".join(connection.ops.quote_name(m._meta.db_table) for m in models)
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")
    Provider.objects.all().delete()


def campaign_starts(today) -> list[datetime]:
    """Two campaigns a day over the 90 days before today, at 09:00 and 15:00 local time."""
    from django.utils import timezone

    starts = []
    for back in range(DAYS, 0, -1):
        day = today - timedelta(days=back)
        for hour in (9, 15)[:CAMPAIGNS_PER_DAY]:
            starts.append(timezone.make_aware(datetime(day.year, day.month, day.day, hour)))
    return starts


def seed(count: int):
    """One provider, 180 campaigns and `count` messages with their fates written directly
    (sent_at, delivered_at, failed_at and failure_code, first_clicked_at…), plus click and
    reply events, all with COPY. Returns (provider, campaigns, number of events)."""
    from django.db import connection
    from django.utils import timezone

    from callbacks.models import Event
    from campaigns.models import Campaign, CampaignStatus, Message

    rng = random.Random(20260314)
    provider = provider_for("https://provider.invalid/sms", batched=True)
    starts = campaign_starts(timezone.localdate())
    campaigns = Campaign.objects.bulk_create(
        Campaign(
            name=f"Campaign {n}", provider=provider, body="Sale: https://shop.example/sale",
            click_tracking=True, status=CampaignStatus.SENT, started_at=start,
            prepared_at=start, finished_at=start + timedelta(hours=8),
        )
        for n, start in enumerate(starts)
    )  # fmt: skip
    per_campaign = math.ceil(count / len(campaigns))
    events = []
    qn = connection.ops.quote_name
    message_table = qn(Message._meta.db_table)
    with connection.cursor() as cursor:
        # The table was emptied with RESTART IDENTITY: the messages get ids 1 to count, in
        # order, so their events can be made in the same pass.
        copy_messages = f"COPY {message_table} ({', '.join(map(qn, MESSAGE_COLUMNS))}) FROM STDIN"
        with cursor.copy(copy_messages) as copy:
            for i in range(count):
                campaign_id = campaigns[i // per_campaign].pk
                row = message_row(rng, i, provider.pk, campaign_id, starts[i // per_campaign])
                copy.write_row(row)
                events += event_rows(rng, i + 1, row)
        cursor.execute(f"SELECT min(id), max(id) FROM {message_table}")
        assert cursor.fetchone() == (1, count), "message ids are not 1 to count"
        event_table = qn(Event._meta.db_table)
        copy_events = f"COPY {event_table} ({', '.join(map(qn, EVENT_COLUMNS))}) FROM STDIN"
        with cursor.copy(copy_events) as copy:
            for n, row in enumerate(events):
                copy.write_row((*row, f"bench-{n}"))
        cursor.execute(f"ANALYZE {message_table}")
        cursor.execute(f"ANALYZE {event_table}")
    return provider, campaigns, len(events)


def message_row(rng: random.Random, i: int, provider_id: int, campaign_id: int, start):
    """One message's columns: skipped, a dispatch error, or sent with its reports."""
    attempt = start + timedelta(seconds=rng.uniform(0, 8 * 3600))
    state, reason, attempts, status, error = "sent", "", 1, 200, ""
    first_attempt = last_attempt = attempt
    sent_at = outcome_at = delivered_at = failed_at = first_click = None
    outcome = code = ""
    roll = rng.random()
    if roll < SKIPPED:
        state, reason, attempts, status = "skipped", "opted_out", 0, None
        first_attempt = last_attempt = None
    elif roll < SKIPPED + DISPATCH_ERROR:
        state = "dispatch_error"
        reason, status = rng.choice(DISPATCH_REASONS)
        attempts = 5 if reason == "retries_exhausted" else 1
        first_attempt = attempt - timedelta(minutes=13 if attempts == 5 else 0)
        error = f"HTTP {status}: refused" if status else "No outcome was recorded"
    else:
        sent_at = attempt
        report = rng.random()
        if report < DELIVERED:
            # Seconds for most, minutes for some, hours for a few: a long-tailed latency.
            delivered_at = sent_at + timedelta(seconds=rng.lognormvariate(math.log(4), 1.3))
            outcome, outcome_at = "delivered", delivered_at
            if rng.random() < CLICKED:
                first_click = delivered_at + timedelta(seconds=rng.expovariate(1 / 1800))
        elif report < DELIVERED + FAILED:
            failed_at = sent_at + timedelta(seconds=rng.lognormvariate(math.log(30), 1.5))
            code = rng.choice(FAILURE_CODES)
            outcome, outcome_at = "failed", failed_at
    return (
        campaign_id, provider_id, f"+1415{i:07d}", None, state, reason, attempts, None,
        first_attempt, last_attempt, status, error, "", sent_at, outcome, outcome_at,
        delivered_at, failed_at, code, first_click, start,
    )  # fmt: skip


SENT_AT, DELIVERED_AT, CLICKED_AT = (
    MESSAGE_COLUMNS.index(c) for c in ("sent_at", "delivered_at", "first_clicked_at")
)


def event_rows(rng: random.Random, message_id: int, message: tuple) -> list[tuple]:
    """A sent message's events: its clicks if it was clicked (1 to 3, the first at
    first_clicked_at) and, for some, a reply. Delivery and failure events are left out:
    stats never read them."""
    campaign_id, provider_id = message[:2]
    sent_at, delivered_at, first_click = (
        message[SENT_AT],
        message[DELIVERED_AT],
        message[CLICKED_AT],
    )
    if sent_at is None:
        return []
    url = "https://shop.example/sale"
    rows = []
    if first_click is not None:
        clicks = 1 + (rng.random() < 0.3) + (rng.random() < 0.1)
        at = first_click
        for _ in range(clicks):
            rows.append((provider_id, message_id, campaign_id, "clicked", at, at, "", "", "",
                         url, "", "", "", "{}"))  # fmt: skip
            at += timedelta(seconds=rng.expovariate(1 / 600))
    if rng.random() < REPLIED:
        at = (delivered_at or sent_at) + timedelta(seconds=rng.expovariate(1 / 3600))
        text = "STOP" if rng.random() < 0.2 else "Thanks!"
        rows.append((provider_id, message_id, campaign_id, "replied", at, at, "", "", "", "",
                     "", text, "", "{}"))  # fmt: skip
    return rows


# --- timing --------------------------------------------------------------------------------------
def median_ms(call, runs: int = RUNS) -> float:
    call()  # warm: connection, query plans, template loading
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


PAGES = {
    "page: provider Stats tab": "/settings/channels/sms/providers/{provider}/stats/?days={days}",
    "page: campaign Stats tab": "/campaigns/{campaign}/stats/?days={days}",
}


def admin_client():
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.test import Client, override_settings

    from accounts.roles import ADMIN as ADMIN_ROLE
    from accounts.users import create_user

    warnings.filterwarnings("ignore", message="No directory at")  # whitenoise: STATIC_ROOT
    # The test client's host, and static files from the source folders (no collectstatic).
    override_settings(
        ALLOWED_HOSTS=[*settings.ALLOWED_HOSTS, "testserver"],
        STORAGES={
            **settings.STORAGES,
            "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
        },
    ).enable()
    get_user_model().objects.filter(username=ADMIN).delete()
    user = create_user(ADMIN, "bench@example.com", "x", ADMIN_ROLE, validate=False)
    client = Client()
    client.force_login(user)
    return client


def measure(provider, campaign) -> dict[str, float]:
    from django.utils import timezone

    from stats import figures as stats

    span = stats.DateRange.last(DAYS, timezone.localdate())
    scope = stats.Scope(provider=provider)
    calls = {
        "figures()": lambda: stats.figures(scope, span),
        "daily()": lambda: stats.daily(scope, span, has_callbacks=True),
        "errors()": lambda: stats.errors(scope, span),
        "latency()": lambda: stats.latency(scope, span),
        "provider_comparison()": lambda: stats.provider_comparison(span),
        "figures(campaign)": lambda: stats.figures(stats.Scope(campaign=campaign), span),
    }
    result = {label: median_ms(call) for label, call in calls.items()}
    client = admin_client()
    for label, path in PAGES.items():
        path = path.format(provider=provider.pk, campaign=campaign.pk, days=DAYS)

        def get(path=path):
            response = client.get(path)
            assert response.status_code == 200, (path, response.status_code)

        result[label] = median_ms(get)
    return result


def run(count: int) -> dict[str, float]:
    from django.db import transaction
    from django.utils import timezone

    from campaigns.models import Message
    from stats import rebuild
    from stats.figures import DateRange, Scope, figures
    from stats.models import DailyError, DailyLatency, DailyStat

    empty()
    started = time.perf_counter()
    provider, campaigns, events = seed(count)
    seeded = time.perf_counter() - started
    started = time.perf_counter()
    with transaction.atomic():
        rebuild.rebuild()
    rebuilt = time.perf_counter() - started
    rows = (DailyStat.objects.count(), DailyError.objects.count(), DailyLatency.objects.count())
    today = timezone.localdate()
    span = DateRange(today - timedelta(days=DAYS), today + timedelta(days=1))
    totals = figures(Scope(provider=provider), span).totals
    assert totals.sent == Message.objects.filter(state="sent").count()
    print(
        f"\n{count:,} messages, {events:,} click/reply events: seeded in {seeded:.1f} s, "
        f"rollups rebuilt in {rebuilt:.1f} s ({rows[0]:,} daily, {rows[1]:,} error, "
        f"{rows[2]:,} latency rows); sent {totals.sent:,}, delivered {totals.delivered:,}, "
        f"errors {totals.errors:,}, clicks {totals.clicks:,}"
    )
    middle = campaigns[len(campaigns) // 2]
    return measure(provider, middle)


def report(results: dict[str, dict[str, float]]) -> None:
    """Median times per size, and the largest size's over the smallest's."""
    sizes = list(results)
    header = "".join(f"{int(size):>14,}" for size in sizes)
    print(f"\nmedian of {RUNS} runs, ms, 90-day range{'':8}{header}  ratio")
    for label in results[sizes[-1]]:
        times = [results[size][label] for size in sizes]
        cells = "".join(f"{t:>14.2f}" for t in times)
        print(f"{label:45}{cells}  {times[-1] / times[0]:5.2f}x")


def main() -> None:
    sizes = [10_000, 200_000 if "--quick" in sys.argv else 2_000_000]
    configure()
    from django.db import connection

    if connection.vendor != "postgresql":
        sys.exit("Set BENCH_DATABASE_URL to a PostgreSQL database (the seeding uses COPY).")
    print(f"database: {connection.settings_dict['NAME']} ({connection.vendor})")
    results = {str(size): run(size) for size in sizes}
    report(results)
    small, large = (results[str(size)] for size in sizes)
    rows = []
    for label in PAGES:
        ours, baseline = large[label], small[label]
        rows.append(
            Row(
                "B5",
                f"{label.removeprefix('page: ')}, 90 days, {sizes[1]:,} vs {sizes[0]:,} messages",
                ours,
                baseline,
                "ms",
                "time ratio ≤ 1.5; server time < 50 ms",
                ours / baseline <= 1.5 and ours < 50,
                f"median of {RUNS} requests through Django's test client",
            )
        )
    emit(rows)


if __name__ == "__main__":
    main()
