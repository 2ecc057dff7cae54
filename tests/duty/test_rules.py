"""The pure rules, without a database: day plans, coverage, substitutes, notice and check-in assessment."""

from __future__ import annotations

import datetime as dt

from servicehall.duty.models import CheckInSlot, CheckInStatus, PeriodKind, RosterExceptionKind
from servicehall.duty.rules import (
    Basis,
    DutyInputs,
    GapReason,
    LeaveSpan,
    Period,
    PostInfo,
    Span,
    SubstituteProblem,
    Why,
    assess_check_in,
    classify_period,
    cover,
    notice_is_sufficient,
    plan_day,
    slot_times,
    substitute_problems,
)

ZONE = dt.timezone(dt.timedelta(hours=8))
T = dt.time
OPENING = {
    **{weekday: [(T(9), T(12)), (T(12), T(13, 30)), (T(13, 30), T(17, 30))] for weekday in range(1, 6)},
    6: [(T(9), T(12))],
}
MONDAY = dt.date(2026, 3, 2)
TUESDAY = dt.date(2026, 3, 3)
SATURDAY = dt.date(2026, 3, 7)
SWAPPED_SATURDAY = dt.date(2026, 2, 14)
HOLIDAY_SATURDAY = dt.date(2026, 2, 21)
RECEPTION = "reception"
A_THREE, B_THREE, A_FOUR, B_FOUR, FLOATER = 1, 2, 3, 4, 5


def working(day: dt.date):
    return plan_day(day, OPENING, is_working_day=day.isoweekday() < 6, is_holiday=False)


def world(*days: dt.date, **changes) -> DutyInputs:
    inputs = DutyInputs(
        posts=[PostInfo(30, "3号窗口", RECEPTION), PostInfo(40, "4号窗口", RECEPTION)],
        plans=[working(day) for day in days],
        a_roles={30: [Span(A_THREE, dt.date(2026, 1, 1))], 40: [Span(A_FOUR, dt.date(2026, 1, 1))]},
        b_roles={30: [Span(B_THREE, dt.date(2026, 1, 1))], 40: [Span(B_FOUR, dt.date(2026, 1, 1))]},
        qualifications={
            (person, RECEPTION): [(dt.date(2026, 1, 1), dt.date(2026, 12, 31))]
            for person in (A_THREE, B_THREE, A_FOUR, B_FOUR, FLOATER)
        },
    )
    for name, value in changes.items():
        setattr(inputs, name, value)
    return inputs


def cells_of(inputs: DutyInputs, post_id: int | None, kind: str = PeriodKind.MORNING):
    return [cell for cell in cover(inputs) if cell.post_id == post_id and cell.period.kind == kind]


# ---------------------------------------------------------------------------------------------
# Days and periods


def test_periods_are_classified_by_the_clock() -> None:
    assert classify_period(T(9), T(12)) == PeriodKind.MORNING
    assert classify_period(T(12), T(13, 30)) == PeriodKind.LUNCH
    assert classify_period(T(11, 30), T(14)) == PeriodKind.LUNCH
    assert classify_period(T(13, 30), T(17, 30)) == PeriodKind.AFTERNOON
    assert classify_period(T(8, 30), T(17)) == PeriodKind.MORNING


def test_a_working_monday_has_morning_lunch_and_afternoon() -> None:
    plan = working(MONDAY)
    assert [period.kind for period in plan.periods] == [
        PeriodKind.MORNING,
        PeriodKind.LUNCH,
        PeriodKind.AFTERNOON,
    ]
    assert [half.kind for half in plan.halves] == [PeriodKind.MORNING, PeriodKind.AFTERNOON]
    assert plan.roster_weekday == 1
    assert not plan.is_swapped_workday


def test_a_swapped_saturday_is_worked_like_a_monday() -> None:
    # Given 2026-02-14, a Saturday the calendar makes a working day (调休)
    plan = plan_day(SWAPPED_SATURDAY, OPENING, is_working_day=True, is_holiday=False)
    # Then it has Monday's periods and roster, not Saturday duty
    assert plan.is_swapped_workday
    assert not plan.is_saturday_duty
    assert plan.roster_weekday == 1
    assert [period.kind for period in plan.periods] == [
        PeriodKind.MORNING,
        PeriodKind.LUNCH,
        PeriodKind.AFTERNOON,
    ]


