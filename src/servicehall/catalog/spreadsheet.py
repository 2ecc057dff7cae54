"""The catalogue as an .xlsx 事项清单: six sheets with Chinese headers, written by the export and read by
the import. Reading only checks the shape of each cell; the rules of an item are in catalog.actions."""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from openpyxl import Workbook, load_workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.utils import get_column_letter

from servicehall.catalog.actions import (
    CatalogueImportRefused,
    FeeData,
    ItemData,
    MaterialData,
    StepData,
)
from servicehall.catalog.models import (
    Fee,
    ItemType,
    ItemWindow,
    JointDepartment,
    Material,
    MaterialForm,
    ProcessStep,
    ServiceItem,
)
from servicehall.lib.errors import ActionRefused

ROWS_PER_SHEET_MAX = 50_000
YES = "是"
NO = "否"


@dataclass(frozen=True)
class Column:
    key: str
    header: Any
    width: int = 14
    read_only: bool = False


@dataclass(frozen=True)
class Sheet:
    key: str
    title: str
    columns: tuple[Column, ...]
    # A sheet added after files were first exported: a file without it simply has no such rows.
    optional: bool = False

    def letter(self, key: str) -> str | None:
        for index, column in enumerate(self.columns, start=1):
            if column.key == key:
                return get_column_letter(index)
        return None

    def header(self, key: str) -> str:
        return next(str(column.header) for column in self.columns if column.key == key)

    @property
    def required_headers(self) -> list[str]:
        return [str(column.header) for column in self.columns if not column.read_only]


ITEMS = Sheet(
    "items",
    "事项",
    (
        Column("code", gettext_lazy("事项编码"), 22),
        Column("name", gettext_lazy("事项名称"), 30),
        Column("site_code", gettext_lazy("场所编码")),
        Column("department_code", gettext_lazy("部门编码")),
        Column("item_type", gettext_lazy("办件类型"), 10),
        Column("statutory_limit_days", gettext_lazy("法定办结时限（工作日）"), 12),
        Column("committed_limit_days", gettext_lazy("承诺办结时限（工作日）"), 12),
        Column("deemed_approval_on_timeout", gettext_lazy("适用超时默认"), 8),
        Column("conditions", gettext_lazy("受理条件"), 40),
        Column("legal_basis", gettext_lazy("设定依据"), 40),
        Column("is_free", gettext_lazy("不收费"), 8),
        Column("delivery_at_window", gettext_lazy("窗口领取"), 8),
        Column("delivery_by_post", gettext_lazy("邮寄送达"), 8),
        Column("delivery_by_cabinet", gettext_lazy("24小时自助文件柜"), 8),
        Column("keywords", gettext_lazy("关键词"), 20),
        Column("is_published", gettext_lazy("对外公开"), 8),
    ),
)
MATERIALS = Sheet(
    "materials",
    "材料",
    (
        Column("code", gettext_lazy("事项编码"), 22),
        Column("name", gettext_lazy("材料名称"), 30),
        Column("copies", gettext_lazy("份数"), 6),
        Column("form", gettext_lazy("材料形式"), 12),
        Column("is_mandatory", gettext_lazy("必需"), 6),
        Column("is_deferrable", gettext_lazy("可容缺"), 6),
        Column("notes", gettext_lazy("要求说明"), 30),
        Column("sample_file", gettext_lazy("样表文件（只读）"), 20, read_only=True),
    ),
)
FEES = Sheet(
    "fees",
    "收费",
    (
        Column("code", gettext_lazy("事项编码"), 22),
        Column("name", gettext_lazy("收费名称"), 24),
        Column("amount", gettext_lazy("金额（元）"), 10),
        Column("legal_basis", gettext_lazy("收费依据"), 40),
    ),
)
STEPS = Sheet(
    "steps",
    "流程",
    (
        Column("code", gettext_lazy("事项编码"), 22),
        Column("name", gettext_lazy("环节名称"), 16),
        Column("description", gettext_lazy("环节说明"), 40),
    ),
)
WINDOWS = Sheet(
    "windows",
    "窗口",
    (
        Column("code", gettext_lazy("事项编码"), 22),
        Column("site_code", gettext_lazy("场所编码")),
        Column("window", gettext_lazy("窗口号"), 8),
        Column("window_name", gettext_lazy("窗口名称（只读）"), 20, read_only=True),
    ),
)
JOINT_DEPARTMENTS = Sheet(
    "joint_departments",
    "协办部门",
    (
        Column("code", gettext_lazy("事项编码"), 22),
        Column("site_code", gettext_lazy("场所编码")),
        Column("department", gettext_lazy("部门编码")),
        Column("department_name", gettext_lazy("部门名称（只读）"), 24, read_only=True),
    ),
    optional=True,
)
SHEETS = (ITEMS, MATERIALS, FEES, STEPS, WINDOWS, JOINT_DEPARTMENTS)
SHEET_ORDER = {sheet.key: index for index, sheet in enumerate(SHEETS)}
# Where an item-level rule of catalog.actions points in the 事项 sheet.
ITEM_KEY_COLUMNS = {
    "code": "code",
    "name": "name",
    "department": "department_code",
    "item_type": "item_type",
    "statutory_limit_days": "statutory_limit_days",
    "committed_limit_days": "committed_limit_days",
    "conditions": "conditions",
    "legal_basis": "legal_basis",
    "keywords": "keywords",
    "is_free": "is_free",
    "delivery": "delivery_at_window",
}
NESTED_SHEETS = {
    "materials": MATERIALS,
    "fees": FEES,
    "steps": STEPS,
    "windows": WINDOWS,
    "joint_departments": JOINT_DEPARTMENTS,
}


