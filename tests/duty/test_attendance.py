"""Four check-ins a day, lateness against the lead time, missing check-ins, corrections, away from post, the sweep."""

from __future__ import annotations

import datetime as dt
from io import StringIO

import pytest
from django.core.management import call_command

from servicehall.audit.models import AuditRecord
from servicehall.duty import actions
from servicehall.duty.models import (
    Assignment,
    AwayRecord,
    CheckIn,
    CheckInSlot,
    CheckInSource,
    CheckInStatus,
    PeriodKind,
    RosterPattern,
)
from servicehall.lib.errors import ActionRefused, Conflict, PermissionRefused
from servicehall.supervision.models import Tier, Violation, ViolationKind, ViolationSource
from tests.duty.conftest import MONDAY, at, leave_for

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _posted_from_monday(world) -> None:
    """The A/B roles begin on Monday 03-02, so the sweep's look-back (to the 调休 Saturday 02-28) finds no duty."""
    Assignment.objects.update(valid_from=MONDAY)


def statuses(day=MONDAY) -> dict[tuple[str, str], str]:
    return {
        (entry.staff.full_name, entry.slot): entry.status
        for entry in CheckIn.objects.filter(date=day).select_related("staff")
    }


def test_arriving_before_the_lead_time_is_on_time(world, clock) -> None:
    clock.set(at(MONDAY, 8, 45))
    entry = actions.check_in(world.a_three, CheckInSlot.MORNING_IN)
    assert (entry.status, entry.source, entry.site_id) == (
        CheckInStatus.ON_TIME,
        CheckInSource.WEB,
        world.site.pk,
    )
    assert entry.expected_at == at(MONDAY, 8, 50)
    assert AuditRecord.objects.filter(action="duty.checked_in").count() == 1


def test_arriving_after_opening_minus_the_lead_time_is_late_and_becomes_a_violation(world, clock) -> None:
    # Given 张一 checks in at 08:55, five minutes after the 08:50 due time
    clock.set(at(MONDAY, 8, 55))
    entry = actions.check_in(world.a_three, CheckInSlot.MORNING_IN)
    assert entry.status == CheckInStatus.LATE
    # When the sweep runs before the slot closes, nothing is recorded yet (the supervisor may still correct)
    actions.sweep(at(MONDAY, 11))
    assert Violation.objects.count() == 0
    # When it runs after 12:00
    result = actions.sweep(at(MONDAY, 12, 1))
    # Then one 迟到 violation is recorded against 张一, from attendance, and a second sweep adds nothing
    violation = Violation.objects.get()
    assert (violation.kind, violation.source, violation.staff, violation.tier) == (
        ViolationKind.LATE_OR_EARLY_LEAVE,
        ViolationSource.ATTENDANCE,
        world.a_three,
        Tier.CRITICISM,
    )
    assert violation.source_reference == f"check_in:{world.a_three.pk}:2026-03-02:morning_in"
    assert violation.description == "张一 2026-03-02 上午上班迟到：08:55 打卡，规定 08:50。"
    assert result.violations_recorded == 1
    assert actions.sweep(at(MONDAY, 12, 5)).violations_recorded == 0
    assert Violation.objects.count() == 1


def test_the_lead_time_is_configurable(world, clock, settings) -> None:
    settings.SERVICEHALL_DUTY_LEAD_MINUTES = 30
    clock.set(at(MONDAY, 8, 45))
    assert actions.check_in(world.a_three, CheckInSlot.MORNING_IN).status == CheckInStatus.LATE


def test_leaving_early_is_recorded(world, clock) -> None:
    clock.set(at(MONDAY, 11, 40))
    assert actions.check_in(world.a_three, CheckInSlot.MORNING_OUT).status == CheckInStatus.EARLY_LEAVE
    actions.sweep(at(MONDAY, 13, 1))
    early = Violation.objects.get(kind=ViolationKind.LATE_OR_EARLY_LEAVE)
    assert early.description == "张一 2026-03-02 上午下班早退：11:40 打卡，规定 12:00。"
    # And the three who never checked in that morning are absent
    assert Violation.objects.filter(kind=ViolationKind.UNEXCUSED_ABSENCE).count() == 3


