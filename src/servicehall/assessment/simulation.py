"""`servicehall simulate`: past days of realistic history for the demo centre, loaded in bulk.

What is generated, per site and open day (``duty.rules.plan_day`` on the site's own working-day
calendar, so holidays, 调休 Saturdays, local closures and Saturday duty are respected):

- visits and tickets whose arrivals follow a weekday × hour profile (Monday and 9–11h peaks), called,
  served and finished by the clerks linked to the category's windows, with per-clerk speed (a few slow
  clerks) and a few no-shows; their ``VisitEvent`` service log (issued, called, started, finished,
  no_show) and each category's ``DailyCounter``;
- a rating token for every finished service and a rating for about half of them, 好/中/差 worse for the
  slow clerks and in one bad week; every 差评 has its ``Rectification`` (closed when old);
- completed cases (open → accept → decide → complete, with 补正 for some) with on-time/late outcomes;
- four check-ins per clerk and half-day, some late (with the attendance violation the duty sweep
  would have recorded, and ``assessed_at`` set so the sweep does not record it again);
- complaints, inspections and away records of the filled days (`simulation_supervision`), after the service log is in.

Why no audit records per row: simulated history is *loaded*, like an import, not actions someone took;
writing millions of hash-chained records would claim acts that never happened. One audit record per
run (``assessment.history_simulated``) says what was loaded, for which days and with which seed.

Idempotency rule: a (site, day) that already has any ticket is skipped entirely, so running again for a
range already simulated (or a day with real tickets) adds nothing. Simulated cases are numbered
``SIM`` + date + site + sequence, so they are recognisable and never collide.
Deterministic: one ``random.Random`` seeded from (seed, site code, day) per site-day.

How it loads fast (issue 9: ≥ 50,000 rows/s): rows are built as plain tuples, never model instances.
On PostgreSQL the run is one transaction: the written tables' foreign keys are dropped at its start and
added back, with their own definitions, at its end (one validating join each, instead of a deferred
check per row at commit); each table's rows go in by binary ``COPY`` on a writer thread (same
connection, same transaction) while the next site-day is generated; primary keys are reserved in
blocks from the table's own sequence, so child rows reference them without a round trip; the service
log (half of all rows) is written by the server from the tickets just loaded (``INSERT … SELECT``).
Elsewhere (SQLite) the same tuples go through ``bulk_create``, one transaction per site-day.
Working-day arithmetic (``workdays.add``) is cached per run, since the calendar does not change.
"""

from __future__ import annotations

import datetime as dt
import enum
import hashlib
import json
import queue
import random
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from functools import partial
from typing import Any

from django.db import connection, models, transaction
from django.utils import timezone
from psycopg.adapt import Dumper
from psycopg.postgres import types as postgres_types
from psycopg.pq import Format
from psycopg.types.json import Jsonb

from servicehall.accounts.models import User
from servicehall.audit.actions import record
from servicehall.cases.models import Case, CaseEvent
from servicehall.cases.states import CaseAction, CaseState
from servicehall.catalog.models import ServiceItem
from servicehall.duty.coverage import opening_table
from servicehall.duty.models import CheckIn, CheckInSlot, CheckInSource, CheckInStatus
from servicehall.duty.rules import plan_day
from servicehall.feedback.models import (
    Channel,
    Grade,
    Rating,
    RatingToken,
    Rectification,
    RectificationStatus,
    ServiceKind,
    grade_of,
)
from servicehall.queueing.models import (
    Category,
    CategoryWindow,
    DailyCounter,
    EventKind,
    Lane,
    Ticket,
    TicketChannel,
    TicketStatus,
    Visit,
    VisitEvent,
)
from servicehall.sites.models import Site
from servicehall.supervision.models import (
    KIND_TIER,
    Violation,
    ViolationKind,
    ViolationSource,
    ViolationStatus,
)
from servicehall.workdays import service as workdays

BATCH_SIZE = 5000
# PostgreSQL: rows (of all tables together) generated before they are sent to the writer. Each
# statement costs a round trip and a wait for the writer thread to get the GIL back (several
# milliseconds on a busy machine), so a statement per table and site-day cost more than the rows.
COPY_BATCH = 30_000
# Primary keys taken from a table's sequence at a time; those left over at the end are gaps, as after
# any rolled-back insert.
ID_BLOCK = 50_000
# Relative arrivals by weekday (Monday = 0) and by hour of the day.
WEEKDAY_WEIGHT = {0: 1.45, 1: 1.1, 2: 1.0, 3: 0.95, 4: 1.05, 5: 0.6, 6: 0.6}
HOUR_WEIGHT = {8: 0.3, 9: 1.5, 10: 1.7, 11: 1.2, 12: 0.2, 13: 0.5, 14: 1.1, 15: 1.0, 16: 0.9, 17: 0.4}
# Tickets per calling window per working day at scale 1.0.
TICKETS_PER_WINDOW = 60
SLOW_CLERKS = ("zheng.lihua", "liu.yang", "peng.guoqiang")
SLOW_FACTOR = 1.8
NO_SHOW_SHARE = 0.04
RATED_SHARE = 0.5
CASE_SHARE = 0.15


@dataclass
class SimulationResult:
    first: dt.date
    last: dt.date
    days_filled: int = 0
    days_skipped: int = 0
    rows: Counter[str] = dataclass_field(default_factory=Counter)
    seconds: float = 0.0

    @property
    def total_rows(self) -> int:
        return sum(self.rows.values())


