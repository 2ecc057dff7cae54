"""Posts, A/B roles, roster and training: 先培训、后上岗, one A角 at a time, at least one B角, no double booking."""

from __future__ import annotations

import datetime as dt

import pytest

from servicehall.accounts.roles import Role
from servicehall.audit.models import AuditRecord
from servicehall.duty import actions
from servicehall.duty.models import (
    Assignment,
    AssignmentRole,
    PeriodKind,
    Post,
    Qualification,
    RosterException,
    RosterExceptionKind,
    RosterPattern,
    TrainingAttendance,
)
from servicehall.lib.errors import ActionRefused, NotFound, PermissionRefused
from servicehall.sites.models import OpeningPeriod, PostKind
from tests.conftest import make_staff
from tests.duty.conftest import MONDAY, give_role, qualify
from tests.factories import WindowFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def newcomer(world):
    return make_staff(world.site, Role.WINDOW_CLERK, username="new.comer", full_name="新同事")


# ---------------------------------------------------------------------------------------------
# Posts


def test_a_supervisor_creates_a_post_at_a_window(world, clock) -> None:
    window = WindowFactory(site=world.site, number=7)
    post = actions.create_post(
        world.supervisor, world.site, actions.PostData("7号窗口受理岗", PostKind.RECEPTION, window)
    )
    assert (post.site_id, post.window_id, post.required_qualification) == (
        world.site.pk,
        window.pk,
        PostKind.RECEPTION,
    )
    assert AuditRecord.objects.filter(action="duty.post_created", object_id=str(post.pk)).count() == 1


def test_a_post_name_is_unique_per_site_and_the_window_must_be_local(
    world, other_town_site, unchanged
) -> None:
    check = unchanged()
    with pytest.raises(ActionRefused) as taken:
        actions.create_post(world.supervisor, world.site, actions.PostData("3号窗口受理岗", PostKind.GUIDE))
    assert taken.value.message == "本场所已有名为“3号窗口受理岗”的岗位。"
    foreign = WindowFactory(site=other_town_site, number=1)
    with pytest.raises(ActionRefused) as other:
        actions.create_post(world.supervisor, world.site, actions.PostData("外站", PostKind.GUIDE, foreign))
    assert other.value.message == "窗口不属于该服务场所。"
    check()


def test_a_clerk_cannot_create_posts(world, clerk, unchanged) -> None:
    check = unchanged()
    with pytest.raises(PermissionRefused):
        actions.create_post(clerk, world.site, actions.PostData("导办台", PostKind.GUIDE))
    check()


# ---------------------------------------------------------------------------------------------
# A/B roles and 先培训、后上岗


def test_someone_without_training_cannot_be_named_b_role(world, newcomer, clock, unchanged) -> None:
    check = unchanged()
    with pytest.raises(ActionRefused) as refused:
        actions.assign(world.supervisor, world.post_three, newcomer, AssignmentRole.B, MONDAY)
    assert refused.value.code == "not_qualified"
    assert refused.value.message == (
        "新同事 尚未取得“窗口受理岗”上岗资质（未参加培训或考核未合格），不能安排上岗：先培训、后上岗。"
    )
    check()


def test_an_expired_qualification_is_refused_with_its_date(world, newcomer, clock) -> None:
    qualify(newcomer, start=dt.date(2025, 1, 1), end=dt.date(2026, 2, 28))
    with pytest.raises(ActionRefused) as refused:
        actions.assign(world.supervisor, world.post_three, newcomer, AssignmentRole.B, MONDAY)
    assert (
        refused.value.message
        == "新同事 的“窗口受理岗”上岗资质已于 2026-02-28 过期，须重新培训合格后方可上岗（先培训、后上岗）。"
    )


def test_a_qualified_b_role_is_named(world, newcomer, clock) -> None:
    qualify(newcomer)
    assignment = actions.assign(world.supervisor, world.post_three, newcomer, AssignmentRole.B, MONDAY)
    assert (assignment.role, assignment.valid_from, assignment.valid_to) == (AssignmentRole.B, MONDAY, None)
    assert AuditRecord.objects.filter(action="duty.assignment_created").count() == 1


def test_a_new_a_role_takes_over_from_the_old_one(world, newcomer, clock) -> None:
    # Given 张一 is the open-ended A角 of window 3 since January
    qualify(newcomer)
    # When 新同事 becomes A角 from 03-09
    actions.assign(world.supervisor, world.post_three, newcomer, AssignmentRole.A, dt.date(2026, 3, 9))
    # Then 张一's term ends on 03-08 and there is one A角 on each day
    old = Assignment.objects.get(post=world.post_three, staff=world.a_three)
    assert old.valid_to == dt.date(2026, 3, 8)
    assert list(
        AuditRecord.objects.filter(action__startswith="duty.assignment")
        .order_by("pk")
        .values_list("action", flat=True)
    ) == ["duty.assignment_ended", "duty.assignment_created"]


