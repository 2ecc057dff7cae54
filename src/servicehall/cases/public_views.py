"""The citizen's progress page (no login): case number plus the last four digits of the applicant's phone
or ID number → state, due date and what is still needed; never personal data.

Seed 000 首问责任制 6 (服务对象有权查询事项办理情况). Wrong guesses are limited per address and per case
number (default 5 per 15 minutes, kept in the cache) so the last four digits cannot be tried one by one.
"""

from __future__ import annotations

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.crypto import constant_time_compare
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from servicehall.cases import actions
from servicehall.cases.models import Case
from servicehall.cases.states import CaseState

NUMBER_MAX_LENGTH = 20


def _limit() -> int:
    return int(getattr(settings, "SERVICEHALL_CASES_STATUS_ATTEMPTS", 5))


def _window_seconds() -> int:
    return int(getattr(settings, "SERVICEHALL_CASES_STATUS_WINDOW_SECONDS", 15 * 60))


def _keys(request: HttpRequest, number: str) -> tuple[str, str]:
    address = request.META.get("REMOTE_ADDR", "unknown")
    return f"cases:status:address:{address}", f"cases:status:case:{number}"


def _blocked(keys: tuple[str, str]) -> bool:
    return any((cache.get(key) or 0) >= _limit() for key in keys)


def _count_failure(keys: tuple[str, str]) -> None:
    for key in keys:
        if not cache.add(key, 1, timeout=_window_seconds()):
            try:
                cache.incr(key)
            except ValueError:
                cache.set(key, 1, timeout=_window_seconds())


def _matches(case: Case, last_four: str) -> bool:
    phone_match = constant_time_compare(case.applicant_phone[-4:], last_four)
    id_match = constant_time_compare(case.applicant_id_number[-4:].upper(), last_four.upper())
    return phone_match or id_match


PUBLIC_STATES = {
    CaseState.DRAFT: gettext_lazy("已收件，正在审查材料"),
    CaseState.SUPPLEMENT_REQUESTED: gettext_lazy("待补正材料"),
    CaseState.ACCEPTED: gettext_lazy("已受理，正在办理"),
    CaseState.ACCEPTED_DEFERRED: gettext_lazy("已容缺受理，正在办理（请按时补齐容缺材料）"),
    CaseState.SUSPENDED: gettext_lazy("中止办理，等待申请人补齐材料"),
    CaseState.IN_APPROVAL: gettext_lazy("审批中"),
    CaseState.APPROVED: gettext_lazy("已审批，待办结"),
    CaseState.REFUSED_AFTER_REVIEW: gettext_lazy("审批已作出决定，待办结"),
    CaseState.COMPLETED: gettext_lazy("已办结，待领取"),
    CaseState.DELIVERED: gettext_lazy("已办结并送达"),
    CaseState.WITHDRAWN: gettext_lazy("申请人已撤回"),
    CaseState.NOT_ACCEPTED: gettext_lazy("不予受理（请查看不予受理告知书）"),
}


@require_http_methods(["GET", "POST"])
def status_view(request: HttpRequest) -> HttpResponse:
    number = "".join(request.POST.get("number", request.GET.get("number", "")).split())[:NUMBER_MAX_LENGTH]
    context: dict[str, object] = {"number": number}
    status = 200
    if request.method == "POST":
        last_four = "".join(request.POST.get("last_four", "").split())[:4]
        keys = _keys(request, number)
        if _blocked(keys):
            context["error"] = _("查询失败次数过多，请 15 分钟后再试。")
            status = 429
        elif len(number) < 4 or len(last_four) != 4:
            context["error"] = _("请输入办件编号和申请人手机号或证件号码的后四位。")
            status = 400
        else:
            case = Case.objects.select_related("item", "site").filter(number=number).first()
            if case is None or not _matches(case, last_four):
                _count_failure(keys)
                # The same answer whether the number or the digits were wrong: nothing to learn from it.
                context["error"] = _("办件编号或后四位不正确。")
                status = 404
            else:
                context["case"] = case
                context["public_state"] = PUBLIC_STATES[CaseState(case.state)]
                context["outstanding"] = actions.outstanding_materials(case)
    response = render(request, "cases/public_status.html", context, status=status)
    response["Cache-Control"] = "no-store"
    response["X-Robots-Tag"] = "noindex"
    return response
