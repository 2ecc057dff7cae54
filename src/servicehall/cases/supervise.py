"""Electronic supervision (电子监察, 红黄牌): colours, urgency ordering, and the idempotent sweep.

Seed 000 限时办结制 八–九 and 责任追究制 二1⑤: every open case is green, yellow (due within N working days,
default 2, or 20% of its limit) or red (overdue). The sweep claims newly yellow or red cases and overdue
approval tasks with a conditional UPDATE (``card_level`` only rises), so running it twice, or on several
workers at once, records each card once. Each claimed row gets its card, a line in the case's history,
notices to the responsible staff and the 窗口负责人, and for a red card a 超时 violation.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any

from django.db import connection, models, transaction
from django.db.models import QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from servicehall.accounts.models import User
from servicehall.accounts.roles import Role
from servicehall.audit.actions import record
from servicehall.cases import actions, clock
from servicehall.cases.models import (
    ApprovalTask,
    CardLevel,
    Case,
    CaseEvent,
    Notification,
    SupervisionCard,
    TaskStatus,
)
from servicehall.cases.states import CaseAction, CaseState
from servicehall.supervision.actions import ViolationEntry, record_violations
from servicehall.supervision.models import ViolationKind, ViolationSource

CLAIM_BATCH = 20_000
DEEM_CHUNK = 100


class Colour(StrEnum):
    RED = "red"
    YELLOW = "yellow"
    GREEN = "green"
    PAUSED = "paused"
    NONE = "none"


COLOUR_LABELS = {
    Colour.RED: gettext_lazy("红牌（已超期）"),
    Colour.YELLOW: gettext_lazy("黄牌（临近期限）"),
    Colour.GREEN: gettext_lazy("绿色（正常）"),
    Colour.PAUSED: gettext_lazy("计时暂停"),
    Colour.NONE: gettext_lazy("未计时"),
}
COLOUR_TAGS = {
    Colour.RED: "tag-danger",
    Colour.YELLOW: "tag-warn",
    Colour.GREEN: "tag-ok",
    Colour.PAUSED: "",
    Colour.NONE: "",
}


def colour_of(case: Case, today: dt.date | None = None) -> Colour:
    today = today or clock.today()
    if case.state in (CaseState.COMPLETED, CaseState.DELIVERED, CaseState.WITHDRAWN, CaseState.NOT_ACCEPTED):
        return Colour.NONE
    if not case.clock_running:
        return Colour.PAUSED if case.state == CaseState.SUSPENDED else Colour.NONE
    if case.committed_due is not None and case.committed_due < today:
        return Colour.RED
    if case.yellow_from is not None and case.yellow_from <= today:
        return Colour.YELLOW
    return Colour.GREEN


def task_colour(task: ApprovalTask, today: dt.date | None = None) -> Colour:
    today = today or clock.today()
    if task.status != TaskStatus.PENDING:
        return Colour.NONE
    if task.due_date is None:
        return Colour.PAUSED
    if task.due_date < today:
        return Colour.RED
    if clock.working_days_left(task.due_date, today) <= clock.yellow_working_days():
        return Colour.YELLOW
    return Colour.GREEN


def urgency_expression(today: dt.date) -> models.Case:
    """0 red, 1 yellow, 2 green, 3 waiting for the window or the applicant, 4 finished."""
    return models.Case(
        models.When(clock_running=True, committed_due__lt=today, then=models.Value(0)),
        models.When(clock_running=True, yellow_from__lte=today, then=models.Value(1)),
        models.When(clock_running=True, then=models.Value(2)),
        models.When(
            state__in=[CaseState.DRAFT, CaseState.SUPPLEMENT_REQUESTED, CaseState.SUSPENDED],
            then=models.Value(3),
        ),
        default=models.Value(4),
        output_field=models.IntegerField(),
    )


def by_urgency(cases: QuerySet[Case], today: dt.date | None = None) -> QuerySet[Case]:
    """Green channel first (绿色通道), then red, yellow, green by due date, then the rest."""
    today = today or clock.today()
    return cases.annotate(urgency=urgency_expression(today)).order_by(
        "-is_green_channel", "urgency", models.F("committed_due").asc(nulls_last=True), "created_at"
    )


def colour_counts(cases: QuerySet[Case], today: dt.date | None = None) -> dict[str, int]:
    today = today or clock.today()
    rows = (
        cases.open()
        .annotate(urgency=urgency_expression(today))
        .values("urgency")
        .annotate(count=models.Count("id"))
    )
    by_rank = {row["urgency"]: row["count"] for row in rows}
    return {
        Colour.RED: by_rank.get(0, 0),
        Colour.YELLOW: by_rank.get(1, 0),
        Colour.GREEN: by_rank.get(2, 0),
        Colour.PAUSED: by_rank.get(3, 0),
    }


# ---------------------------------------------------------------------------------------------
# The sweep


@dataclass
class SweepResult:
    deferred_lapsed: int = 0
    tasks_deemed_approved: int = 0
    task_red_cards: int = 0
    red_cards: int = 0
    yellow_cards: int = 0
    notifications: int = 0
    violations: int = 0
    seconds: dict[str, float] = field(default_factory=dict, compare=False)

    @property
    def recorded_anything(self) -> bool:
        return any(value for key, value in asdict(self).items() if key != "seconds")

    def as_dict(self) -> dict[str, int]:
        return {key: value for key, value in asdict(self).items() if key != "seconds"}


@contextmanager
def _timed(result: SweepResult, phase: str) -> Iterator[None]:
    started = time.perf_counter()
    try:
        yield
    finally:
        result.seconds[phase] = result.seconds.get(phase, 0.0) + time.perf_counter() - started


def supervise() -> SweepResult:
    """One idempotent pass; safe to run every few minutes and on several workers at once."""
    today = clock.today()
    result = SweepResult()
    with _timed(result, "deferred"):
        _lapse_deferred(today, result)
    with _timed(result, "deemed"):
        _deem_overdue_tasks(today, result)
    with _timed(result, "overdue_tasks"):
        while _card_overdue_tasks(today, result):
            pass
    with _timed(result, "red"):
        while _card_cases(today, CardLevel.RED, result):
            pass
    with _timed(result, "yellow"):
        while _card_cases(today, CardLevel.YELLOW, result):
            pass
    if result.recorded_anything:
        record(
            "cases.supervised",
            object_type="cases.supervision",
            object_label="电子监察巡查 / supervision sweep",
            after={"date": today.isoformat(), **result.as_dict()},
        )
    return result


def _lapse_deferred(today: dt.date, result: SweepResult) -> None:
    case_ids = list(
        Case.objects.filter(deferred_due__isnull=False, deferred_lapsed=False, deferred_due__lt=today)
        .exclude(state=CaseState.SUSPENDED)
        .values_list("pk", flat=True)
    )
    for case_id in case_ids:
        if actions.lapse_deferred(case_id):
            result.deferred_lapsed += 1
            result.notifications += 1


def _deem_overdue_tasks(today: dt.date, result: SweepResult) -> None:
    """超时默认 in batches of cases; each batch is one transaction (a backlog after a long weekend does not
    wait on a disk flush per task), and a task deemed once is no longer pending, so a rerun finds nothing."""
    while True:
        deemed = actions.deem_overdue_tasks(DEEM_CHUNK)
        if not deemed:
            return
        result.tasks_deemed_approved += deemed
        result.violations += deemed


def _claim(table: str, level: int, where: str, parameters: Sequence[Any], returning: str) -> list[tuple]:
    """Raise ``card_level`` to ``level`` on up to CLAIM_BATCH matching rows; returns the rows claimed.

    The outer condition is checked again on each locked row, so a row another worker claimed meanwhile
    is skipped rather than claimed twice. Levels and flags are literals (our own integers), so the
    planner can match the partial indexes, whose predicates name them.
    """
    quoted = connection.ops.quote_name(table)
    level = int(level)
    sql = (
        f"UPDATE {quoted} SET card_level = {level} "  # noqa: S608 (table, columns and level are ours)
        f"WHERE id IN (SELECT id FROM {quoted} WHERE {where} AND card_level < {level} LIMIT {CLAIM_BATCH}) "
        f"AND card_level < {level} RETURNING {returning}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, list(parameters))
        return list(cursor.fetchall())


def _window_supervisor_ids(site_ids: Iterable[int]) -> dict[int, list[int]]:
    supervisors: dict[int, list[int]] = defaultdict(list)
    rows = (
        User.objects.filter(
            site_id__in=set(site_ids), is_active=True, role_grants__role=Role.WINDOW_SUPERVISOR
        )
        .values_list("site_id", "pk")
        .distinct()
    )
    for site_id, user_id in rows:
        supervisors[site_id].append(user_id)
    return supervisors


def _approver_ids(department_ids: Iterable[int]) -> dict[int, list[int]]:
    approvers: dict[int, list[int]] = defaultdict(list)
    rows = (
        User.objects.filter(
            department_id__in=set(department_ids), is_active=True, role_grants__role=Role.BACK_OFFICE_APPROVER
        )
        .values_list("department_id", "pk")
        .distinct()
    )
    for department_id, user_id in rows:
        approvers[department_id].append(user_id)
    return approvers


def _card_cases(today: dt.date, level: CardLevel, result: SweepResult) -> bool:
    if level == CardLevel.RED:
        where = "clock_running AND committed_due < %s"
    else:
        where = "clock_running AND yellow_from <= %s"
    now = clock.now()
    with transaction.atomic():
        with _timed(result, "claim_cases"):
            rows = _claim(
                Case._meta.db_table,
                int(level),
                where,
                [today],
                "id, site_id, first_handler_id, department_id, committed_due, number, state",
            )
        if not rows:
            return False
        supervisors = _window_supervisor_ids(row[1] for row in rows)
        template = (
            _("红牌督办：办件 %(number)s 已超过承诺办结期限 %(due)s。")
            if level == CardLevel.RED
            else _("黄牌预警：办件 %(number)s 将于 %(due)s 到期，请抓紧办理。")
        )
        cards, events, notifications, violations = [], [], [], []
        for case_id, site_id, handler_id, _department_id, due, number, state in rows:
            cards.append(
                {
                    "site_id": site_id,
                    "case_id": case_id,
                    "approval_task_id": None,
                    "level": int(level),
                    "issued_at": now,
                    "due_date": due,
                    "responsible_id": handler_id,
                    "department_id": None,
                }
            )
            action = CaseAction.RED_CARD if level == CardLevel.RED else CaseAction.YELLOW_CARD
            events.append(
                {
                    "site_id": site_id,
                    "case_id": case_id,
                    "action": action,
                    "actor_id": None,
                    "actor_label": actions.SYSTEM_LABEL,
                    "occurred_at": now,
                    "from_state": state,
                    "to_state": state,
                    "before": None,
                    "after": {"card": int(level), "committed_due": _iso(due)},
                    "note": "",
                }
            )
            if level == CardLevel.RED:
                violations.append(
                    ViolationEntry(
                        site_id=site_id,
                        kind=ViolationKind.OVERDUE,
                        source=ViolationSource.RED_CARD,
                        source_reference=f"case:{number}",
                        staff_id=handler_id,
                        description=f"办件 {number} 超过承诺办结期限 {_iso(due)} 未办结（电子监察红牌）。",
                        occurred_at=now,
                    )
                )
            message = template % {"number": number, "due": _iso(due)}
            for recipient_id in {handler_id, *supervisors.get(site_id, [])}:
                notifications.append(_notification_row(site_id, recipient_id, case_id, action, message, now))
        with _timed(result, "insert_rows"):
            _insert(SupervisionCard, cards)
            _insert(CaseEvent, events)
            _insert(Notification, notifications)
        result.notifications += len(notifications)
        with _timed(result, "violations"):
            result.violations += record_violations(violations)
        if level == CardLevel.RED:
            result.red_cards += len(rows)
        else:
            result.yellow_cards += len(rows)
    return len(rows) == CLAIM_BATCH


def _card_overdue_tasks(today: dt.date, result: SweepResult) -> bool:
    """Overdue tasks of items without 超时默认: a red card, notices and a 超时 violation on the department."""
    now = clock.now()
    with transaction.atomic():
        rows = _claim(
            ApprovalTask._meta.db_table,
            int(CardLevel.RED),
            "status = 'pending' AND NOT deemed_approval_on_timeout AND due_date < %s",
            [today],
            "id, case_id, site_id, department_id, due_date",
        )
        if not rows:
            return False
        case_rows = {
            row[0]: row
            for row in Case.objects.filter(pk__in={row[1] for row in rows}).values_list(
                "pk", "site_id", "first_handler_id", "number", "state"
            )
        }
        approvers = _approver_ids(row[3] for row in rows)
        supervisors = _window_supervisor_ids(case_row[1] for case_row in case_rows.values())
        department_names = dict(
            ApprovalTask.objects.filter(pk__in=[row[0] for row in rows]).values_list("pk", "department__name")
        )
        cards, events, notifications, violations = [], [], [], []
        for task_id, case_id, task_site_id, department_id, due in rows:
            _case_id, case_site_id, handler_id, number, state = case_rows[case_id]
            department_name = department_names.get(task_id, "")
            cards.append(
                {
                    "site_id": task_site_id,
                    "case_id": case_id,
                    "approval_task_id": task_id,
                    "level": int(CardLevel.RED),
                    "issued_at": now,
                    "due_date": due,
                    "responsible_id": None,
                    "department_id": department_id,
                }
            )
            events.append(
                {
                    "site_id": case_site_id,
                    "case_id": case_id,
                    "action": CaseAction.TASK_RED_CARD,
                    "actor_id": None,
                    "actor_label": actions.SYSTEM_LABEL,
                    "occurred_at": now,
                    "from_state": state,
                    "to_state": state,
                    "before": None,
                    "after": {"task_id": task_id, "department": department_name, "due_date": _iso(due)},
                    "note": "",
                }
            )
            message = _("审批超时：办件 %(number)s 在%(department)s的审批期限 %(due)s 已过。") % {
                "number": number,
                "department": department_name,
                "due": _iso(due),
            }
            recipients = {handler_id, *approvers.get(department_id, []), *supervisors.get(case_site_id, [])}
            for recipient_id in recipients:
                notifications.append(
                    _notification_row(
                        case_site_id, recipient_id, case_id, CaseAction.TASK_RED_CARD, message, now
                    )
                )
            violations.append(
                ViolationEntry(
                    site_id=task_site_id,
                    kind=ViolationKind.OVERDUE,
                    source=ViolationSource.RED_CARD,
                    source_reference=f"task:{task_id}",
                    department_id=department_id,
                    description=f"办件 {number}：{department_name} 审批期限 {_iso(due)} 已过未审批（电子监察红牌）。",
                    occurred_at=now,
                )
            )
        _insert(SupervisionCard, cards)
        _insert(CaseEvent, events)
        _insert(Notification, notifications)
        result.notifications += len(notifications)
        result.violations += record_violations(violations)
        result.task_red_cards += len(rows)
    return len(rows) == CLAIM_BATCH


def _notification_row(
    site_id: int, recipient_id: int, case_id: int, kind: str, message: str, now: dt.datetime
) -> dict[str, Any]:
    return {
        "site_id": site_id,
        "recipient_id": recipient_id,
        "case_id": case_id,
        "kind": str(kind),
        "message": message[:300],
        "created_at": now,
        "read_at": None,
    }


def _iso(day: dt.date | str | None) -> str:
    if day is None:
        return ""
    return day if isinstance(day, str) else day.isoformat()


def _insert(model: type[models.Model], rows: list[dict[str, Any]]) -> None:
    """Insert many rows: COPY on PostgreSQL (a million-case sweep claims tens of thousands), else bulk."""
    if not rows:
        return
    if connection.vendor != "postgresql":
        model.objects.bulk_create([model(**row) for row in rows], batch_size=500)
        return
    names = list(rows[0])
    json_fields = {
        name
        for name in names
        if isinstance(model._meta.get_field(name.removesuffix("_id")), models.JSONField)
    }
    columns = ", ".join(
        connection.ops.quote_name(model._meta.get_field(name.removesuffix("_id")).column) for name in names
    )
    statement = f"COPY {connection.ops.quote_name(model._meta.db_table)} ({columns}) FROM STDIN"
    with connection.cursor() as cursor, cursor.cursor.copy(statement) as copy:
        for row in rows:
            copy.write_row(
                [
                    (json.dumps(row[name], ensure_ascii=False) if row[name] is not None else None)
                    if name in json_fields
                    else row[name]
                    for name in names
                ]
            )