# ---------------------------------------------------------------------------------------------
# Problems with a place


@dataclass(frozen=True, order=True)
class Problem:
    sheet_order: int
    row: int
    column_order: int
    text: str


def problem(sheet: Sheet, row: int | None, column_key: str | None, message: str) -> Problem:
    letter = sheet.letter(column_key) if column_key else None
    if row is None:
        text = _("工作表 %(sheet)s：%(message)s") % {"sheet": sheet.title, "message": message}
    elif letter is None:
        text = _("工作表 %(sheet)s 第 %(row)d 行：%(message)s") % {
            "sheet": sheet.title,
            "row": row,
            "message": message,
        }
    else:
        text = _("工作表 %(sheet)s 第 %(row)d 行 第 %(column)s 列（%(header)s）：%(message)s") % {
            "sheet": sheet.title,
            "row": row,
            "column": letter,
            "header": sheet.header(column_key),
            "message": message,
        }
    column_order = [column.key for column in sheet.columns].index(column_key) if letter else -1
    return Problem(SHEET_ORDER[sheet.key], row or 0, column_order, text)


# The cells each item-level rule reads: when one of them could not be read, the rule stays silent.
RULE_COLUMNS = {
    "department": {"site_code", "department_code"},
    "item_type": {"item_type"},
    "statutory_limit_days": {"statutory_limit_days", "item_type"},
    "committed_limit_days": {"committed_limit_days", "statutory_limit_days", "item_type"},
    "is_free": {"is_free"},
    "delivery": {"delivery_at_window", "delivery_by_post", "delivery_by_cabinet"},
    "joint_departments": {"item_type", "site_code", "department_code"},
}


