"""The trail is append-only in the ORM and in the database, and kept at least 180 days (网络安全法 §21)."""

from __future__ import annotations

import datetime as dt
import sqlite3
import threading
from pathlib import Path

import pytest
from django.db import DatabaseError, connection, transaction
from django.db.models import ProtectedError
from django.utils import timezone

from servicehall.audit.actions import record, verify
from servicehall.audit.guard import RETENTION_FLOOR_DAYS, maintenance
from servicehall.audit.models import AuditRecord
from servicehall.config.environment import ConfigurationError, env_int
from tests.audit.helpers import TABLE, db_timestamp, raw_update
from tests.audit.processes import operator_environment, python


def aged(days: float) -> AuditRecord:
    """A record whose occurred_at lies ``days`` in the past (set under the lifted guard)."""
    written = record("test.aged", after={"days": days})
    raw_update(written.pk, occurred_at=db_timestamp(timezone.now() - dt.timedelta(days=days)))
    return written


def raw(statement: str, parameters: list | None = None) -> None:
    with connection.cursor() as cursor:
        cursor.execute(statement, parameters or [])


def stored_actions() -> list[str]:
    return list(AuditRecord.objects.order_by("id").values_list("action", flat=True))


@pytest.mark.django_db
def test_sql_update_of_a_record_is_refused_by_the_database() -> None:
    # Given a record
    written = record("test.original")
    # When SQL updates it without the maintenance switch, then the database refuses
    with pytest.raises(DatabaseError, match="audit records are append-only"), transaction.atomic():
        raw(f"UPDATE {TABLE} SET action = %s WHERE id = %s", ["test.rewritten", written.pk])
    # And nothing changed
    assert stored_actions() == ["test.original"]
    assert verify().intact


@pytest.mark.django_db
def test_sql_update_of_an_old_record_is_refused_too() -> None:
    written = aged(400)
    with pytest.raises(DatabaseError, match="audit records are append-only"), transaction.atomic():
        raw(f"UPDATE {TABLE} SET action = %s WHERE id = %s", ["test.rewritten", written.pk])
    assert stored_actions() == ["test.aged"]


@pytest.mark.django_db
@pytest.mark.parametrize("days", [0, 1, RETENTION_FLOOR_DAYS - 1])
def test_sql_delete_of_a_record_younger_than_180_days_is_refused(days: int) -> None:
    # Given a record that is ``days`` old
    written = aged(days) if days else record("test.aged")
    # When SQL deletes it, then the database refuses and the record is still there
    with pytest.raises(DatabaseError, match="kept at least 180 days"), transaction.atomic():
        raw(f"DELETE FROM {TABLE} WHERE id = %s", [written.pk])
    assert AuditRecord.objects.filter(pk=written.pk).exists()


@pytest.mark.django_db
def test_sql_delete_of_a_record_older_than_180_days_is_allowed() -> None:
    # Given a record 181 days old and one from today
    old = aged(RETENTION_FLOOR_DAYS + 1)
    young = record("test.young")
    # When SQL deletes the old one, then the database lets it go
    raw(f"DELETE FROM {TABLE} WHERE id = %s", [old.pk])
    assert list(AuditRecord.objects.values_list("pk", flat=True)) == [young.pk]


@pytest.mark.django_db
def test_sql_delete_of_everything_is_refused_while_any_record_is_young() -> None:
    aged(RETENTION_FLOOR_DAYS + 30)
    record("test.young")
    with pytest.raises(DatabaseError, match="kept at least 180 days"), transaction.atomic():
        raw(f"DELETE FROM {TABLE}")
    assert AuditRecord.objects.count() == 2


@pytest.mark.django_db(transaction=True)
def test_truncate_is_refused_on_postgresql() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("SQLite has no TRUNCATE; DELETE FROM is guarded row by row")
    # Committed first: PostgreSQL refuses TRUNCATE of a table with pending (deferred FK) trigger events
    # in the same transaction before the guard is even asked.
    record("test.kept")
    with pytest.raises(DatabaseError, match="audit records cannot be truncated"):
        raw(f"TRUNCATE {TABLE}")
    assert stored_actions() == ["test.kept"]


@pytest.mark.django_db
def test_maintenance_lifts_the_guard_only_inside_the_block() -> None:
    written = record("test.original")
    with maintenance():
        raw(f"UPDATE {TABLE} SET channel = %s WHERE id = %s", ["cli", written.pk])
    with pytest.raises(DatabaseError), transaction.atomic():
        raw(f"UPDATE {TABLE} SET channel = %s WHERE id = %s", ["api", written.pk])
    assert AuditRecord.objects.get(pk=written.pk).channel == "cli"


