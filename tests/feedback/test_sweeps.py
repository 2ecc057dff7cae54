"""The overdue sweeps: 差评整改 tasks and complaints past their deadline are claimed once; a second run
records nothing new, a task's next stage is claimed again only when its own deadline passes."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from servicehall.audit.models import AuditRecord
from servicehall.feedback import actions as feedback
from servicehall.feedback.models import Rectification
from servicehall.feedback.sweeps import mark_overdue_rectifications
from servicehall.supervision import actions as supervision
from servicehall.supervision.models import ComplaintChannel, ComplaintEvent
from servicehall.supervision.sweeps import mark_overdue_complaints
from tests.conftest import make_staff
from tests.feedback.conftest import rate

pytestmark = pytest.mark.django_db

NOON = dt.datetime(2025, 3, 3, 12, tzinfo=dt.UTC)


@pytest.fixture
def task(token: Any) -> Rectification:
    rating = rate(token.key, 1, reasons=["attitude"], comment="态度差")
    return Rectification.objects.get(rating=rating)


def test_an_overdue_rectification_is_claimed_once(task: Rectification, supervisor: Any) -> None:
    # Given a task whose 核实 deadline is the next working day
    before_deadline = mark_overdue_rectifications(today=task.verify_due, now=NOON)
    assert before_deadline.claimed == 0
    # When the sweep runs the day after the deadline, twice
    day_after = task.verify_due + dt.timedelta(days=1)
    first = mark_overdue_rectifications(today=day_after, now=NOON)
    second = mark_overdue_rectifications(today=day_after, now=NOON)
    # Then the first claims it with one audit record for the site, the second claims nothing
    assert (first.claimed, first.by_site) == (1, {task.site_id: 1})
    assert (second.claimed, second.by_site) == (0, {})
    task.refresh_from_db()
    assert (task.overdue_due_on, task.overdue_at) == (task.verify_due, NOON)
    audit = AuditRecord.objects.get(action="feedback.rectifications_overdue")
    assert audit.after == {"count": 1, "as_of": day_after.isoformat(), "ids": [task.pk]}


def test_the_next_stage_is_claimed_only_when_its_own_deadline_passes(
    task: Rectification, supervisor: Any
) -> None:
    mark_overdue_rectifications(today=task.verify_due + dt.timedelta(days=1), now=NOON)
    feedback.verify(supervisor, task, justified=True, note="属实")
    task.refresh_from_db()
    assert task.due_on == task.rectify_due
    assert mark_overdue_rectifications(today=task.rectify_due, now=NOON).claimed == 0
    assert mark_overdue_rectifications(today=task.rectify_due + dt.timedelta(days=1), now=NOON).claimed == 1
    task.refresh_from_db()
    assert task.overdue_due_on == task.rectify_due
    assert AuditRecord.objects.filter(action="feedback.rectifications_overdue").count() == 2


def test_a_closed_task_is_never_claimed(task: Rectification, supervisor: Any) -> None:
    feedback.verify(supervisor, task, justified=False, note="不属实")
    assert mark_overdue_rectifications(today=task.rectify_due + dt.timedelta(days=30), now=NOON).claimed == 0
    assert not AuditRecord.objects.filter(action="feedback.rectifications_overdue").exists()


@pytest.fixture
def handler(town_site: Any) -> Any:
    from servicehall.accounts.roles import Role

    return make_staff(town_site, Role.COMPLAINT_HANDLER, username="handler", full_name="卢投诉")


def test_an_overdue_complaint_is_claimed_once_and_again_after_an_extension(
    handler: Any, town_site: Any
) -> None:
    from django.utils import timezone

    complaint, _code = supervision.register_complaint(
        handler,
        supervision.ComplaintData(site=town_site, content="窗口无人值守。", channel=ComplaintChannel.DESK),
    )
    today = timezone.localdate()
    assert mark_overdue_complaints(today=complaint.deadline, now=NOON).claimed == 0
    late = complaint.deadline + dt.timedelta(days=1)
    first = mark_overdue_complaints(today=late, now=NOON)
    second = mark_overdue_complaints(today=late, now=NOON)
    assert (first.claimed, second.claimed) == (1, 0)
    event = ComplaintEvent.objects.get(complaint=complaint, action="overdue")
    assert event.note == f"超过办理期限 {complaint.deadline:%Y-%m-%d}"
    assert event.actor_id is None
    complaint.refresh_from_db()
    assert (complaint.overdue_deadline, complaint.overdue_at) == (complaint.deadline, NOON)
    # An extended deadline is claimed again only once it, too, has passed
    extended = today + dt.timedelta(days=20)
    supervision.change_deadline(handler, complaint, extended, "需调取外部门材料")
    assert mark_overdue_complaints(today=extended, now=NOON).claimed == 0
    assert mark_overdue_complaints(today=extended + dt.timedelta(days=1), now=NOON).claimed == 1
    # A filed complaint is never claimed
    supervision.start_investigation(handler, complaint)
    supervision.conclude_complaint(handler, complaint, "not_upheld", "经查不属实")
    supervision.reply_to_complainant(handler, complaint, "已答复")
    supervision.file_complaint(handler, complaint)
    assert mark_overdue_complaints(today=extended + dt.timedelta(days=90), now=NOON).claimed == 0
    assert AuditRecord.objects.filter(action="supervision.complaints_overdue").count() == 2


def test_the_command_run_twice_records_nothing_new(task: Rectification) -> None:
    from io import StringIO
    from unittest import mock

    from django.core.management import call_command

    later = dt.datetime.combine(task.rectify_due + dt.timedelta(days=1), dt.time(4), tzinfo=dt.UTC)
    outputs = []
    with mock.patch("django.utils.timezone.now", return_value=later):
        for _run in range(2):
            output = StringIO()
            call_command("sweep", stdout=output)
            outputs.append(
                [
                    line
                    for line in output.getvalue().splitlines()
                    if line.startswith(("[complaints]", "[rectifications]"))
                ]
            )
    assert [
        [line.split(" ", 1)[0] + " " + line.split("'claimed': ")[1].split(",")[0] for line in run]
        for run in outputs
    ] == [
        ["[complaints] 0", "[rectifications] 1"],
        ["[complaints] 0", "[rectifications] 0"],
    ]
    assert AuditRecord.objects.filter(action="feedback.rectifications_overdue").count() == 1
