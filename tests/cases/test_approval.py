"""后台审批 in sequence or in parallel (并联审批, 联办件), 超时默认, completion, delivery, withdrawal, 绿色通道."""

from __future__ import annotations

import pytest

from servicehall.audit.models import AuditRecord
from servicehall.cases import actions
from servicehall.cases.models import (
    ApplicantMessage,
    ApprovalTask,
    Case,
    Inquiry,
    Notification,
    SupervisionCard,
)
from servicehall.cases.supervise import by_urgency, supervise
from servicehall.lib.errors import ActionRefused, Conflict, PermissionRefused
from servicehall.supervision.models import Violation
from tests.cases.conftest import all_received, check_of, fresh, organisation, person, received_except


def accepted(clerk, item, at, day, applicant=None):
    with at(day):
        case = actions.open_case(clerk, item, applicant or person())
        actions.accept(clerk, case, case.version, updates=all_received(case))
    return fresh(case)


def task_of(case, department):
    return ApprovalTask.objects.get(case=case, department=department)


def test_sequential_tasks_run_one_after_the_other_each_with_its_own_due_date(
    clerk, approver, second_approver, committed_item, department, second_department, at
) -> None:
    case = accepted(clerk, committed_item, at, "2025-09-25")
    with at("2025-09-25", "11:00"):
        actions.start_approval(
            clerk,
            case,
            case.version,
            "sequential",
            [actions.TaskPlan(department.pk, 2), actions.TaskPlan(second_department.pk, 2)],
        )
    first, second = task_of(case, department), task_of(case, second_department)
    # Then only the first is pending, due after two working days (09-26, Sunday 09-28)
    assert (first.status, first.due_date.isoformat()) == ("pending", "2025-09-28")
    assert (second.status, second.due_date) == ("waiting", None)
    assert fresh(case).state == "in_approval"
    # And the first department's approvers were told
    assert Notification.objects.filter(recipient=approver, kind="task_pending").count() == 1
    assert Notification.objects.filter(recipient=second_approver).count() == 0
    # When the first approves on 09-29
    with at("2025-09-29"):
        actions.decide_task(approver, first, first.version, True, "")
    second = task_of(case, second_department)
    # Then the second starts with its own due date: 09-30 and 10-09, across the holiday
    assert (second.status, second.activated_on.isoformat(), second.due_date.isoformat()) == (
        "pending",
        "2025-09-29",
        "2025-10-09",
    )
    assert fresh(case).state == "in_approval"
    with at("2025-10-09"):
        actions.decide_task(second_approver, second, second.version, True, "同意")
    case = fresh(case)
    assert (case.state, case.decision) == ("approved", "approve")
    assert case.decision_reason == "人力资源和社会保障局：同意；市场监督管理局：同意"


