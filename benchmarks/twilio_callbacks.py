"""B4: Twilio status callbacks, each signed with X-Twilio-Signature, posted by 8 concurrent
clients to the hub served by gunicorn (2 workers x 4 threads, as B3), against a baseline
view served the same way that only parses the form and inserts one row.

    BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/smshub_bench \\
        .venv/bin/python -m benchmarks.twilio_callbacks [--quick] [REQUESTS]

3,000 requests (600 with --quick), one `delivered` per sent message, to the StatusCallback
URL our Twilio sender gives (our callback URL with `meta` in its query), signed beforehand
by the twilio library's RequestValidator so that the clients only post. Ours: the real
endpoint (token look-up, signature check, the dedup look-up of a callback without a done
date, event insert, message outcome, rollups). Baseline: `benchmarks.baseline_wsgi`
(`twilio_form` in benchmarks/baseline_urls.py). Afterwards every message must be delivered
exactly once. It empties the campaigns of the database it uses: never point it at real data.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from urllib.parse import parse_qsl, urlencode, urlsplit

from benchmarks.common import analyze, configure
from benchmarks.http_load import CLIENTS, Post, free_port, measure
from benchmarks.report import Row, emit

REQUESTS = {"full": 3000, "quick": 600}
WARMUP = 4 * CLIENTS  # per server, not timed: connections, URL resolver, first queries
ACCOUNT_SID = "AC" + "0123456789abcdef" * 2
AUTH_TOKEN = "twilio-auth-token-bench"
FROM = "+14155550123"
FORM = "application/x-www-form-urlencoded"
TARGET_RATIO, TARGET_RATE = 0.6, 600.0


# --- seeding -------------------------------------------------------------------------------------
def twilio_provider():
    """A Twilio provider saved through its setup form, as an admin (and the tests) do."""
    from django.http import QueryDict

    from providers import services
    from providers.kinds.twilio.form import TwilioProviderForm

    data = QueryDict(mutable=True)
    data.update(
        {
            "nickname": f"Bench Twilio {time.time_ns()}",
            "account_sid": ACCOUNT_SID,
            "auth_token": AUTH_TOKEN,
            "from_number": FROM,
        }
    )
    form = TwilioProviderForm(data)
    assert form.is_valid(), form.errors
    return services.save_from_form(form, None)


def seed(count: int):
    """A Twilio provider and a campaign of `count` messages sent an hour ago."""
    from datetime import timedelta

    from django.utils import timezone

    from campaigns.models import Campaign, Message

    provider = twilio_provider()
    campaign = Campaign.objects.create(name="twilio callbacks", provider=provider, body="Hi")
    sent_at = timezone.now() - timedelta(hours=1)
    Message.objects.bulk_create(
        (
            Message(
                campaign=campaign,
                provider=provider,
                to=f"+1415{i:07d}",
                state="sent",
                sent_at=sent_at,
                provider_message_id=f"SM{i:032x}",
            )
            for i in range(count)
        ),
        batch_size=5000,
    )
    messages = list(
        Message.objects.filter(campaign=campaign).order_by("id").values_list("id", "to")
    )
    analyze()
    return provider, campaign, messages


def callbacks(provider, messages: list[tuple[int, str]]) -> list[Post]:
    """One signed `delivered` status callback per message, to the StatusCallback URL our
    Twilio sender puts in the message's send request."""
    from twilio.request_validator import RequestValidator

    from providers import message_ids
    from providers.base import OutgoingMessage
    from providers.kinds.twilio.sender import TwilioSender
    from providers.templating import BODY, MESSAGE_ID

    sender = TwilioSender(
        provider.config,
        provider.get_secrets(),
        callback_url=provider.callback_url,
        session_key="bench",
    )
    outgoing = [
        OutgoingMessage(id, to, {MESSAGE_ID: message_ids.sign(id), BODY: "Hi"})
        for id, to in messages
    ]
    validator = RequestValidator(AUTH_TOKEN)
    made = []
    for n, request in enumerate(sender.requests(outgoing)):
        sent = dict(parse_qsl(request.body.decode()))
        url = sent["StatusCallback"]
        sid = f"SM{n:032x}"
        form = {
            "SmsSid": sid,
            "SmsStatus": "delivered",
            "MessageStatus": "delivered",
            "To": sent["To"],
            "MessageSid": sid,
            "AccountSid": ACCOUNT_SID,
            "From": FROM,
            "ApiVersion": "2010-04-01",
        }
        parts = urlsplit(url)
        signature = validator.compute_signature(url, form)
        made.append(
            Post(
                f"{parts.path}?{parts.query}",
                urlencode(form).encode(),
                {"Content-Type": FORM, "X-Twilio-Signature": signature},
            )
        )
    return made


