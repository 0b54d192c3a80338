"""B1 and B2: sending throughput of a real Celery worker (2 processes) against a local
keep-alive stub provider, and of two bare loops doing the same work as the baseline.

    BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/smshub_bench \\
        .venv/bin/python -m benchmarks.dispatch_throughput [--quick]

B1 sends 200,000 messages batched 1000 per JSON request, B2 20,000 messages one request
each. Ours: `celery worker --concurrency 2` on Redis (BENCH_BROKER_URL, default db 15),
claim + render + POST + outcome writes + rollups as in production. Baseline: two processes,
each a bare loop of raw SQL (claim with SKIP LOCKED, mark sent, add to the day's rollup)
around a plain requests.Session. Never run it against a real database: it deletes every
campaign of the database it uses.
"""

from __future__ import annotations

import multiprocessing
import os
import random
import sys
import time
import uuid

from benchmarks.common import BROKER, analyze, configure, provider_for, start_worker, stop_worker
from benchmarks.report import Row, emit

BODY = "Hi {first_name|there}, your code is 123456. Reply STOP to opt out."
PROCESSES = 2
BATCH = 1000
ROUNDS = 2
SIZES = {"full": (200_000, 20_000), "quick": (40_000, 4_000)}
QUEUE = f"bench-{uuid.uuid4().hex[:8]}"


def sending_campaign(stub_url: str, batched: bool, count: int):
    """A campaign in Sending with `count` queued messages, planner statistics fresh."""

    from campaigns import services
    from campaigns.models import Campaign, CampaignStatus

    campaign = Campaign.objects.create(
        name="bench",
        provider=provider_for(stub_url, batched),
        body=BODY,
        status=CampaignStatus.SENDING,
    )
    services.queue_messages(campaign, ((f"+1415{i:07d}", None) for i in range(count)))
    analyze()
    return campaign


def unsent(campaign) -> int:
    from campaigns.models import Message, MessageState

    return (
        Message.objects.filter(campaign=campaign)
        .filter(state__in=[MessageState.QUEUED, MessageState.SENDING])
        .count()
    )


# --- ours: a real worker -------------------------------------------------------------------------
def send_with_worker(campaign, timeout: float = 600) -> float:
    """Seconds from enqueueing the campaign's ranges to its last message sent."""
    from campaigns import services

    started = time.perf_counter()
    services.enqueue(campaign.pk)
    deadline = started + timeout
    while unsent(campaign):
        if time.perf_counter() > deadline:
            sys.exit(f"the worker did not finish campaign {campaign.pk} in {timeout:.0f} s")
        time.sleep(0.02)
    return time.perf_counter() - started


# --- baseline: two bare loops ----------------------------------------------------------------
CLAIM = (
    "UPDATE campaigns_message SET state = 'sending', next_attempt_at = NULL, "
    "attempts = attempts + 1, last_attempt_at = now() WHERE id IN ("
    "SELECT id FROM campaigns_message WHERE campaign_id = %s AND next_attempt_at <= now() "
    'ORDER BY id LIMIT %s FOR UPDATE SKIP LOCKED) RETURNING id, "to"'
)
MARK_SENT = (
    "UPDATE campaigns_message SET state = 'sent', sent_at = now(), last_status = 200 "
    "WHERE id = ANY(%s)"
)


def bare_loop(dsn: str, url: str, campaign_id: int, provider_id: int, batched: bool) -> None:
    """Claim a group, render it, POST it, mark it sent and count it: no framework at all."""
    import psycopg
    import requests
    from django.conf import settings

    from providers import message_ids
    from stats.models import COUNTERS, ROLLUP_SHARDS

    columns = ", ".join(COUNTERS)
    others = ", ".join(["0"] * (len(COUNTERS) - 1))
    rollup = (
        f"INSERT INTO stats_dailystat (provider_id, campaign_id, day, shard, {columns}) "
        f"VALUES (%s, %s, current_date, %s, %s, {others}) "
        "ON CONFLICT (campaign_id, day, shard) "
        "DO UPDATE SET sent = stats_dailystat.sent + EXCLUDED.sent"
    )  # "sent" is the first counter; one of the shards, as ours
    session = requests.Session()
    text = BODY.replace("{first_name|there}", "there")
    with psycopg.connect(dsn) as conn:
        while True:
            with conn.transaction():
                group = BATCH if batched else settings.DISPATCH_GROUP_SIZE  # as ours claims
                rows = conn.execute(CLAIM, (campaign_id, group)).fetchall()
            if not rows:
                return
            records = [{"to": to, "text": text, "ref": message_ids.sign(id)} for id, to in rows]
            if batched:
                session.post(url, json={"from": "HUB", "messages": records}).raise_for_status()
            else:
                for record in records:
                    session.post(url, json=record).raise_for_status()
            with conn.transaction():
                conn.execute(MARK_SENT, ([id for id, _ in rows],))
                shard = random.randrange(ROLLUP_SHARDS)
                conn.execute(rollup, (provider_id, campaign_id, shard, len(rows)))