def test_parallel_approval_with_one_department_timing_out_is_deemed_approved_with_a_violation_against_it(
    clerk, supervisor, approver, second_approver, joint_item, department, second_department, at
) -> None:
    # Given a 联办件 (超时默认 applies) in parallel approval by two departments, each with 3 working days
    case = accepted(clerk, joint_item, at, "2025-09-25", organisation())
    with at("2025-09-25", "11:00"):
        actions.start_approval(
            clerk,
            case,
            case.version,
            "parallel",
            [actions.TaskPlan(department.pk, 3), actions.TaskPlan(second_department.pk, 3)],
        )
    assert {task.due_date.isoformat() for task in case.approval_tasks.all()} == {"2025-09-29"}
    # When the first department approves in time and the second does nothing
    with at("2025-09-26"):
        first = task_of(case, department)
        actions.decide_task(approver, first, first.version, True, "同意")
    with at("2025-09-29", "23:00"):
        assert supervise().tasks_deemed_approved == 0
    with at("2025-09-30", "00:05"):
        result = supervise()
    # Then the second task is deemed approved and recorded as such, and the case is approved
    second = task_of(case, second_department)
    assert result.tasks_deemed_approved == 1
    assert second.status == "deemed_approved"
    assert second.decided_by is None
    assert second.opinion == "超时未审批，按超时默认视为同意（服务承诺制“超时默认”）。"
    case = fresh(case)
    assert case.state == "approved"
    assert case.decision_reason == "人力资源和社会保障局：同意；市场监督管理局：超时默认同意"
    event = case.events.get(action="deem_task_approved")
    assert (event.actor, event.actor_label, event.from_state, event.to_state) == (
        None,
        "系统（电子监察）",
        "in_approval",
        "approved",
    )
    # And the department that timed out has a 超时 violation
    violation = Violation.objects.get()
    assert (violation.kind, violation.source, violation.department, violation.staff) == (
        "overdue",
        "deemed_approval",
        second_department,
        None,
    )
    assert violation.source_reference == f"task:{second.pk}"
    # And the first handler, the department's approvers and the 窗口负责人 were told
    assert set(
        Notification.objects.filter(kind="task_deemed_approved").values_list("recipient", flat=True)
    ) == {
        clerk.pk,
        second_approver.pk,
        supervisor.pk,
    }
    # And running the sweep again records nothing
    with at("2025-09-30", "00:10"):
        assert supervise().recorded_anything is False
    assert Violation.objects.count() == 1


def test_an_overdue_task_of_an_item_without_deemed_approval_gets_a_red_card_once(
    clerk, approver, supervisor, committed_item, department, at
) -> None:
    case = accepted(clerk, committed_item, at, "2025-09-25")
    with at("2025-09-25"):
        actions.start_approval(clerk, case, case.version, "parallel", [actions.TaskPlan(department.pk, 1)])
    with at("2025-09-29"):
        first = supervise()
        second = supervise()
    task = ApprovalTask.objects.get()
    assert (first.task_red_cards, first.tasks_deemed_approved) == (1, 0)
    assert second.recorded_anything is False
    assert (task.status, task.card_level) == ("pending", 2)
    card = SupervisionCard.objects.get(approval_task=task)
    assert (card.level, card.department, card.due_date.isoformat()) == (2, department, "2025-09-26")
    violation = Violation.objects.get()
    assert (violation.source, violation.source_reference, violation.department) == (
        "red_card",
        f"task:{task.pk}",
        department,
    )
    assert set(Notification.objects.filter(kind="task_red_card").values_list("recipient", flat=True)) == {
        clerk.pk,
        approver.pk,
        supervisor.pk,
    }
    # The approver can still act, late
    actions.decide_task(approver, task, task.version, True, "")
    assert fresh(case).state == "approved"


def test_one_refusal_decides_the_case_and_cancels_the_other_tasks(
    clerk, approver, second_approver, joint_item, department, second_department, at
) -> None:
    case = accepted(clerk, joint_item, at, "2025-09-25", organisation())
    actions.start_approval(
        clerk,
        case,
        case.version,
        "parallel",
        [actions.TaskPlan(department.pk, 3), actions.TaskPlan(second_department.pk, 3)],
    )
    task = task_of(case, second_department)
    # A refusal needs reasons
    with pytest.raises(ActionRefused) as refused:
        actions.decide_task(second_approver, task, task.version, False, "")
    assert refused.value.field == "opinion"
    actions.decide_task(second_approver, task, task.version, False, "经营范围涉及前置许可，未取得许可证。")
    case = fresh(case)
    assert (case.state, case.decision, case.decision_reason) == (
        "refused_after_review",
        "refuse",
        "经营范围涉及前置许可，未取得许可证。",
    )
    assert task_of(case, department).status == "cancelled"


def test_an_approver_of_another_department_cannot_decide(
    clerk, second_approver, committed_item, department, at
) -> None:
    case = accepted(clerk, committed_item, at, "2025-09-25")
    actions.start_approval(clerk, case, case.version, "parallel", [actions.TaskPlan(department.pk, 3)])
    task = ApprovalTask.objects.get()
    with pytest.raises(PermissionRefused) as refused:
        actions.decide_task(second_approver, task, task.version, True, "")
    assert refused.value.message == "只能审批本部门的任务。"
    assert ApprovalTask.objects.get().status == "pending"
    assert AuditRecord.objects.filter(action="access.denied").count() == 1


