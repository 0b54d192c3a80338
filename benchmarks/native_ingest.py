"""B3n, native delivery reports (SPEC §5.3): Infobip-shaped reports, 100 per request (half of
them repeats of earlier ones), posted by 8 concurrent clients to the hub served by gunicorn
and read by a Generic provider's Delivery reports mapping; against a baseline view, served
the same way, that only decodes the JSON and reads its items with the same mapping.

    BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/smshub_bench \\
        .venv/bin/python -m benchmarks.native_ingest [--quick]

It rides the same set-based ingest as B3, so its ratio sits next to B3's. It empties the
campaigns of the database it uses: never point it at real data.
"""

from __future__ import annotations

import json
import sys

from benchmarks.callback_ingest import (
    EVENTS_PER_REQUEST,
    REPEAT_LAG,
    REQUESTS,
    WARMUP,
    compare,
    seed,
)
from benchmarks.common import configure
from benchmarks.http_load import Post
from benchmarks.report import Row, emit

NATIVE_PATH = "/callbacks/native/{token}/"  # the baseline's (benchmarks/baseline_urls.py)


def reports(ids: list[int], requests_count: int) -> list[bytes]:
    """Each request: 50 reports seen for the first time and 50 repeats of an earlier
    request's, REPEAT_LAG requests back (the first requests repeat their own)."""
    from providers import message_ids

    fresh = EVENTS_PER_REQUEST // 2
    bodies, sent = [], []
    for n in range(requests_count):
        new = [
            {
                "messageId": f"ib-{i}",
                "to": f"1415{i:07d}",
                "callbackData": message_ids.sign(i),
                "doneAt": "2026-11-30T16:00:00.000+0100",
                "status": {"groupId": 3, "groupName": "DELIVERED"},
                "error": {"groupId": 0, "id": 0, "name": "NO_ERROR"},
            }
            for i in ids[n * fresh : (n + 1) * fresh]
        ]
        sent.append(new)
        repeats = sent[n - REPEAT_LAG if n >= REPEAT_LAG else n]
        bodies.append(json.dumps({"results": new + repeats}).encode())
    return bodies


def main() -> None:
    count = REQUESTS["quick" if "--quick" in sys.argv else "full"]
    configure()
    from campaigns.models import Campaign
    from providers.models import Provider
    from sandbox.native import MAPPING

    Campaign.objects.all().delete()
    token, ids = seed((WARMUP + count) * EVENTS_PER_REQUEST // 2)
    provider = Provider.objects.get(callback_token=token)
    provider.config.update(MAPPING)
    provider.save()
    headers = {"Content-Type": "application/json"}
    posts = [
        Post(f"/callbacks/sms/{token}/", body, headers) for body in reports(ids, WARMUP + count)
    ]
    ours, baseline = compare(posts, lambda path: NATIVE_PATH.format(token=token), "reports")
    p99 = ours.percentile(0.99) * 1000
    emit(
        [
            Row(
                "B3n",
                "native reports, Infobip-shaped, 100 per request, 50 % repeats, 8 clients",
                ours.rate * EVENTS_PER_REQUEST,
                baseline.rate * EVENTS_PER_REQUEST,
                "reports/s",
                "nothing lost or counted twice; ratio beside B3's (same ingest)",
                not ours.failures,
                f"p99 {p99:.0f} ms (baseline {baseline.percentile(0.99) * 1000:.0f} ms); "
                "baseline decodes the JSON and reads its items with the mapping only",
            )
        ]
    )


if __name__ == "__main__":
    main()
