"""取号 and 叫号: numbers, opening hours, the serving order with its anti-starvation rule, counter faults."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from servicehall.audit.models import AuditRecord
from servicehall.cases.models import Inquiry, InquiryChannel
from servicehall.lib.errors import ActionRefused, Conflict, PermissionRefused
from servicehall.queueing import actions
from servicehall.queueing.models import (
    TRANSITIONS,
    EventKind,
    Lane,
    Ticket,
    TicketStatus,
    VisitEvent,
    WindowState,
    WindowStatus,
)
from servicehall.workdays.models import CalendarOverride
from tests.queueing.conftest import MONDAY, NATIONAL_DAY, at, issue

pytestmark = pytest.mark.django_db


def counts() -> tuple[int, int, int]:
    return (
        Ticket.objects.count(),
        VisitEvent.objects.count(),
        AuditRecord.objects.exclude(action="access.denied").count(),
    )


# ---------------------------------------------------------------------------------------------
# Issuing


def test_numbers_are_prefix_plus_daily_sequence_per_category(social_security, household) -> None:
    # Given two queues; When five tickets are taken across them
    numbers = [issue(social_security, 1).number, issue(social_security, 2).number, issue(household, 3).number]
    numbers.append(issue(social_security, 4).number)
    # Then each category counts on its own from 001
    assert numbers == ["A001", "A002", "B001", "A003"]
    # And the next day starts again at 001
    tuesday_ticket = actions.issue_ticket(None, social_security, now=at(9, 5, MONDAY + dt.timedelta(days=1)))
    assert tuesday_ticket.number == "A001"
    assert tuesday_ticket.service_date == MONDAY + dt.timedelta(days=1)


def test_issue_writes_one_issued_event_and_masks_the_phone(social_security) -> None:
    # When a visitor gives a phone number at the kiosk
    ticket = issue(social_security, 5, phone="138 0013 8000")
    # Then it is stored normalised, shown masked, and the visit has one "issued" event
    assert ticket.phone == "13800138000"
    assert ticket.masked_phone == "138****8000"
    assert list(VisitEvent.objects.values_list("kind", "ticket_id")) == [(EventKind.ISSUED, ticket.pk)]


@pytest.mark.parametrize(
    ("moment", "code", "message"),
    [
        (
            at(8, 59),
            "outside_opening_hours",
            "现在不在办公时间内，今天的办公时间：09:00–12:00、13:30–17:30。",
        ),
        (
            at(12, 30),
            "outside_opening_hours",
            "现在不在办公时间内，今天的办公时间：09:00–12:00、13:30–17:30。",
        ),
        (
            at(10, 0, MONDAY + dt.timedelta(days=5)),
            "outside_opening_hours",
            "三角镇便民服务中心 今天不办公。",
        ),
        (at(10, 0, NATIONAL_DAY), "holiday", "今天是法定节假日，三角镇便民服务中心 不办公，请在工作日前来。"),
    ],
)
def test_issue_is_refused_when_the_site_is_closed(social_security, moment, code, message) -> None:
    # When a ticket is asked for outside opening hours, on a Saturday or on a holiday
    with pytest.raises(ActionRefused) as refusal:
        actions.issue_ticket(None, social_security, now=moment)
    # Then the answer says why, and nothing was written
    assert refusal.value.code == code
    assert refusal.value.message == message
    assert counts() == (0, 0, 0)


def test_a_swapped_working_saturday_opens_with_monday_hours(social_security) -> None:
    # Given Saturday 8 March declared a working day (调休)
    CalendarOverride.objects.create(date=dt.date(2025, 3, 8), is_working_day=True, name="调休")
    from servicehall.workdays import service

    service.invalidate()
    # When a ticket is taken at 10:00 that Saturday
    ticket = actions.issue_ticket(None, social_security, now=at(10, 0, dt.date(2025, 3, 8)))
    # Then it is issued
    assert ticket.number == "A001"
    service.invalidate()


def test_issue_is_refused_for_an_inactive_site(social_security, town_site) -> None:
    town_site.is_active = False
    town_site.save()
    with pytest.raises(ActionRefused) as refusal:
        issue(social_security, 1)
    assert refusal.value.code == "site_closed"
    assert counts() == (0, 0, 0)


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"phone": "12345"}, "invalid_phone"),
        ({"phone": "1380013800\x00"}, "invalid_phone"),
        ({"phone": ["13800138000"]}, "invalid_phone"),
        ({"lane": "vip"}, "invalid_lane"),
        ({"lane": "priority", "priority_group": "celebrity"}, "invalid_priority_group"),
        ({"lane": "priority", "priority_group": "urgent"}, "invalid_priority_group"),
        ({"lane": "ordinary", "priority_group": "elderly"}, "invalid_priority_group"),
        ({"channel": "fax"}, "invalid_channel"),
    ],
)
def test_garbage_kiosk_input_is_refused_and_changes_nothing(social_security, fields, code) -> None:
    with pytest.raises(ActionRefused) as refusal:
        issue(social_security, 1, **fields)
    assert refusal.value.code == code
    assert counts() == (0, 0, 0)


def test_guide_desk_issue_needs_the_capability(social_security, clerk, guide, supervisor) -> None:
    # Given a guide (ISSUE_TICKETS) and the site's supervisor
    # When the guide issues a priority ticket for an elderly visitor
    ticket = actions.issue_ticket(
        guide, social_security, channel="guide_desk", lane="priority", priority_group="elderly", now=at(9, 30)
    )
    # Then it is in the priority lane and the event names the guide
    assert (ticket.lane, ticket.lane_rank, ticket.priority_group) == (Lane.PRIORITY, 0, "elderly")
    assert VisitEvent.objects.get(ticket=ticket).clerk_id == guide.pk


# ---------------------------------------------------------------------------------------------
# Calling


def test_call_next_takes_the_longest_waiting_and_announces_it(at_window, clerk, social_security) -> None:
    first, second = issue(social_security, 1), issue(social_security, 2)
    ticket = actions.call_next(clerk, at_window, now=at(9, 10))
    assert ticket.pk == first.pk
    first.refresh_from_db()
    assert (first.status, first.window_id, first.clerk_id, first.call_count) == (
        TicketStatus.CALLED,
        at_window.pk,
        clerk.pk,
        1,
    )
    assert first.called_at == at(9, 10)
    second.refresh_from_db()
    assert second.status == TicketStatus.WAITING
    state = WindowState.objects.get(window=at_window)
    assert (state.status, state.current_ticket_id) == (WindowStatus.SERVING, first.pk)
    assert actions.call_text("A001", 3) == "请 A001 号到 3 号窗口办理"


def test_priority_before_ordinary_but_never_more_than_three_in_a_row(
    at_window, clerk, social_security
) -> None:
    # Given two ordinary tickets taken first, then five elderly visitors (priority lane)
    ordinary = [issue(social_security, minute) for minute in (1, 2)]
    priority = [
        issue(social_security, 3 + minute, lane="priority", priority_group="elderly") for minute in range(5)
    ]
    called = []
    current = None
    # When the window calls seven times in a row (each call passes over the one before)
    for step in range(7):
        current = actions.call_next(
            clerk, at_window, expected_current_id=current.pk if current else None, now=at(9, 10 + step)
        )
        called.append(current.number)
    # Then three priority tickets, then the oldest ordinary one, then priority again
    assert called == ["A003", "A004", "A005", "A001", "A006", "A007", "A002"]
    assert [ticket.number for ticket in ordinary + priority][:2] == ["A001", "A002"]


def test_passing_over_records_the_no_show_before_the_call_and_the_window_counts_its_priority_streak(
    at_window, clerk, social_security
) -> None:
    # Given two priority tickets and the first of them called
    issue(social_security, 1, lane="priority", priority_group="elderly")
    issue(social_security, 2, lane="priority", priority_group="elderly")
    first = actions.call_next(clerk, at_window, now=at(9, 10))
    assert WindowState.objects.get(window=at_window).priority_streak == 1
    # When "next" is pressed while it is still only called
    second = actions.call_next(clerk, at_window, expected_current_id=first.pk, now=at(9, 11))
    # Then the first is a no-show, recorded before the second call, and the streak is two
    events = list(
        VisitEvent.objects.filter(ticket__in=[first.pk, second.pk], kind__in=["no_show", "called"])
        .order_by("pk")
        .values_list("ticket_id", "kind", "detail", "window_id", "clerk_id")
    )
    assert events == [
        (first.pk, "called", {}, at_window.pk, clerk.pk),
        (first.pk, "no_show", {"by": "call_next"}, at_window.pk, clerk.pk),
        (second.pk, "called", {}, at_window.pk, clerk.pk),
    ]
    state = WindowState.objects.get(window=at_window)
    assert (state.current_ticket_id, state.status, state.priority_streak) == (
        second.pk,
        WindowStatus.SERVING,
        2,
    )


def test_an_empty_queue_refuses_and_leaves_the_unanswered_call_as_it_was(
    at_window, clerk, social_security
) -> None:
    only = issue(social_security, 1)
    first = actions.call_next(clerk, at_window, now=at(9, 10))
    assert first.pk == only.pk
    events_before = VisitEvent.objects.count()
    with pytest.raises(ActionRefused) as refusal:
        actions.call_next(clerk, at_window, expected_current_id=first.pk, now=at(9, 11))
    assert refusal.value.code == "queue_empty"
    only.refresh_from_db()
    assert only.status == TicketStatus.CALLED
    assert VisitEvent.objects.count() == events_before
    assert WindowState.objects.get(window=at_window).current_ticket_id == first.pk


def test_an_ordinary_ticket_waiting_past_the_limit_is_called_before_priority(
    at_window, clerk, social_security
) -> None:
    # Given an ordinary ticket taken at 9:00 and a priority ticket at 9:20
    old = issue(social_security, 0)
    issue(social_security, 20, lane="priority", priority_group="pregnant")
    # When the window calls at 9:25 (25 minutes < 30): the priority ticket goes first
    first = actions.call_next(clerk, at_window, now=at(9, 25))
    assert first.number == "A002"
    # Given a second priority ticket and the ordinary one now waiting 31 minutes
    issue(social_security, 26, lane="priority", priority_group="pregnant")
    second = actions.call_next(clerk, at_window, expected_current_id=first.pk, now=at(9, 31))
    # Then the ordinary ticket is called first
    assert second.pk == old.pk


def test_double_clicking_call_is_refused_and_changes_nothing(at_window, clerk, social_security) -> None:
    issue(social_security, 1)
    issue(social_security, 2)
    first = actions.call_next(clerk, at_window, now=at(9, 10))
    before = (counts(), list(Ticket.objects.order_by("pk").values_list("status", flat=True)))
    # When the same press arrives again (the page still showed no current ticket)
    with pytest.raises(Conflict) as refusal:
        actions.call_next(clerk, at_window, now=at(9, 10))
    # Then it is refused with the number already called, and nothing changed
    assert refusal.value.code == "already_called"
    assert refusal.value.message == "A001 已在本窗口叫号，请勿重复点击。"
    assert (counts(), list(Ticket.objects.order_by("pk").values_list("status", flat=True))) == before
    assert first.number == "A001"


def test_calling_next_over_an_unanswered_call_marks_it_no_show(at_window, clerk, social_security) -> None:
    issue(social_security, 1)
    issue(social_security, 2)
    first = actions.call_next(clerk, at_window, now=at(9, 10))
    second = actions.call_next(clerk, at_window, expected_current_id=first.pk, now=at(9, 12))
    first.refresh_from_db()
    assert (first.status, second.number) == (TicketStatus.NO_SHOW, "A002")
    assert list(VisitEvent.objects.filter(ticket=first).values_list("kind", flat=True)) == [
        EventKind.ISSUED,
        EventKind.CALLED,
        EventKind.NO_SHOW,
    ]


def test_calling_next_while_serving_is_refused(at_window, clerk, social_security) -> None:
    issue(social_security, 1)
    issue(social_security, 2)
    first = actions.call_next(clerk, at_window, now=at(9, 10))
    actions.start_service(clerk, at_window, now=at(9, 11))
    with pytest.raises(ActionRefused) as refusal:
        actions.call_next(clerk, at_window, expected_current_id=first.pk, now=at(9, 12))
    assert refusal.value.code == "ticket_serving"
    assert Ticket.objects.get(number="A002").status == TicketStatus.WAITING


def test_calling_an_empty_queue_is_refused_and_changes_nothing(at_window, clerk) -> None:
    before = counts()
    with pytest.raises(ActionRefused) as refusal:
        actions.call_next(clerk, at_window, now=at(9, 10))
    assert refusal.value.code == "queue_empty"
    assert refusal.value.message == "3 号窗口的业务当前没有等候的号。"
    assert counts() == before
    assert WindowState.objects.get(window=at_window).status == WindowStatus.IDLE


def test_calling_from_a_window_that_is_not_yours_is_refused_and_audited(
    at_window, second_clerk, window_four, social_security
) -> None:
    issue(social_security, 1)
    before = counts()
    # When a clerk who is not signed in at window 3 calls from it
    with pytest.raises(PermissionRefused) as refusal:
        actions.call_next(second_clerk, at_window, now=at(9, 10))
    # Then it is refused, nothing changed, and only the refusal is on record
    assert refusal.value.code == "not_your_window"
    assert refusal.value.message == "您没有在 3 号窗口签到，不能在此窗口操作。"
    assert counts() == before
    denied = AuditRecord.objects.get(action="access.denied")
    assert denied.after["reason"] == "not_signed_in_at_window"


def test_other_site_clerk_cannot_see_the_window(at_window, other_site_clerk, social_security) -> None:
    from servicehall.lib.errors import NotFound

    with pytest.raises(NotFound):
        actions.call_next(other_site_clerk, at_window, now=at(9, 10))


def test_a_paused_window_cannot_call(at_window, clerk, social_security) -> None:
    issue(social_security, 1)
    actions.pause(clerk, at_window, reason="取资料", whereabouts="档案室", now=at(9, 5))
    with pytest.raises(ActionRefused) as refusal:
        actions.call_next(clerk, at_window, now=at(9, 10))
    assert refusal.value.code == "window_paused"
    assert Ticket.objects.get().status == TicketStatus.WAITING


def test_a_crash_inside_the_call_leaves_the_ticket_waiting(at_window, clerk, social_security) -> None:
    ticket = issue(social_security, 1)
    before = counts()

    def crash(_ticket: Any) -> None:
        raise RuntimeError("process killed")

    # When the process dies after the ticket's UPDATE but before the commit
    with pytest.raises(RuntimeError):
        actions.call_next(clerk, at_window, now=at(9, 10), after_update=crash)
    # Then the whole call rolled back: the ticket waits, the window is idle, no event was written
    ticket.refresh_from_db()
    assert (ticket.status, ticket.called_at, ticket.call_count) == (TicketStatus.WAITING, None, 0)
    assert counts() == before
    assert WindowState.objects.get(window=at_window).current_ticket_id is None
    # And the next call takes it normally
    assert actions.call_next(clerk, at_window, now=at(9, 11)).pk == ticket.pk


# ---------------------------------------------------------------------------------------------
# Recall, no-show, re-queue, start, finish, transfer


def test_recall_no_show_and_requeue_within_the_time(at_window, clerk, guide, social_security) -> None:
    ticket = issue(social_security, 1)
    actions.call_next(clerk, at_window, now=at(9, 10))
    actions.recall(clerk, at_window, now=at(9, 11))
    actions.mark_no_show(clerk, at_window, now=at(9, 12))
    ticket.refresh_from_db()
    assert (ticket.status, ticket.call_count) == (TicketStatus.NO_SHOW, 2)
    # When the visitor comes back 20 minutes later (within 30)
    actions.requeue_late_arrival(guide, ticket, now=at(9, 32))
    ticket.refresh_from_db()
    # Then the ticket waits again, at the back of its lane
    assert (ticket.status, ticket.queued_at, ticket.window_id) == (TicketStatus.WAITING, at(9, 32), None)
    assert list(VisitEvent.objects.filter(ticket=ticket).values_list("kind", flat=True)) == [
        "issued",
        "called",
        "recalled",
        "no_show",
        "requeued",
    ]


def test_requeue_after_the_time_is_refused(at_window, clerk, guide, social_security) -> None:
    ticket = issue(social_security, 1)
    actions.call_next(clerk, at_window, now=at(9, 10))
    actions.mark_no_show(clerk, at_window, now=at(9, 12))
    before = counts()
    with pytest.raises(ActionRefused) as refusal:
        actions.requeue_late_arrival(guide, ticket, now=at(9, 43))
    assert refusal.value.code == "requeue_too_late"
    assert refusal.value.message == "A001 过号已超过 30 分钟，请重新取号。"
    assert counts() == before


def test_start_and_finish_fire_the_hand_off_once(
    at_window, clerk, social_security, django_capture_on_commit_callbacks
) -> None:
    from servicehall.queueing.signals import service_finished

    received: list[Any] = []

    def listener(sender: Any, **kwargs: Any) -> None:
        received.append(kwargs)

    service_finished.connect(listener)
    try:
        ticket = issue(social_security, 1)
        inquiry = Inquiry.objects.create(
            site=social_security.site,
            channel=InquiryChannel.ONSITE,
            asker_name="张三",
            question="社保转移需要什么材料？",
            recorded_by=clerk,
            first_responder=clerk,
        )
        actions.call_next(clerk, at_window, now=at(9, 10))
        actions.start_service(
            clerk,
            at_window,
            linked_object_type="cases.inquiry",
            linked_object_id=str(inquiry.pk),
            now=at(9, 11),
        )
        with django_capture_on_commit_callbacks(execute=True):
            finished = actions.finish_service(clerk, at_window, ticket_id=ticket.pk, now=at(9, 20))
        # Then the ticket is finished, linked, and the hook got the visit
        finished.refresh_from_db()
        assert (finished.status, finished.linked_object_type, finished.linked_object_id) == (
            TicketStatus.FINISHED,
            "cases.inquiry",
            str(inquiry.pk),
        )
        assert len(received) == 1
        assert received[0]["visit"].pk == ticket.visit_id
        # When finish is pressed again for the same ticket
        before = counts()
        with pytest.raises(Conflict) as refusal:
            actions.finish_service(clerk, at_window, ticket_id=ticket.pk, now=at(9, 21))
        # Then it says so and nothing changed
        assert refusal.value.code == "already_finished"
        assert refusal.value.message == "A001 已经办结。"
        assert counts() == before
        with pytest.raises(ActionRefused) as second_refusal:
            actions.finish_service(clerk, at_window, now=at(9, 21))
        assert second_refusal.value.code == "no_current_ticket"
        assert len(received) == 1
    finally:
        service_finished.disconnect(listener)


def test_bad_link_is_refused(at_window, clerk, social_security) -> None:
    issue(social_security, 1)
    actions.call_next(clerk, at_window, now=at(9, 10))
    with pytest.raises(ActionRefused) as refusal:
        actions.start_service(
            clerk, at_window, linked_object_type="auth.user", linked_object_id="1", now=at(9, 11)
        )
    assert refusal.value.code == "invalid_link"
    assert Ticket.objects.get().status == TicketStatus.CALLED


def test_transfer_keeps_the_place_and_gives_priority(
    at_window, clerk, second_clerk, window_five, social_security, household
) -> None:
    # Given a B ticket taken at 9:05 and an A ticket taken at 9:01 served at window 3
    b_first = issue(household, 5)
    a_ticket = issue(social_security, 1)
    actions.call_next(clerk, at_window, now=at(9, 10))
    actions.start_service(clerk, at_window, now=at(9, 11))
    # When window 3 transfers the visitor to 户政 (B)
    new_ticket = actions.transfer(clerk, at_window, to_category=household, now=at(9, 15))
    # Then a new B ticket keeps the 9:01 place with transfer priority, on the same visit
    assert (new_ticket.number, new_ticket.lane, new_ticket.lane_rank) == ("B002", Lane.TRANSFERRED, 0)
    assert new_ticket.queued_at == at(9, 1)
    assert new_ticket.visit_id == a_ticket.visit_id
    a_ticket.refresh_from_db()
    assert a_ticket.status == TicketStatus.TRANSFERRED
    # And window 5 calls it before the B ticket that was waiting
    actions.sign_in(second_clerk, window_five, now=at(9, 0))
    assert actions.call_next(second_clerk, window_five, now=at(9, 16)).pk == new_ticket.pk
    assert b_first.status == TicketStatus.WAITING


def test_transfer_to_a_window_is_called_only_there(
    at_window, clerk, window_four, second_clerk, social_security
) -> None:
    issue(social_security, 1)
    actions.call_next(clerk, at_window, now=at(9, 10))
    new_ticket = actions.transfer(clerk, at_window, to_window=window_four, now=at(9, 12))
    assert (new_ticket.number, new_ticket.target_window_id) == ("A002", window_four.pk)
    # Window 3 itself does not get it back
    with pytest.raises(ActionRefused):
        actions.call_next(clerk, at_window, now=at(9, 13))
    actions.sign_in(second_clerk, window_four, now=at(9, 0))
    assert actions.call_next(second_clerk, window_four, now=at(9, 14)).pk == new_ticket.pk


def test_every_status_pair_outside_the_table_is_refused() -> None:
    statuses = list(TicketStatus)
    allowed = {(a, b) for a in statuses for b in statuses if actions.transition_allowed(a, b)}
    assert allowed == set(TRANSITIONS)
    assert (TicketStatus.FINISHED, TicketStatus.WAITING) not in allowed
    assert (TicketStatus.WAITING, TicketStatus.FINISHED) not in allowed


def test_cancel_only_while_waiting(at_window, clerk, social_security) -> None:
    waiting = issue(social_security, 1)
    called = issue(social_security, 2)
    actions.cancel_ticket(None, waiting, now=at(9, 5))
    actions.call_next(clerk, at_window, now=at(9, 10))
    with pytest.raises(Conflict) as refusal:
        actions.cancel_ticket(None, called, now=at(9, 11))
    assert refusal.value.message == "A002 当前状态为“已叫号”，不能取消。"
    waiting.refresh_from_db()
    assert waiting.status == TicketStatus.CANCELLED


# ---------------------------------------------------------------------------------------------
# Signing in


def test_one_clerk_per_window_and_one_window_per_clerk(
    clerk, second_clerk, window, window_four, social_security
) -> None:
    actions.sign_in(clerk, window, now=at(9))
    with pytest.raises(Conflict) as taken:
        actions.sign_in(second_clerk, window, now=at(9, 1))
    assert taken.value.code == "window_taken"
    with pytest.raises(Conflict) as elsewhere:
        actions.sign_in(clerk, window_four, now=at(9, 1))
    assert elsewhere.value.code == "signed_in_elsewhere"
    actions.sign_out(clerk, window, now=at(9, 2))
    assert WindowState.objects.get(window=window).status == WindowStatus.CLOSED
    assert list(
        AuditRecord.objects.filter(action__startswith="queueing.").values_list("action", flat=True)
    ) == [
        "queueing.window_signed_out",
        "queueing.window_signed_in",
    ]
