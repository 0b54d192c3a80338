"""Creating the messages of a 1,000,000-contact campaign (one INSERT … SELECT), against a
psycopg COPY of the same rows as the baseline.

    BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/smshub_bench \\
        .venv/bin/python -m benchmarks.create_messages [--quick]     # B6; --quick: 200,000

Needs PostgreSQL (COPY is the baseline). It deletes every campaign, audience and opt-out of the
database it uses: never point it at real data.
"""

from __future__ import annotations

import json
import sys
import time

from benchmarks.common import configure, provider_for
from benchmarks.report import Row, emit, peak_rss_mb

CONTACTS = 1_000_000
QUICK = 200_000
PEAK_MB = 300


def seed_audience(count: int):
    """An audience of `count` contacts, 1 % of them opted out, loaded with COPY."""
    from django.db import connection
    from django.utils import timezone

    from audiences.models import Audience, Contact, OptOut

    audience = Audience.objects.create(name=f"Bench {time.time_ns()}", contact_count=count)
    now = timezone.now()
    with (
        connection.cursor() as cursor,
        cursor.copy(
            f"COPY {Contact._meta.db_table} (audience_id, phone, attributes, created_at) FROM STDIN"
        ) as copy,
    ):
        for i in range(count):
            attributes = json.dumps({"first_name": f"Name{i}", "city": "Lyon"})
            copy.write_row((audience.pk, f"+1415{i:07d}", attributes, now))
    OptOut.objects.bulk_create(
        OptOut(phone=f"+1415{i:07d}", opted_out_at=now) for i in range(0, count, 100)
    )
    return audience


def copy_baseline(campaign, count: int) -> float:
    """The same rows written by COPY: what the database itself can take."""
    from django.db import connection
    from django.utils import timezone

    from campaigns.models import Message

    now = timezone.now()
    columns = (
        'campaign_id, provider_id, "to", "values", state, reason, attempts, '
        "next_attempt_at, last_error, provider_message_id, outcome, failure_code, created_at"
    )
    started = time.perf_counter()
    with (
        connection.cursor() as cursor,
        cursor.copy(f"COPY {Message._meta.db_table} ({columns}) FROM STDIN") as copy,
    ):
        for i in range(count):
            attributes = json.dumps({"first_name": f"Name{i}", "city": "Lyon"})
            copy.write_row(
                (campaign.pk, campaign.provider_id, f"+1415{i:07d}", attributes, "queued",
                 "", 0, now, "", "", "", "", now)
            )  # fmt: skip
    return time.perf_counter() - started


def main() -> None:
    count = QUICK if "--quick" in sys.argv else CONTACTS
    configure()
    from django.db import connection, transaction
    from django.utils import timezone

    from audiences.models import Audience, OptOut
    from benchmarks.stub_provider import StubProvider
    from campaigns.message_writes import insert_messages_from_audience
    from campaigns.models import Campaign, CampaignStatus, Message

    if connection.vendor != "postgresql":
        sys.exit("Set BENCH_DATABASE_URL to a PostgreSQL database (COPY is the baseline).")
    Campaign.objects.all().delete()
    Audience.objects.all().delete()
    OptOut.objects.all().delete()
    stub = StubProvider()
    provider = provider_for(stub.url, batched=True)
    audience = seed_audience(count)

    def campaign():
        return Campaign.objects.create(
            name="bench", provider=provider, audience=audience, body="Hi {first_name}",
            status=CampaignStatus.SENDING,
        )  # fmt: skip

    ours = campaign()
    started = time.perf_counter()
    with transaction.atomic():
        created = insert_messages_from_audience(ours, timezone.now())
    elapsed = time.perf_counter() - started
    skipped = Message.objects.filter(campaign=ours, state="skipped").count()
    baseline = copy_baseline(campaign(), count)
    peak_mb = peak_rss_mb()
    print(f"messages created: {created:,} ({skipped:,} skipped as opted out)")
    print(f"INSERT … SELECT : {elapsed:6.2f} s  {created / elapsed:>10,.0f} rows/s")
    print(f"COPY (baseline) : {baseline:6.2f} s  {count / baseline:>10,.0f} rows/s")
    ours_rate, copy_rate = created / elapsed, count / baseline
    emit(
        [
            Row(
                "B6",
                f"creating the messages of a {count:,}-contact campaign",
                ours_rate,
                copy_rate,
                "rows/s",
                f"≥ 0.5x COPY; peak memory < {PEAK_MB} MB",
                ours_rate / copy_rate >= 0.5 and peak_mb < PEAK_MB,
                f"{elapsed:.1f} s vs {baseline:.1f} s; peak memory {peak_mb:.0f} MB",
            )
        ]
    )
    stub.close()


if __name__ == "__main__":
    main()