@dataclass
class ParsedItem:
    data: ItemData
    row: int
    nested_rows: dict[str, list[int]] = field(
        default_factory=lambda: {
            "materials": [],
            "fees": [],
            "steps": [],
            "windows": [],
            "joint_departments": [],
        }
    )
    unreadable: set[str] = field(default_factory=set)

    def speaks_to(self, key: str) -> bool:
        """Whether a rule's message adds to what the unreadable cells of this row already say."""
        return not (RULE_COLUMNS.get(key, set()) & self.unreadable)

    def locate(self, key: str, message: str) -> Problem:
        """Place a rule broken by this item at its sheet, row and column."""
        parts = key.split(".")
        if parts[0] in NESTED_SHEETS and len(parts) >= 2 and parts[1].isdigit():
            sheet = NESTED_SHEETS[parts[0]]
            rows = self.nested_rows[parts[0]]
            index = int(parts[1])
            row = rows[index] if index < len(rows) else None
            column = parts[2] if len(parts) > 2 else None
            return problem(sheet, row, column if column and sheet.letter(column) else None, message)
        if parts[0] in NESTED_SHEETS:
            return problem(ITEMS, self.row, "code", message)
        return problem(ITEMS, self.row, ITEM_KEY_COLUMNS.get(key), message)


@dataclass
class ParsedCatalogue:
    items: list[ParsedItem]
    problems: list[Problem]


# ---------------------------------------------------------------------------------------------
# Writing


def _yes_no(value: bool) -> str:
    return YES if value else NO


def write_workbook(rows_by_sheet: dict[str, Iterable[Sequence[Any]]]) -> bytes:
    """An .xlsx with the six sheets; every text cell is stored as text, never as a formula."""
    workbook = Workbook(write_only=True)
    for sheet in SHEETS:
        worksheet = workbook.create_sheet(sheet.title)
        for index, column in enumerate(sheet.columns, start=1):
            worksheet.column_dimensions[get_column_letter(index)].width = column.width
        worksheet.freeze_panes = "A2"
        worksheet.append([str(column.header) for column in sheet.columns])
        for values in rows_by_sheet.get(sheet.key, []):
            worksheet.append([_cell(worksheet, value) for value in values])
    output = io.BytesIO()
    workbook.save(output)
    return output.getvalue()


def _cell(worksheet: Any, value: Any) -> Any:
    if not isinstance(value, str):
        return value
    cell = WriteOnlyCell(worksheet, value=value)
    # A name such as "=HYPERLINK(…)" stays the text it is when the file is opened.
    cell.data_type = "s"
    return cell


def export_catalogue(items: QuerySet[ServiceItem]) -> bytes:
    items = items.select_related("site", "department", "department__site").order_by("code")
    item_rows = []
    item_ids = []
    codes: dict[int, str] = {}
    for item in items:
        item_ids.append(item.pk)
        codes[item.pk] = item.code
        item_rows.append(
            [
                item.code,
                item.name,
                item.department.site.code,
                item.department.code,
                str(ItemType(item.item_type).label),
                item.statutory_limit_days,
                item.committed_limit_days,
                _yes_no(item.deemed_approval_on_timeout),
                item.conditions,
                item.legal_basis,
                _yes_no(item.is_free),
                _yes_no(item.delivery_at_window),
                _yes_no(item.delivery_by_post),
                _yes_no(item.delivery_by_cabinet),
                item.keywords,
                _yes_no(item.is_published),
            ]
        )
    item_ids.sort(key=lambda pk: codes[pk])
    order = {pk: index for index, pk in enumerate(item_ids)}
    materials = sorted(
        Material.objects.filter(item_id__in=item_ids), key=lambda row: (order[row.item_id], row.position)
    )
    fees = sorted(Fee.objects.filter(item_id__in=item_ids), key=lambda row: (order[row.item_id], row.pk))
    steps = sorted(
        ProcessStep.objects.filter(item_id__in=item_ids), key=lambda row: (order[row.item_id], row.position)
    )
    links = sorted(
        ItemWindow.objects.filter(item_id__in=item_ids).select_related("window__site"),
        key=lambda row: (order[row.item_id], row.window.site.code, row.window.number),
    )
    joint = sorted(
        JointDepartment.objects.filter(item_id__in=item_ids).select_related("department__site"),
        key=lambda row: (order[row.item_id], row.position),
    )
    return write_workbook(
        {
            "items": item_rows,
            "materials": (
                [
                    codes[row.item_id],
                    row.name,
                    row.copies,
                    str(MaterialForm(row.form).label),
                    _yes_no(row.is_mandatory),
                    _yes_no(row.is_deferrable),
                    row.notes,
                    row.sample_file.name or "",
                ]
                for row in materials
            ),
            "fees": ([codes[row.item_id], row.name, row.amount, row.legal_basis] for row in fees),
            "steps": ([codes[row.item_id], row.name, row.description] for row in steps),
            "windows": (
                [codes[row.item_id], row.window.site.code, row.window.number, row.window.name]
                for row in links
            ),
            "joint_departments": (
                [codes[row.item_id], row.department.site.code, row.department.code, row.department.name]
                for row in joint
            ),
        }
    )


