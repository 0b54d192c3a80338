"""Callback ingest rate: 100-event generic callbacks (half of them duplicates) posted by
8 concurrent clients to the hub served by gunicorn, as a provider would.

    BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/smshub_bench \\
        .venv/bin/python -m benchmarks.callback_ingest [REQUESTS]

It empties the campaigns of the database it uses: never point it at real data.
"""

from __future__ import annotations

import json
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

import requests

from benchmarks.dispatch_throughput import configure, provider_for

ROOT = Path(__file__).resolve().parents[1]
EVENTS_PER_REQUEST = 100
CLIENTS = 8
REQUESTS = 400


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


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


def analyze() -> None:
    """What autovacuum does on a live system: fresh planner statistics after a bulk load."""
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")


def payloads(ids: list[int], requests_count: int) -> list[bytes]:
    """Each request: 50 events seen for the first time and 50 repeats of earlier ones."""
    from providers import message_ids

    fresh = EVENTS_PER_REQUEST // 2
    bodies, sent = [], []
    for n in range(requests_count):
        new = [
            {"ts": 1_700_000_000 + n, "meta": message_ids.sign(i), "description": "Delivered"}
            for i in ids[n * fresh : (n + 1) * fresh]
        ]
        repeats = (sent[-fresh:] if len(sent) >= fresh else new)[: EVENTS_PER_REQUEST - fresh]
        sent += new
        bodies.append(json.dumps([{"event": "delivered", "data": new + repeats}]).encode())
    return bodies


def serve(port: int) -> subprocess.Popen:
    env = {
        **os.environ,
        "ALLOWED_HOSTS": "127.0.0.1",
        "SITE_URL": f"http://127.0.0.1:{port}",
        "LOG_LEVEL": "WARNING",
    }
    command = [
        str(ROOT / ".venv/bin/gunicorn"), "smshub.wsgi", "--bind", f"127.0.0.1:{port}",
        "--workers", os.environ.get("BENCH_WORKERS", "2"),
        "--threads", os.environ.get("BENCH_THREADS", "4"), "--log-level", "warning",
    ]  # fmt: skip
    server = subprocess.Popen(command, cwd=ROOT, env=env)
    for _ in range(100):
        try:
            requests.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
            return server
        except requests.ConnectionError:
            time.sleep(0.1)
    server.kill()
    sys.exit("gunicorn did not start")


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else REQUESTS
    configure()
    from django.db import connection

    from callbacks.models import Event
    from campaigns.models import Campaign

    Campaign.objects.all().delete()
    token, ids = seed(count * EVENTS_PER_REQUEST // 2)
    bodies = payloads(ids, count)
    connection.close()
    port = free_port()
    server = serve(port)
    url = f"http://127.0.0.1:{port}/callbacks/sms/{token}/"
    latencies: list[float] = []
    failures: list[int] = []
    queue = list(reversed(bodies))
    lock = threading.Lock()

    def client():
        session = requests.Session()
        while True:
            with lock:
                if not queue:
                    return
                body = queue.pop()
            started = time.perf_counter()
            response = session.post(url, data=body, headers={"Content-Type": "application/json"})
            elapsed = time.perf_counter() - started
            with lock:
                latencies.append(elapsed)
                if response.status_code != 200:
                    failures.append(response.status_code)

    started = time.perf_counter()
    threads = [threading.Thread(target=client) for _ in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    server.terminate()
    server.wait(10)

    events = count * EVENTS_PER_REQUEST
    latencies.sort()
    p99 = latencies[int(len(latencies) * 0.99) - 1]
    print(f"database: {connection.vendor}; gunicorn 2 workers x 4 threads; {CLIENTS} clients")
    print(f"requests: {count} of {EVENTS_PER_REQUEST} events (half duplicates), failed: {failures}")
    print(f"ingest:   {events / wall:,.0f} events/s ({count / wall:,.0f} requests/s)")
    print(f"latency:  p50 {statistics.median(latencies) * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms")
    stored = Event.objects.count()
    print(f"events stored: {stored:,} (expected {events // 2:,}: duplicates count once)")


if __name__ == "__main__":
    main()
