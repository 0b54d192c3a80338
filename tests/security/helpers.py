"""Providers' senders as the security tests use them."""

from __future__ import annotations

from providers.base import OutgoingMessage
from providers.kinds.generic.sender import GenericSender


def send_one(config: dict, session_key: str, secrets: dict | None = None):
    sender = GenericSender(config, secrets or {}, campaign_values={}, session_key=session_key)
    message = OutgoingMessage(id=1, to="+14155550001", values={"Body": "Hi", "MessageID": "m1"})
    (request,) = sender.requests([message])
    return sender.send(request)