def test_an_ordinary_saturday_is_saturday_duty_and_a_holiday_saturday_is_closed() -> None:
    plan = plan_day(SATURDAY, OPENING, is_working_day=False, is_holiday=False)
    assert plan.is_saturday_duty
    assert plan.periods == (Period(PeriodKind.SATURDAY, T(9), T(12)),)
    assert [half.kind for half in plan.halves] == [PeriodKind.MORNING]
    assert plan_day(HOLIDAY_SATURDAY, OPENING, is_working_day=False, is_holiday=True) is None
    assert plan_day(dt.date(2026, 3, 8), OPENING, is_working_day=False, is_holiday=False) is None
    assert plan_day(SATURDAY, {1: [(T(9), T(12))]}, is_working_day=False, is_holiday=False) is None


# ---------------------------------------------------------------------------------------------
# Coverage


def test_the_a_role_holds_the_post() -> None:
    [cell] = cells_of(world(MONDAY), 30)
    assert (cell.staff_ids, cell.basis, cell.absent) == ((A_THREE,), Basis.A, ())


def test_a_b_role_stands_in_when_the_a_role_is_on_leave() -> None:
    inputs = world(MONDAY, leaves=[LeaveSpan(A_THREE, MONDAY, MONDAY)])
    [cell] = cells_of(inputs, 30)
    assert (cell.staff_ids, cell.basis) == ((B_THREE,), Basis.B)
    assert cell.absent == ((A_THREE, Why.ON_LEAVE),)


def test_the_named_substitute_comes_before_the_b_roles() -> None:
    inputs = world(MONDAY, leaves=[LeaveSpan(A_THREE, MONDAY, MONDAY, substitute_id=FLOATER, leave_id=9)])
    [cell] = cells_of(inputs, 30)
    assert (cell.staff_ids, cell.basis) == ((FLOATER,), Basis.SUBSTITUTE)


def test_a_gap_when_the_a_role_and_every_b_role_are_on_leave() -> None:
    inputs = world(MONDAY, leaves=[LeaveSpan(A_THREE, MONDAY, MONDAY), LeaveSpan(B_THREE, MONDAY, MONDAY)])
    [cell] = cells_of(inputs, 30)
    assert cell.is_gap
    assert cell.gap_reason == GapReason.ALL_ABSENT
    assert cell.absent == ((A_THREE, Why.ON_LEAVE), (B_THREE, Why.ON_LEAVE))


def test_a_b_role_busy_at_their_own_post_does_not_stand_in() -> None:
    # Given 王三 (A of window 4) is also a B of window 3, and 张一 and 李二 are both away
    inputs = world(
        MONDAY,
        leaves=[LeaveSpan(A_THREE, MONDAY, MONDAY), LeaveSpan(B_THREE, MONDAY, MONDAY)],
        b_roles={30: [Span(B_THREE, MONDAY), Span(A_FOUR, MONDAY)], 40: [Span(B_FOUR, MONDAY)]},
    )
    # Then window 3 is a gap: 王三 holds window 4 in the same period
    [cell] = cells_of(inputs, 30)
    assert cell.is_gap
    assert (A_FOUR, Why.BUSY) in cell.absent


def test_an_expired_qualification_does_not_count() -> None:
    # Given 张一's reception qualification ended in February
    qualifications = world().qualifications | {
        (A_THREE, RECEPTION): [(dt.date(2025, 3, 1), dt.date(2026, 2, 28))]
    }
    inputs = world(MONDAY, qualifications=qualifications)
    [cell] = cells_of(inputs, 30)
    assert (cell.staff_ids, cell.basis) == ((B_THREE,), Basis.B)
    assert cell.absent == ((A_THREE, Why.UNQUALIFIED),)


