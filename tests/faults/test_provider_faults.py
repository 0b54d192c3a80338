"""A provider that fails: 500s, 429s with Retry-After, 400s, slow answers past the read
timeout, a port that refuses connections (SPEC §3.4, §9), through real Celery worker
processes on Redis and PostgreSQL.

Every test ends with the books balanced: the stats rollups equal a recompute, and the ids
the stub accepted (answered 2xx in time) are exactly the messages marked Sent, each once.
A request that timed out may have been taken by the provider: it is retried (README,
"Delivery guarantee": a timeout can duplicate), so the stub sees it again; that is asserted
as such in the timeout test and never happens otherwise.
"""

from __future__ import annotations

from itertools import pairwise

import pytest

from campaigns import services
from campaigns.models import Campaign, CampaignStatus, DispatchReason, Message, MessageState
from tests.campaigns.worker import needs_services

from .checks import assert_books_balance, finish, ids_in
from .conftest import FAST, campaign_for, closed_port
from .stub import Answer, Stub, chance

pytestmark = [needs_services, pytest.mark.django_db(transaction=True)]

MAX_ATTEMPTS = int(FAST["DISPATCH_MAX_ATTEMPTS"])
BASE = float(FAST["DISPATCH_BACKOFF_BASE"])
CAP = float(FAST["DISPATCH_BACKOFF_MAX"])
EPSILON = 0.005  # clock granularity between the worker's and the stub's time


def flaky(ids: list[int], attempt: int, number: int) -> Answer:
    """~30 % 500, ~10 % 429 (Retry-After: 1), the rest 200; the last allowed attempt always
    succeeds, so every message must end Sent."""
    if attempt < MAX_ATTEMPTS:
        draw = chance("flaky", ids, attempt)
        if draw < 0.3:
            return Answer(500, '{"error": "internal"}')
        if draw < 0.4:
            return Answer(429, '{"error": "slow down"}', retry_after=1)
    return Answer()


def min_gap(previous: Answer, attempt: int) -> float:
    """The least wait after failed attempt `attempt`: backoff with jitter ≥ 0.8, and never
    less than the provider's Retry-After."""
    backoff = 0.8 * min(BASE * 3 ** (attempt - 1), CAP)
    return max(backoff, previous.retry_after or 0)


def assert_retried_as_promised(campaign: Campaign, stub: Stub) -> None:
    attempts = dict(Message.objects.filter(campaign=campaign).values_list("id", "attempts"))
    assert stub.received() == attempts  # Message.attempts == the requests the stub saw
    retried_after = {500: 0, 429: 0}
    for arrivals in stub.arrivals.values():
        for attempt, (before, after) in enumerate(pairwise(arrivals), start=1):
            assert before.answer.status in (429, 500)
            gap = after.at - before.at
            assert gap >= min_gap(before.answer, attempt) - EPSILON, (attempt, before, gap)
            retried_after[before.answer.status] += 1
        assert [a.answer.status for a in arrivals][-1] == 200
    assert retried_after[500] and retried_after[429]  # both kinds were exercised


def test_a_flaky_provider_gets_every_message_once_with_backoff(server, worker_factory):
    stub = Stub(flaky)
    server.expect_request("/sms").respond_with_handler(stub)
    campaign = campaign_for(server.url_for("/sms"), 300)
    worker_factory(concurrency=2)

    services.launch(campaign)
    finish(campaign)

    assert ids_in(campaign, MessageState.SENT) == set(
        Message.objects.filter(campaign=campaign).values_list("id", flat=True)
    )
    assert stub.requests > 300 * 1.3
    assert_retried_as_promised(campaign, stub)
    assert_books_balance(campaign, stub)


def flaky_by_count(ids: list[int], attempt: int, number: int) -> Answer:
    """Of every ten requests, three get a 500 and one a 429 (Retry-After: 1): with ten
    batches a seeded draw might miss a kind."""
    if attempt < MAX_ATTEMPTS:
        if number % 10 in (0, 3, 6):
            return Answer(500, '{"error": "internal"}')
        if number % 10 == 8:
            return Answer(429, '{"error": "slow down"}', retry_after=1)
    return Answer()


