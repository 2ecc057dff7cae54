"""The rules of duty as pure functions over plain data: no database, no clock, no settings.

- ``plan_day``: which periods a site is open on a date — working days from the calendar (a 调休 Saturday
  is a working day and follows the Monday hours and roster), Saturday duty where the site opens on
  Saturday (seed 003 12 午间和周六休息时间窗口值班制), lunch duty where a period falls at noon.
- ``cover``: for every post and period, who holds it — the rostered person, else the A角, else the
  leave's named 替岗人员, else a free qualified B角 — or a gap (seed 002 §6.2.3 确保岗位不空岗).
- ``substitute_problems``: why a named 替岗人员 cannot stand in (seed 000 AB岗工作制度 2–4).
- ``notice_is_sufficient``: leave asked at least one working day ahead (AB岗工作制度 2 提前一天).
- ``slot_times`` / ``assess_check_in``: the four check-ins against opening time minus the lead time
  (seed 003 15 提前10分钟到岗; seed 000 工作纪律 2).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from servicehall.duty.models import CheckInSlot, CheckInStatus, PeriodKind, RosterExceptionKind

LUNCH_EARLIEST = dt.time(11, 30)
LUNCH_LATEST = dt.time(14, 30)
NOON = dt.time(12, 0)
MONDAY = 1
SATURDAY = 6
# A 调休 Saturday or Sunday is worked like a Monday: its opening hours and its roster.
SWAPPED_WORKDAY_FOLLOWS = MONDAY
REGULAR_PERIODS = (PeriodKind.MORNING, PeriodKind.AFTERNOON)
ROSTER_ONLY_PERIODS = (PeriodKind.LUNCH, PeriodKind.SATURDAY)
PERIOD_ORDER = {PeriodKind.MORNING: 0, PeriodKind.LUNCH: 1, PeriodKind.AFTERNOON: 2, PeriodKind.SATURDAY: 3}

EARLIEST_CHECK_IN_MINUTES = 120
CHECK_OUT_WINDOW_MINUTES = 60

SLOT_HALF = {
    CheckInSlot.MORNING_IN: PeriodKind.MORNING,
    CheckInSlot.MORNING_OUT: PeriodKind.MORNING,
    CheckInSlot.AFTERNOON_IN: PeriodKind.AFTERNOON,
    CheckInSlot.AFTERNOON_OUT: PeriodKind.AFTERNOON,
}
IN_SLOTS = (CheckInSlot.MORNING_IN, CheckInSlot.AFTERNOON_IN)
SLOT_PAIRS = {
    PeriodKind.MORNING: (CheckInSlot.MORNING_IN, CheckInSlot.MORNING_OUT),
    PeriodKind.AFTERNOON: (CheckInSlot.AFTERNOON_IN, CheckInSlot.AFTERNOON_OUT),
}


# ---------------------------------------------------------------------------------------------
# Days and periods


@dataclass(frozen=True)
class Period:
    kind: str
    starts_at: dt.time
    ends_at: dt.time


@dataclass(frozen=True)
class DayPlan:
    """One open day of a site: the periods to cover and the morning/afternoon halves to check in for."""

    day: dt.date
    roster_weekday: int
    periods: tuple[Period, ...]
    halves: tuple[Period, ...]
    is_swapped_workday: bool = False
    is_saturday_duty: bool = False

    def half(self, kind: str) -> Period | None:
        return next((half for half in self.halves if half.kind == kind), None)


def classify_period(starts_at: dt.time, ends_at: dt.time) -> str:
    """A period within 11:30–14:30 is lunch duty; otherwise it is morning if it starts before noon."""
    if starts_at >= LUNCH_EARLIEST and ends_at <= LUNCH_LATEST:
        return PeriodKind.LUNCH
    return PeriodKind.MORNING if starts_at < NOON else PeriodKind.AFTERNOON


def merge_periods(spans: Iterable[tuple[dt.time, dt.time]]) -> tuple[Period, ...]:
    by_kind: dict[str, tuple[dt.time, dt.time]] = {}
    for starts_at, ends_at in spans:
        kind = classify_period(starts_at, ends_at)
        if kind in by_kind:
            earlier = by_kind[kind]
            by_kind[kind] = (min(earlier[0], starts_at), max(earlier[1], ends_at))
        else:
            by_kind[kind] = (starts_at, ends_at)
    return tuple(
        Period(kind, starts_at, ends_at)
        for kind, (starts_at, ends_at) in sorted(by_kind.items(), key=lambda item: PERIOD_ORDER[item[0]])
    )


def plan_day(
    day: dt.date,
    opening: Mapping[int, Sequence[tuple[dt.time, dt.time]]],
    *,
    is_working_day: bool,
    is_holiday: bool,
) -> DayPlan | None:
    """The site's open periods on ``day``, or None when it is closed."""
    weekday = day.isoweekday()
    if is_working_day:
        roster_weekday = weekday if weekday < SATURDAY else SWAPPED_WORKDAY_FOLLOWS
        periods = merge_periods(opening.get(roster_weekday, ()))
        if not periods:
            return None
        halves = tuple(period for period in periods if period.kind in REGULAR_PERIODS)
        return DayPlan(day, roster_weekday, periods, halves, is_swapped_workday=weekday >= SATURDAY)
    saturday_spans = list(opening.get(SATURDAY, ()))
    if weekday == SATURDAY and not is_holiday and saturday_spans:
        halves = tuple(period for period in merge_periods(saturday_spans) if period.kind in REGULAR_PERIODS)
        duty = Period(
            PeriodKind.SATURDAY,
            min(starts_at for starts_at, _ in saturday_spans),
            max(ends_at for _, ends_at in saturday_spans),
        )
        return DayPlan(day, SATURDAY, (duty,), halves, is_saturday_duty=True)
    return None


