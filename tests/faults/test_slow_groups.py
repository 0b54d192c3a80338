"""A worker that is alive but slow: a whole group (DISPATCH_GROUP_SIZE unbatched messages)
is claimed at once, and its requests go out one after the other, each after the provider's
rate-limit slot (providers/pacing.py) and each taking up to HTTP_READ_TIMEOUT. The sweeper
takes a message still *sending* DISPATCH_SENDING_TIMEOUT after its `last_attempt_at` for one
whose worker died, so a live worker keeps that time fresh while its group is out
(`dispatch.InFlight`), and what a live worker learns wins over an "outcome unknown" the
sweeper wrote meanwhile. Found by this suite: the sweeper used to give up on slow groups.
"""

from __future__ import annotations

import time

import pytest

from campaigns import services
from campaigns.models import Message, MessageState
from tests.campaigns.worker import needs_services, wait_until

from .checks import assert_books_balance, finish, ids_in, states
from .conftest import campaign_for
from .stub import Answer, Stub

pytestmark = [needs_services, pytest.mark.django_db(transaction=True)]


def settle(stub: Stub, requests: int) -> None:
    """Let the worker finish the group it still holds (and record it)."""
    assert wait_until(lambda: stub.requests >= requests, timeout=20)
    time.sleep(1)


def slow_500_at_first(ids: list[int], attempt: int, number: int) -> Answer:
    """Each first attempt is answered 500 after 0.2 s: a group of 20 takes 4 s > 2 s."""
    if attempt == 1:
        return Answer(500, '{"error": "busy"}', sleep=0.2)
    return Answer()


def test_a_slow_provider_s_500s_are_retried_even_when_the_group_outlasts_the_timeout(
    server, worker_factory
):
    stub = Stub(slow_500_at_first)
    server.expect_request("/sms").respond_with_handler(stub)
    campaign = campaign_for(server.url_for("/sms"), 20)
    worker_factory(concurrency=1)

    services.launch(campaign)
    finish(campaign)
    settle(stub, 20)

    # Observed instead: 20 x Dispatch Error (outcome unknown), last_status None, attempts 1,
    # and the campaign Sent while requests for it were still leaving.
    assert states(campaign) == {MessageState.SENT: 20}, states(campaign)
    assert set(Message.objects.values_list("attempts", flat=True)) == {2}
    assert_books_balance(campaign, stub)


def test_a_rate_limited_group_is_not_reconciled_while_its_worker_sends_it(server, worker_factory):
    stub = Stub()
    server.expect_request("/sms").respond_with_handler(stub)
    endpoint = server.url_for("/sms")
    campaign = campaign_for(endpoint, 20)
    campaign.provider.config["rate_limit"] = 5.0  # 20 requests: 4 s > 2 s
    campaign.provider.save()
    worker_factory(concurrency=1)

    services.launch(campaign)
    finish(campaign)

    # Observed instead: the campaign is marked Sent with 20 x outcome unknown after 2 s, while
    # its worker is still sending; each 2xx then turns a message Sent again.
    requests_when_finished = stub.requests
    settle(stub, 20)
    assert requests_when_finished == 20, "the campaign ended Sent while requests were leaving"
    assert states(campaign) == {MessageState.SENT: 20}, states(campaign)
    assert not ids_in(campaign, MessageState.DISPATCH_ERROR)
    assert_books_balance(campaign, stub)
