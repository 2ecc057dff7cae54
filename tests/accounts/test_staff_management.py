"""Creating and editing staff accounts: validation before anything is written, masked values kept."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from servicehall.accounts.models import User
from servicehall.audit.models import AuditRecord
from tests.accounts.conftest import (
    CHECK_DIGIT_MESSAGE,
    FULL_PHONE,
    FULL_RESIDENT_ID,
    MASKED_PHONE,
    MASKED_RESIDENT_ID,
    RESIDENT_ID_WITH_WRONG_CHECK_DIGIT,
    assert_nothing_changed,
    log_in,
    state,
)
from tests.factories import DepartmentFactory

INITIAL_PASSWORD = "Initial#Pass2026"


def new_staff(site: Any, /, **overrides: Any) -> dict[str, Any]:
    return {
        "username": "wangfang",
        "full_name": "王芳",
        "staff_number": "B0007",
        "site": site.pk,
        "department": "",
        "rank": 3,
        "mobile_phone": "139-0000-1111",
        "resident_id": "44200019900307123x",
        "password": INITIAL_PASSWORD,
        "is_active": "on",
        **overrides,
    }


def edited(staff: User, **overrides: Any) -> dict[str, Any]:
    return {
        "username": staff.username,
        "full_name": staff.full_name,
        "staff_number": staff.staff_number,
        "site": staff.site_id,
        "department": staff.department_id or "",
        "rank": staff.rank,
        "mobile_phone": staff.masked_mobile_phone,
        "resident_id": staff.masked_resident_id,
        "is_active": "on" if staff.is_active else "",
        **overrides,
    }


@pytest.mark.parametrize("actor", ["centre_administrator", "system_administrator"])
def test_managers_create_an_account_that_is_audited_without_personal_data(
    request: pytest.FixtureRequest, town_site, department, client_for, actor: str
) -> None:
    manager = request.getfixturevalue(actor)
    response = client_for(manager).post(
        "/accounts/staff/new/", new_staff(town_site, department=department.pk)
    )
    assert response.status_code == 302
    staff = User.objects.get(username="wangfang")
    assert response["Location"] == f"/accounts/staff/{staff.pk}/"
    assert (staff.full_name, staff.staff_number, staff.site, staff.department, staff.rank) == (
        "王芳",
        "B0007",
        town_site,
        department,
        3,
    )
    assert staff.mobile_phone == "13900001111"
    assert staff.resident_id == FULL_RESIDENT_ID
    assert staff.check_password(INITIAL_PASSWORD)
    assert staff.password_changed_at is None
    assert staff.role_codes == set()
    created = AuditRecord.objects.get(action="accounts.staff_created")
    assert created.actor == manager
    assert created.after == {
        "username": "wangfang",
        "full_name": "王芳",
        "staff_number": "B0007",
        "site": town_site.pk,
        "department": department.pk,
        "rank": 3,
        "is_active": True,
        "language": "zh-hans",
        "two_factor_opt_in": False,
    }
    assert log_in(Client(), "wangfang", INITIAL_PASSWORD).status_code == 302


@pytest.mark.parametrize("actor", ["security_administrator", "audit_administrator", "supervisor", "clerk"])
def test_other_roles_cannot_create_accounts(
    request: pytest.FixtureRequest, town_site, client_for, actor: str
) -> None:
    client = client_for(request.getfixturevalue(actor))
    before = state()
    assert client.get("/accounts/staff/new/").status_code == 403
    assert client.post("/accounts/staff/new/", new_staff(town_site)).status_code == 403
    assert_nothing_changed(before)
    assert not User.objects.filter(username="wangfang").exists()


@pytest.mark.parametrize(
    ("overrides", "field_message"),
    [
        ({"username": "clerk"}, "登录名已被使用。"),
        ({"staff_number": "CLERK-NUMBER"}, "工号已被使用。"),
        ({"resident_id": RESIDENT_ID_WITH_WRONG_CHECK_DIGIT}, CHECK_DIGIT_MESSAGE),
        ({"resident_id": "12345"}, "身份证号应为18位"),
        ({"mobile_phone": "12345678901"}, "手机号码号段无效"),
        ({"mobile_phone": "138****5678"}, "手机号码包含无效字符"),
        ({"username": "has space"}, "登录名只能包含字母、数字和 @/./+/-/_ 字符。"),
        ({"full_name": "   "}, "这个字段是必填项。"),
        ({"password": "short"}, "密码至少须 8 位。"),
        ({"password": "wangfang2026!"}, "密码与登录名过于相似。"),
        ({"rank": "99"}, "选择一个有效的选项"),
        ({"site": "999999"}, "选择一个有效的选项"),
    ],
)
def test_invalid_accounts_are_refused_and_nothing_is_written(
    clerk: User, town_site, centre_administrator: User, client_for, overrides: dict, field_message: str
) -> None:
    User.objects.filter(pk=clerk.pk).update(staff_number="CLERK-NUMBER")
    client = client_for(centre_administrator)
    before = state()
    response = client.post("/accounts/staff/new/", new_staff(town_site, **overrides))
    assert response.status_code == 400
    assert field_message in response.content.decode()
    assert_nothing_changed(before)


def test_a_department_of_another_site_is_refused(
    town_site, other_town_site, centre_administrator: User, client_for
) -> None:
    elsewhere = DepartmentFactory(site=other_town_site, code="GA", name="公安局")
    client = client_for(centre_administrator)
    before = state()
    response = client.post("/accounts/staff/new/", new_staff(town_site, department=elsewhere.pk))
    assert response.status_code == 400
    assert "部门不属于所选服务场所。" in response.content.decode()
    assert_nothing_changed(before)


def test_editing_with_masked_values_left_alone_keeps_the_stored_values(
    personal_staff: User, centre_administrator: User, client_for
) -> None:
    client = client_for(centre_administrator)
    response = client.post(
        f"/accounts/staff/{personal_staff.pk}/edit/", edited(personal_staff, full_name="张敏华")
    )
    assert response.status_code == 302
    personal_staff.refresh_from_db()
    assert personal_staff.full_name == "张敏华"
    assert personal_staff.mobile_phone == FULL_PHONE
    assert personal_staff.resident_id == FULL_RESIDENT_ID
    updated = AuditRecord.objects.get(action="accounts.staff_updated")
    assert updated.before["full_name"] == "张敏"
    assert updated.after["full_name"] == "张敏华"
    assert "personal_data_changed" not in updated.after


def test_a_new_valid_phone_replaces_the_stored_one_and_is_audited_as_changed(
    personal_staff: User, centre_administrator: User, client_for
) -> None:
    client = client_for(centre_administrator)
    response = client.post(
        f"/accounts/staff/{personal_staff.pk}/edit/", edited(personal_staff, mobile_phone="+86 139 0000 1111")
    )
    assert response.status_code == 302
    personal_staff.refresh_from_db()
    assert personal_staff.mobile_phone == "13900001111"
    assert personal_staff.resident_id == FULL_RESIDENT_ID
    updated = AuditRecord.objects.get(action="accounts.staff_updated")
    assert updated.after["personal_data_changed"] is True
    assert "13900001111" not in str(updated.hashed_fields())


def test_an_invalid_check_digit_is_refused_with_the_gb_11643_message(
    personal_staff: User, centre_administrator: User, client_for
) -> None:
    client = client_for(centre_administrator)
    before = state()
    response = client.post(
        f"/accounts/staff/{personal_staff.pk}/edit/",
        edited(personal_staff, resident_id=RESIDENT_ID_WITH_WRONG_CHECK_DIGIT, full_name="改名"),
    )
    assert response.status_code == 400
    assert "身份证号校验位错误 / Invalid check digit in resident ID number" in response.content.decode()
    assert_nothing_changed(before)


@pytest.mark.parametrize(
    ("field", "message"), [("username", "登录名已被使用。"), ("staff_number", "工号已被使用。")]
)
def test_editing_into_a_duplicate_is_refused(
    personal_staff: User, clerk: User, centre_administrator: User, client_for, field: str, message: str
) -> None:
    client = client_for(centre_administrator)
    before = state()
    response = client.post(
        f"/accounts/staff/{personal_staff.pk}/edit/", edited(personal_staff, **{field: getattr(clerk, field)})
    )
    assert response.status_code == 400
    assert message in response.content.decode()
    assert_nothing_changed(before)


def test_a_manager_cannot_deactivate_themself(centre_administrator: User, client_for) -> None:
    client = client_for(centre_administrator)
    before = state()
    response = client.post(
        f"/accounts/staff/{centre_administrator.pk}/edit/", edited(centre_administrator, is_active="")
    )
    assert response.status_code == 400
    assert "不能停用自己的账户。" in response.content.decode()
    assert_nothing_changed(before)


def test_deactivating_someone_ends_their_session(
    personal_staff: User, centre_administrator: User, client_for
) -> None:
    their_session = client_for(personal_staff)
    assert their_session.get("/").status_code == 200
    response = client_for(centre_administrator).post(
        f"/accounts/staff/{personal_staff.pk}/edit/", edited(personal_staff, is_active="")
    )
    assert response.status_code == 302
    assert their_session.get("/").status_code == 302


def test_unlocking_a_locked_account(clerk: User, security_administrator: User, client_for) -> None:
    for _attempt in range(5):
        log_in(Client(), "clerk", "Wrong-Password-1")
    client = client_for(security_administrator)
    assert "解除锁定" in client.get(f"/accounts/staff/{clerk.pk}/").content.decode()
    assert client.post(f"/accounts/staff/{clerk.pk}/unlock/").status_code == 302
    clerk.refresh_from_db()
    assert clerk.locked_until is None
    assert AuditRecord.objects.filter(action="accounts.unlocked").count() == 1
    assert log_in(Client(), "clerk").status_code == 302
    before = state()
    refused = client.post(f"/accounts/staff/{clerk.pk}/unlock/")
    assert refused.status_code == 400
    assert "该账户未被锁定。" in refused.content.decode()
    assert_nothing_changed(before)


def test_detail_and_edit_pages_render(personal_staff: User, centre_administrator: User, client_for) -> None:
    client = client_for(centre_administrator)
    detail = client.get(f"/accounts/staff/{personal_staff.pk}/").content.decode()
    assert "张敏" in detail
    assert MASKED_PHONE in detail
    edit = client.get(f"/accounts/staff/{personal_staff.pk}/edit/").content.decode()
    assert "编辑 张敏" in edit
    assert MASKED_RESIDENT_ID in edit


def test_the_staff_list_pages_keep_the_filters(supervisor: User, town_site, client_for) -> None:
    from tests.conftest import make_staff

    for number in range(30):
        make_staff(town_site, username=f"extra{number}", full_name=f"窗口人员{number}")
    body = client_for(supervisor).get("/accounts/staff/", {"query": "窗口人员"}).content.decode()
    assert "第 1/2 页，共 30 人" in body
    assert 'href="?query=%E7%AA%97%E5%8F%A3%E4%BA%BA%E5%91%98&amp;page=2"' in body
