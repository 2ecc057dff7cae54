"""暂停服务 with 去向 (seed 003 公安窗口 15/26), the sweep, tidal windows, and 预约 appointments."""

from __future__ import annotations

import datetime as dt
from io import StringIO

import pytest
from django.core.management import call_command

from servicehall.lib.errors import ActionRefused, Conflict, NotFound, PermissionRefused
from servicehall.queueing import actions, selectors
from servicehall.queueing.models import (
    AppointmentStatus,
    CategoryWindow,
    Lane,
    Ticket,
    TicketStatus,
    WindowPause,
    WindowState,
    WindowStatus,
)
from servicehall.supervision.models import Violation, ViolationKind, ViolationSource
from tests.queueing.conftest import MONDAY, NATIONAL_DAY, at, issue

pytestmark = pytest.mark.django_db


# ---------------------------------------------------------------------------------------------
# Pauses and the away-from-post sweep


def test_pause_and_resume_record_the_reason_and_whereabouts(at_window, clerk) -> None:
    window_pause = actions.pause(clerk, at_window, reason="取档案", whereabouts="二楼档案室", now=at(9, 30))
    state = WindowState.objects.get(window=at_window)
    assert (state.status, state.pause_reason, state.whereabouts) == (
        WindowStatus.PAUSED,
        "取档案",
        "二楼档案室",
    )
    with pytest.raises(Conflict):
        actions.pause(clerk, at_window, reason="再次", now=at(9, 31))
    actions.resume(clerk, at_window, now=at(9, 45))
    window_pause.refresh_from_db()
    assert (window_pause.ended_at, window_pause.whereabouts_stated_at) == (at(9, 45), at(9, 30))
    assert WindowState.objects.get(window=at_window).status == WindowStatus.IDLE


@pytest.mark.parametrize("reason", ["", "   ", "x" * 101, "坏\x07字符"])
def test_pause_needs_a_clean_reason(at_window, clerk, reason) -> None:
    with pytest.raises(ActionRefused) as refusal:
        actions.pause(clerk, at_window, reason=reason, now=at(9, 30))
    assert refusal.value.field == "reason"
    assert WindowPause.objects.count() == 0


def test_pause_is_refused_with_a_visitor_at_the_window(at_window, clerk, social_security) -> None:
    issue(social_security, 1)
    actions.call_next(clerk, at_window, now=at(9, 10))
    with pytest.raises(ActionRefused) as refusal:
        actions.pause(clerk, at_window, reason="离开", now=at(9, 11))
    assert refusal.value.code == "ticket_open"


def test_sweep_records_a_long_pause_without_whereabouts_once(at_window, clerk) -> None:
    # Given a pause at 9:30 with no 去向, and another with 去向 stated at 9:35 (within ten minutes)
    unexplained = actions.pause(clerk, at_window, reason="临时离开", now=at(9, 30))
    actions.resume(clerk, at_window, now=at(9, 45))
    actions.pause(clerk, at_window, reason="临时离开", now=at(10, 0))
    actions.state_whereabouts(clerk, at_window, whereabouts="1号窗口汇报", now=at(10, 5))
    # When the sweep runs at 10:30, twice
    first = actions.sweep(now=at(10, 30))
    second = actions.sweep(now=at(10, 31))
    # Then exactly one violation was recorded, for the unexplained pause, against the clerk
    assert (first.away_violations, second.away_violations) == (1, 0)
    violation = Violation.objects.get()
    assert (violation.kind, violation.source, violation.source_reference, violation.staff_id) == (
        ViolationKind.AWAY_WITHOUT_WHEREABOUTS,
        ViolationSource.AWAY_FROM_POST,
        f"window_pause:{unexplained.pk}",
        clerk.pk,
    )
    assert (
        violation.description
        == "3 号窗口 2025-03-03 09:30 起暂停服务（临时离开）超过 10 分钟，未在 10 分钟内说明去向。"
    )


