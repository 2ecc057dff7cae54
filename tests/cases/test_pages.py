"""The cases pages: a permission matrix (personas × pages) and the main flows through the forms."""

from __future__ import annotations

from typing import Any

import pytest

from servicehall.audit.models import AuditRecord
from servicehall.cases import actions
from servicehall.cases.models import ApprovalTask, Case, CaseEvent, ExtensionRequest, Inquiry, Referral
from tests.cases.conftest import all_received, check_of, fresh, person

PERSONAS = [
    "clerk",
    "other_site_clerk",
    "supervisor",
    "approver",
    "centre_administrator",
    "system_administrator",
    "security_administrator",
    "audit_administrator",
    "anonymous",
]


@pytest.fixture
def draft_case(clerk, committed_item):
    return actions.open_case(clerk, committed_item, person())


@pytest.fixture
def persona_client(request, client_for, citizen_client) -> Any:
    def make(name: str) -> Any:
        if name == "anonymous":
            return citizen_client
        return client_for(request.getfixturevalue(name))

    return make


PAGE_MATRIX = {
    # page: statuses for PERSONAS in order
    "/cases/": [200, 200, 200, 200, 200, 403, 403, 403, 302],
    "/cases/my/": [200, 200, 200, 200, 200, 200, 200, 200, 302],
    "/cases/inquiries/new/": [200, 200, 200, 200, 200, 200, 200, 200, 302],
    "/cases/intake/": [200, 200, 200, 403, 403, 403, 403, 403, 302],
    "/cases/intake/items/?q=RS": [200, 200, 200, 200, 200, 200, 200, 200, 302],
    "/cases/{case}/": [200, 404, 200, 200, 200, 403, 403, 403, 302],
    "/cases/approvals/": [403, 403, 200, 200, 403, 403, 403, 403, 302],
    "/cases/board/": [403, 403, 200, 403, 200, 403, 403, 403, 302],
    "/cases/status/": [200, 200, 200, 200, 200, 200, 200, 200, 200],
}


@pytest.mark.parametrize("page", list(PAGE_MATRIX))
@pytest.mark.parametrize("index", range(len(PERSONAS)), ids=PERSONAS)
def test_page_permission_matrix(page, index, persona_client, draft_case, approver) -> None:
    persona = PERSONAS[index]
    response = persona_client(persona).get(page.format(case=draft_case.pk))
    assert response.status_code == PAGE_MATRIX[page][index]
    if response.status_code == 302:
        assert response["Location"].startswith("/accounts/login/")


# POST /cases/{id}/act/ with "accept": who may, and that a refusal changes nothing.
ACCEPT_MATRIX = [302, 404, 302, 403, 403, 403, 403, 403, 302]


@pytest.mark.parametrize("index", range(len(PERSONAS)), ids=PERSONAS)
def test_accept_through_the_page_permission_matrix(index, persona_client, draft_case, approver) -> None:
    persona = PERSONAS[index]
    data = {"action": "accept", "version": "1"} | {
        f"status_{check.pk}": "received" for check in draft_case.material_checks.all()
    }
    events, audits = CaseEvent.objects.count(), AuditRecord.objects.exclude(action="access.denied").count()
    response = persona_client(persona).post(f"/cases/{draft_case.pk}/act/", data)
    assert response.status_code == ACCEPT_MATRIX[index]
    case = fresh(draft_case)
    if persona in ("clerk", "supervisor"):
        assert response["Location"] == f"/cases/{draft_case.pk}/"
        assert case.state == "accepted"
    else:
        assert (case.state, case.version) == ("draft", 1)
        assert CaseEvent.objects.count() == events
        assert AuditRecord.objects.exclude(action="access.denied").count() == audits


def test_intake_opens_a_case_and_shows_its_checklist(client_for, clerk, committed_item) -> None:
    client = client_for(clerk)
    response = client.post(
        "/cases/intake/",
        {
            "item_id": committed_item.pk,
            "applicant_kind": "person",
            "applicant_name": "张三丰",
            "applicant_id_number": person().id_number,
            "applicant_phone": "13812345678",
        },
    )
    case = Case.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/cases/{case.pk}/"
    page = client.get(response["Location"]).content.decode()
    assert case.number in page
    assert "居民身份证" in page
    assert "劳动合同" in page
    assert "138****5678" in page
    assert "13812345678" not in page
    assert case.applicant_id_number not in page


