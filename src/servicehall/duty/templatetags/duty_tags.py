"""The tabs across the duty pages, offered only where the user's capabilities reach."""

from __future__ import annotations

from typing import Any

from django import template
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from servicehall.accounts.roles import Capability

register = template.Library()

TABS = [
    ("duty:board", _("岗位覆盖"), Capability.MANAGE_DUTY),
    ("duty:posts", _("岗位与A/B角"), Capability.MANAGE_DUTY),
    ("duty:roster", _("排班"), Capability.MANAGE_DUTY),
    ("duty:leave_queue", _("请假审批"), Capability.MANAGE_DUTY),
    ("duty:attendance", _("考勤"), Capability.MANAGE_DUTY),
    ("duty:check_in", _("我的打卡"), Capability.CHECK_IN),
    ("duty:my_leave", _("我的请假"), Capability.REQUEST_LEAVE),
    ("duty:substitution", _("替岗"), Capability.CHECK_IN),
    ("duty:training", _("培训"), Capability.MANAGE_TRAINING),
    ("duty:qualifications", _("上岗资质"), Capability.MANAGE_TRAINING),
]


@register.inclusion_tag("duty/_tabs.html", takes_context=True)
def duty_tabs(context: dict[str, Any]) -> dict[str, Any]:
    request = context["request"]
    user = request.user
    tabs = []
    for url_name, label, capability in TABS:
        if user.has_capability(capability):
            url = reverse(url_name)
            active = request.path.startswith(url)
            tabs.append({"url": url, "label": label, "active": active})
    return {"tabs": tabs}
