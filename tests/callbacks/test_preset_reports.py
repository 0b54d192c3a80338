"""Every preset's own delivery reports and replies, end to end (SPEC §5.3, §5.4; issue 13 §6):
a campaign sent through a provider made from the preset (a local server answers as the
provider documents, a different id per message), then the provider's documented report
samples (preset_report_samples.py) posted to its callback URL the way it posts them: a
delivered one, a failed one with a code, a pending one, the delivered one again and a
pending one arriving late, and its documented replies, one of them STOP."""

from __future__ import annotations

import json
from datetime import timedelta
from urllib.parse import parse_qsl, urlencode

import pytest
from django.core.cache import cache
from django.utils import timezone
from werkzeug import Response

from audiences.models import OptOut
from callbacks.models import CallbackRequest, Event, RequestStatus
from campaigns.models import Message, MessageState
from providers import message_ids
from providers.kinds.generic import presets
from stats.figures import DateRange, Scope, errors, figures
from tests.campaigns.helpers import run, sending_campaign
from tests.providers.test_preset_sends import BATCHES, CASES, MID, TO, expected, provider_from

from .preset_report_samples import CONDITIONAL_REPLIES, FORM, JSON, SAMPLES, filled

REFERENCE_ONLY = ("mitto", "smsindiahub")  # their report format is not public


@pytest.fixture(autouse=True)
def _fresh_cache(db):
    cache.clear()


def test_every_preset_has_report_samples_or_keeps_the_reference_format():
    mapped = {
        slug
        for slug, preset in presets.all_presets().items()
        if preset.config["reports"]["format"] != "reference"
    }
    assert mapped == set(SAMPLES)
    assert set(presets.all_presets()) - mapped == set(REFERENCE_ONLY)


# --- sending ---------------------------------------------------------------------------------
def vary(provider_id: str, n: int) -> str:
    """The documented id made different for the n-th message (Kaleyra's `:1` part kept)."""
    head, colon, part = provider_id.partition(":")
    return f"{head[:-1]}{n}{colon}{part}"


def sent_campaign(slug: str, httpserver, count: int = 3):
    """A provider from the preset and a campaign of `count` messages sent through the local
    server, which answers each request with the documented answer and a different id per
    message (per request where the provider's id is shared by a request)."""
    case = CASES[slug]
    provider = provider_from(slug, httpserver)
    campaign = sending_campaign(provider, count, body="Hello", **case.campaign)
    messages = list(Message.objects.filter(campaign=campaign).order_by("id"))
    ids = {
        m.id: message_ids.sign(m.id) if case.provider_id == MID else vary(case.provider_id, n)
        for n, m in enumerate(messages)
    }
    requests = []

    def answer(request):
        requests.append(request)
        sent = request.get_data(as_text=True) + request.query_string.decode()
        if slug == "infobip":  # one request for the whole batch, our ids as its ids
            return json_response(infobip_answer(case.answer, request.get_json()), case.status)
        if slug in BATCHES:
            return batch_answer(BATCHES[slug], request, messages, ids, len(requests), case.status)
        (message,) = [m for m in messages if m.to.lstrip("+") in sent]
        text = json.dumps(expected(case.answer, provider, message))
        text = text.replace(case.provider_id, ids[message.id])
        return json_response(text.replace(TO.lstrip("+"), message.to.lstrip("+")), case.status)

    httpserver.expect_request(CASES[slug].path, method=case.method).respond_with_handler(answer)
    run(campaign)
    assert len(requests) == (1 if slug in {*BATCHES, "infobip"} else count)  # batched
    for message in messages:
        message.refresh_from_db()
        assert message.state == MessageState.SENT, message.last_error
        assert message.provider_message_id == ids[message.id]
    return provider, messages


def batch_answer(batch, request, messages, ids: dict, nth: int, status: int) -> Response:
    """The documented batch answer for the numbers of the request; a shared id is the
    request's own, stored in `ids` for each of its messages."""
    if request.is_json:
        sent = request.get_json()
    else:
        sent = dict(parse_qsl(request.get_data(as_text=True)))
    numbers = batch.recipients(sent)
    ours = [next(m for m in messages if m.to.lstrip("+") == n.lstrip("+")) for n in numbers]
    if batch.shared:
        for message in ours:
            ids[message.id] = vary(ids[ours[0].id], nth)
    given = [ids[m.id] for m in ours]
    return json_response(json.dumps(batch.answer(numbers, given)), status)


def infobip_answer(documented: dict, request: dict) -> str:
    item = documented["messages"][0]
    destinations = [d for m in request["messages"] for d in m["destinations"]]
    return json.dumps(
        {
            **documented,
            "messages": [
                {**item, "messageId": d["messageId"], "destination": d["to"]} for d in destinations
            ],
        }
    )


def json_response(text: str, status: int) -> Response:
    return Response(text, status=status, content_type="application/json")