def test_nobody_scheduled_is_a_gap() -> None:
    inputs = world(MONDAY, a_roles={40: [Span(A_FOUR, MONDAY)]}, b_roles={})
    [cell] = cells_of(inputs, 30)
    assert (cell.is_gap, cell.gap_reason) == (True, GapReason.NOBODY_SCHEDULED)


def test_lunch_duty_exists_only_for_rostered_posts() -> None:
    # Given 李二 rostered for lunch on Mondays at window 3
    inputs = world(MONDAY, patterns={(30, 1, PeriodKind.LUNCH): [Span(B_THREE, MONDAY)]})
    lunch = [cell for cell in cover(inputs) if cell.period.kind == PeriodKind.LUNCH]
    # Then only window 3 is covered at lunch, by 李二
    assert [(cell.post_id, cell.staff_ids, cell.basis) for cell in lunch] == [(30, (B_THREE,), Basis.ROSTER)]


def test_an_open_lunch_without_any_duty_post_is_a_site_gap() -> None:
    lunch = [cell for cell in cover(world(MONDAY)) if cell.period.kind == PeriodKind.LUNCH]
    assert [(cell.post_id, cell.gap_reason) for cell in lunch] == [(None, GapReason.NO_DUTY_POST)]


def test_a_roster_entry_takes_the_a_role_to_another_post() -> None:
    # Given 张一 rostered at window 4 on Monday mornings (the A of window 3)
    inputs = world(MONDAY, patterns={(40, 1, PeriodKind.MORNING): [Span(A_THREE, MONDAY)]})
    three, four = cells_of(inputs, 30), cells_of(inputs, 40)
    # Then 张一 holds window 4 and window 3 falls to its B
    assert (four[0].staff_ids, four[0].basis) == ((A_THREE,), Basis.ROSTER)
    assert (three[0].staff_ids, three[0].basis) == ((B_THREE,), Basis.B)


def test_a_day_exception_removes_and_adds() -> None:
    patterns = {(30, 1, PeriodKind.LUNCH): [Span(B_THREE, MONDAY)]}
    exceptions = {
        (30, MONDAY, PeriodKind.LUNCH): [
            (B_THREE, RosterExceptionKind.REMOVE),
            (FLOATER, RosterExceptionKind.ADD),
        ]
    }
    inputs = world(MONDAY, patterns=patterns, exceptions=exceptions)
    [cell] = cells_of(inputs, 30, PeriodKind.LUNCH)
    assert (cell.staff_ids, cell.basis) == ((FLOATER,), Basis.ROSTER)


# ---------------------------------------------------------------------------------------------
# Substitutes


def test_a_free_qualified_colleague_fits() -> None:
    assert (
        substitute_problems(
            world(MONDAY), staff_id=A_THREE, substitute_id=FLOATER, starts_on=MONDAY, ends_on=MONDAY
        )
        == []
    )


def test_a_substitute_who_holds_another_post_is_busy() -> None:
    problems = substitute_problems(
        world(MONDAY), staff_id=A_THREE, substitute_id=A_FOUR, starts_on=MONDAY, ends_on=MONDAY
    )
    assert [(problem.code, problem.period, problem.post_id) for problem in problems] == [
        (SubstituteProblem.BUSY, PeriodKind.MORNING, 40),
        (SubstituteProblem.BUSY, PeriodKind.AFTERNOON, 40),
    ]


def test_a_substitute_already_on_leave_cannot_stand_in() -> None:
    inputs = world(MONDAY, TUESDAY, leaves=[LeaveSpan(FLOATER, TUESDAY, TUESDAY, leave_id=7)])
    problems = substitute_problems(
        inputs, staff_id=A_THREE, substitute_id=FLOATER, starts_on=MONDAY, ends_on=TUESDAY
    )
    assert problems[0] == SubstituteProblem(SubstituteProblem.ON_LEAVE, day=TUESDAY)


