"""收件, 材料核对, 受理 / 容缺受理 / 补正 / 不予受理, and the one-time-notice rule (seed 000 一次性告知制)."""

from __future__ import annotations

import pytest

from servicehall.audit.models import AuditRecord
from servicehall.cases import actions
from servicehall.cases.models import (
    ApplicantMessage,
    Case,
    CaseEvent,
    MaterialCheck,
    Notice,
    NoticeItem,
)
from servicehall.lib.errors import ActionRefused, Conflict, NotFound, PermissionRefused
from servicehall.supervision.models import Violation
from tests.cases.conftest import (
    all_received,
    check_of,
    credit_code,
    fresh,
    organisation,
    person,
    received_except,
)
from tests.factories import resident_id


def update(case, name, status, **fields):
    return actions.MaterialUpdate(check_of(case, name).pk, status, **fields)


# ---------------------------------------------------------------------------------------------
# Opening a case


def test_open_case_generates_the_checklist_from_the_item_and_stores_the_applicant_normalised(
    clerk, committed_item
) -> None:
    # Given a person whose ID is typed with a lower-case x and spaces, and a phone with +86
    first_seventeen = resident_id(11)[:17]
    typed_id = f" {first_seventeen[:6]} {first_seventeen[6:]}{resident_id(11)[17].lower()} "
    # When the clerk opens a case
    case = actions.open_case(clerk, committed_item, person(id_number=typed_id, phone="+86 138-1234-5678"))
    # Then the checklist mirrors the item's materials and the clerk is 首办责任人
    assert [
        (check.position, check.name, check.is_mandatory, check.is_deferrable)
        for check in case.material_checks.all()
    ] == [
        (1, "居民身份证", True, False),
        (2, "申请表", True, False),
        (3, "劳动合同", True, True),
        (4, "近期照片", False, False),
    ]
    assert case.state == "draft"
    assert case.first_handler == clerk
    assert case.site == clerk.site
    # And the applicant is stored normalised and shown masked
    assert case.applicant_id_number == resident_id(11).upper()
    assert case.applicant_phone == "13812345678"
    assert case.masked_applicant_phone == "138****5678"
    assert case.masked_applicant_id_number == resident_id(11)[:4] + "**********" + resident_id(11)[-4:]
    assert case.masked_applicant_name == "张**"
    # And the history and the audit trail record it without personal data
    event = CaseEvent.objects.get(case=case)
    assert event.action == "open"
    assert event.after["applicant"] == "张**"
    audit = AuditRecord.objects.get(action="cases.open")
    assert "13812345678" not in str(audit.after)
    assert resident_id(11) not in str(audit.after)


def test_an_organisation_is_identified_by_its_unified_social_credit_code(clerk, committed_item) -> None:
    # When a company applies
    case = actions.open_case(clerk, committed_item, organisation(id_number=credit_code(3).lower()))
    # Then the code is validated, normalised and masked; the company name is not personal data
    assert case.applicant_id_number == credit_code(3)
    assert case.masked_applicant_id_number == credit_code(3)[:4] + "**********" + credit_code(3)[-4:]
    assert case.masked_applicant_name == "中山市三角镇某某电子有限公司"
    assert case.masked_agent_name == "李**"


@pytest.mark.parametrize(
    ("applicant", "field", "message"),
    [
        (
            person(id_number="440000199003071234"),
            "applicant_id_number",
            "身份证号校验位错误 / Invalid check digit in resident ID number",
        ),
        (
            person(phone="12345"),
            "applicant_phone",
            "手机号码应为11位数字 / Mobile phone number must be 11 digits",
        ),
        (
            organisation(id_number="91442000MA0000001A"),
            "applicant_id_number",
            "统一社会信用代码校验位错误 / Invalid check character in unified social credit code",
        ),
        (person(name="  "), "applicant_name", "申请人不能为空。"),
        (person(kind="robot"), "applicant_kind", "申请人类型无效。"),
    ],
)
def test_invalid_applicants_are_refused_and_nothing_is_created(
    clerk, committed_item, applicant, field, message
) -> None:
    # When the clerk opens a case with a bad identity
    with pytest.raises(ActionRefused) as refused:
        actions.open_case(clerk, committed_item, applicant)
    # Then the refusal names the field, quotes no value, and nothing was written
    assert refused.value.field == field
    assert refused.value.message == message
    assert Case.objects.count() == 0
    assert MaterialCheck.objects.count() == 0


