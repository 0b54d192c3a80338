"""A provider archived while its campaign is being sent (SPEC §2.3, README "Campaigns"),
with real worker processes on PostgreSQL + Redis.

Two workers each hold a group in flight (claimed, one request held open at the stub) when
the admin archives the provider. What is promised: the campaign is stopped, nothing is
claimed once the archive has committed, the groups in flight finish (their remaining
requests still go out and are recorded), and every message not handed over is Skipped. The
books balance: the ids the stub accepted are exactly the Sent messages, each once, and the
rollups equal a recompute.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import datetime

import pytest

from campaigns import retire, services
from campaigns.models import Campaign, CampaignStatus, Message, MessageState, SkipReason
from providers.models import Provider
from stats import rebuild
from tests.campaigns.worker import needs_services, wait_until

from .callback_books import totals
from .checks import ids_in, states
from .conftest import campaign_for
from .stub import Answer, Stub

pytestmark = [needs_services, pytest.mark.django_db(transaction=True)]

COUNT = 200
HOLD_FROM = 30  # requests numbered from here on are held until the archive has committed


class HoldFrom:
    """Answers 200 at once until request number HOLD_FROM, then holds every request open
    until released and answers it `late` (each worker stops at its next request)."""

    def __init__(self, late: Answer):
        self.release = threading.Event()
        self.late = late
        self.held = 0

    def __call__(self, ids: list[int], attempt: int, number: int) -> Answer:
        if number < HOLD_FROM:
            return Answer()
        self.held += 1  # under the stub's lock
        return Answer(self.late.status, self.late.body, hold=self.release)


@dataclass(frozen=True)
class Archived:
    """A campaign whose provider was archived mid-send, once its workers are done."""

    campaign: Campaign
    stub: Stub
    claimed: dict[int, int]  # message id -> attempts, when the archive began
    in_flight: set[int]  # messages sending then
    archived_at: datetime  # the provider's archived_at
    started: float  # time.monotonic() when the archive began (the stub's clock)

    def assert_nothing_claimed_after(self) -> None:
        """No claim and no attempt began after the archive; the only requests the stub got
        after it are the rest of the groups in flight, each message once."""
        assert attempts_of(self.campaign) == self.claimed
        attempted = Message.objects.filter(campaign=self.campaign, first_attempt_at__isnull=False)
        assert not attempted.filter(first_attempt_at__gt=self.archived_at).exists()
        received = self.stub.received()
        late = {i for i, arrivals in self.stub.arrivals.items() if arrivals[-1].at > self.started}
        assert late <= self.in_flight
        assert set(received) == set(self.claimed)
        assert set(received.values()) == {1}, "a message was requested twice"


def attempts_of(campaign) -> dict[int, int]:
    messages = Message.objects.filter(campaign=campaign, attempts__gt=0)
    return dict(messages.values_list("id", "attempts"))


def archive_with_two_groups_in_flight(server, worker_factory, late: Answer) -> Archived:
    """Run the campaign until both workers hold a request open, archive the provider, let
    the held requests (and the rest of their groups) be answered `late`, and wait until the
    workers have recorded them."""
    policy = HoldFrom(late)
    stub = Stub(policy)
    server.expect_request("/sms").respond_with_handler(stub)
    campaign = campaign_for(server.url_for("/sms"), COUNT)
    worker_factory(concurrency=2)

    services.launch(campaign)
    assert wait_until(lambda: policy.held == 2, timeout=30), (policy.held, stub.requests)
    claimed = attempts_of(campaign)
    in_flight = ids_in(campaign, MessageState.SENDING)
    started = time.monotonic()
    retire.archive_provider(campaign.provider, None)
    policy.release.set()

    recorded = wait_until(lambda: not ids_in(campaign, MessageState.SENDING), timeout=30)
    assert recorded, states(campaign)
    time.sleep(1)  # a worker that could still claim would have done so by now
    archived_at = Provider.objects.get(pk=campaign.provider_id).archived_at
    return Archived(campaign, stub, claimed, in_flight, archived_at, started)


def assert_stopped_and_balanced(campaign, stub, sent: set[int]) -> None:
    """Stopped by the archive; `sent` are Sent, the rest Skipped (campaign stopped), nothing
    pending; the stub accepted exactly the Sent ones; rollups == recompute."""
    campaign = Campaign.objects.get(pk=campaign.pk)
    provider = campaign.provider
    assert (campaign.status, campaign.pause_reason) == (
        CampaignStatus.STOPPED,
        f"Stopped: the provider “{provider.nickname}” was archived.",
    )
    assert campaign.finished_at is not None
    assert ids_in(campaign, MessageState.SENT) == sent
    everything = set(Message.objects.filter(campaign=campaign).values_list("id", flat=True))
    skipped = ids_in(campaign, MessageState.SKIPPED, reason=SkipReason.CAMPAIGN_STOPPED)
    assert skipped == everything - sent, states(campaign)
    assert not Message.objects.filter(campaign=campaign, next_attempt_at__isnull=False).exists()
    assert set(stub.accepted) == sent and set(stub.accepted.values()) == {1}
    counted = totals()
    assert (counted["sent"], counted["skipped"]) == (len(sent), COUNT - len(sent))
    assert rebuild.snapshot() == rebuild.recompute(), "rollups differ from a recompute"


def test_archiving_mid_send_claims_nothing_more_and_lets_the_groups_in_flight_finish(
    server, worker_factory
):
    """The groups in flight are answered 200 after the archive: they end Sent with every
    message claimed before it; the rest of the campaign is Skipped."""
    archived = archive_with_two_groups_in_flight(server, worker_factory, Answer())

    archived.assert_nothing_claimed_after()
    assert archived.in_flight <= ids_in(archived.campaign, MessageState.SENT)
    assert_stopped_and_balanced(archived.campaign, archived.stub, sent=set(archived.claimed))


def test_a_group_in_flight_refused_with_500_after_the_archive_is_not_left_queued(
    server, worker_factory
):
    """The held requests and the rest of their groups are answered 500 after the archive:
    those messages were not handed over, and the stopped campaign will never retry them,
    so they end Skipped like the rest, not queued with a retry that never comes."""
    archived = archive_with_two_groups_in_flight(
        server, worker_factory, Answer(500, '{"error": "busy"}')
    )

    archived.assert_nothing_claimed_after()
    assert_stopped_and_balanced(archived.campaign, archived.stub, sent=set(archived.stub.accepted))
