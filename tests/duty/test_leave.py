"""Leave and handover: a named, qualified, free substitute; one working day's notice; emergency leave after the fact."""

from __future__ import annotations

import datetime as dt

import pytest

from servicehall.accounts.roles import Role
from servicehall.audit.models import AuditRecord
from servicehall.duty import actions
from servicehall.duty.coverage import coverage, substitute_candidates, substitute_for
from servicehall.duty.models import HandoverItem, Leave, LeaveEvent, LeaveKind, LeaveStatus, Qualification
from servicehall.duty.rules import Basis
from servicehall.lib.errors import ActionRefused, Conflict, NotFound, PermissionRefused
from tests.conftest import make_staff
from tests.duty.conftest import MONDAY, at, leave_for, qualify

pytestmark = pytest.mark.django_db

WEDNESDAY = dt.date(2026, 3, 4)
THURSDAY = dt.date(2026, 3, 5)


@pytest.fixture
def floater(world):
    """钱六: qualified for reception, holding no post, so free to stand in."""
    person = make_staff(world.site, Role.WINDOW_CLERK, username="qian.liu", full_name="钱六")
    qualify(person)
    return person


def ask(staff, first=WEDNESDAY, last=None, substitute=None, **changes) -> Leave:
    data = actions.LeaveData(
        starts_on=first,
        ends_on=last or first,
        kind=changes.pop("kind", LeaveKind.PERSONAL),
        reason=changes.pop("reason", "孩子生病"),
        substitute=substitute,
        handover_note=changes.pop("handover_note", "3 件在办事项已交接，详见清单。"),
        handover_items=changes.pop("handover_items", ["张三社保转移（待补材料）", "李四失业登记"]),
    )
    return actions.request_leave(staff, data)


# ---------------------------------------------------------------------------------------------
# Asking


def test_a_leave_with_a_free_substitute_is_requested_and_approved(world, floater, clock) -> None:
    # Given 张一 asks on Monday for Wednesday off, naming 钱六
    leave = ask(world.a_three, substitute=floater)
    assert (leave.status, leave.substitute, leave.requested_by) == (
        LeaveStatus.REQUESTED,
        floater,
        world.a_three,
    )
    assert list(HandoverItem.objects.filter(leave=leave).values_list("position", "description")) == [
        (1, "张三社保转移（待补材料）"),
        (2, "李四失业登记"),
    ]
    # When the supervisor approves
    approved = actions.approve_leave(world.supervisor, leave, note="同意")
    # Then the leave is approved, stamped and has its history
    assert (approved.status, approved.approved_by, approved.decision_note) == (
        LeaveStatus.APPROVED,
        world.supervisor,
        "同意",
    )
    assert approved.approved_at is not None
    assert list(LeaveEvent.objects.filter(leave=leave).values_list("from_status", "to_status")) == [
        ("", LeaveStatus.REQUESTED),
        (LeaveStatus.REQUESTED, LeaveStatus.APPROVED),
    ]
    assert list(
        AuditRecord.objects.filter(action__startswith="duty.leave")
        .order_by("pk")
        .values_list("action", flat=True)
    ) == [
        "duty.leave_requested",
        "duty.leave_approved",
    ]
    # And the board shows 钱六 standing in, and other apps route 张一's work to 钱六
    report = coverage(world.site, WEDNESDAY, days=1)
    [morning] = [
        cell for cell in report.cells if cell.post_id == world.post_three.pk and cell.period.kind == "morning"
    ]
    assert (morning.staff_ids, morning.basis) == ((floater.pk,), Basis.SUBSTITUTE)
    assert substitute_for(world.a_three, WEDNESDAY) == floater


def test_the_form_lists_only_qualified_free_candidates(world, floater, clock) -> None:
    # Given 王三 holds window 4 and 赵四's qualification has expired
    Qualification.objects.filter(staff=world.b_four).update(valid_until=dt.date(2026, 2, 1))
    candidates, _inputs = substitute_candidates(world.site, world.a_three, WEDNESDAY, WEDNESDAY)
    free = {candidate.staff.full_name for candidate in candidates if candidate.is_free}
    # Then only the qualified and free are offered: 钱六 and the B角 李二 (the supervisor has no training)
    assert free == {"钱六", "李二"}
    reasons = {
        candidate.staff.full_name: candidate.problems[0].code
        for candidate in candidates
        if not candidate.is_free
    }
    assert reasons["王三"] == "busy"
    assert reasons["赵四"] == "unqualified"


def test_a_substitute_already_on_leave_is_refused(world, floater, clock, unchanged) -> None:
    leave_for(floater, WEDNESDAY, THURSDAY)
    check = unchanged()
    with pytest.raises(ActionRefused) as refused:
        ask(world.a_three, substitute=floater)
    assert refused.value.field == "substitute"
    assert refused.value.message == "替岗人员 钱六 在 2026-03-04 也在请假，不能替岗。"
    check()