def test_an_unpublished_item_cannot_be_applied_for(clerk, committed_item) -> None:
    committed_item.is_published = False
    committed_item.save()
    with pytest.raises(ActionRefused) as refused:
        actions.open_case(clerk, committed_item, person())
    assert refused.value.message == "事项不存在或未公开。"
    assert Case.objects.count() == 0


def test_a_guide_without_case_handling_cannot_open_a_case(town_site, committed_item) -> None:
    from servicehall.accounts.roles import Role
    from tests.conftest import make_staff

    guide = make_staff(town_site, Role.GUIDE, username="guide")
    with pytest.raises(PermissionRefused):
        actions.open_case(guide, committed_item, person())
    assert Case.objects.count() == 0
    assert AuditRecord.objects.filter(action="access.denied").count() == 1


# ---------------------------------------------------------------------------------------------
# The window's outcomes


def test_accept_needs_every_mandatory_material_and_starts_the_clock(clerk, committed_item, at) -> None:
    with at("2025-09-26"):
        case = actions.open_case(clerk, committed_item, person())
        # When the clerk tries to accept with the contract missing
        with pytest.raises(ActionRefused) as refused:
            actions.accept(clerk, case, case.version, updates=received_except(case, "劳动合同"))
        # Then it is refused and nothing changed, not even the ticks sent with it
        assert refused.value.message == "必需材料尚未齐全：劳动合同。"
        assert fresh(case).state == "draft"
        assert fresh(case).version == 1
        assert set(case.material_checks.values_list("status", flat=True)) == {"missing"}
        # When everything mandatory is there (the optional photo is not)
        notice = actions.accept(clerk, case, case.version, updates=received_except(case, "近期照片"))
    case = fresh(case)
    # Then the case is accepted with its due dates and a 受理通知书
    assert case.state == "accepted"
    assert case.accepted_on.isoformat() == "2025-09-26"
    assert case.committed_due.isoformat() == "2025-10-10"
    assert case.clock_running is True
    assert notice.kind == "acceptance"
    assert notice.number == f"{case.number}-01"
    assert case.version == 2
    # And the applicant is told by SMS (outbox)
    assert list(ApplicantMessage.objects.values_list("phone", "kind", "text")) == [
        ("13812345678", "accepted", f"您的办件 {case.number} 已受理，承诺 2025-10-10 前办结。")
    ]


def test_accept_with_deferred_only_when_the_missing_materials_may_be_deferred(
    clerk, committed_item, at
) -> None:
    with at("2025-09-26"):
        case = actions.open_case(clerk, committed_item, person())
        # When the application form (not deferrable) is missing, 容缺 is refused
        with pytest.raises(ActionRefused) as refused:
            actions.accept_with_deferred(
                clerk, case, 1, 3, updates=received_except(case, "申请表", "劳动合同")
            )
        assert refused.value.message == "以下材料不可容缺：申请表。"
        assert fresh(case).state == "draft"
        # When only the contract (deferrable) is missing
        notice = actions.accept_with_deferred(clerk, case, 1, 3, updates=received_except(case, "劳动合同"))
    case = fresh(case)
    # Then it is accepted with a deadline of 3 working days (across the 调休 Sunday 9-28)
    assert case.state == "accepted_deferred"
    assert case.deferred_due.isoformat() == "2025-09-30"
    assert check_of(case, "劳动合同").status == "deferred"
    assert [(item.name, item.problem) for item in notice.items.all()] == [("劳动合同", "deferred")]
    assert notice.body == "容缺受理：请于 2025-09-30 前补齐所列材料，逾期办件将中止办理。"