def test_a_flaky_provider_gets_every_batch_once_with_backoff(server, worker_factory):
    stub = Stub(flaky_by_count, batched=True)
    server.expect_request("/sms").respond_with_handler(stub)
    campaign = campaign_for(server.url_for("/sms"), 1000, batch=100)
    worker_factory(concurrency=2, DISPATCH_RANGE_SIZE="500")

    services.launch(campaign)
    finish(campaign)

    assert len(ids_in(campaign, MessageState.SENT)) == 1000
    assert stub.requests > 10
    assert_retried_as_promised(campaign, stub)
    assert_books_balance(campaign, stub)


REJECTION = '{"error": "invalid destination", "detail": "' + "x" * 700 + '"}'


def rejects_some(ids: list[int], attempt: int, number: int) -> Answer:
    if chance("reject", ids, 1) < 0.2:
        return Answer(400, REJECTION)
    return Answer()


def test_a_400_is_final_and_never_retried(server, worker_factory):
    stub = Stub(rejects_some)
    server.expect_request("/sms").respond_with_handler(stub)
    campaign = campaign_for(server.url_for("/sms"), 200)
    worker_factory(concurrency=2)

    services.launch(campaign)
    finish(campaign)

    rejected = ids_in(campaign, MessageState.DISPATCH_ERROR)
    assert 10 < len(rejected) < 80
    assert set(stub.received().values()) == {1}  # nothing requested twice
    assert set(stub.received()) == set(Message.objects.values_list("id", flat=True))
    for message in Message.objects.filter(id__in=rejected):
        assert message.reason == DispatchReason.REJECTED
        assert message.last_status == 400
        assert message.last_error == f"HTTP 400: {REJECTION}"[:500]
        assert message.attempts == 1 and message.next_attempt_at is None
    assert len(ids_in(campaign, MessageState.SENT)) == 200 - len(rejected)
    assert_books_balance(campaign, stub)


SLOW = 0.8


def slow_at_first(ids: list[int], attempt: int, number: int) -> Answer:
    """A fifth of first attempts are answered 200 after the client's read timeout (0.4 s)."""
    if attempt == 1 and chance("slow", ids, 1) < 0.2:
        return Answer(sleep=SLOW, late=True)
    return Answer()


def test_a_read_timeout_is_retried_and_sent_once(server, worker_factory):
    stub = Stub(slow_at_first)
    server.expect_request("/sms").respond_with_handler(stub)
    campaign = campaign_for(server.url_for("/sms"), 100)
    # A group with several timeouts must not outlast the sending timeout (test_slow_groups).
    worker_factory(concurrency=2, HTTP_READ_TIMEOUT="0.4", DISPATCH_SENDING_TIMEOUT="10")

    services.launch(campaign)
    finish(campaign)

    late = {i for i, arrivals in stub.arrivals.items() if arrivals[0].answer.late}
    assert 5 < len(late) < 40
    assert len(ids_in(campaign, MessageState.SENT)) == 100
    received = stub.received()
    # The documented re-send: a request that timed out reached the provider, and went again.
    assert {i for i, times in received.items() if times > 1} == late
    assert set(received.values()) == {1, 2}
    attempts = dict(Message.objects.filter(campaign=campaign).values_list("id", "attempts"))
    assert attempts == dict(received)
    assert_books_balance(campaign, stub)


def test_a_refused_connection_ends_dispatch_error_after_the_attempt_limit(db, worker_factory):
    endpoint = f"http://127.0.0.1:{closed_port()}/sms"
    campaign = campaign_for(endpoint, 50)
    worker_factory(concurrency=2)

    services.launch(campaign)
    finish(campaign)

    assert Campaign.objects.get(pk=campaign.pk).status == CampaignStatus.SENT
    messages = Message.objects.filter(campaign=campaign)
    assert {m.state for m in messages} == {MessageState.DISPATCH_ERROR}
    assert {m.reason for m in messages} == {DispatchReason.RETRIES_EXHAUSTED}
    assert {m.attempts for m in messages} == {MAX_ATTEMPTS}
    assert all(m.last_error.startswith("Request could not connect") for m in messages)
    assert all(m.last_status is None and m.sent_at is None for m in messages)
    assert_books_balance(campaign, None)