# ---------------------------------------------------------------------------------------------
# Coverage


@dataclass(frozen=True)
class PostInfo:
    id: int
    name: str
    required_qualification: str
    is_window_post: bool = True


@dataclass(frozen=True)
class Span:
    """Someone in a role from ``starts_on`` to ``ends_on`` inclusive (None: open-ended)."""

    staff_id: int
    starts_on: dt.date
    ends_on: dt.date | None = None
    reference: int = 0

    def covers(self, day: dt.date) -> bool:
        return self.starts_on <= day and (self.ends_on is None or day <= self.ends_on)


@dataclass(frozen=True)
class LeaveSpan:
    staff_id: int
    starts_on: dt.date
    ends_on: dt.date
    substitute_id: int | None = None
    leave_id: int = 0

    def covers(self, day: dt.date) -> bool:
        return self.starts_on <= day <= self.ends_on


@dataclass
class DutyInputs:
    """Everything coverage needs for one site and a range of days, loaded in a bounded number of queries."""

    posts: list[PostInfo]
    plans: list[DayPlan]
    a_roles: dict[int, list[Span]] = field(default_factory=dict)
    b_roles: dict[int, list[Span]] = field(default_factory=dict)
    qualifications: dict[tuple[int, str], list[tuple[dt.date, dt.date]]] = field(default_factory=dict)
    patterns: dict[tuple[int, int, str], list[Span]] = field(default_factory=dict)
    exceptions: dict[tuple[int, dt.date, str], list[tuple[int, str]]] = field(default_factory=dict)
    leaves: list[LeaveSpan] = field(default_factory=list)
    # Filled by the database loader for the pages: the Post rows by id and every staff id referenced.
    post_models: dict[int, Any] = field(default_factory=dict)
    staff_ids: set[int] = field(default_factory=set)

    def __post_init__(self) -> None:
        self._leave_index: dict[tuple[int, dt.date], LeaveSpan] | None = None

    def leave_on(self, staff_id: int, day: dt.date) -> LeaveSpan | None:
        if self._leave_index is None:
            index: dict[tuple[int, dt.date], LeaveSpan] = {}
            for leave in self.leaves:
                current = leave.starts_on
                while current <= leave.ends_on:
                    index.setdefault((leave.staff_id, current), leave)
                    current += dt.timedelta(days=1)
            self._leave_index = index
        return self._leave_index.get((staff_id, day))

    def is_qualified(self, staff_id: int, post_kind: str, day: dt.date) -> bool:
        return any(
            valid_from <= day <= valid_until
            for valid_from, valid_until in self.qualifications.get((staff_id, post_kind), ())
        )


