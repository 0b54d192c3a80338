"""The sandbox's second mode (SPEC §3.6, §5.3): a campaign through “Sandbox (provider's own
reports)”, whose reports come back batched in Infobip's format and are read by the provider's
Delivery reports mapping; clicks are visits of the tracked links, replies inbound messages."""

from __future__ import annotations

from collections import Counter

import pytest

from callbacks.models import CallbackRequest, Event, RequestStatus
from campaigns import dispatch
from campaigns.compose import link_base
from campaigns.models import Message
from providers.kinds.generic.reports import ReportMapping
from sandbox import native, services, simulate, tasks
from sandbox.reports import SESSION_KEY
from sandbox.simulate import Submitted
from smshub import http
from tests.campaigns.helpers import sending_campaign, states

from .helpers import ensure_sandbox

COUNT = 300
BODY = "Spring sale, 20% off: https://shop.example/spring"


def test_the_command_creates_the_second_mode_beside_the_first(db):
    output = ensure_sandbox("--provider-format")

    assert "Sandbox provider “Sandbox (provider's own reports)”: created" in output
    reference, provider = services.find_provider(), services.find_provider(style=native.STYLE)
    assert reference != provider and reference.is_default and not provider.is_default
    saved = provider.config["reports"]
    assert saved == {**native.MAPPING["reports"], "json_field": "", "our_id_in_url": False}
    assert ReportMapping.of(provider.config) == ReportMapping.of(native.MAPPING)
    assert "up to date" in ensure_sandbox("--provider-format").splitlines()[1]


@pytest.mark.filterwarnings("ignore:No directory at:UserWarning")
def test_a_campaign_runs_through_the_second_mode_and_back(live_server, settings, scheduled):
    settings.SITE_URL = live_server.url
    settings.BLOCK_PRIVATE_ADDRESSES = False
    ensure_sandbox("--provider-format")
    provider = services.find_provider(style=native.STYLE)
    campaign = sending_campaign(provider, COUNT, body=BODY, click_tracking=True)
    try:
        dispatch.send_range(campaign.pk, 0, 2**62)
        assert states(campaign) == {"sent": COUNT}
        ((args, _),) = scheduled
        assert args[3] == native.STYLE
        assert tasks.post_callbacks.apply(args=args).successful()
        tasks.post_callbacks.apply(args=args)  # a retry: reports counted once
    finally:
        for key in (SESSION_KEY, f"provider-{provider.pk}"):
            http.forget_session(key)

    expected = Counter(
        event
        for message in args[1]
        for event, _ in simulate.fate(Submitted(**message), args[2], link_base=link_base())
    )
    events = Event.objects.filter(campaign=campaign)
    counted = Counter(events.values_list("type", flat=True))
    assert (counted["delivered"], counted["failed"], counted["replied"]) == (
        expected["delivered"],
        expected["failed"],
        expected["replied"],
    )
    assert counted["clicked"] == expected["clicked"] > 0  # once each, despite the retry
    outcomes = Counter(Message.objects.filter(campaign=campaign).values_list("outcome", flat=True))
    assert outcomes == {"delivered": expected["delivered"], "failed": expected["failed"]}
    reports = CallbackRequest.objects.filter(provider=provider)
    assert set(reports.values_list("status", "response_status")) == {(RequestStatus.PROCESSED, 200)}
    assert reports.count() == 2 * -(
        -(expected["delivered"] + expected["failed"] + expected["replied"]) // native.MAX_RESULTS
    )
