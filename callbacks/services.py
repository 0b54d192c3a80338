"""Recording a request's events (SPEC §6.5): attributed, deduplicated, set-based.

A request of 100 events costs a handful of queries: one look-up of the messages their
`meta` names, one INSERT … ON CONFLICT DO NOTHING RETURNING for the events (the unique
dedup key makes a repeated event a no-op), one UPDATE for the messages' outcomes (written by
campaigns.message_writes, the owner of the messages).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from django.db import connection
from django.utils import timezone

from audiences import optouts
from campaigns import message_writes
from campaigns.models import DispatchReason, Message, MessageState
from providers import message_ids
from providers.models import Provider
from smshub import db
from stats.rollups import Tally

from .events import CLICKED, DELIVERED, FAILED, OUTCOMES, REPLIED, NormalizedEvent
from .models import CallbackRequest, Event
from .responses import Counts

REPLY_MATCH_WINDOW = timedelta(days=7)
INSERT_CHUNK = 500


@dataclass(frozen=True)
class Target:
    message_id: int
    campaign_id: int
    phone: str
    outcome_unknown: bool = False  # the sweeper gave up on it: a report proves it was sent


def record_events(
    provider: Provider, request: CallbackRequest | None, events: Sequence[NormalizedEvent]
) -> Counts:
    """Store the events of one request; call inside the transaction that stores the request.
    Returns how many were processed, already known (duplicates) and not attributable."""
    now = timezone.now()
    targets = _targets(provider, events)
    rows = []
    for event in events:
        target = targets.get(_target_key(event))
        rows.append((event, target, _dedup_key(event, target)))
    inserted = _insert(provider, request, rows, now)
    # A key inserted once: a record repeated within the request is a duplicate too.
    new, seen = [], set()
    for event, target, key in rows:
        if key in inserted and key not in seen:
            seen.add(key)
            new.append((event, target))
    tally = Tally()
    reached = {t.message_id for _, t in new if t is not None and t.outcome_unknown}
    message_writes.mark_reached(reached, tally)
    message_writes.apply_reports(provider.pk, _reports(new), tally)
    for event, target in new:
        if target is not None and event.type in (CLICKED, REPLIED):
            counter = "clicks" if event.type == CLICKED else "replies"
            tally.add(provider.pk, target.campaign_id, event.ts, counter)
    _apply_replies(new)
    tally.save()  # last: its rows stay locked until the commit
    unmatched = sum(1 for _, target, _ in rows if target is None)
    return Counts(len(events), len(rows) - len(new), unmatched)


# --- attribution ----------------------------------------------------------------------------
def match_events(
    provider: Provider, events: Sequence[NormalizedEvent]
) -> list[tuple[int, str] | None]:
    """Which message (id, number) each event would belong to; reads only (Try a report)."""
    targets = _targets(provider, events)
    found = (targets.get(_target_key(event)) for event in events)
    return [(target.message_id, target.phone) if target else None for target in found]


def _target_key(event: NormalizedEvent) -> str:
    if event.meta:
        return f"meta:{event.meta}"
    if event.provider_message_id:
        return f"id:{event.provider_message_id}|{event.to_phone}"
    return f"from:{event.from_phone}"


def _targets(provider: Provider, events: Sequence[NormalizedEvent]) -> dict[str, Target]:
    """The message each event belongs to: by its verified `meta` (one query for all), else by
    the provider's message id (SPEC §5.3), or an inbound reply by the latest message to its
    sender within 7 days."""
    by_meta: dict[str, int] = {}
    by_provider_id: list[NormalizedEvent] = []
    for event in events:
        if event.meta:
            try:
                by_meta[event.meta] = message_ids.verify(event.meta)
                continue
            except message_ids.InvalidMessageId:
                pass  # altered, forged or not ours: unmatched, unless the provider's id says
        if event.provider_message_id:
            by_provider_id.append(event)
    found = {row[0]: _target(row) for row in _messages_of(provider, set(by_meta.values()))}
    targets = {
        f"meta:{meta}": found[message_id]
        for meta, message_id in by_meta.items()
        if message_id in found
    }
    targets.update(_by_provider_id(provider, by_provider_id))
    since = timezone.now() - REPLY_MATCH_WINDOW
    for phone in {e.from_phone for e in events if not e.meta and e.from_phone}:
        latest = (
            Message.objects.filter(provider=provider, to=phone, sent_at__gte=since)
            .order_by("-sent_at", "-id")
            .values_list("id", "campaign_id", "to", *UNKNOWN_COLUMNS)
            .first()
        )
        if latest:
            targets[f"from:{phone}"] = _target(latest)
    return targets


UNKNOWN_COLUMNS = ("state", "reason")


def _by_provider_id(provider: Provider, events: list[NormalizedEvent]) -> dict[str, Target]:
    """Reports matched by the provider's id of the message: the one message it answered that
    id for, or, for an id it gave every recipient of a request, the one sent to the report's
    number."""
    if not events:
        return {}
    ids = {event.provider_message_id for event in events}
    rows = Message.objects.filter(provider=provider, provider_message_id__in=ids).values_list(
        "id", "campaign_id", "to", *UNKNOWN_COLUMNS, "provider_message_id"
    )
    messages: dict[str, list[tuple]] = {}
    for *row, provider_id in rows:
        messages.setdefault(provider_id, []).append(tuple(row))
    targets = {}
    for event in events:
        candidates = messages.get(event.provider_message_id, [])
        if len(candidates) > 1:  # shared by a request: the number decides
            candidates = [row for row in candidates if row[2] == event.to_phone]
        if len(candidates) == 1:
            targets[_target_key(event)] = _target(candidates[0])
    return targets


def _target(row: tuple) -> Target:
    message_id, campaign_id, phone, state, reason = row
    unknown = state == MessageState.DISPATCH_ERROR and reason == DispatchReason.OUTCOME_UNKNOWN
    return Target(message_id, campaign_id, phone, unknown)


def _messages_of(provider: Provider, ids: set[int]) -> list[tuple]:
    """(id, campaign id, number, state, reason) of the provider's messages among `ids`. On
    PostgreSQL the ids travel as one array literal: quoting a 100-id list costs more than
    running the query."""
    if not db.is_postgresql():
        messages = Message.objects.filter(id__in=ids, provider=provider)
        return list(messages.values_list("id", "campaign_id", "to", *UNKNOWN_COLUMNS))
    table = connection.ops.quote_name(Message._meta.db_table)
    return db.fetch(
        f'SELECT id, campaign_id, "to", state, reason FROM {table} '
        "WHERE id = ANY(%s::bigint[]) AND provider_id = %s",
        [db.id_array(ids), provider.pk],
        prepare=True,
    )


def _dedup_key(event: NormalizedEvent, target: Target | None) -> str:
    """The same event for the same message: same type and ts (or the provider's identity of
    the report), same url (clicks) or text (replies), same status (intermediate statuses).
    Being a unique key, it also makes two copies arriving at once count once."""
    who = f"m{target.message_id}" if target else _target_key(event)
    what = event.url if event.type == CLICKED else event.text if event.type == REPLIED else ""
    status = event.properties.get("status", "")
    when = f"id:{event.identity}" if event.identity else f"{event.ts.timestamp():.3f}"
    raw = f"{event.type}|{who}|{when}|{what}|{status}"
    return hashlib.sha256(raw.encode()).hexdigest()


# --- writes ------------------------------------------------------------------------------------
COLUMNS = (
    "provider_id", "message_id", "campaign_id", "request_id", "type", "ts", "received_at",
    "meta", "code", "description", "url", "short_url", "text", "phone", "properties",
    "dedup_key",
)  # fmt: skip
ROW_TYPES = (
    "message_id bigint, campaign_id bigint, type text, ts timestamptz, meta text, code text, "
    "description text, url text, short_url text, text text, phone text, properties jsonb, "
    "dedup_key text"
)


def _insert(provider, request, rows, now) -> set[str]:
    """INSERT … ON CONFLICT DO NOTHING RETURNING: the dedup keys actually inserted. On
    PostgreSQL the rows travel as one JSON document read by json_to_recordset (json.dumps
    is C; psycopg adapts Python lists row by row); elsewhere as a multi-row VALUES."""
    table = connection.ops.quote_name(Event._meta.db_table)
    columns = ", ".join(connection.ops.quote_name(c) for c in COLUMNS)
    conflict = "ON CONFLICT (provider_id, dedup_key) DO NOTHING RETURNING dedup_key"
    request_id = request.pk if request else None
    inserted: set[str] = set()
    for start in range(0, len(rows), INSERT_CHUNK):
        records = [_record(*row) for row in rows[start : start + INSERT_CHUNK]]
        if db.is_postgresql():
            sql = (
                f"INSERT INTO {table} ({columns}) SELECT %s, r.message_id, r.campaign_id, %s, "
                "r.type, r.ts, %s, r.meta, r.code, r.description, r.url, r.short_url, r.text, "
                f"r.phone, r.properties, r.dedup_key "
                f"FROM json_to_recordset(%s::json) AS r({ROW_TYPES}) {conflict}"
            )
            params = [provider.pk, request_id, now, db.json_records(records)]
        else:
            ops = connection.ops
            received = ops.adapt_datetimefield_value(now)
            one = "(" + ", ".join(["%s"] * len(COLUMNS)) + ")"
            values = ", ".join([one] * len(records))
            sql = f"INSERT INTO {table} ({columns}) VALUES {values} {conflict}"
            params = [
                value
                for r in records
                for value in (
                    provider.pk, r["message_id"], r["campaign_id"], request_id, r["type"],
                    ops.adapt_datetimefield_value(r["ts"]), received,
                    r["meta"], r["code"], r["description"], r["url"], r["short_url"],
                    r["text"], r["phone"], json.dumps(r["properties"]), r["dedup_key"],
                )
            ]  # fmt: skip
        inserted.update(row[0] for row in db.fetch(sql, params, prepare=True))
    return inserted


def _record(event: NormalizedEvent, target: Target | None, key: str) -> dict:
    return {
        "message_id": target.message_id if target else None,
        "campaign_id": target.campaign_id if target else None,
        "type": event.type,
        "ts": event.ts,
        "meta": event.meta[:200],
        "code": event.code[:20],
        "description": event.description,
        "url": event.url,
        "short_url": event.short_url,
        "text": event.text,
        "phone": (target.phone if target else event.from_phone)[:32],
        "properties": event.properties,
        "dedup_key": key,
    }


def _reports(new: list[tuple[NormalizedEvent, Target | None]]) -> dict[int, message_writes.Report]:
    """What the new events say about each message they belong to: its latest outcome (the
    later event by `ts` wins) and its earliest delivered, failed and clicked report."""
    reports: dict[int, message_writes.Report] = {}
    for event, target in new:
        if target is None or event.type not in (DELIVERED, FAILED, CLICKED):
            continue
        report = reports.setdefault(target.message_id, message_writes.Report(target.campaign_id))
        if event.type in OUTCOMES and (report.outcome_at is None or event.ts > report.outcome_at):
            report.outcome, report.outcome_at = event.type, event.ts
        first = getattr(report, event.type)  # Report names its fields after the event types
        if first is None or event.ts < first:
            setattr(report, event.type, event.ts)
            if event.type == FAILED:
                report.failure_code = event.code[:20]
    return reports


def _apply_replies(new: list[tuple[NormalizedEvent, Target | None]]) -> None:
    """STOP-like replies opt the number out, START-like ones back in (SPEC §4), in ts order."""
    replies = sorted((e for e in new if e[0].type == REPLIED), key=lambda pair: pair[0].ts)
    for event, target in replies:
        phone = target.phone if target else event.from_phone
        if phone:
            optouts.apply_reply(phone, event.text)
