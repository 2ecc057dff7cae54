"""Public pages (no login): the complaint/suggestion form, the lookup by number and check code, the survey.

Nothing here shows personal data or names of staff: the lookup answers the status and dates only. Submissions
and failed lookups are limited per address (kept in the cache) so the check code cannot be guessed.
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

from servicehall.lib.errors import ActionRefused, NotFound
from servicehall.sites.models import Site
from servicehall.supervision import actions
from servicehall.supervision.models import (
    SATISFACTION_LEVELS,
    YES_NO_ANSWERS,
    Complaint,
    ComplaintChannel,
    ComplaintKind,
    ComplaintStatus,
    Survey,
    SurveyQuestion,
)

PUBLIC_STATUS = {
    ComplaintStatus.RECEIVED: gettext_lazy("已受理，等待调查"),
    ComplaintStatus.INVESTIGATING: gettext_lazy("正在调查核实"),
    ComplaintStatus.DISPOSED: gettext_lazy("已处置，等待答复"),
    ComplaintStatus.REPLIED: gettext_lazy("已答复"),
    ComplaintStatus.FILED: gettext_lazy("已办结归档"),
}


def _limited(request: HttpRequest, purpose: str, limit: int, seconds: int) -> bool:
    key = f"supervision:{purpose}:{request.META.get('REMOTE_ADDR', 'unknown')}"
    return (cache.get(key) or 0) >= limit


def _count(request: HttpRequest, purpose: str, seconds: int) -> None:
    key = f"supervision:{purpose}:{request.META.get('REMOTE_ADDR', 'unknown')}"
    if not cache.add(key, 1, timeout=seconds):
        try:
            cache.incr(key)
        except ValueError:
            cache.set(key, 1, timeout=seconds)


def _no_store(response: HttpResponse) -> HttpResponse:
    response["Cache-Control"] = "no-store"
    response["X-Robots-Tag"] = "noindex"
    return response


@require_http_methods(["GET", "POST"])
def complaint_form_view(request: HttpRequest) -> HttpResponse:
    sites = Site.objects.filter(is_active=True).order_by("code")
    context: dict[str, object] = {"sites": sites, "kinds": ComplaintKind.choices, "data": request.POST}
    status = 200
    if request.method == "POST":
        submissions = int(getattr(settings, "SERVICEHALL_PUBLIC_COMPLAINTS_PER_HOUR", 10))
        raw_site = request.POST.get("site", "")
        site = sites.filter(pk=int(raw_site)).first() if raw_site.isdigit() else None
        if _limited(request, "complaint", submissions, 3600):
            context["error"] = _("提交次数过多，请稍后再试。")
            status = 429
        elif site is None:
            context["error"] = _("请选择服务场所。")
            status = 400
        else:
            try:
                complaint, code = actions.register_complaint(
                    None,
                    actions.ComplaintData(
                        site=site,
                        content=request.POST.get("content", ""),
                        channel=ComplaintChannel.WEB,
                        kind=request.POST.get("kind", ComplaintKind.COMPLAINT),
                        complainant_name=request.POST.get("complainant_name", ""),
                        complainant_phone=request.POST.get("complainant_phone", ""),
                    ),
                )
                _count(request, "complaint", 3600)
                context = {"complaint": complaint, "check_code": code}
            except ActionRefused as refusal:
                context["error"] = refusal.message
                status = 400
    return _no_store(render(request, "supervision/public_complaint.html", context, status=status))


@require_http_methods(["GET", "POST"])
def complaint_lookup_view(request: HttpRequest) -> HttpResponse:
    context: dict[str, object] = {}
    status = 200
    if request.method == "POST":
        number = "".join(request.POST.get("number", "").split())[:20].upper()
        code = "".join(request.POST.get("check_code", "").split())[:12]
        context["number"] = number
        if _limited(
            request, "lookup", int(getattr(settings, "SERVICEHALL_COMPLAINT_LOOKUP_ATTEMPTS", 5)), 900
        ):
            context["error"] = _("查询失败次数过多，请 15 分钟后再试。")
            status = 429
        elif not number or not code:
            context["error"] = _("请输入投诉编号和查询码。")
            status = 400
        else:
            complaint = Complaint.objects.select_related("site").filter(number=number).first()
            if complaint is None or not constant_time_compare(
                complaint.check_code_hash, actions.hash_check_code(code)
            ):
                _count(request, "lookup", 900)
                context["error"] = _("投诉编号或查询码不正确。")
                status = 404
            else:
                context["found"] = {
                    "number": complaint.number,
                    "site": complaint.site.name,
                    "kind": complaint.get_kind_display(),
                    "status": PUBLIC_STATUS[ComplaintStatus(complaint.status)],
                    "received_on": complaint.received_at,
                    "deadline": complaint.deadline,
                    "replied_on": complaint.replied_at,
                }
    return _no_store(render(request, "supervision/public_lookup.html", context, status=status))


@require_http_methods(["GET", "POST"])
def survey_view(request: HttpRequest, survey_id: int) -> HttpResponse:
    survey = Survey.objects.select_related("site").filter(pk=survey_id, is_published=True).first()
    if survey is None:
        return _no_store(
            render(
                request, "web/error.html", {"status": 404, "message": _("该调查不存在或已结束。")}, status=404
            )
        )
    questions = list(SurveyQuestion.objects.filter(is_active=True))
    context: dict[str, object] = {
        "survey": survey,
        "questions": questions,
        "levels": SATISFACTION_LEVELS,
        "yes_no": YES_NO_ANSWERS,
        "data": request.POST,
    }
    status = 200
    if request.method == "POST":
        if _limited(request, "survey", int(getattr(settings, "SERVICEHALL_SURVEYS_PER_HOUR", 20)), 3600):
            context["error"] = _("提交次数过多，请稍后再试。")
            status = 429
        else:
            try:
                actions.submit_survey(
                    survey, {question.code: request.POST.get(question.code, "") for question in questions}
                )
                _count(request, "survey", 3600)
                context["thanks"] = True
            except NotFound:
                raise
            except ActionRefused as refusal:
                context["error"] = refusal.message
                status = 400
    return _no_store(render(request, "supervision/public_survey.html", context, status=status))
