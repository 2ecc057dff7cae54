"""Chinese names of the duty audit action codes, for audit.labels.ACTION_LABELS (merged by the lead)."""

from __future__ import annotations

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

DUTY_ACTION_LABELS: dict[str, Promise] = {
    "duty.post_created": _("新增岗位"),
    "duty.post_updated": _("修改岗位"),
    "duty.assignment_created": _("指定A/B角"),
    "duty.assignment_ended": _("结束A/B角任期"),
    "duty.assignment_withdrawn": _("撤回A/B角安排"),
    "duty.roster_pattern_created": _("新增排班"),
    "duty.roster_pattern_ended": _("结束排班"),
    "duty.roster_pattern_withdrawn": _("撤回排班"),
    "duty.roster_exception_created": _("排班调整"),
    "duty.roster_exception_deleted": _("删除排班调整"),
    "duty.training_session_created": _("新建培训"),
    "duty.training_result_recorded": _("登记培训考核结果"),
    "duty.qualification_entered": _("录入上岗资质"),
    "duty.qualification_revoked": _("撤销上岗资质"),
    "duty.leave_requested": _("申请请假"),
    "duty.leave_approved": _("批准请假"),
    "duty.leave_rejected": _("驳回请假"),
    "duty.leave_cancelled": _("撤销请假"),
    "duty.emergency_leave_recorded": _("补登紧急请假"),
    "duty.checked_in": _("考勤打卡"),
    "duty.check_in_corrected": _("更正考勤"),
    "duty.missing_check_ins_recorded": _("记录缺卡"),
    "duty.away_started": _("离岗登记"),
    "duty.whereabouts_recorded": _("说明去向"),
    "duty.away_ended": _("返岗"),
    "duty.away_flagged": _("离岗超时未说明去向"),
}
