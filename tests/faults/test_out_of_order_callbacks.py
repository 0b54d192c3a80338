"""Callbacks out of order (SPEC §6.5, §9): a click before its delivery, a failure reported
after a later delivery, Twilio's `sent` after `delivered`, and a delivery report that
arrives before we recorded the send (the message still *sending*, or already given up on as
*outcome unknown*). Final states are the same in every order, a state never moves back, and
each send and report counts once."""

from __future__ import annotations

import itertools
import json
import time
from datetime import UTC, datetime

import pytest
import requests
from django.db.models import Sum
from django.utils import timezone

from callbacks.models import Event
from campaigns import dispatch, services, sweeper
from campaigns.models import DispatchReason, Message, MessageState
from providers.base import SendResult
from stats import rebuild
from stats.models import DailyLatency
from tests.callbacks.test_generic_callbacks import delivered, meta, post
from tests.callbacks.test_twilio_callbacks import status_form, status_url, twilio_posts
from tests.campaigns.helpers import sending_campaign
from tests.campaigns.worker import needs_services
from tests.providers.helpers import create_generic, create_twilio

from .callback_books import TS, quiet_live_server, sent_messages, totals
from .checks import assert_books_balance, finish, states
from .conftest import campaign_for
from .stub import Stub


def at(ts: int) -> datetime:
    return datetime.fromtimestamp(ts, tz=UTC)


def acme():
    return create_generic(None, nickname="Acme", endpoint="https://api.example.com/sms")


REPORTS = {
    "failed": lambda m: {
        "event": "failed",
        "data": [{"ts": TS + 5, "meta": meta(m), "code": "914", "description": "Undelivered"}],
    },
    "delivered": lambda m: {"event": "delivered", "data": [delivered(m, ts=TS + 10)]},
    "clicked": lambda m: {
        "event": "clicked",
        "data": [{"ts": TS + 20, "meta": meta(m), "url": "https://shop.example"}],
    },
}


REPORTED = (
    "state", "outcome", "outcome_at", "delivered_at", "failed_at", "failure_code",
    "first_clicked_at",
)  # fmt: skip


def reported(message_ids) -> list[tuple]:
    return list(Message.objects.filter(id__in=message_ids).order_by("id").values_list(*REPORTED))


def test_failed_delivered_and_clicked_end_alike_in_every_order(client, db):
    """A temporary failure (ts+5), the delivery (ts+10) and a click (ts+20), posted in each
    of the 6 orders to its own message (clicked before delivered among them): every message
    ends delivered at ts+10, failed first at ts+5, clicked at ts+20, each counted once."""
    provider = acme()
    messages = sent_messages(provider, 6)
    orders = list(itertools.permutations(REPORTS))

    for message, order in zip(messages, orders, strict=True):
        for name in order:
            assert post(client, provider, [REPORTS[name](message)]).status_code == 200

    expected = (MessageState.SENT, "delivered", at(TS + 10), at(TS + 10), at(TS + 5), "914")
    assert reported(m.id for m in messages) == [(*expected, at(TS + 20))] * 6
    counted = totals()
    assert [counted[c] for c in ("sent", "delivered", "failed", "clicks", "unique_clicks")] == (
        [6] * 5
    )
    assert rebuild.snapshot() == rebuild.recompute()


@pytest.mark.parametrize(
    "order", [("delivered", "sent", "queued"), ("queued", "sent", "delivered")]
)
def test_a_late_twilio_sent_or_queued_never_undoes_delivered(client, db, order):
    """Twilio's intermediate statuses are kept as events in whatever order they come; the
    message ends delivered, at the carrier's time, in both orders."""
    provider = create_twilio(None)
    (message,) = sent_messages(provider, 1)
    url = status_url(provider, message)
    done = at(TS).replace(second=0)  # RawDlrDoneDate has minutes

    for status in order:
        fields = {"RawDlrDoneDate": done.strftime("%y%m%d%H%M")} if status == "delivered" else {}
        assert twilio_posts(client, url, status_form(status, **fields)).status_code == 200

    message.refresh_from_db()
    assert (message.state, message.outcome, message.outcome_at, message.delivered_at) == (
        MessageState.SENT,
        "delivered",
        done,
        done,
    )
    statuses = Event.objects.filter(message=message).values_list("properties__status", flat=True)
    assert sorted(statuses) == sorted(order)
    assert totals()["delivered"] == 1
    assert rebuild.snapshot() == rebuild.recompute()


def claimed_message(provider):
    """A message of a sending campaign, claimed by a worker (its request is on its way)."""
    campaign = sending_campaign(provider, 1)
    claimed = dispatch.claim(campaign.pk, 0, 2**62, 1)
    message = Message.objects.get(campaign=campaign)
    assert message.state == MessageState.SENDING
    return campaign, claimed, message