def _rng(seed: int, *parts: Any) -> random.Random:
    digest = hashlib.sha256(":".join(str(part) for part in (seed, *parts)).encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


def bad_week(first: dt.date, last: dt.date) -> tuple[dt.date, dt.date]:
    """The bad week: the Monday–Sunday two thirds of the way through the range."""
    middle = first + (last - first) * 2 // 3
    monday = middle - dt.timedelta(days=middle.weekday())
    return monday, monday + dt.timedelta(days=6)


def _level(rng: random.Random, slow: bool, bad: bool) -> int:
    bad_share = 0.02 + (0.08 if slow else 0) + (0.12 if bad else 0)
    neutral_share = 0.06 + (0.08 if slow else 0) + (0.08 if bad else 0)
    roll = rng.random()
    if roll < bad_share:
        return rng.choice((1, 2))
    if roll < bad_share + neutral_share:
        return 3
    return 5 if rng.random() < 0.7 else 4


class _Site:
    def __init__(self, site: Site) -> None:
        self.site = site
        self.opening = opening_table(site)
        self.categories = list(Category.objects.filter(site=site, is_active=True).order_by("position"))
        self.windows: dict[int, list[tuple[int, int]]] = {}
        clerks = {}
        for link in CategoryWindow.objects.filter(site=site, is_standby=False).select_related("window"):
            clerks.setdefault(link.window_id, None)
        # A window's clerk: the staff member of the site whose department is the window's, in order.
        users = list(User.objects.filter(site=site, is_active=True).order_by("staff_number"))
        by_department: dict[int | None, list[User]] = {}
        for user in users:
            if user.role_grants.filter(role__in=["window_clerk"]).exists():
                by_department.setdefault(user.department_id, []).append(user)
        used: Counter[int] = Counter()
        for category in self.categories:
            pairs = []
            for link in category.window_links.filter(is_standby=False).select_related("window"):
                candidates = by_department.get(link.window.department_id) or [
                    user for group in by_department.values() for user in group
                ]
                if not candidates:
                    continue
                clerk = min(candidates, key=lambda user: (used[user.pk], user.staff_number))
                used[clerk.pk] += 1
                pairs.append((link.window_id, clerk.pk))
            self.windows[category.pk] = pairs
        self.slow = set(User.objects.filter(username__in=SLOW_CLERKS).values_list("pk", flat=True))
        self.items = list(ServiceItem.objects.filter(department__site=site, is_published=True).order_by("pk"))
        self.departments = {user.pk: user.department_id for user in users}
        self._added: dict[tuple[dt.date, int], dt.date] = {}

    def add(self, day: dt.date, count: int) -> dt.date:
        """``workdays.add(day, count).date``, remembered for the run."""
        key = (day, count)
        answer = self._added.get(key)
        if answer is None:
            answer = self._added[key] = workdays.add(day, count).date
        return answer


def _plain(value: Any) -> Any:
    return value.value if isinstance(value, enum.Enum) else value


class _JsonbBinaryDumper(Dumper):
    """jsonb for binary COPY; most simulated JSON values are empty, so those skip ``json.dumps``."""

    format = Format.BINARY
    oid = postgres_types["jsonb"].oid

    def dump(self, obj: Any) -> bytes:
        if isinstance(obj, Jsonb):
            return b"\x01" + (obj.dumps or json.dumps)(obj.obj).encode()
        if not obj and isinstance(obj, dict):
            return b"\x01{}"
        if not obj and isinstance(obj, list):
            return b"\x01[]"
        return b"\x01" + json.dumps(obj).encode()


class _Table:
    """How rows of one model, given as tuples of ``columns`` (attnames), are loaded."""

    def __init__(self, model: type[models.Model], columns: tuple[str, ...]) -> None:
        meta = model._meta
        self.model = model
        self.columns = columns
        by_attname = {field.attname: field for field in meta.concrete_fields}
        unknown = [column for column in columns if column not in by_attname]
        if unknown:
            raise ValueError(f"{model.__name__} has no column {unknown}")
        self.json = [
            (position, by_attname[column])
            for position, column in enumerate(columns)
            if isinstance(by_attname[column], models.JSONField)
        ]
        rest = [
            field for field in meta.concrete_fields if field.attname not in columns and field is not meta.pk
        ]
        # A callable default other than dict/list (a token, now()) is evaluated per row, as in bulk_create.
        self.dynamic = [
            field
            for field in rest
            if field.has_default() and callable(field.default) and field.default not in (dict, list)
        ]
        self.static = [field for field in rest if field not in self.dynamic]
        self.sequence: str | None = None
        names = [meta.pk.column, *(by_attname[c].column for c in columns)]
        names += [field.column for field in (*self.static, *self.dynamic)]
        self.copy_sql = f"COPY {meta.db_table} ({', '.join(names)}) FROM STDIN (FORMAT BINARY)"
        self.types: list[str] = []
        self.reserved: list[int] = []
        # PostgreSQL: rows given keys but not yet sent, copied a batch at a time (_flush_loads).
        self.pending_ids: list[int] = []
        self.pending_rows: list[tuple[Any, ...]] = []

    def _types(self) -> list[str]:
        """The PostgreSQL type of each copied column, for binary COPY (``varchar(16)`` → ``varchar``)."""
        meta = self.model._meta
        by_attname = {field.attname: field for field in meta.concrete_fields}
        fields = [meta.pk, *(by_attname[c] for c in self.columns), *self.static, *self.dynamic]
        return [field.db_type(connection).split("(")[0] for field in fields]

    def _value(self, field: models.Field, value: Any) -> Any:
        value = _plain(value)
        if isinstance(field, models.JSONField) and value is not None and field.encoder is not None:
            return Jsonb(value, dumps=partial(json.dumps, cls=field.encoder))
        return value

    def _copy(self, ids: list[int], rows: list[tuple[Any, ...]]) -> None:
        static = tuple(self._value(field, field.get_default()) for field in self.static)
        dynamic = self.dynamic
        json_columns = [(position, field) for position, field in self.json if field.encoder is not None]
        # Binary COPY: psycopg packs each value in C and the server parses no text (issue 9).
        with connection_of_run().cursor() as raw:
            raw.adapters.register_dumper(None, _JsonbBinaryDumper)
            with raw.copy(self.copy_sql) as copy:
                copy.set_types(self.types)
                write = copy.write_row
                for pk, row in zip(ids, rows, strict=True):
                    if json_columns:
                        row = list(row)
                        for position, field in json_columns:
                            row[position] = self._value(field, row[position])
                    if dynamic:
                        write(
                            (
                                pk,
                                *row,
                                *static,
                                *(self._value(field, field.get_default()) for field in dynamic),
                            )
                        )
                    else:
                        write((pk, *row, *static))

    def load(self, rows: list[tuple[Any, ...]]) -> list[int]:
        """Insert ``rows`` (on PostgreSQL: with the next batch, see ``_flush_loads``); their primary
        keys, in order."""
        if not rows:
            return []
        if connection.vendor != "postgresql":
            objects = [self.model(**dict(zip(self.columns, row, strict=True))) for row in rows]
            self.model.objects.bulk_create(objects, batch_size=BATCH_SIZE)
            return [obj.pk for obj in objects]
        with connection.cursor() as cursor:
            if self.sequence is None:
                meta = self.model._meta
                cursor.execute("SELECT pg_get_serial_sequence(%s, %s)", [meta.db_table, meta.pk.column])
                self.sequence = cursor.fetchone()[0]
                self.types = self._types()
            if len(self.reserved) < len(rows):
                # Reserved in blocks: each reservation waits for the writer's current statement.
                cursor.execute(
                    "SELECT nextval(%s) FROM generate_series(1, %s)",
                    [self.sequence, max(len(rows) - len(self.reserved), ID_BLOCK)],
                )
                self.reserved.extend(row[0] for row in cursor.fetchall())
        ids = self.reserved[: len(rows)]
        del self.reserved[: len(rows)]
        self.pending_ids += ids
        self.pending_rows += rows
        return ids

    def flush(self) -> None:
        """Send the pending rows in one ``COPY`` (on the writer)."""
        if self.pending_rows:
            _run_on_writer(partial(self._copy, self.pending_ids, self.pending_rows))
            self.pending_ids, self.pending_rows = [], []

    def clear(self) -> None:
        """Forget keys and rows of another run (or database): never used, never sent."""
        self.reserved.clear()
        self.pending_ids, self.pending_rows = [], []


VISITS = _Table(Visit, ("site_id", "service_date", "created_at"))
TICKETS = _Table(
    Ticket,
    (
        "site_id",
        "visit_id",
        "category_id",
        "service_date",
        "sequence",
        "number",
        "lane",
        "channel",
        "status",
        "issued_at",
        "queued_at",
        "called_at",
        "started_at",
        "finished_at",
        "no_show_at",
        "call_count",
        "window_id",
        "clerk_id",
    ),
)
VISIT_EVENTS = _Table(
    VisitEvent,
    (
        "site_id",
        "kind",
        "at",
        "visit_id",
        "ticket_id",
        "category_id",
        "lane",
        "window_id",
        "clerk_id",
        "detail",
    ),
)
RATING_TOKENS = _Table(
    RatingToken,
    (
        "site_id",
        "service_kind",
        "ticket_id",
        "staff_id",
        "window_id",
        "key",
        "issued_at",
        "expires_at",
        "used_at",
    ),
)
RATINGS = _Table(
    Rating,
    (
        "site_id",
        "token_id",
        "service_kind",
        "staff_id",
        "window_id",
        "level",
        "grade",
        "reasons",
        "channel",
        "rated_at",
    ),
)
RECTIFICATIONS = _Table(
    Rectification,
    (
        "site_id",
        "rating_id",
        "staff_id",
        "status",
        "opened_at",
        "verify_due",
        "rectify_due",
        "due_on",
        "is_justified",
        "verification_note",
        "verified_at",
        "rectification_note",
        "rectified_at",
        "closed_at",
    ),
)
# The tables loaded by COPY on PostgreSQL, in the order a batch is sent.
COPIED_TABLES = (VISITS, TICKETS, VISIT_EVENTS, RATING_TOKENS, RATINGS, RECTIFICATIONS)
# The tables that take nearly all rows: their secondary indexes are built at the end of a big run.
BULK_MODELS = (Visit, Ticket, VisitEvent, RatingToken, Rating, Rectification)
# Every table the simulator writes, for the foreign keys checked once per run on PostgreSQL.
LOADED_MODELS = (
    Visit,
    Ticket,
    VisitEvent,
    DailyCounter,
    RatingToken,
    Rating,
    Rectification,
    Case,
    CaseEvent,
    CheckIn,
    Violation,
)


def simulate(
    days: int,
    end: dt.date | None,
    seed: int,
    scale: float,
    stdout: Any,
    *,
    rollup: bool = True,
) -> SimulationResult:
    """Fill ``days`` calendar days ending at ``end`` (default yesterday) at every active site."""
    import time

    started = time.perf_counter()
    if days < 1:
        raise ValueError("days must be at least 1")
    if scale <= 0:
        raise ValueError("scale must be positive")
    last = end or timezone.localdate() - dt.timedelta(days=1)
    first = last - dt.timedelta(days=days - 1)
    result = SimulationResult(first, last)
    worse = bad_week(first, last)
    if connection.vendor == "postgresql":
        # One transaction for the run, its foreign keys checked once at the end (below); loaded
        # history, so a crash loses the run, which a rerun fills.
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL synchronous_commit TO OFF")
            with _foreign_keys_checked_at_end(LOADED_MODELS), _background_writes():
                _fill(first, last, seed, scale, worse, result)
    else:
        _fill(first, last, seed, scale, worse, result)
    # Complaints, inspections and away records of the days just filled: after the service log is in
    # (they need the keys of their own rows), in a transaction of their own.
    from servicehall.assessment.simulation_supervision import simulate_supervision

    simulate_supervision(first, last, seed, worse, result)
    if result.days_filled:
        record(
            "assessment.history_simulated",
            object_type="assessment.simulation",
            object_label="模拟历史数据 / simulated history",
            after={
                "first": first.isoformat(),
                "last": last.isoformat(),
                "seed": seed,
                "scale": scale,
                "days_filled": result.days_filled,
                "rows": dict(sorted(result.rows.items())),
            },
        )
        if rollup:
            from servicehall.assessment import rollup as rollups

            rollups.rebuild(list(Site.objects.values_list("pk", flat=True)), first, last)
    result.seconds = time.perf_counter() - started
    stdout.write(
        f"已模拟 / simulated {first}–{last}: 填充 {result.days_filled} 个场所日，跳过已有数据 "
        f"{result.days_skipped} 个 / site-days filled, skipped; {result.total_rows} 行 / rows "
        f"({result.seconds:.1f} s)\n"
    )
    return result


class _Writer:
    """PostgreSQL: the run's bulk writes, in order, on a thread of their own.

    The server spends about as long storing a site-day's rows as Python spends generating them; with
    the writes on this thread (on the same connection, so in the same transaction) the next site-day
    is generated while the server stores the last one. Python releases the GIL while it waits for the
    server. The first failure stops the writer; the run then raises it and rolls back."""

    def __init__(self, raw_connection: Any) -> None:
        self.raw_connection = raw_connection
        self.jobs: queue.Queue[Callable[[], None] | None] = queue.Queue(maxsize=32)
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._work, name="simulate-writer", daemon=True)
        self.thread.start()

    def _work(self) -> None:
        while (job := self.jobs.get()) is not None:
            if self.error is None:
                try:
                    job()
                except BaseException as error:  # raised again on the run's thread
                    self.error = error

    def put(self, job: Callable[[], None]) -> None:
        self.raise_error()
        self.jobs.put(job)

    def finish(self) -> None:
        self.jobs.put(None)
        self.thread.join()
        self.raise_error()

    def raise_error(self) -> None:
        if self.error is not None:
            raise RuntimeError(
                f"模拟数据写入失败 / simulated history could not be written: {self.error}"
            ) from (self.error)


