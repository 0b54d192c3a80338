"""Reading a Generic provider's own delivery reports and inbound messages (SPEC §5.3, §5.4):
pure, no database. The mapping (Provider.config["reports"] and ["inbound"]) says how to
decode a request, where its reports are, how to match each to a message and what it means.

Paths are the JSON paths of providers/response_mapping.py. `items_path` is read from the
whole document; every other path from one item, which also sees the plain fields of the
objects around it (MSG91 puts `requestId` beside the list of its reports). Form and query
fields are read as one flat object: `$.Status`, `$["err-code"]`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from callbacks.events import DELIVERED, FAILED, REPLIED, STATUS, NormalizedEvent, error_description
from callbacks.receivers.base import REPLY_KEPT, Rejected
from smshub import jsonsafe

from ...response_mapping import parse_path, select

REFERENCE, JSON, FORM, QUERY = "reference", "json", "form", "query"
FORMATS = (REFERENCE, JSON, FORM, QUERY)
PENDING = "pending"
INBOUND = "inbound"  # an Item's outcome: a message sent to us, not a report
OUTCOMES = (DELIVERED, FAILED, PENDING)
ISO, EPOCH_S, EPOCH_MS = "iso", "epoch_s", "epoch_ms"
OUR_ID_PARAMETER = "mid"  # ?mid=$$MessageID on a per-request report URL
MAX_ITEMS = 10_000


@dataclass(frozen=True)
class InboundMapping:
    from_path: str = ""
    to_path: str = ""
    text_path: str = ""
    id_path: str = ""  # the provider's id of the message: a repeat is recognised by it
    # Where one URL takes both and a reply looks like a report (Telnyx's carries a status
    # too): an item is inbound when the value at this path is `when_value`.
    when_path: str = ""
    when_value: str = ""

    @property
    def enabled(self) -> bool:
        return bool(self.from_path and self.text_path)

    def takes(self, fields: dict, status: str, text: str) -> bool:
        """Whether an item is a message sent to us: as the condition says, else an item with
        text and no status."""
        if self.when_path:
            return first(self.when_path, fields) == self.when_value
        return bool(text) and not status


@dataclass(frozen=True)
class ReportMapping:
    format: str = REFERENCE
    json_field: str = ""
    items_path: str = ""
    our_id_path: str = ""
    our_id_in_url: bool = False
    provider_id_path: str = ""
    number_path: str = ""
    status_path: str = ""
    status_map: dict[str, str] = field(default_factory=dict)
    error_code_path: str = ""
    error_description_path: str = ""
    time_path: str = ""
    time_format: str = ISO
    time_zone: str = "UTC"
    inbound: InboundMapping = InboundMapping()

    @classmethod
    def of(cls, config: dict) -> ReportMapping:
        reports = config.get("reports") or {}
        known = {name: reports[name] for name in cls.__dataclass_fields__ if name in reports}
        known.pop("inbound", None)
        return cls(**known, inbound=InboundMapping(**(config.get("inbound") or {})))

    @property
    def is_native(self) -> bool:
        return self.format != REFERENCE

    def outcome_of(self, status: str) -> str:
        """delivered, failed or pending: the provider's value as mapped, matched exactly,
        else ignoring case; a value not in the map is pending (kept, not counted)."""
        if status in self.status_map:
            return self.status_map[status]
        folded = {key.casefold(): value for key, value in self.status_map.items()}
        return folded.get(status.casefold(), PENDING)


@dataclass(frozen=True)
class Item:
    """One report or inbound message as the mapping reads it, for the events and for Try a
    report."""

    fields: dict
    event: NormalizedEvent | None
    status: str = ""
    outcome: str = ""  # delivered, failed, pending, or INBOUND
    problem: str = ""
    missing: tuple[str, ...] = ()  # the mapping's paths that found nothing


def read(
    mapping: ReportMapping, *, body: bytes, content_type: str, query: str, received_at: datetime
) -> list[Item]:
    """Every item of one request, or Rejected (400) when the request cannot be decoded."""
    document = decode(mapping, body, query)
    items = list(items_of(mapping.items_path, document)) if mapping.items_path else [document]
    if len(items) > MAX_ITEMS:
        raise Rejected(413, f"Payload Too Large: more than {MAX_ITEMS} records.")
    our_id = _query_fields(query).get(OUR_ID_PARAMETER, "") if mapping.our_id_in_url else ""
    return [_item(mapping, fields, our_id, received_at) for fields in items]


# --- decoding ---------------------------------------------------------------------------------
def decode(mapping: ReportMapping, body: bytes, query: str) -> Any:
    """The request as one document: its JSON body, or its form and query fields as a flat
    object (a form body's fields win over the query's); a field holding JSON is decoded."""
    if mapping.format == JSON:
        document = _json(body, "body")
    else:
        fields = _query_fields(query)
        if body:
            fields.update(_form_fields(body))
        document = fields
    if mapping.json_field and isinstance(document, dict):
        value = document.get(mapping.json_field)
        if value is None:
            raise Rejected(
                400, "Bad request. Some mandatory parameter was missing.", [mapping.json_field]
            )
        document = _json(str(value).encode(), f"field {mapping.json_field!r}")
    return document


def _json(raw: bytes, what: str) -> Any:
    try:
        return jsonsafe.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise Rejected(400, f"Bad request. The {what} is not valid JSON: {exc}.") from exc


def _form_fields(body: bytes) -> dict[str, str]:
    try:
        parsed = parse_qs(body.decode("utf-8"), keep_blank_values=True, errors="strict")
    except UnicodeDecodeError as exc:
        raise Rejected(400, f"Bad request. The form body is not valid UTF-8: {exc}.") from exc
    return {name: values[0] for name, values in parsed.items()}


def _query_fields(query: str) -> dict[str, str]:
    parsed = parse_qs(query, keep_blank_values=True)
    return {name: values[0] for name, values in parsed.items()}


def items_of(path: str, document: Any) -> list[dict]:
    """The objects the path selects, each with the plain fields (text, numbers, booleans)
    of the objects around it that it does not have itself."""
    found: list[tuple[Any, dict]] = [(document, {})]
    for step in parse_path(path):
        selected = []
        for value, around in found:
            inherited = {**around, **_plain(value)} if isinstance(value, dict) else around
            if step is None:
                children = value if isinstance(value, list) else []
            elif isinstance(value, dict if isinstance(step, str) else list):
                try:
                    children = [value[step]]
                except (KeyError, IndexError):
                    children = []
            else:
                children = []
            selected.extend((child, inherited) for child in children)
        found = selected
    return [{**around, **value} for value, around in found if isinstance(value, dict)]


def _plain(value: dict) -> dict:
    return {k: v for k, v in value.items() if isinstance(v, str | int | float | bool)}


# --- one item ---------------------------------------------------------------------------------
def first(path: str, fields: Any) -> str:
    """The first value the path selects, as text ("" when none, or an object or array)."""
    if not path:
        return ""
    for value in select(path, fields):
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, str | int | float):
            return str(value).strip()
    return ""


def _item(mapping: ReportMapping, fields: dict, url_id: str, received_at: datetime) -> Item:
    status = first(mapping.status_path, fields)
    inbound = mapping.inbound
    text = first(inbound.text_path, fields) if inbound.enabled else ""
    try:
        ts = timestamp(mapping, first(mapping.time_path, fields)) or received_at
    except ValueError as exc:
        return Item(fields, None, status, problem=str(exc))
    if inbound.enabled and inbound.takes(fields, status, text):
        return _inbound(mapping, fields, text, ts)
    if not status:
        path = mapping.status_path or "(no path)"
        return Item(fields, None, problem=f"no status at {path}", missing=(path,))
    our_id = first(mapping.our_id_path, fields) or url_id
    provider_id = first(mapping.provider_id_path, fields)
    number = phone(first(mapping.number_path, fields))
    if not (our_id or provider_id):
        paths = tuple(p for p in (mapping.our_id_path, mapping.provider_id_path) if p)
        return Item(fields, None, status, problem="no message id to match it by", missing=paths)
    outcome = mapping.outcome_of(status)
    code = first(mapping.error_code_path, fields) if outcome == FAILED else ""
    sent = first(mapping.error_description_path, fields) if outcome == FAILED else ""
    kind = {DELIVERED: DELIVERED, FAILED: FAILED}.get(outcome, STATUS)
    event = NormalizedEvent(
        kind,
        ts,
        meta=our_id,
        code=code,
        description=error_description(code, sent) if kind == FAILED else "",
        to_phone=number,
        provider_message_id=provider_id,
        properties={"status": status, "sid": provider_id} if provider_id else {"status": status},
        identity=f"{our_id or provider_id}:{number}:{status}",
    )
    return Item(fields, event, status, outcome)


def _inbound(mapping: ReportMapping, fields: dict, text: str, ts: datetime) -> Item:
    sender = phone(first(mapping.inbound.from_path, fields))
    if not sender:
        path = mapping.inbound.from_path
        return Item(fields, None, problem=f"no sender at {path}", missing=(path,))
    their_id = first(mapping.inbound.id_path, fields)
    event = NormalizedEvent(
        REPLIED,
        ts,
        text=text[:REPLY_KEPT],
        from_phone=sender,
        to_phone=first(mapping.inbound.to_path, fields),
        identity=f"inbound:{their_id}" if their_id else "",
    )
    return Item(fields, event, outcome=INBOUND)


DIGITS = re.compile(r"\+?\d{6,15}")


def phone(text: str) -> str:
    """A number as E.164 when it is written as one, with or without + or 00; other senders
    (short codes, names) as given."""
    compact = re.sub(r"[\s().-]", "", text)
    if compact.startswith("00"):
        compact = "+" + compact[2:]
    if DIGITS.fullmatch(compact):
        return compact if compact.startswith("+") else "+" + compact
    return text.strip()


def timestamp(mapping: ReportMapping, value: str) -> datetime | None:
    """The report's own time, read with the mapping's format and zone; None when absent."""
    if not value:
        return None
    fmt = mapping.time_format or ISO
    try:
        if fmt in (EPOCH_S, EPOCH_MS):
            seconds = float(value) / (1000 if fmt == EPOCH_MS else 1)
            return datetime.fromtimestamp(seconds, tz=UTC)
        if fmt == ISO:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        else:
            moment = datetime.strptime(value, fmt)
    except (ValueError, OverflowError, OSError):
        raise ValueError(f"the time {value!r} is not {time_format_label(fmt)}") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone(mapping.time_zone))
    return moment


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"{name!r} is not a time zone") from None


def time_format_label(fmt: str) -> str:
    return {ISO: "ISO 8601", EPOCH_S: "Unix seconds", EPOCH_MS: "Unix milliseconds"}.get(
        fmt, f"in the format {fmt}"
    )