def test_a_substitute_busy_at_their_own_post_is_refused(world, clock, unchanged) -> None:
    check = unchanged()
    with pytest.raises(ActionRefused) as refused:
        ask(world.a_three, substitute=world.a_four)
    assert refused.value.message == "替岗人员 王三 在 2026-03-04 上午 已在“4号窗口受理岗”值守，没有空闲。"
    check()


def test_a_substitute_with_an_expired_training_is_refused(world, floater, clock, unchanged) -> None:
    Qualification.objects.filter(staff=floater).update(valid_until=dt.date(2026, 3, 3))
    check = unchanged()
    with pytest.raises(ActionRefused) as refused:
        ask(world.a_three, substitute=floater)
    assert refused.value.message == (
        "替岗人员 钱六 没有“3号窗口受理岗”在 2026-03-04 的有效上岗资质（先培训、后上岗）。"
    )
    check()


def test_a_substitute_from_another_site_is_refused(world, other_site_clerk, clock, unchanged) -> None:
    qualify(other_site_clerk)
    check = unchanged()
    with pytest.raises(ActionRefused) as refused:
        ask(world.a_three, substitute=other_site_clerk)
    assert (refused.value.code, refused.value.field) == ("substitute_other_site", "substitute")
    assert refused.value.message == "替岗人员 王外站 不是本场所的工作人员，替岗人员须与请假人在同一服务场所。"
    check()


def test_leave_ending_before_it_starts_is_refused(world, floater, clock, unchanged) -> None:
    check = unchanged()
    with pytest.raises(ActionRefused) as refused:
        ask(world.a_three, THURSDAY, WEDNESDAY, substitute=floater)
    assert (refused.value.code, refused.value.field) == ("dates_out_of_order", "ends_on")
    assert refused.value.message == "结束日期（2026-03-04）不能早于开始日期（2026-03-05）。"
    check()


def test_overlapping_leave_is_refused(world, floater, clock, unchanged) -> None:
    ask(world.a_three, WEDNESDAY, THURSDAY, substitute=floater)
    check = unchanged()
    with pytest.raises(ActionRefused) as refused:
        ask(world.a_three, THURSDAY, dt.date(2026, 3, 6), substitute=floater)
    assert refused.value.code == "overlapping_leave"
    assert (
        refused.value.message
        == "与已有的请假（2026-03-04 至 2026-03-05，待审批）重叠，请先撤销或调整原请假。"
    )
    check()


def test_a_missing_substitute_or_handover_note_is_refused(world, floater, clock, unchanged) -> None:
    check = unchanged()
    with pytest.raises(ActionRefused) as no_substitute:
        ask(world.a_three)
    assert no_substitute.value.code == "substitute_required"
    with pytest.raises(ActionRefused) as no_note:
        ask(world.a_three, substitute=floater, handover_note="  ")
    assert (no_note.value.field, no_note.value.message) == ("handover_note", "请填写工作移交说明。")
    check()


def test_leave_asked_without_a_working_day_of_notice_is_refused(world, floater, clock, unchanged) -> None:
    # Given it is Saturday 03-07: the next working day is Monday 03-09
    clock.set(at(dt.date(2026, 3, 7), 10))
    check = unchanged()
    with pytest.raises(ActionRefused) as refused:
        ask(world.a_three, dt.date(2026, 3, 9), substitute=floater)
    assert refused.value.code == "notice_too_short"
    assert "2026-03-09 开始的请假最迟应在 2026-03-06 提交" in refused.value.message
    check()
    # And Tuesday is fine: Monday is left to hand over
    assert ask(world.a_three, dt.date(2026, 3, 10), substitute=floater).status == LeaveStatus.REQUESTED


def test_staff_cannot_ask_for_emergency_leave_themselves(world, floater, clock, unchanged) -> None:
    check = unchanged()
    with pytest.raises(ActionRefused) as refused:
        ask(world.a_three, substitute=floater, kind=LeaveKind.EMERGENCY)
    assert refused.value.code == "emergency_by_supervisor"
    check()


# ---------------------------------------------------------------------------------------------
# Deciding


def test_approval_rechecks_the_substitute(world, floater, clock, unchanged) -> None:
    # Given 张一 asked with 钱六, and 钱六 then went on emergency leave for that day
    leave = ask(world.a_three, substitute=floater)
    clock.set(at(WEDNESDAY, 8))
    actions.record_emergency_leave(
        world.supervisor, floater, actions.LeaveData(WEDNESDAY, WEDNESDAY, LeaveKind.EMERGENCY, "突发急病")
    )
    check = unchanged()
    # Then approving is refused, with the reason
    with pytest.raises(ActionRefused) as refused:
        actions.approve_leave(world.supervisor, leave)
    assert refused.value.message == "替岗人员 钱六 在 2026-03-04 也在请假，不能替岗。"
    check()
    # And naming another free substitute at approval works
    approved = actions.approve_leave(world.supervisor, leave, substitute=world.b_three)
    assert approved.substitute == world.b_three


