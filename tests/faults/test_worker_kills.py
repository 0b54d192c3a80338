"""Worker processes SIGKILLed mid-campaign (SPEC §3.4, §9; README "Delivery guarantee"):
first only the prefork child that is sending (the main process starts a new child and goes
on), later the whole worker (main process and child) before a new worker takes over.

Each kill lands while a request is held open at the stub, so a group is certainly in
flight: its messages are in *sending*, claimed and committed before the request left. What
the design promises, and this test asserts:

- nothing is lost: every message ends Sent or Dispatch Error, none queued or sending once
  the sweeper's DISPATCH_SENDING_TIMEOUT has passed, and the campaign ends Sent;
- nothing is sent twice: a message claimed by a worker that died is never claimed again
  (it becomes Dispatch Error "outcome unknown"), so the stub receives no id twice. The
  price is that the group in flight at each kill (at most DISPATCH_GROUP_SIZE unbatched
  messages, or one batch) is marked outcome unknown even though the provider may have
  taken part of it (here: the held request's message, which the stub did accept);
- the rollups equal a recompute, and the stub's accepted ids are the Sent ones plus, at
  most, messages of the groups in flight.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

import pytest

from campaigns import services, sweeper
from campaigns.models import DispatchReason, Message, MessageState
from tests.campaigns.worker import needs_services, wait_until

from .checks import assert_books_balance, finish, ids_in, states
from .conftest import FAST, campaign_for
from .stub import Answer, Stub

pytestmark = [needs_services, pytest.mark.django_db(transaction=True)]

GROUP = int(FAST["DISPATCH_GROUP_SIZE"])


def children(pid: int) -> set[int]:
    """The child processes of `pid` (psutil is not installed: read /proc)."""
    found: set[int] = set()
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found.update(int(child) for child in (task / "children").read_text().split())
        except (FileNotFoundError, ProcessLookupError):
            continue
    return found


class Holds:
    """A policy that answers every request after 5 ms, except request number `at`, held
    open until the test releases it (a request in flight while the worker is killed)."""

    def __init__(self):
        self.at: int | None = None
        self.arrived = threading.Event()
        self.release = threading.Event()

    def hold(self, at: int) -> None:
        self.at = at
        self.arrived.clear()
        self.release = threading.Event()

    def __call__(self, ids: list[int], attempt: int, number: int) -> Answer:
        if number == self.at:
            self.arrived.set()
            return Answer(hold=self.release)
        return Answer(sleep=0.005)


def held(stub: Stub, release: threading.Event) -> int:
    (message_id,) = (i for i, a in stub.arrivals.items() if a[-1].answer.hold is release)
    return message_id


def in_flight(campaign) -> set[int]:
    return ids_in(campaign, MessageState.SENDING)


def test_killing_the_sending_child_then_the_whole_worker_loses_nothing_sends_nothing_twice(
    server, worker_factory
):
    holds = Holds()
    stub = Stub(holds)
    server.expect_request("/sms").respond_with_handler(stub)
    campaign = campaign_for(server.url_for("/sms"), 600)
    holds.hold(at=150)
    first = worker_factory(concurrency=1)
    main = first.process.pid

    services.launch(campaign)

    # 1. SIGKILL the prefork child while its request is held open at the stub.
    assert holds.arrived.wait(60), stub.requests
    (child,) = children(main)
    first_group = in_flight(campaign)
    assert 0 < len(first_group) <= GROUP
    with stub.lock:  # the held request is recorded once the policy has answered
        signal_at = stub.requests
        held_first = held(stub, holds.release)
    os.kill(child, signal.SIGKILL)
    holds.release.set()
    assert wait_until(lambda: children(main) - {child}, timeout=20), "no child was restarted"
    assert first.process.poll() is None  # the main process lives on

    # 2. The new child carries on; then SIGKILL the whole worker mid-request.
    holds.hold(at=signal_at + 150)
    assert holds.arrived.wait(60), stub.requests
    second_group = in_flight(campaign) - first_group
    assert 0 < len(second_group) <= GROUP
    with stub.lock:
        held_second = held(stub, holds.release)
    first.kill()
    holds.release.set()
    time.sleep(0.2)

    # 3. A new worker (and the sweeper, as beat would run it) finishes the campaign.
    worker_factory(concurrency=1)
    finish(campaign, timeout=90)

    counts = states(campaign)
    assert set(counts) <= {MessageState.SENT, MessageState.DISPATCH_ERROR}, counts
    unknown = ids_in(campaign, MessageState.DISPATCH_ERROR)
    reasons = set(Message.objects.filter(id__in=unknown).values_list("reason", flat=True))
    assert reasons <= {DispatchReason.OUTCOME_UNKNOWN}
    # Outcome unknown: exactly the two groups in flight, never claimed again.
    assert unknown == first_group | second_group
    assert {held_first, held_second} <= unknown
    received = stub.received()
    assert set(received.values()) == {1}, "a message was sent twice"
    assert set(received) - ids_in(campaign, MessageState.SENT) <= unknown
    assert set(Message.objects.filter(id__in=unknown).values_list("attempts", flat=True)) == {1}
    assert counts[MessageState.SENT] == 600 - len(unknown)
    assert_books_balance(campaign, stub, unknown)
    sweeper.sweep()
    assert not Message.objects.filter(state=MessageState.SENDING).exists()