@pytest.mark.django_db(transaction=True)
def test_maintenance_on_one_connection_does_not_lift_the_guard_of_another() -> None:
    # Given a committed record
    written = record("test.original")
    outcome: dict[str, BaseException | None] = {}

    def update_from_another_thread() -> None:
        try:
            raw(f"UPDATE {TABLE} SET action = %s WHERE id = %s", ["test.rewritten", written.pk])
            outcome["error"] = None
        except BaseException as error:  # the assertion below reports what happened
            outcome["error"] = error
        finally:
            connection.close()

    # When the main thread's connection is in maintenance and another thread's connection updates
    with maintenance():
        worker = threading.Thread(target=update_from_another_thread)
        worker.start()
        worker.join(timeout=60)
    # Then the other connection was refused
    assert isinstance(outcome["error"], DatabaseError)
    assert "audit records are append-only" in str(outcome["error"])
    assert stored_actions() == ["test.original"]


@pytest.mark.django_db
def test_orm_save_of_an_existing_record_raises() -> None:
    written = record("test.original")
    written.action = "test.rewritten"
    with pytest.raises(PermissionError, match="append-only"):
        written.save()
    assert stored_actions() == ["test.original"]


@pytest.mark.django_db
def test_orm_delete_of_a_record_raises() -> None:
    written = record("test.original")
    with pytest.raises(PermissionError, match="cannot be deleted"):
        written.delete()
    assert stored_actions() == ["test.original"]


@pytest.mark.django_db
def test_orm_queryset_update_and_delete_raise() -> None:
    written = record("test.original")
    with pytest.raises(PermissionError, match="append-only"):
        AuditRecord.objects.filter(pk=written.pk).update(action="test.rewritten")
    with pytest.raises(PermissionError, match="append-only"):
        AuditRecord.objects.update(action="test.rewritten")
    # bulk_update runs inside atomic(savepoint=False): its refusal spoils the caller's transaction,
    # so the test gives it a savepoint of its own.
    with pytest.raises(PermissionError, match="append-only"), transaction.atomic():
        AuditRecord.objects.bulk_update([written], ["action"])
    with pytest.raises(PermissionError, match="cannot be deleted"):
        AuditRecord.objects.all().delete()
    with pytest.raises(PermissionError, match="cannot be deleted"):
        AuditRecord.objects.filter(pk=written.pk).delete()
    assert stored_actions() == ["test.original"]


@pytest.mark.django_db
def test_deleting_the_actor_or_the_site_of_records_is_refused(town_site, clerk) -> None:
    # Given a record naming a clerk and their site
    record("test.by_clerk", actor=clerk, site=town_site)
    # Then neither can be deleted out from under the trail
    with pytest.raises(ProtectedError):
        clerk.delete()
    assert AuditRecord.objects.filter(actor=clerk, site=town_site).count() == 1


def test_the_sqlite_guard_fails_closed_without_the_application(sqlite_var_directory: Path) -> None:
    # Given a record in an SQLite database file written by the application
    written = python(
        "from servicehall.audit.actions import record\nrecord('test.original')",
        operator_environment(SERVICEHALL_VAR_DIR=str(sqlite_var_directory)),
    )
    assert written.returncode == 0, written.stderr
    # When someone opens the file in a plain sqlite3 shell (no guard function) and edits or deletes
    database = sqlite3.connect(sqlite_var_directory / "servicehall.sqlite3")
    try:
        for statement in (f"UPDATE {TABLE} SET action = 'test.rewritten'", f"DELETE FROM {TABLE}"):
            # Then the trigger cannot run, so the statement fails
            with pytest.raises(sqlite3.OperationalError, match="no such function: servicehall_audit_guarded"):
                database.execute(statement)
        assert database.execute(f"SELECT action FROM {TABLE}").fetchall() == [("test.original",)]
    finally:
        database.close()


@pytest.mark.parametrize(("given", "expected"), [(None, 180), ("180", 180), ("365", 365)])
def test_audit_retention_setting_accepts_six_months_or_more(
    monkeypatch, given: str | None, expected: int
) -> None:
    if given is None:
        monkeypatch.delenv("SERVICEHALL_AUDIT_RETENTION_DAYS", raising=False)
    else:
        monkeypatch.setenv("SERVICEHALL_AUDIT_RETENTION_DAYS", given)
    assert env_int("SERVICEHALL_AUDIT_RETENTION_DAYS", 180, minimum=180) == expected


@pytest.mark.parametrize(
    ("given", "message"),
    [
        (
            "179",
            "环境变量 SERVICEHALL_AUDIT_RETENTION_DAYS 不能小于 180 / SERVICEHALL_AUDIT_RETENTION_DAYS must be at least 180",
        ),
        (
            "0",
            "环境变量 SERVICEHALL_AUDIT_RETENTION_DAYS 不能小于 180 / SERVICEHALL_AUDIT_RETENTION_DAYS must be at least 180",
        ),
        (
            "half a year",
            "环境变量 SERVICEHALL_AUDIT_RETENTION_DAYS='half a year' 不是整数 / SERVICEHALL_AUDIT_RETENTION_DAYS must be an integer",
        ),
    ],
)
def test_audit_retention_below_six_months_is_refused(monkeypatch, given: str, message: str) -> None:
    monkeypatch.setenv("SERVICEHALL_AUDIT_RETENTION_DAYS", given)
    with pytest.raises(ConfigurationError) as refusal:
        env_int("SERVICEHALL_AUDIT_RETENTION_DAYS", 180, minimum=180)
    assert str(refusal.value) == message
