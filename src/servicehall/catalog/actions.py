"""Every change to the catalogue (事项库) and to what a site discloses (六公开): one function, one
transaction, one audit record.

Managers (Capability.MANAGE_CATALOG) act inside their own site subtree; items, departments, windows
and sites outside it do not exist for them. An item is saved whole: its materials, fees, steps and
windows are replaced together with it, or (on any error) nothing changes.
"""

from __future__ import annotations

import re
import unicodedata
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import PurePath
from typing import TYPE_CHECKING, Any

from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from servicehall.accounts.permissions import require_capability, require_in_scope
from servicehall.accounts.roles import Capability
from servicehall.audit.actions import record, snapshot
from servicehall.catalog.models import (
    Fee,
    ItemType,
    ItemWindow,
    JointDepartment,
    Material,
    MaterialForm,
    PledgeKind,
    ProcessStep,
    ServiceItem,
    ServicePledge,
    SiteDisclosure,
)
from servicehall.lib.errors import ActionRefused
from servicehall.sites.models import Department, Site, Window

if TYPE_CHECKING:
    from servicehall.accounts.models import User

CODE_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*")
CODE_MAX_LENGTH = 40
NAME_MAX_LENGTH = 200
KEYWORDS_MAX_LENGTH = 200
LONG_TEXT_MAX_LENGTH = 2000
MATERIAL_NAME_MAX_LENGTH = 200
MATERIAL_NOTES_MAX_LENGTH = 500
FEE_NAME_MAX_LENGTH = 200
FEE_BASIS_MAX_LENGTH = 500
STEP_NAME_MAX_LENGTH = 100
STEP_DESCRIPTION_MAX_LENGTH = 500
PLEDGE_TEXT_MAX_LENGTH = 500
LIMIT_DAYS_MAX = 999
COPIES_MAX = 99
AMOUNT_MAX = Decimal("99999999.99")
MATERIALS_MAX = 50
FEES_MAX = 20
STEPS_MAX = 30
WINDOWS_MAX = 50
JOINT_DEPARTMENTS_MAX = 20
PLEDGES_MAX = 100
SAMPLE_MAX_BYTES = 5 * 1024 * 1024
# What each accepted extension's file starts with: a renamed executable is not a 样表.
SAMPLE_SIGNATURES: dict[str, tuple[bytes, ...]] = {
    "pdf": (b"%PDF",),
    "doc": (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",),
    "xls": (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",),
    "docx": (b"PK\x03\x04",),
    "xlsx": (b"PK\x03\x04",),
    "jpg": (b"\xff\xd8\xff",),
    "jpeg": (b"\xff\xd8\xff",),
    "png": (b"\x89PNG\r\n\x1a\n",),
}
SAMPLE_EXTENSIONS = ("pdf", "doc", "docx", "xls", "xlsx", "jpg", "png")

ITEM_AUDITED_FIELDS = [
    "code",
    "name",
    "site",
    "department",
    "item_type",
    "statutory_limit_days",
    "committed_limit_days",
    "deemed_approval_on_timeout",
    "conditions",
    "legal_basis",
    "is_free",
    "delivery_at_window",
    "delivery_by_post",
    "delivery_by_cabinet",
    "keywords",
    "is_published",
]
ITEM_EDITABLE_FIELDS = [
    name for name in ITEM_AUDITED_FIELDS if name not in {"code", "site", "department", "is_published"}
]


# ---------------------------------------------------------------------------------------------
# Input


@dataclass
class MaterialData:
    name: str
    form: str = MaterialForm.ORIGINAL
    copies: Any = 1
    is_mandatory: bool = True
    is_deferrable: bool = False
    notes: str = ""
    # The material this row continues, so its 样表 file is kept (matched by name when absent).
    previous_id: int | None = None


@dataclass
class FeeData:
    name: str
    amount: Any
    legal_basis: str


@dataclass
class StepData:
    name: str
    description: str = ""


@dataclass
class ItemData:
    """An item as a manager sets it, with its nested lists in order (positions 1..n follow the order)."""

    code: str
    name: str
    department_id: int | None
    item_type: str
    statutory_limit_days: Any
    committed_limit_days: Any
    deemed_approval_on_timeout: bool = False
    conditions: str = ""
    legal_basis: str = ""
    is_free: bool = True
    delivery_at_window: bool = True
    delivery_by_post: bool = False
    delivery_by_cabinet: bool = False
    keywords: str = ""
    # Only create_item and the import set it; set_item_published changes it on an existing item.
    is_published: bool = True
    materials: list[MaterialData] = field(default_factory=list)
    fees: list[FeeData] = field(default_factory=list)
    steps: list[StepData] = field(default_factory=list)
    window_ids: list[int] = field(default_factory=list)
    # 协办部门 of a 联办件, besides ``department`` (the 牵头部门); other types have none.
    joint_department_ids: list[int] = field(default_factory=list)


@dataclass
class PledgeData:
    kind: str
    text: str
    staff_id: int | None = None


NESTED_LABELS = {
    "materials": gettext_lazy("申请材料"),
    "fees": gettext_lazy("收费项目"),
    "steps": gettext_lazy("办理流程"),
    "windows": gettext_lazy("办理窗口"),
    "joint_departments": gettext_lazy("协办部门"),
    "pledges": gettext_lazy("服务承诺"),
}


def describe_error(key: str, message: str) -> str:
    """A message as one line that says where it belongs: "申请材料第 2 项：份数必须是 1 到 99 的整数。"."""
    parts = key.split(".")
    if len(parts) >= 2 and parts[1].isdigit():
        return _("%(list)s第 %(number)d 项：%(message)s") % {
            "list": str(NESTED_LABELS.get(parts[0], parts[0])),
            "number": int(parts[1]) + 1,
            "message": message,
        }
    return message


class CatalogInputRefused(ActionRefused):
    """Input that breaks one or more rules; ``errors`` maps each field (``materials.2.copies``) to its message."""

    def __init__(self, errors: dict[str, str], code: str = "invalid_item") -> None:
        field_name, message = next(iter(errors.items()))
        super().__init__(describe_error(field_name, message), code=code, field=field_name)
        self.errors = errors

    def lines(self) -> list[str]:
        return [describe_error(key, message) for key, message in self.errors.items()]


# ---------------------------------------------------------------------------------------------
# Shared checks


def search_text(value: str, max_length: int = 100) -> str:
    """A search box's text without control characters (which no name holds and PostgreSQL refuses)."""
    return "".join(character for character in value if unicodedata.category(character) != "Cc").strip()[
        :max_length
    ]


def _control_characters(value: str, *, multiline: bool) -> bool:
    allowed = {"\n", "\r", "\t"} if multiline else set()
    return any(unicodedata.category(character) == "Cc" and character not in allowed for character in value)


def clean_text(
    value: Any,
    key: str,
    errors: dict[str, str],
    *,
    label: Any,
    max_length: int,
    required: bool = False,
    multiline: bool = False,
) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str):
        errors[key] = _("%(label)s格式不正确。") % {"label": label}
        return ""
    value = value.strip()
    if required and not value:
        errors[key] = _("%(label)s不能为空。") % {"label": label}
    elif len(value) > max_length:
        errors[key] = _("%(label)s不能超过 %(limit)d 个字符。") % {"label": label, "limit": max_length}
    elif _control_characters(value, multiline=multiline):
        errors[key] = _("%(label)s不能包含控制字符。") % {"label": label}
    return value


def _as_integer(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and re.fullmatch(r"\s*-?\d{1,6}\s*", value):
        return int(value)
    return None


def _clean_days(value: Any, key: str, errors: dict[str, str], label: Any) -> int | None:
    days = _as_integer(value)
    if days is None:
        errors[key] = _("%(label)s必须是整数（工作日）。") % {"label": label}
    elif days < 0:
        errors[key] = _("%(label)s不能为负数。") % {"label": label}
    elif days > LIMIT_DAYS_MAX:
        errors[key] = _("%(label)s不能超过 %(limit)d 个工作日。") % {"label": label, "limit": LIMIT_DAYS_MAX}
    else:
        return days
    return None


def _clean_amount(value: Any, key: str, errors: dict[str, str]) -> Decimal | None:
    try:
        amount = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        amount = None
    if isinstance(value, bool) or amount is None or not amount.is_finite():
        errors[key] = _("金额必须是大于 0 的数字，最多两位小数。")
        return None
    if amount <= 0 or amount != amount.quantize(Decimal("0.01")):
        errors[key] = _("金额必须是大于 0 的数字，最多两位小数。")
        return None
    if amount > AMOUNT_MAX:
        errors[key] = _("金额不能超过 %(limit)s 元。") % {"limit": AMOUNT_MAX}
        return None
    return amount.quantize(Decimal("0.01"))


def _flag(value: Any) -> bool:
    return value is True


@dataclass
class Lookups:
    """What validation needs from the database, fetched once (for one item, or for a whole import)."""

    departments: dict[int, Department]
    windows: dict[int, Window]
    items_by_code: dict[str, tuple[int, int]]  # lower-cased code -> (item id, site id)
    site_parents: dict[int, int | None] = field(default_factory=dict)  # every site in scope -> its parent

    def site_and_ancestors(self, site_id: int) -> set[int]:
        """A site and the sites above it that are in scope (three levels at most)."""
        found: set[int] = set()
        current: int | None = site_id
        while current is not None and current not in found:
            found.add(current)
            current = self.site_parents.get(current)
        return found

    @classmethod
    def for_items(cls, actor: User, items: Sequence[ItemData]) -> Lookups:
        scope = actor.accessible_site_ids()
        department_ids = {data.department_id for data in items if isinstance(data.department_id, int)} | {
            identifier
            for data in items
            for identifier in data.joint_department_ids
            if isinstance(identifier, int)
        }
        window_ids = {
            identifier for data in items for identifier in data.window_ids if isinstance(identifier, int)
        }
        # Only what can be a code is looked up: PostgreSQL refuses NUL and such in a query.
        codes = [
            data.code.strip()
            for data in items
            if isinstance(data.code, str) and CODE_PATTERN.fullmatch(data.code.strip())
        ]
        return cls.load(scope, department_ids=department_ids, window_ids=window_ids, codes=codes)

    @classmethod
    def load(
        cls,
        scope: set[int],
        *,
        department_ids: Iterable[int] | None = None,
        window_ids: Iterable[int] | None = None,
        codes: Iterable[str] | None = None,
    ) -> Lookups:
        departments = Department.objects.filter(site_id__in=scope).select_related("site")
        windows = Window.objects.filter(site_id__in=scope, is_active=True).select_related("site")
        items = ServiceItem.objects.all()
        if department_ids is not None:
            departments = departments.filter(pk__in=list(department_ids))
        if window_ids is not None:
            windows = windows.filter(pk__in=list(window_ids))
        if codes is not None:
            wanted = Q()
            for code in codes:
                wanted |= Q(code__iexact=code)
            items = items.filter(wanted) if wanted else items.none()
        return cls(
            departments={department.pk: department for department in departments},
            windows={window.pk: window for window in windows},
            items_by_code={
                code.lower(): (pk, site_id)
                for pk, code, site_id in items.values_list("pk", "code", "site_id")
            },
            site_parents=dict(Site.objects.filter(pk__in=scope).values_list("pk", "parent_id")),
        )


@dataclass
class CleanItem:
    """An item that passed every rule, ready to be written."""

    data: ItemData
    department: Department
    windows: list[Window]
    statutory_limit_days: int
    committed_limit_days: int
    amounts: list[Decimal]
    joint_departments: list[Department] = field(default_factory=list)


def item_problems(
    data: ItemData, existing: ServiceItem | None, lookups: Lookups
) -> tuple[dict[str, str], CleanItem | None]:
    """Every rule an item must keep, each broken rule with its own message; nothing is written here."""
    errors: dict[str, str] = {}
    code = clean_text(
        data.code, "code", errors, label=gettext_lazy("事项编码"), max_length=CODE_MAX_LENGTH, required=True
    )
    if "code" not in errors and not CODE_PATTERN.fullmatch(code):
        errors["code"] = _("事项编码只能包含字母、数字、连字符和下划线，且以字母或数字开头。")
    if "code" not in errors:
        holder = lookups.items_by_code.get(code.lower())
        if holder is not None and (existing is None or holder[0] != existing.pk):
            errors["code"] = _("事项编码 %(code)s 已被使用。") % {"code": code}
    data.code = code
    data.name = clean_text(
        data.name, "name", errors, label=gettext_lazy("事项名称"), max_length=NAME_MAX_LENGTH, required=True
    )

    department = lookups.departments.get(data.department_id) if isinstance(data.department_id, int) else None
    if data.department_id is None:
        errors["department"] = _("请选择实施部门。")
    elif department is None:
        errors["department"] = _("实施部门不存在或不在您的管理范围内。")
    elif not department.is_active and (existing is None or existing.department_id != department.pk):
        errors["department"] = _("实施部门已停用，不能再分配事项。")

    item_type = data.item_type if data.item_type in ItemType.values else None
    if item_type is None:
        errors["item_type"] = _("办件类型无效，应为即办件、承诺件、联办件或上报件。")
    statutory = _clean_days(
        data.statutory_limit_days, "statutory_limit_days", errors, gettext_lazy("法定办结时限")
    )
    committed = _clean_days(
        data.committed_limit_days, "committed_limit_days", errors, gettext_lazy("承诺办结时限")
    )
    if item_type is not None and item_type != ItemType.IMMEDIATE:
        type_label = ItemType(item_type).label
        for key, days, label in (
            ("statutory_limit_days", statutory, _("法定办结时限")),
            ("committed_limit_days", committed, _("承诺办结时限")),
        ):
            if days == 0:
                errors[key] = _("%(type)s的%(label)s至少为 1 个工作日，只有即办件可以为 0。") % {
                    "type": type_label,
                    "label": label,
                }
    if item_type == ItemType.IMMEDIATE and committed is not None and committed != 0:
        errors["committed_limit_days"] = _("即办件当场办结，承诺办结时限应为 0。")
    if (
        statutory is not None
        and committed is not None
        and committed > statutory
        and "committed_limit_days" not in errors
    ):
        errors["committed_limit_days"] = _(
            "承诺办结时限（%(committed)d 个工作日）不能超过法定办结时限（%(statutory)d 个工作日）。"
        ) % {"committed": committed, "statutory": statutory}

    data.conditions = clean_text(
        data.conditions,
        "conditions",
        errors,
        label=gettext_lazy("受理条件"),
        max_length=LONG_TEXT_MAX_LENGTH,
        multiline=True,
    )
    data.legal_basis = clean_text(
        data.legal_basis,
        "legal_basis",
        errors,
        label=gettext_lazy("设定依据"),
        max_length=LONG_TEXT_MAX_LENGTH,
        multiline=True,
    )
    data.keywords = clean_text(
        data.keywords, "keywords", errors, label=gettext_lazy("关键词"), max_length=KEYWORDS_MAX_LENGTH
    )
    data.deemed_approval_on_timeout = _flag(data.deemed_approval_on_timeout)
    data.is_free = _flag(data.is_free)
    data.delivery_at_window = _flag(data.delivery_at_window)
    data.delivery_by_post = _flag(data.delivery_by_post)
    data.delivery_by_cabinet = _flag(data.delivery_by_cabinet)
    data.is_published = _flag(data.is_published)
    if not (data.delivery_at_window or data.delivery_by_post or data.delivery_by_cabinet):
        errors["delivery"] = _("至少选择一种送达方式。")

    _check_materials(data.materials, errors)
    amounts = _check_fees(data.fees, errors)
    if data.is_free and data.fees:
        errors["is_free"] = _("已标记“不收费”的事项不能有收费项目。")
    elif not data.is_free and not data.fees:
        errors["is_free"] = _("收费事项至少要有一个收费项目；不收费请勾选“不收费”。")
    _check_steps(data.steps, errors)
    windows = _check_windows(data.window_ids, lookups, errors)
    joint = _check_joint_departments(data, item_type, department, existing, lookups, errors)

    if errors or department is None or statutory is None or committed is None:
        return errors, None
    return errors, CleanItem(data, department, windows, statutory, committed, amounts, joint)


def _joint_department_ids(item: ServiceItem | None) -> set[int]:
    if item is None:
        return set()
    return set(JointDepartment.objects.filter(item=item).values_list("department_id", flat=True))


def _check_joint_departments(
    data: ItemData,
    item_type: str | None,
    lead: Department | None,
    existing: ServiceItem | None,
    lookups: Lookups,
    errors: dict[str, str],
) -> list[Department]:
    """A 联办件 needs at least one 协办部门 beside its 牵头部门 (so two departments in all, 并联审批);
    the other types are handled by their own department alone. A 协办部门 sits at the lead's site or
    above it, where cases.start_approval lets an approval task go."""
    identifiers = data.joint_department_ids
    if not isinstance(identifiers, list):
        errors["joint_departments"] = _("协办部门格式不正确。")
        return []
    if len(identifiers) > JOINT_DEPARTMENTS_MAX:
        errors["joint_departments"] = _("协办部门不能超过 %(limit)d 个。") % {"limit": JOINT_DEPARTMENTS_MAX}
        return []
    if item_type is not None and item_type != ItemType.JOINT:
        if identifiers:
            errors["joint_departments"] = _("只有联办件设置协办部门；%(type)s由实施部门独立办理。") % {
                "type": ItemType(item_type).label
            }
        return []
    chosen = [
        lookups.departments.get(identifier) if isinstance(identifier, int) else None
        for identifier in identifiers
    ]
    # A department deactivated since stays on the items it already had; read only when one is chosen.
    previous = (
        _joint_department_ids(existing)
        if any(department is not None and not department.is_active for department in chosen)
        else set()
    )
    allowed_sites = lookups.site_and_ancestors(lead.site_id) if lead is not None else set()
    departments: list[Department] = []
    seen: set[int] = set()
    for index, department in enumerate(chosen):
        key = f"joint_departments.{index}.department"
        if department is None:
            errors[key] = _("协办部门不存在或不在您的管理范围内。")
        elif not department.is_active and department.pk not in previous:
            errors[key] = _("协办部门 %(name)s 已停用，不能再分配事项。") % {"name": department.name}
        elif lead is not None and department.pk == lead.pk:
            errors[key] = _("协办部门不能与实施部门（牵头部门）相同。")
        elif department.pk in seen:
            errors[key] = _("协办部门 %(name)s 重复。") % {"name": department.name}
        elif lead is not None and department.site_id not in allowed_sites:
            errors[key] = _("协办部门须进驻实施部门所在场所或其上级场所。")
        else:
            seen.add(department.pk)
            departments.append(department)
    if item_type == ItemType.JOINT and not identifiers and "joint_departments" not in errors:
        errors["joint_departments"] = _(
            "联办件由两个以上部门并联审批：除实施部门（牵头部门）外，至少选择一个协办部门。"
        )
    return departments


def _check_materials(materials: list[MaterialData], errors: dict[str, str]) -> None:
    if len(materials) > MATERIALS_MAX:
        errors["materials"] = _("申请材料不能超过 %(limit)d 项。") % {"limit": MATERIALS_MAX}
        return
    for index, material in enumerate(materials):
        prefix = f"materials.{index}."
        material.name = clean_text(
            material.name,
            prefix + "name",
            errors,
            label=gettext_lazy("材料名称"),
            max_length=MATERIAL_NAME_MAX_LENGTH,
            required=True,
        )
        if material.form not in MaterialForm.values:
            errors[prefix + "form"] = _("材料形式无效，应为原件、复印件、原件和复印件或电子材料。")
        copies = _as_integer(material.copies)
        if copies is None or not 1 <= copies <= COPIES_MAX:
            errors[prefix + "copies"] = _("份数必须是 1 到 %(limit)d 的整数。") % {"limit": COPIES_MAX}
        else:
            material.copies = copies
        material.is_mandatory = _flag(material.is_mandatory)
        material.is_deferrable = _flag(material.is_deferrable)
        if material.is_deferrable and not material.is_mandatory:
            errors[prefix + "is_deferrable"] = _("容缺只适用于必需材料：非必需材料不能标记为可容缺。")
        material.notes = clean_text(
            material.notes,
            prefix + "notes",
            errors,
            label=gettext_lazy("要求说明"),
            max_length=MATERIAL_NOTES_MAX_LENGTH,
        )


def _check_fees(fees: list[FeeData], errors: dict[str, str]) -> list[Decimal]:
    amounts: list[Decimal] = []
    if len(fees) > FEES_MAX:
        errors["fees"] = _("收费项目不能超过 %(limit)d 项。") % {"limit": FEES_MAX}
        return amounts
    for index, fee in enumerate(fees):
        prefix = f"fees.{index}."
        fee.name = clean_text(
            fee.name,
            prefix + "name",
            errors,
            label=gettext_lazy("收费名称"),
            max_length=FEE_NAME_MAX_LENGTH,
            required=True,
        )
        amount = _clean_amount(fee.amount, prefix + "amount", errors)
        amounts.append(amount if amount is not None else Decimal(0))
        fee.legal_basis = clean_text(
            fee.legal_basis,
            prefix + "legal_basis",
            errors,
            label=gettext_lazy("收费依据"),
            max_length=FEE_BASIS_MAX_LENGTH,
            required=True,
        )
    return amounts


def _check_steps(steps: list[StepData], errors: dict[str, str]) -> None:
    if len(steps) > STEPS_MAX:
        errors["steps"] = _("办理流程不能超过 %(limit)d 个环节。") % {"limit": STEPS_MAX}
        return
    for index, step in enumerate(steps):
        prefix = f"steps.{index}."
        step.name = clean_text(
            step.name,
            prefix + "name",
            errors,
            label=gettext_lazy("环节名称"),
            max_length=STEP_NAME_MAX_LENGTH,
            required=True,
        )
        step.description = clean_text(
            step.description,
            prefix + "description",
            errors,
            label=gettext_lazy("环节说明"),
            max_length=STEP_DESCRIPTION_MAX_LENGTH,
        )


def _check_windows(window_ids: list[int], lookups: Lookups, errors: dict[str, str]) -> list[Window]:
    if len(window_ids) > WINDOWS_MAX:
        errors["windows"] = _("办理窗口不能超过 %(limit)d 个。") % {"limit": WINDOWS_MAX}
        return []
    windows: list[Window] = []
    seen: set[int] = set()
    for index, identifier in enumerate(window_ids):
        window = lookups.windows.get(identifier) if isinstance(identifier, int) else None
        if window is None:
            errors[f"windows.{index}.window"] = _("窗口不存在、已停用或不在您的管理范围内。")
        elif window.pk not in seen:
            seen.add(window.pk)
            windows.append(window)
    return windows


# ---------------------------------------------------------------------------------------------
# Pictures for the audit trail


def item_picture(item: ServiceItem) -> dict[str, Any]:
    picture = snapshot(item, ITEM_AUDITED_FIELDS)
    picture["materials"] = [
        {
            "position": material.position,
            "name": material.name,
            "form": material.form,
            "copies": material.copies,
            "is_mandatory": material.is_mandatory,
            "is_deferrable": material.is_deferrable,
            "notes": material.notes,
            "sample_file": material.sample_file.name or "",
        }
        for material in Material.objects.filter(item=item).order_by("position")
    ]
    picture["fees"] = [
        {"name": fee.name, "amount": str(fee.amount), "legal_basis": fee.legal_basis}
        for fee in Fee.objects.filter(item=item).order_by("id")
    ]
    picture["steps"] = [
        {"position": step.position, "name": step.name, "description": step.description}
        for step in ProcessStep.objects.filter(item=item).order_by("position")
    ]
    picture["joint_departments"] = [
        f"{site_code}/{code}"
        for site_code, code in JointDepartment.objects.filter(item=item)
        .order_by("position")
        .values_list("department__site__code", "department__code")
    ]
    picture["windows"] = sorted(
        f"{site_code}#{number}"
        for site_code, number in ItemWindow.objects.filter(item=item).values_list(
            "window__site__code", "window__number"
        )
    )
    return picture


# ---------------------------------------------------------------------------------------------
# Writing items (shared by create, update and import)


def _apply_fields(item: ServiceItem, clean: CleanItem) -> None:
    data = clean.data
    item.code = data.code
    item.name = data.name
    item.department = clean.department
    item.site_id = clean.department.site_id
    item.item_type = data.item_type
    item.statutory_limit_days = clean.statutory_limit_days
    item.committed_limit_days = clean.committed_limit_days
    for name in (
        "deemed_approval_on_timeout",
        "conditions",
        "legal_basis",
        "is_free",
        "delivery_at_window",
        "delivery_by_post",
        "delivery_by_cabinet",
        "keywords",
    ):
        setattr(item, name, getattr(data, name))


MATERIAL_FIELDS = ["site", "position", "name", "form", "copies", "is_mandatory", "is_deferrable", "notes"]
# Kept materials move out of the way of each other's new positions before taking them (unique per item).
POSITION_SHIFT = 1000
BATCH = 500


def _chunks(values: Sequence[Any]) -> Iterable[Sequence[Any]]:
    for start in range(0, len(values), BATCH):
        yield values[start : start + BATCH]


def _replace_materials(pairs: Sequence[tuple[ServiceItem, CleanItem]]) -> list[str]:
    """Replace each item's materials; a row that continues a material (same id, else same name) keeps
    its row, so its 样表 and whatever cases point at it stay attached. Returns files no row uses any more."""
    previous: dict[int, list[Material]] = {}
    for row in Material.objects.filter(item_id__in=[item.pk for item, _clean in pairs]).order_by("position"):
        previous.setdefault(row.item_id, []).append(row)
    kept: list[Material] = []
    created: list[Material] = []
    for item, clean in pairs:
        rows = previous.get(item.pk, [])
        by_id = {row.pk: row for row in rows}
        by_name: dict[str, Material] = {}
        for row in rows:
            by_name.setdefault(row.name, row)
        claimed: set[int] = set()
        for position, material in enumerate(clean.data.materials, start=1):
            source = by_id.get(material.previous_id) if material.previous_id else None
            if source is None or source.pk in claimed:
                source = by_name.get(material.name)
                source = source if source is not None and source.pk not in claimed else None
            if source is None:
                target = Material(item=item)
                created.append(target)
            else:
                claimed.add(source.pk)
                target = source
                kept.append(target)
            target.site_id = item.site_id
            target.position = position
            target.name = material.name
            target.form = material.form
            target.copies = material.copies
            target.is_mandatory = material.is_mandatory
            target.is_deferrable = material.is_deferrable
            target.notes = material.notes
    kept_ids = {row.pk for row in kept}
    removed = [row for rows in previous.values() for row in rows if row.pk not in kept_ids]
    for chunk in _chunks([row.pk for row in removed]):
        Material.objects.filter(pk__in=chunk).delete()
    for chunk in _chunks(sorted(kept_ids)):
        Material.objects.filter(pk__in=chunk).update(position=F("position") + POSITION_SHIFT)
    Material.objects.bulk_update(kept, MATERIAL_FIELDS, batch_size=BATCH)
    Material.objects.bulk_create(created, batch_size=BATCH)
    return sorted({row.sample_file.name for row in removed if row.sample_file})


def _replace_nested(pairs: Sequence[tuple[ServiceItem, CleanItem]]) -> list[str]:
    """Replace the nested lists of every item at once; returns sample files no row uses any more."""
    item_ids = [item.pk for item, _clean in pairs]
    unused = _replace_materials(pairs)
    for chunk in _chunks(item_ids):
        Fee.objects.filter(item_id__in=chunk).delete()
        ProcessStep.objects.filter(item_id__in=chunk).delete()
        ItemWindow.objects.filter(item_id__in=chunk).delete()
        JointDepartment.objects.filter(item_id__in=chunk).delete()
    fees: list[Fee] = []
    joint: list[JointDepartment] = []
    steps: list[ProcessStep] = []
    links: list[ItemWindow] = []
    for item, clean in pairs:
        for fee, amount in zip(clean.data.fees, clean.amounts, strict=True):
            fees.append(
                Fee(
                    site_id=item.site_id, item=item, name=fee.name, amount=amount, legal_basis=fee.legal_basis
                )
            )
        for position, step in enumerate(clean.data.steps, start=1):
            steps.append(
                ProcessStep(
                    site_id=item.site_id,
                    item=item,
                    position=position,
                    name=step.name,
                    description=step.description,
                )
            )
        for window in clean.windows:
            links.append(ItemWindow(site_id=window.site_id, item=item, window=window))
        for position, department in enumerate(clean.joint_departments, start=1):
            joint.append(
                JointDepartment(site_id=item.site_id, item=item, department=department, position=position)
            )
    Fee.objects.bulk_create(fees, batch_size=BATCH)
    ProcessStep.objects.bulk_create(steps, batch_size=BATCH)
    ItemWindow.objects.bulk_create(links, batch_size=BATCH)
    JointDepartment.objects.bulk_create(joint, batch_size=BATCH)
    return unused


def _delete_files_on_commit(names: Iterable[str]) -> None:
    names = list(names)
    if names:
        transaction.on_commit(lambda: [default_storage.delete(name) for name in names])


def _code_conflict(code: str) -> CatalogInputRefused:
    return CatalogInputRefused(
        {"code": _("事项编码 %(code)s 已被使用。") % {"code": code}}, "item_code_taken"
    )


def _refuse_if_any(errors: dict[str, str]) -> None:
    if errors:
        raise CatalogInputRefused(errors)


def create_item(actor: User, data: ItemData) -> ServiceItem:
    require_capability(actor, Capability.MANAGE_CATALOG)
    errors, clean = item_problems(data, None, Lookups.for_items(actor, [data]))
    _refuse_if_any(errors)
    assert clean is not None
    try:
        with transaction.atomic():
            item = ServiceItem(is_published=data.is_published)
            _apply_fields(item, clean)
            item.save()
            _replace_nested([(item, clean)])
            record("catalog.item_created", actor=actor, target=item, after=item_picture(item))
    except IntegrityError as error:
        raise _code_conflict(data.code) from error
    return item


def update_item(actor: User, item: ServiceItem, data: ItemData) -> ServiceItem:
    """Save the item whole: fields and every nested list are replaced together, or nothing changes."""
    require_capability(actor, Capability.MANAGE_CATALOG)
    require_in_scope(actor, item)
    try:
        with transaction.atomic():
            item = ServiceItem.objects.select_for_update().get(pk=item.pk)
            errors, clean = item_problems(data, item, Lookups.for_items(actor, [data]))
            _refuse_if_any(errors)
            assert clean is not None
            before = item_picture(item)
            _apply_fields(item, clean)
            item.save()
            unused = _replace_nested([(item, clean)])
            _delete_files_on_commit(unused)
            record("catalog.item_updated", actor=actor, target=item, before=before, after=item_picture(item))
    except IntegrityError as error:
        raise _code_conflict(data.code) from error
    return item


def set_item_published(actor: User, item: ServiceItem, published: bool) -> ServiceItem:
    """Show an item in the public guide (办事指南) or take it down; doing what is already so changes nothing."""
    require_capability(actor, Capability.MANAGE_CATALOG)
    require_in_scope(actor, item)
    with transaction.atomic():
        item = ServiceItem.objects.select_for_update().get(pk=item.pk)
        if item.is_published == published:
            return item
        item.is_published = published
        item.save(update_fields=["is_published", "updated_at"])
        record(
            "catalog.item_published" if published else "catalog.item_unpublished",
            actor=actor,
            target=item,
            before={"is_published": not published},
            after={"is_published": published},
        )
    return item


# ---------------------------------------------------------------------------------------------
# Sample and blank forms (样表/空白表)


def _sample_extension(filename: str) -> str:
    return PurePath(filename or "").suffix.lower().lstrip(".")


def upload_material_sample(actor: User, material: Material, upload: UploadedFile) -> Material:
    require_capability(actor, Capability.MANAGE_CATALOG)
    require_in_scope(actor, material)
    extension = _sample_extension(upload.name or "")
    if extension == "jpeg":
        extension = "jpg"
    if extension not in SAMPLE_EXTENSIONS:
        raise ActionRefused(
            _("样表文件只能是 PDF、Word（doc/docx）、Excel（xls/xlsx）、JPG 或 PNG。"),
            code="sample_type",
            field="file",
        )
    if upload.size is None or upload.size > SAMPLE_MAX_BYTES:
        raise ActionRefused(_("样表文件不能超过 5 MB。"), code="sample_too_large", field="file")
    if upload.size == 0:
        raise ActionRefused(_("样表文件是空的。"), code="sample_empty", field="file")
    upload.seek(0)
    head = upload.read(16)
    upload.seek(0)
    if not any(head.startswith(signature) for signature in SAMPLE_SIGNATURES[extension]):
        raise ActionRefused(
            _("文件内容与扩展名 .%(extension)s 不符。") % {"extension": extension},
            code="sample_type",
            field="file",
        )
    stored_name = default_storage.save(f"catalog/samples/{uuid.uuid4().hex}.{extension}", upload)
    try:
        with transaction.atomic():
            material = Material.objects.select_for_update().select_related("item").get(pk=material.pk)
            previous = material.sample_file.name or ""
            material.sample_file.name = stored_name
            material.save(update_fields=["sample_file"])
            record(
                "catalog.item_updated",
                actor=actor,
                target=material.item,
                before={"material": material.name, "sample_file": previous},
                after={"material": material.name, "sample_file": stored_name},
            )
            if previous:
                _delete_files_on_commit([previous])
    except Exception:
        default_storage.delete(stored_name)
        raise
    return material


# ---------------------------------------------------------------------------------------------
# Pledges and disclosure (服务承诺, 六公开)


def _require_site_manager(actor: User, site: Site) -> None:
    require_capability(actor, Capability.MANAGE_CATALOG)
    require_in_scope(actor, site)


def _pledge_picture(pledges: Iterable[ServicePledge]) -> list[dict[str, Any]]:
    return [
        {
            "kind": pledge.kind,
            "position": pledge.position,
            "text": pledge.text,
            "staff": str(pledge.staff) if pledge.staff_id else "",
        }
        for pledge in pledges
    ]


def save_pledges(actor: User, site: Site, pledges: Sequence[PledgeData]) -> list[ServicePledge]:
    """Replace the site's public pledges (单位、集体和个人承诺) with the list given, in its order."""
    from servicehall.accounts.models import User as StaffUser

    _require_site_manager(actor, site)
    errors: dict[str, str] = {}
    if len(pledges) > PLEDGES_MAX:
        raise CatalogInputRefused({"pledges": _("服务承诺不能超过 %(limit)d 条。") % {"limit": PLEDGES_MAX}})
    staff_ids = {pledge.staff_id for pledge in pledges if isinstance(pledge.staff_id, int)}
    staff = {
        person.pk: person for person in StaffUser.objects.filter(pk__in=staff_ids, site=site, is_active=True)
    }
    cleaned: list[ServicePledge] = []
    positions: dict[str, int] = {}
    for index, pledge in enumerate(pledges):
        prefix = f"pledges.{index}."
        text = clean_text(
            pledge.text,
            prefix + "text",
            errors,
            label=gettext_lazy("承诺内容"),
            max_length=PLEDGE_TEXT_MAX_LENGTH,
            required=True,
            multiline=True,
        )
        if pledge.kind not in PledgeKind.values:
            errors[prefix + "kind"] = _("承诺类型无效，应为单位承诺、集体承诺或个人承诺。")
            continue
        person = None
        if pledge.kind == PledgeKind.PERSONAL:
            person = staff.get(pledge.staff_id) if isinstance(pledge.staff_id, int) else None
            if pledge.staff_id is None:
                errors[prefix + "staff"] = _("个人承诺须选择承诺人。")
            elif person is None:
                errors[prefix + "staff"] = _("承诺人须为本场所在职的工作人员。")
        elif pledge.staff_id is not None:
            errors[prefix + "staff"] = _("单位承诺和集体承诺不填写承诺人。")
        positions[pledge.kind] = positions.get(pledge.kind, 0) + 1
        cleaned.append(
            ServicePledge(
                site=site, kind=pledge.kind, staff=person, text=text, position=positions[pledge.kind]
            )
        )
    if errors:
        raise CatalogInputRefused(errors, "invalid_pledges")
    with transaction.atomic():
        Site.objects.select_for_update().get(pk=site.pk)
        existing = (
            ServicePledge.objects.filter(site=site).select_related("staff").order_by("kind", "position")
        )
        before = _pledge_picture(existing)
        ServicePledge.objects.filter(site=site).delete()
        created = ServicePledge.objects.bulk_create(cleaned)
        record(
            "catalog.pledges_saved",
            actor=actor,
            target=site,
            before={"pledges": before},
            after={"pledges": _pledge_picture(created)},
        )
    return created


def save_disclosure(actor: User, site: Site, complaint_channels: str, service_notice: str) -> SiteDisclosure:
    """What the site makes public besides its items: how to complain, and its notice to visitors."""
    _require_site_manager(actor, site)
    errors: dict[str, str] = {}
    complaint_channels = clean_text(
        complaint_channels,
        "complaint_channels",
        errors,
        label=gettext_lazy("投诉渠道"),
        max_length=LONG_TEXT_MAX_LENGTH,
        multiline=True,
    )
    service_notice = clean_text(
        service_notice,
        "service_notice",
        errors,
        label=gettext_lazy("服务须知"),
        max_length=LONG_TEXT_MAX_LENGTH,
        multiline=True,
    )
    if errors:
        raise CatalogInputRefused(errors, "invalid_disclosure")
    with transaction.atomic():
        Site.objects.select_for_update().get(pk=site.pk)
        disclosure = SiteDisclosure.objects.filter(site=site).first()
        before = (
            {"complaint_channels": disclosure.complaint_channels, "service_notice": disclosure.service_notice}
            if disclosure
            else None
        )
        if disclosure is None:
            disclosure = SiteDisclosure(site=site)
        disclosure.complaint_channels = complaint_channels
        disclosure.service_notice = service_notice
        disclosure.save()
        record(
            "catalog.disclosure_saved",
            actor=actor,
            target=site,
            before=before,
            after={"complaint_channels": complaint_channels, "service_notice": service_notice},
        )
    return disclosure


# ---------------------------------------------------------------------------------------------
# The catalogue as a spreadsheet (事项清单)


@dataclass(frozen=True)
class ImportResult:
    created: int
    updated: int
    materials: int
    fees: int
    steps: int
    windows: int
    joint_departments: int = 0


class CatalogueImportRefused(ActionRefused):
    """A file with errors: every line names sheet, row and column; nothing was imported."""

    def __init__(self, lines: list[str]) -> None:
        super().__init__(lines[0] if lines else _("文件无法导入。"), code="invalid_catalogue", field="file")
        self.lines = lines


def import_catalogue(actor: User, content: bytes) -> ImportResult:
    """Load a 事项清单 (.xlsx, the export format). Every row of every sheet is checked first and any
    error refuses the whole file; then items are created or updated by code in one transaction."""
    from servicehall.catalog import spreadsheet

    require_capability(actor, Capability.MANAGE_CATALOG)
    scope = actor.accessible_site_ids()
    lookups = Lookups.load(scope)
    parsed = spreadsheet.parse_catalogue(
        content,
        departments={
            (department.site.code.lower(), department.code.lower()): department.pk
            for department in lookups.departments.values()
        },
        windows={(window.site.code.lower(), window.number): window.pk for window in lookups.windows.values()},
    )
    problems = list(parsed.problems)
    wanted_ids = [
        lookups.items_by_code[entry.data.code.lower()][0]
        for entry in parsed.items
        if entry.data.code.lower() in lookups.items_by_code
    ]
    existing_items = {item.code.lower(): item for item in ServiceItem.objects.filter(pk__in=wanted_ids)}
    ready: list[tuple[ServiceItem | None, CleanItem]] = []
    for entry in parsed.items:
        existing = existing_items.get(entry.data.code.lower())
        if existing is not None and existing.site_id not in scope:
            problems.append(
                entry.locate("code", _("事项编码 %(code)s 已被其他场所使用。") % {"code": entry.data.code})
            )
            continue
        errors, clean = item_problems(entry.data, existing, lookups)
        problems.extend(entry.locate(key, message) for key, message in errors.items() if entry.speaks_to(key))
        if clean is not None and not entry.unreadable:
            ready.append((existing, clean))
    if not problems and not ready:
        raise CatalogueImportRefused([_("文件中没有事项。")])
    if problems:
        raise spreadsheet.refusal(problems)
    with transaction.atomic():
        now = timezone.now()
        pairs: list[tuple[ServiceItem, CleanItem]] = []
        new_items: list[ServiceItem] = []
        updated_items: list[ServiceItem] = []
        for existing, clean in ready:
            item = existing or ServiceItem()
            _apply_fields(item, clean)
            item.is_published = clean.data.is_published
            item.updated_at = now
            (updated_items if existing else new_items).append(item)
            pairs.append((item, clean))
        if updated_items:
            locked = ServiceItem.objects.select_for_update().filter(
                pk__in=[item.pk for item in updated_items]
            )
            if len(list(locked.values_list("pk", flat=True))) != len(updated_items):
                raise ActionRefused(_("导入期间有事项被他人删除，请重新导入。"), code="catalogue_changed")
            ServiceItem.objects.bulk_update(
                updated_items,
                [*ITEM_EDITABLE_FIELDS, "code", "site", "department", "is_published", "updated_at"],
                batch_size=500,
            )
        try:
            with transaction.atomic():
                ServiceItem.objects.bulk_create(new_items, batch_size=500)
        except IntegrityError as error:
            raise ActionRefused(
                _("导入期间有人新增了相同编码的事项，请重新导入。"), code="item_code_taken", field="file"
            ) from error
        _delete_files_on_commit(_replace_nested(pairs))
        result = ImportResult(
            created=len(new_items),
            updated=len(updated_items),
            materials=sum(len(clean.data.materials) for _item, clean in pairs),
            fees=sum(len(clean.data.fees) for _item, clean in pairs),
            steps=sum(len(clean.data.steps) for _item, clean in pairs),
            windows=sum(len(clean.windows) for _item, clean in pairs),
            joint_departments=sum(len(clean.joint_departments) for _item, clean in pairs),
        )
        record(
            "catalog.catalogue_imported",
            actor=actor,
            site=actor.site,
            object_type="catalog.serviceitem",
            object_label=gettext_lazy("事项清单导入"),
            after=result.__dict__,
        )
    return result