def test_sweep_leaves_short_pauses_and_ongoing_ones_under_ten_minutes(at_window, clerk) -> None:
    actions.pause(clerk, at_window, reason="饮水", now=at(9, 30))
    actions.resume(clerk, at_window, now=at(9, 38))
    actions.pause(clerk, at_window, reason="洗手间", now=at(9, 55))
    assert actions.sweep(now=at(10, 3)).away_violations == 0
    assert Violation.objects.count() == 0
    # An ongoing pause past ten minutes without 去向 is recorded while it lasts
    assert actions.sweep(now=at(10, 6)).away_violations == 1


def test_sweep_command_is_idempotent(at_window, clerk) -> None:
    actions.pause(clerk, at_window, reason="临时离开", now=at(9, 30))
    output = StringIO()
    call_command("queueing", "sweep", stdout=output)
    call_command("queueing", "sweep", stdout=output)
    assert Violation.objects.count() == 1
    assert "离岗未说明去向 / away without whereabouts: 1" in output.getvalue()
    assert "离岗未说明去向 / away without whereabouts: 0" in output.getvalue()


def test_whereabouts_only_while_paused(at_window, clerk) -> None:
    with pytest.raises(ActionRefused) as refusal:
        actions.state_whereabouts(clerk, at_window, whereabouts="档案室", now=at(9, 30))
    assert refusal.value.code == "not_paused"


# ---------------------------------------------------------------------------------------------
# Tidal windows


def test_monitor_suggests_the_standby_window_and_opens_it_in_one_step(
    at_window, clerk, supervisor, social_security, window_six
) -> None:
    # Given ten visitors waiting for A (the threshold)
    for minute in range(10):
        issue(social_security, minute)
    picture = selectors.hall_picture(social_security.site, now=at(9, 30))
    a_queue = next(row for row in picture.categories if row.category.prefix == "A")
    # Then the monitor flags A and offers the standby 潮汐岗 (window 6) first
    assert (a_queue.waiting, a_queue.over_threshold, a_queue.longest_wait_minutes) == (10, True, 30)
    assert [(candidate["window"].number, candidate["reason"]) for candidate in a_queue.candidates][0] == (
        6,
        "standby",
    )
    # When the supervisor opens window 6 for A
    actions.open_window_for_category(supervisor, social_security, window_six)
    # Then window 6 calls A
    assert CategoryWindow.objects.get(category=social_security, window=window_six).is_standby is False
    with pytest.raises(Conflict):
        actions.open_window_for_category(supervisor, social_security, window_six)
    actions.close_window_for_category(supervisor, social_security, window_six)
    assert CategoryWindow.objects.get(category=social_security, window=window_six).is_standby is True


def test_a_clerk_cannot_open_tidal_windows(clerk, social_security, window_six) -> None:
    with pytest.raises(PermissionRefused):
        actions.open_window_for_category(clerk, social_security, window_six)
    assert CategoryWindow.objects.get(category=social_security, window=window_six).is_standby is True


# ---------------------------------------------------------------------------------------------
# Appointments


def test_slots_follow_opening_hours_and_windows(social_security) -> None:
    # Two calling windows × (30 / 8 = 3 per slot) × 50% = 3 per slot; 6 morning + 8 afternoon slots
    slots = actions.available_slots(social_security, MONDAY)
    assert len(slots) == 14
    assert (slots[0].starts_at, slots[0].ends_at, slots[0].capacity) == (dt.time(9), dt.time(9, 30), 3)
    assert (slots[6].starts_at, slots[-1].ends_at) == (dt.time(13, 30), dt.time(17, 30))


def test_a_holiday_and_a_weekend_have_no_slots(social_security) -> None:
    assert actions.available_slots(social_security, NATIONAL_DAY) == []
    assert actions.available_slots(social_security, MONDAY + dt.timedelta(days=6)) == []
    with pytest.raises(ActionRefused) as refusal:
        actions.book_appointment(social_security, NATIONAL_DAY, dt.time(9), "13800138000", now=at(9))
    assert refusal.value.code == "no_such_slot"


