"""限时办结制: due dates from the working-day calendar; the clock stops while waiting for the applicant.

Dates are around China's 2025 National Day holiday: 10-01..10-08 off, with Sunday 09-28 and Saturday
10-11 as working days (调休).
"""

from __future__ import annotations

import pytest

from servicehall.cases import actions
from servicehall.cases.models import ApplicantMessage, ClockSegment, ExtensionRequest, Notification
from servicehall.cases.supervise import supervise
from servicehall.lib.errors import ActionRefused, PermissionRefused
from tests.cases.conftest import all_received, check_of, fresh, person, received_except


def accepted_case(clerk, item, at, day: str):
    with at(day):
        case = actions.open_case(clerk, item, person())
        actions.accept(clerk, case, case.version, updates=all_received(case))
    return fresh(case)


def test_due_dates_count_working_days_across_the_national_day_holiday(clerk, committed_item, at) -> None:
    # When a 5-day item (statutory 20) is accepted on Thursday 09-25
    case = accepted_case(clerk, committed_item, at, "2025-09-25")
    # Then 09-26, Sunday 09-28 (调休), 09-29, 09-30 and 10-09 are its five working days
    assert case.committed_due.isoformat() == "2025-10-09"
    assert case.statutory_due.isoformat() == "2025-10-29"
    assert case.due_is_provisional is False
    # And it turns yellow on 09-29, when only two working days (09-30 and 10-09) are left
    assert case.yellow_from.isoformat() == "2025-09-29"


def test_a_case_accepted_on_the_eve_of_the_holiday_counts_the_working_saturday(
    clerk, committed_item, at
) -> None:
    case = accepted_case(clerk, committed_item, at, "2025-09-30")
    # 10-09, 10-10, Saturday 10-11 (调休), 10-13, 10-14
    assert case.committed_due.isoformat() == "2025-10-14"


def test_the_clock_stops_for_a_supplement_after_acceptance_across_the_holiday_and_resumes(
    clerk, committed_item, at
) -> None:
    case = accepted_case(clerk, committed_item, at, "2025-09-25")
    # Given on Friday 09-26 the back office finds the form defective: a 补正 after acceptance
    with at("2025-09-26", "15:00"):
        notice = actions.request_supplement(
            clerk,
            case,
            case.version,
            updates=[actions.MaterialUpdate(check_of(case, "申请表").pk, "defective", defect="缺少单位盖章")],
        )
    case = fresh(case)
    # Then the case is suspended with its clock stopped after one working day (09-26)
    assert notice.kind == "one_time"
    assert (case.state, case.clock_running, case.working_days_used) == ("suspended", False, 1)
    assert case.resume_state == "accepted"
    segment = ClockSegment.objects.get(case=case, ended_at__isnull=False)
    assert (segment.started_on.isoformat(), segment.ended_on.isoformat(), segment.working_days) == (
        "2025-09-25",
        "2025-09-26",
        1,
    )
    # When the applicant answers on Saturday 10-11, a working day after the 调休 Sunday and the holiday
    with at("2025-10-11", "09:30"):
        actions.receive_supplement(
            clerk,
            case,
            case.version,
            [actions.MaterialUpdate(check_of(case, "申请表").pk, "received", resubmitted=True)],
        )
    case = fresh(case)
    # Then the clock resumes with the four days left: 10-13, 10-14, 10-15, 10-16
    assert (case.state, case.clock_running, case.visit_count) == ("accepted", True, 2)
    assert case.committed_due.isoformat() == "2025-10-16"
    # And the 19 statutory days left run from 10-13 to 11-06
    assert case.statutory_due.isoformat() == "2025-11-06"
    assert case.yellow_from.isoformat() == "2025-10-14"
    # And the working days 09-28, 09-29, 09-30, 10-09 and 10-10 did not count
    assert actions.working_days_consumed(case, fresh(case).segment_started_on) == 1
    assert [
        (segment.started_on.isoformat(), segment.ended_on.isoformat() if segment.ended_on else None)
        for segment in case.clock_segments.all()
    ] == [("2025-09-25", "2025-09-26"), ("2025-10-11", None)]
    # And every stop and resume is in the history
    assert [event.action for event in case.events.order_by("id")] == [
        "open",
        "accept",
        "request_supplement",
        "receive_supplement",
    ]
    stop = case.events.get(action="request_supplement")
    assert (stop.from_state, stop.to_state, stop.after["clock_stopped"]) == ("accepted", "suspended", True)