def test_accept_with_deferred_is_refused_when_nothing_is_missing(clerk, committed_item) -> None:
    case = actions.open_case(clerk, committed_item, person())
    with pytest.raises(ActionRefused) as refused:
        actions.accept_with_deferred(clerk, case, 1, 3, updates=all_received(case))
    assert refused.value.message == "必需材料已齐全，请直接受理。"


def test_refusal_needs_a_written_reason_and_a_legal_basis(clerk, committed_item) -> None:
    case = actions.open_case(clerk, committed_item, person())
    # When the clerk refuses without a legal basis
    with pytest.raises(ActionRefused) as refused:
        actions.refuse(clerk, case, 1, "不属于本事项受理范围", "  ")
    assert refused.value.field == "legal_basis"
    assert fresh(case).state == "draft"
    # When both are given
    notice = actions.refuse(clerk, case, 1, "不属于本事项受理范围", "《失业保险条例》第十五条")
    # Then a 不予受理告知书 carries them
    assert fresh(case).state == "not_accepted"
    assert (notice.kind, notice.reason, notice.legal_basis) == (
        "not_accepted",
        "不属于本事项受理范围",
        "《失业保险条例》第十五条",
    )


def test_a_supplement_notice_lists_every_missing_and_defective_material_at_once(
    clerk, committed_item
) -> None:
    case = actions.open_case(clerk, committed_item, person())
    # Given the ID card is fine, the form is defective, the contract and the photo are missing
    updates = [
        update(case, "居民身份证", "received"),
        update(case, "申请表", "defective", defect="缺少本人签名"),
        update(case, "劳动合同", "missing"),
        update(case, "近期照片", "missing"),
    ]
    # When the clerk issues the 一次性告知书
    notice = actions.request_supplement(clerk, case, 1, updates=updates, note="请本人携带原件")
    # Then it lists the defective form and the missing mandatory contract (not the optional photo)
    assert [(item.name, item.problem, item.detail, item.requirement) for item in notice.items.all()] == [
        ("申请表", "defective", "缺少本人签名", "原件，1 份，本人签名"),
        ("劳动合同", "missing", "", "复印件，2 份"),
    ]
    # And it carries the conditions, the process and the time limits, and the list is kept
    assert notice.kind == "one_time"
    assert notice.conditions == "在本市参加社会保险。"
    assert notice.process == "受理 → 审核"
    assert notice.time_limits == (
        "法定办结时限 20 个工作日，承诺办结时限 5 个工作日，自受理次日起计算；补正期间不计入办理时限。"
    )
    assert notice.body == "请本人携带原件"
    assert fresh(case).state == "supplement_requested"
    assert fresh(case).supplement_count == 1


def test_a_supplement_with_nothing_missing_is_refused(clerk, committed_item) -> None:
    case = actions.open_case(clerk, committed_item, person())
    with pytest.raises(ActionRefused) as refused:
        actions.request_supplement(clerk, case, 1, updates=all_received(case))
    assert refused.value.message == "没有缺少或需更正的材料，无需补正。"
    assert Notice.objects.count() == 0
    # The ticks sent with the refused request were not kept either
    assert set(case.material_checks.values_list("status", flat=True)) == {"missing"}


def test_the_applicant_returning_with_the_supplement_is_a_second_visit(clerk, committed_item) -> None:
    case = actions.open_case(clerk, committed_item, person())
    actions.request_supplement(clerk, case, 1, updates=received_except(case, "劳动合同"))
    # When acceptance is attempted straight from 待补正, the table refuses it
    with pytest.raises(ActionRefused) as refused:
        actions.accept(clerk, case, 2)
    assert refused.value.message == "办件当前状态为「待补正」，不能执行「受理」。"
    # When the applicant comes back with the contract
    actions.receive_supplement(clerk, case, 2, [update(case, "劳动合同", "received")])
    case = fresh(case)
    assert (case.state, case.visit_count) == ("draft", 2)
    actions.accept(clerk, case, case.version)
    assert fresh(case).state == "accepted"


# ---------------------------------------------------------------------------------------------
# 一次性告知: the violation