def test_one_person_is_not_a_and_b_of_one_post(world, clock, unchanged) -> None:
    check = unchanged()
    with pytest.raises(ActionRefused) as refused:
        actions.assign(
            world.supervisor, world.post_three, world.b_three, AssignmentRole.A, dt.date(2026, 3, 9)
        )
    assert refused.value.message == "李二 在此期间已是该岗位的B角。"
    check()


def test_one_person_is_not_a_of_two_posts(world, clock, unchanged) -> None:
    check = unchanged()
    with pytest.raises(ActionRefused) as refused:
        actions.assign(
            world.supervisor, world.post_four, world.a_three, AssignmentRole.A, dt.date(2026, 3, 9)
        )
    assert refused.value.message == "张一 在此期间已是“3号窗口受理岗”的A角，一人不能同时担任两个岗位的A角。"
    check()


def test_a_staff_member_of_another_site_cannot_be_named(world, other_site_clerk, clock) -> None:
    qualify(other_site_clerk)
    with pytest.raises(ActionRefused) as refused:
        actions.assign(world.supervisor, world.post_three, other_site_clerk, AssignmentRole.B, MONDAY)
    assert refused.value.message == "王外站 不是本场所的工作人员，不能在此安排。"


def test_the_last_b_role_of_a_window_post_is_not_ended(world, newcomer, clock, unchanged) -> None:
    b_role = Assignment.objects.get(post=world.post_three, staff=world.b_three)
    check = unchanged()
    with pytest.raises(ActionRefused) as refused:
        actions.end_assignment(world.supervisor, b_role, dt.date(2026, 3, 31))
    assert refused.value.code == "last_role_holder"
    check()
    # When another B角 is named first, the old one can end
    qualify(newcomer)
    actions.assign(world.supervisor, world.post_three, newcomer, AssignmentRole.B, MONDAY)
    ended = actions.end_assignment(world.supervisor, b_role, dt.date(2026, 3, 31))
    assert ended.valid_to == dt.date(2026, 3, 31)


def test_a_supervisor_of_another_site_sees_nothing(world, other_town_site, newcomer, clock) -> None:
    outsider = make_staff(other_town_site, Role.WINDOW_SUPERVISOR)
    qualify(newcomer)
    with pytest.raises(NotFound):
        actions.assign(outsider, world.post_three, newcomer, AssignmentRole.B, MONDAY)


# ---------------------------------------------------------------------------------------------
# Roster


def test_a_roster_pattern_requires_a_qualification(world, newcomer, clock) -> None:
    with pytest.raises(ActionRefused) as refused:
        actions.add_roster_pattern(world.supervisor, world.post_three, newcomer, 1, PeriodKind.LUNCH, MONDAY)
    assert refused.value.code == "not_qualified"
    assert "先培训、后上岗" in refused.value.message
    assert RosterPattern.objects.count() == 0


def test_lunch_duty_is_rostered_where_the_site_opens_at_lunch(world, clock) -> None:
    pattern = actions.add_roster_pattern(
        world.supervisor, world.post_three, world.b_three, 1, PeriodKind.LUNCH, MONDAY
    )
    assert (pattern.weekday, pattern.period) == (1, PeriodKind.LUNCH)
    # And not where it does not
    OpeningPeriod.objects.filter(site=world.site, weekday=2, starts_at=dt.time(12)).delete()
    with pytest.raises(ActionRefused) as refused:
        actions.add_roster_pattern(
            world.supervisor, world.post_three, world.b_three, 2, PeriodKind.LUNCH, MONDAY
        )
    assert refused.value.message == f"{world.site.name} 星期二没有午间值班办公时段，不能在此排班。"


def test_saturday_duty_only_on_saturday(world, clock) -> None:
    with pytest.raises(ActionRefused) as refused:
        actions.add_roster_pattern(
            world.supervisor, world.post_three, world.b_three, 5, PeriodKind.SATURDAY, MONDAY
        )
    assert refused.value.message == "周六值班只能排在星期六。"
    pattern = actions.add_roster_pattern(
        world.supervisor, world.post_three, world.b_three, 6, PeriodKind.SATURDAY, MONDAY
    )
    assert pattern.period == PeriodKind.SATURDAY


def test_one_person_is_not_rostered_at_two_posts_at_once(world, clock) -> None:
    actions.add_roster_pattern(world.supervisor, world.post_three, world.b_three, 1, PeriodKind.LUNCH, MONDAY)
    with pytest.raises(ActionRefused) as refused:
        actions.add_roster_pattern(
            world.supervisor, world.post_four, world.b_three, 1, PeriodKind.LUNCH, MONDAY
        )
    assert refused.value.message == "李二 每星期一午间值班已排在“3号窗口受理岗”，同一时段不能排两个岗位。"
    assert RosterPattern.objects.count() == 1