def test_stopping_on_the_eve_of_the_holiday_and_resuming_after_it(clerk, committed_item, at) -> None:
    case = accepted_case(clerk, committed_item, at, "2025-09-25")
    with at("2025-09-30"):
        actions.request_supplement(
            clerk,
            case,
            case.version,
            updates=[actions.MaterialUpdate(check_of(case, "劳动合同").pk, "defective", defect="页数不全")],
        )
    # 09-26, 09-28 (调休), 09-29, 09-30 used
    assert fresh(case).working_days_used == 4
    with at("2025-10-09"):
        actions.receive_supplement(clerk, case, fresh(case).version, [])
    # One day left after 10-09
    assert fresh(case).committed_due.isoformat() == "2025-10-10"


def test_an_immediate_item_is_due_the_same_day_and_stays_in_one_visit(clerk, immediate_item, at) -> None:
    with at("2025-09-26"):
        case = actions.open_case(clerk, immediate_item, person())
        actions.accept(clerk, case, case.version, updates=all_received(case))
        case = fresh(case)
        assert case.committed_due.isoformat() == "2025-09-26"
        assert case.statutory_due.isoformat() == "2025-09-26"
        assert case.yellow_from is None
        # The 即办件 is finished at the window: no supplement after acceptance, no approval, no extension
        with pytest.raises(ActionRefused) as refused:
            actions.request_supplement(
                clerk,
                case,
                case.version,
                updates=[actions.MaterialUpdate(check_of(case, "居民身份证").pk, "defective", defect="过期")],
            )
        assert refused.value.message == "即办件须当场办结，受理后不能再要求补正。"
        with pytest.raises(ActionRefused) as refused:
            actions.start_approval(
                clerk, case, case.version, "parallel", [actions.TaskPlan(case.department_id, 1)]
            )
        assert refused.value.message == "即办件由窗口当场办结，不提交后台审批。"
        with pytest.raises(ActionRefused) as refused:
            actions.request_extension(clerk, case, case.version, 1, "来不及")
        assert refused.value.message == "即办件须当场办结，不能延期。"
        # The clerk decides and completes it on the spot
        actions.decide_case(clerk, case, case.version, True, "")
        actions.complete(clerk, case, fresh(case).version)
    case = fresh(case)
    assert (case.state, case.completed_on_time, case.working_days_taken, case.visit_count) == (
        "completed",
        True,
        0,
        1,
    )


def test_an_immediate_case_left_open_overnight_turns_red(clerk, immediate_item, at) -> None:
    with at("2025-09-26"):
        case = actions.open_case(clerk, immediate_item, person())
        actions.accept(clerk, case, case.version, updates=all_received(case))
        assert supervise().red_cards == 0
    with at("2025-09-27", "08:00"):
        assert supervise().red_cards == 1


# ---------------------------------------------------------------------------------------------
# Extensions


