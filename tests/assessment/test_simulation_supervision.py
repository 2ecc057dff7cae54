"""The simulator's supervision history: complaints, inspections and away records that are valid rows of
their models, deterministic, idempotent, worse for the slow clerks, and visible in the month's scores."""

from __future__ import annotations

import datetime as dt
import io
from collections import Counter
from typing import Any

import pytest
from django.db import transaction
from django.utils import timezone

from servicehall.accounts.models import User
from servicehall.assessment import actions
from servicehall.assessment.models import PeriodKind, SubjectKind
from servicehall.assessment.simulation import SLOW_CLERKS, SimulationResult, simulate
from servicehall.duty.actions import away_limit_minutes
from servicehall.duty.models import AwayRecord
from servicehall.operations.demo import load_demo_centre
from servicehall.queueing import demo as queueing_demo
from servicehall.queueing.models import Ticket
from servicehall.supervision.models import (
    UPHELD_CONCLUSIONS,
    Complaint,
    ComplaintEvent,
    ComplaintStatus,
    Inspection,
    InspectionFinding,
    Violation,
    ViolationSource,
)
from servicehall.workdays import service as workdays

pytestmark = pytest.mark.django_db

END = dt.date(2026, 10, 16)
DAYS = 17
FIRST = END - dt.timedelta(days=DAYS - 1)
FLOW = [
    ComplaintStatus.RECEIVED,
    ComplaintStatus.INVESTIGATING,
    ComplaintStatus.DISPOSED,
    ComplaintStatus.REPLIED,
    ComplaintStatus.FILED,
]
STAMPS = ["received_at", "investigation_started_at", "disposed_at", "replied_at", "filed_at"]
SUPERVISION_ROWS = ("complaints", "complaint_events", "inspections", "inspection_findings", "away_records")


@pytest.fixture
def centre() -> None:
    load_demo_centre()
    queueing_demo.load_demo(io.StringIO())
    workdays.invalidate()


def _run(seed: int = 7, days: int = DAYS, end: dt.date = END) -> SimulationResult:
    return simulate(days, end, seed, 0.15, io.StringIO(), rollup=False)


def _open_day(site_id: int, moment: dt.datetime) -> bool:
    """In the simulated range, on a day the site was open (it has tickets), in opening hours."""
    local = timezone.localtime(moment)
    return (
        FIRST <= local.date() <= END
        and 8 <= local.hour < 18
        and Ticket.objects.filter(site_id=site_id, service_date=local.date()).exists()
    )


def _picture() -> dict[str, list[Any]]:
    """Everything simulated, without the rows' own keys (a rolled-back run leaves sequences advanced)."""
    return {
        "complaints": list(
            Complaint.objects.order_by("number").values_list(
                "number",
                "site_id",
                "channel",
                "content",
                "status",
                "conclusion",
                "accused_staff_id",
                "window_id",
                "handler_id",
                "deadline",
                *STAMPS,
            )
        ),  # fmt: skip
        "events": list(
            ComplaintEvent.objects.order_by("complaint__number", "at", "action").values_list(
                "complaint__number", "action", "from_status", "to_status", "actor_id", "at"
            )
        ),
        "inspections": list(
            Inspection.objects.order_by("site_id", "inspected_at").values_list(
                "site_id", "window_id", "mode", "inspector_id", "inspected_at", "total_deduction", "summary"
            )
        ),
        "findings": list(
            InspectionFinding.objects.order_by("inspection__inspected_at", "item__position").values_list(
                "inspection__inspected_at", "item__code", "staff_id", "deduction"
            )
        ),
        "away": list(
            AwayRecord.objects.order_by("site_id", "started_at", "staff_id").values_list(
                "staff_id", "window_id", "started_at", "ended_at", "whereabouts", "due_at", "flagged"
            )
        ),
        "violations": list(
            Violation.objects.exclude(source=ViolationSource.ATTENDANCE)
            .order_by("source", "occurred_at", "staff_id", "kind")
            .values_list("source", "kind", "staff_id", "points", "status", "occurred_at", "description")
        ),
    }