def test_missing_check_ins_are_flagged_after_the_slot_and_a_missed_half_is_absence(world, clock) -> None:
    # Given on Monday morning 王三 checks in and out, 李二 only in, 张一 nothing, and 赵四 is on leave
    leave_for(world.b_four, MONDAY)
    clock.set(at(MONDAY, 8, 40))
    actions.check_in(world.a_four, CheckInSlot.MORNING_IN)
    actions.check_in(world.b_three, CheckInSlot.MORNING_IN)
    clock.set(at(MONDAY, 12, 2))
    actions.check_in(world.a_four, CheckInSlot.MORNING_OUT)
    # When the sweep runs at 13:01, after both morning slots closed
    result = actions.sweep(at(MONDAY, 13, 1))
    # Then the missing check-ins are rows of their own, flagged 缺卡, and nobody on leave is counted
    assert statuses() == {
        ("王三", CheckInSlot.MORNING_IN): CheckInStatus.ON_TIME,
        ("王三", CheckInSlot.MORNING_OUT): CheckInStatus.ON_TIME,
        ("李二", CheckInSlot.MORNING_IN): CheckInStatus.ON_TIME,
        ("李二", CheckInSlot.MORNING_OUT): CheckInStatus.MISSING,
        ("张一", CheckInSlot.MORNING_IN): CheckInStatus.MISSING,
        ("张一", CheckInSlot.MORNING_OUT): CheckInStatus.MISSING,
    }
    assert result.missing_recorded == 3
    assert (
        CheckIn.objects.filter(
            status=CheckInStatus.MISSING, source=CheckInSource.SYSTEM, at__isnull=True
        ).count()
        == 3
    )
    # And only the whole missed half (张一) is an unexcused absence
    violation = Violation.objects.get()
    assert (violation.kind, violation.staff, violation.tier) == (
        ViolationKind.UNEXCUSED_ABSENCE,
        world.a_three,
        Tier.PUBLIC_CRITICISM,
    )
    assert violation.source_reference == f"absence:{world.a_three.pk}:2026-03-02:morning"
    # And sweeping again changes nothing
    again = actions.sweep(at(MONDAY, 13, 2))
    assert (again.missing_recorded, again.violations_recorded) == (0, 0)
    assert CheckIn.objects.count() == 6


def test_check_in_refusals(world, clock) -> None:
    # Too early
    clock.set(at(MONDAY, 6, 30))
    with pytest.raises(ActionRefused) as early:
        actions.check_in(world.a_three, CheckInSlot.MORNING_IN)
    assert early.value.message == "还未到“上午上班”打卡时间（07:00 起可打卡）。"
    # Twice
    clock.set(at(MONDAY, 8, 40))
    actions.check_in(world.a_three, CheckInSlot.MORNING_IN)
    with pytest.raises(Conflict) as twice:
        actions.check_in(world.a_three, CheckInSlot.MORNING_IN)
    assert twice.value.message == "您已打过“上午上班”卡（08:40）。"
    # After the slot closed
    clock.set(at(MONDAY, 13, 5))
    with pytest.raises(ActionRefused) as closed:
        actions.check_in(world.a_three, CheckInSlot.MORNING_OUT)
    assert closed.value.message == "“上午下班”打卡已于 13:00 截止，如有特殊情况请联系负责人更正。"
    # On leave, and on a closed day
    leave_for(world.b_three, MONDAY)
    with pytest.raises(ActionRefused) as on_leave:
        actions.check_in(world.b_three, CheckInSlot.AFTERNOON_IN)
    assert on_leave.value.message == "您今天已请假，无需打卡。"
    clock.set(at(dt.date(2026, 3, 8), 9))
    with pytest.raises(ActionRefused) as sunday:
        actions.check_in(world.a_three, CheckInSlot.MORNING_IN)
    assert sunday.value.code == "closed_day"
    assert CheckIn.objects.count() == 1


def test_saturday_duty_has_only_morning_check_ins_for_the_rostered(world, clock) -> None:
    saturday = dt.date(2026, 3, 7)
    RosterPattern.objects.create(
        site=world.site,
        post=world.post_three,
        staff=world.b_three,
        weekday=6,
        period=PeriodKind.SATURDAY,
        valid_from=MONDAY,
    )
    clock.set(at(saturday, 14))
    with pytest.raises(ActionRefused) as afternoon:
        actions.check_in(world.b_three, CheckInSlot.AFTERNOON_IN)
    assert afternoon.value.code == "closed_half"
    actions.sweep(at(saturday, 14))
    assert statuses(saturday) == {
        ("李二", CheckInSlot.MORNING_IN): CheckInStatus.MISSING,
        ("李二", CheckInSlot.MORNING_OUT): CheckInStatus.MISSING,
    }


