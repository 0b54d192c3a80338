"""Hostile callbacks (SPEC §6.1, §6.3, §6.5, §8): each gets its exact answer and changes no
count. Every malformed request also carries a good record (a delivery of a message not yet
delivered), so a request applied in part would show in the books; a well-formed record whose
`meta` is forged or another provider's is stored unmatched, attributed to nothing."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

import pytest

from callbacks.models import CallbackRequest, Event, RequestStatus
from providers import services as provider_services
from tests.callbacks.test_generic_callbacks import delivered, meta, post
from tests.callbacks.test_twilio_callbacks import FORBIDDEN, sign, status_form, status_url
from tests.callbacks.test_twilio_callbacks import twilio_posts as post_twilio
from tests.providers.helpers import create_generic, create_twilio

from .callback_books import TS, books, sent_messages

MISSING = "Bad request. Some mandatory parameter was missing."


@dataclass
class Scene:
    """Acme's three sent messages (the first already delivered and clicked, through the
    endpoint), another Generic provider's message, and a Twilio provider's message."""

    acme: object
    messages: list
    foreign: object
    twilio: object
    twilio_message: object

    def good(self) -> dict:
        return {"event": "delivered", "data": [delivered(self.messages[1], ts=TS)]}


@pytest.fixture
def scene(client, db) -> Scene:
    acme = create_generic(None, nickname="Acme", endpoint="https://api.example.com/sms")
    messages = sent_messages(acme, 3)
    other = create_generic(None, nickname="Other", endpoint="https://api.example.org/sms")
    twilio = create_twilio(None)
    click = {"ts": TS + 5, "meta": meta(messages[0]), "url": "https://shop.example"}
    accepted = post(
        client,
        acme,
        [
            {"event": "delivered", "data": [delivered(messages[0], ts=TS)]},
            {"event": "clicked", "data": [click]},
        ],
    )
    assert accepted.status_code == 200
    return Scene(acme, messages, sent_messages(other, 1)[0], twilio, sent_messages(twilio, 1)[0])


def forged(message) -> dict:
    """A delivered record of `message` whose token has one character of its MAC changed."""
    token = meta(message)
    return {**delivered(message), "meta": token[:20] + "AB"[token[20] == "A"] + token[21:]}


def records(message, count: int) -> list[dict]:
    """`count` delivered records of `message`, each with its own time."""
    return [delivered(message, ts=TS + i) for i in range(count)]


def bad_request(message: str, missing: list[str] | None = None) -> dict:
    return {
        "status": "error",
        "message": message,
        "error_code": 400,
        "details": {"missing_fields": missing or []},
    }


def error(status: int, message: str) -> dict:
    return {"status": "error", "message": message, "error_code": status}


def unmatched_one() -> dict:
    return {
        "status": "success",
        "message": "Callback processed successfully",
        "data": {"processed_events": 1, "duplicate_events": 0, "unmatched_events": 1},
    }


def with_good(*groups: dict) -> Callable:
    """A request of the scene's good group followed by `groups`."""
    return lambda client, s: post(client, s.acme, [s.good(), *groups])


def record_with(**fields) -> Callable:
    """A request of the good group and a delivered record with `fields` changed."""

    def send(client, s):
        record = {**delivered(s.messages[1], ts=TS), **fields}
        return post(client, s.acme, [s.good(), {"event": "delivered", "data": [record]}])

    return send


def post_to(client, token: str, payload):
    return client.post(
        f"/callbacks/sms/{token}/", json.dumps(payload), content_type="application/json"
    )


def rotated_token(client, s):
    """The good request, posted to the URL the token had before an admin rotated it."""
    old = s.acme.callback_token
    provider_services.rotate_callback_token(s.acme, None)
    return post_to(client, old, [s.good()])


def forged_twilio_signature(client, s):
    url = status_url(s.twilio, s.twilio_message)
    form = status_form("delivered")
    return post_twilio(client, url, form, signature=sign(url, form, token="not-the-auth-token"))


@dataclass(frozen=True)
class Hostile:
    send: Callable  # (client, scene) -> response
    status: int
    answer: dict  # the JSON answer, timestamps left out
    kept: str | None  # the request record kept: rejected, processed (unmatched) or none