def test_an_extension_needs_a_reason_and_a_supervisor_and_moves_the_due_dates(
    clerk, supervisor, committed_item, at
) -> None:
    case = accepted_case(clerk, committed_item, at, "2025-09-25")
    with at("2025-09-26"):
        # A reason is required
        with pytest.raises(ActionRefused) as refused:
            actions.request_extension(clerk, case, case.version, 3, " ")
        assert refused.value.field == "reason"
        request = actions.request_extension(clerk, case, case.version, 3, "需现场核查用人单位")
        # The clerk cannot approve it
        with pytest.raises(PermissionRefused):
            actions.decide_extension(clerk, request, True)
        assert fresh(case).committed_due.isoformat() == "2025-10-09"
        # The window supervisor approves it
        actions.decide_extension(supervisor, request, True, "同意延长")
    case = fresh(case)
    # Then three more working days: 10-10, 10-11 (调休), 10-13
    assert case.extension_days == 3
    assert case.committed_due.isoformat() == "2025-10-13"
    assert case.statutory_due.isoformat() == "2025-11-03"
    assert ExtensionRequest.objects.get().status == "approved"
    assert [event.action for event in case.events.order_by("id")][-2:] == [
        "request_extension",
        "decide_extension",
    ]
    decided = case.events.get(action="decide_extension")
    assert (decided.before["committed_due"], decided.after["committed_due"]) == ("2025-10-09", "2025-10-13")
    # And the supervisor was notified of the request, the clerk of the decision
    assert Notification.objects.filter(recipient=supervisor, kind="extension_requested").count() == 1
    assert Notification.objects.filter(recipient=clerk, kind="extension_decided").count() == 1
    assert ApplicantMessage.objects.filter(kind="extended").count() == 1


def test_an_extension_can_never_exceed_the_statutory_extension(clerk, supervisor, committed_item, at) -> None:
    case = accepted_case(clerk, committed_item, at, "2025-09-25")
    with at("2025-09-26"):
        with pytest.raises(ActionRefused) as refused:
            actions.request_extension(clerk, case, case.version, 11, "材料复杂")
        assert (
            refused.value.message
            == "延期不能超过法定可延长期限：本事项最多可延长 10 个工作日，尚可延长 10 个工作日。"
        )
        request = actions.request_extension(clerk, case, case.version, 4, "材料复杂")
        actions.decide_extension(supervisor, request, True)
        with pytest.raises(ActionRefused) as refused:
            actions.request_extension(clerk, case, fresh(case).version, 7, "仍需核查")
        assert (
            refused.value.message
            == "延期不能超过法定可延长期限：本事项最多可延长 10 个工作日，尚可延长 6 个工作日。"
        )
    assert fresh(case).extension_days == 4


def test_an_item_without_a_statutory_extension_allows_none(clerk, committed_item, at) -> None:
    committed_item.case_setting.delete()
    case = accepted_case(clerk, committed_item, at, "2025-09-25")
    with pytest.raises(ActionRefused) as refused:
        actions.request_extension(clerk, case, case.version, 1, "需核查")
    assert (
        refused.value.message
        == "延期不能超过法定可延长期限：本事项最多可延长 0 个工作日，尚可延长 0 个工作日。"
    )


def test_a_supervisor_cannot_approve_their_own_extension(supervisor, committed_item, at) -> None:
    case = accepted_case(supervisor, committed_item, at, "2025-09-25")
    request = actions.request_extension(supervisor, case, case.version, 2, "需核查")
    with pytest.raises(PermissionRefused) as refused:
        actions.decide_extension(supervisor, request, True)
    assert refused.value.message == "不能审批自己提出的延期申请。"
    assert ExtensionRequest.objects.get().status == "pending"


def test_a_rejected_extension_needs_a_note_and_changes_no_date(clerk, supervisor, committed_item, at) -> None:
    case = accepted_case(clerk, committed_item, at, "2025-09-25")
    request = actions.request_extension(clerk, case, case.version, 2, "需核查")
    with pytest.raises(ActionRefused):
        actions.decide_extension(supervisor, request, False, "")
    actions.decide_extension(supervisor, request, False, "理由不充分")
    assert fresh(case).committed_due.isoformat() == "2025-10-09"
    assert ExtensionRequest.objects.get().status == "rejected"


# ---------------------------------------------------------------------------------------------
# 容缺: the deadline lapses, the case is suspended, the clock stops