def test_a_supervisor_corrects_a_check_in_with_a_reason(world, clock, unchanged) -> None:
    # Given 张一 was recorded late at 08:55 because the terminal was down
    clock.set(at(MONDAY, 8, 55))
    actions.check_in(world.a_three, CheckInSlot.MORNING_IN)
    clock.set(at(MONDAY, 10))
    check = unchanged()
    with pytest.raises(ActionRefused) as no_reason:
        actions.correct_check_in(
            world.supervisor, world.a_three, MONDAY, CheckInSlot.MORNING_IN, at(MONDAY, 8, 40), ""
        )
    assert no_reason.value.message == "请填写更正原因。"
    check()
    # When the supervisor corrects it to 08:40
    entry = actions.correct_check_in(
        world.supervisor,
        world.a_three,
        MONDAY,
        CheckInSlot.MORNING_IN,
        at(MONDAY, 8, 40),
        "考勤机故障，监控核实 08:40 到岗",
    )
    # Then it is on time, marked as a correction, audited with before and after, and no violation follows
    assert (entry.status, entry.source, entry.corrected_by) == (
        CheckInStatus.ON_TIME,
        CheckInSource.CORRECTION,
        world.supervisor,
    )
    audit = AuditRecord.objects.get(action="duty.check_in_corrected")
    assert (audit.before["status"], audit.after["status"]) == (CheckInStatus.LATE, CheckInStatus.ON_TIME)
    assert audit.after["correction_reason"] == "考勤机故障，监控核实 08:40 到岗"
    actions.sweep(at(MONDAY, 12, 30))
    assert not Violation.objects.filter(staff=world.a_three, kind=ViolationKind.LATE_OR_EARLY_LEAVE).exists()


def test_corrections_are_a_supervisors_and_never_their_own(world, clerk, clock, unchanged) -> None:
    clock.set(at(MONDAY, 10))
    check = unchanged()
    with pytest.raises(PermissionRefused):
        actions.correct_check_in(
            clerk, world.a_three, MONDAY, CheckInSlot.MORNING_IN, at(MONDAY, 8, 40), "补卡"
        )
    with pytest.raises(PermissionRefused):
        actions.correct_check_in(
            world.supervisor, world.supervisor, MONDAY, CheckInSlot.MORNING_IN, at(MONDAY, 8, 40), "补卡"
        )
    check()


# ---------------------------------------------------------------------------------------------
# Away from post


def test_away_over_ten_minutes_without_whereabouts_is_flagged_once(world, clock) -> None:
    # Given 张一 leaves window 3 at 10:00 without saying where
    clock.set(at(MONDAY, 10))
    away = actions.start_away(world.a_three)
    assert (away.window, away.due_at) == (world.window_three, at(MONDAY, 10, 10))
    # When the sweep runs at 10:09 nothing happens; at 10:11 the record is flagged
    assert actions.sweep(at(MONDAY, 10, 9)).away_flagged == 0
    assert actions.sweep(at(MONDAY, 10, 11)).away_flagged == 1
    away.refresh_from_db()
    assert (away.flagged, away.flagged_at) == (True, at(MONDAY, 10, 11))
    violation = Violation.objects.get()
    assert (violation.kind, violation.source, violation.source_reference) == (
        ViolationKind.AWAY_WITHOUT_WHEREABOUTS,
        ViolationSource.AWAY_FROM_POST,
        f"away:{away.pk}",
    )
    # And another sweep, or coming back, records nothing more
    assert actions.sweep(at(MONDAY, 10, 20)).away_flagged == 0
    clock.set(at(MONDAY, 10, 25))
    actions.return_to_post(world.a_three)
    assert Violation.objects.count() == 1


def test_away_with_whereabouts_is_never_flagged(world, clock) -> None:
    clock.set(at(MONDAY, 10))
    actions.start_away(world.a_three, whereabouts="到1号窗口向负责人请示")
    assert actions.sweep(at(MONDAY, 11)).away_flagged == 0
    # And whereabouts given within the ten minutes count as well
    actions.return_to_post(world.a_three)
    clock.set(at(MONDAY, 11, 30))
    away = actions.start_away(world.a_three)
    clock.set(at(MONDAY, 11, 35))
    actions.record_whereabouts(world.a_three, away, "档案室调取材料")
    assert actions.sweep(at(MONDAY, 11, 50)).away_flagged == 0
    assert Violation.objects.count() == 0


def test_returning_late_without_whereabouts_is_flagged_at_return(world, clock) -> None:
    clock.set(at(MONDAY, 10))
    actions.start_away(world.a_three)
    clock.set(at(MONDAY, 10, 12))
    away = actions.return_to_post(world.a_three)
    away.refresh_from_db()
    assert away.flagged
    assert Violation.objects.filter(kind=ViolationKind.AWAY_WITHOUT_WHEREABOUTS).count() == 1
    # A short absence is fine
    clock.set(at(MONDAY, 11))
    actions.start_away(world.a_three)
    clock.set(at(MONDAY, 11, 8))
    short = actions.return_to_post(world.a_three)
    assert actions.sweep(at(MONDAY, 11, 30)).away_flagged == 0
    short.refresh_from_db()
    assert not short.flagged