def test_booking_fills_a_slot_and_then_refuses(social_security) -> None:
    tuesday = MONDAY + dt.timedelta(days=1)
    for number in range(3):
        actions.book_appointment(social_security, tuesday, dt.time(9), f"1380013800{number}", now=at(9))
    with pytest.raises(Conflict) as refusal:
        actions.book_appointment(social_security, tuesday, dt.time(9), "13800138009", now=at(9))
    assert refusal.value.message == "该时段已约满，请选择其他时段。"
    assert actions.available_slots(social_security, tuesday)[0].available == 0


def test_change_cancel_and_find_need_reference_and_phone(social_security) -> None:
    tuesday = MONDAY + dt.timedelta(days=1)
    appointment = actions.book_appointment(social_security, tuesday, dt.time(9), "13800138000", now=at(9))
    with pytest.raises(NotFound):
        actions.find_appointment(appointment.reference, "13900139000")
    with pytest.raises(NotFound):
        actions.find_appointment("'; DROP--", "13800138000")
    found = actions.find_appointment(appointment.reference.lower(), "138-0013-8000")
    changed = actions.change_appointment(found, tuesday, dt.time(10), now=at(9, 5))
    assert (changed.slot_start, changed.slot_end) == (dt.time(10), dt.time(10, 30))
    slots = {slot.starts_at: slot.booked for slot in actions.available_slots(social_security, tuesday)}
    assert (slots[dt.time(9)], slots[dt.time(10)]) == (0, 1)
    cancelled = actions.cancel_appointment(changed, now=at(9, 6))
    assert cancelled.status == AppointmentStatus.CANCELLED
    with pytest.raises(Conflict):
        actions.cancel_appointment(cancelled, now=at(9, 7))


def test_check_in_window_early_late_and_the_ticket_it_makes(at_window, clerk, social_security) -> None:
    appointment = actions.book_appointment(social_security, MONDAY, dt.time(10, 30), "13800138000", now=at(9))
    with pytest.raises(ActionRefused) as early:
        actions.check_in(appointment, now=at(9, 59))
    assert early.value.message == "签到时间未到：最早可在 10:00 签到。"
    ordinary = issue(social_security, 45)
    ticket = actions.check_in(appointment, now=at(10, 0))
    assert (ticket.lane, ticket.lane_rank, ticket.appointment_id, ticket.number) == (
        Lane.APPOINTMENT,
        0,
        appointment.pk,
        "A002",
    )
    # The appointment ticket is called before the ordinary one taken earlier
    assert actions.call_next(clerk, at_window, now=at(10, 1)).pk == ticket.pk
    assert ordinary.status == TicketStatus.WAITING
    late = actions.book_appointment(social_security, MONDAY, dt.time(11), "13800138001", now=at(9))
    with pytest.raises(ActionRefused) as too_late:
        actions.check_in(late, now=at(11, 16))
    assert too_late.value.code == "check_in_too_late"


def test_the_sweep_marks_missed_appointments_as_no_show(social_security) -> None:
    appointment = actions.book_appointment(social_security, MONDAY, dt.time(10), "13800138000", now=at(9))
    assert actions.sweep(now=at(10, 15)).appointment_no_shows == 0
    assert actions.sweep(now=at(10, 16)).appointment_no_shows == 1
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.NO_SHOW
    assert actions.sweep(now=at(10, 17)).appointment_no_shows == 0


def test_the_sweep_closes_tickets_left_from_a_past_day(social_security) -> None:
    ticket = issue(social_security, 1)
    result = actions.sweep(now=at(9, 0, MONDAY + dt.timedelta(days=1)))
    ticket.refresh_from_db()
    assert (result.tickets_closed, ticket.status) == (1, TicketStatus.CANCELLED)
    assert Ticket.objects.filter(status=TicketStatus.WAITING).count() == 0