def test_a_lapsed_deferred_deadline_suspends_the_case_and_tells_the_applicant_and_the_first_handler(
    clerk, committed_item, at
) -> None:
    with at("2025-09-26"):
        case = actions.open_case(clerk, committed_item, person())
        actions.accept_with_deferred(clerk, case, 1, 3, updates=received_except(case, "劳动合同"))
    assert fresh(case).deferred_due.isoformat() == "2025-09-30"
    # When the sweep runs on the last day, nothing happens yet
    with at("2025-09-30", "18:00"):
        assert supervise().deferred_lapsed == 0
    # When it runs on 10-01 (a holiday: the sweep runs every day)
    with at("2025-10-01", "00:05"):
        result = supervise()
    case = fresh(case)
    # Then the case is suspended; 09-28 (调休), 09-29 and 09-30 were used
    assert result.deferred_lapsed == 1
    assert (case.state, case.suspension_reason, case.clock_running, case.working_days_used) == (
        "suspended",
        "deferred_lapse",
        False,
        3,
    )
    # And the 首办责任人 and the applicant are told
    assert list(Notification.objects.filter(kind="deferred_lapsed").values_list("recipient", flat=True)) == [
        clerk.pk
    ]
    assert ApplicantMessage.objects.filter(kind="deferred_lapsed").get().text == (
        f"办件 {case.number} 容缺材料未在 2025-09-30 前补齐，已中止办理（计时暂停）。补齐材料后恢复办理。"
    )
    # And a second sweep records nothing
    with at("2025-10-02"):
        assert supervise().recorded_anything is False
    # When the applicant brings the contract on 10-10, the clock resumes with 2 days: 10-11 (调休), 10-13
    with at("2025-10-10"):
        with pytest.raises(ActionRefused) as refused:
            actions.receive_supplement(clerk, case, case.version, [])
        assert refused.value.message == "该办件因容缺材料逾期中止，请登记“补齐容缺材料”。"
        actions.supply_deferred(
            clerk, case, case.version, [actions.MaterialUpdate(check_of(case, "劳动合同").pk, "received")]
        )
    case = fresh(case)
    assert (case.state, case.deferred_due, case.visit_count) == ("accepted", None, 2)
    assert case.committed_due.isoformat() == "2025-10-13"


def test_supplying_deferred_material_in_time_keeps_the_clock_running(clerk, committed_item, at) -> None:
    with at("2025-09-26"):
        case = actions.open_case(clerk, committed_item, person())
        actions.accept_with_deferred(clerk, case, 1, 3, updates=received_except(case, "劳动合同"))
    with at("2025-09-29"):
        # An update that leaves it missing is refused
        with pytest.raises(ActionRefused) as refused:
            actions.supply_deferred(clerk, case, fresh(case).version, [])
        assert refused.value.message == "仍有材料未补齐：劳动合同。"
        actions.supply_deferred(
            clerk,
            case,
            fresh(case).version,
            [actions.MaterialUpdate(check_of(case, "劳动合同").pk, "received")],
        )
    case = fresh(case)
    assert (case.state, case.clock_running, case.committed_due.isoformat()) == (
        "accepted",
        True,
        "2025-10-10",
    )
    with at("2025-10-01"):
        assert supervise().deferred_lapsed == 0


def test_a_deferred_deadline_not_yet_passed_stays_watched(clerk, committed_item, at) -> None:
    with at("2025-09-26"):
        case = actions.open_case(clerk, committed_item, person())
        actions.accept_with_deferred(clerk, case, 1, 3, updates=received_except(case, "劳动合同"))
    # When the lapse is tried on the last day (a sweep that read the case just before midnight)
    with at("2025-09-30", "23:59"):
        assert actions.lapse_deferred(case.pk) is False
    # Then the case is still watched, and the next day's sweep suspends it
    assert (fresh(case).deferred_lapsed, fresh(case).state) == (False, "accepted_deferred")
    with at("2025-10-01", "00:05"):
        assert supervise().deferred_lapsed == 1
    assert (fresh(case).state, fresh(case).deferred_lapsed) == ("suspended", True)