def test_asking_later_for_a_material_that_was_there_unchanged_records_a_violation_against_the_clerk(
    clerk, second_clerk, committed_item
) -> None:
    case = actions.open_case(clerk, committed_item, person())
    # Given the first notice asked only for the contract, while the form was present and not flagged
    first = actions.request_supplement(clerk, case, 1, updates=received_except(case, "劳动合同"))
    # When the applicant brings the contract, and a colleague then flags the very same form
    actions.receive_supplement(second_clerk, case, 2, [update(case, "劳动合同", "received")])
    second = actions.request_supplement(
        second_clerk, case, 3, updates=[update(case, "申请表", "defective", defect="填写项目不全")]
    )
    # Then the second notice lists the form
    assert [item.name for item in second.items.all()] == ["申请表"]
    # And the clerk who issued the first notice did not tell once: a 1-② violation
    violation = Violation.objects.get()
    assert violation.kind == "first_responder_failure"
    assert violation.tier == 1
    assert violation.source == "one_time_notice"
    assert violation.staff == clerk
    assert violation.source_reference == f"case:{case.number}:material:{check_of(case, '申请表').pk}"
    assert violation.description == (
        f"办件 {case.number}：「申请表」在第 {first.sequence} 号一次性告知书出具时已提交且未列明，"
        f"第 {second.sequence} 号告知书再次要求补正，而申请人提交的该材料未变（未一次性告知）。"
    )
    # And the history of the second notice names it
    event = CaseEvent.objects.filter(case=case, action="request_supplement").order_by("-id").first()
    assert event.after["violations"] == [
        {"violation_id": violation.pk, "created": True, "material": "申请表", "staff_id": clerk.pk}
    ]


def test_no_violation_when_the_applicant_brought_a_new_version_of_the_material(clerk, committed_item) -> None:
    case = actions.open_case(clerk, committed_item, person())
    actions.request_supplement(clerk, case, 1, updates=received_except(case, "劳动合同"))
    # When the applicant brings the contract and also a rewritten form
    actions.receive_supplement(
        clerk,
        case,
        2,
        [update(case, "劳动合同", "received"), update(case, "申请表", "received", resubmitted=True)],
    )
    assert check_of(case, "申请表").submission_version == 2
    # And the new form has a defect
    actions.request_supplement(
        clerk, case, 3, updates=[update(case, "申请表", "defective", defect="日期填错")]
    )
    # Then nobody failed to tell once: the defect is in a new submission
    assert Violation.objects.count() == 0


def test_a_new_fingerprint_counts_as_a_new_submission(clerk, committed_item) -> None:
    case = actions.open_case(clerk, committed_item, person())
    actions.update_materials(clerk, case, 1, [update(case, "申请表", "received", fingerprint="表-v1")])
    actions.request_supplement(clerk, case, 2, updates=received_except(case, "劳动合同"))
    actions.receive_supplement(
        clerk,
        case,
        3,
        [update(case, "劳动合同", "received"), update(case, "申请表", "received", fingerprint="表-v2")],
    )
    actions.request_supplement(
        clerk, case, 4, updates=[update(case, "申请表", "defective", defect="盖章不清")]
    )
    assert Violation.objects.count() == 0


def test_no_violation_when_the_material_was_already_on_the_earlier_notice(clerk, committed_item) -> None:
    case = actions.open_case(clerk, committed_item, person())
    actions.request_supplement(
        clerk,
        case,
        1,
        updates=[
            *received_except(case, "劳动合同")[:1],
            update(case, "申请表", "defective", defect="未签名"),
            update(case, "劳动合同", "missing"),
        ],
    )
    # When the applicant still has not fixed the form and the clerk lists it again
    actions.request_supplement(clerk, case, 2)
    # Then that is telling twice what was told once, not a failure to tell
    assert Violation.objects.count() == 0
    assert Notice.objects.filter(kind="one_time").count() == 2