# --- posting ---------------------------------------------------------------------------------
def post(client, provider, transport: str, document, *, our_id: str = ""):
    """The document as the provider sends it; a per-request report URL carries ?mid=."""
    path = f"/callbacks/sms/{provider.callback_token}/"
    mid = f"?mid={our_id}" if our_id and provider.config["reports"]["our_id_in_url"] else ""
    if transport == JSON:
        response = client.post(path + mid, json.dumps(document), content_type="application/json")
    elif transport == FORM:
        form = "application/x-www-form-urlencoded"
        response = client.post(path + mid, urlencode(document), content_type=form)
    else:
        query = urlencode(document)
        response = client.get(f"{path}{mid}{'&' if mid else '?'}{query}")
    assert (response.status_code, response.content) == (200, b""), response.content
    return response


def report(sample, message, moment, clock) -> dict:
    return filled(
        sample,
        {
            "<PID>": message.provider_message_id,
            "<MID>": message_ids.sign(message.id),
            "<+TO>": message.to,
            "<TO>": message.to.lstrip("+"),
            "<TIME>": clock(moment) if clock else "",
        },
    )


def stats(provider):
    span = DateRange.last(30, timezone.localdate())
    by_code, _ = errors(Scope(provider=provider), span)
    return figures(Scope(provider=provider), span).totals, [(r.code, r.count) for r in by_code]


@pytest.mark.parametrize("slug", sorted(SAMPLES))
def test_a_presets_documented_reports_and_replies_are_counted(
    slug, httpserver, client, admin_client
):
    samples = SAMPLES[slug]
    provider, (delivered, failed, pending) = sent_campaign(slug, httpserver)
    moment = (timezone.now() + timedelta(seconds=5)).replace(microsecond=0)
    late = moment - timedelta(minutes=1)  # a pending report written before the delivered one

    def send(sample, message, at=moment):
        document = report(sample, message, at, samples.clock)
        post(client, provider, samples.transport, document, our_id=message_ids.sign(message.id))

    send(samples.delivered, delivered)
    send(samples.failed, failed)
    send(samples.pending, pending)
    send(samples.delivered, delivered)  # the same report again
    send(samples.pending, delivered, late)  # out of order
    replies = [
        (reply, text, sender)
        for reply in samples.replies
        for text, sender in (("Yes please", pending), ("STOP", failed))
    ]
    for reply, text, sender in replies:
        post(
            client, provider, samples.transport, report(reply(text), sender, moment, samples.clock)
        )

    outcomes = dict(Message.objects.values_list("id", "outcome"))
    assert outcomes == {delivered.id: "delivered", failed.id: "failed", pending.id: ""}
    if samples.clock:  # the report's own time, read in the documented format and zone
        assert Event.objects.get(type="delivered").ts == moment
    assert Event.objects.filter(type="status").count() == 2  # kept, counted nowhere
    totals, by_code = stats(provider)
    assert (totals.delivered, totals.failed, totals.replies) == (1, 1, len(replies))
    assert by_code == [(samples.code, 1)]
    page = admin_client.get(f"/settings/channels/sms/providers/{provider.pk}/stats/errors/")
    assert f'<span class="event-code mono">{samples.code}</span>' in page.content.decode()
    rows = CallbackRequest.objects.order_by("id")
    assert [r.duplicate_events for r in rows] == [0, 0, 0, 1, 0] + [0] * len(replies)
    assert {(r.status, r.unmatched_events) for r in rows} == {(RequestStatus.PROCESSED, 0)}
    assert OptOut.objects.filter(phone=failed.to).exists() == bool(replies)
    assert not OptOut.objects.filter(phone=pending.to).exists()
    if replies:
        texts = set(Event.objects.filter(type="replied").values_list("message_id", "text"))
        assert texts == {(pending.id, "Yes please"), (failed.id, "STOP")}


@pytest.mark.parametrize("slug", sorted(CONDITIONAL_REPLIES))
def test_a_reply_that_looks_like_a_report_is_read_as_a_reply(slug, httpserver, client):
    provider, (message,) = sent_campaign(slug, httpserver, count=1)
    moment = timezone.now().replace(microsecond=0)
    reply = report(CONDITIONAL_REPLIES[slug]("STOP"), message, moment, SAMPLES[slug].clock)

    post(client, provider, SAMPLES[slug].transport, reply)

    assert Event.objects.get().type == "replied"
    assert OptOut.objects.filter(phone=message.to).exists()


@pytest.mark.parametrize("slug", REFERENCE_ONLY)
def test_a_preset_without_a_public_report_format_takes_the_reference_json(slug, httpserver, client):
    provider, (message,) = sent_campaign(slug, httpserver, count=1)
    sample = {"ts": 1_435_322_805, "meta": message_ids.sign(message.id), "description": "ok"}

    response = client.post(
        f"/callbacks/sms/{provider.callback_token}/",
        json.dumps([{"event": "delivered", "data": [sample]}]),
        content_type="application/json",
    )

    assert response.status_code == 200
    assert response.json()["data"]["processed_events"] == 1
    message.refresh_from_db()
    assert message.outcome == "delivered"
