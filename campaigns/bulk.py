"""Set-based writes that the ORM cannot express in one statement."""

from __future__ import annotations

from django.db import connection

from .models import Message


def set_provider_message_ids(pairs: list[tuple[int, str]]) -> None:
    """Store each message's own provider id: one statement on PostgreSQL (a join against the
    arrays), one prepared statement run over the pairs elsewhere."""
    if not pairs:
        return
    table = connection.ops.quote_name(Message._meta.db_table)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
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
