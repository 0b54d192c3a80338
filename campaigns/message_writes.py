"""The writes to a campaign's messages, set-based: one statement for many messages where the
ORM would run one per message. Creating them from the audience, skipping those not sent,
and writing what became of the others: each outcome of a send (dispatch decides it) with
the provider's own ids, then what the provider's callbacks report (callbacks.services
matches their events to messages and calls in here). A write that moves a count adds it
to the caller's Tally, saved in the same transaction as the write.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db import connection
from django.db.models import F

from audiences.models import Contact, OptOut
from smshub import db
from stats.rollups import Tally

from .models import Campaign, DispatchReason, Message, MessageState, SkipReason
from .retry import Decision


def insert_messages_from_audience(campaign: Campaign, now) -> int:
    """One message per contact of the campaign's audience, in one INSERT … SELECT: queued,
    or skipped (opted out) when the number is in OptOut. The contact's attributes are copied,
    so a message says what its campaign said when it started. Returns the rows inserted."""
    if campaign.audience_id is None:
        return 0
    qn = connection.ops.quote_name
    when = connection.ops.adapt_datetimefield_value(now)
    sql = f"""
        INSERT INTO {qn(Message._meta.db_table)}
            (campaign_id, provider_id, {qn("to")}, {qn("values")}, state, reason, attempts,
             next_attempt_at, last_error, provider_message_id, outcome, failure_code,
             created_at)
        SELECT %s, %s, c.phone, c.attributes,
               CASE WHEN o.phone IS NULL THEN %s ELSE %s END,
               CASE WHEN o.phone IS NULL THEN '' ELSE %s END,
               0,
               CASE WHEN o.phone IS NULL THEN %s ELSE NULL END,
               '', '', '', '', %s
        FROM {qn(Contact._meta.db_table)} c
        LEFT JOIN {qn(OptOut._meta.db_table)} o ON o.phone = c.phone
        WHERE c.audience_id = %s
        ORDER BY c.id
    """
    params = [
        campaign.pk,
        campaign.provider_id,
        MessageState.QUEUED,
        MessageState.SKIPPED,
        SkipReason.OPTED_OUT,
        when,
        when,
        campaign.audience_id,
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


def skip_pending(campaign: Campaign, reason: str) -> int:
    """Messages not yet handed over become Skipped; one UPDATE … RETURNING feeds the
    rollups (skipped messages are dated by their creation). Returns how many."""
    table = connection.ops.quote_name(Message._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET state = %s, reason = %s, next_attempt_at = NULL "
            "WHERE campaign_id = %s AND next_attempt_at IS NOT NULL "
            "RETURNING provider_id, created_at",
            [MessageState.SKIPPED, reason, campaign.pk],
        )
        rows = cursor.fetchall()
    tally = Tally()
    for provider_id, created_at in rows:
        tally.add(provider_id, campaign.pk, db.as_aware(created_at), "skipped")
    tally.save()
    return len(rows)


# --- what a send returned -------------------------------------------------------------------
def write_send_outcome(
    provider_id: int,
    campaign_id: int,
    decision: Decision,
    status: int | None,
    error: str,
    ids: list[int],
    now: datetime,
    attempt_at: datetime,
    tally: Tally,
) -> None:
    """Write one outcome of a send to its messages still in flight, and count it: sent on
    `now`, a final dispatch error on `attempt_at` (the group's `last_attempt_at`)."""
    changed, overridden = _write_in_flight(decision, status, error, ids, now, attempt_at)
    for given_up_at in overridden:
        # Reconciled as "outcome unknown" meanwhile: that error is taken back, and
        # what really happened is counted below like any other outcome.
        tally.add(provider_id, campaign_id, given_up_at, "dispatch_errors", -1)
        code = f"dispatch:{DispatchReason.OUTCOME_UNKNOWN}"
        tally.add_error(provider_id, campaign_id, given_up_at, code, -1)
    if decision.state == MessageState.SENT:
        tally.add(provider_id, campaign_id, now, "sent", changed + len(overridden))
        _tally_early_deliveries(tally, provider_id, campaign_id, ids, now)
    elif decision.state == MessageState.DISPATCH_ERROR and not decision.next_attempt_at:
        final = changed + len(overridden)
        tally.add(provider_id, campaign_id, attempt_at, "dispatch_errors", final)
        code = f"dispatch:{decision.reason}"
        tally.add_error(provider_id, campaign_id, attempt_at, code, final)


def _write_in_flight(
    decision: Decision, status: int | None, error: str, ids: list[int], now, attempt_at
):
    """Write one outcome to the messages still in flight; returns (changed, overridden):
    `overridden` holds the `last_attempt_at` of messages the sweeper had given up on
    (outcome unknown) although their worker was alive: what the worker learnt wins."""
    fields = {
        "state": decision.state,
        "reason": decision.reason,
        "next_attempt_at": decision.next_attempt_at,
        "last_status": status,
        "last_error": error,
    }
    if decision.state == MessageState.SENT:
        fields["sent_at"] = now
    if decision.attempts_delta:
        fields["attempts"] = F("attempts") + decision.attempts_delta
    messages = Message.objects.filter(id__in=ids)
    changed = messages.filter(state=MessageState.SENDING).update(**fields)
    overridden: list[datetime] = []
    if changed < len(ids):
        unknown = messages.select_for_update().filter(
            state=MessageState.DISPATCH_ERROR, reason=DispatchReason.OUTCOME_UNKNOWN
        )
        rows = list(unknown.values_list("id", "last_attempt_at"))
        if rows:
            fields["last_attempt_at"] = attempt_at  # as its group, for the rollups' dating
            Message.objects.filter(id__in=[row[0] for row in rows]).update(**fields)
            overridden = [row[1] for row in rows]
    return changed, overridden


def _tally_early_deliveries(tally: Tally, provider_id, campaign_id, ids, now) -> None:
    """A provider may report a delivery before we have written that the message was sent
    (fast providers): its sent-to-delivered latency is known only now."""
    early = Message.objects.filter(id__in=ids, sent_at=now, delivered_at__isnull=False)
    for delivered_at in early.values_list("delivered_at", flat=True):
        tally.add_latency(provider_id, campaign_id, delivered_at, now)


def set_provider_message_ids(pairs: list[tuple[int, str]]) -> None:
    """Store each message's own provider id: one statement on PostgreSQL (a join against the
    arrays), one prepared statement run over the pairs elsewhere."""
    if not pairs:
        return
    table = connection.ops.quote_name(Message._meta.db_table)
    with connection.cursor() as cursor:
        if db.is_postgresql():
            ids, values = zip(*pairs, strict=True)
            cursor.execute(
                f"UPDATE {table} AS m SET provider_message_id = v.pid "
                "FROM unnest(%s::bigint[], %s::text[]) AS v(id, pid) WHERE m.id = v.id",
                [list(ids), [value[:200] for value in values]],
            )
        else:
            cursor.executemany(
                f"UPDATE {table} SET provider_message_id = %s WHERE id = %s",
                [(value[:200], message_id) for message_id, value in pairs],
            )


# --- what the provider reports --------------------------------------------------------------
def mark_reached(message_ids: set[int], tally: Tally) -> None:
    """Messages the sweeper marked "outcome unknown" that the provider reports on were
    evidently sent: they count as sent when they were last tried."""
    if not message_ids:
        return
    table = connection.ops.quote_name(Message._meta.db_table)
    placeholders = ", ".join(["%s"] * len(message_ids))
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET state = %s, reason = '', sent_at = last_attempt_at "
            f"WHERE id IN ({placeholders}) AND state = %s AND reason = %s "
            "RETURNING provider_id, campaign_id, sent_at, delivered_at",
            [
                MessageState.SENT,
                *message_ids,
                MessageState.DISPATCH_ERROR,
                DispatchReason.OUTCOME_UNKNOWN,
            ],
        )
        reached = cursor.fetchall()
    for provider_id, campaign_id, sent_at, delivered_at in reached:
        at = db.as_aware(sent_at)  # when it was last tried, as the update wrote it
        tally.add(provider_id, campaign_id, at, "sent")
        tally.add(provider_id, campaign_id, at, "dispatch_errors", -1)
        code = f"dispatch:{DispatchReason.OUTCOME_UNKNOWN}"
        tally.add_error(provider_id, campaign_id, at, code, -1)
        if delivered_at is not None:
            # Reported delivered while still in flight: its latency is known only now.
            tally.add_latency(provider_id, campaign_id, db.as_aware(delivered_at), at)


