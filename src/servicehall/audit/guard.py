"""Database-level protection of the audit trail, and the one sanctioned way around it.

Triggers refuse UPDATE of audit records and DELETE of records younger than the retention period,
so even a SQL console cannot quietly rewrite history; ``verify`` catches whatever an operator with
the power to drop triggers does. ``maintenance()`` lifts the guard for the current connection only:
the test suite uses it to empty tables between tests and to play the tampering attacker.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections
from django.db.backends.signals import connection_created
from django.dispatch import receiver

RETENTION_FLOOR_DAYS = 180
MAINTENANCE_FLAG = "servicehall_audit_maintenance"


@receiver(connection_created)
def register_sqlite_guard(sender: Any, connection: Any, **kwargs: Any) -> None:
    if connection.vendor == "sqlite":
        # The flag lives on this connection's wrapper, so maintenance in one thread never lifts the
        # guard for another. Without this function (e.g. the sqlite3 shell) the trigger errors, so
        # updates and deletes fail closed.
        connection.connection.create_function(
            "servicehall_audit_guarded",
            0,
            lambda: 0 if getattr(connection, MAINTENANCE_FLAG, False) else 1,
            deterministic=False,
        )


@contextmanager
def maintenance(using: str = DEFAULT_DB_ALIAS) -> Iterator[None]:
    """Lift the audit guard on this thread's connection to ``using`` for the duration of the block."""
    connection = connections[using]
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config('servicehall.audit_maintenance', 'on', false)")
        try:
            yield
        finally:
            try:
                with connection.cursor() as cursor:
                    cursor.execute("SELECT set_config('servicehall.audit_maintenance', 'off', false)")
            except DatabaseError:
                # The transaction failed inside the block; its rollback undoes the set_config above.
                pass
    else:
        setattr(connection, MAINTENANCE_FLAG, True)
        try:
            yield
        finally:
            setattr(connection, MAINTENANCE_FLAG, False)


POSTGRESQL_INSTALL = f"""
CREATE OR REPLACE FUNCTION servicehall_audit_guard() RETURNS trigger AS $$
BEGIN
  IF coalesce(current_setting('servicehall.audit_maintenance', true), 'off') = 'on' THEN
    IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
    RETURN NEW;
  END IF;
  IF TG_OP = 'UPDATE' THEN
    RAISE EXCEPTION '审计记录只能追加 / audit records are append-only';
  END IF;
  IF TG_OP = 'TRUNCATE' THEN
    RAISE EXCEPTION '审计记录不得清空 / audit records cannot be truncated';
  END IF;
  IF OLD.occurred_at > now() - interval '{RETENTION_FLOOR_DAYS} days' THEN
    RAISE EXCEPTION '审计记录保存期未满 / audit records are kept at least {RETENTION_FLOOR_DAYS} days';
  END IF;
  RETURN OLD;
END $$ LANGUAGE plpgsql;
CREATE TRIGGER audit_record_guard BEFORE UPDATE OR DELETE ON audit_auditrecord
  FOR EACH ROW EXECUTE FUNCTION servicehall_audit_guard();
CREATE TRIGGER audit_record_truncate_guard BEFORE TRUNCATE ON audit_auditrecord
  FOR EACH STATEMENT EXECUTE FUNCTION servicehall_audit_guard();
"""

POSTGRESQL_REMOVE = """
DROP TRIGGER IF EXISTS audit_record_truncate_guard ON audit_auditrecord;
DROP TRIGGER IF EXISTS audit_record_guard ON audit_auditrecord;
DROP FUNCTION IF EXISTS servicehall_audit_guard();
"""

SQLITE_INSTALL = [
    """CREATE TRIGGER audit_record_no_update BEFORE UPDATE ON audit_auditrecord
       WHEN servicehall_audit_guarded() = 1
       BEGIN SELECT RAISE(ABORT, '审计记录只能追加 / audit records are append-only'); END""",
    f"""CREATE TRIGGER audit_record_retention BEFORE DELETE ON audit_auditrecord
       WHEN servicehall_audit_guarded() = 1
        AND julianday(OLD.occurred_at) > julianday('now', '-{RETENTION_FLOOR_DAYS} days')
       BEGIN SELECT RAISE(ABORT, '审计记录保存期未满 / audit records are kept at least {RETENTION_FLOOR_DAYS} days'); END""",
]
SQLITE_REMOVE = [
    "DROP TRIGGER IF EXISTS audit_record_no_update",
    "DROP TRIGGER IF EXISTS audit_record_retention",
]


def install_triggers(schema_editor: Any) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(POSTGRESQL_INSTALL)
    elif schema_editor.connection.vendor == "sqlite":
        for statement in SQLITE_INSTALL:
            schema_editor.execute(statement)


def remove_triggers(schema_editor: Any) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(POSTGRESQL_REMOVE)
    elif schema_editor.connection.vendor == "sqlite":
        for statement in SQLITE_REMOVE:
            schema_editor.execute(statement)