def test_a_stale_task_version_is_told_the_task_changed(
    clerk, approver, supervisor, committed_item, department, at
) -> None:
    case = accepted(clerk, committed_item, at, "2025-09-25")
    actions.start_approval(clerk, case, case.version, "parallel", [actions.TaskPlan(department.pk, 3)])
    task = ApprovalTask.objects.get()
    actions.decide_task(approver, task, 1, True, "")
    with pytest.raises(Conflict):
        actions.decide_task(supervisor, task, 1, False, "不同意")
    assert fresh(case).state == "approved"


@pytest.mark.parametrize(
    ("plans", "message"),
    [
        (lambda department, second: [actions.TaskPlan(department.pk, 3)], "联办件须由两个以上部门联合审批。"),
        (
            lambda department, second: [
                actions.TaskPlan(department.pk, 3),
                actions.TaskPlan(department.pk, 3),
            ],
            "同一部门不能重复审批。",
        ),
        (
            lambda department, second: [actions.TaskPlan(department.pk, 11), actions.TaskPlan(second.pk, 3)],
            "审批时限须在 1 至 10 之间。",
        ),
        (lambda department, second: [], "请至少指定一个审批部门。"),
    ],
)
def test_approval_plans_are_checked(
    clerk, joint_item, department, second_department, at, plans, message
) -> None:
    case = accepted(clerk, joint_item, at, "2025-09-25", organisation())
    with pytest.raises(ActionRefused) as refused:
        actions.start_approval(clerk, case, case.version, "parallel", plans(department, second_department))
    assert refused.value.message == message
    assert ApprovalTask.objects.count() == 0
    assert fresh(case).state == "accepted"


def test_a_department_of_another_town_cannot_be_asked(clerk, committed_item, other_town_site, at) -> None:
    from tests.factories import DepartmentFactory

    elsewhere = DepartmentFactory(site=other_town_site, code="XX")
    case = accepted(clerk, committed_item, at, "2025-09-25")
    with pytest.raises(ActionRefused) as refused:
        actions.start_approval(clerk, case, case.version, "parallel", [actions.TaskPlan(elsewhere.pk, 3)])
    assert refused.value.message == "审批部门无效。"


def test_a_clerk_cannot_decide_a_committed_item_without_the_back_office(
    clerk, supervisor, committed_item, at
) -> None:
    case = accepted(clerk, committed_item, at, "2025-09-25")
    with pytest.raises(PermissionRefused):
        actions.decide_case(clerk, case, case.version, True, "")
    actions.decide_case(supervisor, case, case.version, True, "")
    assert fresh(case).state == "approved"


# ---------------------------------------------------------------------------------------------
# Completion, delivery, withdrawal


def test_completion_on_time_and_late(clerk, supervisor, committed_item, at) -> None:
    on_time = accepted(clerk, committed_item, at, "2025-09-25")
    late = accepted(clerk, committed_item, at, "2025-09-25", person(name="李四"))
    for case in (on_time, late):
        actions.decide_case(supervisor, case, case.version, True, "")
    with at("2025-10-09"):
        notice = actions.complete(clerk, on_time, fresh(on_time).version, "核定待遇 12 个月")
    with at("2025-10-10"):
        actions.complete(clerk, late, fresh(late).version)
    on_time, late = fresh(on_time), fresh(late)
    assert (on_time.state, on_time.completed_on_time, on_time.working_days_taken, on_time.clock_running) == (
        "completed",
        True,
        5,
        False,
    )
    assert (late.completed_on_time, late.working_days_taken) == (False, 6)
    assert (notice.kind, notice.body) == ("completion", "核定待遇 12 个月")
    assert late.result_text == "准予办理。"