@dataclass
class Report:
    """What one request's new events say about one message: its latest outcome (delivered
    or failed, by time) and the time of its earliest delivered, failed and clicked report
    (fields named after the callbacks' event types)."""

    campaign_id: int
    outcome: str | None = None
    outcome_at: datetime | None = None
    delivered: datetime | None = None
    failed: datetime | None = None
    failure_code: str = ""  # of the earliest failed report
    clicked: datetime | None = None


def apply_reports(provider_id: int, reports: dict[int, Report], tally: Tally) -> None:
    """Write the reports on the messages, one statement for all: the outcome moves forward
    only (the later event by time wins, whatever order they arrive in), and each message's
    first delivered, failed and clicked report is set once and counted once, on its day; a
    failure also counts under its code, a delivery in the sent-to-delivered histogram."""
    if not reports:
        return
    write = _write_reports_postgresql if db.is_postgresql() else _write_reports
    for message_id, sent_at, delivered, failed, clicked in write(reports):
        report = reports[message_id]
        campaign_id = report.campaign_id
        if delivered:
            tally.add(provider_id, campaign_id, report.delivered, "delivered")
            if sent_at is not None:
                # sent_at as the update found it, not as looked up: a worker may have
                # written the send in between (it then saw no delivery to measure).
                tally.add_latency(provider_id, campaign_id, report.delivered, db.as_aware(sent_at))
        if failed:
            tally.add(provider_id, campaign_id, report.failed, "failed")
            # Under the code as the message keeps it (failure_code), as a rebuild does.
            tally.add_error(provider_id, campaign_id, report.failed, report.failure_code)
        if clicked:
            tally.add(provider_id, campaign_id, report.clicked, "unique_clicks")


