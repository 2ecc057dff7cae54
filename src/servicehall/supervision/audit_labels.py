"""Readable names of the audit codes the supervision app records."""

from __future__ import annotations

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

ACTION_LABELS: dict[str, Promise] = {
    "supervision.violation_recorded": _("记录违规"),
    "supervision.violations_recorded": _("批量记录违规"),
    "supervision.complaint_registered": _("受理投诉"),
    "supervision.complaint_investigating": _("开始调查投诉"),
    "supervision.complaint_noted": _("添加调查记录"),
    "supervision.complaint_disposed": _("处置投诉"),
    "supervision.complaint_replied": _("答复投诉人"),
    "supervision.complaint_filed": _("投诉归档"),
    "supervision.complaint_deadline_changed": _("调整投诉办理期限"),
    "supervision.inspection_recorded": _("登记明察暗访"),
    "supervision.violation_appealed": _("违规申诉"),
    "supervision.appeal_decided": _("处理违规申诉"),
    "supervision.escalation_proposed": _("提出责任追究升级建议"),
    "supervision.escalation_decided": _("决定责任追究升级建议"),
    "supervision.survey_created": _("创建满意度调查"),
    "supervision.survey_published": _("发布满意度调查"),
    "supervision.survey_withdrawn": _("停止满意度调查"),
    "supervision.complaints_overdue": _("投诉超期"),
}
