"""Database helpers shared by the apps: which database we run on, and the few things raw SQL
needs that Django does not give (server-side parameters, sequences, array and JSON
arguments, the datetimes a raw query hands back).

Imports nothing from the apps: every layer may use it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC, datetime

from django.db import connection
from django.utils import timezone


def is_postgresql() -> bool:
    return connection.vendor == "postgresql"


def is_sqlite() -> bool:
    return connection.vendor == "sqlite"


def fetch(sql: str, params: list, *, prepare: bool | None = None) -> list[tuple]:
    """Execute one statement and fetch what it returns. On PostgreSQL through a psycopg
    cursor with server-side parameters: Django binds on the client, quoting every value into
    the SQL text, which costs more than the statement itself for a few hundred values.
    `prepare=True` prepares it at once, once per connection, for the statements that run on
    every request (their planning was a fair share of the database's time); None leaves it
    to psycopg."""
    if not is_postgresql():
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall() if cursor.description else []
    import psycopg

    connection.ensure_connection()
    with psycopg.Cursor(connection.connection) as cursor:
        cursor.execute(sql, params, prepare=prepare)
        return cursor.fetchall() if cursor.description else []


def reserve_next_id(table: str) -> int:
    """Take the next id of a PostgreSQL table's sequence now, before its row is written."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT nextval(pg_get_serial_sequence(%s, 'id'))", [table])
        return cursor.fetchone()[0]


def id_array(ids: Iterable[int]) -> str:
    """Ids as a PostgreSQL array literal. Joining a json_to_recordset to the messages, the
    planner expects 100 rows and may scan the whole table; `id = ANY(…)` beside the join
    keeps it on the primary key."""
    return "{" + ",".join(map(str, ids)) + "}"


def json_records(records: list[dict]) -> str:
    """Rows as one JSON document for PostgreSQL's json_to_recordset (json.dumps is C;
    psycopg adapts Python lists row by row)."""
    return json.dumps(records, default=_isoformat)


def _isoformat(moment: datetime) -> str:
    return moment.isoformat()


def as_aware(value) -> datetime:
    """A datetime from a raw query: SQLite hands back text and naive UTC values."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if timezone.is_naive(value):
        value = timezone.make_aware(value, UTC)
    return value