def _write_reports_postgresql(reports: dict[int, Report]) -> list[tuple]:
    """One UPDATE; the rows are locked first (FOR NO KEY UPDATE, in id order) so that what
    it returns, which reports were set now (id, sent_at, delivered, failed, clicked), is
    exact even when two requests report on the same message at once."""
    table = connection.ops.quote_name(Message._meta.db_table)
    rows = [
        {
            "id": message_id,
            "outcome": report.outcome,
            "outcome_at": report.outcome_at,
            "delivered": report.delivered,
            "failed": report.failed,
            "code": report.failure_code,
            "clicked": report.clicked,
        }
        for message_id, report in reports.items()
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
        [db.json_records(rows), db.id_array(reports), db.id_array(reports)],
        prepare=True,
    )


def _write_reports(reports: dict[int, Report]) -> list[tuple]:
    """The same as _write_reports_postgresql, read then written: SQLite runs one writing
    transaction at a time (IMMEDIATE), so what is read here cannot change before the write."""
    found = Message.objects.filter(id__in=reports).values_list(
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
        report = reports[message_id]
        if report.outcome_at is not None and (outcome_at is None or report.outcome_at > outcome_at):
            outcome, outcome_at = report.outcome, report.outcome_at
        delivered = delivered_at is None and report.delivered is not None
        failed = failed_at is None and report.failed is not None
        clicked = clicked_at is None and report.clicked is not None
        delivered_at = report.delivered if delivered else delivered_at
        failed_at, code = (report.failed, report.failure_code) if failed else (failed_at, code)
        clicked_at = report.clicked if clicked else clicked_at
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
