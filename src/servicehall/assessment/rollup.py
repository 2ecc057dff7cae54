"""Rebuild the daily figures of one site and day from the other apps' own history.

Each counter is defined by the day of the event that produces it, with the definitions the apps' own
metrics use (queueing.metrics for waits, cases.metrics for 及时办结率 and 一次办结率, feedback.metrics
for which ratings count), so a score agrees with the figures on every other page:

- tickets: issued that day; waiting = first call − issue; served = has start and finish;
- cases: completed that day (the ``complete`` CaseEvent), credited to the 首办责任人 and the department;
- ratings: given that day, not held for review and not excluded by an upheld appeal;
- complaints: concluded 属实/部分属实 that day, against the accused staff member and window;
- violations: occurred that day and not dismissed, by kind (see ``VIOLATION_COUNTERS``);
- check-ins: scheduled that day; normal = 正常;
- inspections: deductions of findings of inspections held that day.

A day is rebuilt as a whole (delete and insert in one transaction), so rebuilding is idempotent and a
late rating, appeal or correction is picked up by rebuilding its day.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable

from django.db import transaction
from django.db.models import Count, F, Q, Sum
from django.utils import timezone

from servicehall.accounts.models import User
from servicehall.assessment.models import DailyFigures, HourlyArrivals, RollupDay, SubjectKind
from servicehall.cases import metrics as case_metrics
from servicehall.duty.models import CheckIn, CheckInStatus
from servicehall.feedback.models import Grade, Rating
from servicehall.queueing import metrics as queue_metrics
from servicehall.supervision.models import (
    UPHELD_CONCLUSIONS,
    Complaint,
    InspectionFinding,
    Violation,
    ViolationKind,
    ViolationSource,
    ViolationStatus,
)

COUNTERS = [
    field.name
    for field in DailyFigures._meta.get_fields()
    if field.name not in {"id", "site", "date", "subject_kind", "subject_id"}
]

INTEGRITY_KINDS = frozenset(
    {
        ViolationKind.WITHHOLDING_DOCUMENTS,
        ViolationKind.LEAKING_SECRETS,
        ViolationKind.ABUSE_OF_POWER,
        ViolationKind.CORRUPTION,
    }
)
CONDUCT_KINDS = frozenset(
    {
        ViolationKind.FORBIDDEN_LANGUAGE,
        ViolationKind.SHIRKING_OR_OBSTRUCTION,
        ViolationKind.INSULTING_CITIZENS,
    }
)


def _violation_counter(kind: str, source: str) -> str | None:
    if source == ViolationSource.ONE_TIME_NOTICE or kind == ViolationKind.FIRST_RESPONDER_FAILURE:
        return "notice_violations"
    if kind == ViolationKind.SERIOUS_ERROR:
        return "errors"
    if kind == ViolationKind.AWAY_WITHOUT_WHEREABOUTS:
        return "away_violations"
    if kind in INTEGRITY_KINDS:
        return "integrity_violations"
    if kind in CONDUCT_KINDS:
        return "conduct_findings"
    return None


def day_bounds(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    zone = timezone.get_current_timezone()
    start = dt.datetime.combine(day, dt.time.min, tzinfo=zone)
    return start, start + dt.timedelta(days=1)


class _Collector:
    """Counters keyed by (subject kind, subject id); the site row collects everything."""

    def __init__(self, site_id: int, departments: dict[int, int | None]) -> None:
        self.site_id = site_id
        self.departments = departments
        self.rows: dict[tuple[str, int], dict[str, int]] = defaultdict(lambda: defaultdict(int))
        self.hours: dict[tuple[int, int], dict[str, int]] = defaultdict(lambda: defaultdict(int))

    def add(
        self,
        counter: str,
        amount: int,
        *,
        staff_id: int | None = None,
        window_id: int | None = None,
        department_id: int | None = None,
    ) -> None:
        if not amount:
            return
        if department_id is None and staff_id is not None:
            department_id = self.departments.get(staff_id)
        self.rows[(SubjectKind.SITE, self.site_id)][counter] += amount
        if staff_id is not None:
            self.rows[(SubjectKind.STAFF, staff_id)][counter] += amount
        if window_id is not None:
            self.rows[(SubjectKind.WINDOW, window_id)][counter] += amount
        if department_id is not None:
            self.rows[(SubjectKind.DEPARTMENT, department_id)][counter] += amount


def _collect(site_id: int, day: dt.date) -> _Collector:
    start, end = day_bounds(day)
    departments = dict(User.objects.filter(site_id=site_id).values_list("pk", "department_id"))
    collector = _Collector(site_id, departments)

    targets = queue_metrics.category_targets(site_id)
    for figure in queue_metrics.ticket_figures(site_id, day, day):
        hour = collector.hours[(timezone.localtime(figure.issued_at).hour, figure.category_id)]
        hour["arrivals"] += 1
        if figure.waiting_minutes is not None:
            hour["tickets_called"] += 1
            hour["wait_seconds"] += round(figure.waiting_minutes * 60)
        if figure.service_minutes is not None:
            hour["tickets_served"] += 1
            hour["service_seconds"] += round(figure.service_minutes * 60)
        where = {"staff_id": figure.clerk_id, "window_id": figure.window_id}
        collector.add("arrivals", 1, **({} if figure.called_at is None else where))
        if figure.no_show:
            collector.add("tickets_no_show", 1, **where)
        waiting = figure.waiting_minutes
        if waiting is not None:
            collector.add("tickets_called", 1, **where)
            collector.add("wait_seconds", round(waiting * 60), **where)
            target = targets.get(figure.category_id or 0, queue_metrics.DEFAULT_TARGET_MINUTES)
            collector.add("served_within_target", 1 if waiting <= target else 0, **where)
        service = figure.service_minutes
        if service is not None:
            collector.add("tickets_served", 1, **where)
            collector.add("service_seconds", round(service * 60), **where)

    cases = case_metrics.report([site_id], start, end)
    # Cases count for the 首办责任人 and for the case's own department (not the clerk's), so each group
    # of cases.metrics is written to its own subject kind rather than through _Collector.add.
    groups = [
        (SubjectKind.STAFF, cases.by_clerk),
        (SubjectKind.DEPARTMENT, cases.by_department),
        (SubjectKind.SITE, {site_id: cases.by_site[site_id]} if site_id in cases.by_site else {}),
    ]
    for kind, figures_by_subject in groups:
        for subject_id, figures in figures_by_subject.items():
            if subject_id is None:
                continue
            row = collector.rows[(kind, subject_id)]
            row["cases_completed"] += figures.completed
            row["cases_on_time"] += figures.on_time
            row["cases_one_visit"] += figures.one_visit
            row["supplements"] += figures.supplements

    ratings = (
        Rating.objects.filter(
            site_id=site_id, rated_at__gte=start, rated_at__lt=end, held_for_review=False, excluded_at=None
        )
        .values("staff_id", "window_id")
        .annotate(
            total=Count("id"),
            good=Count("id", filter=Q(grade=Grade.GOOD)),
            bad=Count("id", filter=Q(grade=Grade.BAD)),
        )
    )
    for row in ratings:
        where = {"staff_id": row["staff_id"], "window_id": row["window_id"]}
        collector.add("ratings", row["total"], **where)
        collector.add("ratings_good", row["good"], **where)
        collector.add("ratings_bad", row["bad"], **where)

    complaints = (
        Complaint.objects.filter(
            site_id=site_id, disposed_at__gte=start, disposed_at__lt=end, conclusion__in=UPHELD_CONCLUSIONS
        )
        .values("accused_staff_id", "window_id")
        .annotate(total=Count("id"))
    )
    for row in complaints:
        collector.add(
            "complaints_upheld", row["total"], staff_id=row["accused_staff_id"], window_id=row["window_id"]
        )

    violations = (
        Violation.objects.filter(site_id=site_id, occurred_at__gte=start, occurred_at__lt=end)
        .exclude(status=ViolationStatus.DISMISSED)
        .values("staff_id", "department_id", "kind", "source")
        .annotate(total=Count("id"))
    )
    for row in violations:
        counter = _violation_counter(row["kind"], row["source"])
        if counter is not None:
            collector.add(counter, row["total"], staff_id=row["staff_id"], department_id=row["department_id"])

    check_ins = (
        CheckIn.objects.filter(site_id=site_id, date=day)
        .values("staff_id")
        .annotate(total=Count("id"), normal=Count("id", filter=Q(status=CheckInStatus.ON_TIME)))
    )
    for row in check_ins:
        collector.add("check_ins_expected", row["total"], staff_id=row["staff_id"])
        collector.add("check_ins_normal", row["normal"], staff_id=row["staff_id"])

    findings = (
        InspectionFinding.objects.filter(
            site_id=site_id, inspection__inspected_at__gte=start, inspection__inspected_at__lt=end
        )
        .values("staff_id", window_id=F("inspection__window_id"))
        .annotate(total=Sum("deduction"))
    )
    for row in findings:
        collector.add(
            "inspection_deductions",
            int(row["total"] or 0),
            staff_id=row["staff_id"],
            window_id=row["window_id"],
        )
    return collector


def rebuild_day(site_id: int, day: dt.date) -> int:
    """Rebuild one site's figures for one day; returns the number of subject rows written."""
    collector = _collect(site_id, day)
    rows = [
        DailyFigures(
            site_id=site_id,
            date=day,
            subject_kind=kind,
            subject_id=subject_id,
            **{counter: value for counter, value in counters.items() if counter in COUNTERS},
        )
        for (kind, subject_id), counters in collector.rows.items()
        if subject_id is not None
    ]
    hours = [
        HourlyArrivals(site_id=site_id, date=day, hour=hour, category_id=category_id, **counters)
        for (hour, category_id), counters in collector.hours.items()
        if category_id is not None
    ]
    with transaction.atomic():
        DailyFigures.objects.filter(site_id=site_id, date=day).delete()
        DailyFigures.objects.bulk_create(rows, batch_size=1000)
        HourlyArrivals.objects.filter(site_id=site_id, date=day).delete()
        HourlyArrivals.objects.bulk_create(hours, batch_size=1000)
        RollupDay.objects.update_or_create(
            site_id=site_id, date=day, defaults={"computed_at": timezone.now()}
        )
    return len(rows)


def rebuild(site_ids: Iterable[int], start: dt.date, end: dt.date) -> int:
    """Rebuild every day in [start, end] for the sites; returns the rows written."""
    written = 0
    for site_id in site_ids:
        day = start
        while day <= end:
            written += rebuild_day(site_id, day)
            day += dt.timedelta(days=1)
    return written
