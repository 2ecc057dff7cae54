"""联办件: the 协办部门 that handle an item in parallel with its 牵头部门 (并联审批) — rules, form, guide,
spreadsheet and API."""

from __future__ import annotations

import io
import json
import re
from typing import Any

import pytest
from openpyxl import load_workbook

from servicehall.audit.models import AuditRecord
from servicehall.catalog import actions, spreadsheet
from servicehall.catalog.models import JointDepartment, ServiceItem
from tests.catalog.conftest import item_data
from tests.catalog.test_backoffice import item_post
from tests.factories import DepartmentFactory

JOINT_NEEDS_TWO = "联办件由两个以上部门并联审批：除实施部门（牵头部门）外，至少选择一个协办部门。"


def joint(department: Any, *co_departments: Any, **overrides: Any) -> actions.ItemData:
    return item_data(
        department,
        code=overrides.pop("code", "LB-001"),
        name=overrides.pop("name", "企业开办"),
        item_type="joint",
        joint_department_ids=[co.pk for co in co_departments],
        **overrides,
    )


def state() -> tuple[Any, ...]:
    return (
        [actions.item_picture(item) for item in ServiceItem.objects.order_by("code")],
        AuditRecord.objects.filter(action__startswith="catalog.").count(),
    )


def refused(actor: Any, data: actions.ItemData, item: ServiceItem | None = None) -> dict[str, str]:
    before = state()
    save = (
        (lambda: actions.create_item(actor, data))
        if item is None
        else (lambda: actions.update_item(actor, item, data))
    )
    with pytest.raises(actions.CatalogInputRefused) as refusal:
        save()
    assert refusal.value.status == 400
    assert state() == before
    return refusal.value.errors


@pytest.fixture
def third_department(town_site: Any) -> Any:
    return DepartmentFactory(site=town_site, code="SW", name="税务局")


# ---------------------------------------------------------------------------------------------
# Rules


def test_a_joint_item_records_its_co_departments_in_order(
    centre_administrator, department, second_department, third_department
) -> None:
    item = actions.create_item(centre_administrator, joint(department, third_department, second_department))
    assert list(
        JointDepartment.objects.filter(item=item).values_list("position", "department__code", "site_id")
    ) == [(1, "SW", item.site_id), (2, "SJ", item.site_id)]
    assert [department.code for department in item.participating_departments()] == ["RS", "SW", "SJ"]
    audit = AuditRecord.objects.get(action="catalog.item_created")
    assert audit.after["joint_departments"] == ["TOWN-A/SW", "TOWN-A/SJ"]


def test_a_joint_item_without_a_co_department_is_refused(centre_administrator, department) -> None:
    assert refused(centre_administrator, joint(department)) == {"joint_departments": JOINT_NEEDS_TWO}


def test_other_item_types_take_no_co_departments(centre_administrator, department, second_department) -> None:
    data = item_data(department, joint_department_ids=[second_department.pk])
    assert refused(centre_administrator, data) == {
        "joint_departments": "只有联办件设置协办部门；承诺件由实施部门独立办理。"
    }


@pytest.mark.parametrize(
    ("co_departments", "message"),
    [
        ("lead", "协办部门不能与实施部门（牵头部门）相同。"),
        ("twice", "协办部门 市场监督管理局 重复。"),
        ("unknown", "协办部门不存在或不在您的管理范围内。"),
        ("other_town", "协办部门须进驻实施部门所在场所或其上级场所。"),
    ],
)
def test_each_co_department_rule_has_its_message(
    centre_administrator, department, second_department, other_department, co_departments, message
) -> None:
    identifiers = {
        "lead": [department.pk],
        "twice": [second_department.pk, second_department.pk],
        "unknown": [999_999],
        "other_town": [other_department.pk],
    }[co_departments]
    data = item_data(department, code="LB-001", item_type="joint", joint_department_ids=identifiers)
    key = "joint_departments.1.department" if co_departments == "twice" else "joint_departments.0.department"
    assert refused(centre_administrator, data) == {key: message}


