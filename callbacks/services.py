"""Recording a request's events (SPEC §6.5): attributed, deduplicated, set-based.

A request of 100 events costs a handful of queries: one look-up of the messages their
`meta` names, one INSERT … ON CONFLICT DO NOTHING RETURNING for the events (the unique
dedup key makes a repeated event a no-op), one UPDATE for the messages' outcomes.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import connection
from django.utils import timezone

from audiences import optouts
from campaigns.models import DispatchReason, Message, MessageState
from providers import message_ids
from providers.models import Provider
from smshub import db
from stats.rollups import Tally

from .events import CLICKED, DELIVERED, FAILED, OUTCOMES, REPLIED, NormalizedEvent
from .models import CallbackRequest, Event

REPLY_MATCH_WINDOW = timedelta(days=7)
INSERT_CHUNK = 500


@dataclass(frozen=True)
class Counts:
    processed: int
    duplicates: int
    unmatched: int


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
    _mark_reached(new, tally)
    _apply_to_messages(provider, new, tally)
    for event, target in new:
        if target is not None and event.type in (CLICKED, REPLIED):
            counter = "clicks" if event.type == CLICKED else "replies"
            tally.add(provider.pk, target.campaign_id, event.ts, counter)
    _apply_replies(new)
    tally.save()  # last: its rows stay locked until the commit
    unmatched = sum(1 for _, target, _ in rows if target is None)
    return Counts(len(events), len(rows) - len(new), unmatched)


# --- attribution ----------------------------------------------------------------------------
def _target_key(event: NormalizedEvent) -> str:
    return f"meta:{event.meta}" if event.meta else f"from:{event.from_phone}"


def _targets(provider: Provider, events: Sequence[NormalizedEvent]) -> dict[str, Target]:
    """The message each event belongs to: by its verified `meta` (one query for all), or an
    inbound reply by the latest message to its sender within 7 days."""
    by_meta: dict[str, int] = {}
    for event in events:
        if event.meta:
            try:
                by_meta[event.meta] = message_ids.verify(event.meta)
            except message_ids.InvalidMessageId:
                continue  # altered, forged or not ours: stored unmatched
    found = {row[0]: _target(row) for row in _messages_of(provider, set(by_meta.values()))}
    targets = {
        f"meta:{meta}": found[message_id]
        for meta, message_id in by_meta.items()
        if message_id in found
    }
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


def _mark_reached(new: list[tuple[NormalizedEvent, Target | None]], tally: Tally) -> None:
    """A message the sweeper marked "outcome unknown" that the provider reports on was
    evidently sent: it counts as sent when it was tried."""
    reached = {t.message_id: t for _, t in new if t is not None and t.outcome_unknown}
    if not reached:
        return
    for message_id, provider_id, sent_at, delivered_at in _mark_sent_if_unknown(set(reached)):
        target = reached[message_id]
        at = db.as_aware(sent_at)  # when it was last tried, as the update wrote it
        tally.add(provider_id, target.campaign_id, at, "sent")
        tally.add(provider_id, target.campaign_id, at, "dispatch_errors", -1)
        code = f"dispatch:{DispatchReason.OUTCOME_UNKNOWN}"
        tally.add_error(provider_id, target.campaign_id, at, code, -1)
        if delivered_at is not None:
            # Reported delivered while still in flight: its latency is known only now.
            tally.add_latency(provider_id, target.campaign_id, db.as_aware(delivered_at), at)


def _mark_sent_if_unknown(ids: set[int]) -> list[tuple]:
    """Outcome unknown → sent, sent when last tried; returns (id, provider id, sent_at,
    delivered_at) of those changed."""
    table = connection.ops.quote_name(Message._meta.db_table)
    placeholders = ", ".join(["%s"] * len(ids))
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET state = %s, reason = '', sent_at = last_attempt_at "
            f"WHERE id IN ({placeholders}) AND state = %s AND reason = %s "
            "RETURNING id, provider_id, sent_at, delivered_at",
            [MessageState.SENT, *ids, MessageState.DISPATCH_ERROR, DispatchReason.OUTCOME_UNKNOWN],
        )
        return cursor.fetchall()


@dataclass
class Change:
    """What a request's new events say about one message: its latest outcome (delivered or
    failed, by `ts`) and its earliest delivered, failed and clicked reports."""

    outcome: str | None = None
    outcome_at: datetime | None = None
    delivered: NormalizedEvent | None = None
    failed: NormalizedEvent | None = None
    clicked: NormalizedEvent | None = None


def _apply_to_messages(provider, new: list[tuple[NormalizedEvent, Target | None]], tally):
    """Write the reports on the messages, one statement for all: the outcome moves forward
    only (the later event by `ts` wins, whatever order they arrive in), and each message's
    first delivered, failed and clicked report is set once and counted once, on its day; a
    failure also counts under its code, a delivery in the sent-to-delivered histogram."""
    changes: dict[int, Change] = {}
    targets: dict[int, Target] = {}
    for event, target in new:
        if target is None or event.type not in (DELIVERED, FAILED, CLICKED):
            continue
        change = changes.setdefault(target.message_id, Change())
        targets[target.message_id] = target
        if event.type in OUTCOMES and (change.outcome_at is None or event.ts > change.outcome_at):
            change.outcome, change.outcome_at = event.type, event.ts
        first = getattr(change, event.type)  # Change names its fields after the event types
        if first is None or event.ts < first.ts:
            setattr(change, event.type, event)
    if not changes:
        return
    write = _write_changes_postgresql if db.is_postgresql() else _write_changes
    for message_id, sent_at, delivered, failed, clicked in write(changes):
        change, campaign_id = changes[message_id], targets[message_id].campaign_id
        if delivered:
            tally.add(provider.pk, campaign_id, change.delivered.ts, "delivered")
            if sent_at is not None:
                # sent_at as the update found it, not as looked up: a worker may have
                # written the send in between (it then saw no delivery to measure).
                tally.add_latency(provider.pk, campaign_id, change.delivered.ts, db.as_aware(sent_at))
        if failed:
            tally.add(provider.pk, campaign_id, change.failed.ts, "failed")
            # Under the code as the message keeps it (failure_code), as a rebuild does.
            tally.add_error(provider.pk, campaign_id, change.failed.ts, change.failed.code[:20])
        if clicked:
            tally.add(provider.pk, campaign_id, change.clicked.ts, "unique_clicks")


def _write_changes_postgresql(changes: dict[int, Change]) -> list[tuple]:
    """One UPDATE; the rows are locked first (FOR NO KEY UPDATE, in id order) so that what
    it returns, which reports were set now (id, sent_at, delivered, failed, clicked), is
    exact even when two requests report on the same message at once."""
    table = connection.ops.quote_name(Message._meta.db_table)
    rows = [
        {
            "id": message_id,
            "outcome": change.outcome,
            "outcome_at": change.outcome_at,
            "delivered": change.delivered and change.delivered.ts,
            "failed": change.failed and change.failed.ts,
            "code": change.failed.code[:20] if change.failed else "",
            "clicked": change.clicked and change.clicked.ts,
        }
        for message_id, change in changes.items()
    ]
    return db.fetch(
        f"""
        WITH v AS (
            SELECT * FROM json_to_recordset(%s::json) AS v(
                id bigint, outcome text, outcome_at timestamptz, delivered timestamptz,
                failed timestamptz, code text, clicked timestamptz
            )
        ), old AS (
            SELECT id, delivered_at, failed_at, first_clicked_at FROM {table}
            WHERE id = ANY(%s::bigint[]) ORDER BY id FOR NO KEY UPDATE
        )
        UPDATE {table} AS m SET
            outcome = CASE WHEN v.outcome_at > COALESCE(m.outcome_at, '-infinity')
                THEN v.outcome ELSE m.outcome END,
            outcome_at = GREATEST(m.outcome_at, v.outcome_at),
            delivered_at = COALESCE(m.delivered_at, v.delivered),
            failed_at = COALESCE(m.failed_at, v.failed),
            failure_code = CASE WHEN m.failed_at IS NULL AND v.failed IS NOT NULL
                THEN v.code ELSE m.failure_code END,
            first_clicked_at = COALESCE(m.first_clicked_at, v.clicked)
        FROM v JOIN old USING (id)
        WHERE m.id = v.id AND m.id = ANY(%s::bigint[])
        RETURNING m.id, m.sent_at,
            old.delivered_at IS NULL AND v.delivered IS NOT NULL,
            old.failed_at IS NULL AND v.failed IS NOT NULL,
            old.first_clicked_at IS NULL AND v.clicked IS NOT NULL
        """,
        [db.json_records(rows), db.id_array(changes), db.id_array(changes)],
        prepare=True,
    )


def _write_changes(changes: dict[int, Change]) -> list[tuple]:
    """The same as _write_changes_postgresql, read then written: SQLite runs one writing
    transaction at a time (IMMEDIATE), so what is read here cannot change before the write."""
    found = Message.objects.filter(id__in=changes).values_list(
        "id", "sent_at", "outcome", "outcome_at", "delivered_at", "failed_at", "failure_code",
        "first_clicked_at",
    )  # fmt: skip
    updates, result = [], []
    for (
        message_id,
        sent_at,
        outcome,
        outcome_at,
        delivered_at,
        failed_at,
        code,
        clicked_at,
    ) in found:
        change = changes[message_id]
        if change.outcome_at is not None and (outcome_at is None or change.outcome_at > outcome_at):
            outcome, outcome_at = change.outcome, change.outcome_at
        delivered = delivered_at is None and change.delivered is not None
        failed = failed_at is None and change.failed is not None
        clicked = clicked_at is None and change.clicked is not None
        delivered_at = change.delivered.ts if delivered else delivered_at
        failed_at, code = (
            (change.failed.ts, change.failed.code[:20]) if failed else (failed_at, code)
        )
        clicked_at = change.clicked.ts if clicked else clicked_at
        updates.append(
            Message(
                id=message_id, outcome=outcome, outcome_at=outcome_at, delivered_at=delivered_at,
                failed_at=failed_at, failure_code=code, first_clicked_at=clicked_at,
            )
        )  # fmt: skip
        result.append((message_id, sent_at, delivered, failed, clicked))
    fields = ["outcome", "outcome_at", "delivered_at", "failed_at", "failure_code"]
    Message.objects.bulk_update(updates, [*fields, "first_clicked_at"])
    return result


def _apply_replies(new: list[tuple[NormalizedEvent, Target | None]]) -> None:
    """STOP-like replies opt the number out, START-like ones back in (SPEC §4), in ts order."""
    replies = sorted((e for e in new if e[0].type == REPLIED), key=lambda pair: pair[0].ts)
    for event, target in replies:
        phone = target.phone if target else event.from_phone
        if phone:
            optouts.apply_reply(phone, event.text)