def test_complaints_inspections_and_away_records_are_valid_rows(centre: None) -> None:
    result = _run()
    complaints = list(Complaint.objects.prefetch_related("events"))
    inspections = list(Inspection.objects.prefetch_related("findings__item"))
    away = list(AwayRecord.objects.all())
    assert result.rows["complaints"] == len(complaints) >= 10
    assert result.rows["complaint_events"] == ComplaintEvent.objects.count()
    assert result.rows["inspections"] == len(inspections) >= 3
    assert result.rows["inspection_findings"] == InspectionFinding.objects.count() >= 3
    assert result.rows["away_records"] == len(away) >= 20
    assert result.rows["violations"] == Violation.objects.count()
    upheld = [c for c in complaints if c.conclusion in UPHELD_CONCLUSIONS and c.accused_staff_id]
    assert upheld
    assert any(c.status == ComplaintStatus.FILED for c in upheld)
    assert any(c.status in (ComplaintStatus.RECEIVED, ComplaintStatus.INVESTIGATING) for c in complaints)

    by_source = Counter(Violation.objects.values_list("source", flat=True))
    assert by_source[ViolationSource.COMPLAINT] == len(upheld)
    for complaint in complaints:
        reached = FLOW.index(complaint.status)
        stamps = [getattr(complaint, name) for name in STAMPS]
        assert all(stamp is not None for stamp in stamps[: reached + 1]), complaint.number
        assert all(stamp is None for stamp in stamps[reached + 1 :]), complaint.number
        assert stamps[: reached + 1] == sorted(stamps[: reached + 1])
        assert all(_open_day(complaint.site_id, stamp) for stamp in stamps[: reached + 1])
        assert bool(complaint.conclusion) == bool(complaint.disposal) == (reached >= 2)
        assert (complaint.handler_id is not None) == (reached >= 1)
        assert complaint.handler_id != complaint.accused_staff_id
        assert complaint.deadline > timezone.localtime(complaint.received_at).date()
        events = list(complaint.events.all())
        assert [e.to_status for e in events if e.action != "note"] == FLOW[: reached + 1]
        assert [e.at for e in events] == sorted(e.at for e in events)
        violation = Violation.objects.filter(
            source=ViolationSource.COMPLAINT, source_reference=complaint.number
        ).first()
        if complaint in upheld:
            assert violation is not None
            assert violation.staff_id == complaint.accused_staff_id
            assert violation.occurred_at == complaint.disposed_at
        else:
            assert violation is None

    deductions = 0
    for inspection in inspections:
        findings = list(inspection.findings.all())
        assert inspection.total_deduction == sum(f.deduction for f in findings)
        assert _open_day(inspection.site_id, inspection.inspected_at)
        day = timezone.localtime(inspection.inspected_at).date()
        for finding in findings:
            assert 1 <= finding.deduction <= finding.item.deduction
            assert Ticket.objects.filter(
                service_date=day, window_id=inspection.window_id, clerk_id=finding.staff_id
            ).exists()
            violation = Violation.objects.get(
                source=ViolationSource.INSPECTION, source_reference=f"inspection:{inspection.pk}:{finding.pk}"
            )
            assert (violation.staff_id, violation.points, violation.kind) == (
                finding.staff_id,
                finding.deduction,
                finding.item.violation_kind,
            )
            deductions += finding.deduction
    assert deductions > 0

    limit = dt.timedelta(minutes=away_limit_minutes())
    flagged = [record for record in away if record.flagged]
    assert flagged
    assert len(flagged) < len(away) / 2
    for record in away:
        assert record.started_at < record.ended_at
        assert record.due_at == record.started_at + limit
        assert _open_day(record.site_id, record.started_at)
        assert _open_day(record.site_id, record.ended_at)
        assert (record.whereabouts_recorded_at is not None) == bool(record.whereabouts)
        assert record.flagged == (not record.whereabouts and record.ended_at > record.due_at)
        assert (record.flagged_at is not None) == record.flagged
        # In a gap between the clerk's tickets, not while serving someone.
        busy = Ticket.objects.filter(
            clerk_id=record.staff_id,
            service_date=timezone.localtime(record.started_at).date(),
            called_at__lt=record.ended_at,
        ).exclude(finished_at__lte=record.started_at)
        assert not busy.exclude(finished_at=None).exists()
        violation = Violation.objects.filter(
            source=ViolationSource.AWAY_FROM_POST, source_reference=f"away:{record.pk}"
        ).first()
        assert (violation is not None) == record.flagged
        if violation is not None:
            assert violation.occurred_at == record.due_at
            assert violation.staff_id == record.staff_id


def test_deterministic_for_a_seed_and_idempotent(centre: None) -> None:
    with transaction.atomic():
        _run(seed=11)
        first = _picture()
        transaction.set_rollback(True)
    assert not Complaint.objects.exists()
    assert not AwayRecord.objects.exists()
    _run(seed=11)
    assert _picture() == first
    assert first["complaints"]
    assert first["inspections"]
    assert first["away"]
    again = _run(seed=12)
    assert all(again.rows[name] == 0 for name in SUPERVISION_ROWS)
    assert _picture() == first
    # A longer range fills only its new days and leaves the history already there as it was.
    _run(seed=13, days=DAYS + 3, end=END + dt.timedelta(days=3))
    extended = _picture()
    assert set(first["away"]) < set(extended["away"])
    assert set(first["complaints"]) <= set(extended["complaints"])
    new = set(extended["away"]) - set(first["away"])
    assert all(timezone.localtime(row[2]).date() > END for row in new)


def test_slow_clerks_carry_the_complaints_and_deductions_in_the_month_scores(centre: None) -> None:
    # 9–30 October: the bad week is 19–25 October.
    _run(seed=5, days=22, end=dt.date(2026, 10, 30))
    actions.install_default_system()
    period = actions.score_period(PeriodKind.MONTH, 2026, 10)
    slow = set(User.objects.filter(username__in=SLOW_CLERKS).values_list("pk", flat=True))
    values: dict[int, dict[str, float]] = {}
    for score in period.scores.filter(subject_kind=SubjectKind.STAFF):
        indicators = {
            indicator["code"]: indicator
            for dimension in score.explanation()["dimensions"]
            for indicator in dimension["indicators"]
        }
        values[score.subject_id] = {
            code: float(indicators[code]["value"] or 0) for code in ("complaints", "inspection", "away")
        }
        if score.subject_id in slow:
            assert score.total is not None
    assert slow <= set(values)
    for code in ("complaints", "inspection"):
        hit = [pk for pk in slow if values[pk][code] > 0]
        assert hit, code
        slow_mean = sum(values[pk][code] for pk in slow) / len(slow)
        others = [row[code] for pk, row in values.items() if pk not in slow]
        assert slow_mean > sum(others) / len(others)
    assert any(row["away"] > 0 for row in values.values())
