"""Pages of 监督考核: periods and rankings, one score explained, the index system. Thin: parse, call actions.

Staff see their own scores (and the explanation of each); 窗口负责人 see their site's; 中心管理员 compute,
publish and configure. A published period is shown as published: its numbers never change.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from servicehall.accounts.permissions import require_in_scope
from servicehall.accounts.roles import Capability
from servicehall.assessment import actions
from servicehall.assessment.models import (
    AssessmentPeriod,
    Dimension,
    NominationRule,
    PeriodKind,
    Score,
    SubjectKind,
)
from servicehall.lib.errors import ActionRefused, NotFound, PermissionRefused
from servicehall.web.decorators import staff_view

SUBJECT_KINDS = [value for value, _label in SubjectKind.choices]


def _period(period_id: int) -> AssessmentPeriod:
    period = AssessmentPeriod.objects.filter(pk=period_id).first()
    if period is None:
        raise NotFound()
    return period


@require_GET
@staff_view(Capability.VIEW_ASSESSMENT)
def period_list_view(request: HttpRequest) -> HttpResponse:
    today = timezone.localdate()
    previous_month = (today.replace(day=1) - dt.timedelta(days=1)).strftime("%Y-%m")
    return render(
        request,
        "assessment/period_list.html",
        {
            "periods": AssessmentPeriod.objects.all()[:60],
            "can_manage": request.user.has_capability(Capability.MANAGE_ASSESSMENT),
            "suggested_period": previous_month,
        },
    )


@require_POST
@staff_view(Capability.MANAGE_ASSESSMENT)
def compute_view(request: HttpRequest) -> HttpResponse:
    kind, year, number = actions.parse_period(request.POST.get("period", ""))
    period = actions.compute_period(request.user, kind, year, number)
    messages.success(request, _("%(period)s 的考核得分已计算。") % {"period": period.label})
    return redirect("assessment:period", period_id=period.pk)


@require_POST
@staff_view(Capability.MANAGE_ASSESSMENT)
def publish_view(request: HttpRequest, period_id: int) -> HttpResponse:
    period = actions.publish_period(request.user, _period(period_id))
    messages.success(request, _("%(period)s 的考核结果已发布并冻结。") % {"period": period.label})
    return redirect("assessment:period", period_id=period.pk)


@require_GET
@staff_view(Capability.VIEW_ASSESSMENT)
def period_view(request: HttpRequest, period_id: int) -> HttpResponse:
    period = _period(period_id)
    kind = request.GET.get("kind", SubjectKind.STAFF)
    if kind not in SUBJECT_KINDS:
        raise ActionRefused(_("考核对象类型不正确。"), code="invalid_input", field="kind")
    scores = (
        Score.objects.restrict(request.user, Capability.VIEW_ASSESSMENT)
        .filter(period=period, subject_kind=kind)
        .select_related("site")
        .order_by("site_id", "rank", "subject_name")
    )
    sites: dict[Any, list[Score]] = {}
    for score in scores:
        sites.setdefault(score.site, []).append(score)
    return render(
        request,
        "assessment/period.html",
        {
            "period": period,
            "kind": kind,
            "kinds": SubjectKind.choices,
            "sites": sites,
            "can_manage": request.user.has_capability(Capability.MANAGE_ASSESSMENT),
            "has_ended": period.ends_on < timezone.localdate(),
        },
    )


def _visible_score(request: HttpRequest, score_id: int) -> Score:
    score = Score.objects.filter(pk=score_id).select_related("period", "site").first()
    if score is None:
        raise NotFound()
    own = score.subject_kind == SubjectKind.STAFF and score.subject_id == request.user.pk
    if not own:
        if not request.user.has_capability(Capability.VIEW_ASSESSMENT):
            raise NotFound()
        require_in_scope(request.user, score, path=request.path)
    return score


@require_GET
@staff_view(Capability.VIEW_WORKBENCH)
def score_view(request: HttpRequest, score_id: int) -> HttpResponse:
    score = _visible_score(request, score_id)
    return render(
        request,
        "assessment/score.html",
        {"score": score, "period": score.period, "explanation": score.explanation()},
    )


@require_GET
@staff_view(Capability.VIEW_WORKBENCH)
def my_scores_view(request: HttpRequest) -> HttpResponse:
    scores = (
        Score.objects.filter(subject_kind=SubjectKind.STAFF, subject_id=request.user.pk)
        .select_related("period")
        .order_by("-period__starts_on", "period__kind")
    )
    return render(request, "assessment/mine.html", {"scores": scores[:36]})


@require_http_methods(["GET", "POST"])
@staff_view(Capability.VIEW_ASSESSMENT)
def index_system_view(request: HttpRequest) -> HttpResponse:
    system = actions.active_system()
    can_manage = request.user.has_capability(Capability.MANAGE_ASSESSMENT)
    if request.method == "POST":
        # configure_system checks MANAGE_ASSESSMENT itself; its refusal becomes the 403 page.
        try:
            actions.configure_system(request.user, system, request.POST.dict())
        except PermissionRefused:
            raise
        except ActionRefused as refusal:
            messages.error(request, refusal.message)
            return render(
                request,
                "assessment/index_system.html",
                _index_context(system, can_manage, submitted=request.POST.dict()),
                status=400,
            )
        messages.success(request, _("评价指标体系已保存；已发布的考核期不受影响。"))
        return redirect("assessment:index_system")
    return render(request, "assessment/index_system.html", _index_context(system, can_manage))


def _index_context(system: Any, can_manage: bool, submitted: dict[str, str] | None = None) -> dict[str, Any]:
    """The form rows; after a refused save they show what was typed, so nothing has to be retyped."""
    submitted = submitted or {}

    def shown(key: str, current: Any) -> str:
        return submitted.get(key, "" if current is None else str(current))

    rows = []
    for dimension in Dimension.objects.filter(system=system).prefetch_related("indicators"):
        indicators = [
            {
                "indicator": indicator,
                "weight": shown(f"indicator-{indicator.pk}-weight", indicator.weight),
                "target": shown(f"indicator-{indicator.pk}-target", indicator.target.normalize()),
                "zero_at": shown(
                    f"indicator-{indicator.pk}-zero_at",
                    None if indicator.zero_at is None else indicator.zero_at.normalize(),
                ),
                "points": shown(
                    f"indicator-{indicator.pk}-points_per_occurrence",
                    None
                    if indicator.points_per_occurrence is None
                    else indicator.points_per_occurrence.normalize(),
                ),
            }
            for indicator in dimension.indicators.all()
        ]
        rows.append(
            {
                "dimension": dimension,
                "weight": shown(f"dimension-{dimension.pk}-weight", dimension.weight),
                "indicators": indicators,
            }
        )
    return {
        "system": system,
        "rows": rows,
        "can_manage": can_manage,
        "rules": NominationRule.objects.all(),
        "month_kind": PeriodKind.MONTH,
    }