def test_a_substitute_without_a_valid_qualification_cannot_stand_in() -> None:
    qualifications = world().qualifications | {
        (FLOATER, RECEPTION): [(dt.date(2025, 1, 1), dt.date(2025, 12, 31))]
    }
    inputs = world(MONDAY, qualifications=qualifications)
    problems = substitute_problems(
        inputs, staff_id=A_THREE, substitute_id=FLOATER, starts_on=MONDAY, ends_on=MONDAY
    )
    assert {problem.code for problem in problems} == {SubstituteProblem.UNQUALIFIED}


def test_a_substitute_already_standing_in_for_someone_else_is_not_free() -> None:
    inputs = world(MONDAY, leaves=[LeaveSpan(A_FOUR, MONDAY, MONDAY, substitute_id=FLOATER, leave_id=8)])
    problems = substitute_problems(
        inputs, staff_id=A_THREE, substitute_id=FLOATER, starts_on=MONDAY, ends_on=MONDAY
    )
    assert problems[0].code == SubstituteProblem.SUBSTITUTING
    assert problems[0].other_staff_id == A_FOUR
    # And the leave being decided does not count against itself
    assert (
        substitute_problems(
            inputs,
            staff_id=A_FOUR,
            substitute_id=FLOATER,
            starts_on=MONDAY,
            ends_on=MONDAY,
            ignore_leave_id=8,
        )
        == []
    )


def test_nobody_stands_in_for_themselves() -> None:
    problems = substitute_problems(
        world(MONDAY), staff_id=A_THREE, substitute_id=A_THREE, starts_on=MONDAY, ends_on=MONDAY
    )
    assert [problem.code for problem in problems] == [SubstituteProblem.SELF]


# ---------------------------------------------------------------------------------------------
# Notice and check-ins


def test_leave_needs_one_working_day_of_notice() -> None:
    def working_days(first: dt.date, last: dt.date) -> int:
        count, day = 0, first + dt.timedelta(days=1)
        while day <= last:
            count += day.isoweekday() < 6
            day += dt.timedelta(days=1)
        return count

    friday, saturday, monday = dt.date(2026, 3, 6), dt.date(2026, 3, 7), dt.date(2026, 3, 9)
    assert notice_is_sufficient(friday, monday, working_days)
    assert not notice_is_sufficient(saturday, monday, working_days)
    assert not notice_is_sufficient(monday, monday, working_days)
    assert notice_is_sufficient(MONDAY, TUESDAY, working_days)


def test_arriving_after_the_lead_time_is_late() -> None:
    half = Period(PeriodKind.MORNING, T(9), T(12))
    times = slot_times(CheckInSlot.MORNING_IN, half, MONDAY, 10, ZONE)
    assert times.expected_at == dt.datetime(2026, 3, 2, 8, 50, tzinfo=ZONE)
    assert times.closes_at == dt.datetime(2026, 3, 2, 12, 0, tzinfo=ZONE)
    assert (
        assess_check_in(
            CheckInSlot.MORNING_IN, dt.datetime(2026, 3, 2, 8, 50, 40, tzinfo=ZONE), times.expected_at
        )
        == CheckInStatus.ON_TIME
    )
    assert (
        assess_check_in(
            CheckInSlot.MORNING_IN, dt.datetime(2026, 3, 2, 8, 51, tzinfo=ZONE), times.expected_at
        )
        == CheckInStatus.LATE
    )


def test_leaving_before_the_end_is_early() -> None:
    half = Period(PeriodKind.AFTERNOON, T(13, 30), T(17, 30))
    times = slot_times(CheckInSlot.AFTERNOON_OUT, half, MONDAY, 10, ZONE)
    assert times.closes_at == dt.datetime(2026, 3, 2, 18, 30, tzinfo=ZONE)
    assert (
        assess_check_in(
            CheckInSlot.AFTERNOON_OUT, dt.datetime(2026, 3, 2, 17, 29, tzinfo=ZONE), times.expected_at
        )
        == CheckInStatus.EARLY_LEAVE
    )
    assert (
        assess_check_in(
            CheckInSlot.AFTERNOON_OUT, dt.datetime(2026, 3, 2, 17, 30, tzinfo=ZONE), times.expected_at
        )
        == CheckInStatus.ON_TIME
    )