def test_a_second_notice_without_the_applicant_returning_still_counts(clerk, committed_item) -> None:
    case = actions.open_case(clerk, committed_item, person())
    actions.request_supplement(clerk, case, 1, updates=received_except(case, "劳动合同"))
    # When the clerk, before the applicant returns, remembers the ID card copy was unreadable
    actions.request_supplement(
        clerk, case, 2, updates=[update(case, "居民身份证", "defective", defect="复印件不清晰")]
    )
    assert Violation.objects.get().staff == clerk
    assert NoticeItem.objects.filter(notice__sequence=2).count() == 2


# ---------------------------------------------------------------------------------------------
# The state machine and lost updates


@pytest.mark.parametrize(
    ("action", "call"),
    [
        ("complete", lambda clerk, case: actions.complete(clerk, case, case.version)),
        ("deliver", lambda clerk, case: actions.deliver(clerk, case, case.version, "window")),
        (
            "start_approval",
            lambda clerk, case: actions.start_approval(
                clerk, case, case.version, "parallel", [actions.TaskPlan(case.department_id, 1)]
            ),
        ),
        ("supply_deferred", lambda clerk, case: actions.supply_deferred(clerk, case, case.version, [])),
        ("receive_supplement", lambda clerk, case: actions.receive_supplement(clerk, case, case.version, [])),
    ],
)
def test_an_action_not_allowed_in_the_current_state_is_refused_and_changes_nothing(
    clerk, committed_item, action, call
) -> None:
    case = actions.open_case(clerk, committed_item, person())
    events_before = CaseEvent.objects.count()
    audits_before = AuditRecord.objects.count()
    with pytest.raises(ActionRefused) as refused:
        call(clerk, fresh(case))
    assert refused.value.code == "invalid_state"
    assert refused.value.message.startswith("办件当前状态为「收件待审」，不能执行「")
    assert fresh(case).state == "draft"
    assert fresh(case).version == 1
    assert CaseEvent.objects.count() == events_before
    assert AuditRecord.objects.count() == audits_before


def test_a_stale_version_is_told_the_case_changed_and_nothing_is_written(
    clerk, second_clerk, committed_item
) -> None:
    case = actions.open_case(clerk, committed_item, person())
    # Given one clerk saved the checklist (version 1 → 2)
    actions.update_materials(clerk, case, 1, all_received(case))
    # When the other clerk, still looking at version 1, refuses the case
    with pytest.raises(Conflict) as conflict:
        actions.refuse(second_clerk, case, 1, "材料不全", "某条例")
    # Then they are told, with 409, and the case is as the first clerk left it
    assert conflict.value.status == 409
    assert (
        conflict.value.message
        == "办件已被他人更新，请刷新后重试。 / The case was changed by someone else; reload and retry."
    )
    assert fresh(case).state == "draft"
    assert fresh(case).version == 2
    assert Notice.objects.count() == 0


def test_a_clerk_of_another_site_does_not_see_the_case(clerk, other_site_clerk, committed_item) -> None:
    case = actions.open_case(clerk, committed_item, person())
    with pytest.raises(NotFound):
        actions.accept(other_site_clerk, case, 1, updates=all_received(case))
    assert fresh(case).state == "draft"
    assert AuditRecord.objects.filter(action="access.denied").count() == 1


def test_material_updates_must_belong_to_the_case(clerk, committed_item) -> None:
    case = actions.open_case(clerk, committed_item, person())
    other = actions.open_case(clerk, committed_item, person(id_number=resident_id(12)))
    with pytest.raises(ActionRefused) as refused:
        actions.update_materials(
            clerk, case, 1, [actions.MaterialUpdate(other.material_checks.first().pk, "received")]
        )
    assert refused.value.message == "材料不属于此办件。"


def test_a_defect_needs_a_description_so_it_can_be_told(clerk, committed_item) -> None:
    case = actions.open_case(clerk, committed_item, person())
    with pytest.raises(ActionRefused) as refused:
        actions.update_materials(clerk, case, 1, [update(case, "申请表", "defective")])
    assert refused.value.message == "请写明「申请表」的具体问题，以便一次性告知。"
