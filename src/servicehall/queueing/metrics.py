"""Figures of the hall, computed from ``VisitEvent`` alone, so they can always be recomputed.

Per ticket (``ticket_figures``):
- waiting time: first ``called`` − ``issued`` (a re-queued ticket keeps counting from its issue);
- service time: ``finished`` − ``started``;
- no-show: the ticket has a ``no_show`` event (a later re-queue does not erase it);
- within target: called within its category's target wait (default 15 minutes, seed 001 尽量减少排队等候时间).

``summarize`` groups them by category, window, clerk, hour or day. The window, clerk, hour and day of a
ticket are those of its first call (its service, for service time, is at the same window).
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.utils import timezone

from servicehall.queueing.models import Category, EventKind, VisitEvent

DIMENSIONS = ("category", "window", "clerk", "hour", "day")
DEFAULT_TARGET_MINUTES = 15


@dataclass
class TicketFigure:
    ticket_id: int
    category_id: int | None
    issued_at: dt.datetime | None = None
    called_at: dt.datetime | None = None
    started_at: dt.datetime | None = None
    finished_at: dt.datetime | None = None
    no_show: bool = False
    window_id: int | None = None
    clerk_id: int | None = None

    @property
    def waiting_minutes(self) -> float | None:
        if self.issued_at is None or self.called_at is None:
            return None
        return (self.called_at - self.issued_at).total_seconds() / 60

    @property
    def service_minutes(self) -> float | None:
        if self.started_at is None or self.finished_at is None:
            return None
        return (self.finished_at - self.started_at).total_seconds() / 60


def ticket_figures(
    site_id: int, start: dt.date, end: dt.date, *, category_ids: Iterable[int] | None = None
) -> list[TicketFigure]:
    """One figure per ticket issued on a day in [start, end] at the site, from its events."""
    tz = timezone.get_current_timezone()
    start_at = dt.datetime.combine(start, dt.time.min, tzinfo=tz)
    end_at = dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min, tzinfo=tz)
    events = VisitEvent.objects.filter(site_id=site_id, ticket__isnull=False, at__gte=start_at, at__lt=end_at)
    if category_ids is not None:
        events = events.filter(category_id__in=list(category_ids))
    figures: dict[int, TicketFigure] = {}
    rows = events.order_by("id").values_list(
        "ticket_id", "kind", "at", "window_id", "clerk_id", "category_id"
    )
    for ticket_id, kind, at, window_id, clerk_id, category_id in rows.iterator(chunk_size=5000):
        figure = figures.get(ticket_id)
        if figure is None:
            figure = figures[ticket_id] = TicketFigure(ticket_id, category_id)
        if kind == EventKind.ISSUED and figure.issued_at is None:
            figure.issued_at = at
        elif kind == EventKind.CALLED and figure.called_at is None:
            figure.called_at = at
            figure.window_id = window_id
            figure.clerk_id = clerk_id
        elif kind == EventKind.STARTED and figure.started_at is None:
            figure.started_at = at
        elif kind == EventKind.FINISHED:
            figure.finished_at = at
        elif kind == EventKind.NO_SHOW:
            figure.no_show = True
    return [figure for figure in figures.values() if figure.issued_at is not None]


@dataclass
class Summary:
    tickets: int = 0
    called: int = 0
    served: int = 0
    no_shows: int = 0
    within_target: int = 0
    waiting: list[float] = field(default_factory=list)
    service: list[float] = field(default_factory=list)

    @property
    def average_wait_minutes(self) -> float | None:
        return round(statistics.fmean(self.waiting), 2) if self.waiting else None

    @property
    def median_wait_minutes(self) -> float | None:
        return round(statistics.median(self.waiting), 2) if self.waiting else None

    @property
    def average_service_minutes(self) -> float | None:
        return round(statistics.fmean(self.service), 2) if self.service else None

    @property
    def no_show_rate(self) -> float | None:
        return round(self.no_shows / self.called, 4) if self.called else None

    @property
    def service_level(self) -> float | None:
        """Share of called tickets called within their target wait."""
        return round(self.within_target / self.called, 4) if self.called else None

    def as_dict(self) -> dict[str, Any]:
        return {
            "tickets": self.tickets,
            "called": self.called,
            "served": self.served,
            "no_shows": self.no_shows,
            "average_wait_minutes": self.average_wait_minutes,
            "median_wait_minutes": self.median_wait_minutes,
            "average_service_minutes": self.average_service_minutes,
            "no_show_rate": self.no_show_rate,
            "service_level": self.service_level,
        }


def _key(figure: TicketFigure, by: str) -> Any:
    if by == "category":
        return figure.category_id
    if by == "window":
        return figure.window_id
    if by == "clerk":
        return figure.clerk_id
    moment = timezone.localtime(figure.called_at or figure.issued_at)
    if by == "hour":
        return moment.hour
    if by == "day":
        return moment.date()
    raise ValueError(f"unknown dimension {by!r}; use one of {DIMENSIONS}")


def summarize(
    figures: Iterable[TicketFigure], by: str, *, targets: dict[int, int] | None = None
) -> dict[Any, Summary]:
    """Figures grouped by one dimension; ``targets`` maps category id to its target wait in minutes."""
    if by not in DIMENSIONS:
        raise ValueError(f"unknown dimension {by!r}; use one of {DIMENSIONS}")
    targets = targets or {}
    groups: dict[Any, Summary] = defaultdict(Summary)
    for figure in figures:
        summary = groups[_key(figure, by)]
        summary.tickets += 1
        if figure.no_show:
            summary.no_shows += 1
        waiting = figure.waiting_minutes
        if waiting is not None:
            summary.called += 1
            summary.waiting.append(waiting)
            target = targets.get(figure.category_id or 0, DEFAULT_TARGET_MINUTES)
            if waiting <= target:
                summary.within_target += 1
        service = figure.service_minutes
        if service is not None:
            summary.served += 1
            summary.service.append(service)
    return dict(groups)


def category_targets(site_id: int) -> dict[int, int]:
    return dict(Category.objects.filter(site_id=site_id).values_list("pk", "target_wait_minutes"))


def report(site_id: int, start: dt.date, end: dt.date, by: str) -> dict[Any, dict[str, Any]]:
    """Convenience: the summaries of a site's tickets over [start, end] by one dimension, as dicts."""
    figures = ticket_figures(site_id, start, end)
    return {
        key: summary.as_dict()
        for key, summary in summarize(figures, by, targets=category_targets(site_id)).items()
    }