def test_a_department_of_the_city_above_may_take_part(centre_administrator, department, city_site) -> None:
    city_department = DepartmentFactory(site=city_site, code="FG", name="发展和改革局")
    item = actions.create_item(centre_administrator, joint(department, city_department))
    assert [department.code for department in item.participating_departments()] == ["RS", "FG"]


def test_a_department_outside_the_scope_does_not_exist(
    town_administrator, department, other_department
) -> None:
    assert refused(town_administrator, joint(department, other_department)) == {
        "joint_departments.0.department": "协办部门不存在或不在您的管理范围内。"
    }


def test_a_deactivated_department_stays_but_cannot_be_added(
    centre_administrator, department, second_department, third_department
) -> None:
    item = actions.create_item(centre_administrator, joint(department, second_department))
    second_department.is_active = False
    second_department.save()
    third_department.is_active = False
    third_department.save()
    # Saving the item again with the department it had works
    actions.update_item(
        centre_administrator, item, joint(department, second_department, name="企业开办（改）")
    )
    # But a deactivated department cannot be added
    errors = refused(centre_administrator, joint(department, second_department, third_department), item)
    assert errors == {"joint_departments.1.department": "协办部门 税务局 已停用，不能再分配事项。"}


def test_update_replaces_the_co_departments_and_a_new_type_clears_them(
    centre_administrator, department, second_department, third_department
) -> None:
    item = actions.create_item(centre_administrator, joint(department, second_department))
    actions.update_item(centre_administrator, item, joint(department, third_department))
    assert list(item.joint_departments.values_list("department__code", flat=True)) == ["SW"]
    actions.update_item(centre_administrator, item, item_data(department, code="LB-001"))
    assert JointDepartment.objects.filter(item=item).count() == 0
    assert ServiceItem.objects.get(pk=item.pk).item_type == "committed"


# ---------------------------------------------------------------------------------------------
# Back office form and public guide


def test_the_form_saves_co_departments(
    client_for, centre_administrator, department, second_department
) -> None:
    client = client_for(centre_administrator)
    assert "协办部门（联办件）" in client.get("/catalog/new/").content.decode()
    response = client.post(
        "/catalog/new/",
        item_post(department, [], item_type="joint", joint_departments=[second_department.pk]),
    )
    assert response.status_code == 302
    item = ServiceItem.objects.get(code="RS-200")
    assert list(item.joint_departments.values_list("department_id", flat=True)) == [second_department.pk]
    edit = client.get(f"/catalog/items/{item.pk}/").content.decode()
    assert re.search(
        rf'name="joint_departments" value="{second_department.pk}" id="id_joint_departments_\d+" checked',
        edit,
    )


def test_the_form_shows_the_rule_and_saves_nothing(client_for, centre_administrator, department) -> None:
    before = state()
    response = client_for(centre_administrator).post(
        "/catalog/new/", item_post(department, [], item_type="joint")
    )
    assert response.status_code == 400
    assert JOINT_NEEDS_TWO in response.content.decode()
    assert state() == before


def test_the_public_guide_names_lead_and_co_departments(
    citizen_client, centre_administrator, department, second_department, third_department
) -> None:
    actions.create_item(centre_administrator, joint(department, second_department, third_department))
    body = citizen_client.get("/guide/LB-001/").content.decode()
    assert "并联审批：牵头部门 人力资源和社会保障局；协办部门 市场监督管理局、税务局" in body


def test_other_items_show_no_parallel_approval_line(citizen_client, item) -> None:
    assert "并联审批" not in citizen_client.get("/guide/RS-001/").content.decode()


# ---------------------------------------------------------------------------------------------
# Spreadsheet


def rows_of(content: bytes, title: str) -> list[list[Any]]:
    book = load_workbook(io.BytesIO(content))
    return [list(row) for row in book[title].iter_rows(values_only=True)]


