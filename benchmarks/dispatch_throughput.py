"""First dispatch throughput figures: one worker process, in-process, against a local stub.

    .venv/bin/python -m benchmarks.dispatch_throughput            # scratch SQLite file
    BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/smshub_bench \\
        .venv/bin/python -m benchmarks.dispatch_throughput        # an existing, empty database

Prints messages per second for a batched JSON send (1000 per request) and an unbatched one,
claim + render + POST + outcome writes included. Never run it against a real database: it
deletes every campaign of the database it uses.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time

BATCHED = 50_000
UNBATCHED = 5_000


def configure() -> None:
    url = os.environ.get("BENCH_DATABASE_URL") or (
        f"sqlite:///{tempfile.mkdtemp(prefix='smshub-bench-')}/bench.sqlite3"
    )
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("SECRET_KEY", "benchmark-only-secret-key-" + "x" * 30)
    os.environ.setdefault("ENCRYPTION_KEYS", "n3DgMVo7iPmWd9bTBXcDv9cQjQv2yX0pY5gF3kqgJ8c=")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "smshub.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def provider_for(stub_url: str, batched: bool):
    from django.http import QueryDict

    from providers import services
    from providers.kinds.generic import GenericProviderForm

    data = QueryDict(mutable=True)
    data.update(
        {
            "nickname": f"Bench {'batched' if batched else 'unbatched'} {time.time_ns()}",
            "request_type": "POST",
            "endpoint": stub_url,
            "auth_type": "none",
            "body_format": "json",
            "number_format": "e164",
        }
    )
    if batched:
        data["json_body"] = (
            '{"from": "HUB", "messages": [{"to": "$$To", "text": "$$Body", "ref": "$$MessageID"}]}'
        )
        data.update({"batching": "on", "batch_key": "messages", "records_per_batch": "1000"})
    else:
        data["json_body"] = '{"to": "$$To", "text": "$$Body", "ref": "$$MessageID"}'
    form = GenericProviderForm(data)
    assert form.is_valid(), form.errors
    return services.save_from_form(form, None)


def measure(stub, batched: bool, count: int) -> tuple[float, int]:
    from campaigns import dispatch, services
    from campaigns.models import Campaign, CampaignStatus, Message, MessageState

    campaign = Campaign.objects.create(
        name="bench",
        provider=provider_for(stub.url, batched),
        body="Your code is 123456. Reply STOP to opt out.",
        status=CampaignStatus.SENDING,
    )
    services.queue_messages(campaign, ((f"+1415{i:07d}", None) for i in range(count)))
    before = stub.requests
    started = time.perf_counter()
    dispatch.send_range(campaign.pk, 0, 2**62)
    elapsed = time.perf_counter() - started
    sent = Message.objects.filter(campaign=campaign, state=MessageState.SENT).count()
    assert sent == count, f"only {sent} of {count} sent"
    return count / elapsed, stub.requests - before


def main() -> None:
    configure()
    from django.db import connection

    from benchmarks.stub_provider import StubProvider
    from campaigns.models import Campaign

    Campaign.objects.all().delete()
    stub = StubProvider()
    print(f"database: {connection.vendor}; one worker process; stub at {stub.url}")
    for label, batched, count in (
        ("batched JSON, 1000 per request", True, BATCHED),
        ("unbatched JSON, 1 per request", False, UNBATCHED),
    ):
        rate, requests = measure(stub, batched, count)
        print(f"{label:32} {count:>7} messages  {requests:>5} requests  {rate:>9,.0f} msg/s")
    stub.close()


if __name__ == "__main__":
    sys.exit(main())
