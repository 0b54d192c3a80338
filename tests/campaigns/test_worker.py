"""Sending through real Celery worker processes on Redis and PostgreSQL (SPEC §3.4, §9)."""

from __future__ import annotations

import json
import threading
import time
from collections import Counter

import pytest
from werkzeug import Response

from campaigns import services, sweeper
from campaigns.models import Campaign, CampaignStatus, DispatchReason, Message, MessageState
from providers import message_ids
from tests.providers.helpers import create_generic

from .helpers import numbers
from .worker import Worker, needs_services, wait_until

pytestmark = [needs_services, pytest.mark.django_db(transaction=True)]


class Stub:
    """The provider: records every $$MessageID it receives, optionally slowly."""

    def __init__(self, delay: float = 0.0):
        self.delay = delay
        self.received: list[int] = []
        self.lock = threading.Lock()

    def __call__(self, request):
        if self.delay:
            time.sleep(self.delay)
        message_id = message_ids.verify(json.loads(request.get_data())["ref"])
        with self.lock:
            self.received.append(message_id)
        return Response('{"accepted": true}', content_type="application/json")


@pytest.fixture
def worker_factory(monkeypatch):
    workers: list[Worker] = []

    def start(**kwargs) -> Worker:
        worker = Worker(**kwargs).start()
        worker.route_here(monkeypatch)
        workers.append(worker)
        return worker

    yield start
    for worker in workers:
        worker.stop()
        worker.purge()


def campaign_of(httpserver, count: int) -> Campaign:
    provider = create_generic(None, endpoint=httpserver.url_for("/sms"))
    campaign = Campaign.objects.create(name="Launch", provider=provider, body="Hello")
    services.queue_messages(campaign, [(to, None) for to in numbers(count)])
    return campaign


def test_it_sends_2000_messages_through_two_worker_processes_exactly_once(
    httpserver, worker_factory
):
    stub = Stub()
    httpserver.expect_request("/sms").respond_with_handler(stub)
    campaign = campaign_of(httpserver, 2000)
    worker_factory(concurrency=2, DISPATCH_RANGE_SIZE="250")

    services.launch(campaign)

    done = wait_until(lambda: Campaign.objects.get().status == CampaignStatus.SENT, timeout=120)
    assert done, Counter(Message.objects.values_list("state", flat=True))
    ids = set(Message.objects.values_list("id", flat=True))
    assert Counter(stub.received) == Counter(ids)  # each message exactly once
    assert Message.objects.filter(state=MessageState.SENT, attempts=1).count() == 2000


def test_a_worker_killed_mid_send_loses_nothing_and_sends_nothing_twice(
    httpserver, worker_factory, settings
):
    settings.DISPATCH_SENDING_TIMEOUT = 2.0
    settings.DISPATCH_STALL_AFTER = 1.0
    stub = Stub(delay=0.01)
    httpserver.expect_request("/sms").respond_with_handler(stub)
    campaign = campaign_of(httpserver, 600)
    first = worker_factory(concurrency=1, DISPATCH_RANGE_SIZE="100")

    services.launch(campaign)
    assert wait_until(lambda: len(stub.received) >= 150, timeout=60)
    first.kill()
    received_before_restart = Counter(stub.received)
    in_flight = set(Message.objects.filter(state=MessageState.SENDING).values_list("id", flat=True))

    worker_factory(concurrency=1, DISPATCH_RANGE_SIZE="100")
    finished = wait_until(
        lambda: Campaign.objects.get().status == CampaignStatus.SENT,
        timeout=120,
        interval=0.5,
        on_wait=sweeper.sweep,  # what Celery beat runs every DISPATCH_SWEEP_INTERVAL
    )

    counts = Counter(Message.objects.values_list("state", flat=True))
    assert finished, counts
    assert set(counts) <= {MessageState.SENT, MessageState.DISPATCH_ERROR}
    unknown = set(
        Message.objects.filter(
            state=MessageState.DISPATCH_ERROR, reason=DispatchReason.OUTCOME_UNKNOWN
        ).values_list("id", flat=True)
    )
    assert unknown == in_flight  # only the group in flight at the kill, never re-sent
    assert len(in_flight) <= settings.DISPATCH_GROUP_SIZE
    received = Counter(stub.received)
    assert all(times == 1 for times in received.values()), "a message was sent twice"
    sent = set(Message.objects.filter(state=MessageState.SENT).values_list("id", flat=True))
    assert sent <= set(received)
    assert set(received) - sent <= in_flight
    assert sum(received_before_restart.values()) >= 150
