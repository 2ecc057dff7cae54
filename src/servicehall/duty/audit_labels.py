"""Readable names of the audit codes the duty app records."""

from __future__ import annotations

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

ACTION_LABELS: dict[str, Promise] = {
    "duty.assignment_created": _("设定A/B角"),
    "duty.assignment_ended": _("结束A/B角"),
    "duty.assignment_withdrawn": _("撤回A/B角"),
    "duty.away_started": _("离岗登记"),
    "duty.away_ended": _("返岗"),
    "duty.away_flagged": _("离岗未说明去向"),
    "duty.whereabouts_recorded": _("登记去向"),
    "duty.checked_in": _("考勤打卡"),
    "duty.check_in_corrected": _("更正考勤"),
    "duty.missing_check_ins_recorded": _("记录漏打卡"),
    "duty.leave_requested": _("申请请假"),
    "duty.leave_approved": _("批准请假"),
    "duty.leave_rejected": _("驳回请假"),
    "duty.leave_cancelled": _("撤销请假"),
    "duty.emergency_leave_recorded": _("补录紧急请假"),
    "duty.post_created": _("新增岗位"),
    "duty.post_updated": _("修改岗位"),
    "duty.qualification_entered": _("登记上岗资格"),
    "duty.qualification_revoked": _("撤销上岗资格"),
    "duty.roster_pattern_created": _("新增排班规律"),
    "duty.roster_pattern_ended": _("结束排班规律"),
    "duty.roster_pattern_withdrawn": _("撤回排班规律"),
    "duty.roster_exception_created": _("新增排班调整"),
    "duty.roster_exception_deleted": _("删除排班调整"),
    "duty.training_session_created": _("新增培训"),
    "duty.training_result_recorded": _("登记培训结果"),
}