_writer: _Writer | None = None
# With the writer running, the few rows made as model instances (counters, cases, check-ins) wait for
# the end of the run: inserted on the run's thread now, each would wait for the writer's statement.
# Gathered by model (in the order models first appear: cases before their events), one bulk_create
# each, not one per site-day.
_deferred_creates: dict[tuple[type[models.Model], tuple[tuple[str, Any], ...]], list[Any]] = {}
# PostgreSQL: tickets whose service log the server writes with the next batch, after the tickets.
_pending_event_tickets: list[int] = []


def _bulk_create(model: type[models.Model], objects: list[Any], **options: Any) -> None:
    if _writer is None:
        model.objects.bulk_create(objects, batch_size=BATCH_SIZE, **options)
    elif objects:
        _deferred_creates.setdefault((model, tuple(sorted(options.items()))), []).extend(objects)


def _flush_loads(*, everything: bool = False) -> None:
    """PostgreSQL: hand the pending rows to the writer once there are ``COPY_BATCH`` of them (or all
    of them), one statement per table, the tickets before the service log written from them."""
    pending = sum(len(table.pending_rows) for table in COPIED_TABLES) + 4 * len(_pending_event_tickets)
    if not pending or (pending < COPY_BATCH and not everything and _writer is not None):
        return
    VISITS.flush()
    TICKETS.flush()
    if _pending_event_tickets:
        _run_on_writer(partial(_insert_visit_events, list(_pending_event_tickets)))
        _pending_event_tickets.clear()
    for table in COPIED_TABLES[2:]:
        table.flush()