class Basis:
    """How a cell is held; the codes the board colours by."""

    ROSTER = "roster"
    A = "a"
    SUBSTITUTE = "substitute"
    B = "b"
    GAP = "gap"


class Why:
    """Why someone considered for a cell is not holding it."""

    ON_LEAVE = "on_leave"
    UNQUALIFIED = "unqualified"
    BUSY = "busy"


class GapReason:
    NOBODY_SCHEDULED = "nobody_scheduled"
    ALL_ABSENT = "all_absent"
    NO_DUTY_POST = "no_duty_post"


@dataclass(frozen=True)
class Cell:
    """One post in one period of one day: who holds it and on what basis, or why it is a gap."""

    day: dt.date
    period: Period
    post_id: int | None
    staff_ids: tuple[int, ...] = ()
    basis: str = Basis.GAP
    absent: tuple[tuple[int, str], ...] = ()
    gap_reason: str = ""

    @property
    def is_gap(self) -> bool:
        return self.basis == Basis.GAP


def _first(spans: Iterable[Span], day: dt.date) -> Span | None:
    return next((span for span in spans if span.covers(day)), None)


def rostered(inputs: DutyInputs, plan: DayPlan, period: Period, post_id: int) -> list[int]:
    """Who the weekly pattern and the day's exceptions put on this post in this period."""
    staff = [
        span.staff_id
        for span in inputs.patterns.get((post_id, plan.roster_weekday, period.kind), ())
        if span.covers(plan.day)
    ]
    for staff_id, kind in inputs.exceptions.get((post_id, plan.day, period.kind), ()):
        if kind == RosterExceptionKind.ADD and staff_id not in staff:
            staff.append(staff_id)
        elif kind == RosterExceptionKind.REMOVE and staff_id in staff:
            staff.remove(staff_id)
    return staff


def planned_primaries(inputs: DutyInputs, plan: DayPlan, period: Period) -> dict[int, tuple[list[int], str]]:
    """Post -> (who is scheduled, basis) for one period, before anyone's leave or qualification.

    A roster entry wins over the A角 default; an A角 rostered at another post in the same period is
    scheduled there, not at their own post. Lunch and Saturday exist only for rostered posts.
    """
    by_post: dict[int, tuple[list[int], str]] = {}
    rostered_anywhere: set[int] = set()
    for post in inputs.posts:
        staff = rostered(inputs, plan, period, post.id)
        if staff:
            by_post[post.id] = (staff, Basis.ROSTER)
            rostered_anywhere.update(staff)
    if period.kind in REGULAR_PERIODS:
        for post in inputs.posts:
            if post.id in by_post:
                continue
            holder = _first(inputs.a_roles.get(post.id, ()), plan.day)
            if holder is not None and holder.staff_id not in rostered_anywhere:
                by_post[post.id] = ([holder.staff_id], Basis.A)
            elif holder is not None:
                by_post[post.id] = ([], Basis.A)
    return by_post


