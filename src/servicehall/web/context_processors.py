"""Navigation built from the user's capabilities: nobody sees a link to a page that would refuse them."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.urls import reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from servicehall.accounts.roles import Capability

# (url name, label, capability or capabilities of which any one suffices), grouped into sections so a
# clerk finds the day's work first and the back office last.
NavigationEntry = tuple[str, Promise, Capability | tuple[Capability, ...]]

NAVIGATION: list[tuple[Promise, list[NavigationEntry]]] = [
    (
        _("日常工作"),
        [
            ("web:home", _("工作台"), Capability.VIEW_WORKBENCH),
            ("cases:my_matters", _("我的事项"), Capability.RECORD_INQUIRIES),
            ("cases:case_list", _("办件"), Capability.HANDLE_CASES),
            ("cases:approval_list", _("审批"), Capability.APPROVE_CASES),
            ("duty:start", _("考勤与请假"), (Capability.CHECK_IN, Capability.MANAGE_DUTY)),
            ("conduct:reply", _("文明用语"), Capability.VIEW_WORKBENCH),
            ("supervision:my_record", _("我的违规记录"), Capability.CHECK_IN),
            ("feedback:mine", _("我的评价"), Capability.CHECK_IN),
            ("assessment:mine", _("我的考核"), Capability.CHECK_IN),
        ],
    ),
    (
        _("服务大厅"),
        [
            ("queueing:counter_index", _("窗口工作台"), Capability.USE_COUNTER),
            ("queueing:guide_desk", _("导办台"), Capability.ISSUE_TICKETS),
            ("queueing:monitor", _("大厅监控"), Capability.MONITOR_HALL),
        ],
    ),
    (
        _("监督管理"),
        [
            ("cases:board", _("电子监察"), Capability.SUPERVISE_CASES),
            ("duty:board", _("岗位值守"), Capability.MANAGE_DUTY),
            ("feedback:overview", _("好差评"), Capability.SUPERVISE_STAFF),
            ("feedback:board", _("差评整改"), Capability.SUPERVISE_STAFF),
            ("supervision:complaint_list", _("投诉处理"), Capability.HANDLE_COMPLAINTS),
            ("supervision:inspection_list", _("明察暗访"), Capability.INSPECT),
            ("supervision:escalation_list", _("责任追究"), Capability.SUPERVISE_STAFF),
            ("supervision:survey_tally", _("满意度调查"), Capability.SUPERVISE_STAFF),
            ("assessment:dashboard", _("考核看板"), Capability.VIEW_ASSESSMENT),
            ("assessment:period_list", _("考核结果"), Capability.VIEW_ASSESSMENT),
        ],
    ),
    (
        _("系统管理"),
        [
            ("sites:list", _("服务场所"), Capability.VIEW_SITES),
            ("accounts:staff_list", _("工作人员"), Capability.VIEW_STAFF_DIRECTORY),
            ("catalog:item_list", _("事项库"), Capability.MANAGE_CATALOG),
            ("workdays:calendar", _("工作日历"), Capability.MANAGE_CALENDAR),
            ("audit:list", _("审计日志"), Capability.VIEW_AUDIT),
        ],
    ),
]


def _allowed(user: Any, capability: Capability | tuple[Capability, ...]) -> bool:
    capabilities = capability if isinstance(capability, tuple) else (capability,)
    return any(user.has_capability(each) for each in capabilities)


# The State Council publishes next year's holidays in November or December; warning earlier would only
# train administrators to ignore the banner.
NEXT_YEAR_WARNING_FROM_MONTH = 11


def calendar_warning(request: HttpRequest) -> dict[str, Any]:
    """Years the working-day calendar lacks, shown on every back-office page to calendar managers."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not user.has_capability(Capability.MANAGE_CALENDAR):
        return {"calendar_missing_years": []}
    from django.utils import timezone

    from servicehall.workdays.service import missing_years

    today = timezone.localdate()
    years = [
        year
        for year in missing_years(today)
        if year == today.year or today.month >= NEXT_YEAR_WARNING_FROM_MONTH
    ]
    return {"calendar_missing_years": years}


def navigation(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    sections: list[dict[str, Any]] = []
    items: list[dict[str, Any]] = []
    # Until the second factor is verified and an expired password changed, every link would only
    # bounce back to that page, so none is offered.
    gated = (
        user is not None
        and user.is_authenticated
        and ((user.two_factor_required and not user.is_verified()) or user.password_expired())
    )
    if user is not None and user.is_authenticated and not gated:
        for section_label, entries in NAVIGATION:
            section_items = [
                {"url": reverse(url_name), "label": label, "active": False}
                for url_name, label, capability in entries
                if _allowed(user, capability)
            ]
            if section_items:
                sections.append({"label": section_label, "items": section_items})
                items.extend(section_items)
        # The longest matching link is the current one, so /cases/my/ marks 我的事项, not 办件.
        matching = [
            item
            for item in items
            if request.path == item["url"] or (item["url"] != "/" and request.path.startswith(item["url"]))
        ]
        if matching:
            max(matching, key=lambda item: len(item["url"]))["active"] = True
    return {
        "navigation_items": items,
        "navigation_sections": sections,
        "centre_name": settings.SERVICEHALL_CENTRE_NAME,
    }
