"""B7: a provider's rate limit (50 requests/s) shared by 4 worker processes for 60 s, as a
stub provider sees it; the baseline is the configured limit itself.

    BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/smshub_bench \\
        .venv/bin/python -m benchmarks.rate_limit [--quick]

A Generic provider with rate_limit=50, unbatched, and a Sending campaign with more queued
messages than the window can send (50 x 60 + 500), handed out by `campaigns.services.enqueue`
in ranges of 100 ids (DISPATCH_RANGE_SIZE) so that all four processes work throughout. Ours:
`celery worker --concurrency 4` (prefork) on Redis (BENCH_BROKER_URL, default db 15) against
the same PostgreSQL, pacing through providers/pacing.py. A local keep-alive stub records the
arrival time of every request. The window is 60 s (15 s with --quick) from the first
arrival; then the campaign is paused, the worker is stopped (SIGTERM, then its process
group) and its queue is purged.

Figures: the achieved rate (requests after the first one that arrived within the window,
over its length: the first opens the window, as the pacing's allowed burst), its ratio to
the limit, and the most requests in any one-second window (one starting at every arrival),
which must not exceed the limit plus that burst of one. Needs PostgreSQL and Redis. It
empties the campaigns of the database it uses: never point it at real data.
"""

from __future__ import annotations

import bisect
import contextlib
import os
import sys
import time
import uuid
from collections import Counter

from benchmarks.common import BROKER, configure, provider_for, start_worker, stop_worker
from benchmarks.report import Row, emit
from benchmarks.stub_provider import StubProvider, _Handler

LIMIT = 50.0  # requests per second
BURST = 1  # pacing.py: "plus the one whose slot starts it"
PROCESSES = 4
SECONDS = {"full": 60.0, "quick": 15.0}
MARGIN = 500  # messages beyond what the window can send: the workers never run dry
RANGE_SIZE = 100  # ids per task: 35 tasks for 4 processes
QUEUE = f"bench-rate-{uuid.uuid4().hex[:8]}"


# --- a stub that notes when each request arrives -------------------------------------------------
class _Timed(_Handler):
    def do_POST(self):
        self.server.arrivals.append((time.monotonic(), self.client_address[1]))
        super().do_POST()


class TimedStub(StubProvider):
    """The keep-alive stub, recording (arrival time, client port) per request; one client
    port is one keep-alive connection, i.e. one worker process."""

    def __init__(self):
        super().__init__()
        self.server.arrivals = []
        self.server.RequestHandlerClass = _Timed  # nothing has connected yet

    @property
    def arrivals(self) -> list[tuple[float, int]]:
        return list(self.server.arrivals)


# --- setup ---------------------------------------------------------------------------------------
def sending_campaign(provider, count: int):
    from django.db import connection

    from campaigns import services
    from campaigns.models import Campaign, CampaignStatus

    campaign = Campaign.objects.create(
        name="rate limit",
        provider=provider,
        body="Your code is 123456. Reply STOP to opt out.",
        status=CampaignStatus.SENDING,
    )
    services.queue_messages(campaign, ((f"+1415{i:07d}", None) for i in range(count)))
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE campaigns_message")
    return campaign


# --- figures -------------------------------------------------------------------------------------
def max_window(times: list[float], width: float = 1.0) -> tuple[int, float]:
    """The most arrivals in [t, t + width) over every arrival t, and where it starts."""
    best, at = 0, times[0] if times else 0.0
    for i, start in enumerate(times):
        n = bisect.bisect_left(times, start + width, lo=i) - i
        if n > best:
            best, at = n, start
    return best, at


def opening(arrivals: list[tuple[float, int]], start: float, count: int = 6) -> str:
    """The first requests of a window, to see why it holds too many: ms after its start, the
    process (P1… in the order of their first requests), '*' on a process's first request."""
    names: dict[int, str] = {}
    shown = []
    for at, port in sorted(arrivals):
        first_of_process = port not in names
        names.setdefault(port, f"P{len(names) + 1}")
        if at >= start and len(shown) < count:
            mark = "*" if first_of_process else ""
            shown.append(f"+{(at - start) * 1000:.1f} ms {names[port]}{mark}")
    return ", ".join(shown) + " (* = the process's first request)"


