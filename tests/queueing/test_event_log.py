"""The service log (VisitEvent) is append-only: the model refuses, and on PostgreSQL so does the database."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction

from servicehall.audit.guard import maintenance
from servicehall.queueing import actions
from servicehall.queueing.models import EventKind, VisitEvent
from tests.queueing.conftest import at, issue

pytestmark = pytest.mark.django_db

ON_SQLITE = "the trigger is PostgreSQL's; SQLite relies on the model guard tested above"


def snapshot() -> list[tuple[int, str, dt.datetime, dict]]:
    return list(VisitEvent.objects.order_by("id").values_list("id", "kind", "at", "detail"))


@pytest.fixture
def served(at_window, clerk, social_security) -> list[VisitEvent]:
    """A ticket issued, called, started and finished at window 3: five events with the sign-in."""
    issue(social_security, 1)
    actions.call_next(clerk, at_window, now=at(9, 10))
    actions.start_service(clerk, at_window, now=at(9, 11))
    actions.finish_service(clerk, at_window, now=at(9, 20))
    return list(VisitEvent.objects.order_by("id"))


# ---------------------------------------------------------------------------------------------
# The model's guard (every database)


def test_new_events_are_still_written(served) -> None:
    assert [event.kind for event in served] == [
        EventKind.WINDOW_OPENED,
        EventKind.ISSUED,
        EventKind.CALLED,
        EventKind.STARTED,
        EventKind.FINISHED,
    ]


def test_saving_a_stored_event_is_refused(served) -> None:
    before = snapshot()
    event = served[2]
    event.at = at(8, 0)
    event.detail = {"forged": True}
    with pytest.raises(PermissionError, match="服务日志只能追加"):
        event.save()
    with pytest.raises(PermissionError):
        event.save(update_fields=["at"])
    assert snapshot() == before


def test_deleting_an_event_is_refused(served) -> None:
    before = snapshot()
    with pytest.raises(PermissionError, match="服务日志只能追加"):
        served[2].delete()
    assert snapshot() == before


@pytest.mark.parametrize(
    "change",
    [
        lambda: VisitEvent.objects.filter(kind=EventKind.CALLED).update(at=at(8)),
        lambda: VisitEvent.objects.all().delete(),
        lambda: VisitEvent.objects.filter(kind=EventKind.FINISHED).delete(),
        lambda: VisitEvent.objects.restrict(None).update(kind=EventKind.CANCELLED),
        lambda: VisitEvent.objects.bulk_update(list(VisitEvent.objects.all()), ["detail"]),
        lambda: VisitEvent.objects.update_or_create(
            pk=VisitEvent.objects.order_by("id").values_list("id", flat=True).first(),
            defaults={"kind": EventKind.CANCELLED},
        ),
    ],
    ids=["update", "delete-all", "delete-filtered", "update-none", "bulk-update", "update-or-create"],
)
def test_the_manager_refuses_updates_and_deletes(served, change) -> None:
    before = snapshot()
    with pytest.raises(PermissionError, match="服务日志只能追加"), transaction.atomic():
        change()
    assert snapshot() == before


def test_a_tickets_related_events_are_guarded_too(served) -> None:
    ticket = served[1].ticket
    before = snapshot()
    with pytest.raises(PermissionError):
        ticket.events.all().delete()
    with pytest.raises(PermissionError):
        ticket.events.update(detail={})
    assert snapshot() == before


# ---------------------------------------------------------------------------------------------
# The database's trigger (PostgreSQL)


def _raw(sql: str, parameters: list | None = None) -> None:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, parameters or [])


@pytest.mark.skipif(connection.vendor != "postgresql", reason=ON_SQLITE)
@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE queueing_visitevent SET at = at - interval '1 hour' WHERE kind = 'called'",
        "UPDATE queueing_visitevent SET detail = '{}'::jsonb",
        "DELETE FROM queueing_visitevent WHERE kind = 'finished'",
        "DELETE FROM queueing_visitevent",
    ],
)
def test_the_database_refuses_update_and_delete_from_any_client(served, sql) -> None:
    before = snapshot()
    with pytest.raises(DatabaseError, match="visit events are append-only"):
        _raw(sql)
    assert snapshot() == before


@pytest.mark.skipif(connection.vendor != "postgresql", reason=ON_SQLITE)
def test_the_trigger_does_not_stand_in_the_way_of_inserts_or_empty_statements(served) -> None:
    before = snapshot()
    # A statement that touches no row is not refused (the trigger is per row).
    _raw("UPDATE queueing_visitevent SET kind = 'cancelled' WHERE id < 0")
    _raw("DELETE FROM queueing_visitevent WHERE id < 0")
    issue(served[1].ticket.category, 30)
    assert snapshot()[: len(before)] == before
    assert len(snapshot()) == len(before) + 1


@pytest.mark.skipif(connection.vendor != "postgresql", reason=ON_SQLITE)
def test_the_maintenance_switch_lifts_the_trigger_for_this_connection_only(served) -> None:
    with maintenance():
        _raw("DELETE FROM queueing_visitevent WHERE kind = 'finished'")
    assert EventKind.FINISHED not in [row[1] for row in snapshot()]
    # And the guard is back at once
    with pytest.raises(DatabaseError, match="visit events are append-only"):
        _raw("DELETE FROM queueing_visitevent")


@pytest.mark.skipif(connection.vendor != "postgresql", reason=ON_SQLITE)
@pytest.mark.django_db(transaction=True)
def test_truncate_still_works_for_flush_and_restore(served) -> None:
    # The test suite's flush (after this very test) and pg_restore --clean empty the table with
    # TRUNCATE, which is not refused; committed rows first, as TRUNCATE waits for no deferred checks.
    _raw("TRUNCATE queueing_visitevent")
    assert VisitEvent.objects.count() == 0


@pytest.mark.skipif(connection.vendor != "postgresql", reason=ON_SQLITE)
def test_the_trigger_is_installed_by_the_migration_and_removed_by_its_reverse() -> None:
    def installed() -> bool:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_trigger WHERE tgname = 'visit_event_append_only' "
                "AND tgrelid = 'queueing_visitevent'::regclass"
            )
            return cursor.fetchone()[0] == 1

    assert installed()
    call_command("migrate", "queueing", "0004", verbosity=0)
    try:
        assert not installed()
    finally:
        call_command("migrate", "queueing", verbosity=0)
    assert installed()