def answered_200(campaign, claimed) -> None:
    """The worker writes what the provider answered: 200."""
    ids = tuple(c.id for c in claimed)
    attempts = [dispatch.Attempt(ids, SendResult(ok=True, status=200))]
    dispatch.record(dispatch.Dispatch.load(campaign.pk), claimed, attempts)


def test_a_report_before_our_sent_commit_is_kept_and_the_send_counts_once(client, db):
    """A fast provider reports the delivery while the message is still *sending*: the report
    counts at once, the worker's Sent then only adds the send (and the latency)."""
    provider = acme()
    campaign, claimed, message = claimed_message(provider)
    ts = int(time.time())

    answer = post(client, provider, [{"event": "delivered", "data": [delivered(message, ts)]}])

    assert answer.json()["data"]["unmatched_events"] == 0
    message.refresh_from_db()
    assert (message.state, message.outcome, message.delivered_at) == (
        MessageState.SENDING,
        "delivered",
        at(ts),
    )
    assert (totals()["sent"], totals()["delivered"]) == (0, 1)
    assert rebuild.snapshot() == rebuild.recompute()

    answered_200(campaign, claimed)

    message.refresh_from_db()
    assert (message.state, message.outcome, message.outcome_at) == (
        MessageState.SENT,
        "delivered",
        at(ts),
    )
    assert message.sent_at >= message.delivered_at
    assert (totals()["sent"], totals()["delivered"]) == (1, 1)
    assert DailyLatency.objects.aggregate(n=Sum("count"))["n"] == 1
    assert rebuild.snapshot() == rebuild.recompute()


def test_a_report_for_an_outcome_unknown_message_counts_it_sent_once(client, db, settings):
    """The sweeper gave up on a message in flight (outcome unknown); its delivery report
    proves the send, and the live worker's late 200 changes nothing more."""
    provider = acme()
    campaign, claimed, message = claimed_message(provider)
    settings.DISPATCH_SENDING_TIMEOUT = 0
    assert sweeper.reconcile_in_flight(timezone.now()) == 1
    message.refresh_from_db()
    assert (message.state, message.reason) == (
        MessageState.DISPATCH_ERROR,
        DispatchReason.OUTCOME_UNKNOWN,
    )

    post(client, provider, [{"event": "delivered", "data": [delivered(message)]}])
    answered_200(campaign, claimed)

    message.refresh_from_db()
    assert (message.state, message.reason, message.outcome) == (
        MessageState.SENT,
        "",
        "delivered",
    )
    assert message.sent_at == message.last_attempt_at  # sent when it was tried
    counted = totals()
    assert (counted["sent"], counted["dispatch_errors"], counted["delivered"]) == (1, 0, 1)
    assert rebuild.snapshot() == rebuild.recompute()


@needs_services
@quiet_live_server
@pytest.mark.django_db(transaction=True)
def test_a_provider_reporting_each_delivery_before_answering_the_send(
    server, worker_factory, live_server
):
    """A real worker sends to a provider that posts each message's delivery report to the
    live hub (and gets its 200) before it answers the send: every report is recorded while
    its message is still *sending*, and every message ends Sent and delivered, once."""
    stub = Stub()
    campaign = campaign_for(server.url_for("/sms"), 40)
    callback_url = f"{live_server.url}/callbacks/sms/{campaign.provider.callback_token}/"
    answers: list[tuple[int, int, int]] = []  # status, duplicates, unmatched

    def report_then_accept(request):
        record = {"ts": int(time.time()), "meta": json.loads(request.get_data())["ref"]}
        report = [{"event": "delivered", "data": [{**record, "description": "Delivered"}]}]
        answer = requests.post(
            callback_url, json=report, headers={"Connection": "close"}, timeout=30
        )
        data = answer.json()["data"]
        answers.append((answer.status_code, data["duplicate_events"], data["unmatched_events"]))
        return stub(request)

    server.expect_request("/sms").respond_with_handler(report_then_accept)
    worker_factory(concurrency=2)

    services.launch(campaign)
    finish(campaign)

    assert answers == [(200, 0, 0)] * 40
    assert states(campaign) == {MessageState.SENT: 40}
    for message in Message.objects.filter(campaign=campaign):
        event = Event.objects.get(message=message, type="delivered")
        assert event.received_at < message.sent_at  # recorded before the send was
        assert (message.outcome, message.delivered_at) == ("delivered", event.ts)
    assert (totals()["sent"], totals()["delivered"]) == (40, 40)
    assert DailyLatency.objects.aggregate(n=Sum("count"))["n"] == 40
    assert_books_balance(campaign, stub)
