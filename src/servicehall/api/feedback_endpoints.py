"""好差评 endpoints: the citizen's rating by token (public), figures, my ratings, appeals, rectification.

Thin over ``feedback.actions``. The public rating needs no session but refuses one: a logged-in staff
member cannot rate (seed 003 不得对评价结果弄虚作假). The rater's contact details never leave the API, not
even masked, except on the rectification task a supervisor works (masked), where the 回访 needs them.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Query, Schema

from servicehall.accounts.permissions import require_capability, require_in_scope
from servicehall.accounts.roles import Capability
from servicehall.api.api import api
from servicehall.api.schemas import Problem
from servicehall.feedback import actions
from servicehall.feedback.metrics import Figures, figures
from servicehall.feedback.models import Rating, RatingAppeal, Rectification, RectificationStatus
from servicehall.lib.errors import ActionRefused, NotFound
from servicehall.lib.identity import mask_mobile_phone, mask_name
from servicehall.sites.models import Site

ERRORS = {400: Problem, 401: Problem, 403: Problem, 404: Problem, 409: Problem, 410: Problem}
LIST_LIMIT_MAX = 500
KEY_MAX_LENGTH = 64


# ---------------------------------------------------------------------------------------------
# Shapes


class RatingIn(Schema):
    key: str = Field(max_length=KEY_MAX_LENGTH)
    level: int
    reasons: list[str] = Field(default_factory=list, max_length=10)
    comment: str = Field(default="", max_length=actions.COMMENT_MAX_LENGTH)
    contact_name: str = Field(default="", max_length=50)
    contact_phone: str = Field(default="", max_length=20)


class RatedOut(Schema):
    grade: str
    level: int
    channel: str
    rated_at: dt.datetime
    held_for_review: bool


class FiguresOut(Schema):
    start: dt.date
    end: dt.date
    site_ids: list[int]
    ratings: int
    good: int
    neutral: int
    bad: int
    held: int
    excluded: int
    callbacks_needed: int
    callbacks_done: int
    justified: int
    rectified: int
    overdue: int
    good_rate: float | None
    bad_rate: float | None
    callback_rate: float | None
    rectification_rate: float | None


class AppealSummaryOut(Schema):
    id: int
    status: str
    decision_reason: str


class MyRatingOut(Schema):
    id: int
    service_kind: str
    window_id: int | None
    level: int
    grade: str
    reasons: list[str]
    comment: str
    channel: str
    rated_on: dt.date
    excluded: bool
    appeals: list[AppealSummaryOut]


class ReasonIn(Schema):
    reason: str = Field(max_length=actions.NOTE_MAX_LENGTH)


class AppealOut(Schema):
    id: int
    rating_id: int
    appellant_id: int
    reason: str
    status: str
    created_at: dt.datetime
    decided_by_id: int | None
    decided_at: dt.datetime | None
    decision_reason: str


class AppealDecisionIn(Schema):
    upheld: bool
    reason: str = Field(max_length=actions.NOTE_MAX_LENGTH)


class ReviewIn(Schema):
    accept: bool
    reason: str = Field(max_length=actions.NOTE_MAX_LENGTH)


class RectificationOut(Schema):
    id: int
    site_id: int
    rating_id: int
    staff_id: int | None
    status: str
    level: int
    reasons: list[str]
    comment: str
    real_name: bool
    contact_name_masked: str
    contact_phone_masked: str
    opened_at: dt.datetime
    verify_due: dt.date
    rectify_due: dt.date
    due_on: dt.date
    overdue: bool
    is_justified: bool | None
    verification_note: str
    rectification_note: str
    callback_result: str
    callback_note: str
    closed_at: dt.datetime | None


class VerifyIn(Schema):
    justified: bool
    note: str = Field(max_length=actions.NOTE_MAX_LENGTH)


class NoteIn(Schema):
    note: str = Field(max_length=actions.NOTE_MAX_LENGTH)


class CallbackIn(Schema):
    result: str
    note: str = Field(default="", max_length=actions.NOTE_MAX_LENGTH)


def _appeal_out(appeal: RatingAppeal) -> dict[str, Any]:
    return {
        "id": appeal.pk,
        "rating_id": appeal.rating_id,
        "appellant_id": appeal.appellant_id,
        "reason": appeal.reason,
        "status": appeal.status,
        "created_at": appeal.created_at,
        "decided_by_id": appeal.decided_by_id,
        "decided_at": appeal.decided_at,
        "decision_reason": appeal.decision_reason,
    }


def _task_out(task: Rectification) -> dict[str, Any]:
    rating = task.rating
    return {
        "id": task.pk,
        "site_id": task.site_id,
        "rating_id": task.rating_id,
        "staff_id": task.staff_id,
        "status": task.status,
        "level": rating.level,
        "reasons": rating.reasons,
        "comment": rating.comment,
        "real_name": rating.is_real_name,
        "contact_name_masked": mask_name(rating.contact_name),
        "contact_phone_masked": mask_mobile_phone(rating.contact_phone),
        "opened_at": task.opened_at,
        "verify_due": task.verify_due,
        "rectify_due": task.rectify_due,
        "due_on": task.due_on,
        "overdue": task.status != RectificationStatus.CLOSED and task.due_on < timezone.localdate(),
        "is_justified": task.is_justified,
        "verification_note": task.verification_note,
        "rectification_note": task.rectification_note,
        "callback_result": task.callback_result,
        "callback_note": task.callback_note,
        "closed_at": task.closed_at,
    }


def _scoped(request: HttpRequest, model: type, identifier: int) -> Any:
    require_capability(request.user, Capability.SUPERVISE_STAFF, path=request.path)
    target = model.objects.filter(pk=identifier).first()
    if target is None:
        raise NotFound()
    require_in_scope(request.user, target, path=request.path)
    return target


# ---------------------------------------------------------------------------------------------
# Public: the citizen rates


@api.post(
    "/feedback/public/ratings",
    auth=None,
    response={201: RatedOut, **ERRORS},
    tags=["feedback"],
    summary="服务对象评价（凭评价凭证）",
)
def rate(request: HttpRequest, payload: RatingIn) -> tuple[int, dict[str, Any]]:
    """One rating for the service the single-use token was issued for; staff sessions are refused.

    A replayed token answers 409, an unknown one 404, an expired one 410; nothing changes. A source that
    rates improbably often is accepted but held for review (``held_for_review``)."""
    try:
        rating = actions.rate(
            payload.key,
            level=payload.level,
            channel=None,
            reasons=payload.reasons,
            comment=payload.comment,
            contact_name=payload.contact_name,
            contact_phone=payload.contact_phone,
            source=actions.fingerprint("address", request.META.get("REMOTE_ADDR", "")),
            actor=request.user,
        )
    except ActionRefused as refusal:
        if refusal.code == "token_expired":
            refusal.status = 410
        raise
    return 201, {
        "grade": rating.grade,
        "level": rating.level,
        "channel": rating.channel,
        "rated_at": rating.rated_at,
        "held_for_review": rating.held_for_review,
    }


# ---------------------------------------------------------------------------------------------
# Staff: figures and my ratings


class FiguresQuery(Schema):
    start: dt.date | None = None
    end: dt.date | None = None
    site_id: int | None = None


@api.get(
    "/feedback/figures",
    response={200: FiguresOut, **ERRORS},
    tags=["feedback"],
    summary="好评率、差评率、回访率、整改率",
)
def figures_view(request: HttpRequest, query: Query[FiguresQuery]) -> dict[str, Any]:
    """Figures over the caller's sites (or one of them) for [start, end); default the current month."""
    require_capability(request.user, Capability.SUPERVISE_STAFF, path=request.path)
    today = timezone.localdate()
    start = query.start or today.replace(day=1)
    end = query.end or (start.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    if end <= start:
        raise ActionRefused(_("结束日期须晚于开始日期。"), code="dates_out_of_order", field="end")
    if (end - start).days > 400:
        raise ActionRefused(_("统计区间不能超过 400 天。"), code="range_too_long", field="end")
    ratings = Rating.objects.restrict(request.user, Capability.SUPERVISE_STAFF)
    tasks = Rectification.objects.restrict(request.user, Capability.SUPERVISE_STAFF)
    site_ids = sorted(request.user.accessible_site_ids())
    if query.site_id is not None:
        site = Site.objects.filter(pk=query.site_id).first()
        if site is None:
            raise NotFound()
        require_in_scope(request.user, site, path=request.path)
        ratings, tasks, site_ids = ratings.filter(site=site), tasks.filter(site=site), [site.pk]
    begin = timezone.make_aware(dt.datetime.combine(start, dt.time.min))
    finish = timezone.make_aware(dt.datetime.combine(end, dt.time.min))
    result: Figures = figures(
        ratings.filter(rated_at__gte=begin, rated_at__lt=finish),
        tasks.filter(opened_at__gte=begin, opened_at__lt=finish),
        today=today,
    )
    return {
        "start": start,
        "end": end,
        "site_ids": site_ids,
        **{name: getattr(result, name) for name in Figures.__dataclass_fields__},
        "good_rate": result.good_rate,
        "bad_rate": result.bad_rate,
        "callback_rate": result.callback_rate,
        "rectification_rate": result.rectification_rate,
    }


@api.get(
    "/feedback/my-ratings",
    response={200: list[MyRatingOut], **ERRORS},
    tags=["feedback"],
    summary="我收到的评价",
)
def my_ratings(request: HttpRequest, limit: int = 100) -> list[dict[str, Any]]:
    """The ratings the caller received, newest first. Who rated is never shown to the rated person: no
    contact details, and the day only, not the minute that would match the rating to a served ticket."""
    require_capability(request.user, Capability.VIEW_WORKBENCH, path=request.path)
    if not 1 <= limit <= LIST_LIMIT_MAX:
        raise ActionRefused(
            _("limit 须在 1 至 %(maximum)d 之间。") % {"maximum": LIST_LIMIT_MAX},
            code="invalid_limit",
            field="limit",
        )
    ratings = (
        Rating.objects.filter(staff=request.user).prefetch_related("appeals").order_by("-rated_at")[:limit]
    )
    return [
        {
            "id": rating.pk,
            "service_kind": rating.service_kind,
            "window_id": rating.window_id,
            "level": rating.level,
            "grade": rating.grade,
            "reasons": rating.reasons,
            "comment": rating.comment,
            "channel": rating.channel,
            "rated_on": timezone.localdate(rating.rated_at),
            "excluded": rating.excluded_at is not None,
            "appeals": [
                {"id": appeal.pk, "status": appeal.status, "decision_reason": appeal.decision_reason}
                for appeal in rating.appeals.all()
            ],
        }
        for rating in ratings
    ]


# ---------------------------------------------------------------------------------------------
# Appeals and held ratings


@api.post(
    "/feedback/ratings/{rating_id}/appeals",
    response={201: AppealOut, **ERRORS},
    tags=["feedback"],
    summary="对评价提出申诉",
)
def appeal(request: HttpRequest, rating_id: int, payload: ReasonIn) -> tuple[int, dict[str, Any]]:
    """Only the rated staff member may appeal; to anyone else the rating does not exist."""
    require_capability(request.user, Capability.VIEW_WORKBENCH, path=request.path)
    rating = Rating.objects.filter(pk=rating_id, staff=request.user).first()
    if rating is None:
        raise NotFound()
    return 201, _appeal_out(actions.appeal_rating(request.user, rating, payload.reason))


@api.post(
    "/feedback/appeals/{appeal_id}/decision",
    response={200: AppealOut, **ERRORS},
    tags=["feedback"],
    summary="处理评价申诉",
)
def decide_appeal(request: HttpRequest, appeal_id: int, payload: AppealDecisionIn) -> dict[str, Any]:
    """A supervisor of the site, not the appellant, decides; upheld → the rating leaves the figures."""
    target = _scoped(request, RatingAppeal, appeal_id)
    decided = actions.decide_appeal(request.user, target, upheld=payload.upheld, reason=payload.reason)
    return _appeal_out(decided)


@api.post(
    "/feedback/ratings/{rating_id}/review",
    response={200: RatedOut, **ERRORS},
    tags=["feedback"],
    summary="核查待核查的评价",
)
def review_held(request: HttpRequest, rating_id: int, payload: ReviewIn) -> dict[str, Any]:
    target = _scoped(request, Rating, rating_id)
    rating = actions.review_held_rating(request.user, target, accept=payload.accept, reason=payload.reason)
    return {
        "grade": rating.grade,
        "level": rating.level,
        "channel": rating.channel,
        "rated_at": rating.rated_at,
        "held_for_review": rating.held_for_review,
    }


# ---------------------------------------------------------------------------------------------
# 差评整改


@api.get(
    "/feedback/rectifications",
    response={200: list[RectificationOut], **ERRORS},
    tags=["feedback"],
    summary="差评整改任务",
)
def rectifications(
    request: HttpRequest, status: Literal["open", "closed", "overdue", "all"] = "open"
) -> list[dict[str, Any]]:
    """The supervisor's board: open tasks by due date (``overdue`` only the red ones)."""
    require_capability(request.user, Capability.SUPERVISE_STAFF, path=request.path)
    tasks = (
        Rectification.objects.restrict(request.user, Capability.SUPERVISE_STAFF)
        .filter(rating__excluded_at__isnull=True)
        .select_related("rating")
    )
    if status == "open":
        tasks = tasks.exclude(status=RectificationStatus.CLOSED)
    elif status == "overdue":
        tasks = tasks.exclude(status=RectificationStatus.CLOSED).filter(due_on__lt=timezone.localdate())
    elif status == "closed":
        tasks = tasks.filter(status=RectificationStatus.CLOSED)
    return [_task_out(task) for task in tasks.order_by("due_on", "pk")[:LIST_LIMIT_MAX]]


@api.post(
    "/feedback/rectifications/{task_id}/verify",
    response={200: RectificationOut, **ERRORS},
    tags=["feedback"],
    summary="核实差评",
)
def verify(request: HttpRequest, task_id: int, payload: VerifyIn) -> dict[str, Any]:
    task = _scoped(request, Rectification, task_id)
    return _task_out(actions.verify(request.user, task, justified=payload.justified, note=payload.note))


@api.post(
    "/feedback/rectifications/{task_id}/rectify",
    response={200: RectificationOut, **ERRORS},
    tags=["feedback"],
    summary="登记整改措施",
)
def rectify(request: HttpRequest, task_id: int, payload: NoteIn) -> dict[str, Any]:
    task = _scoped(request, Rectification, task_id)
    return _task_out(actions.rectify(request.user, task, note=payload.note))


@api.post(
    "/feedback/rectifications/{task_id}/call-back",
    response={200: RectificationOut, **ERRORS},
    tags=["feedback"],
    summary="登记回访结果",
)
def call_back(request: HttpRequest, task_id: int, payload: CallbackIn) -> dict[str, Any]:
    task = _scoped(request, Rectification, task_id)
    return _task_out(actions.call_back(request.user, task, result=payload.result, note=payload.note))
