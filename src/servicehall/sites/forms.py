"""Forms check the shape of input; the rules themselves live in sites.actions."""

from __future__ import annotations

from datetime import time
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from servicehall.sites.actions import (
    ADDRESS_MAX_LENGTH,
    CODE_MAX_LENGTH,
    NAME_MAX_LENGTH,
    NOTE_MAX_LENGTH,
    PERIODS_PER_DAY_MAX,
    PHONE_MAX_LENGTH,
    PeriodData,
)
from servicehall.sites.models import Department, OpeningPeriod, PostKind, Site, SiteLevel, Weekday


def text_field(label: Any, limit: int, *, required: bool = True, **attributes: Any) -> forms.CharField:
    """A text field whose length limit the browser applies and the action words when exceeded."""
    return forms.CharField(
        label=label,
        required=required,
        widget=forms.TextInput(attrs={"maxlength": limit, **attributes}),
    )


class SiteForm(forms.Form):
    code = text_field(_("编码"), CODE_MAX_LENGTH, autocomplete="off")
    name = text_field(_("名称"), NAME_MAX_LENGTH)
    level = forms.ChoiceField(label=_("层级"), choices=SiteLevel.choices)
    parent = forms.ModelChoiceField(
        label=_("上级"),
        queryset=Site.objects.none(),
        required=False,
        empty_label=_("（无，市政务服务中心）"),
        error_messages={"invalid_choice": _("请选择您管理范围内的上级场所。")},
    )
    address = text_field(_("地址"), ADDRESS_MAX_LENGTH, required=False)
    service_phone = text_field(_("咨询电话"), PHONE_MAX_LENGTH, required=False, inputmode="tel")
    supervision_phone = text_field(_("监督电话"), PHONE_MAX_LENGTH, required=False, inputmode="tel")
    is_active = forms.BooleanField(label=_("启用"), required=False, initial=True)

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["parent"].queryset = (
            Site.objects.restrict(user).exclude(level=SiteLevel.VILLAGE).order_by("code")
        )


class DepartmentForm(forms.Form):
    code = text_field(_("编码"), CODE_MAX_LENGTH, autocomplete="off")
    name = text_field(_("名称"), NAME_MAX_LENGTH)
    is_active = forms.BooleanField(label=_("启用"), required=False, initial=True)