def test_intake_with_a_bad_id_number_is_re_shown_with_the_error(client_for, clerk, committed_item) -> None:
    response = client_for(clerk).post(
        "/cases/intake/",
        {
            "item_id": committed_item.pk,
            "applicant_kind": "person",
            "applicant_name": "张三丰",
            "applicant_id_number": "440000199003071234",
            "applicant_phone": "13812345678",
        },
    )
    assert response.status_code == 400
    assert "身份证号校验位错误" in response.content.decode()
    assert Case.objects.count() == 0


def test_a_stale_page_gets_409_and_the_case_is_unchanged(client_for, clerk, second_clerk, draft_case) -> None:
    actions.update_materials(clerk, draft_case, 1, all_received(draft_case))
    response = client_for(second_clerk).post(
        f"/cases/{draft_case.pk}/act/",
        {"action": "refuse", "version": "1", "reason": "材料不全", "legal_basis": "某条例"},
    )
    assert response.status_code == 409
    assert "办件已被他人更新，请刷新后重试。" in response.content.decode()
    assert fresh(draft_case).state == "draft"


def test_an_action_not_allowed_now_is_a_clear_400(client_for, clerk, draft_case) -> None:
    response = client_for(clerk).post(f"/cases/{draft_case.pk}/act/", {"action": "complete", "version": "1"})
    assert response.status_code == 400
    assert "办件当前状态为「收件待审」，不能执行「办结」。" in response.content.decode()
    assert fresh(draft_case).version == 1


def test_the_case_page_offers_only_the_actions_of_the_state(
    client_for, clerk, supervisor, draft_case
) -> None:
    page = client_for(clerk).get(f"/cases/{draft_case.pk}/").content.decode()
    for offered in (
        'value="accept"',
        'value="request_supplement"',
        'value="accept_with_deferred"',
        'value="refuse"',
        'value="withdraw"',
    ):
        assert offered in page
    for absent in (
        'value="complete"',
        'value="deliver"',
        'value="start_approval"',
        'value="mark_green_channel"',
    ):
        assert absent not in page
    assert (
        'value="mark_green_channel"'
        in client_for(supervisor).get(f"/cases/{draft_case.pk}/").content.decode()
    )


def test_supplement_then_pdf_link_and_timeline(client_for, clerk, draft_case) -> None:
    client = client_for(clerk)
    data = {"action": "request_supplement", "version": "1", "note": "请带原件"} | {
        f"status_{check.pk}": ("missing" if check.name == "劳动合同" else "received")
        for check in draft_case.material_checks.all()
    }
    assert client.post(f"/cases/{draft_case.pk}/act/", data).status_code == 302
    page = client.get(f"/cases/{draft_case.pk}/").content.decode()
    notice = draft_case.notices.get()
    assert f"/cases/{draft_case.pk}/notices/{notice.pk}.pdf" in page
    assert "一次性告知补正" in page
    assert "收件待审 → 待补正" in page


def test_approval_list_and_decision_through_the_page(
    client_for, clerk, approver, committed_item, department, at
) -> None:
    with at("2025-09-25"):
        case = actions.open_case(clerk, committed_item, person())
        actions.accept(clerk, case, 1, updates=all_received(case))
        actions.start_approval(clerk, case, 2, "parallel", [actions.TaskPlan(department.pk, 3)])
    client = client_for(approver)
    assert case.number in client.get("/cases/approvals/").content.decode()
    task = ApprovalTask.objects.get()
    # A refusal without reasons is re-shown with the error
    response = client.post(
        f"/cases/approvals/{task.pk}/decide/", {"version": "1", "decision": "refuse", "opinion": ""}
    )
    assert response.status_code == 400
    assert "审批意见不能为空。" in response.content.decode()
    response = client.post(
        f"/cases/approvals/{task.pk}/decide/", {"version": "1", "decision": "approve", "opinion": "同意"}
    )
    assert response.status_code == 302
    assert fresh(case).state == "approved"


