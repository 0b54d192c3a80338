"""Set-based writes that the ORM cannot express in one statement."""

from __future__ import annotations

from django.db import connection

from audiences.models import Contact, OptOut
from smshub import db

from .models import Campaign, Message, MessageState, SkipReason


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
    from stats.rollups import Tally

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
