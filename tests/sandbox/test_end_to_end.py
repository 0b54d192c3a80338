"""A campaign through the sandbox provider, end to end over real HTTP (SPEC §3.6): the hub
sends to its own /sandbox/sms/ (Django's live server), the sandbox schedules its callbacks,
and they come back through the real callback endpoint."""

from __future__ import annotations

from collections import Counter

import pytest

from callbacks.models import CallbackRequest, Event, RequestStatus
from campaigns import dispatch
from campaigns.compose import link_base
from campaigns.models import Message
from providers import message_ids
from sandbox import services, simulate, tasks
from sandbox.reports import SESSION_KEY
from sandbox.simulate import Submitted
from smshub import http
from tests.campaigns.helpers import sending_campaign, states

from .helpers import ensure_sandbox

COUNT = 1500  # two sandbox requests (1000 + 500), three callback requests
BODY = "Spring sale, 20% off: https://shop.example/spring"


@pytest.fixture
def sessions_closed():
    """Close this thread's keep-alive connections to the live server afterwards: each holds
    a server thread, and with it a database connection that would outlive the test database."""
    keys = [SESSION_KEY]
    yield keys
    for key in keys:
        http.forget_session(key)


# The live server starts before the suite's settings point STATIC_ROOT away from var/.
@pytest.mark.filterwarnings("ignore:No directory at:UserWarning")
def test_it_runs_a_campaign_through_the_sandbox_and_back(
    live_server, settings, scheduled, sessions_closed
):
    settings.SITE_URL = live_server.url
    settings.BLOCK_PRIVATE_ADDRESSES = False
    ensure_sandbox()
    provider = services.find_provider()
    sessions_closed.append(f"provider-{provider.pk}")
    campaign = sending_campaign(provider, COUNT, body=BODY)

    dispatch.send_range(campaign.pk, 0, 2**62)

    assert states(campaign) == {"sent": COUNT}
    ids = list(Message.objects.filter(campaign=campaign).values_list("pk", "provider_message_id"))
    assert all(sbx == simulate.provider_message_id(message_ids.sign(pk)) for pk, sbx in ids)
    assert [len(args[1]) for args, _ in scheduled] == [1000, 500]
    assert all(args[0] == provider.pk for args, _ in scheduled)

    for args, options in scheduled:
        assert options == {"countdown": 3.0}
        assert tasks.post_callbacks.apply(args=args).successful()

    expected = Counter(
        event
        for args, _ in scheduled
        for message in args[1]
        for event, _ in simulate.fate(Submitted(**message), args[2], link_base=link_base())
    )
    events = Event.objects.filter(campaign=campaign)
    assert Counter(events.values_list("type", flat=True)) == expected
    assert expected["delivered"] + expected["failed"] == COUNT
    assert expected["clicked"] > 0 and expected["replied"] > 0
    assert not Event.objects.filter(message__isnull=True).exists()
    outcomes = Counter(Message.objects.filter(campaign=campaign).values_list("outcome", flat=True))
    assert outcomes == {"delivered": expected["delivered"], "failed": expected["failed"]}
    per_message = Counter(
        events.filter(type__in=["delivered", "failed"]).values_list("message_id", flat=True)
    )
    assert len(per_message) == COUNT and set(per_message.values()) == {1}
    assert set(events.filter(type="failed").values_list("code", flat=True)) <= set(
        simulate.FAILURE_WEIGHTS
    )
    assert set(events.filter(type="clicked").values_list("url", flat=True)) == {
        "https://shop.example/spring"
    }
    requests = CallbackRequest.objects.filter(provider=provider)
    assert requests.count() == 3
    assert set(requests.values_list("status", "response_status")) == {
        (RequestStatus.PROCESSED, 200)
    }

    # A retried task posts the same callbacks again: counted once.
    tasks.post_callbacks.apply(args=scheduled[0][0])
    assert Counter(events.values_list("type", flat=True)) == expected
