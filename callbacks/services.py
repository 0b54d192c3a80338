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
from datetime import timedelta

from django.db import connection
from django.utils import timezone

from audiences import optouts
from campaigns.models import DispatchReason, Message, MessageState
from providers import message_ids
from providers.models import Provider

from .events import CLICKED, OUTCOMES, REPLIED, NormalizedEvent
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
    _apply_outcomes(new)
    _apply_replies(new)
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
    found = {
        row[0]: Target(*row)
        for row in Message.objects.filter(
            id__in=set(by_meta.values()), provider=provider
        ).values_list("id", "campaign_id", "to")
    }
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
            .values_list("id", "campaign_id", "to")
            .first()
        )
        if latest:
            targets[f"from:{phone}"] = Target(*latest)
    return targets


def _dedup_key(event: NormalizedEvent, target: Target | None) -> str:
    """The same event for the same message: same type and ts, same url (clicks) or text
    (replies), same status (intermediate statuses)."""
    who = f"m{target.message_id}" if target else _target_key(event)
    what = event.url if event.type == CLICKED else event.text if event.type == REPLIED else ""
    status = event.properties.get("status", "")
    raw = f"{event.type}|{who}|{event.ts.timestamp():.3f}|{what}|{status}"
    return hashlib.sha256(raw.encode()).hexdigest()


# --- writes ------------------------------------------------------------------------------------
COLUMNS = (
    "provider_id", "message_id", "campaign_id", "request_id", "type", "ts", "received_at",
    "meta", "code", "description", "url", "short_url", "text", "phone", "properties",
    "dedup_key",
)  # fmt: skip


def _insert(provider, request, rows, now) -> set[str]:
    """INSERT … ON CONFLICT DO NOTHING RETURNING: the dedup keys actually inserted."""
    table = connection.ops.quote_name(Event._meta.db_table)
    columns = ", ".join(connection.ops.quote_name(c) for c in COLUMNS)
    ops = connection.ops
    received = ops.adapt_datetimefield_value(now)
    inserted: set[str] = set()
    for start in range(0, len(rows), INSERT_CHUNK):
        chunk = rows[start : start + INSERT_CHUNK]
        values, params = [], []
        for event, target, key in chunk:
            values.append("(" + ", ".join(["%s"] * len(COLUMNS)) + ")")
            params += [
                provider.pk,
                target.message_id if target else None,
                target.campaign_id if target else None,
                request.pk if request else None,
                event.type,
                ops.adapt_datetimefield_value(event.ts),
                received,
                event.meta[:200],
                event.code[:20],
                event.description,
                event.url,
                event.short_url,
                event.text,
                (target.phone if target else event.from_phone)[:32],
                json.dumps(event.properties),
                key,
            ]
        sql = (
            f"INSERT INTO {table} ({columns}) VALUES {', '.join(values)} "
            "ON CONFLICT (provider_id, dedup_key) DO NOTHING RETURNING dedup_key"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            inserted.update(row[0] for row in cursor.fetchall())
    return inserted


def _apply_outcomes(new: list[tuple[NormalizedEvent, Target | None]]) -> None:
    """Delivered and failed move a message's outcome forward only: the later event by `ts`
    wins, whatever order they arrive in. A message the sweeper marked "outcome unknown"
    that the provider reports on was evidently sent."""
    latest: dict[int, tuple] = {}
    reached: set[int] = set()
    for event, target in new:
        if target is None:
            continue
        reached.add(target.message_id)
        if event.type in OUTCOMES:
            current = latest.get(target.message_id)
            if current is None or event.ts > current[1]:
                latest[target.message_id] = (event.type, event.ts)
    if latest:
        _update_outcomes(latest)
    if reached:
        Message.objects.filter(
            id__in=reached, state=MessageState.DISPATCH_ERROR, reason=DispatchReason.OUTCOME_UNKNOWN
        ).update(state=MessageState.SENT, reason="")


def _update_outcomes(latest: dict[int, tuple]) -> None:
    table = connection.ops.quote_name(Message._meta.db_table)
    ops = connection.ops
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            ids = list(latest)
            cursor.execute(
                f"UPDATE {table} AS m SET outcome = v.outcome, outcome_at = v.at "
                "FROM unnest(%s::bigint[], %s::text[], %s::timestamptz[]) AS v(id, outcome, at) "
                "WHERE m.id = v.id AND (m.outcome_at IS NULL OR m.outcome_at < v.at)",
                [ids, [latest[i][0] for i in ids], [latest[i][1] for i in ids]],
            )
        else:
            cursor.executemany(
                f"UPDATE {table} SET outcome = %s, outcome_at = %s "
                "WHERE id = %s AND (outcome_at IS NULL OR outcome_at < %s)",
                [
                    (kind, ops.adapt_datetimefield_value(at), message_id,
                     ops.adapt_datetimefield_value(at))
                    for message_id, (kind, at) in latest.items()
                ],
            )  # fmt: skip


def _apply_replies(new: list[tuple[NormalizedEvent, Target | None]]) -> None:
    """STOP-like replies opt the number out, START-like ones back in (SPEC §4), in ts order."""
    replies = sorted((e for e in new if e[0].type == REPLIED), key=lambda pair: pair[0].ts)
    for event, target in replies:
        phone = target.phone if target else event.from_phone
        if phone:
            optouts.apply_reply(phone, event.text)