# --- posting ------------------------------------------------------------------------------------
def as_baseline(path: str) -> str:
    """The same request to the baseline's URL: /callbacks/twilio/<token>/?meta=…"""
    return path.replace("/callbacks/sms/", "/callbacks/twilio/", 1)


# --- checking ------------------------------------------------------------------------------------
def check(provider, campaign, expected: int) -> None:
    """Every message delivered exactly once: one event each, its outcome and first delivery
    set, one processed request each (the baseline's rows are told apart by their empty url)."""
    from django.db.models import Count

    from callbacks.models import CallbackRequest, Event, RequestStatus
    from campaigns.models import Message

    events = Event.objects.filter(provider=provider, type="delivered")
    per_message = events.values("message_id").annotate(n=Count("id"))
    counts = {
        "delivered events": events.count(),
        "messages with an event": per_message.count(),
        "messages with more than one": per_message.filter(n__gt=1).count(),
        "unmatched events": events.filter(message__isnull=True).count(),
        "messages delivered": Message.objects.filter(
            campaign=campaign, outcome="delivered", delivered_at__isnull=False
        ).count(),
        "requests processed": CallbackRequest.objects.filter(provider=provider)
        .exclude(url="")
        .filter(status=RequestStatus.PROCESSED, processed_events=1)
        .count(),
    }
    print("check:    " + ", ".join(f"{name} {value:,}" for name, value in counts.items()))
    want = {
        "delivered events": expected,
        "messages with an event": expected,
        "messages with more than one": 0,
        "unmatched events": 0,
        "messages delivered": expected,
        "requests processed": expected,
    }
    wrong = {name: (counts[name], value) for name, value in want.items() if counts[name] != value}
    assert not wrong, f"not every message delivered exactly once (got, expected): {wrong}"


def main() -> None:
    args = [arg for arg in sys.argv[1:] if arg != "--quick"]
    count = int(args[0]) if args else REQUESTS["quick" if "--quick" in sys.argv else "full"]
    ours_port, baseline_port = free_port(), free_port()
    # Our callback URL (what Twilio signs) is SITE_URL + path: the server's address.
    os.environ["SITE_URL"] = f"http://127.0.0.1:{ours_port}"
    configure()
    from django.db import connection

    from campaigns.models import Campaign

    Campaign.objects.all().delete()
    provider, campaign, messages = seed(WARMUP + count)
    posts = callbacks(provider, messages)
    warmup, timed = posts[:WARMUP], posts[WARMUP:]
    connection.close()

    ours = measure("smshub.wsgi", ours_port, warmup, timed, lambda path: path)
    baseline = measure("benchmarks.baseline_wsgi", baseline_port, warmup, timed, as_baseline)

    workers = os.environ.get("BENCH_WORKERS", "2"), os.environ.get("BENCH_THREADS", "4")
    print(f"database: {connection.vendor}; gunicorn {workers[0]} workers x {workers[1]} threads")
    print(f"requests: {count:,} signed status callbacks from {CLIENTS} clients (+{WARMUP} warm-up)")
    for label, run in (("ours", ours), ("baseline", baseline)):
        p50 = statistics.median(run.latencies) * 1000
        print(
            f"{label + ':':9} {run.rate:,.0f} req/s, p50 {p50:.1f} ms, "
            f"p99 {run.percentile(0.99) * 1000:.1f} ms, failed {len(run.failures)}"
            + (f" (first: {run.failures[0]})" if run.failures else "")
        )
    check(provider, campaign, WARMUP + count)

    ratio = ours.rate / baseline.rate if baseline.rate else 0.0
    emit(
        [
            Row(
                id="B4",
                scenario="Twilio status callbacks with signature validation, 8 clients",
                ours=ours.rate,
                baseline=baseline.rate,
                unit="req/s",
                target="≥ 0.6 x baseline and ≥ 600 req/s",
                met=ratio >= TARGET_RATIO
                and ours.rate >= TARGET_RATE
                and not ours.failures
                and not baseline.failures,
                notes=f"p99 {ours.percentile(0.99) * 1000:.0f} ms (baseline "
                f"{baseline.percentile(0.99) * 1000:.0f} ms); {count:,} requests; "
                "gunicorn 2x4; baseline parses the form and inserts one row",
            )
        ]
    )


if __name__ == "__main__":
    main()
