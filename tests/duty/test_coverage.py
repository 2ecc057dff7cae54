"""coverage(site, start, days) over the database: the calendar, lunch and Saturday duty, leave, expiry."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from servicehall.accounts.roles import Role
from servicehall.duty.coverage import coverage, substitute_for
from servicehall.duty.models import (
    AssignmentRole,
    LeaveStatus,
    PeriodKind,
    Post,
    Qualification,
    RosterPattern,
)
from servicehall.duty.rules import Basis, GapReason
from servicehall.sites.models import PostKind
from tests.conftest import make_staff
from tests.duty.conftest import MONDAY, give_role, leave_for, qualify
from tests.factories import WindowFactory

pytestmark = pytest.mark.django_db

SWAPPED_SATURDAY = dt.date(2026, 2, 14)
SPRING_FESTIVAL_SATURDAY = dt.date(2026, 2, 21)
ORDINARY_SATURDAY = dt.date(2026, 3, 7)


def cell(report, post, day, kind=PeriodKind.MORNING):
    [found] = [
        item
        for item in report.cells
        if item.post_id == (post.pk if post else None) and item.day == day and item.period.kind == kind
    ]
    return found


def test_four_weeks_of_working_days_are_covered_by_the_a_roles(world) -> None:
    # When the board is computed for four weeks from Monday 2026-03-02
    report = coverage(world.site, MONDAY)
    # Then every weekday morning of window 3 is held by its A角 张一
    mornings = [
        item
        for item in report.cells
        if item.post_id == world.post_three.pk and item.period.kind == PeriodKind.MORNING
    ]
    assert len(mornings) == 20
    assert {(item.staff_ids, item.basis) for item in mornings} == {((world.a_three.pk,), Basis.A)}
    # And the only gaps are the open lunch and Saturday periods nobody is rostered for
    assert {(item.post_id, item.period.kind, item.gap_reason) for item in report.gaps} == {
        (None, PeriodKind.LUNCH, GapReason.NO_DUTY_POST),
        (None, PeriodKind.SATURDAY, GapReason.NO_DUTY_POST),
    }
    assert report.describe(mornings[0]) == "张一（A角）"


def test_a_swapped_saturday_is_a_working_day_with_monday_hours(world) -> None:
    # Given the week of the Spring Festival 2026: Saturday 02-14 is worked, Saturday 02-21 is a holiday
    report = coverage(world.site, dt.date(2026, 2, 9), days=14)
    plans = {plan.day: plan for plan in report.plans}
    # Then 02-14 is planned like a Monday and held by the A角
    assert plans[SWAPPED_SATURDAY].is_swapped_workday
    assert [period.kind for period in plans[SWAPPED_SATURDAY].periods] == [
        PeriodKind.MORNING,
        PeriodKind.LUNCH,
        PeriodKind.AFTERNOON,
    ]
    assert cell(report, world.post_three, SWAPPED_SATURDAY).staff_ids == (world.a_three.pk,)
    # And the holiday week (02-15 to 02-23) has no open day at all
    assert not [day for day in plans if dt.date(2026, 2, 15) <= day <= dt.date(2026, 2, 22)]
    assert SPRING_FESTIVAL_SATURDAY not in plans


def test_saturday_duty_follows_the_saturday_roster(world) -> None:
    # Given 李二 rostered for Saturday duty at window 3
    RosterPattern.objects.create(
        site=world.site,
        post=world.post_three,
        staff=world.b_three,
        weekday=6,
        period=PeriodKind.SATURDAY,
        valid_from=MONDAY,
    )
    report = coverage(world.site, MONDAY, days=7)
    # Then Saturday 03-07 is held by 李二 at window 3 only; window 4 is closed that day
    saturday = [item for item in report.cells if item.day == ORDINARY_SATURDAY]
    assert [(item.post_id, item.staff_ids, item.basis) for item in saturday] == [
        (world.post_three.pk, (world.b_three.pk,), Basis.ROSTER)
    ]


def test_lunch_duty_rotates_by_roster_and_falls_back_to_the_b_role(world) -> None:
    # Given 王三 rostered for Monday lunch at window 4 and on leave on Monday 03-09
    RosterPattern.objects.create(
        site=world.site,
        post=world.post_four,
        staff=world.a_four,
        weekday=1,
        period=PeriodKind.LUNCH,
        valid_from=MONDAY,
    )
    leave_for(world.a_four, dt.date(2026, 3, 9))
    report = coverage(world.site, MONDAY, days=14)
    # Then on 03-02 王三 holds lunch at window 4; on 03-09 its B角 赵四 stands in
    assert (cell(report, world.post_four, MONDAY, PeriodKind.LUNCH).staff_ids) == (world.a_four.pk,)
    standing_in = cell(report, world.post_four, dt.date(2026, 3, 9), PeriodKind.LUNCH)
    assert (standing_in.staff_ids, standing_in.basis) == ((world.b_four.pk,), Basis.B)
    # And no lunch on Tuesday needs anyone at window 4 (not rostered), but the site has no lunch post then
    assert cell(report, None, dt.date(2026, 3, 3), PeriodKind.LUNCH).gap_reason == GapReason.NO_DUTY_POST


def test_a_gap_when_the_a_role_and_all_b_roles_are_on_leave(world) -> None:
    # Given a second B角 for window 3, and 张一, 李二 and the second B角 all on leave on Wednesday 03-04
    second_b = make_staff(world.site, Role.WINDOW_CLERK, full_name="孙五")
    qualify(second_b)
    give_role(world.post_three, second_b, AssignmentRole.B)
    wednesday = dt.date(2026, 3, 4)
    for person in (world.a_three, world.b_three, second_b):
        leave_for(person, wednesday)
    report = coverage(world.site, MONDAY, days=7)
    # Then window 3 is a gap that morning and afternoon, and the description names who is away
    morning = cell(report, world.post_three, wednesday)
    assert morning.is_gap
    assert report.describe(morning) == "空岗：A角与B角均不在岗；张一请假、李二请假、孙五请假"
    assert cell(report, world.post_three, wednesday, PeriodKind.AFTERNOON).is_gap
    # And the day before and after are held
    assert not cell(report, world.post_three, dt.date(2026, 3, 3)).is_gap
    assert not cell(report, world.post_three, dt.date(2026, 3, 5)).is_gap


def test_a_requested_leave_does_not_empty_the_post_until_approved(world) -> None:
    leave_for(world.a_three, MONDAY, status=LeaveStatus.REQUESTED)
    report = coverage(world.site, MONDAY, days=1)
    assert cell(report, world.post_three, MONDAY).staff_ids == (world.a_three.pk,)


def test_an_expired_training_takes_the_a_role_off_the_post(world) -> None:
    # Given 张一's only qualification ended on 2026-03-03
    Qualification.objects.filter(staff=world.a_three).update(valid_until=dt.date(2026, 3, 3))
    report = coverage(world.site, MONDAY, days=3)
    # Then 张一 holds window 3 until 03-03 and 李二 from 03-04 on
    assert cell(report, world.post_three, dt.date(2026, 3, 3)).staff_ids == (world.a_three.pk,)
    wednesday = cell(report, world.post_three, dt.date(2026, 3, 4))
    assert (wednesday.staff_ids, wednesday.basis) == ((world.b_three.pk,), Basis.B)
    assert report.describe(wednesday) == "李二（B角顶岗）；张一无有效资质"


def test_the_leave_substitute_holds_the_post(world) -> None:
    floater = make_staff(world.site, Role.WINDOW_CLERK, full_name="钱六")
    qualify(floater)
    leave_for(world.a_three, MONDAY, substitute=floater)
    report = coverage(world.site, MONDAY, days=1)
    held = cell(report, world.post_three, MONDAY)
    assert (held.staff_ids, held.basis) == ((floater.pk,), Basis.SUBSTITUTE)
    assert substitute_for(world.a_three, MONDAY) == floater
    assert substitute_for(world.a_three, dt.date(2026, 3, 3)) is None
    assert substitute_for(world.b_three, MONDAY) is None


def test_window_posts_without_a_b_role_are_warned(world) -> None:
    post = Post.objects.create(
        site=world.site,
        window=WindowFactory(site=world.site, number=9),
        kind=PostKind.RECEPTION,
        name="9号窗口",
        required_qualification=PostKind.RECEPTION,
    )
    report = coverage(world.site, MONDAY, days=1)
    assert report.warnings == {post.pk: ["未设A角", "未设B角"]}
    assert cell(report, post, MONDAY).gap_reason == GapReason.NOBODY_SCHEDULED


def test_the_query_count_does_not_grow_with_posts_or_days(world) -> None:
    # Given the board of the small world
    with CaptureQueriesContext(connection) as small:
        coverage(world.site, MONDAY, days=7)
    # When twenty more posts with A and B roles are added and four weeks are asked
    for number in range(10, 30):
        post = Post.objects.create(
            site=world.site,
            window=WindowFactory(site=world.site, number=number),
            kind=PostKind.RECEPTION,
            name=f"{number}号窗口",
            required_qualification=PostKind.RECEPTION,
        )
        for role in (AssignmentRole.A, AssignmentRole.B):
            person = make_staff(world.site, Role.WINDOW_CLERK)
            qualify(person)
            give_role(post, person, role)
            if role == AssignmentRole.A:
                leave_for(person, dt.date(2026, 3, 10))
    with CaptureQueriesContext(connection) as large:
        coverage(world.site, MONDAY, days=28)
    # Then the same number of queries is used
    assert len(large.captured_queries) == len(small.captured_queries) <= 10