def connection_of_run() -> Any:
    """The psycopg connection of the run's transaction (the writer's, or Django's own)."""
    return _writer.raw_connection if _writer is not None else connection.connection


def _run_on_writer(job: Callable[[], None]) -> None:
    if _writer is None:
        job()
    else:
        _writer.put(job)


@contextmanager
def _background_writes() -> Iterator[None]:
    global _writer
    connection.ensure_connection()
    for table in COPIED_TABLES:
        table.clear()  # a key reserved in another run (or database) is never used
    _pending_event_tickets.clear()
    _writer = _Writer(connection.connection)
    _deferred_creates.clear()
    try:
        yield
        _flush_loads(everything=True)
        _writer.finish()
        for (model, options), objects in _deferred_creates.items():
            model.objects.bulk_create(objects, batch_size=BATCH_SIZE, **dict(options))
    except BaseException as error:
        # Nothing more may reach the connection: the caller's transaction is about to roll back.
        _writer.error = _writer.error or error
        raise
    finally:
        if _writer.thread.is_alive():
            _writer.jobs.put(None)
            _writer.thread.join()
        _writer = None
        _deferred_creates.clear()
        _pending_event_tickets.clear()
        for table in COPIED_TABLES:
            table.clear()


def _fill(
    first: dt.date,
    last: dt.date,
    seed: int,
    scale: float,
    worse: tuple[dt.date, dt.date],
    result: SimulationResult,
) -> None:
    todo: list[tuple[_Site, Any]] = []
    for site in Site.objects.filter(is_active=True).order_by("pk"):
        info = _Site(site)
        if not info.categories:
            continue
        filled = set(
            Ticket.objects.filter(site=site, service_date__range=(first, last))
            .values_list("service_date", flat=True)
            .distinct()
        )
        calendar = workdays.current_calendar(site)
        holidays = calendar.data.holidays
        day = first
        while day <= last:
            plan = plan_day(
                day, info.opening, is_working_day=calendar.is_working_day(day), is_holiday=day in holidays
            )
            if plan is not None:
                if day in filled:
                    result.days_skipped += 1
                else:
                    todo.append((info, plan))
            day += dt.timedelta(days=1)
    if _writer is None:
        for info, plan in todo:
            with transaction.atomic():
                _simulate_day(info, plan, seed, scale, worse, result)
            result.days_filled += 1
        return
    # Inside the run's one transaction.
    expected = sum(
        TICKETS_PER_WINDOW * scale * sum(len(pairs) for pairs in info.windows.values())
        for info, _plan in todo
    )
    with _indexes_built_at_end(BULK_MODELS, int(expected)):
        for info, plan in todo:
            _simulate_day(info, plan, seed, scale, worse, result)
            _flush_loads()
            result.days_filled += 1
        _flush_loads(everything=True)  # before the indexes are built