HOSTILE = {
    "bad JSON": Hostile(
        lambda client, s: post(client, s.acme, b'{not json, "event": "delivered"}'),
        400,
        bad_request(
            "Bad request. The body is not valid JSON: Expecting property name enclosed in "
            "double quotes: line 1 column 2 (char 1)."
        ),
        RequestStatus.REJECTED,
    ),
    "missing keys": Hostile(
        lambda client, s: post(
            client,
            s.acme,
            [s.good(), {"event": "failed", "data": [{"ts": TS, "meta": meta(s.messages[2])}]}],
        ),
        400,
        bad_request(MISSING, ["code", "description"]),
        RequestStatus.REJECTED,
    ),
    "missing event and data": Hostile(
        with_good({}), 400, bad_request(MISSING, ["event", "data"]), RequestStatus.REJECTED
    ),
    "ts of the wrong type": Hostile(
        record_with(ts="soon"),
        400,
        bad_request("Bad request. 'ts' must be a Unix timestamp, not 'soon'."),
        RequestStatus.REJECTED,
    ),
    "meta of the wrong type": Hostile(
        record_with(meta=["a", "list"]),
        400,
        bad_request("Bad request. 'meta' must be a string, not list."),
        RequestStatus.REJECTED,
    ),
    "data of the wrong type": Hostile(
        with_good({"event": "clicked", "data": {"ts": TS}}),
        400,
        bad_request("Bad request. 'data' of 'clicked' must be an array of records."),
        RequestStatus.REJECTED,
    ),
    "unknown event": Hostile(
        with_good({"event": "opened", "data": []}),
        400,
        bad_request(
            "Bad request. Unknown event 'opened' (expected one of delivered, failed, clicked, "
            "replied)."
        ),
        RequestStatus.REJECTED,
    ),
    "10,001 records": Hostile(
        lambda client, s: post(
            client, s.acme, [{"event": "delivered", "data": records(s.messages[1], 10_001)}]
        ),
        413,
        error(413, "Payload Too Large: more than 10000 records."),
        RequestStatus.REJECTED,
    ),
    "a 6 MB body": Hostile(
        record_with(description="x" * (6 * 1024 * 1024)),
        413,
        error(413, "Payload Too Large"),
        None,
    ),
    "forged meta MAC": Hostile(
        lambda client, s: post(
            client, s.acme, [{"event": "delivered", "data": [forged(s.messages[1])]}]
        ),
        200,
        unmatched_one(),
        RequestStatus.PROCESSED,
    ),
    "another provider's meta": Hostile(
        lambda client, s: post(
            client, s.acme, [{"event": "delivered", "data": [delivered(s.foreign)]}]
        ),
        200,
        unmatched_one(),
        RequestStatus.PROCESSED,
    ),
    "forged Twilio signature": Hostile(
        forged_twilio_signature, 403, FORBIDDEN, RequestStatus.REJECTED
    ),
    "GET": Hostile(
        lambda client, s: client.get(f"/callbacks/sms/{s.acme.callback_token}/"),
        405,
        error(405, "Method Not Allowed"),
        None,
    ),
    "PUT": Hostile(
        lambda client, s: client.put(
            f"/callbacks/sms/{s.acme.callback_token}/",
            json.dumps([s.good()]),
            content_type="application/json",
        ),
        405,
        error(405, "Method Not Allowed"),
        None,
    ),
    "rotated token": Hostile(rotated_token, 404, error(404, "Not Found"), None),
    "invalid token": Hostile(
        lambda client, s: post_to(client, "not-a-callback-token-at-all", [s.good()]),
        404,
        error(404, "Not Found"),
        None,
    ),
}


def without_timestamps(answer: dict) -> dict:
    """The answer with its `timestamp` (in `data` or `details`) checked and left out."""
    answer = dict(answer)
    for part in ("data", "details"):
        if part in answer:
            answer[part] = dict(answer[part])
            assert isinstance(answer[part].pop("timestamp"), int)
    return answer


@pytest.mark.parametrize("name", HOSTILE)
def test_a_hostile_callback_gets_its_exact_answer_and_changes_no_count(client, scene, name):
    """One hostile request: its exact status and JSON, its request record (kept rejected,
    processed as unmatched, or not at all), and the books unchanged."""
    hostile = HOSTILE[name]
    before = books()
    unmatched = Event.objects.filter(message__isnull=True).count()
    kept = CallbackRequest.objects.count()

    response = hostile.send(client, scene)

    assert response.status_code == hostile.status
    assert response["Content-Type"] == "application/json"
    assert without_timestamps(response.json()) == hostile.answer
    if hostile.status == 405:
        assert response["Allow"] == "POST"
    assert books() == before
    added = 1 if hostile.kept == RequestStatus.PROCESSED else 0
    assert Event.objects.filter(message__isnull=True).count() == unmatched + added
    new = CallbackRequest.objects.order_by("id")[kept:]
    assert [(r.status, r.response_status) for r in new] == (
        [(hostile.kept, hostile.status)] if hostile.kept else []
    )
    if hostile.kept == RequestStatus.REJECTED:
        (rejected,) = new
        counts = (rejected.processed_events, rejected.duplicate_events, rejected.unmatched_events)
        assert counts == (0, 0, 0)
