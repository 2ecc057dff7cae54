"""Every change to sites, departments, windows and opening hours: one function, one transaction, one audit record.

Managers (Capability.MANAGE_SITES) act only inside their own site subtree; anything outside it does
not exist for them (NotFound), as everywhere else in the project.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import time
from typing import TYPE_CHECKING, Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from servicehall.accounts.permissions import audit_refusal, require_capability, require_in_scope
from servicehall.accounts.roles import Capability
from servicehall.audit.actions import record, snapshot
from servicehall.lib.errors import ActionRefused, PermissionRefused
from servicehall.sites.models import (
    PARENT_LEVEL,
    Department,
    OpeningPeriod,
    PostKind,
    Site,
    SiteLevel,
    Weekday,
    Window,
    WindowPost,
)

if TYPE_CHECKING:
    from servicehall.accounts.models import User

SITE_AUDITED_FIELDS = [
    "code",
    "name",
    "level",
    "parent",
    "address",
    "service_phone",
    "supervision_phone",
    "is_active",
]
DEPARTMENT_AUDITED_FIELDS = ["code", "name", "is_active"]
WINDOW_AUDITED_FIELDS = ["number", "name", "department", "is_supervisor_window", "is_active"]

CODE_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*")
PHONE_PATTERN = re.compile(r"[0-9+()\- ]*")
NAME_MAX_LENGTH = 100
CODE_MAX_LENGTH = 32
ADDRESS_MAX_LENGTH = 200
PHONE_MAX_LENGTH = 32
NOTE_MAX_LENGTH = 50
WINDOW_NUMBER_MIN = 1
WINDOW_NUMBER_MAX = 999
OPENING_EARLIEST = time(6, 0)
OPENING_LATEST = time(22, 0)
PERIODS_PER_DAY_MAX = 4


class SiteInputRefused(ActionRefused):
    """Input that breaks one or more rules; ``errors`` maps each field to its message for the form."""

    def __init__(self, errors: dict[str, str], code: str) -> None:
        field_name, message = next(iter(errors.items()))
        super().__init__(message, code=code, field=field_name)
        self.errors = errors


@dataclass
class SiteData:
    """What a manager may set on a site; validated before anything is written."""

    code: str
    name: str
    level: str
    parent: Site | None = None
    address: str = ""
    service_phone: str = ""
    supervision_phone: str = ""
    is_active: bool = True


@dataclass
class DepartmentData:
    code: str
    name: str
    is_active: bool = True


@dataclass
class WindowData:
    number: int
    name: str
    department: Department | None = None
    posts: Iterable[str] = field(default_factory=list)
    is_supervisor_window: bool = False
    is_active: bool = True


@dataclass(frozen=True)
class PeriodData:
    weekday: int
    starts_at: time
    ends_at: time
    note: str = ""


# ---------------------------------------------------------------------------------------------
# Shared checks


def _require_manager(actor: User, target: Site | Department | Window) -> None:
    require_capability(actor, Capability.MANAGE_SITES)
    require_in_scope(actor, target)


def _has_control_characters(value: str) -> bool:
    return any(unicodedata.category(character) == "Cc" for character in value)


def _clean_text(
    value: Any, field_name: str, errors: dict[str, str], *, max_length: int, required: bool, label: str
) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str):
        errors[field_name] = _("%(label)s格式不正确。") % {"label": label}
        return ""
    value = value.strip()
    if required and not value:
        errors[field_name] = _("%(label)s不能为空。") % {"label": label}
    elif len(value) > max_length:
        errors[field_name] = _("%(label)s不能超过 %(limit)d 个字符。") % {"label": label, "limit": max_length}
    elif _has_control_characters(value):
        errors[field_name] = _("%(label)s不能包含控制字符。") % {"label": label}
    return value


def _clean_code(value: Any, field_name: str, errors: dict[str, str]) -> str:
    code = _clean_text(value, field_name, errors, max_length=CODE_MAX_LENGTH, required=True, label=_("编码"))
    if field_name not in errors and not CODE_PATTERN.fullmatch(code):
        errors[field_name] = _("编码只能包含字母、数字、连字符和下划线，且以字母或数字开头。")
    return code


def _clean_phone(value: Any, field_name: str, errors: dict[str, str], label: str) -> str:
    phone = _clean_text(value, field_name, errors, max_length=PHONE_MAX_LENGTH, required=False, label=label)
    if field_name not in errors and not PHONE_PATTERN.fullmatch(phone):
        errors[field_name] = _("%(label)s只能包含数字、空格、加号、连字符和括号。") % {"label": label}
    return phone


def _raise_if_any(errors: dict[str, str], code: str) -> None:
    if errors:
        raise SiteInputRefused(errors, code)


# ---------------------------------------------------------------------------------------------
# Sites


def _require_parent_in_scope(actor: User, data: SiteData, existing: Site | None) -> None:
    """A manager may hang a site only under a site in their own subtree (checked before any lock)."""
    parent = data.parent
    if parent is None:
        return
    if existing is None or parent.pk != existing.parent_id:
        require_in_scope(actor, parent)


def _clean_site_data(data: SiteData, existing: Site | None) -> SiteData:
    errors: dict[str, str] = {}
    data.code = _clean_code(data.code, "code", errors)
    data.name = _clean_text(
        data.name, "name", errors, max_length=NAME_MAX_LENGTH, required=True, label=_("名称")
    )
    data.address = _clean_text(
        data.address, "address", errors, max_length=ADDRESS_MAX_LENGTH, required=False, label=_("地址")
    )
    data.service_phone = _clean_phone(data.service_phone, "service_phone", errors, _("咨询电话"))
    data.supervision_phone = _clean_phone(data.supervision_phone, "supervision_phone", errors, _("监督电话"))
    if data.level not in SiteLevel.values:
        errors["level"] = _("层级无效。")
    if "code" not in errors:
        others = Site.objects.exclude(pk=existing.pk) if existing else Site.objects.all()
        if others.filter(code__iexact=data.code).exists():
            errors["code"] = _("编码已被其他服务场所使用。")
    _raise_if_any(errors, "invalid_site")

    parent = data.parent
    if existing is not None and parent is not None and parent.pk in existing.descendant_ids():
        _raise_if_any({"parent": _("不能把场所设为它自己或其下级场所的下级。")}, "site_cycle")
    expected_parent_level = PARENT_LEVEL[SiteLevel(data.level)]
    if expected_parent_level is None and parent is not None:
        errors["parent"] = _("市政务服务中心不能有上级场所。")
    elif expected_parent_level is not None and parent is None:
        errors["parent"] = _("镇（街）便民服务中心和村（社区）便民服务站必须指定上级场所。")
    elif expected_parent_level is not None and parent is not None and parent.level != expected_parent_level:
        errors["parent"] = _("上级场所的层级不正确：%(level)s的上级应为%(parent_level)s。") % {
            "level": SiteLevel(data.level).label,
            "parent_level": SiteLevel(expected_parent_level).label,
        }
    elif parent is not None and data.is_active and not parent.is_active:
        errors["parent"] = _("上级场所已停用，不能在其下启用场所。")
    if existing is not None and data.level != existing.level:
        misfits = [
            child for child in existing.children.all() if PARENT_LEVEL[SiteLevel(child.level)] != data.level
        ]
        if misfits:
            errors["level"] = _("该场所有下级场所（%(name)s），不能改为此层级。") % {"name": misfits[0].name}
    if existing is not None and not data.is_active and existing.children.filter(is_active=True).exists():
        errors["is_active"] = _("该场所还有启用中的下级场所，请先停用下级场所。")
    _raise_if_any(errors, "invalid_site")
    return data


def _site_conflict() -> SiteInputRefused:
    return SiteInputRefused({"code": _("编码已被其他服务场所使用。")}, "site_code_taken")


def create_site(actor: User, data: SiteData) -> Site:
    require_capability(actor, Capability.MANAGE_SITES)
    if data.level == SiteLevel.CITY and actor.site.parent_id is not None:
        # A new 市政务服务中心 lies outside every subtree below the city, so only city staff create one.
        audit_refusal(actor, "city_site_requires_city_actor", capability=str(Capability.MANAGE_SITES))
        raise PermissionRefused(
            _("只有市级管理员可以新建市政务服务中心。"), code="city_site_requires_city_actor"
        )
    _require_parent_in_scope(actor, data, None)
    data = _clean_site_data(data, None)
    try:
        with transaction.atomic():
            site = Site.objects.create(
                code=data.code,
                name=data.name,
                level=data.level,
                parent=data.parent,
                address=data.address,
                service_phone=data.service_phone,
                supervision_phone=data.supervision_phone,
                is_active=data.is_active,
            )
            record("sites.site_created", actor=actor, target=site, after=snapshot(site, SITE_AUDITED_FIELDS))
    except IntegrityError as error:
        raise _site_conflict() from error
    actor.forget_cached_roles()
    return site


def update_site(actor: User, site: Site, data: SiteData) -> Site:
    _require_manager(actor, site)
    _require_parent_in_scope(actor, data, site)
    try:
        with transaction.atomic():
            site = Site.objects.select_for_update().get(pk=site.pk)
            data = _clean_site_data(data, site)
            before = snapshot(site, SITE_AUDITED_FIELDS)
            for name in SITE_AUDITED_FIELDS:
                setattr(site, name, getattr(data, name))
            site.save()
            record(
                "sites.site_updated",
                actor=actor,
                target=site,
                before=before,
                after=snapshot(site, SITE_AUDITED_FIELDS),
            )
    except IntegrityError as error:
        raise _site_conflict() from error
    actor.forget_cached_roles()
    return site


# ---------------------------------------------------------------------------------------------
# Departments


def _clean_department_data(site: Site, data: DepartmentData, existing: Department | None) -> DepartmentData:
    errors: dict[str, str] = {}
    data.code = _clean_code(data.code, "code", errors)
    data.name = _clean_text(
        data.name, "name", errors, max_length=NAME_MAX_LENGTH, required=True, label=_("名称")
    )
    if "code" not in errors:
        others = Department.objects.filter(site=site)
        if existing is not None:
            others = others.exclude(pk=existing.pk)
        if others.filter(code__iexact=data.code).exists():
            errors["code"] = _("本场所已有编码为 %(code)s 的部门。") % {"code": data.code}
    _raise_if_any(errors, "invalid_department")
    return data


def _department_conflict(data: DepartmentData) -> SiteInputRefused:
    return SiteInputRefused(
        {"code": _("本场所已有编码为 %(code)s 的部门。") % {"code": data.code}}, "department_code_taken"
    )


def create_department(actor: User, site: Site, data: DepartmentData) -> Department:
    _require_manager(actor, site)
    try:
        with transaction.atomic():
            Site.objects.select_for_update().get(pk=site.pk)
            data = _clean_department_data(site, data, None)
            department = Department.objects.create(
                site=site, code=data.code, name=data.name, is_active=data.is_active
            )
            record(
                "sites.department_created",
                actor=actor,
                target=department,
                after=snapshot(department, DEPARTMENT_AUDITED_FIELDS),
            )
    except IntegrityError as error:
        raise _department_conflict(data) from error
    return department


def update_department(actor: User, department: Department, data: DepartmentData) -> Department:
    _require_manager(actor, department)
    try:
        with transaction.atomic():
            Site.objects.select_for_update().get(pk=department.site_id)
            department = Department.objects.select_related("site").select_for_update().get(pk=department.pk)
            data = _clean_department_data(department.site, data, department)
            before = snapshot(department, DEPARTMENT_AUDITED_FIELDS)
            department.code = data.code
            department.name = data.name
            department.is_active = data.is_active
            department.save()
            record(
                "sites.department_updated",
                actor=actor,
                target=department,
                before=before,
                after=snapshot(department, DEPARTMENT_AUDITED_FIELDS),
            )
    except IntegrityError as error:
        raise _department_conflict(data) from error
    return department


# ---------------------------------------------------------------------------------------------
# Windows


def _clean_window_data(site: Site, data: WindowData, existing: Window | None) -> tuple[WindowData, list[str]]:
    errors: dict[str, str] = {}
    number = data.number
    is_integer = isinstance(number, int) and not isinstance(number, bool)
    if not is_integer or not WINDOW_NUMBER_MIN <= number <= WINDOW_NUMBER_MAX:
        errors["number"] = _("窗口号须为 %(low)d–%(high)d 的整数。") % {
            "low": WINDOW_NUMBER_MIN,
            "high": WINDOW_NUMBER_MAX,
        }
    data.name = _clean_text(
        data.name, "name", errors, max_length=NAME_MAX_LENGTH, required=True, label=_("名称")
    )
    others = Window.objects.filter(site=site)
    if existing is not None:
        others = others.exclude(pk=existing.pk)
    if "number" not in errors and others.filter(number=number).exists():
        errors["number"] = _("本场所已有 %(number)d 号窗口。") % {"number": number}
    department = data.department
    if department is not None:
        if department.site_id != site.pk:
            errors["department"] = _("部门不属于该服务场所。")
        elif not department.is_active and (existing is None or existing.department_id != department.pk):
            errors["department"] = _("该部门已停用，不能分配给窗口。")
    posts = list(data.posts) if not isinstance(data.posts, str) else [data.posts]
    unknown = [post for post in posts if post not in PostKind.values]
    if unknown:
        errors["posts"] = _("岗位无效：%(kinds)s。") % {
            "kinds": "、".join(str(post)[:32] for post in unknown[:3])
        }
    if data.is_supervisor_window and others.filter(is_supervisor_window=True).exists():
        errors["is_supervisor_window"] = _("每个服务场所只能有一个负责人窗口（1号窗口）。")
    _raise_if_any(errors, "invalid_window")
    return data, sorted(set(posts))


def _window_conflict(error: IntegrityError, data: WindowData) -> ActionRefused:
    # PostgreSQL names the constraint; SQLite names the columns of the unique index.
    text = str(error)
    if "window_number_unique_per_site" in text or "sites_window.number" in text:
        return SiteInputRefused(
            {"number": _("本场所已有 %(number)d 号窗口。") % {"number": data.number}}, "window_number_taken"
        )
    if "window_one_supervisor_window_per_site" in text or text.rstrip().endswith("sites_window.site_id"):
        return SiteInputRefused(
            {"is_supervisor_window": _("每个服务场所只能有一个负责人窗口（1号窗口）。")},
            "supervisor_window_taken",
        )
    return ActionRefused(_("保存失败：与其他人同时作出的修改冲突，请刷新后重试。"), code="window_conflict")


def _window_picture(window: Window) -> dict[str, Any]:
    picture = snapshot(window, WINDOW_AUDITED_FIELDS)
    picture["posts"] = sorted(window.posts.values_list("kind", flat=True))
    return picture


def _replace_posts(window: Window, posts: list[str]) -> None:
    window.posts.all().delete()
    WindowPost.objects.bulk_create(
        [WindowPost(site_id=window.site_id, window=window, kind=kind) for kind in posts]
    )


def create_window(actor: User, site: Site, data: WindowData) -> Window:
    _require_manager(actor, site)
    try:
        with transaction.atomic():
            # Two managers adding windows to one site queue here, so the second sees the first's number.
            Site.objects.select_for_update().get(pk=site.pk)
            data, posts = _clean_window_data(site, data, None)
            window = Window.objects.create(
                site=site,
                number=data.number,
                name=data.name,
                department=data.department,
                is_supervisor_window=data.is_supervisor_window,
                is_active=data.is_active,
            )
            _replace_posts(window, posts)
            record("sites.window_created", actor=actor, target=window, after=_window_picture(window))
    except IntegrityError as error:
        raise _window_conflict(error, data) from error
    return window


def update_window(actor: User, window: Window, data: WindowData) -> Window:
    _require_manager(actor, window)
    try:
        with transaction.atomic():
            Site.objects.select_for_update().get(pk=window.site_id)
            window = Window.objects.select_related("site").select_for_update().get(pk=window.pk)
            data, posts = _clean_window_data(window.site, data, window)
            before = _window_picture(window)
            window.number = data.number
            window.name = data.name
            window.department = data.department
            window.is_supervisor_window = data.is_supervisor_window
            window.is_active = data.is_active
            window.save()
            _replace_posts(window, posts)
            record(
                "sites.window_updated",
                actor=actor,
                target=window,
                before=before,
                after=_window_picture(window),
            )
    except IntegrityError as error:
        raise _window_conflict(error, data) from error
    return window


# ---------------------------------------------------------------------------------------------
# Opening hours


def _period_picture(periods: Iterable[OpeningPeriod | PeriodData]) -> list[dict[str, Any]]:
    return [
        {
            "weekday": period.weekday,
            "starts_at": period.starts_at.strftime("%H:%M"),
            "ends_at": period.ends_at.strftime("%H:%M"),
            "note": period.note,
        }
        for period in sorted(periods, key=lambda period: (period.weekday, period.starts_at))
    ]


def _clean_periods(periods: Sequence[PeriodData]) -> list[PeriodData]:
    errors: dict[str, str] = {}
    cleaned: list[tuple[int, PeriodData]] = []
    for index, period in enumerate(periods):
        field_name = f"periods.{index}"
        weekday, starts_at, ends_at = period.weekday, period.starts_at, period.ends_at
        if isinstance(weekday, bool) or not isinstance(weekday, int) or weekday not in Weekday.values:
            errors[field_name] = _("星期须为 1（星期一）到 7（星期日）。")
            continue
        if not isinstance(starts_at, time) or not isinstance(ends_at, time):
            errors[field_name] = _("时间格式不正确。")
            continue
        if starts_at.tzinfo is not None or ends_at.tzinfo is not None:
            errors[field_name] = _("办公时间请填写当地时间，不带时区。")
            continue
        label = Weekday(weekday).label
        if starts_at >= ends_at:
            errors[field_name] = _("%(day)s %(start)s–%(end)s：开始时间必须早于结束时间。") % {
                "day": label,
                "start": starts_at.strftime("%H:%M"),
                "end": ends_at.strftime("%H:%M"),
            }
            continue
        if starts_at < OPENING_EARLIEST or ends_at > OPENING_LATEST:
            errors[field_name] = _("%(day)s %(start)s–%(end)s：办公时间须在 06:00 至 22:00 之间。") % {
                "day": label,
                "start": starts_at.strftime("%H:%M"),
                "end": ends_at.strftime("%H:%M"),
            }
            continue
        note_errors: dict[str, str] = {}
        note = _clean_text(
            period.note, field_name, note_errors, max_length=NOTE_MAX_LENGTH, required=False, label=_("说明")
        )
        if note_errors:
            errors.update(note_errors)
            continue
        cleaned.append((index, PeriodData(weekday, starts_at, ends_at, note)))
    by_day: dict[int, list[tuple[int, PeriodData]]] = {}
    for index, period in cleaned:
        by_day.setdefault(period.weekday, []).append((index, period))
    for weekday, day_periods in sorted(by_day.items()):
        label = Weekday(weekday).label
        if len(day_periods) > PERIODS_PER_DAY_MAX:
            errors[f"periods.{day_periods[PERIODS_PER_DAY_MAX][0]}"] = _(
                "%(day)s最多设置 %(limit)d 个时段。"
            ) % {"day": label, "limit": PERIODS_PER_DAY_MAX}
            continue
        day_periods.sort(key=lambda item: item[1].starts_at)
        for (_earlier_index, earlier), (later_index, later) in zip(
            day_periods, day_periods[1:], strict=False
        ):
            if later.starts_at < earlier.ends_at:
                errors[f"periods.{later_index}"] = _("%(day)s %(later)s 与 %(earlier)s 时段重叠。") % {
                    "day": label,
                    "later": f"{later.starts_at:%H:%M}–{later.ends_at:%H:%M}",
                    "earlier": f"{earlier.starts_at:%H:%M}–{earlier.ends_at:%H:%M}",
                }
    if errors:
        # Report the earliest period first, as a person reads the week.
        ordered = dict(sorted(errors.items(), key=lambda item: int(item[0].split(".")[1])))
        raise SiteInputRefused(ordered, "invalid_opening_hours")
    return [period for _index, period in cleaned]


def replace_opening_hours(actor: User, site: Site, periods: Sequence[PeriodData]) -> list[OpeningPeriod]:
    """Replace the whole weekly table at once: the new periods, or (on any error) the old ones."""
    _require_manager(actor, site)
    cleaned = _clean_periods(periods)
    with transaction.atomic():
        Site.objects.select_for_update().get(pk=site.pk)
        existing = list(OpeningPeriod.objects.filter(site=site))
        before = _period_picture(existing)
        OpeningPeriod.objects.filter(site=site).delete()
        created = OpeningPeriod.objects.bulk_create(
            [
                OpeningPeriod(
                    site=site,
                    weekday=period.weekday,
                    starts_at=period.starts_at,
                    ends_at=period.ends_at,
                    note=period.note,
                )
                for period in cleaned
            ]
        )
        record(
            "sites.opening_hours_replaced",
            actor=actor,
            target=site,
            before={"periods": before},
            after={"periods": _period_picture(created)},
        )
    return sorted(created, key=lambda period: (period.weekday, period.starts_at))