def test_completion_waits_for_deferred_materials(clerk, supervisor, committed_item, at) -> None:
    with at("2025-09-25"):
        case = actions.open_case(clerk, committed_item, person())
        actions.accept_with_deferred(clerk, case, 1, 5, updates=received_except(case, "劳动合同"))
        actions.decide_case(supervisor, case, fresh(case).version, True, "")
        with pytest.raises(ActionRefused) as refused:
            actions.complete(clerk, case, fresh(case).version)
        assert refused.value.message == "容缺材料尚未补齐，不能办结。"
        actions.supply_deferred(
            clerk,
            case,
            fresh(case).version,
            [actions.MaterialUpdate(check_of(case, "劳动合同").pk, "received")],
        )
        actions.complete(clerk, case, fresh(case).version)
    assert fresh(case).state == "completed"


def completed(clerk, supervisor, item, at):
    case = accepted(clerk, item, at, "2025-09-25")
    actions.decide_case(supervisor, case, case.version, True, "")
    actions.complete(clerk, case, fresh(case).version)
    return fresh(case)


def test_delivery_by_post_needs_a_tracking_number(clerk, supervisor, committed_item, at) -> None:
    case = completed(clerk, supervisor, committed_item, at)
    with pytest.raises(ActionRefused) as refused:
        actions.deliver(clerk, case, case.version, "post", "")
    assert refused.value.field == "tracking_number"
    with pytest.raises(ActionRefused) as refused:
        actions.deliver(clerk, case, case.version, "post", "SF 123")
    assert refused.value.message == "快递单号只能包含字母、数字和连字符，至少 6 位。"
    actions.deliver(clerk, case, case.version, "post", "sf1234567890")
    case = fresh(case)
    assert (case.state, case.delivery_method, case.delivery_tracking_number) == (
        "delivered",
        "post",
        "SF1234567890",
    )
    assert (
        ApplicantMessage.objects.get(kind="delivered").text
        == f"您的办件 {case.number} 结果已邮寄，快递单号 SF1234567890。"
    )


def test_delivery_to_the_cabinet_issues_a_pickup_code(clerk, supervisor, committed_item, at) -> None:
    case = completed(clerk, supervisor, committed_item, at)
    actions.deliver(clerk, case, case.version, "cabinet")
    case = fresh(case)
    assert len(case.delivery_pickup_code) == 6
    assert case.delivery_pickup_code.isdigit()
    assert case.delivery_pickup_code in ApplicantMessage.objects.get(kind="delivered").text
    # The pickup code is not written into the history
    assert case.events.get(action="deliver").after == {
        "method": "cabinet",
        "tracking_number": "",
        "pickup_code_issued": True,
    }


def test_delivery_only_by_the_methods_the_item_offers(clerk, supervisor, committed_item, at) -> None:
    committed_item.delivery_by_cabinet = False
    committed_item.save()
    case = completed(clerk, supervisor, committed_item, at)
    with pytest.raises(ActionRefused) as refused:
        actions.deliver(clerk, case, case.version, "cabinet")
    assert refused.value.message == "该事项不提供此送达方式。"


def test_withdrawal_stops_the_clock_and_cancels_tasks(clerk, committed_item, department, at) -> None:
    case = accepted(clerk, committed_item, at, "2025-09-25")
    with at("2025-09-26"):
        actions.start_approval(clerk, case, case.version, "parallel", [actions.TaskPlan(department.pk, 3)])
        actions.withdraw(clerk, case, fresh(case).version, "申请人决定暂不申领")
    case = fresh(case)
    assert (case.state, case.clock_running, case.withdrawal_reason) == (
        "withdrawn",
        False,
        "申请人决定暂不申领",
    )
    assert ApprovalTask.objects.get().status == "cancelled"
    with pytest.raises(ActionRefused):
        actions.withdraw(clerk, case, case.version, "再撤一次")