def send_bare(campaign, url: str) -> float:
    from django.db import connection

    dsn = os.environ["DATABASE_URL"]
    connection.close()  # not shared with the forked processes
    batched = bool(campaign.provider.config.get("batching"))
    args = (dsn, url, campaign.pk, campaign.provider_id, batched)
    started = time.perf_counter()
    processes = [multiprocessing.Process(target=bare_loop, args=args) for _ in range(PROCESSES)]
    for process in processes:
        process.start()
    for process in processes:
        process.join()
    elapsed = time.perf_counter() - started
    assert not unsent(campaign), "the bare loops left messages unsent"
    return elapsed


# --- the run -----------------------------------------------------------------------------------
def measure(stub, batched: bool, count: int) -> tuple[float, float, int, int]:
    """(ours msg/s, baseline msg/s, requests the stub saw from ours, connections of ours);
    each the best of ROUNDS runs, taken in turns, so that a stray autovacuum or a busy core
    weighs on neither side alone."""
    ours = baseline = 0.0
    for _ in range(ROUNDS):
        bare = sending_campaign(stub.url, batched, count)
        baseline = max(baseline, count / send_bare(bare, stub.url))
        campaign = sending_campaign(stub.url, batched, count)
        requests_before, connections_before = stub.requests, stub.connections
        ours = max(ours, count / send_with_worker(campaign))
        requests = stub.requests - requests_before
        connections = stub.connections - connections_before
    return ours, baseline, requests, connections


def main() -> None:
    quick = "--quick" in sys.argv
    os.environ["CELERY_BROKER_URL"] = BROKER
    os.environ["CELERY_QUEUE"] = QUEUE
    configure()
    from django.db import connection

    from benchmarks.stub_provider import StubProvider
    from campaigns.models import Campaign

    if connection.vendor != "postgresql":
        sys.exit("B1 and B2 need PostgreSQL: set BENCH_DATABASE_URL")
    Campaign.objects.all().delete()
    stub = StubProvider()
    worker = start_worker(QUEUE, PROCESSES)
    try:
        for batched in (True, False):  # warm-up: the worker's processes start and connect
            send_with_worker(sending_campaign(stub.url, batched, 2 * BATCH))
        batched_count, unbatched_count = SIZES["quick" if quick else "full"]
        b1 = measure(stub, True, batched_count)
        b2 = measure(stub, False, unbatched_count)
    finally:
        stop_worker(worker, QUEUE)
        stub.close()
    print(f"database: PostgreSQL; worker: celery --concurrency {PROCESSES}; stub at {stub.url}")
    ratio_1, ratio_2 = b1[0] / b1[1], b2[0] / b2[1]
    emit(
        [
            Row(
                "B1",
                f"batched JSON send, {BATCH} per request, {batched_count:,} messages",
                b1[0],
                b1[1],
                "msg/s",
                "≥ 0.5x and ≥ 10,000 msg/s",
                ratio_1 >= 0.5 and b1[0] >= 10_000,
                f"{b1[2]} requests",
            ),
            Row(
                "B2",
                f"unbatched send, {unbatched_count:,} messages",
                b2[0],
                b2[1],
                "msg/s",
                "≥ 0.7x and ≥ 1,000 msg/s; one TCP connection per worker process",
                ratio_2 >= 0.7 and b2[0] >= 1_000 and b2[3] <= PROCESSES,
                f"{b2[2]:,} requests over {b2[3]} TCP connections from {PROCESSES} processes",
            ),
        ]
    )


if __name__ == "__main__":
    main()