def test_export_lists_co_departments_and_the_file_imports_back(
    centre_administrator, department, second_department, third_department
) -> None:
    actions.create_item(centre_administrator, joint(department, third_department, second_department))
    content = spreadsheet.export_catalogue(ServiceItem.objects.all())
    assert rows_of(content, "协办部门") == [
        ["事项编码", "场所编码", "部门编码", "部门名称（只读）"],
        ["LB-001", "TOWN-A", "SW", "税务局"],
        ["LB-001", "TOWN-A", "SJ", "市场监督管理局"],
    ]
    before = [actions.item_picture(item) for item in ServiceItem.objects.order_by("code")]
    result = actions.import_catalogue(centre_administrator, content)
    assert (result.updated, result.joint_departments) == (1, 2)
    assert [actions.item_picture(item) for item in ServiceItem.objects.order_by("code")] == before


def item_row(code: str, item_type: str) -> list[Any]:
    return [
        code,
        "企业开办",
        "TOWN-A",
        "RS",
        item_type,
        10,
        3,
        "否",
        "",
        "",
        "是",
        "是",
        "否",
        "否",
        "",
        "是",
    ]


def test_import_places_co_department_errors_and_imports_nothing(
    centre_administrator, department, second_department
) -> None:
    content = spreadsheet.write_workbook(
        {
            "items": [
                item_row("LB-010", "联办件"),
                item_row("LB-011", "联办件"),
                item_row("RS-012", "承诺件"),
            ],
            "joint_departments": [
                ["LB-010", "TOWN-A", "XX"],
                ["LB-010", "TOWN-A", "SJ"],
                ["LB-010", "TOWN-A", "sj"],
                ["RS-012", "TOWN-A", "SJ"],
            ],
        }
    )
    before = state()
    with pytest.raises(actions.CatalogueImportRefused) as refusal:
        actions.import_catalogue(centre_administrator, content)
    assert refusal.value.lines == [
        "工作表 事项 第 3 行 第 A 列（事项编码）：" + JOINT_NEEDS_TWO,
        "工作表 事项 第 4 行 第 A 列（事项编码）：只有联办件设置协办部门；承诺件由实施部门独立办理。",
        "工作表 协办部门 第 2 行 第 C 列（部门编码）：该场所下没有此部门，或不在您的管理范围内",
        "工作表 协办部门 第 4 行 第 C 列（部门编码）：与本事项的另一行重复",
    ]
    assert state() == before


def test_a_file_without_the_co_department_sheet_still_imports(centre_administrator, department) -> None:
    content = spreadsheet.write_workbook({"items": [item_row("RS-020", "承诺件")]})
    book = load_workbook(io.BytesIO(content))
    del book["协办部门"]
    stripped = io.BytesIO()
    book.save(stripped)
    result = actions.import_catalogue(centre_administrator, stripped.getvalue())
    assert (result.created, result.joint_departments) == (1, 0)


# ---------------------------------------------------------------------------------------------
# API


def test_the_api_writes_and_reads_co_departments(
    client_for, centre_administrator, department, second_department
) -> None:
    client = client_for(centre_administrator)
    body = {
        "code": "LB-030",
        "name": "企业开办",
        "department_id": department.pk,
        "item_type": "joint",
        "statutory_limit_days": 10,
        "committed_limit_days": 5,
        "joint_department_ids": [second_department.pk],
    }
    response = client.post("/api/catalog/items", data=json.dumps(body), content_type="application/json")
    assert response.status_code == 201, response.content
    assert response.json()["joint_department_ids"] == [second_department.pk]
    before = state()
    response = client.post(
        "/api/catalog/items",
        data=json.dumps({**body, "code": "LB-031", "joint_department_ids": []}),
        content_type="application/json",
    )
    assert response.status_code == 400
    assert response.json()["detail"] == JOINT_NEEDS_TWO
    assert state() == before
