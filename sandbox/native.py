"""The sandbox's second mode (SPEC §3.6, §5.3): reports in a provider's own format instead
of the reference's, so the whole path of a preset-style provider can be watched without an
account anywhere. The format is Infobip's (../shared/providers.md §3): batched JSON
`{"results": [...]}` of delivery reports, and inbound messages in the same shape; a click
is what a real phone does, a visit of the tracked link.

`MAPPING` is how the hub's Generic provider reads them (its Delivery reports section): the
Infobip preset's.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from callbacks.events import CLICKED, DELIVERED, FAILED, REPLIED
from providers.kinds.generic import presets

from .simulate import Submitted, fate, provider_message_id

STYLE_HEADER = "X-Sandbox-Reports"  # on the sandbox provider's requests: which format to post
STYLE = "infobip"
MAX_RESULTS = 100  # Infobip's default bucket of reports per request
SENDER = "SMSHUB"
INBOUND_TO = "447860099299"  # the number people reply to, as a provider reports it

# How the hub reads them: the Infobip preset's mappings, the one place they are written.
_INFOBIP = presets.get("infobip").config
MAPPING = {"reports": _INFOBIP["reports"], "inbound": _INFOBIP["inbound"]}


def report_payloads(messages: Sequence[Submitted], received_ms: int, *, link_base: str):
    """(report bodies of at most MAX_RESULTS results each, (ref, tracked link) each person
    opened)."""
    results, opened = [], []
    for message in messages:
        for event, record in fate(message, received_ms, link_base=link_base):
            if event in (DELIVERED, FAILED):
                results.append(_report(message, event, record))
            elif event == REPLIED:
                results.append(_inbound(message, record))
            elif event == CLICKED and record.get("shorturl"):
                opened.append((message.ref, record["shorturl"]))
    bodies = [
        {"results": results[start : start + MAX_RESULTS]}
        for start in range(0, len(results), MAX_RESULTS)
    ]
    return bodies, opened


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).isoformat(timespec="milliseconds")


def _report(message: Submitted, event: str, record: dict) -> dict:
    delivered = event == DELIVERED
    return {
        "bulkId": "SANDBOX",
        "messageId": provider_message_id(message.ref),
        "to": message.to.lstrip("+"),
        "sender": SENDER,
        "sentAt": _iso(record["ts"] - 300),
        "doneAt": _iso(record["ts"]),
        "messageCount": 1,
        "callbackData": message.ref,
        "status": {
            "groupId": 3 if delivered else 2,
            "groupName": "DELIVERED" if delivered else "UNDELIVERABLE",
            "name": "DELIVERED_TO_HANDSET" if delivered else "UNDELIVERABLE_NOT_DELIVERED",
        },
        "error": {
            "groupName": "OK" if delivered else "HANDSET_ERRORS",
            "id": 0 if delivered else int(record["code"]),
            "name": "NO_ERROR" if delivered else record["description"],
        },
    }


def _inbound(message: Submitted, record: dict) -> dict:
    return {
        "messageId": provider_message_id(message.ref + ":reply"),
        "from": message.to.lstrip("+"),
        "to": INBOUND_TO,
        "text": record["incomingText"],
        "receivedAt": _iso(record["ts"]),
    }
