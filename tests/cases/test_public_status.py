"""The citizen's progress page: case number + last four digits → state, due date, what is still needed."""

from __future__ import annotations

import pytest
from django.test import Client

from servicehall.audit.models import AuditRecord
from servicehall.cases import actions
from tests.cases.conftest import APPLICANT_PHONE, check_of, fresh, person, received_except
from tests.factories import resident_id

URL = "/cases/status/"


@pytest.fixture
def waiting_case(clerk, committed_item, at):
    with at("2025-09-25"):
        case = actions.open_case(clerk, committed_item, person())
        actions.request_supplement(
            clerk,
            case,
            1,
            updates=[
                *received_except(case, "劳动合同")[:1],
                actions.MaterialUpdate(check_of(case, "申请表").pk, "defective", defect="未签名"),
                actions.MaterialUpdate(check_of(case, "劳动合同").pk, "missing"),
            ],
        )
    return fresh(case)


def ask(client: Client, number: str, last_four: str, address: str = "10.0.0.1"):
    return client.post(URL, {"number": number, "last_four": last_four}, REMOTE_ADDR=address)


def test_the_form_needs_no_login_and_prefills_the_number_from_the_qr_code(
    citizen_client, waiting_case
) -> None:
    response = citizen_client.get(f"{URL}?number={waiting_case.number}")
    assert response.status_code == 200
    assert f'value="{waiting_case.number}"' in response.content.decode()
    assert response["Cache-Control"] == "no-store"


def test_the_phone_digits_show_state_and_what_is_still_needed_but_no_personal_data(
    citizen_client, waiting_case
) -> None:
    response = ask(citizen_client, waiting_case.number, APPLICANT_PHONE[-4:])
    page = response.content.decode()
    assert response.status_code == 200
    assert "待补正材料" in page
    assert "申请表、劳动合同" in page
    assert "三角镇便民服务中心" in page
    for secret in (
        waiting_case.applicant_name,
        waiting_case.masked_applicant_name,
        waiting_case.applicant_phone,
        waiting_case.applicant_id_number,
    ):
        assert secret not in page


def test_the_id_digits_work_too_and_an_accepted_case_shows_its_due_date(
    citizen_client, clerk, committed_item, at
) -> None:
    with at("2025-09-25"):
        case = actions.open_case(clerk, committed_item, person(id_number=resident_id(21)))
        actions.accept(
            clerk,
            case,
            1,
            updates=[actions.MaterialUpdate(check.pk, "received") for check in case.material_checks.all()],
        )
    response = ask(citizen_client, case.number, resident_id(21)[-4:].lower())
    page = response.content.decode()
    assert response.status_code == 200
    assert "已受理，正在办理" in page
    assert "2025年10月9日" in page


def test_a_wrong_guess_gets_the_same_answer_as_an_unknown_number(citizen_client, waiting_case) -> None:
    wrong_digits = ask(citizen_client, waiting_case.number, "0000")
    unknown = ask(citizen_client, "2099010100000000", APPLICANT_PHONE[-4:])
    assert wrong_digits.status_code == unknown.status_code == 404
    assert "办件编号或后四位不正确。" in wrong_digits.content.decode()
    assert "办件编号或后四位不正确。" in unknown.content.decode()
    assert "待补正" not in wrong_digits.content.decode()


def test_wrong_guesses_are_limited_per_address(citizen_client, waiting_case) -> None:
    for attempt in range(5):
        assert ask(citizen_client, f"20990101000000{attempt:02d}", "1234").status_code == 404
    # The sixth try from the same address is refused, even with the right digits
    response = ask(citizen_client, waiting_case.number, APPLICANT_PHONE[-4:])
    assert response.status_code == 429
    assert "查询失败次数过多，请 15 分钟后再试。" in response.content.decode()
    # Another address is not affected
    assert (
        ask(citizen_client, waiting_case.number, APPLICANT_PHONE[-4:], address="10.0.0.2").status_code == 200
    )


def test_wrong_guesses_are_limited_per_case_across_addresses(citizen_client, waiting_case) -> None:
    for attempt in range(5):
        assert (
            ask(
                citizen_client, waiting_case.number, f"{attempt:04d}", address=f"10.0.1.{attempt}"
            ).status_code
            == 404
        )
    assert (
        ask(citizen_client, waiting_case.number, APPLICANT_PHONE[-4:], address="10.0.2.1").status_code == 429
    )


def test_incomplete_input_is_a_bad_request_and_not_counted(citizen_client, waiting_case) -> None:
    for _attempt in range(6):
        assert ask(citizen_client, waiting_case.number, "12").status_code == 400
    assert ask(citizen_client, waiting_case.number, APPLICANT_PHONE[-4:]).status_code == 200
    assert AuditRecord.objects.filter(action="access.denied").count() == 0


def test_a_deferred_case_shows_the_deadline_for_the_missing_material(
    citizen_client, clerk, committed_item, at
) -> None:
    with at("2025-09-26"):
        case = actions.open_case(clerk, committed_item, person())
        actions.accept_with_deferred(clerk, case, 1, 3, updates=received_except(case, "劳动合同"))
    page = ask(citizen_client, case.number, APPLICANT_PHONE[-4:]).content.decode()
    assert "已容缺受理，正在办理（请按时补齐容缺材料）" in page
    assert "<dt>尚需提交</dt><dd>劳动合同</dd>" in page
    assert "<dt>容缺材料补齐期限</dt><dd>2025年9月30日</dd>" in page
