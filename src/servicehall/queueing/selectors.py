"""Reading the hall: people ahead, estimated wait, waiting counts, the monitor's picture, tidal advice.

Nothing here changes data; the public pages use only what carries no personal data.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.core.cache import cache
from django.db.models import Avg, Count, F, Min, Q
from django.utils import timezone

from servicehall.queueing.models import (
    OPEN_AT_WINDOW,
    Category,
    CategoryWindow,
    Ticket,
    TicketStatus,
    WindowState,
    WindowStatus,
)
from servicehall.sites.models import PostKind, Site, Window

COUNTS_CACHE_SECONDS = 1
RECENT_AVERAGE_MINIMUM = 5


def today(now: dt.datetime | None = None) -> dt.date:
    return timezone.localtime(now or timezone.now()).date()


def people_ahead(ticket: Ticket) -> int:
    """Waiting tickets of the same category that will be called before this one."""
    if ticket.status != TicketStatus.WAITING:
        return 0
    return (
        Ticket.objects.filter(
            category_id=ticket.category_id, service_date=ticket.service_date, status=TicketStatus.WAITING
        )
        .filter(
            Q(lane_rank__lt=ticket.lane_rank)
            | Q(lane_rank=ticket.lane_rank, queued_at__lt=ticket.queued_at)
            | Q(lane_rank=ticket.lane_rank, queued_at=ticket.queued_at, pk__lt=ticket.pk)
        )
        .count()
    )


def average_service_minutes(category: Category, service_date: dt.date) -> float:
    """Today's average service time once a few visits are finished; the category's estimate before."""
    figures = Ticket.objects.filter(
        category=category, service_date=service_date, status=TicketStatus.FINISHED, started_at__isnull=False
    ).aggregate(count=Count("pk"), average=Avg(F("finished_at") - F("started_at")))
    if figures["count"] >= RECENT_AVERAGE_MINIMUM and figures["average"] is not None:
        average = figures["average"]
        seconds = average.total_seconds() if isinstance(average, dt.timedelta) else float(average) / 1e6
        return max(1.0, seconds / 60)
    return float(category.average_service_minutes)


def open_window_count(category: Category) -> int:
    return (
        CategoryWindow.objects.filter(category=category, is_standby=False, window__is_active=True)
        .filter(window__queue_state__status__in=[WindowStatus.SERVING, WindowStatus.IDLE])
        .count()
    )


def estimated_wait_minutes(category: Category, ahead: int, service_date: dt.date) -> int:
    windows = max(1, open_window_count(category))
    return math.ceil(ahead * average_service_minutes(category, service_date) / windows)


def waiting_counts(site: Site, service_date: dt.date | None = None) -> list[dict[str, Any]]:
    """Waiting per active category of the site (cached a second: every display asks for it)."""
    service_date = service_date or today()
    key = f"servicehall:queueing:counts:{site.pk}:{service_date.isoformat()}"
    cached = cache.get(key)
    if cached is not None:
        return cached
    counts = dict(
        Ticket.objects.filter(site=site, service_date=service_date, status=TicketStatus.WAITING)
        .values_list("category_id")
        .annotate(total=Count("pk"))
        .values_list("category_id", "total")
    )
    rows = [
        {"prefix": category.prefix, "name": category.name, "waiting": counts.get(category.pk, 0)}
        for category in Category.objects.filter(site=site, is_active=True).order_by("position", "prefix")
    ]
    cache.set(key, rows, COUNTS_CACHE_SECONDS)
    return rows


@dataclass
class CategoryPicture:
    category: Category
    waiting: int
    longest_wait_minutes: int
    estimated_wait_minutes: int
    open_windows: list[Window]
    over_threshold: bool
    candidates: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class HallPicture:
    site: Site
    windows: list[dict[str, Any]]
    categories: list[CategoryPicture]
    served_today: int
    waiting_total: int


def hall_picture(site: Site, now: dt.datetime | None = None) -> HallPicture:
    """What the 窗口负责人 sees: each window's state, each queue, and the tidal advice (潮汐岗, DB4420 §5.3)."""
    moment = now or timezone.now()
    service_date = today(moment)
    windows = list(
        Window.objects.filter(site=site, is_active=True).order_by("number").prefetch_related("posts")
    )
    states = {
        state.window_id: state
        for state in WindowState.objects.filter(site=site).select_related("clerk", "current_ticket")
    }
    links = list(CategoryWindow.objects.filter(site=site).select_related("category", "window"))
    categories = list(Category.objects.filter(site=site, is_active=True).order_by("position", "prefix"))
    waiting = {
        row["category_id"]: row
        for row in Ticket.objects.filter(site=site, service_date=service_date, status=TicketStatus.WAITING)
        .values("category_id")
        .annotate(total=Count("pk"), oldest=Min("queued_at"))
    }
    served_today = Ticket.objects.filter(
        site=site, service_date=service_date, status=TicketStatus.FINISHED
    ).count()
    window_rows = []
    categories_of: dict[int, list[str]] = defaultdict(list)
    for link in links:
        if not link.is_standby:
            categories_of[link.window_id].append(link.category.prefix)
    for window in windows:
        state = states.get(window.pk)
        status = state.status if state else WindowStatus.CLOSED
        current = state.current_ticket if state and state.current_ticket_id else None
        window_rows.append(
            {
                "window": window,
                "state": state,
                "status": status,
                "status_label": WindowStatus(status).label,
                "clerk": state.clerk if state else None,
                "since": state.since if state else None,
                "minutes": int((moment - state.since).total_seconds() // 60) if state else None,
                "current": current if current is not None and current.status in OPEN_AT_WINDOW else None,
                "categories": sorted(categories_of.get(window.pk, [])),
                "is_tidal": any(post.kind == PostKind.TIDAL for post in window.posts.all()),
            }
        )
    pictures = []
    for category in categories:
        row = waiting.get(category.pk, {"total": 0, "oldest": None})
        open_windows = [
            link.window
            for link in links
            if link.category_id == category.pk
            and not link.is_standby
            and states.get(link.window_id) is not None
            and states[link.window_id].status in (WindowStatus.SERVING, WindowStatus.IDLE)
        ]
        average = average_service_minutes(category, service_date)
        estimate = math.ceil(row["total"] * average / max(1, len(open_windows)))
        longest = int((moment - row["oldest"]).total_seconds() // 60) if row["oldest"] else 0
        over = row["total"] >= category.tidal_waiting_threshold or (
            row["total"] > 0 and estimate >= category.tidal_wait_minutes_threshold
        )
        picture = CategoryPicture(category, row["total"], longest, estimate, open_windows, over)
        if over:
            picture.candidates = _tidal_candidates(category, links, window_rows)
        pictures.append(picture)
    return HallPicture(
        site=site,
        windows=window_rows,
        categories=pictures,
        served_today=served_today,
        waiting_total=sum(picture.waiting for picture in pictures),
    )


def _tidal_candidates(
    category: Category, links: list[CategoryWindow], window_rows: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Windows that could open for the category: its standby links first, then idle 潮汐岗 windows,
    then any idle window (staffed) that does not call it yet."""
    calling = {link.window_id for link in links if link.category_id == category.pk and not link.is_standby}
    standby = {link.window_id for link in links if link.category_id == category.pk and link.is_standby}
    candidates = []
    for row in window_rows:
        window = row["window"]
        if window.pk in calling or window.is_supervisor_window:
            continue
        idle = row["status"] == WindowStatus.IDLE
        if window.pk in standby:
            reason, order = "standby", 0
        elif row["is_tidal"] and row["status"] in (WindowStatus.IDLE, WindowStatus.CLOSED):
            reason, order = "tidal", 1
        elif idle:
            reason, order = "idle", 2
        else:
            continue
        candidates.append({"window": window, "reason": reason, "order": order, "status": row["status_label"]})
    candidates.sort(key=lambda candidate: (candidate["order"], candidate["window"].number))
    return candidates


def ticket_status(ticket: Ticket) -> dict[str, Any]:
    """The public status of a ticket: no phone, no name, nothing but the queue."""
    ahead = people_ahead(ticket)
    return {
        "number": ticket.number,
        "category": ticket.category.name,
        "status": ticket.status,
        "status_label": TicketStatus(ticket.status).label,
        "people_ahead": ahead,
        "estimated_wait_minutes": estimated_wait_minutes(ticket.category, ahead, ticket.service_date)
        if ticket.status == TicketStatus.WAITING
        else 0,
        "window": ticket.window.number if ticket.window_id and ticket.status in OPEN_AT_WINDOW else None,
        "lane": ticket.lane,
    }


def current_ticket_of_visit(visit_id: int) -> Ticket | None:
    """The visit's latest ticket (after a transfer, the new one)."""
    return (
        Ticket.objects.filter(visit_id=visit_id)
        .select_related("category", "window")
        .order_by("-issued_at", "-pk")
        .first()
    )
