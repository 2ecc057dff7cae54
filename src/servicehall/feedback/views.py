"""Staff pages of 好差评. Thin: each checks the shape of the input and calls feedback.actions.

Contact details of a 实名 rating are shown masked; only the rectification page needs the phone, and it
shows it masked too (the 回访 is made by the centre's phone system, which holds the number).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from servicehall.accounts.permissions import require_in_scope
from servicehall.accounts.roles import Capability
from servicehall.feedback import actions
from servicehall.feedback.metrics import figures
from servicehall.feedback.models import (
    AppealStatus,
    CallbackResult,
    Grade,
    Rating,
    RatingAppeal,
    Rectification,
    RectificationStatus,
)
from servicehall.feedback.public_views import evaluator_key
from servicehall.lib.errors import ActionRefused, NotFound
from servicehall.lib.identity import mask_mobile_phone, mask_name
from servicehall.sites.models import Window
from servicehall.web.decorators import staff_view

LIST_LIMIT = 200


def _object(request: HttpRequest, model: type, identifier: int) -> Any:
    target = model.objects.filter(pk=identifier).first()
    if target is None:
        raise NotFound()
    require_in_scope(request.user, target, path=request.path)
    return target


def _month(raw: str) -> tuple[dt.date, dt.date]:
    today = timezone.localdate()
    try:
        first = dt.date.fromisoformat(f"{raw}-01") if raw else today.replace(day=1)
    except ValueError:
        raise ActionRefused(
            _("月份格式不正确，应为 YYYY-MM。"), code="invalid_input", field="month"
        ) from None
    following = (first.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return first, following


def _masked(rating: Rating) -> dict[str, str]:
    return {"name": mask_name(rating.contact_name), "phone": mask_mobile_phone(rating.contact_phone)}


@require_GET
@staff_view(Capability.SUPERVISE_STAFF)
def overview_view(request: HttpRequest) -> HttpResponse:
    first, following = _month(request.GET.get("month", ""))
    start = timezone.make_aware(dt.datetime.combine(first, dt.time.min))
    end = timezone.make_aware(dt.datetime.combine(following, dt.time.min))
    ratings = Rating.objects.restrict(request.user, Capability.SUPERVISE_STAFF).filter(
        rated_at__gte=start, rated_at__lt=end
    )
    grade = request.GET.get("grade", "")
    listed = ratings.filter(grade=grade) if grade in Grade.values else ratings
    tasks = Rectification.objects.restrict(request.user, Capability.SUPERVISE_STAFF).filter(
        opened_at__gte=start, opened_at__lt=end
    )
    rows = [
        (rating, _masked(rating))
        for rating in listed.select_related("staff", "window", "site").order_by("-rated_at")[:LIST_LIMIT]
    ]
    return render(
        request,
        "feedback/overview.html",
        {
            "figures": figures(ratings, tasks, today=timezone.localdate()),
            "rows": rows,
            "month": first.strftime("%Y-%m"),
            "grade": grade,
            "grades": Grade.choices,
            "held": Rating.objects.restrict(request.user, Capability.SUPERVISE_STAFF)
            .filter(held_for_review=True)
            .select_related("staff", "window")[:LIST_LIMIT],
        },
    )


@require_GET
@staff_view(Capability.VIEW_WORKBENCH)
def my_ratings_view(request: HttpRequest) -> HttpResponse:
    ratings = Rating.objects.filter(staff=request.user).select_related("window").prefetch_related("appeals")
    today = timezone.localdate()
    return render(
        request,
        "feedback/mine.html",
        {
            "ratings": ratings.order_by("-rated_at")[:LIST_LIMIT],
            "figures": figures(ratings, Rectification.objects.filter(staff=request.user), today=today),
        },
    )


@require_POST
@staff_view(Capability.VIEW_WORKBENCH)
def appeal_view(request: HttpRequest, rating_id: int) -> HttpResponse:
    rating = Rating.objects.filter(pk=rating_id, staff=request.user).first()
    if rating is None:
        raise NotFound()
    actions.appeal_rating(request.user, rating, request.POST.get("reason", ""))
    messages.success(request, _("申诉已提交，等待窗口负责人处理。"))
    return redirect("feedback:mine")


@require_GET
@staff_view(Capability.SUPERVISE_STAFF)
def appeal_list_view(request: HttpRequest) -> HttpResponse:
    appeals = (
        RatingAppeal.objects.restrict(request.user, Capability.SUPERVISE_STAFF)
        .select_related("rating", "appellant", "decided_by")
        .order_by("-created_at")
    )
    return render(
        request,
        "feedback/appeals.html",
        {
            "pending": appeals.filter(status=AppealStatus.PENDING)[:LIST_LIMIT],
            "decided": appeals.exclude(status=AppealStatus.PENDING)[:50],
        },
    )


@require_POST
@staff_view(Capability.SUPERVISE_STAFF)
def appeal_decide_view(request: HttpRequest, appeal_id: int) -> HttpResponse:
    appeal = _object(request, RatingAppeal, appeal_id)
    decision = request.POST.get("decision", "")
    if decision not in ("upheld", "rejected"):
        raise ActionRefused(_("请选择申诉是否成立。"), code="invalid_input", field="decision")
    actions.decide_appeal(
        request.user, appeal, upheld=decision == "upheld", reason=request.POST.get("reason", "")
    )
    messages.success(request, _("已处理申诉。"))
    return redirect("feedback:appeal_list")


@require_POST
@staff_view(Capability.SUPERVISE_STAFF)
def review_held_view(request: HttpRequest, rating_id: int) -> HttpResponse:
    rating = _object(request, Rating, rating_id)
    decision = request.POST.get("decision", "")
    if decision not in ("accept", "exclude"):
        raise ActionRefused(_("请选择是否采信该评价。"), code="invalid_input", field="decision")
    actions.review_held_rating(
        request.user, rating, accept=decision == "accept", reason=request.POST.get("reason", "")
    )
    messages.success(request, _("已核查该评价。"))
    return redirect("feedback:overview")


@require_GET
@staff_view(Capability.SUPERVISE_STAFF)
def rectification_board_view(request: HttpRequest) -> HttpResponse:
    today = timezone.localdate()
    tasks = (
        Rectification.objects.restrict(request.user, Capability.SUPERVISE_STAFF)
        .filter(rating__excluded_at__isnull=True)
        .select_related("rating", "staff", "rating__window")
    )
    open_tasks = tasks.exclude(status=RectificationStatus.CLOSED).order_by("due_on", "pk")
    return render(
        request,
        "feedback/board.html",
        {
            "open_tasks": open_tasks[:LIST_LIMIT],
            "closed_tasks": tasks.filter(status=RectificationStatus.CLOSED).order_by("-closed_at")[:50],
            "today": today,
            "overdue": open_tasks.filter(due_on__lt=today).count(),
        },
    )


def _task_page(request: HttpRequest, task: Rectification, error: ActionRefused | None = None) -> HttpResponse:
    return render(
        request,
        "feedback/rectification.html",
        {
            "task": task,
            "rating": task.rating,
            "masked": _masked(task.rating),
            "today": timezone.localdate(),
            "callback_results": CallbackResult.choices,
            "error": error,
        },
        status=error.status if error else 200,
    )


@require_GET
@staff_view(Capability.SUPERVISE_STAFF)
def rectification_view(request: HttpRequest, task_id: int) -> HttpResponse:
    return _task_page(request, _object(request, Rectification, task_id))


@require_POST
@staff_view(Capability.SUPERVISE_STAFF)
def rectification_action_view(request: HttpRequest, task_id: int) -> HttpResponse:
    task = _object(request, Rectification, task_id)
    action = request.POST.get("action", "")
    note = request.POST.get("note", "")
    try:
        if action == "verify":
            justified = request.POST.get("justified", "")
            if justified not in ("yes", "no"):
                raise ActionRefused(_("请选择差评是否属实。"), code="invalid_input", field="justified")
            actions.verify(request.user, task, justified=justified == "yes", note=note)
        elif action == "rectify":
            actions.rectify(request.user, task, note=note)
        elif action == "call_back":
            actions.call_back(request.user, task, result=request.POST.get("result", ""), note=note)
        else:
            raise ActionRefused(_("未知的操作。"), code="invalid_input")
    except ActionRefused as refusal:
        if refusal.status not in (400, 409):
            raise
        task.refresh_from_db()
        return _task_page(request, task, refusal)
    messages.success(request, _("已保存。"))
    return redirect("feedback:rectification", task.pk)


@require_GET
@staff_view(Capability.SUPERVISE_STAFF)
def evaluator_list_view(request: HttpRequest) -> HttpResponse:
    windows = (
        Window.objects.restrict(request.user)
        .filter(is_active=True)
        .select_related("site")
        .order_by("site__code", "number")
    )
    return render(
        request,
        "feedback/evaluators.html",
        {"windows": [(window, evaluator_key(window)) for window in windows]},
    )
