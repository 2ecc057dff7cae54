"""The hall's API (取号叫号): the counter workstation, guide-desk tickets, the monitor, categories, figures.

Every route needs a staff session; the public (kiosk, displays, status pages) uses the pages under
/hall/. Each route checks the capability through the action it calls, which also scopes by site.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from ninja import Field, Query, Schema

from servicehall.accounts.permissions import require_capability, require_in_scope
from servicehall.accounts.roles import Capability
from servicehall.api.api import api
from servicehall.api.schemas import Problem
from servicehall.catalog.models import ServiceItem
from servicehall.lib.errors import ActionRefused, NotFound
from servicehall.queueing import actions, metrics, selectors
from servicehall.queueing.models import Category, PriorityGroup, Ticket, TicketChannel, WindowState
from servicehall.sites.models import Site, Window

ERRORS = {400: Problem, 401: Problem, 403: Problem, 404: Problem, 409: Problem}
TAGS = ["queueing"]
METRICS_DAYS_MAX = 366


class TicketOut(Schema):
    id: int
    number: str
    category: str
    status: str
    lane: str
    priority_group: str
    window: int | None
    phone_masked: str
    issued_at: dt.datetime
    called_at: dt.datetime | None
    call_count: int


def _ticket_out(ticket: Ticket) -> dict[str, Any]:
    window_number = None
    if ticket.window_id is not None:
        window_number = Window.objects.filter(pk=ticket.window_id).values_list("number", flat=True).first()
    return {
        "id": ticket.pk,
        "number": ticket.number,
        "category": Category.objects.filter(pk=ticket.category_id).values_list("prefix", flat=True).first()
        or "",
        "status": ticket.status,
        "lane": ticket.lane,
        "priority_group": ticket.priority_group,
        "window": window_number,
        "phone_masked": ticket.masked_phone,
        "issued_at": ticket.issued_at or ticket.called_at,
        "called_at": ticket.called_at,
        "call_count": ticket.call_count,
    }


class CalledOut(Schema):
    id: int
    number: str
    window: int
    text: str


class WindowStateOut(Schema):
    window_id: int
    window: int
    status: str
    clerk_id: int | None
    pause_reason: str
    whereabouts: str
    current_ticket_id: int | None


def _state_out(state: WindowState) -> dict[str, Any]:
    return {
        "window_id": state.window_id,
        "window": state.window.number,
        "status": state.status,
        "clerk_id": state.clerk_id,
        "pause_reason": state.pause_reason,
        "whereabouts": state.whereabouts,
        "current_ticket_id": state.current_ticket_id,
    }


def _window(window_id: int) -> Window:
    window = Window.objects.filter(pk=window_id).first()
    if window is None:
        raise NotFound()
    return window


def _category(category_id: int) -> Category:
    category = Category.objects.select_related("site").filter(pk=category_id).first()
    if category is None:
        raise NotFound()
    return category


def _ticket(ticket_id: int) -> Ticket:
    ticket = Ticket.objects.filter(pk=ticket_id).first()
    if ticket is None:
        raise NotFound()
    return ticket


def _site(site_id: int) -> Site:
    site = Site.objects.filter(pk=site_id).first()
    if site is None:
        raise NotFound()
    return site


# ---------------------------------------------------------------------------------------------
# Guide desk (导办台)


class IssueIn(Schema):
    lane: str = Field(default="ordinary", max_length=16)
    priority_group: str = Field(default="", max_length=16)
    phone: str = Field(default="", max_length=20)
    service_item_id: int | None = None


@api.post(
    "/queueing/categories/{category_id}/tickets",
    response={201: TicketOut, **ERRORS},
    tags=TAGS,
    summary="导办台取号",
)
def issue_ticket(request: HttpRequest, category_id: int, payload: IssueIn) -> tuple[int, dict[str, Any]]:
    require_capability(request.user, Capability.ISSUE_TICKETS, path=request.path)
    category = _category(category_id)
    require_in_scope(request.user, category, path=request.path)
    item = None
    if payload.service_item_id is not None:
        item = ServiceItem.objects.filter(pk=payload.service_item_id).first()
        if item is None:
            raise ActionRefused("所选事项不属于该业务。", code="invalid_item", field="service_item_id")
    ticket = actions.issue_ticket(
        request.user,
        category,
        channel=TicketChannel.GUIDE_DESK,
        lane=payload.lane,
        priority_group=payload.priority_group,
        phone=payload.phone,
        service_item=item,
    )
    return 201, _ticket_out(ticket)


@api.post(
    "/queueing/tickets/{ticket_id}/requeue",
    response={200: TicketOut, **ERRORS},
    tags=TAGS,
    summary="过号重排",
)
def requeue(request: HttpRequest, ticket_id: int) -> dict[str, Any]:
    require_capability(request.user, Capability.ISSUE_TICKETS, path=request.path)
    return _ticket_out(actions.requeue_late_arrival(request.user, _ticket(ticket_id)))


@api.post(
    "/queueing/tickets/{ticket_id}/cancel", response={200: TicketOut, **ERRORS}, tags=TAGS, summary="取消取号"
)
def cancel(request: HttpRequest, ticket_id: int) -> dict[str, Any]:
    require_capability(request.user, Capability.ISSUE_TICKETS, path=request.path)
    return _ticket_out(actions.cancel_ticket(request.user, _ticket(ticket_id)))


# ---------------------------------------------------------------------------------------------
# Counter workstation (窗口工作台)


@api.post(
    "/queueing/windows/{window_id}/sign-in",
    response={200: WindowStateOut, **ERRORS},
    tags=TAGS,
    summary="窗口签到",
)
def sign_in(request: HttpRequest, window_id: int) -> dict[str, Any]:
    return _state_out(actions.sign_in(request.user, _window(window_id)))


@api.post(
    "/queueing/windows/{window_id}/sign-out",
    response={200: WindowStateOut, **ERRORS},
    tags=TAGS,
    summary="窗口签退",
)
def sign_out(request: HttpRequest, window_id: int) -> dict[str, Any]:
    return _state_out(actions.sign_out(request.user, _window(window_id)))


class CallIn(Schema):
    expected_current_id: int | None = None


@api.post(
    "/queueing/windows/{window_id}/call-next", response={200: CalledOut, **ERRORS}, tags=TAGS, summary="叫号"
)
def call_next(request: HttpRequest, window_id: int, payload: CallIn) -> dict[str, Any]:
    window = _window(window_id)
    ticket = actions.call_next(request.user, window, expected_current_id=payload.expected_current_id)
    return {
        "id": ticket.pk,
        "number": ticket.number,
        "window": window.number,
        "text": actions.call_text(ticket.number, window.number),
    }


@api.post(
    "/queueing/windows/{window_id}/recall", response={200: TicketOut, **ERRORS}, tags=TAGS, summary="重呼"
)
def recall(request: HttpRequest, window_id: int) -> dict[str, Any]:
    return _ticket_out(actions.recall(request.user, _window(window_id)))


@api.post(
    "/queueing/windows/{window_id}/no-show", response={200: TicketOut, **ERRORS}, tags=TAGS, summary="过号"
)
def no_show(request: HttpRequest, window_id: int) -> dict[str, Any]:
    return _ticket_out(actions.mark_no_show(request.user, _window(window_id)))


class StartIn(Schema):
    linked_object_type: str = Field(default="", max_length=64)
    linked_object_id: str = Field(default="", max_length=64)


@api.post(
    "/queueing/windows/{window_id}/start", response={200: TicketOut, **ERRORS}, tags=TAGS, summary="开始办理"
)
def start(request: HttpRequest, window_id: int, payload: StartIn) -> dict[str, Any]:
    return _ticket_out(
        actions.start_service(
            request.user,
            _window(window_id),
            linked_object_type=payload.linked_object_type,
            linked_object_id=payload.linked_object_id,
        )
    )


class FinishIn(Schema):
    ticket_id: int | None = None


@api.post(
    "/queueing/windows/{window_id}/finish", response={200: TicketOut, **ERRORS}, tags=TAGS, summary="办结"
)
def finish(request: HttpRequest, window_id: int, payload: FinishIn) -> dict[str, Any]:
    return _ticket_out(actions.finish_service(request.user, _window(window_id), ticket_id=payload.ticket_id))


class TransferIn(Schema):
    to_category_id: int | None = None
    to_window_id: int | None = None


@api.post(
    "/queueing/windows/{window_id}/transfer", response={200: TicketOut, **ERRORS}, tags=TAGS, summary="转窗"
)
def transfer(request: HttpRequest, window_id: int, payload: TransferIn) -> dict[str, Any]:
    window = _window(window_id)
    to_category = _category(payload.to_category_id) if payload.to_category_id is not None else None
    to_window = _window(payload.to_window_id) if payload.to_window_id is not None else None
    return _ticket_out(actions.transfer(request.user, window, to_category=to_category, to_window=to_window))


class PauseIn(Schema):
    reason: str = Field(max_length=200)
    whereabouts: str = Field(default="", max_length=200)


@api.post(
    "/queueing/windows/{window_id}/pause",
    response={200: WindowStateOut, **ERRORS},
    tags=TAGS,
    summary="暂停服务",
)
def pause(request: HttpRequest, window_id: int, payload: PauseIn) -> dict[str, Any]:
    window = _window(window_id)
    actions.pause(request.user, window, reason=payload.reason, whereabouts=payload.whereabouts)
    return _state_out(WindowState.objects.select_related("window").get(window=window))


class WhereaboutsIn(Schema):
    whereabouts: str = Field(max_length=200)


@api.post(
    "/queueing/windows/{window_id}/whereabouts",
    response={200: WindowStateOut, **ERRORS},
    tags=TAGS,
    summary="说明去向",
)
def whereabouts(request: HttpRequest, window_id: int, payload: WhereaboutsIn) -> dict[str, Any]:
    window = _window(window_id)
    actions.state_whereabouts(request.user, window, whereabouts=payload.whereabouts)
    return _state_out(WindowState.objects.select_related("window").get(window=window))


@api.post(
    "/queueing/windows/{window_id}/resume",
    response={200: WindowStateOut, **ERRORS},
    tags=TAGS,
    summary="恢复服务",
)
def resume(request: HttpRequest, window_id: int) -> dict[str, Any]:
    return _state_out(actions.resume(request.user, _window(window_id)))


# ---------------------------------------------------------------------------------------------
# Hall monitor (窗口负责人) and tidal windows


class QueueOut(Schema):
    category_id: int
    prefix: str
    name: str
    waiting: int
    longest_wait_minutes: int
    estimated_wait_minutes: int
    over_threshold: bool
    candidate_window_ids: list[int]


class WindowRowOut(Schema):
    window_id: int
    window: int
    status: str
    clerk: str | None
    staff_number: str | None
    current: str | None
    categories: list[str]
    pause_reason: str
    whereabouts: str


class HallOut(Schema):
    site_id: int
    waiting_total: int
    served_today: int
    queues: list[QueueOut]
    windows: list[WindowRowOut]


@api.get("/queueing/sites/{site_id}/hall", response={200: HallOut, **ERRORS}, tags=TAGS, summary="大厅监控")
def hall(request: HttpRequest, site_id: int) -> dict[str, Any]:
    require_capability(request.user, Capability.MONITOR_HALL, path=request.path)
    site = _site(site_id)
    require_in_scope(request.user, site, path=request.path)
    picture = selectors.hall_picture(site)
    return {
        "site_id": site.pk,
        "waiting_total": picture.waiting_total,
        "served_today": picture.served_today,
        "queues": [
            {
                "category_id": queue.category.pk,
                "prefix": queue.category.prefix,
                "name": queue.category.name,
                "waiting": queue.waiting,
                "longest_wait_minutes": queue.longest_wait_minutes,
                "estimated_wait_minutes": queue.estimated_wait_minutes,
                "over_threshold": queue.over_threshold,
                "candidate_window_ids": [candidate["window"].pk for candidate in queue.candidates],
            }
            for queue in picture.categories
        ],
        "windows": [
            {
                "window_id": row["window"].pk,
                "window": row["window"].number,
                "status": row["status"],
                "clerk": row["clerk"].full_name if row["clerk"] else None,
                "staff_number": row["clerk"].staff_number if row["clerk"] else None,
                "current": row["current"].number if row["current"] else None,
                "categories": row["categories"],
                "pause_reason": row["state"].pause_reason if row["state"] else "",
                "whereabouts": row["state"].whereabouts if row["state"] else "",
            }
            for row in picture.windows
        ],
    }


class TidalOut(Schema):
    category_id: int
    window_id: int
    is_standby: bool


@api.post(
    "/queueing/categories/{category_id}/windows/{window_id}/open",
    response={200: TidalOut, **ERRORS},
    tags=TAGS,
    summary="开放潮汐窗口",
)
def open_tidal(request: HttpRequest, category_id: int, window_id: int) -> dict[str, Any]:
    link = actions.open_window_for_category(request.user, _category(category_id), _window(window_id))
    return {"category_id": link.category_id, "window_id": link.window_id, "is_standby": link.is_standby}


@api.post(
    "/queueing/categories/{category_id}/windows/{window_id}/close",
    response={200: TidalOut, **ERRORS},
    tags=TAGS,
    summary="收回潮汐窗口",
)
def close_tidal(request: HttpRequest, category_id: int, window_id: int) -> dict[str, Any]:
    link = actions.close_window_for_category(request.user, _category(category_id), _window(window_id))
    return {"category_id": link.category_id, "window_id": link.window_id, "is_standby": link.is_standby}


# ---------------------------------------------------------------------------------------------
# Categories (MANAGE_QUEUEING)


class CategoryIn(Schema):
    prefix: str = Field(max_length=4)
    name: str = Field(max_length=100)
    description: str = Field(default="", max_length=400)
    position: int = 1
    target_wait_minutes: int = 15
    average_service_minutes: int = 8
    priority_groups: list[str] = Field(
        default_factory=lambda: list(PriorityGroup.values[:4]), max_length=len(PriorityGroup.values)
    )
    priority_streak_limit: int = 3
    ordinary_max_wait_minutes: int = 30
    late_requeue_minutes: int = 30
    tidal_waiting_threshold: int = 10
    tidal_wait_minutes_threshold: int = 30
    appointment_slot_minutes: int = 30
    appointment_share_percent: int = 50
    check_in_early_minutes: int = 30
    check_in_late_minutes: int = 15
    is_active: bool = True
    service_item_ids: list[int] = Field(default_factory=list, max_length=500)
    window_ids: list[int] = Field(default_factory=list, max_length=200)
    standby_window_ids: list[int] = Field(default_factory=list, max_length=200)


class CategoryOut(Schema):
    id: int
    site_id: int
    prefix: str
    name: str
    target_wait_minutes: int
    priority_groups: list[str]
    priority_streak_limit: int
    ordinary_max_wait_minutes: int
    is_active: bool
    window_ids: list[int]
    standby_window_ids: list[int]


def _category_out(category: Category) -> dict[str, Any]:
    links = list(category.window_links.values_list("window_id", "is_standby"))
    return {
        "id": category.pk,
        "site_id": category.site_id,
        "prefix": category.prefix,
        "name": category.name,
        "target_wait_minutes": category.target_wait_minutes,
        "priority_groups": category.priority_groups,
        "priority_streak_limit": category.priority_streak_limit,
        "ordinary_max_wait_minutes": category.ordinary_max_wait_minutes,
        "is_active": category.is_active,
        "window_ids": sorted(window_id for window_id, standby in links if not standby),
        "standby_window_ids": sorted(window_id for window_id, standby in links if standby),
    }


@api.get(
    "/queueing/sites/{site_id}/categories",
    response={200: list[CategoryOut], **ERRORS},
    tags=TAGS,
    summary="排队业务类别",
)
def list_categories(request: HttpRequest, site_id: int) -> list[dict[str, Any]]:
    user = request.user
    if not any(
        user.has_capability(capability)
        for capability in (Capability.ISSUE_TICKETS, Capability.USE_COUNTER, Capability.MANAGE_QUEUEING)
    ):
        require_capability(user, Capability.MANAGE_QUEUEING, path=request.path)
    site = _site(site_id)
    require_in_scope(user, site, path=request.path)
    return [
        _category_out(category)
        for category in Category.objects.filter(site=site).order_by("position", "prefix")
    ]


@api.post(
    "/queueing/sites/{site_id}/categories",
    response={201: CategoryOut, **ERRORS},
    tags=TAGS,
    summary="新增排队业务",
)
def create_category(request: HttpRequest, site_id: int, payload: CategoryIn) -> tuple[int, dict[str, Any]]:
    require_capability(request.user, Capability.MANAGE_QUEUEING, path=request.path)
    category = actions.save_category(request.user, _site(site_id), actions.CategoryData(**payload.dict()))
    return 201, _category_out(category)


@api.put(
    "/queueing/categories/{category_id}",
    response={200: CategoryOut, **ERRORS},
    tags=TAGS,
    summary="修改排队业务",
)
def update_category(request: HttpRequest, category_id: int, payload: CategoryIn) -> dict[str, Any]:
    require_capability(request.user, Capability.MANAGE_QUEUEING, path=request.path)
    category = _category(category_id)
    require_in_scope(request.user, category, path=request.path)
    category = actions.save_category(
        request.user, category.site, actions.CategoryData(**payload.dict()), category
    )
    return _category_out(category)


# ---------------------------------------------------------------------------------------------
# Figures from the service log


class MetricsFilter(Schema):
    start: dt.date | None = None
    end: dt.date | None = None
    by: str = Field(default="category", pattern="^(category|window|clerk|hour|day)$")


class MetricRow(Schema):
    key: str
    tickets: int
    called: int
    served: int
    no_shows: int
    average_wait_minutes: float | None
    median_wait_minutes: float | None
    average_service_minutes: float | None
    no_show_rate: float | None
    service_level: float | None


@api.get(
    "/queueing/sites/{site_id}/metrics",
    response={200: list[MetricRow], **ERRORS},
    tags=TAGS,
    summary="等候与办理指标",
)
def site_metrics(request: HttpRequest, site_id: int, filters: Query[MetricsFilter]) -> list[dict[str, Any]]:
    require_capability(request.user, Capability.MONITOR_HALL, path=request.path)
    site = _site(site_id)
    require_in_scope(request.user, site, path=request.path)
    end = filters.end or timezone.localdate()
    start = filters.start or end
    if start > end or (end - start).days > METRICS_DAYS_MAX:
        raise ActionRefused("统计区间无效（最长一年）。", code="invalid_range")
    rows = metrics.report(site.pk, start, end, filters.by)
    return [
        {"key": str(key), **figures} for key, figures in sorted(rows.items(), key=lambda item: str(item[0]))
    ]