def test_board_shows_colours_and_decides_extensions(
    client_for, clerk, supervisor, committed_item, at
) -> None:
    with at("2025-09-18"):
        case = actions.open_case(clerk, committed_item, person())
        actions.accept(clerk, case, 1, updates=all_received(case))
        actions.request_extension(clerk, case, 2, 2, "需核查")
    client = client_for(supervisor)
    page = client.get("/cases/board/").content.decode()
    assert case.number in page
    assert "红牌（已超期）" in page
    assert "需核查" in page
    extension = ExtensionRequest.objects.get()
    response = client.post(f"/cases/extensions/{extension.pk}/decide/", {"decision": "reject", "note": ""})
    assert response.status_code == 400
    response = client.post(
        f"/cases/extensions/{extension.pk}/decide/", {"decision": "approve", "note": "同意"}
    )
    assert response.status_code == 302
    assert fresh(case).extension_days == 2


def test_inquiry_pages_record_refer_and_close(client_for, town_site, window, committed_item) -> None:
    from servicehall.accounts.roles import Role
    from tests.conftest import make_staff

    guide = make_staff(town_site, Role.GUIDE, username="guide")
    client = client_for(guide)
    response = client.post(
        "/cases/inquiries/new/",
        {
            "channel": "onsite",
            "asker_name": "欧阳娜娜",
            "asker_contact": "13912345678",
            "question": "怎么办？",
            "item_id": committed_item.pk,
        },
    )
    inquiry = Inquiry.objects.get()
    assert response["Location"] == f"/cases/inquiries/{inquiry.pk}/"
    page = client.get(response["Location"]).content.decode()
    assert "欧***" in page
    assert "139****5678" in page
    assert "13912345678" not in page
    response = client.post(
        f"/cases/inquiries/{inquiry.pk}/refer/",
        {"version": "1", "kind": "guide", "to_window": window.pk, "reason": "社保业务"},
    )
    assert response.status_code == 302
    assert Referral.objects.get().to_window == window
    assert f"#{inquiry.pk}" in client.get("/cases/my/").content.decode()
    response = client.post(f"/cases/inquiries/{inquiry.pk}/close/", {"version": "2", "outcome": "已办结"})
    assert response.status_code == 302
    assert Inquiry.objects.get().status == "done"
    assert f"#{inquiry.pk}" not in client.get("/cases/my/").content.decode()


def test_my_matters_lists_my_open_cases_green_channel_first(
    client_for, clerk, supervisor, committed_item, at
) -> None:
    with at("2025-09-01"):
        late = actions.open_case(clerk, committed_item, person(name="迟"))
        actions.accept(clerk, late, 1, updates=all_received(late))
    urgent = actions.open_case(clerk, committed_item, person(name="急"))
    actions.mark_green_channel(supervisor, urgent, 1, "特事特办")
    page = client_for(clerk).get("/cases/my/").content.decode()
    assert page.index(urgent.number) < page.index(late.number)
    assert "绿色通道" in page


def test_item_search_fragment(client_for, clerk, committed_item, immediate_item) -> None:
    page = client_for(clerk).get("/cases/intake/items/?q=RS-2", HTTP_HX_REQUEST="true").content.decode()
    assert "RS-200" in page
    assert "RS-100" not in page


def test_checklist_edit_keeps_deferred_and_records_versions(client_for, clerk, draft_case) -> None:
    client = client_for(clerk)
    form = check_of(draft_case, "申请表")
    response = client.post(
        f"/cases/{draft_case.pk}/act/",
        {
            "action": "update_materials",
            "version": "1",
            f"status_{form.pk}": "defective",
            f"defect_{form.pk}": "未签名",
        },
    )
    assert response.status_code == 302
    form = check_of(draft_case, "申请表")
    assert (form.status, form.defect, form.submission_version) == ("defective", "未签名", 1)