def _period_cells(inputs: DutyInputs, plan: DayPlan, period: Period) -> list[Cell]:
    primaries = planned_primaries(inputs, plan, period)
    posts = [post for post in inputs.posts if period.kind in REGULAR_PERIODS or post.id in primaries]
    day = plan.day
    busy: set[int] = set()
    holders: dict[int, tuple[tuple[int, ...], str]] = {}
    absent: dict[int, list[tuple[int, str]]] = defaultdict(list)

    def unavailable(staff_id: int, post: PostInfo) -> str | None:
        if inputs.leave_on(staff_id, day) is not None:
            return Why.ON_LEAVE
        if not inputs.is_qualified(staff_id, post.required_qualification, day):
            return Why.UNQUALIFIED
        if staff_id in busy:
            return Why.BUSY
        return None

    # First the scheduled people: everyone present at their own post is busy for the period.
    for post in posts:
        staff, basis = primaries.get(post.id, ([], Basis.GAP))
        if basis == Basis.A and not staff:
            holder = _first(inputs.a_roles.get(post.id, ()), day)
            if holder is not None:
                absent[post.id].append((holder.staff_id, Why.BUSY))
        present = []
        for staff_id in staff:
            why = unavailable(staff_id, post)
            if why is None:
                present.append(staff_id)
                busy.add(staff_id)
            else:
                absent[post.id].append((staff_id, why))
        if present:
            holders[post.id] = (tuple(present), basis)

    # Then the stand-ins, post by post: the leave's named substitute first, then the B角 in order.
    for post in posts:
        if post.id in holders:
            continue
        considered = {staff_id for staff_id, _ in absent[post.id]}
        candidates: list[tuple[int, str]] = []
        for staff_id, why in list(absent[post.id]):
            leave = inputs.leave_on(staff_id, day) if why == Why.ON_LEAVE else None
            if leave is not None and leave.substitute_id is not None:
                candidates.append((leave.substitute_id, Basis.SUBSTITUTE))
        for span in inputs.b_roles.get(post.id, ()):
            if span.covers(day):
                candidates.append((span.staff_id, Basis.B))
        for staff_id, basis in candidates:
            why = unavailable(staff_id, post)
            if why is None:
                holders[post.id] = ((staff_id,), basis)
                busy.add(staff_id)
                break
            if staff_id not in considered:
                absent[post.id].append((staff_id, why))
                considered.add(staff_id)

    cells = []
    for post in posts:
        if post.id in holders:
            staff_ids, basis = holders[post.id]
            cells.append(Cell(day, period, post.id, staff_ids, basis, tuple(absent[post.id])))
        else:
            reason = GapReason.ALL_ABSENT if absent[post.id] else GapReason.NOBODY_SCHEDULED
            cells.append(Cell(day, period, post.id, (), Basis.GAP, tuple(absent[post.id]), reason))
    if period.kind in ROSTER_ONLY_PERIODS and not posts:
        cells.append(Cell(day, period, None, (), Basis.GAP, (), GapReason.NO_DUTY_POST))
    return cells


def cover(inputs: DutyInputs) -> list[Cell]:
    """Every post in every open period of every planned day, in day, period and post order."""
    cells: list[Cell] = []
    for plan in inputs.plans:
        for period in plan.periods:
            cells.extend(_period_cells(inputs, plan, period))
    return cells


def duties_of(
    inputs: DutyInputs, staff_id: int, first: dt.date, last: dt.date
) -> list[tuple[DayPlan, Period, int]]:
    """Where the schedule puts one person between two days (inclusive), ignoring leave."""
    duties = []
    for plan in inputs.plans:
        if not first <= plan.day <= last:
            continue
        for period in plan.periods:
            for post_id, (staff, _basis) in planned_primaries(inputs, plan, period).items():
                if staff_id in staff:
                    duties.append((plan, period, post_id))
    return duties


# ---------------------------------------------------------------------------------------------
# Substitutes and leave


@dataclass(frozen=True)
class SubstituteProblem:
    """Why a named 替岗人员 cannot stand in; ``code`` is one of the class constants."""

    code: str
    day: dt.date | None = None
    period: str = ""
    post_id: int | None = None
    other_staff_id: int | None = None

    SELF = "self"
    ON_LEAVE = "on_leave"
    UNQUALIFIED = "unqualified"
    BUSY = "busy"
    SUBSTITUTING = "substituting"