# ---------------------------------------------------------------------------------------------
# Reading


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return YES if value else NO
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _integer(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    text = _text(value)
    if text.lstrip("-").isdigit() and len(text) <= 7:
        return int(text)
    return None


def _boolean(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    text = _text(value).lower()
    if text in {YES, "y", "yes", "true", "1"}:
        return True
    if text in {NO, "n", "no", "false", "0"}:
        return False
    return None


def _labelled_choice(value: Any, choices: Any) -> str | None:
    text = _text(value)
    for choice_value, label in choices.choices:
        if text in {str(label), choice_value}:
            return choice_value
    return None


class _RowReader:
    """One row of one sheet; every cell that cannot be read adds its own problem."""

    def __init__(self, sheet: Sheet, row: int, values: Sequence[Any], problems: list[Problem]) -> None:
        self.sheet = sheet
        self.row = row
        self.values = {
            column.key: values[index] if index < len(values) else None
            for index, column in enumerate(sheet.columns)
        }
        self.problems = problems
        self.failed: set[str] = set()

    def fail(self, key: str, message: str) -> None:
        self.failed.add(key)
        self.problems.append(problem(self.sheet, self.row, key, message))

    def text(self, key: str) -> str:
        return _text(self.values[key])

    def integer(self, key: str, message: str) -> int | None:
        value = _integer(self.values[key])
        if value is None:
            self.fail(key, message)
        return value

    def boolean(self, key: str) -> bool:
        value = _boolean(self.values[key])
        if value is None:
            self.fail(key, _("必须填“是”或“否”"))
            return False
        return value


def _read_rows(workbook: Any, sheet: Sheet, problems: list[Problem]) -> list[tuple[int, tuple[Any, ...]]]:
    if sheet.title not in workbook.sheetnames:
        if not sheet.optional:
            problems.append(problem(sheet, None, None, _("缺少此工作表")))
        return []
    rows: list[tuple[int, tuple[Any, ...]]] = []
    iterator = workbook[sheet.title].iter_rows(values_only=True)
    header = [_text(value) for value in next(iterator, ())]
    expected = sheet.required_headers
    if header[: len(expected)] != expected:
        problems.append(
            problem(sheet, 1, None, _("表头应为：%(headers)s") % {"headers": "、".join(expected)})
        )
        return []
    for number, values in enumerate(iterator, start=2):
        if number - 1 > ROWS_PER_SHEET_MAX:
            problems.append(
                problem(
                    sheet,
                    number,
                    None,
                    _("行数超过 %(limit)d 行，请分批导入") % {"limit": ROWS_PER_SHEET_MAX},
                )
            )
            break
        if all(value is None or _text(value) == "" for value in values):
            continue
        rows.append((number, values))
    return rows


def parse_catalogue(
    content: bytes,
    *,
    departments: dict[tuple[str, str], int],
    windows: dict[tuple[str, int], int],
) -> ParsedCatalogue:
    """Read every row of every sheet. ``departments`` and ``windows`` hold what the importer may use,
    keyed by lower-cased (site code, department code) and (site code, window number)."""
    try:
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises many types for a damaged or foreign file
        raise ActionRefused(
            _("无法读取 Excel 文件，请使用本系统导出的 .xlsx 格式。"), code="unreadable", field="file"
        ) from error
    problems: list[Problem] = []
    try:
        items = _parse_items(workbook, problems, departments)
        by_code = {entry.data.code.lower(): entry for entry in items if entry.data.code}
        _parse_materials(workbook, problems, by_code)
        _parse_fees(workbook, problems, by_code)
        _parse_steps(workbook, problems, by_code)
        _parse_windows(workbook, problems, by_code, windows)
        _parse_joint_departments(workbook, problems, by_code, departments)
    finally:
        workbook.close()
    return ParsedCatalogue(items, problems)


def _parse_items(
    workbook: Any, problems: list[Problem], departments: dict[tuple[str, str], int]
) -> list[ParsedItem]:
    items: list[ParsedItem] = []
    first_row: dict[str, int] = {}
    for number, values in _read_rows(workbook, ITEMS, problems):
        reader = _RowReader(ITEMS, number, values, problems)
        code = reader.text("code")
        if code and code.lower() in first_row:
            reader.fail(
                "code",
                _("事项编码 %(code)s 与第 %(row)d 行重复") % {"code": code, "row": first_row[code.lower()]},
            )
            continue
        if code:
            first_row[code.lower()] = number
        site_code, department_code = reader.text("site_code"), reader.text("department_code")
        department_id = None
        if not site_code:
            reader.fail("site_code", _("不能为空"))
        elif not department_code:
            reader.fail("department_code", _("不能为空"))
        else:
            department_id = departments.get((site_code.lower(), department_code.lower()))
            if department_id is None:
                reader.fail("department_code", _("该场所下没有此部门，或不在您的管理范围内"))
        item_type = _labelled_choice(reader.values["item_type"], ItemType)
        if item_type is None:
            reader.fail("item_type", _("必须是即办件、承诺件、联办件或上报件"))
        statutory = reader.integer("statutory_limit_days", _("必须是整数"))
        committed = reader.integer("committed_limit_days", _("必须是整数"))
        data = ItemData(
            code=code,
            name=reader.text("name"),
            department_id=department_id,
            item_type=item_type or "",
            statutory_limit_days=statutory,
            committed_limit_days=committed,
            deemed_approval_on_timeout=reader.boolean("deemed_approval_on_timeout"),
            conditions=_multiline(reader.values["conditions"]),
            legal_basis=_multiline(reader.values["legal_basis"]),
            is_free=reader.boolean("is_free"),
            delivery_at_window=reader.boolean("delivery_at_window"),
            delivery_by_post=reader.boolean("delivery_by_post"),
            delivery_by_cabinet=reader.boolean("delivery_by_cabinet"),
            keywords=reader.text("keywords"),
            is_published=reader.boolean("is_published"),
        )
        items.append(ParsedItem(data, number, unreadable=set(reader.failed)))
    return items


def _multiline(value: Any) -> str:
    return _text(value).replace("\r\n", "\n")


def _owner(reader: _RowReader, by_code: dict[str, ParsedItem]) -> ParsedItem | None:
    code = reader.text("code")
    if not code:
        reader.fail("code", _("不能为空"))
        return None
    owner = by_code.get(code.lower())
    if owner is None:
        reader.fail("code", _("事项 %(code)s 不在“事项”工作表中") % {"code": code})
    return owner


def _parse_materials(workbook: Any, problems: list[Problem], by_code: dict[str, ParsedItem]) -> None:
    for number, values in _read_rows(workbook, MATERIALS, problems):
        reader = _RowReader(MATERIALS, number, values, problems)
        owner = _owner(reader, by_code)
        copies = reader.integer("copies", _("必须是正整数"))
        form = _labelled_choice(reader.values["form"], MaterialForm)
        if form is None:
            reader.fail("form", _("必须是原件、复印件、原件和复印件或电子材料"))
        is_mandatory = reader.boolean("is_mandatory")
        is_deferrable = reader.boolean("is_deferrable")
        if owner is None or reader.failed:
            continue
        owner.data.materials.append(
            MaterialData(
                name=reader.text("name"),
                form=form,
                copies=copies,
                is_mandatory=is_mandatory,
                is_deferrable=is_deferrable,
                notes=reader.text("notes"),
            )
        )
        owner.nested_rows["materials"].append(number)


def _parse_fees(workbook: Any, problems: list[Problem], by_code: dict[str, ParsedItem]) -> None:
    for number, values in _read_rows(workbook, FEES, problems):
        reader = _RowReader(FEES, number, values, problems)
        owner = _owner(reader, by_code)
        raw = reader.values["amount"]
        try:
            amount = Decimal(str(raw).strip()) if raw is not None and not isinstance(raw, bool) else None
        except InvalidOperation:
            amount = None
        if amount is None or not amount.is_finite():
            reader.fail("amount", _("必须是数字"))
        if owner is None or reader.failed:
            continue
        owner.data.fees.append(
            FeeData(name=reader.text("name"), amount=amount, legal_basis=reader.text("legal_basis"))
        )
        owner.nested_rows["fees"].append(number)


def _parse_steps(workbook: Any, problems: list[Problem], by_code: dict[str, ParsedItem]) -> None:
    for number, values in _read_rows(workbook, STEPS, problems):
        reader = _RowReader(STEPS, number, values, problems)
        owner = _owner(reader, by_code)
        if owner is None:
            continue
        owner.data.steps.append(StepData(name=reader.text("name"), description=reader.text("description")))
        owner.nested_rows["steps"].append(number)


def _parse_windows(
    workbook: Any,
    problems: list[Problem],
    by_code: dict[str, ParsedItem],
    windows: dict[tuple[str, int], int],
) -> None:
    for number, values in _read_rows(workbook, WINDOWS, problems):
        reader = _RowReader(WINDOWS, number, values, problems)
        owner = _owner(reader, by_code)
        site_code = reader.text("site_code")
        window_number = reader.integer("window", _("必须是正整数"))
        if not site_code:
            reader.fail("site_code", _("不能为空"))
        if reader.failed:
            continue
        window_id = windows.get((site_code.lower(), window_number))
        if window_id is None:
            reader.fail("window", _("该场所没有此启用中的窗口，或不在您的管理范围内"))
            continue
        if owner is None:
            continue
        if window_id in owner.data.window_ids:
            reader.fail("window", _("与本事项的另一行重复"))
            continue
        owner.data.window_ids.append(window_id)
        owner.nested_rows["windows"].append(number)


def _parse_joint_departments(
    workbook: Any,
    problems: list[Problem],
    by_code: dict[str, ParsedItem],
    departments: dict[tuple[str, str], int],
) -> None:
    for number, values in _read_rows(workbook, JOINT_DEPARTMENTS, problems):
        reader = _RowReader(JOINT_DEPARTMENTS, number, values, problems)
        owner = _owner(reader, by_code)
        site_code, department_code = reader.text("site_code"), reader.text("department")
        if not site_code:
            reader.fail("site_code", _("不能为空"))
        if not department_code:
            reader.fail("department", _("不能为空"))
        if reader.failed:
            continue
        department_id = departments.get((site_code.lower(), department_code.lower()))
        if department_id is None:
            reader.fail("department", _("该场所下没有此部门，或不在您的管理范围内"))
            continue
        if owner is None:
            continue
        if department_id in owner.data.joint_department_ids:
            reader.fail("department", _("与本事项的另一行重复"))
            continue
        owner.data.joint_department_ids.append(department_id)
        owner.nested_rows["joint_departments"].append(number)


def refusal(problems: list[Problem]) -> CatalogueImportRefused:
    return CatalogueImportRefused([entry.text for entry in sorted(set(problems))])