def main() -> None:
    quick = "--quick" in sys.argv
    seconds = SECONDS["quick" if quick else "full"]
    if not (os.environ.get("BENCH_DATABASE_URL") or "").startswith("postgres"):
        sys.exit("B7 needs PostgreSQL: set BENCH_DATABASE_URL (worker processes share it)")
    os.environ["CELERY_BROKER_URL"] = BROKER
    os.environ["CELERY_QUEUE"] = QUEUE  # what this process enqueues goes to the worker's queue
    os.environ["DISPATCH_RANGE_SIZE"] = str(RANGE_SIZE)
    configure()
    from django.db import connection

    from campaigns import services
    from campaigns.models import Campaign, CampaignStatus, Message, MessageState

    Campaign.objects.all().delete()
    # The stub stands in for a provider's own servers: at a higher priority than the workers,
    # so that its arrival times are not bunched by waiting for one of our two cores.
    with contextlib.suppress(PermissionError):
        os.nice(-10)
    stub = TimedStub()
    count = int(LIMIT * seconds) + MARGIN
    provider = provider_for(stub.url, batched=False, rate_limit=f"{LIMIT:g}")
    campaign = sending_campaign(provider, count)
    tasks = services.enqueue(campaign.pk)
    connection.close()

    worker = start_worker(QUEUE, PROCESSES)
    try:
        deadline = time.monotonic() + 60
        while not stub.arrivals:
            if worker.poll() is not None or time.monotonic() > deadline:
                sys.exit("the worker sent nothing within 60 s")
            time.sleep(0.01)
        first = stub.arrivals[0][0]
        time.sleep(max(first + seconds - time.monotonic(), 0))
        arrivals = stub.arrivals  # up to the end of the window
    finally:
        Campaign.objects.filter(pk=campaign.pk).update(
            status=CampaignStatus.PAUSED, pause_reason="benchmark window over"
        )
        stop_worker(worker, QUEUE)
    later = stub.arrivals[len(arrivals) :]  # groups finishing after the window
    stub.close()
    times = [t for t, _ in arrivals]
    in_window = [t for t in times if t < first + seconds]
    achieved = (len(in_window) - BURST) / seconds
    ratio = achieved / LIMIT
    everything = [t for t, _ in arrivals + later]
    peak, peak_at = max_window(everything)
    per_process = Counter(port for _, port in arrivals)
    sent = Message.objects.filter(campaign=campaign, state=MessageState.SENT).count()

    print(f"database: {connection.vendor}; celery worker --concurrency {PROCESSES} (prefork)")
    print(
        f"campaign: {count:,} messages in {tasks} ranges of {RANGE_SIZE}; limit {LIMIT:g} req/s; "
        f"window {seconds:g} s from the first request"
    )
    print(
        f"requests: {len(in_window):,} in the window, {len(later):,} after it (groups ending); "
        f"{sent:,} messages sent"
    )
    print(
        f"processes: {len(per_process)} connections, requests each: "
        + ", ".join(str(n) for n in sorted(per_process.values(), reverse=True))
    )
    print(f"achieved: {achieved:.2f} req/s = {ratio:.4f} x limit")
    print(
        f"busiest one-second window: {peak} requests, at +{peak_at - first:.2f} s "
        f"(allowed {LIMIT:g} + {BURST}); it opens with {opening(arrivals + later, peak_at)}"
    )
    emit(
        [
            Row(
                id="B7",
                scenario=f"shared rate limit {LIMIT:g} req/s, {PROCESSES} worker processes, "
                f"{seconds:g} s",
                ours=achieved,
                baseline=LIMIT,
                unit="req/s",
                target="0.95 ≤ achieved ÷ limit ≤ 1.0; no 1-s window over limit + burst",
                met=0.95 <= ratio <= 1.0 and peak <= LIMIT + BURST,
                notes=f"max 1-s window {peak} (limit {LIMIT:g} + burst {BURST}); "
                f"{len(per_process)} processes sent",
            )
        ]
    )


if __name__ == "__main__":
    main()