def test_day_exceptions_remove_and_add(world, newcomer, clock) -> None:
    actions.add_roster_pattern(world.supervisor, world.post_three, world.b_three, 1, PeriodKind.LUNCH, MONDAY)
    removed = actions.add_roster_exception(
        world.supervisor,
        world.post_three,
        world.b_three,
        MONDAY,
        PeriodKind.LUNCH,
        RosterExceptionKind.REMOVE,
        "体检",
    )
    assert removed.kind == RosterExceptionKind.REMOVE
    # A newcomer without training cannot be added; the A角 of window 4 (busy there at lunch? no) can
    with pytest.raises(ActionRefused):
        actions.add_roster_exception(
            world.supervisor, world.post_three, newcomer, MONDAY, PeriodKind.LUNCH, RosterExceptionKind.ADD
        )
    added = actions.add_roster_exception(
        world.supervisor, world.post_three, world.a_four, MONDAY, PeriodKind.LUNCH, RosterExceptionKind.ADD
    )
    assert added.staff == world.a_four
    # Removing someone who is not rostered is refused: the A角 takes leave instead
    with pytest.raises(ActionRefused) as refused:
        actions.add_roster_exception(
            world.supervisor,
            world.post_three,
            world.a_four,
            MONDAY,
            PeriodKind.AFTERNOON,
            RosterExceptionKind.REMOVE,
        )
    assert refused.value.code == "not_rostered"
    actions.delete_roster_exception(world.supervisor, removed)
    assert RosterException.objects.count() == 1


# ---------------------------------------------------------------------------------------------
# Training


def test_passing_a_training_qualifies_and_failing_withdraws(
    world, newcomer, centre_administrator, clock
) -> None:
    # Given a training on 03-01 that qualifies for reception and guide posts for 365 days
    session = actions.create_training_session(
        centre_administrator,
        world.site,
        actions.TrainingData(
            dt.date(2026, 3, 1), "窗口业务与纪律培训", [PostKind.RECEPTION, PostKind.GUIDE], 365
        ),
    )
    # When 新同事 passes
    actions.record_training_result(centre_administrator, session, newcomer, True)
    # Then they hold both qualifications until 2027-02-28 and can be named B角
    assert sorted(Qualification.objects.filter(staff=newcomer).values_list("post_kind", "valid_until")) == [
        (PostKind.GUIDE, dt.date(2027, 2, 28)),
        (PostKind.RECEPTION, dt.date(2027, 2, 28)),
    ]
    actions.assign(world.supervisor, world.post_three, newcomer, AssignmentRole.B, MONDAY)
    # When the result is corrected to a fail
    actions.record_training_result(centre_administrator, session, newcomer, False, "补考未通过")
    # Then the qualifications are revoked and scheduling is refused again
    assert Qualification.objects.filter(staff=newcomer, revoked_at__isnull=True).count() == 0
    assert TrainingAttendance.objects.get(session=session, staff=newcomer).passed is False
    with pytest.raises(ActionRefused):
        actions.add_roster_pattern(world.supervisor, world.post_three, newcomer, 1, PeriodKind.LUNCH, MONDAY)


def test_results_of_a_future_training_are_refused(world, newcomer, centre_administrator, clock) -> None:
    session = actions.create_training_session(
        centre_administrator,
        world.site,
        actions.TrainingData(dt.date(2026, 3, 20), "岗前培训", [PostKind.GUIDE]),
    )
    with pytest.raises(ActionRefused) as refused:
        actions.record_training_result(centre_administrator, session, newcomer, True)
    assert refused.value.message == "培训尚未举行，不能登记考核结果。"


def test_a_supervisor_does_not_manage_training(world, newcomer, clock) -> None:
    with pytest.raises(PermissionRefused):
        actions.enter_qualification(world.supervisor, newcomer, PostKind.GUIDE, MONDAY, MONDAY, "证书")


def test_revoked_qualifications_do_not_count(world, centre_administrator, clock) -> None:
    qualification = Qualification.objects.get(staff=world.b_three)
    actions.revoke_qualification(centre_administrator, qualification, "考核作弊")
    with pytest.raises(ActionRefused) as refused:
        actions.add_roster_pattern(
            world.supervisor, world.post_three, world.b_three, 1, PeriodKind.LUNCH, MONDAY
        )
    assert refused.value.code == "not_qualified"


def test_a_post_with_a_guide_requirement_checks_that_kind(world, clock) -> None:
    desk = Post.objects.create(
        site=world.site, kind=PostKind.GUIDE, name="导办台", required_qualification=PostKind.GUIDE
    )
    with pytest.raises(ActionRefused) as refused:
        actions.assign(world.supervisor, desk, world.b_three, AssignmentRole.A, MONDAY)
    assert "咨询导办岗" in refused.value.message
    qualify(world.b_three, PostKind.GUIDE)
    assert actions.assign(world.supervisor, desk, world.b_three, AssignmentRole.A, MONDAY).post == desk
    give_role(desk, world.b_four, AssignmentRole.B)
