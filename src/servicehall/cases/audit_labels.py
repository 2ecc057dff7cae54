"""Readable names of the audit codes the cases app records."""

from __future__ import annotations

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from servicehall.cases.states import CaseAction

ACTION_LABELS: dict[str, Promise] = {
    **{f"cases.{action.value}": action.label for action in CaseAction},
    "cases.inquiry_recorded": _("登记咨询"),
    "cases.inquiry_referred": _("导办/转办咨询"),
    "cases.inquiry_closed": _("办结咨询"),
    "cases.item_setting_changed": _("修改事项办件设置"),
    "cases.supervised": _("电子监察巡查"),
}
