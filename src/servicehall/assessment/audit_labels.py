"""Readable names of the audit actions the assessment app records."""

from django.utils.translation import gettext_lazy as _

ACTION_LABELS = {
    "assessment.install_index_system": _("建立评价指标体系"),
    "assessment.configure_index_system": _("修改评价指标体系"),
    "assessment.compute_period": _("计算考核得分"),
    "assessment.publish_period": _("发布考核结果"),
    "assessment.history_simulated": _("载入模拟历史数据"),
}
