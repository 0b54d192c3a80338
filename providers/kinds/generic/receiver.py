"""Reading a Generic provider's JSON callback (SPEC §6.2): pure, no database.

A request is rejected whole when any record is wrong, so a rejected request changes nothing.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from django.conf import settings

from callbacks.events import (
    CLICKED,
    DELIVERED,
    FAILED,
    REPLIED,
    NormalizedEvent,
    error_description,
)
from callbacks.receivers.base import REPLY_KEPT, Parsed, Receiver, Rejected
from smshub import jsonsafe

from . import reports
from .reports import INBOUND, ReportMapping

MANDATORY = {
    DELIVERED: ("ts", "meta", "description"),
    FAILED: ("ts", "meta", "code", "description"),
    CLICKED: ("ts", "meta", "url"),
    REPLIED: ("ts", "meta", "incomingText"),
}
MILLISECONDS_FROM = 10**12  # a `ts` above this is in milliseconds


class GenericReceiver(Receiver):
    """The reference's JSON (SPEC §6.2) by default; the provider's own reports and inbound
    messages when its configuration maps them (SPEC §5.3, §5.4: reports.py)."""

    def accepts_get(self, provider) -> bool:
        return ReportMapping.of(provider.config).is_native

    def parse(self, request, provider) -> Parsed:
        mapping = ReportMapping.of(provider.config)
        if not mapping.is_native:
            return Parsed(parse(bytes(request.body), max_records=settings.CALLBACK_MAX_RECORDS))
        items = reports.read(
            mapping,
            body=bytes(request.body),
            content_type=request.content_type,
            query=request.query,
            received_at=request.received_at,
        )
        inbound = [item.event for item in items if item.event and item.outcome == INBOUND]
        events = [item.event for item in items if item.event and item.outcome != INBOUND]
        if not (events or inbound):
            missing = list(dict.fromkeys(path for item in items for path in item.missing))
            if missing:
                raise Rejected(400, "Bad request. Some mandatory parameter was missing.", missing)
            raise Rejected(400, "Bad request. The request holds no reports.")
        return Parsed(events, inbound, empty_answer=True)


def parse(body: bytes, *, max_records: int) -> list[NormalizedEvent]:
    """Every record of the request as a NormalizedEvent, or Rejected: 400 naming every
    missing key, 413 past `max_records`."""
    try:
        document = jsonsafe.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise Rejected(400, f"Bad request. The body is not valid JSON: {exc}.") from exc
    groups = document if isinstance(document, list) else [document]
    missing: dict[str, None] = {}
    problems: list[str] = []
    events: list[NormalizedEvent] = []
    records = 0
    for position, group in enumerate(groups):
        if not isinstance(group, dict):
            problems.append(f"item {position} is not an object")
            continue
        for key in ("event", "data"):
            if key not in group:
                missing[key] = None
        kind = group.get("event")
        data = group.get("data")
        if kind is None or data is None:
            continue
        if kind not in MANDATORY:
            problems.append(f"unknown event {kind!r} (expected one of {', '.join(MANDATORY)})")
            continue
        if not isinstance(data, list):
            problems.append(f"'data' of {kind!r} must be an array of records")
            continue
        records += len(data)
        if records > max_records:
            raise Rejected(413, f"Payload Too Large: more than {max_records} records.")
        for record in data:
            if not isinstance(record, dict):
                problems.append(f"a record of {kind!r} is not an object")
                continue
            absent = [key for key in MANDATORY[kind] if _blank(record.get(key))]
            for key in absent:
                missing[key] = None
            if absent:
                continue
            try:
                events.append(_event(kind, record))
            except ValueError as exc:
                problems.append(str(exc))
    if missing:
        raise Rejected(400, "Bad request. Some mandatory parameter was missing.", list(missing))
    if problems:
        raise Rejected(400, f"Bad request. {problems[0][0].upper()}{problems[0][1:]}.")
    if not events:
        raise Rejected(400, "Bad request. The request holds no events.")
    return events


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _event(event_type: str, record: dict) -> NormalizedEvent:
    ts = parse_ts(record["ts"])
    meta = _text(record["meta"], "meta")
    if event_type == DELIVERED:
        return NormalizedEvent(
            DELIVERED, ts, meta, description=_text(record["description"], "description")
        )
    if event_type == FAILED:
        code = _text(record["code"], "code")
        description = error_description(code, _text(record["description"], "description"))
        return NormalizedEvent(FAILED, ts, meta, code=code, description=description)
    if event_type == CLICKED:
        url = _text(record["url"], "url")
        short_url = _text(record.get("shorturl") or "", "shorturl")
        return NormalizedEvent(
            CLICKED,
            ts,
            meta,
            url=url,
            short_url=short_url,
            properties={"wzrk_c2a": url, "wzrk_c2a_short_url": short_url},
        )
    text = _text(record["incomingText"], "incomingText").strip()[:REPLY_KEPT]
    to_phone = _text(record.get("toPhone") or "", "toPhone")
    return NormalizedEvent(REPLIED, ts, meta, text=text, to_phone=to_phone)


def parse_ts(value: Any) -> datetime:
    """Unix epoch seconds, as an integer or a numeric string; above 10^12, milliseconds."""
    if isinstance(value, bool):
        raise ValueError("'ts' must be a Unix timestamp, not true/false")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"'ts' must be a Unix timestamp, not {value!r}") from None
    if number != number or number < 0:  # NaN or negative
        raise ValueError(f"'ts' must be a Unix timestamp, not {value!r}")
    if number >= MILLISECONDS_FROM:
        number /= 1000
    try:
        return datetime.fromtimestamp(number, tz=UTC)
    except (OverflowError, OSError, ValueError):
        raise ValueError(f"'ts' is out of range: {value!r}") from None


def _text(value: Any, key: str) -> str:
    """Codes and the like may come as numbers; objects and arrays are wrong types."""
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    raise ValueError(f"'{key}' must be a string, not {type(value).__name__}")