def substitute_problems(
    inputs: DutyInputs,
    *,
    staff_id: int,
    substitute_id: int,
    starts_on: dt.date,
    ends_on: dt.date,
    ignore_leave_id: int = 0,
) -> list[SubstituteProblem]:
    """Every reason the substitute cannot stand in for ``staff_id`` during the leave, earliest first.

    ``inputs.leaves`` holds the approved leaves around the period (the one being decided excluded
    through ``ignore_leave_id``). The substitute must not be on leave, must hold a valid qualification
    for each post the absentee would hold, and must be free in each of those periods: not scheduled
    elsewhere and not already standing in for someone else then.
    """
    if substitute_id == staff_id:
        return [SubstituteProblem(SubstituteProblem.SELF)]
    problems: list[SubstituteProblem] = []
    leaves = [leave for leave in inputs.leaves if leave.leave_id != ignore_leave_id]
    own_leave = next(
        (
            leave
            for leave in leaves
            if leave.staff_id == substitute_id and leave.starts_on <= ends_on and starts_on <= leave.ends_on
        ),
        None,
    )
    if own_leave is not None:
        problems.append(
            SubstituteProblem(SubstituteProblem.ON_LEAVE, day=max(own_leave.starts_on, starts_on))
        )
    posts = {post.id: post for post in inputs.posts}
    other_absentees = [
        leave
        for leave in leaves
        if leave.substitute_id == substitute_id and leave.starts_on <= ends_on and starts_on <= leave.ends_on
    ]
    for plan, period, post_id in duties_of(inputs, staff_id, starts_on, ends_on):
        post = posts[post_id]
        if not inputs.is_qualified(substitute_id, post.required_qualification, plan.day):
            problems.append(SubstituteProblem(SubstituteProblem.UNQUALIFIED, plan.day, period.kind, post_id))
            continue
        primaries = planned_primaries(inputs, plan, period)
        elsewhere = next(
            (
                other
                for other, (staff, _basis) in primaries.items()
                if substitute_id in staff and other != post_id
            ),
            None,
        )
        if elsewhere is not None:
            problems.append(SubstituteProblem(SubstituteProblem.BUSY, plan.day, period.kind, elsewhere))
            continue
        for leave in other_absentees:
            if leave.covers(plan.day) and any(
                leave.staff_id in staff for staff, _basis in primaries.values()
            ):
                problems.append(
                    SubstituteProblem(
                        SubstituteProblem.SUBSTITUTING, plan.day, period.kind, other_staff_id=leave.staff_id
                    )
                )
                break
    return problems


def notice_is_sufficient(
    requested_on: dt.date, starts_on: dt.date, working_days_between: Callable[[dt.date, dt.date], int]
) -> bool:
    """At least one working day in [requested_on, starts_on) to hand the work over (AB岗工作制度 2).

    ``working_days_between(a, b)`` counts the working days in (a, b], as workdays.service.between.
    """
    if requested_on >= starts_on:
        return False
    one_day = dt.timedelta(days=1)
    return working_days_between(requested_on - one_day, starts_on - one_day) >= 1


def last_working_day_before(day: dt.date, is_working_day: Callable[[dt.date], bool]) -> dt.date | None:
    for offset in range(1, 40):
        candidate = day - dt.timedelta(days=offset)
        if is_working_day(candidate):
            return candidate
    return None


# ---------------------------------------------------------------------------------------------
# Attendance


@dataclass(frozen=True)
class SlotTimes:
    expected_at: dt.datetime
    opens_at: dt.datetime
    closes_at: dt.datetime


def slot_times(slot: str, half: Period, day: dt.date, lead_minutes: int, zone: dt.tzinfo) -> SlotTimes:
    """When a check-in is due, and the window in which the staff member may make it themselves.

    Arriving is due ``lead_minutes`` before the half opens (seed 003 15 提前10分钟到岗) and may be made
    from two hours before until the half ends; leaving is due when the half ends and may be made from
    the start of the half until an hour after its end.
    """
    starts_at = dt.datetime.combine(day, half.starts_at, tzinfo=zone)
    ends_at = dt.datetime.combine(day, half.ends_at, tzinfo=zone)
    if slot in IN_SLOTS:
        return SlotTimes(
            expected_at=starts_at - dt.timedelta(minutes=lead_minutes),
            opens_at=starts_at - dt.timedelta(minutes=EARLIEST_CHECK_IN_MINUTES),
            closes_at=ends_at,
        )
    return SlotTimes(
        expected_at=ends_at,
        opens_at=starts_at,
        closes_at=ends_at + dt.timedelta(minutes=CHECK_OUT_WINDOW_MINUTES),
    )


def assess_check_in(slot: str, at: dt.datetime, expected_at: dt.datetime) -> str:
    """Late after the due minute for arriving; early before the due minute for leaving."""
    at_minute = at.replace(second=0, microsecond=0)
    if slot in IN_SLOTS:
        return CheckInStatus.LATE if at_minute > expected_at else CheckInStatus.ON_TIME
    return CheckInStatus.EARLY_LEAVE if at_minute < expected_at else CheckInStatus.ON_TIME