def test_my_matters_shows_where_each_inquiry_went_and_the_state_of_the_case_it_became(
    client_for, town_site, clerk, window, committed_item
) -> None:
    from servicehall.accounts.roles import Role
    from tests.conftest import make_staff

    # Given a guide's inquiry, sent to window 3, where the clerk opened a case from it
    guide = make_staff(town_site, Role.GUIDE, username="guide", full_name="陈导办")
    inquiry = actions.record_inquiry(
        guide, actions.InquiryData(channel="onsite", asker_name="欧阳娜娜", question="失业金怎么领？")
    )
    actions.refer_inquiry(
        guide, inquiry, 1, actions.ReferralData(kind="guide", reason="属社保窗口职责", to_window_id=window.pk)
    )
    case = actions.open_case(clerk, committed_item, person(), inquiry=inquiry)
    # When the guide, still 首问责任人, opens their work list
    page = client_for(guide).get("/cases/my/").content.decode()
    # Then the inquiry shows its 去向 and why, and the case it became with that case's state
    assert "导办（引导至窗口）：3号窗口 社保综合窗口" in page
    assert "属社保窗口职责" in page
    assert f'<a class="mono" href="/cases/{case.pk}/">{case.number}</a> · 收件待审' in page
    # And the page title is only the title (no handover section leaks into it)
    title = page[page.index("<title>") : page.index("</title>")]
    assert title == "<title>我的事项 · 政务服务窗口服务规范管理平台"
    # When the case moves on, the list follows it
    actions.update_materials(clerk, case, 1, all_received(case))
    actions.accept(clerk, case, 2)
    page = client_for(guide).get("/cases/my/").content.decode()
    assert f'<a class="mono" href="/cases/{case.pk}/">{case.number}</a> · 已受理' in page


def test_the_timeline_shows_what_each_action_changed_before_and_after(
    client_for, clerk, supervisor, committed_item, at
) -> None:
    with at("2025-09-25"):
        case = actions.open_case(clerk, committed_item, person())
        actions.update_materials(
            clerk,
            case,
            1,
            [actions.MaterialUpdate(check_of(case, "申请表").pk, "defective", defect="未签名")],
        )
        actions.update_materials(
            clerk,
            case,
            2,
            [actions.MaterialUpdate(check_of(case, "申请表").pk, "received", resubmitted=True)],
        )
        actions.accept(clerk, case, 3, updates=all_received(case))
    with at("2025-09-26"):
        request = actions.request_extension(clerk, case, fresh(case).version, 3, "需现场核查")
        actions.decide_extension(supervisor, request, True, "同意")
        page = client_for(clerk).get(f"/cases/{case.pk}/").content.decode()
    # Then each checklist change reads before → after, with the submission it concerned
    assert "材料：申请表 未收 → 有缺陷（未签名），第 1 次提交" in page
    assert "材料：申请表 有缺陷 → 已收，第 2 次提交" in page
    # And the extension shows the due dates it moved
    assert "承诺期限：2025-10-09 → 2025-10-13" in page
    assert "法定期限：2025-10-29 → 2025-11-03" in page


def test_the_board_lists_green_channel_work_first_and_names_the_configured_threshold(
    client_for, clerk, supervisor, approver, committed_item, department, at
) -> None:
    # Given two cases with overdue approval tasks; the later-due one is marked 绿色通道
    with at("2025-09-18"):
        first = actions.open_case(clerk, committed_item, person(name="甲"))
        actions.accept(clerk, first, 1, updates=all_received(first))
        actions.start_approval(clerk, first, 2, "parallel", [actions.TaskPlan(department.pk, 1)])
    with at("2025-09-22"):
        urgent = actions.open_case(clerk, committed_item, person(name="乙"))
        actions.accept(clerk, urgent, 1, updates=all_received(urgent))
        actions.start_approval(clerk, urgent, 2, "parallel", [actions.TaskPlan(department.pk, 1)])
        actions.mark_green_channel(supervisor, urgent, 3, "特事特办")
    with at("2025-09-25"):
        page = client_for(supervisor).get("/cases/board/").content.decode()
        tasks = client_for(approver).get("/api/cases/tasks/pending").json()
    # Then the overdue-task panel puts the green-channel case first, tagged
    panel = page[page.index('id="tasks-heading"') : page.index('id="extensions-heading"')]
    assert panel.index(urgent.number) < panel.index(first.number)
    assert f'{urgent.number}</a> <span class="tag tag-green-channel">绿色通道</span>' in panel
    # And so does the approvers' list through the API
    assert [task["case_id"] for task in tasks] == [urgent.pk, first.pk]
    # And the board names the yellow rule as configured (2 working days or 20% of the limit)
    assert "黄牌：距承诺期限不超过 2 个工作日或办理时限的 20%（取较早者）" in page
