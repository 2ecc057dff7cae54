"""Playing the attacker who has database power: raw SQL under the lifted guard, no ORM safety net."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from django.db import connection

from servicehall.audit.guard import maintenance
from servicehall.audit.models import AuditRecord

TABLE = "audit_auditrecord"


def raw_update(record_id: int, **columns: Any) -> None:
    """UPDATE audit_auditrecord SET ... WHERE id = ..., as a DBA would, bypassing the triggers."""
    assignments = ", ".join(f"{name} = %s" for name in columns)
    with maintenance(), connection.cursor() as cursor:
        cursor.execute(f"UPDATE {TABLE} SET {assignments} WHERE id = %s", [*columns.values(), record_id])


def raw_delete(record_id: int) -> None:
    with maintenance(), connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {TABLE} WHERE id = %s", [record_id])


def record_at(chain: int, sequence: int) -> AuditRecord:
    return AuditRecord.objects.get(chain=chain, sequence=sequence)


def db_timestamp(moment: datetime) -> Any:
    """A timestamp as this backend stores it (SQLite: naive UTC text; PostgreSQL: timestamptz)."""
    return connection.ops.adapt_datetimefield_value(moment)


def db_json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


SWAPPED_COLUMNS = [
    "occurred_at",
    "actor_id",
    "actor_label",
    "site_id",
    "action",
    "outcome",
    "object_type",
    "object_id",
    "object_label",
    "before",
    "after",
    "remote_address",
    "channel",
    "previous_hash",
    "record_hash",
]


def raw_swap_contents(first_id: int, second_id: int) -> None:
    """Swap everything but id, chain and sequence between two rows: the records trade places."""
    column_list = ", ".join(SWAPPED_COLUMNS)
    assignments = ", ".join(f"{name} = %s" for name in SWAPPED_COLUMNS)
    with maintenance(), connection.cursor() as cursor:
        rows = {}
        for record_id in (first_id, second_id):
            cursor.execute(f"SELECT {column_list} FROM {TABLE} WHERE id = %s", [record_id])
            rows[record_id] = list(cursor.fetchone())
        # record_hash is unique, so the first row steps aside before the second takes its values.
        cursor.execute(f"UPDATE {TABLE} SET record_hash = %s WHERE id = %s", ["swapping", first_id])
        cursor.execute(f"UPDATE {TABLE} SET {assignments} WHERE id = %s", [*rows[first_id], second_id])
        cursor.execute(f"UPDATE {TABLE} SET {assignments} WHERE id = %s", [*rows[second_id], first_id])


def raw_swap_sequences(first_id: int, second_id: int) -> None:
    """Renumber two rows so that they trade positions in their chain."""
    with maintenance(), connection.cursor() as cursor:
        cursor.execute(f"SELECT id, sequence FROM {TABLE} WHERE id IN (%s, %s)", [first_id, second_id])
        sequences = dict(cursor.fetchall())
        first_sequence, second_sequence = sequences[first_id], sequences[second_id]
        cursor.execute(f"UPDATE {TABLE} SET sequence = -1 WHERE id = %s", [first_id])
        cursor.execute(f"UPDATE {TABLE} SET sequence = %s WHERE id = %s", [first_sequence, second_id])
        cursor.execute(f"UPDATE {TABLE} SET sequence = %s WHERE id = %s", [second_sequence, first_id])


def record_when(moment: datetime, action: str, **details: Any) -> AuditRecord:
    """Append a record as if it happened at ``moment``; the chain stays intact."""
    from unittest import mock

    from servicehall.audit.actions import record

    with mock.patch("django.utils.timezone.now", return_value=moment):
        return record(action, **details)
