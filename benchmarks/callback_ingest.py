"""B3, callback ingest: 100-event generic callbacks (half of them repeats of earlier ones)
posted by 8 concurrent clients to the hub served by gunicorn, as a provider would; against a
baseline view, served the same way, that only parses and validates the JSON.

    BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/smshub_bench \\
        .venv/bin/python -m benchmarks.callback_ingest [--quick]

1,500 requests (400 with --quick), plus a warm-up. It empties the campaigns of the database
it uses: never point it at real data.
"""

from __future__ import annotations

import json
import statistics
import sys

from benchmarks.common import analyze, configure, provider_for
from benchmarks.http_load import CLIENTS, Post, free_port, measure
from benchmarks.report import Row, emit

EVENTS_PER_REQUEST = 100
REQUESTS = {"full": 1500, "quick": 400}
WARMUP = 4 * CLIENTS
REPEAT_LAG = 4 * CLIENTS
TARGET_RATE, TARGET_P99_MS = 40_000, 100


def seed(count: int):
    """A provider and a campaign of `count` sent messages; returns (token, message ids)."""
    from campaigns.models import Campaign, Message

    provider = provider_for("https://provider.invalid/sms", batched=True)
    campaign = Campaign.objects.create(name="ingest", provider=provider, body="Hi")
    Message.objects.bulk_create(
        (
            Message(campaign=campaign, provider=provider, to=f"+1415{i:07d}", state="sent")
            for i in range(count)
        ),
        batch_size=5000,
    )
    ids = list(Message.objects.filter(campaign=campaign).values_list("id", flat=True))
    analyze()
    return provider.callback_token, ids


def payloads(ids: list[int], requests_count: int) -> list[bytes]:
    """Each request: 50 events seen for the first time and 50 repeats of the events of an
    earlier request, REPEAT_LAG requests back (a provider's retry comes after its
    timeout, not while the first copy is still being stored); the first requests repeat
    their own events."""
    from providers import message_ids

    fresh = EVENTS_PER_REQUEST // 2
    bodies, sent = [], []
    for n in range(requests_count):
        new = [
            {"ts": 1_700_000_000 + n, "meta": message_ids.sign(i), "description": "Delivered"}
            for i in ids[n * fresh : (n + 1) * fresh]
        ]
        sent.append(new)
        repeats = sent[n - REPEAT_LAG if n >= REPEAT_LAG else n]
        bodies.append(json.dumps([{"event": "delivered", "data": new + repeats}]).encode())
    return bodies


def compare(posts: list[Post], baseline_path, what: str) -> tuple:
    """Ours and the baseline on the same requests (the baseline's path from ours), printed;
    fails if an event was lost or counted twice. `what` names the items of a request."""
    from django.db import connection

    from callbacks.models import Event

    connection.close()
    warmup, timed = posts[:WARMUP], posts[WARMUP:]
    ours = measure("smshub.wsgi", free_port(), warmup, timed, lambda path: path)
    baseline = measure("benchmarks.baseline_wsgi", free_port(), warmup, timed, baseline_path)
    print(f"database: {connection.vendor}; gunicorn 2 workers x 4 threads; {CLIENTS} clients")
    print(
        f"requests: {len(timed):,} of {EVENTS_PER_REQUEST} {what}, half repeats (+{WARMUP} warm-up)"
    )
    for label, run in (("ours", ours), ("baseline", baseline)):
        print(
            f"{label + ':':9} {run.rate * EVENTS_PER_REQUEST:,.0f} {what}/s "
            f"({run.rate:,.0f} requests/s), p50 {statistics.median(run.latencies) * 1000:.0f} ms, "
            f"p99 {run.percentile(0.99) * 1000:.0f} ms, failed {len(run.failures)}"
            + (f" (first: {run.failures[0]})" if run.failures else "")
        )
    stored, expected = Event.objects.count(), len(posts) * EVENTS_PER_REQUEST // 2
    print(f"events stored: {stored:,} (expected {expected:,}: a repeat counts once)")
    assert stored == expected, "events lost or counted twice"
    return ours, baseline


def main() -> None:
    count = REQUESTS["quick" if "--quick" in sys.argv else "full"]
    configure()
    from campaigns.models import Campaign

    Campaign.objects.all().delete()
    token, ids = seed((WARMUP + count) * EVENTS_PER_REQUEST // 2)
    headers = {"Content-Type": "application/json"}
    posts = [
        Post(f"/callbacks/sms/{token}/", body, headers) for body in payloads(ids, WARMUP + count)
    ]
    ours, baseline = compare(posts, lambda path: path, "events")
    rate, p99 = ours.rate * EVENTS_PER_REQUEST, ours.percentile(0.99) * 1000
    emit(
        [
            Row(
                "B3",
                "generic callbacks, 100-event arrays, 50 % repeats, 8 clients, gunicorn 2x4",
                rate,
                baseline.rate * EVENTS_PER_REQUEST,
                "events/s",
                f"≥ {TARGET_RATE:,} events/s; p99 < {TARGET_P99_MS} ms",
                rate >= TARGET_RATE and p99 < TARGET_P99_MS and not ours.failures,
                f"p99 {p99:.0f} ms (baseline {baseline.percentile(0.99) * 1000:.0f} ms); "
                "baseline parses and validates the JSON only",
            )
        ]
    )


if __name__ == "__main__":
    main()