class WindowForm(forms.Form):
    number = forms.IntegerField(
        label=_("窗口号"),
        help_text=_("1–999，本场所内不重复。"),
        error_messages={"invalid": _("窗口号须为 1–999 的整数。"), "required": _("请填写窗口号。")},
        widget=forms.NumberInput(attrs={"inputmode": "numeric", "min": 1, "max": 999}),
    )
    name = text_field(_("名称"), NAME_MAX_LENGTH)
    department = forms.ModelChoiceField(
        label=_("进驻部门"),
        queryset=Department.objects.none(),
        required=False,
        empty_label=_("（综合窗口，不指定部门）"),
        error_messages={"invalid_choice": _("部门不属于该服务场所。")},
    )
    posts = forms.MultipleChoiceField(
        label=_("岗位"),
        choices=PostKind.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"invalid_choice": _("岗位无效。")},
    )
    is_supervisor_window = forms.BooleanField(label=_("负责人窗口（1号窗口）"), required=False)
    is_active = forms.BooleanField(label=_("启用"), required=False, initial=True)

    def __init__(self, *args: Any, site: Site, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["department"].queryset = site.departments.order_by("code")


SLOT_LABELS = [_("上午"), _("下午"), _("加开时段"), _("加开时段")]
MINIMUM_SLOTS = 2


def cell_prefix(weekday: int, slot: int) -> str:
    return f"period-{weekday}-{slot}"


class OpeningHoursGrid:
    """The weekly table of the opening-hours editor: one column per weekday, one row per time slot.

    Not a Django form: the cells are many and repetitive, and the rules (overlap, bounds, count per
    day) belong to the action, which names the offending period; the grid maps it back to a cell.
    """

    note_limit = NOTE_MAX_LENGTH

    def __init__(
        self, data: Any | None = None, periods: list[OpeningPeriod] | None = None, slots: int = 0
    ) -> None:
        self.errors: dict[str, str] = {}
        self.focus_slot: int | None = None
        self.cells: dict[str, dict[str, str]] = {}
        self.period_cells: list[str] = []
        if data is not None:
            self._read(data)
        elif periods is not None:
            self._load(periods)
        used = max((int(prefix.rsplit("-", 1)[1]) + 1 for prefix in self.cells), default=0)
        self.slot_count = min(PERIODS_PER_DAY_MAX, max(MINIMUM_SLOTS, used, slots))

    def _load(self, periods: list[OpeningPeriod]) -> None:
        by_day: dict[int, list[OpeningPeriod]] = {}
        for period in sorted(periods, key=lambda period: (period.weekday, period.starts_at)):
            by_day.setdefault(period.weekday, []).append(period)
        for weekday, day_periods in by_day.items():
            for slot, period in enumerate(day_periods[:PERIODS_PER_DAY_MAX]):
                self.cells[cell_prefix(weekday, slot)] = {
                    "start": f"{period.starts_at:%H:%M}",
                    "end": f"{period.ends_at:%H:%M}",
                    "note": period.note,
                }

    def _read(self, data: Any) -> None:
        for weekday in Weekday.values:
            for slot in range(PERIODS_PER_DAY_MAX):
                prefix = cell_prefix(weekday, slot)
                values = {
                    part: str(data.get(f"{prefix}-{part}", ""))[:200].strip()
                    for part in ("start", "end", "note")
                }
                if values["start"] or values["end"] or values["note"]:
                    self.cells[prefix] = values

    def periods(self) -> list[PeriodData] | None:
        """The periods typed into the grid, or None (with ``errors`` set) if a cell is malformed."""
        periods: list[PeriodData] = []
        self.period_cells = []
        for prefix, values in sorted(self.cells.items()):
            _label, weekday, _slot = prefix.split("-")
            if not values["start"] and not values["end"]:
                self.errors[prefix] = str(_("请填写开始和结束时间，或清空说明。"))
                continue
            starts_at = _parse_time(values["start"])
            ends_at = _parse_time(values["end"])
            if starts_at is None or ends_at is None:
                self.errors[prefix] = str(_("请按 时:分 填写开始和结束时间，例如 08:30。"))
                continue
            periods.append(PeriodData(int(weekday), starts_at, ends_at, values["note"]))
            self.period_cells.append(prefix)
        return None if self.errors else periods

    def apply_refusal(self, errors: dict[str, str]) -> None:
        for field_name, message in errors.items():
            _label, _separator, index = field_name.partition(".")
            if index.isdigit() and int(index) < len(self.period_cells):
                self.errors[self.period_cells[int(index)]] = message
            else:
                self.errors["__all__"] = message

    @property
    def weekday_labels(self) -> list[str]:
        return [str(label) for label in Weekday.labels]

    @property
    def can_add_row(self) -> bool:
        return self.slot_count < PERIODS_PER_DAY_MAX

    @property
    def general_error(self) -> str:
        return self.errors.get("__all__", "")

    def rows(self) -> list[dict[str, Any]]:
        return [self.row(slot) for slot in range(self.slot_count)]

    def row(self, slot: int) -> dict[str, Any]:
        return {
            "slot": slot,
            "label": SLOT_LABELS[slot],
            "focus": slot == self.focus_slot,
            "cells": [
                {
                    "prefix": cell_prefix(weekday, slot),
                    "weekday_label": label,
                    "values": self.cells.get(cell_prefix(weekday, slot), {}),
                    "error": self.errors.get(cell_prefix(weekday, slot), ""),
                }
                for weekday, label in Weekday.choices
            ],
        }


def _parse_time(value: str) -> time | None:
    try:
        hours_text, minutes_text = value.split(":")[:2]
        return time(int(hours_text), int(minutes_text))
    except ValueError:
        return None