def test_a_case_from_an_inquiry_closes_the_first_responders_matter_when_done(
    clerk, supervisor, committed_item, at
) -> None:
    inquiry = actions.record_inquiry(
        clerk, actions.InquiryData(channel="onsite", asker_name="张三丰", question="怎么申领？")
    )
    with at("2025-09-25"):
        case = actions.open_case(clerk, committed_item, person(), inquiry=inquiry)
        actions.accept(clerk, case, case.version, updates=all_received(case))
        actions.decide_case(supervisor, case, fresh(case).version, True, "")
        assert Inquiry.objects.get().status == "open"
        actions.complete(clerk, case, fresh(case).version)
    inquiry = Inquiry.objects.get()
    assert (inquiry.status, inquiry.case_id, inquiry.outcome) == (
        "done",
        case.pk,
        f"办件 {case.number} 已办结。",
    )


# ---------------------------------------------------------------------------------------------
# 绿色通道


def test_green_channel_is_for_supervisors_and_sorts_first(clerk, supervisor, committed_item, at) -> None:
    red = accepted(clerk, committed_item, at, "2025-09-01")
    calm = accepted(clerk, committed_item, at, "2025-09-25", person(name="王五"))
    with pytest.raises(PermissionRefused):
        actions.mark_green_channel(clerk, calm, calm.version, "危重病人家属")
    with at("2025-09-26"):
        assert list(by_urgency(Case.objects.all())) == [red, calm]
        actions.mark_green_channel(supervisor, calm, calm.version, "危重病人家属，急事急办")
        assert list(by_urgency(Case.objects.all())) == [calm, red]
    calm = fresh(calm)
    assert (calm.is_green_channel, calm.green_channel_reason) == (True, "危重病人家属，急事急办")
    assert Notification.objects.filter(recipient=clerk, kind="green_channel").count() == 1
    with pytest.raises(ActionRefused) as refused:
        actions.mark_green_channel(supervisor, calm, calm.version, "再开一次")
    assert refused.value.message == "该办件已在绿色通道中。"


def test_a_joint_item_is_approved_by_every_department_the_catalogue_names(
    client_for, clerk, joint_item, department, second_department, town_site, at
) -> None:
    from servicehall.catalog.models import JointDepartment
    from tests.factories import DepartmentFactory

    # Given a 联办件 whose catalogue entry names 市场监督管理局 as 协办部门
    JointDepartment.objects.create(site=town_site, item=joint_item, department=second_department, position=1)
    third = DepartmentFactory(site=town_site, code="GA", name="公安局")
    case = accepted(clerk, joint_item, at, "2025-09-25", organisation())
    # When the clerk opens the case page, the approval form already lists both departments, lead first
    page = client_for(clerk).get(f"/cases/{case.pk}/").content.decode()
    for index, expected in enumerate([department, second_department]):
        select = page[page.index(f'name="task_department_{index}"') :]
        select = select[: select.index("</select>")]
        assert f'<option value="{expected.pk}" selected>' in select
    # When a plan leaves the 协办部门 out
    with pytest.raises(ActionRefused) as refused:
        actions.start_approval(
            clerk,
            case,
            case.version,
            "parallel",
            [actions.TaskPlan(department.pk, 3), actions.TaskPlan(third.pk, 3)],
        )
    # Then it is refused naming the missing department, and nothing is created
    assert (refused.value.code, refused.value.message) == (
        "joint_department_missing",
        "联办件须由全部参与部门审批，缺少：市场监督管理局。",
    )
    assert (ApprovalTask.objects.count(), fresh(case).state) == (0, "accepted")
    # When every named department is in the plan (and one more), the parallel approval starts
    actions.start_approval(
        clerk,
        case,
        case.version,
        "parallel",
        [
            actions.TaskPlan(department.pk, 3),
            actions.TaskPlan(second_department.pk, 3),
            actions.TaskPlan(third.pk, 2),
        ],
    )
    assert list(ApprovalTask.objects.order_by("position").values_list("department__name", "status")) == [
        ("人力资源和社会保障局", "pending"),
        ("市场监督管理局", "pending"),
        ("公安局", "pending"),
    ]
