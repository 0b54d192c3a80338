"""A provider's OAuth 2.0 token endpoint failing for a while, and a provider answering 401
(SPEC §3.4: the token is cached, a 401 refreshes it once; while no token can be had, the
messages wait as Dispatch Error (authentication) and are tried again every 120 s for at
most an hour, and those that then get through count as Sent).

The 120 s and the hour run on a controlled clock: `django.utils.timezone.now`, which is
where dispatch reads the time (the claim, the outcome and the retry decision of
campaigns/dispatch.py and retry.py; providers/oauth.py reads none, its cache expires on its
own). A worker process reads its own clock, and Celery's `eta` waits on it, so these tests
run the task's loop in this process instead: send what is due (`dispatch.send_range`, what
`campaigns.tasks.send_range` runs), then move the clock to the next due time (the `eta`
the task re-enqueues itself with). The 401 tests need no clock; the first runs through a
real worker process, the other in this process (so it also runs on SQLite).

Each test ends with the books balanced: rollups == recompute, the ids the stub accepted ==
the messages marked Sent.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime, timedelta

import pytest
from django.utils import timezone
from werkzeug import Response

from campaigns import dispatch, services, sweeper, tasks
from campaigns.models import Campaign, CampaignStatus, DispatchReason, Message, MessageState
from providers.models import Provider
from tests.campaigns.helpers import numbers, sending_campaign
from tests.campaigns.worker import needs_services
from tests.providers.helpers import create_generic

from .checks import assert_books_balance, finish, ids_in, states
from .conftest import FAST
from .stub import Stub

INTERVAL = timedelta(seconds=120)  # SPEC §3.4
WINDOW = timedelta(hours=1)


class Clock:
    """`timezone.now()` for everything in this process, moved only by the test."""

    def __init__(self, monkeypatch):
        self.now = timezone.now()
        monkeypatch.setattr(timezone, "now", lambda: self.now)

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)

    def advance_to(self, when: datetime) -> None:
        assert when >= self.now
        self.now = when


@pytest.fixture
def clock(monkeypatch, settings) -> Clock:
    settings.DISPATCH_AUTH_RETRY_INTERVAL = INTERVAL.total_seconds()
    settings.DISPATCH_AUTH_RETRY_WINDOW = WINDOW.total_seconds()
    settings.DISPATCH_GROUP_SIZE = int(FAST["DISPATCH_GROUP_SIZE"])  # 20: one group below
    return Clock(monkeypatch)


@pytest.fixture
def enqueued(monkeypatch) -> list[tuple]:
    """Tasks this process would hand to the broker (the sweeper's), recorded instead."""
    calls: list[tuple] = []
    monkeypatch.setattr(tasks.send_range, "delay", lambda *args: calls.append(args))
    monkeypatch.setattr(tasks.prepare, "delay", lambda *args: calls.append(args))
    return calls


class TokenEndpoint:
    """A client-credentials token endpoint: 503 while `down()`, else tok-1, tok-2, …
    `times` holds `now()` at every request it got."""

    def __init__(self, down: Callable[[], bool] = lambda: False, now=timezone.now):
        self.down = down
        self.now = now
        self.lock = threading.Lock()
        self.times: list[datetime] = []
        self.issued = 0

    def __call__(self, request):
        assert request.form["grant_type"] == "client_credentials"
        with self.lock:
            self.times.append(self.now())
            if self.down():
                return Response('{"error": "temporarily_unavailable"}', status=503)
            self.issued += 1
            token = f"tok-{self.issued}"
        return Response(
            f'{{"access_token": "{token}", "expires_in": 3600}}', content_type="application/json"
        )

    @property
    def requests(self) -> int:
        with self.lock:
            return len(self.times)


class Refusing:
    """The provider's API: 401 for a request whose bearer token `refused(token)`, counted
    here; the stub answers the others (and records them)."""

    def __init__(self, stub: Stub, refused: Callable[[str], bool]):
        self.stub = stub
        self.refused = refused
        self.lock = threading.Lock()
        self.unauthorized = 0

    def __call__(self, request):
        token = request.headers.get("Authorization", "").removeprefix("Bearer ")
        if self.refused(token):
            with self.lock:
                self.unauthorized += 1
            return Response('{"error": "invalid_token"}', status=401)
        return self.stub(request)


def oauth_provider(server) -> Provider:
    return create_generic(
        None,
        endpoint=server.url_for("/sms"),
        auth_type="oauth2",
        oauth_client_url=server.url_for("/token"),
        oauth_client_id="client-1",
        oauth_secret_key="oauth-secret",
    )


def step(campaign: Campaign) -> datetime | None:
    """One run of the campaign's send_range task; returns its next eta (None: done)."""
    return dispatch.send_range(campaign.pk, 0, 2**62)


def held(campaign: Campaign) -> set[tuple]:
    messages = Message.objects.filter(campaign=campaign)
    return set(messages.values_list("state", "reason", "attempts", "next_attempt_at"))


def test_a_failing_token_endpoint_holds_messages_retried_every_120_s_then_sent(
    server, clock, enqueued
):
    """Token endpoint down for the tries at 0, 120 and 240 s: the messages wait as
    Dispatch Error (authentication), no attempt counted, tried exactly every 120 s, and are
    sent once at 360 s with a single token."""
    start = clock.now
    tokens = TokenEndpoint(down=lambda: clock.now < start + 2.5 * INTERVAL, now=lambda: clock.now)
    stub = Stub()
    server.expect_request("/token").respond_with_handler(tokens)
    server.expect_request("/sms").respond_with_handler(stub)
    campaign = sending_campaign(oauth_provider(server), 20)  # one group

    due = step(campaign)

    assert due == start + INTERVAL
    authentication = (MessageState.DISPATCH_ERROR, DispatchReason.AUTHENTICATION, 0)
    assert held(campaign) == {(*authentication, start + INTERVAL)}
    provider = Provider.objects.get()
    assert provider.auth_failing_since == start
    assert provider.last_error.startswith("Authentication failing")
    # Half-way to the retry, beat's sweeper leaves the held messages and the campaign alone.
    clock.advance(INTERVAL.total_seconds() / 2)
    assert sweeper.sweep() == sweeper.SweepReport(0, 0, 0)
    assert Campaign.objects.get().status == CampaignStatus.SENDING

    clock.advance_to(due)
    due = step(campaign)  # start + 120 s: still down
    assert held(campaign) == {(*authentication, start + 2 * INTERVAL)}
    clock.advance_to(due)
    due = step(campaign)  # start + 240 s: still down
    assert held(campaign) == {(*authentication, start + 3 * INTERVAL)}
    clock.advance_to(due)
    assert step(campaign) is None  # start + 360 s: a token, and every message goes
    assert services.finish_if_done(campaign.pk)

    # One token request per try, exactly 120 s apart; the last one's token served all 20.
    assert tokens.times == [start + n * INTERVAL for n in range(4)]
    assert stub.requests == 20 and set(stub.received().values()) == {1}
    messages = Message.objects.filter(campaign=campaign)
    assert set(messages.values_list("state", "attempts", "sent_at")) == {
        (MessageState.SENT, 1, start + 3 * INTERVAL)
    }
    assert Provider.objects.get().auth_failing_since is None
    assert not enqueued
    assert_books_balance(campaign, stub)


def test_a_token_endpoint_down_for_the_whole_window_ends_in_authentication_errors(
    server, clock, enqueued
):
    """Token endpoint down for good: tried every 120 s until the hour is up, then the
    messages are final Dispatch Errors (authentication) and the campaign can finish."""
    start = clock.now
    tokens = TokenEndpoint(down=lambda: True, now=lambda: clock.now)
    stub = Stub()
    server.expect_request("/token").respond_with_handler(tokens)
    server.expect_request("/sms").respond_with_handler(stub)
    campaign = sending_campaign(oauth_provider(server), 5)

    tries = 1
    due = step(campaign)
    while due is not None:
        assert due == start + tries * INTERVAL
        clock.advance_to(due)
        due = step(campaign)
        tries += 1

    # Tried at 0, 120 s, …, 3600 s: a retry past the hour is not scheduled.
    assert tries == WINDOW // INTERVAL + 1
    assert tokens.times == [start + n * INTERVAL for n in range(tries)]
    messages = Message.objects.filter(campaign=campaign)
    assert set(messages.values_list("state", "reason", "attempts", "next_attempt_at")) == {
        (MessageState.DISPATCH_ERROR, DispatchReason.AUTHENTICATION, 0, None)
    }
    assert set(messages.values_list("first_attempt_at", "last_attempt_at")) == {
        (start, start + WINDOW)
    }
    assert services.finish_if_done(campaign.pk)
    assert stub.requests == 0
    assert not enqueued
    assert_books_balance(campaign, stub)


@needs_services
@pytest.mark.django_db(transaction=True)
def test_a_401_refreshes_the_token_exactly_once_through_a_worker(server, worker_factory):
    """The provider revoked tok-1: its 401 makes the worker fetch tok-2 once (the cache is
    shared by every process) and send the message again; the token endpoint gets exactly
    two requests for the whole campaign."""
    tokens = TokenEndpoint()
    stub = Stub()
    api = Refusing(stub, refused=lambda token: token == "tok-1")
    server.expect_request("/token").respond_with_handler(tokens)
    server.expect_request("/sms").respond_with_handler(api)
    campaign = Campaign.objects.create(name="OAuth", provider=oauth_provider(server), body="Hi")
    services.queue_messages(campaign, [(to, None) for to in numbers(60)])
    worker_factory(concurrency=1)

    services.launch(campaign)
    finish(campaign)

    assert tokens.requests == 2
    assert api.unauthorized == 1
    assert states(campaign) == {MessageState.SENT: 60}
    assert set(stub.received().values()) == {1}
    assert set(Message.objects.values_list("attempts", flat=True)) == {1}
    assert ids_in(campaign, MessageState.SENT) == set(stub.accepted)
    assert_books_balance(campaign, stub)


def test_a_401_that_persists_refreshes_once_per_request_and_is_final(server, enqueued):
    """A provider that refuses every token: each request gets one refresh and one resend,
    never a loop, then Dispatch Error (HTTP 401), not retried."""
    tokens = TokenEndpoint()
    stub = Stub()
    api = Refusing(stub, refused=lambda token: True)
    server.expect_request("/token").respond_with_handler(tokens)
    server.expect_request("/sms").respond_with_handler(api)
    campaign = sending_campaign(oauth_provider(server), 5)

    assert step(campaign) is None
    assert services.finish_if_done(campaign.pk)

    # tok-1 (fetched), then per message: 401, one refresh, 401.
    assert tokens.requests == 1 + 5
    assert api.unauthorized == 2 * 5
    messages = Message.objects.filter(campaign=campaign)
    assert set(messages.values_list("state", "reason", "last_status", "attempts")) == {
        (MessageState.DISPATCH_ERROR, DispatchReason.REJECTED, 401, 1)
    }
    assert not messages.filter(next_attempt_at__isnull=False).exists()
    assert not enqueued
    assert_books_balance(campaign, stub)
