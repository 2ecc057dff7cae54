"""Readable names of the audit codes the queueing app records (visits keep their own VisitEvent history)."""

from __future__ import annotations

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

ACTION_LABELS: dict[str, Promise] = {
    "queueing.window_signed_in": _("窗口签到"),
    "queueing.window_signed_out": _("窗口签退"),
    "queueing.tidal_window_opened": _("开启潮汐窗口"),
    "queueing.tidal_window_closed": _("关闭潮汐窗口"),
    "queueing.visit_linked": _("来访关联咨询或办件"),
    "queueing.appointment_changed": _("改约"),
    "queueing.appointment_cancelled": _("取消预约"),
}