def test_a_decided_leave_cannot_be_decided_again(world, floater, clock) -> None:
    leave = ask(world.a_three, substitute=floater)
    actions.reject_leave(world.supervisor, leave, "当天窗口人手不足")
    with pytest.raises(Conflict) as refused:
        actions.approve_leave(world.supervisor, leave)
    assert refused.value.message == "该请假当前为“已驳回”，不能改为“已批准”。"
    assert Leave.objects.get(pk=leave.pk).rejected_by == world.supervisor


def test_nobody_approves_their_own_leave(world, floater, clock) -> None:
    second = make_staff(world.site, Role.WINDOW_SUPERVISOR, full_name="副负责")
    leave = ask(second, substitute=floater)
    with pytest.raises(PermissionRefused):
        actions.approve_leave(second, leave)


def test_a_clerk_cannot_approve_and_another_site_cannot_see(
    world, floater, clerk, other_town_site, clock
) -> None:
    leave = ask(world.a_three, substitute=floater)
    with pytest.raises(PermissionRefused):
        actions.approve_leave(clerk, leave)
    with pytest.raises(NotFound):
        actions.approve_leave(make_staff(other_town_site, Role.WINDOW_SUPERVISOR), leave)
    assert Leave.objects.get(pk=leave.pk).status == LeaveStatus.REQUESTED


def test_the_substitute_of_an_approved_leave_cannot_take_leave_then(world, floater, clock) -> None:
    actions.approve_leave(world.supervisor, ask(world.a_three, substitute=floater))
    with pytest.raises(ActionRefused) as refused:
        ask(floater, substitute=world.b_three)
    assert refused.value.code == "is_substitute"


def test_one_substitute_cannot_stand_in_for_two_at_once(world, floater, clock) -> None:
    actions.approve_leave(world.supervisor, ask(world.a_three, substitute=floater))
    with pytest.raises(ActionRefused) as refused:
        ask(world.a_four, substitute=floater)
    assert refused.value.message == "替岗人员 钱六 在 2026-03-04 上午 已为 张一 替岗，没有空闲。"


def test_cancelling(world, floater, clock) -> None:
    leave = ask(world.a_three, substitute=floater)
    actions.approve_leave(world.supervisor, leave)
    cancelled = actions.cancel_leave(world.a_three, leave, "事情已解决")
    assert (cancelled.status, cancelled.cancelled_by) == (LeaveStatus.CANCELLED, world.a_three)
    assert substitute_for(world.a_three, WEDNESDAY) is None
    # A started leave is cancelled by the supervisor only
    clock.set(at(dt.date(2026, 3, 10), 8))
    started = leave_for(world.a_three, dt.date(2026, 3, 10), substitute=floater)
    with pytest.raises(ActionRefused):
        actions.cancel_leave(world.a_three, started)
    assert actions.cancel_leave(world.supervisor, started, "提前返岗").status == LeaveStatus.CANCELLED


# ---------------------------------------------------------------------------------------------
# Emergency leave


def test_emergency_leave_is_recorded_after_the_fact_by_a_supervisor(world, clock) -> None:
    # Given it is Wednesday 10:00 and 张一 did not come in (family emergency)
    clock.set(at(WEDNESDAY, 10))
    leave = actions.record_emergency_leave(
        world.supervisor, world.a_three, actions.LeaveData(WEDNESDAY, THURSDAY, "", "家人突发急病住院")
    )
    # Then the leave is approved at once, kind emergency, with who recorded it and the history
    assert (leave.kind, leave.status, leave.approved_by, leave.requested_by) == (
        LeaveKind.EMERGENCY,
        LeaveStatus.APPROVED,
        world.supervisor,
        world.supervisor,
    )
    assert list(LeaveEvent.objects.filter(leave=leave).values_list("from_status", "to_status", "note")) == [
        ("", LeaveStatus.APPROVED, "紧急请假事后补登")
    ]
    # And the board falls back to the B角
    report = coverage(world.site, WEDNESDAY, days=1)
    [morning] = [
        cell for cell in report.cells if cell.post_id == world.post_three.pk and cell.period.kind == "morning"
    ]
    assert (morning.staff_ids, morning.basis) == ((world.b_three.pk,), Basis.B)


def test_emergency_leave_needs_a_reason_and_cannot_be_in_the_future(world, clock, unchanged) -> None:
    check = unchanged()
    with pytest.raises(ActionRefused) as no_reason:
        actions.record_emergency_leave(
            world.supervisor, world.a_three, actions.LeaveData(MONDAY, MONDAY, "", "")
        )
    assert no_reason.value.message == "请填写紧急请假事由。"
    with pytest.raises(ActionRefused) as future:
        actions.record_emergency_leave(
            world.supervisor, world.a_three, actions.LeaveData(THURSDAY, THURSDAY, "", "急事")
        )
    assert future.value.code == "emergency_in_future"
    check()


def test_a_clerk_cannot_record_emergency_leave(world, clerk, clock, unchanged) -> None:
    check = unchanged()
    with pytest.raises(PermissionRefused):
        actions.record_emergency_leave(clerk, world.a_three, actions.LeaveData(MONDAY, MONDAY, "", "急事"))
    check()
