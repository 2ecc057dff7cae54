"""Readable names of the audit actions the feedback app records."""

from django.utils.translation import gettext_lazy as _

ACTION_LABELS = {
    "feedback.rated": _("服务对象评价"),
    "feedback.held_rating_reviewed": _("核查可疑评价"),
    "feedback.appealed": _("对评价提出申诉"),
    "feedback.appeal_decided": _("处理评价申诉"),
    "feedback.rectification_verified": _("核实差评"),
    "feedback.rectified": _("差评整改"),
    "feedback.called_back": _("差评回访"),
    "feedback.rectifications_overdue": _("差评整改逾期"),
}