def test_one_open_away_record_at_a_time(world, clock) -> None:
    clock.set(at(MONDAY, 10))
    actions.start_away(world.a_three)
    with pytest.raises(Conflict):
        actions.start_away(world.a_three)
    assert AwayRecord.objects.count() == 1


def test_the_sweep_command(world, clock) -> None:
    clock.set(at(MONDAY, 10))
    actions.start_away(world.a_three)
    clock.set(at(MONDAY, 10, 30))
    output = StringIO()
    call_command("duty", "sweep", stdout=output)
    assert output.getvalue().strip() == (
        "离岗未说明去向 / away flagged: 1; 缺卡 / missing check-ins: 0; 考勤违规 / attendance violations: 0"
    )


def test_every_duty_audit_action_has_a_label() -> None:
    import re
    from pathlib import Path

    from servicehall.duty import actions as duty_actions
    from servicehall.duty.labels import DUTY_ACTION_LABELS

    recorded = set(re.findall(r'record\(\s*"(duty\.[a-z_]+)"', Path(duty_actions.__file__).read_text()))
    assert recorded == set(DUTY_ACTION_LABELS)


# Leaving a window one is signed in at pauses it: 暂停服务 on the counter and the display (issue 6).


def test_leaving_a_signed_in_window_pauses_it_and_returning_resumes_it(world, clock) -> None:
    from servicehall.queueing import actions as queueing
    from servicehall.queueing.models import EventKind, VisitEvent, WindowPause, WindowState, WindowStatus

    # Given 张一 signed in at window 3
    clock.set(at(MONDAY, 10))
    queueing.sign_in(world.a_three, world.window_three, now=at(MONDAY, 9, 50))
    # When 张一 records leaving the post without a 去向
    away = actions.start_away(world.a_three)
    # Then the window shows 暂停服务, with one pause linked to the away record
    state = WindowState.objects.get(window=world.window_three)
    assert (state.status, state.pause_reason) == (WindowStatus.PAUSED, "离岗")
    window_pause = WindowPause.objects.get()
    assert (away.window_pause_id, window_pause.started_at) == (window_pause.pk, at(MONDAY, 10))
    assert VisitEvent.objects.filter(kind=EventKind.PAUSED, window=world.window_three).count() == 1
    # When the 去向 is stated, the window's display carries it too
    clock.set(at(MONDAY, 10, 4))
    actions.record_whereabouts(world.a_three, away, "到1号窗口请示")
    state.refresh_from_db()
    window_pause.refresh_from_db()
    assert (state.whereabouts, window_pause.whereabouts_stated_at) == ("到1号窗口请示", at(MONDAY, 10, 4))
    # And coming back reopens the window and ends the pause
    clock.set(at(MONDAY, 10, 20))
    actions.return_to_post(world.a_three)
    state.refresh_from_db()
    window_pause.refresh_from_db()
    assert (state.status, window_pause.ended_at) == (WindowStatus.IDLE, at(MONDAY, 10, 20))


def test_a_pause_from_leaving_the_post_is_judged_once_not_twice(world, clock) -> None:
    from servicehall.queueing import actions as queueing

    # Given 张一 signed in and gone for 25 minutes without a 去向
    clock.set(at(MONDAY, 10))
    queueing.sign_in(world.a_three, world.window_three, now=at(MONDAY, 9, 50))
    actions.start_away(world.a_three)
    clock.set(at(MONDAY, 10, 25))
    actions.return_to_post(world.a_three)
    # When both sweeps run
    actions.sweep(at(MONDAY, 10, 30))
    queueing.sweep(now=at(MONDAY, 10, 30))
    # Then exactly one violation is recorded for it
    assert Violation.objects.filter(kind=ViolationKind.AWAY_WITHOUT_WHEREABOUTS).count() == 1


def test_leaving_while_serving_someone_is_refused_and_changes_nothing(world, clock) -> None:
    from servicehall.queueing import actions as queueing
    from servicehall.queueing.models import Category, CategoryWindow, WindowState, WindowStatus

    # Given 张一 signed in at window 3 and having called a ticket
    category = Category.objects.create(site=world.site, prefix="A", name="社保业务", position=1)
    CategoryWindow.objects.create(site=world.site, category=category, window=world.window_three)
    clock.set(at(MONDAY, 10))
    queueing.sign_in(world.a_three, world.window_three, now=at(MONDAY, 9, 50))
    queueing.issue_ticket(None, category, now=at(MONDAY, 9, 52))
    queueing.call_next(world.a_three, world.window_three, now=at(MONDAY, 9, 55))
    # When 张一 tries to record leaving the post
    with pytest.raises(ActionRefused):
        actions.start_away(world.a_three)
    # Then no away record exists and the window is still serving
    assert AwayRecord.objects.count() == 0
    assert WindowState.objects.get(window=world.window_three).status != WindowStatus.PAUSED
