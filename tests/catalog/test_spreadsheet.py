"""The 事项清单 as .xlsx: export, import with every error placed by sheet, row and column, round trip."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import Workbook, load_workbook

from servicehall.audit.models import AuditRecord
from servicehall.catalog import actions, spreadsheet
from servicehall.catalog.models import ServiceItem
from servicehall.lib.errors import ActionRefused, PermissionRefused
from tests.catalog.conftest import fee, item_data, material

ITEM_ROW = [
    "RS-100",
    "社会保险登记",
    "TOWN-A",
    "RS",
    "承诺件",
    10,
    3,
    "否",
    "条件",
    "依据",
    "是",
    "是",
    "否",
    "否",
    "社保",
    "是",
]


def workbook(**rows: list[list[Any]]) -> bytes:
    return spreadsheet.write_workbook(rows)


def catalogue_state() -> list[dict[str, Any]]:
    return [actions.item_picture(item) for item in ServiceItem.objects.order_by("code")]


def sheet_rows(content: bytes, title: str) -> list[list[Any]]:
    book = load_workbook(io.BytesIO(content))
    return [list(row) for row in book[title].iter_rows(values_only=True)]


@pytest.fixture
def stocked(centre_administrator, department, window, second_window, other_department, other_window) -> None:
    actions.create_item(
        centre_administrator,
        item_data(
            department,
            [window, second_window],
            is_free=False,
            fees=[fee("工本费", "10.00", "依据一"), fee("证书费", "2.50", "依据二")],
            deemed_approval_on_timeout=True,
            delivery_by_cabinet=True,
            conditions="第一行\n第二行",
        ),
    )
    actions.create_item(
        centre_administrator,
        item_data(
            other_department,
            [other_window],
            code="MZ-010",
            name='=HYPERLINK("http://evil")',
            item_type="immediate",
            statutory_limit_days=0,
            committed_limit_days=0,
            is_published=False,
            materials=[material("户口簿", form="electronic", is_mandatory=False)],
            steps=[],
        ),
    )


def test_export_has_six_sheets_with_chinese_headers(stocked, centre_administrator) -> None:
    content = spreadsheet.export_catalogue(ServiceItem.objects.all())
    book = load_workbook(io.BytesIO(content))
    assert book.sheetnames == ["事项", "材料", "收费", "流程", "窗口", "协办部门"]
    items = sheet_rows(content, "事项")
    assert items[0] == [
        "事项编码",
        "事项名称",
        "场所编码",
        "部门编码",
        "办件类型",
        "法定办结时限（工作日）",
        "承诺办结时限（工作日）",
        "适用超时默认",
        "受理条件",
        "设定依据",
        "不收费",
        "窗口领取",
        "邮寄送达",
        "24小时自助文件柜",
        "关键词",
        "对外公开",
    ]
    assert items[1] == [
        "MZ-010",
        '=HYPERLINK("http://evil")',
        "TOWN-B",
        "MZ",
        "即办件",
        0,
        0,
        "否",
        "在本市参加失业保险并已办理失业登记。",
        "《失业保险条例》第十四条",
        "是",
        "是",
        "否",
        "否",
        "失业金 社保",
        "否",
    ]
    assert items[2][:8] == ["RS-001", "失业保险金申领", "TOWN-A", "RS", "承诺件", 20, 5, "是"]
    assert sheet_rows(content, "材料")[1:] == [
        ["MZ-010", "户口簿", 1, "电子材料", "否", "否", None, None],
        ["RS-001", "居民身份证", 1, "原件", "是", "否", None, None],
        ["RS-001", "失业登记证明", 2, "复印件", "是", "是", "加盖公章", None],
    ]
    assert sheet_rows(content, "收费")[1:] == [
        ["RS-001", "工本费", 10, "依据一"],
        ["RS-001", "证书费", 2.5, "依据二"],
    ]
    assert sheet_rows(content, "流程")[0] == ["事项编码", "环节名称", "环节说明"]
    assert sheet_rows(content, "窗口")[1:] == [
        ["MZ-010", "TOWN-B", 2, "民政窗口"],
        ["RS-001", "TOWN-A", 3, "社保综合窗口"],
        ["RS-001", "TOWN-A", 5, "综合受理窗口"],
    ]
    # A name that looks like a formula stays text: Excel will not run it.
    assert book["事项"]["B2"].data_type == "s"


def test_round_trip_export_then_import_changes_nothing(stocked, centre_administrator) -> None:
    # Given a catalogue with a fee-charging item, an unpublished 即办件 and a 样表 file
    sample_owner = ServiceItem.objects.get(code="RS-001").materials.get(position=1)
    actions.upload_material_sample(
        centre_administrator, sample_owner, SimpleUploadedFile("a.pdf", b"%PDF-1.4")
    )
    first = catalogue_state()
    # When it is exported and the file imported again unchanged
    content = spreadsheet.export_catalogue(ServiceItem.objects.all())
    result = actions.import_catalogue(centre_administrator, content)
    # Then every item is updated to exactly what it was, 样表 included, and a new export is the same
    assert result == actions.ImportResult(created=0, updated=2, materials=3, fees=2, steps=2, windows=3)
    assert catalogue_state() == first
    again = spreadsheet.export_catalogue(ServiceItem.objects.all())
    for title in ("事项", "材料", "收费", "流程", "窗口"):
        assert sheet_rows(again, title) == sheet_rows(content, title)


def test_import_creates_items_and_records_the_counts(centre_administrator, department, window) -> None:
    content = workbook(
        items=[
            ITEM_ROW,
            [
                "RS-101",
                "即办证明",
                "town-a",
                "rs",
                "即办件",
                0,
                0,
                "否",
                "",
                "",
                "是",
                "是",
                "否",
                "否",
                "",
                "否",
            ],
        ],
        materials=[
            ["RS-100", "身份证", 1, "原件", "是", "否", ""],
            ["RS-100", "照片", "2", "复印件", "是", "是", "近期"],
        ],
        steps=[["RS-100", "受理", ""], ["RS-100", "办结", "出证"]],
        windows=[["RS-100", "TOWN-A", 3], ["rs-101", "town-a", "3"]],
    )
    result = actions.import_catalogue(centre_administrator, content)
    assert result == actions.ImportResult(created=2, updated=0, materials=2, fees=0, steps=2, windows=2)
    created = ServiceItem.objects.get(code="RS-100")
    assert (created.site_id, created.department_id, created.item_type, created.is_published) == (
        department.site_id,
        department.pk,
        "committed",
        True,
    )
    assert list(created.materials.values_list("position", "name", "copies", "is_deferrable")) == [
        (1, "身份证", 1, False),
        (2, "照片", 2, True),
    ]
    assert ServiceItem.objects.get(code="RS-101").is_published is False
    audit = AuditRecord.objects.get(action="catalog.catalogue_imported")
    assert audit.after == {
        "created": 2,
        "updated": 0,
        "materials": 2,
        "fees": 0,
        "steps": 2,
        "windows": 2,
        "joint_departments": 0,
    }
    assert audit.actor == centre_administrator


def test_import_updates_by_code_and_leaves_other_items_alone(stocked, centre_administrator) -> None:
    untouched = actions.item_picture(ServiceItem.objects.get(code="MZ-010"))
    row = [
        "RS-001",
        "失业保险金申领（新）",
        "TOWN-A",
        "RS",
        "承诺件",
        20,
        4,
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
    actions.import_catalogue(centre_administrator, workbook(items=[row]))
    updated = ServiceItem.objects.get(code="RS-001")
    assert (updated.name, updated.committed_limit_days, updated.is_free) == ("失业保险金申领（新）", 4, True)
    assert updated.materials.count() == 0
    assert updated.fees.count() == 0
    assert actions.item_picture(ServiceItem.objects.get(code="MZ-010")) == untouched


def test_import_reports_every_error_with_sheet_row_and_column_and_imports_nothing(
    stocked, centre_administrator
) -> None:
    # Given a file with errors on several sheets and one good item
    before = catalogue_state()
    content = workbook(
        items=[
            ITEM_ROW,
            [
                "RS-102",
                "承诺超法定",
                "TOWN-A",
                "RS",
                "承诺件",
                3,
                5,
                "否",
                "",
                "",
                "是",
                "是",
                "否",
                "否",
                "",
                "是",
            ],
            [
                "RS-103",
                "负时限",
                "TOWN-A",
                "RS",
                "联办件",
                -1,
                0,
                "否",
                "",
                "",
                "是",
                "是",
                "否",
                "否",
                "",
                "是",
            ],
            [
                "RS-100",
                "重复",
                "TOWN-A",
                "RS",
                "承诺件",
                3,
                1,
                "否",
                "",
                "",
                "是",
                "是",
                "否",
                "否",
                "",
                "是",
            ],
            [
                "RS 104",
                "坏编码",
                "TOWN-A",
                "XX",
                "急件",
                "十",
                1,
                "也许",
                "",
                "",
                "是",
                "是",
                "否",
                "否",
                "",
                "是",
            ],
        ],
        materials=[
            ["RS-100", "身份证", 1, "原件", "是", "否", ""],
            ["RS-100", "照片", 0, "原件", "是", "否", ""],
            ["RS-100", "户口簿", "两份", "原件", "否", "是", ""],
            ["RS-100", "证明", 1, "原件", "否", "是", ""],
            ["RS-999", "身份证", 1, "扫描件", "是", "否", ""],
        ],
        fees=[["RS-100", "工本费", "十元", "依据"]],
        windows=[["RS-100", "TOWN-A", 99]],
    )
    # When it is imported
    with pytest.raises(actions.CatalogueImportRefused) as refusal:
        actions.import_catalogue(centre_administrator, content)
    # Then every error is named by sheet, row and column, in reading order
    assert refusal.value.lines == [
        "工作表 事项 第 3 行 第 G 列（承诺办结时限（工作日））：承诺办结时限（5 个工作日）不能超过法定办结时限（3 个工作日）。",
        "工作表 事项 第 4 行 第 A 列（事项编码）：联办件由两个以上部门并联审批：除实施部门（牵头部门）外，至少选择一个协办部门。",
        "工作表 事项 第 4 行 第 F 列（法定办结时限（工作日））：法定办结时限不能为负数。",
        "工作表 事项 第 4 行 第 G 列（承诺办结时限（工作日））：联办件的承诺办结时限至少为 1 个工作日，只有即办件可以为 0。",
        "工作表 事项 第 5 行 第 A 列（事项编码）：事项编码 RS-100 与第 2 行重复",
        "工作表 事项 第 6 行 第 A 列（事项编码）：事项编码只能包含字母、数字、连字符和下划线，且以字母或数字开头。",
        "工作表 事项 第 6 行 第 D 列（部门编码）：该场所下没有此部门，或不在您的管理范围内",
        "工作表 事项 第 6 行 第 E 列（办件类型）：必须是即办件、承诺件、联办件或上报件",
        "工作表 事项 第 6 行 第 F 列（法定办结时限（工作日））：必须是整数",
        "工作表 事项 第 6 行 第 H 列（适用超时默认）：必须填“是”或“否”",
        "工作表 材料 第 3 行 第 C 列（份数）：份数必须是 1 到 99 的整数。",
        "工作表 材料 第 4 行 第 C 列（份数）：必须是正整数",
        "工作表 材料 第 5 行 第 F 列（可容缺）：容缺只适用于必需材料：非必需材料不能标记为可容缺。",
        "工作表 材料 第 6 行 第 A 列（事项编码）：事项 RS-999 不在“事项”工作表中",
        "工作表 材料 第 6 行 第 D 列（材料形式）：必须是原件、复印件、原件和复印件或电子材料",
        "工作表 收费 第 2 行 第 C 列（金额（元））：必须是数字",
        "工作表 窗口 第 2 行 第 C 列（窗口号）：该场所没有此启用中的窗口，或不在您的管理范围内",
    ]
    # And nothing was imported or recorded as imported
    assert catalogue_state() == before
    assert not AuditRecord.objects.filter(action="catalog.catalogue_imported").exists()


def test_import_of_an_item_held_by_a_site_outside_the_scope_is_refused(
    stocked, town_administrator, department
) -> None:
    row = ["MZ-010", "改名", "TOWN-A", "RS", "承诺件", 3, 1, "否", "", "", "是", "是", "否", "否", "", "是"]
    with pytest.raises(actions.CatalogueImportRefused) as refusal:
        actions.import_catalogue(town_administrator, workbook(items=[row]))
    assert refusal.value.lines == [
        "工作表 事项 第 2 行 第 A 列（事项编码）：事项编码 MZ-010 已被其他场所使用。"
    ]
    assert ServiceItem.objects.get(code="MZ-010").name == '=HYPERLINK("http://evil")'


def test_import_refuses_departments_outside_the_scope(stocked, town_administrator) -> None:
    row = ["MZ-200", "新事项", "TOWN-B", "MZ", "承诺件", 3, 1, "否", "", "", "是", "是", "否", "否", "", "是"]
    with pytest.raises(actions.CatalogueImportRefused) as refusal:
        actions.import_catalogue(town_administrator, workbook(items=[row]))
    assert refusal.value.lines == [
        "工作表 事项 第 2 行 第 D 列（部门编码）：该场所下没有此部门，或不在您的管理范围内"
    ]
    assert not ServiceItem.objects.filter(code="MZ-200").exists()


def test_missing_sheet_or_wrong_header_is_reported(centre_administrator, department) -> None:
    book = Workbook()
    book.active.title = "事项"
    book.active.append(["编码", "名称"])
    output = io.BytesIO()
    book.save(output)
    with pytest.raises(actions.CatalogueImportRefused) as refusal:
        actions.import_catalogue(centre_administrator, output.getvalue())
    assert refusal.value.lines == [
        "工作表 事项 第 1 行：表头应为：事项编码、事项名称、场所编码、部门编码、办件类型、法定办结时限（工作日）、承诺办结时限（工作日）、适用超时默认、受理条件、设定依据、不收费、窗口领取、邮寄送达、24小时自助文件柜、关键词、对外公开",
        "工作表 材料：缺少此工作表",
        "工作表 收费：缺少此工作表",
        "工作表 流程：缺少此工作表",
        "工作表 窗口：缺少此工作表",
    ]


def test_a_file_that_is_not_xlsx_is_refused(centre_administrator) -> None:
    with pytest.raises(ActionRefused) as refusal:
        actions.import_catalogue(centre_administrator, b"PK\x03\x04 not really a workbook")
    assert refusal.value.message == "无法读取 Excel 文件，请使用本系统导出的 .xlsx 格式。"


def test_an_empty_catalogue_is_refused(centre_administrator) -> None:
    with pytest.raises(actions.CatalogueImportRefused) as refusal:
        actions.import_catalogue(centre_administrator, workbook())
    assert refusal.value.lines == ["文件中没有事项。"]


def test_import_needs_the_catalogue_capability(clerk) -> None:
    with pytest.raises(PermissionRefused):
        actions.import_catalogue(clerk, workbook(items=[ITEM_ROW]))
    assert ServiceItem.objects.count() == 0


def test_import_rejects_overlong_text_in_a_cell(centre_administrator, department) -> None:
    row = list(ITEM_ROW)
    row[1] = "名" * 10_000
    with pytest.raises(actions.CatalogueImportRefused) as refusal:
        actions.import_catalogue(centre_administrator, workbook(items=[row]))
    assert refusal.value.lines == ["工作表 事项 第 2 行 第 B 列（事项名称）：事项名称不能超过 200 个字符。"]
