"""What happens to each message the sandbox accepts (SPEC §3.6): pure, no database, no clock.

Every decision is drawn from a random generator seeded by the message's ref (its
`$$MessageID`), so the same message always meets the same fate at the same offset from its
receipt. That makes the callbacks of a retried task identical to the first attempt's, which
the hub's deduplication (same event, same `ts`) then counts once.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Sequence
from dataclasses import dataclass

from callbacks.events import CLICKED, DELIVERED, ERROR_CODES, FAILED, REPLIED
from campaigns import links

DELIVERED_SHARE = 0.90
CLICKED_SHARE = 0.08  # of the delivered messages that hold a link
REPLIED_SHARE = 0.03  # of the delivered messages
STOP_SHARE = 0.25  # of the replies
DELIVERED_DESCRIPTION = "Delivered to handset"
# Failure codes of SPEC §6.4 with their weights: mostly the carrier-side outcomes a real
# provider reports most often.
FAILURE_WEIGHTS = {"914": 30, "910": 20, "916": 15, "904": 10, "901": 10, "912": 10, "915": 5}
REPLY_TEXTS = ("Thanks!", "When does it end?")
STOP = "STOP"
# Milliseconds after receipt: the outcome comes first, then any click or reply, all within
# the default callback delay so no event is dated after the callback that reports it.
OUTCOME_AFTER_MS = (400, 2000)
REACTION_AFTER_MS = (200, 1000)
MAX_RECORDS_PER_CALLBACK = 1000
EVENT_ORDER = (DELIVERED, FAILED, CLICKED, REPLIED)


@dataclass(frozen=True)
class Submitted:
    """One message as the sandbox received it: its ref, number and the first link of its
    text (empty when it has none)."""

    ref: str
    to: str
    url: str = ""


def first_url(text: str) -> str:
    """The first link of a text, as a phone opens it (www.… gets http://)."""
    return links.original_url(text, 0) or ""


def provider_message_id(ref: str) -> str:
    """The sandbox's own id of a message: stable for a ref, so a re-sent message keeps it."""
    return "SBX-" + hashlib.sha256(ref.encode()).hexdigest()[:16].upper()


def fate(message: Submitted, received_ms: int, *, link_base: str = "") -> list[tuple[str, dict]]:
    """The message's events as (event, record) pairs of SPEC §6.2, `ts` in epoch
    milliseconds. `link_base` is the hub's tracked-link prefix: such a link is reported as
    its own short URL."""
    rng = random.Random(hashlib.sha256(message.ref.encode()).digest())
    # Every draw happens whatever the outcome, so one decision never shifts another.
    outcome_draw, code_draw = rng.random(), rng.random()
    outcome_ts = received_ms + rng.randint(*OUTCOME_AFTER_MS)
    click_draw, click_ts = rng.random(), outcome_ts + rng.randint(*REACTION_AFTER_MS)
    reply_draw, reply_ts = rng.random(), outcome_ts + rng.randint(*REACTION_AFTER_MS)
    stop_draw, text_draw = rng.random(), rng.randrange(len(REPLY_TEXTS))

    if outcome_draw >= DELIVERED_SHARE:
        code = _failure_code(code_draw)
        failed = {"ts": outcome_ts, "meta": message.ref, "code": code}
        return [(FAILED, {**failed, "description": ERROR_CODES[code]})]
    events = [
        (DELIVERED, {"ts": outcome_ts, "meta": message.ref, "description": DELIVERED_DESCRIPTION})
    ]
    if message.url and click_draw < CLICKED_SHARE:
        click = {"ts": click_ts, "meta": message.ref, "url": message.url}
        if link_base and message.url.startswith(link_base):
            click["shorturl"] = message.url
        events.append((CLICKED, click))
    if reply_draw < REPLIED_SHARE:
        text = STOP if stop_draw < STOP_SHARE else REPLY_TEXTS[text_draw]
        events.append((REPLIED, {"ts": reply_ts, "meta": message.ref, "incomingText": text}))
    return events


def _failure_code(draw: float) -> str:
    total = sum(FAILURE_WEIGHTS.values())
    threshold = draw * total
    for code, weight in FAILURE_WEIGHTS.items():
        threshold -= weight
        if threshold < 0:
            return code
    return next(reversed(FAILURE_WEIGHTS))  # reached only by rounding at draw ≈ 1


def callback_payloads(
    messages: Sequence[Submitted], received_ms: int, *, link_base: str = ""
) -> list[list[dict]]:
    """The callback requests reporting these messages' fates: each a SPEC §6.2 array of
    {"event", "data"} groups, at most MAX_RECORDS_PER_CALLBACK records per request."""
    by_event: dict[str, list[dict]] = {event: [] for event in EVENT_ORDER}
    for message in messages:
        for event, record in fate(message, received_ms, link_base=link_base):
            by_event[event].append(record)
    flat = [(event, record) for event in EVENT_ORDER for record in by_event[event]]
    return [
        _grouped(flat[start : start + MAX_RECORDS_PER_CALLBACK])
        for start in range(0, len(flat), MAX_RECORDS_PER_CALLBACK)
    ]


def _grouped(records: Sequence[tuple[str, dict]]) -> list[dict]:
    groups: list[dict] = []
    for event, record in records:
        if not groups or groups[-1]["event"] != event:
            groups.append({"event": event, "data": []})
        groups[-1]["data"].append(record)
    return groups
