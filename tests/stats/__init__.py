"""Driving sends and callbacks for real in the stats tests: a Generic provider on a local HTTP
server, dispatch at a chosen time, and callbacks posted to the endpoint."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from django.utils import timezone

from providers import message_ids
from tests.campaigns.helpers import run, sending_campaign
from tests.providers.helpers import create_generic

WITH_CALLBACKS = '{"to": "$$To", "text": "$$Body", "ref": "$$MessageID"}'
WITHOUT_CALLBACKS = '{"to": "$$To", "text": "$$Body"}'


class Clock:
    """`django.utils.timezone.now` held at a chosen moment, so dispatch dates its sends (and
    the tracked-link redirect its clicks) when a test says."""

    def __init__(self, monkeypatch, moment: datetime):
        self.now = moment
        monkeypatch.setattr(timezone, "now", lambda: self.now)

    def set(self, moment: datetime) -> None:
        self.now = moment


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def generic(httpserver, nickname: str = "Acme SMS", *, callbacks: bool = True, **fields):
    """A Generic provider posting to the local server; without `$$MessageID` in its payload
    no delivery report can name a message (`registry.has_callbacks` is false)."""
    return create_generic(
        None,
        nickname=nickname,
        endpoint=httpserver.url_for("/sms"),
        json_body=WITH_CALLBACKS if callbacks else WITHOUT_CALLBACKS,
        **fields,
    )


def send(provider, count: int = 1, **fields):
    """A campaign of `count` messages, sent now (as the clock says) by one worker."""
    campaign = sending_campaign(provider, count, **fields)
    run(campaign)
    return campaign


def meta(message) -> str:
    return message_ids.sign(message.pk)


def epoch(moment: datetime) -> int:
    return int(moment.timestamp())


def delivered(message, ts: int) -> dict:
    return {"event": "delivered", "data": [{"ts": ts, "meta": meta(message), "description": "ok"}]}


def failed(message, ts: int, code: str = "914") -> dict:
    record = {"ts": ts, "meta": meta(message), "code": code, "description": "not delivered"}
    return {"event": "failed", "data": [record]}


def clicked(message, ts: int, url: str = "https://shop.example/sale") -> dict:
    return {"event": "clicked", "data": [{"ts": ts, "meta": meta(message), "url": url}]}


def replied(message, ts: int, text: str = "Thanks") -> dict:
    return {"event": "replied", "data": [{"ts": ts, "meta": meta(message), "incomingText": text}]}


def post(client, provider, *events: dict) -> dict:
    """POST the events to the provider's callback endpoint; returns the 200 answer's data."""
    response = client.post(
        f"/callbacks/sms/{provider.callback_token}/",
        json.dumps(list(events)),
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    return response.json()["data"]