@contextmanager
def _indexes_built_at_end(bulk: tuple[type[models.Model], ...], expected_tickets: int) -> Iterator[None]:
    """PostgreSQL, inside the run's transaction and writer: drop the bulk tables' secondary indexes
    (unique ones included) and build them again, with their own definitions, after the last row.

    Keeping an index up to date row by row cost about half of the server's time; one sorted build per
    index at the end is several times cheaper ("Populating a Database": remove indexes), and a unique
    index built at the end fails the whole run on a duplicate, so integrity is as strict. Only when the
    run adds more tickets than the tables hold already: rebuilding the indexes of a big table for a few
    days would cost more than it saves. DDL is transactional, so a failed run leaves every index as it
    was; the tables are locked for the run anyway (foreign keys, above)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM (SELECT 1 FROM queueing_ticket LIMIT %s) AS held",
            [expected_tickets + 1],
        )
        if cursor.fetchone()[0] > expected_tickets:
            indexes = []
        else:
            # Not the primary keys (the run reserves and references them), nor an index a foreign key
            # of another table depends on.
            cursor.execute(
                """
                SELECT i.indrelid::regclass::text, i.indexrelid::regclass::text, c.conname,
                       pg_get_indexdef(i.indexrelid), pg_get_constraintdef(c.oid)
                FROM pg_index i
                LEFT JOIN pg_constraint c
                    ON c.conindid = i.indexrelid AND c.conrelid = i.indrelid AND c.contype IN ('u', 'x')
                WHERE i.indrelid = ANY(%s::regclass[]) AND NOT i.indisprimary
                  AND NOT EXISTS (
                      SELECT 1 FROM pg_constraint f WHERE f.contype = 'f' AND f.conindid = i.indexrelid
                  )
                ORDER BY 1, 2
                """,
                [[model._meta.db_table for model in bulk]],
            )
            indexes = cursor.fetchall()
        for table, index, constraint, _index_definition, _constraint_definition in indexes:
            if constraint is not None:
                cursor.execute(f"ALTER TABLE {table} DROP CONSTRAINT {connection.ops.quote_name(constraint)}")
            else:
                cursor.execute(f"DROP INDEX {index}")
    yield
    if indexes:
        _run_on_writer(partial(_build_indexes, indexes))


def _build_indexes(indexes: list[tuple[str, str, str | None, str, str | None]]) -> None:
    with connection_of_run().cursor() as cursor:
        cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
        for table, _index, constraint, index_definition, constraint_definition in indexes:
            if constraint is not None:
                cursor.execute(
                    f"ALTER TABLE {table} ADD CONSTRAINT {connection.ops.quote_name(constraint)} "
                    f"{constraint_definition}"
                )
            else:
                cursor.execute(index_definition)


@contextmanager
def _foreign_keys_checked_at_end(loaded: tuple[type[models.Model], ...]) -> Iterator[None]:
    """PostgreSQL: drop the loaded tables' foreign keys and add them back, with the same definitions,
    at the end of the caller's transaction.

    A deferred foreign key is checked row by row at commit, which cost about 40% of the load; adding
    the constraint back checks every row with one join, and a row that references nothing fails the
    whole run, so integrity is exactly as strict (PostgreSQL's documented bulk-load practice, "Populating
    a Database"). The tables are locked until the transaction ends: the simulator is for demo and
    benchmark databases, not a hall in service."""
    tables = [model._meta.db_table for model in loaded]
    with connection.cursor() as cursor:
        # Rows written earlier in the transaction have their checks still pending, and a table with
        # pending checks cannot be altered: run them now. All the project's foreign keys are
        # deferrable and initially deferred, which SET CONSTRAINTS ALL DEFERRED restores afterwards.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute(
            "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE contype = 'f' AND conrelid = ANY(%s::regclass[]) ORDER BY conrelid::regclass::text, conname",
            [tables],
        )
        constraints = cursor.fetchall()
        for table, name, _definition in constraints:
            cursor.execute(f"ALTER TABLE {table} DROP CONSTRAINT {connection.ops.quote_name(name)}")
    yield
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        for table, name, definition in constraints:
            cursor.execute(
                f"ALTER TABLE {table} ADD CONSTRAINT {connection.ops.quote_name(name)} {definition}"
            )
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")


def _moment(day: dt.date, seconds: float) -> dt.datetime:
    zone = timezone.get_current_timezone()
    return dt.datetime.combine(day, dt.time.min, tzinfo=zone) + dt.timedelta(seconds=seconds)


def _simulate_day(
    info: _Site,
    plan: Any,
    seed: int,
    scale: float,
    worse: tuple[dt.date, dt.date],
    result: SimulationResult,
) -> None:
    site, day = info.site, plan.day
    rng = _rng(seed, site.code, day.isoformat())
    is_bad = worse[0] <= day <= worse[1]
    weekday_weight = WEEKDAY_WEIGHT[day.weekday()] if not plan.is_swapped_workday else 1.2
    periods = [
        (
            period.starts_at.hour * 3600 + period.starts_at.minute * 60,
            period.ends_at.hour * 3600 + period.ends_at.minute * 60,
        )
        for period in plan.periods
    ]
    open_seconds = sum(end - start for start, end in periods)
    day_share = open_seconds / (7 * 3600)
    zone = timezone.get_current_timezone()
    midnight = dt.datetime.combine(day, dt.time.min, tzinfo=zone)
    seconds_after = dt.timedelta
    visits: list[tuple[Any, ...]] = []
    plans: list[dict[str, Any]] = []
    counters: list[DailyCounter] = []
    site_id = site.pk
    for category in info.categories:
        pairs = info.windows.get(category.pk) or []
        if not pairs:
            continue
        expected = TICKETS_PER_WINDOW * len(pairs) * scale * weekday_weight * day_share
        count = max(0, int(rng.gauss(expected, expected**0.5)))
        arrivals = []
        for _index in range(count):
            while True:
                start, end = rng.choice(periods)
                second = rng.uniform(start, end - 60)
                weight = HOUR_WEIGHT.get(int(second // 3600), 0.3)
                if rng.random() < weight / 1.7:
                    break
            arrivals.append(second)
        arrivals.sort()
        free_at = {window_id: 0.0 for window_id, _clerk in pairs}
        minutes = category.average_service_minutes * 60
        for sequence, second in enumerate(arrivals, start=1):
            window_id, clerk_id = min(pairs, key=lambda pair: free_at[pair[0]])
            slow = clerk_id in info.slow
            called = max(second + rng.uniform(20, 90), free_at[window_id])
            no_show = rng.random() < NO_SHOW_SHARE
            service = 0.0
            if not no_show:
                service = rng.lognormvariate(0, 0.35) * minutes
                service *= SLOW_FACTOR if slow else 1.0
            started = called + (rng.uniform(30, 90) if not no_show else 0)
            finished = started + service
            free_at[window_id] = (called + 120) if no_show else finished + rng.uniform(10, 40)
            issued = midnight + seconds_after(seconds=second)
            plans.append(
                {
                    "category": category,
                    "sequence": sequence,
                    "window": window_id,
                    "clerk": clerk_id,
                    "issued": issued,
                    "called": midnight + seconds_after(seconds=called),
                    "started": midnight + seconds_after(seconds=started),
                    "finished": midnight + seconds_after(seconds=finished),
                    "no_show": no_show,
                    "slow": slow,
                }
            )
            visits.append((site_id, day, issued))
        if arrivals:
            counters.append(
                DailyCounter(
                    site_id=site_id, category=category, service_date=day, last_sequence=len(arrivals)
                )
            )
    _bulk_create(DailyCounter, counters)
    result.rows["daily_counters"] += len(counters)
    if not plans:
        return
    visit_ids = VISITS.load(visits)
    tickets: list[tuple[Any, ...]] = []
    ordinary, kiosk, mobile = Lane.ORDINARY.value, TicketChannel.KIOSK.value, TicketChannel.MOBILE.value
    no_show_status, finished_status = TicketStatus.NO_SHOW.value, TicketStatus.FINISHED.value
    two_minutes = dt.timedelta(minutes=2)
    for visit_id, entry in zip(visit_ids, plans, strict=True):
        category = entry["category"]
        no_show = entry["no_show"]
        sequence = entry["sequence"]
        channel = kiosk if rng.random() < 0.8 else mobile
        entry["visit_id"] = visit_id
        entry["channel"] = channel
        entry["no_show_at"] = entry["called"] + two_minutes if no_show else None
        tickets.append(
            (
                site_id,
                visit_id,
                category.pk,
                day,
                sequence,
                f"{category.prefix}{sequence:03d}",
                ordinary,
                channel,
                no_show_status if no_show else finished_status,
                entry["issued"],
                entry["issued"],
                entry["called"],
                None if no_show else entry["started"],
                None if no_show else entry["finished"],
                entry["no_show_at"],
                1,
                entry["window"],
                entry["clerk"],
            )
        )
    ticket_ids = TICKETS.load(tickets)
    for ticket_id, entry in zip(ticket_ids, plans, strict=True):
        entry["ticket_id"] = ticket_id
    event_count = _visit_events(ticket_ids, plans, site_id)
    result.rows["visits"] += len(visits)
    result.rows["tickets"] += len(tickets)
    result.rows["visit_events"] += event_count
    _ratings(info, day, rng, plans, is_bad, result)
    _cases(info, day, rng, plans, result)
    _check_ins(info, plan, rng, {entry["clerk"] for entry in plans}, result)


# Every ticket's service log follows from its own times: issued, called, then no_show or started and
# finished. On PostgreSQL the server writes them from the tickets just loaded (half of all rows).
VISIT_EVENTS_FROM_TICKETS_SQL = """
INSERT INTO queueing_visitevent
    (site_id, kind, at, visit_id, ticket_id, category_id, lane, window_id, clerk_id, detail)
SELECT t.site_id, e.kind, e.at, t.visit_id, t.id, t.category_id, t.lane,
       CASE WHEN e.kind = %(issued)s THEN NULL ELSE t.window_id END,
       CASE WHEN e.kind = %(issued)s THEN NULL ELSE t.clerk_id END,
       CASE WHEN e.kind = %(issued)s THEN jsonb_build_object('channel', t.channel) ELSE '{}'::jsonb END
FROM queueing_ticket t
CROSS JOIN LATERAL (
    VALUES (1, %(issued)s, t.issued_at), (2, %(called)s, t.called_at), (3, %(no_show)s, t.no_show_at),
           (4, %(started)s, t.started_at), (5, %(finished)s, t.finished_at)
) AS e (position, kind, at)
WHERE t.id = ANY(%(tickets)s) AND e.at IS NOT NULL
ORDER BY t.id, e.position
"""


def _insert_visit_events(ticket_ids: list[int]) -> None:
    with connection_of_run().cursor() as cursor:
        cursor.execute(
            VISIT_EVENTS_FROM_TICKETS_SQL,
            {
                "issued": EventKind.ISSUED.value,
                "called": EventKind.CALLED.value,
                "no_show": EventKind.NO_SHOW.value,
                "started": EventKind.STARTED.value,
                "finished": EventKind.FINISHED.value,
                "tickets": ticket_ids,
            },
        )


def _visit_events(ticket_ids: list[int], plans: list[dict[str, Any]], site_id: int) -> int:
    """The service log of the day's tickets; the number of events written."""
    if connection.vendor == "postgresql":
        _pending_event_tickets.extend(ticket_ids)
        # Each ticket has issued and called, then no_show, or started and finished.
        return sum(3 if entry["no_show"] else 4 for entry in plans)
    ordinary, kiosk, mobile = Lane.ORDINARY.value, TicketChannel.KIOSK.value, TicketChannel.MOBILE.value
    events: list[tuple[Any, ...]] = []
    issued_kind, called_kind = EventKind.ISSUED.value, EventKind.CALLED.value
    no_show_kind, started_kind, finished_kind = (
        EventKind.NO_SHOW.value,
        EventKind.STARTED.value,
        EventKind.FINISHED.value,
    )
    details = {kiosk: {"channel": kiosk}, mobile: {"channel": mobile}}
    for ticket_id, entry in zip(ticket_ids, plans, strict=True):
        visit_id, category_id = entry["visit_id"], entry["category"].pk
        window_id, clerk_id = entry["window"], entry["clerk"]
        events.append(
            (
                site_id,
                issued_kind,
                entry["issued"],
                visit_id,
                ticket_id,
                category_id,
                ordinary,
                None,
                None,
                details[entry["channel"]],
            )
        )
        events.append(
            (
                site_id,
                called_kind,
                entry["called"],
                visit_id,
                ticket_id,
                category_id,
                ordinary,
                window_id,
                clerk_id,
                {},
            )
        )
        if entry["no_show"]:
            events.append(
                (
                    site_id,
                    no_show_kind,
                    entry["no_show_at"],
                    visit_id,
                    ticket_id,
                    category_id,
                    ordinary,
                    window_id,
                    clerk_id,
                    {},
                )
            )
        else:
            events.append(
                (
                    site_id,
                    started_kind,
                    entry["started"],
                    visit_id,
                    ticket_id,
                    category_id,
                    ordinary,
                    window_id,
                    clerk_id,
                    {},
                )
            )
            events.append(
                (
                    site_id,
                    finished_kind,
                    entry["finished"],
                    visit_id,
                    ticket_id,
                    category_id,
                    ordinary,
                    window_id,
                    clerk_id,
                    {},
                )
            )
    VISIT_EVENTS.load(events)
    return len(events)


def _key(rng: random.Random) -> str:
    return f"{rng.getrandbits(256):064x}"


def _ratings(
    info: _Site,
    day: dt.date,
    rng: random.Random,
    plans: list[dict[str, Any]],
    is_bad: bool,
    result: SimulationResult,
) -> None:
    site_id = info.site.pk
    tokens: list[tuple[Any, ...]] = []
    levels: list[int | None] = []
    visit_kind = ServiceKind.VISIT.value
    week, half_minute = dt.timedelta(days=7), dt.timedelta(seconds=30)
    for entry in plans:
        if entry["no_show"]:
            continue
        rated = rng.random() < RATED_SHARE
        finished = entry["finished"]
        tokens.append(
            (
                site_id,
                visit_kind,
                entry["ticket_id"],
                entry["clerk"],
                entry["window"],
                _key(rng)[:43],
                finished,
                finished + week,
                finished + half_minute if rated else None,
            )
        )
        levels.append(_level(rng, entry["slow"], is_bad) if rated else None)
    token_ids = RATING_TOKENS.load(tokens)
    ratings: list[tuple[Any, ...]] = []
    bad = Grade.BAD.value
    evaluator = Channel.EVALUATOR.value
    for token_id, token, level in zip(token_ids, tokens, levels, strict=True):
        if level is None:
            continue
        grade = _plain(grade_of(level))
        reasons = [rng.choice(("attitude", "efficiency", "one_time_notice"))] if grade == bad else []
        ratings.append(
            (site_id, token_id, visit_kind, token[3], token[4], level, grade, reasons, evaluator, token[8])
        )
    rating_ids = RATINGS.load(ratings)
    rectifications: list[tuple[Any, ...]] = []
    recent = timezone.localdate() - dt.timedelta(days=10)
    closed = day < recent
    status = (RectificationStatus.CLOSED if closed else RectificationStatus.RECTIFYING).value
    three_hours, two_days = dt.timedelta(hours=3), dt.timedelta(days=2)
    for rating_id, rating in zip(rating_ids, ratings, strict=True):
        if rating[6] != bad:
            continue
        verify_due = info.add(day, 1)
        rectify_due = info.add(day, 15)
        rated_at = rating[9]
        verified_at = rated_at + three_hours
        rectifications.append(
            (
                site_id,
                rating_id,
                rating[3],
                status,
                rated_at,
                verify_due,
                rectify_due,
                rectify_due,
                True,
                "经核实情况属实（模拟数据）",
                verified_at,
                "已批评教育并组织业务培训（模拟数据）" if closed else "",
                verified_at + two_days if closed else None,
                verified_at + two_days if closed else None,
            )
        )
    RECTIFICATIONS.load(rectifications)
    result.rows["rating_tokens"] += len(tokens)
    result.rows["ratings"] += len(ratings)
    result.rows["rectifications"] += len(rectifications)


def _cases(
    info: _Site, day: dt.date, rng: random.Random, plans: list[dict[str, Any]], result: SimulationResult
) -> None:
    if not info.items:
        return
    cases: list[Case] = []
    histories: list[list[tuple[str, str, str, dt.datetime, dict[str, Any] | None]]] = []
    for index, entry in enumerate(plans):
        if entry["no_show"] or rng.random() >= CASE_SHARE:
            continue
        item = rng.choice(info.items)
        opened = entry["started"]
        immediate = item.committed_limit_days == 0
        supplements = 1 if rng.random() < (0.25 if entry["slow"] else 0.1) else 0
        accepted_day = info.add(day, 1 + rng.randrange(3)) if supplements else day
        taken = (
            0
            if immediate
            else max(1, int(rng.gauss(item.committed_limit_days * (1.1 if entry["slow"] else 0.7), 1.5)))
        )
        completed_day = accepted_day if immediate else info.add(accepted_day, taken)
        if completed_day >= timezone.localdate():
            continue
        committed_due = accepted_day if immediate else info.add(accepted_day, item.committed_limit_days)
        on_time = completed_day <= committed_due
        accepted_at = opened if not supplements else _moment(accepted_day, 10 * 3600 + rng.randrange(3600))
        completed_at = (
            _moment(completed_day, (15 if not immediate else 0) * 3600)
            if not immediate
            else entry["finished"]
        )
        number = f"SIM{day:%Y%m%d}{info.site.pk % 100:02d}{index:05d}"
        cases.append(
            Case(
                site_id=info.site.pk,
                item=item,
                department_id=item.department_id,
                number=number,
                state=CaseState.COMPLETED,
                applicant_kind="person",
                applicant_name="模拟申请人",
                applicant_id_number="",
                applicant_phone="",
                first_handler_id=entry["clerk"],
                visit_count=1 + supplements,
                supplement_count=supplements,
                statutory_limit_days=item.statutory_limit_days,
                committed_limit_days=item.committed_limit_days,
                is_immediate=immediate,
                accepted_on=accepted_day,
                committed_due=committed_due,
                statutory_due=committed_due,
                decision="approve",
                decision_reason="符合条件，准予办理。",
                result_text="准予办理。",
                completed_on_time=on_time,
                working_days_taken=taken,
                created_at=opened,
                updated_at=completed_at,
                accepted_at=accepted_at,
                decided_at=completed_at,
                completed_at=completed_at,
            )
        )
        history = [("open", "", CaseState.DRAFT, opened, {"number": number, "simulated": True})]
        if supplements:
            history.append(
                (
                    CaseAction.REQUEST_SUPPLEMENT,
                    CaseState.DRAFT,
                    CaseState.SUPPLEMENT_REQUESTED,
                    opened + dt.timedelta(minutes=5),
                    None,
                )
            )
            history.append(
                (
                    CaseAction.RECEIVE_SUPPLEMENT,
                    CaseState.SUPPLEMENT_REQUESTED,
                    CaseState.DRAFT,
                    accepted_at - dt.timedelta(minutes=5),
                    {"visits": 2},
                )
            )
        history.append((CaseAction.ACCEPT, CaseState.DRAFT, CaseState.ACCEPTED, accepted_at, None))
        history.append(
            (
                CaseAction.DECIDE_CASE,
                CaseState.ACCEPTED,
                CaseState.APPROVED,
                completed_at,
                {"decision": "approve"},
            )
        )
        history.append(
            (
                CaseAction.COMPLETE,
                CaseState.APPROVED,
                CaseState.COMPLETED,
                completed_at,
                {
                    "decision": "approve",
                    "on_time": on_time,
                    "working_days": taken,
                    "committed_due": committed_due.isoformat(),
                    "visits": 1 + supplements,
                    "supplements": supplements,
                },
            )
        )
        histories.append(history)
    _bulk_create(Case, cases)
    events = [
        CaseEvent(
            site_id=info.site.pk,
            case=case,
            action=action,
            actor_id=case.first_handler_id,
            actor_label="模拟数据",
            occurred_at=at,
            from_state=from_state,
            to_state=to_state,
            after=after,
        )
        for case, history in zip(cases, histories, strict=True)
        for action, from_state, to_state, at, after in history
    ]
    _bulk_create(CaseEvent, events)
    result.rows["cases"] += len(cases)
    result.rows["case_events"] += len(events)


SLOTS = (
    ("morning", CheckInSlot.MORNING_IN, CheckInSlot.MORNING_OUT),
    ("afternoon", CheckInSlot.AFTERNOON_IN, CheckInSlot.AFTERNOON_OUT),
)


def _check_ins(
    info: _Site, plan: Any, rng: random.Random, clerks: set[int], result: SimulationResult
) -> None:
    from servicehall.duty.actions import lead_minutes
    from servicehall.duty.rules import assess_check_in, slot_times

    zone = timezone.get_current_timezone()
    rows: list[CheckIn] = []
    violations: list[Violation] = []
    for half in plan.halves:
        slots = next((pair for kind, *pair in SLOTS if kind == half.kind), None)
        if slots is None:
            continue
        for clerk_id in sorted(clerks):
            for slot in slots:
                times = slot_times(slot, half, plan.day, lead_minutes(), zone)
                late = rng.random() < (0.08 if clerk_id in info.slow else 0.02)
                if slot in (CheckInSlot.MORNING_IN, CheckInSlot.AFTERNOON_IN):
                    at = times.expected_at + dt.timedelta(
                        minutes=rng.randint(4, 25) if late else -rng.randint(1, 15)
                    )
                else:
                    at = times.expected_at + dt.timedelta(minutes=rng.randint(0, 15))
                status = assess_check_in(slot, at, times.expected_at)
                rows.append(
                    CheckIn(
                        site_id=info.site.pk,
                        staff_id=clerk_id,
                        date=plan.day,
                        slot=slot,
                        at=at,
                        source=CheckInSource.TERMINAL,
                        status=status,
                        expected_at=times.expected_at,
                        closes_at=times.closes_at,
                        assessed_at=times.closes_at,
                        created_at=at,
                    )
                )
                if status != CheckInStatus.ON_TIME:
                    violations.append(
                        Violation(
                            site_id=info.site.pk,
                            staff_id=clerk_id,
                            kind=ViolationKind.LATE_OR_EARLY_LEAVE,
                            tier=KIND_TIER[ViolationKind.LATE_OR_EARLY_LEAVE],
                            source=ViolationSource.ATTENDANCE,
                            source_reference=f"check_in:{clerk_id}:{plan.day.isoformat()}:{slot}",
                            description=f"{plan.day.isoformat()} {CheckInSlot(slot).label}迟到（模拟数据）",
                            status=ViolationStatus.CONFIRMED,
                            occurred_at=at,
                            recorded_at=times.closes_at,
                        )
                    )
    _bulk_create(CheckIn, rows, ignore_conflicts=True)
    _bulk_create(Violation, violations, ignore_conflicts=True)
    result.rows["check_ins"] += len(rows)
    result.rows["violations"] += len(violations)
