"""The queries behind the dashboards: plain functions of a site and a period returning plain dicts.

- ``today``: the centre's home, read live from the hall, the cases and the ratings (today is not rolled
  up yet); a handful of aggregates, each served by an index that leads with the site (``Ticket``'s
  unique (site, service_date, number), ``case_site_state``, ``rating_site_rated``);
- ``trends``, ``comparison``: sums of ``DailyFigures`` (one grouped query each);
- ``heatmap``: sums of ``HourlyArrivals`` by date and hour, folded into weekday × hour.

Rates follow the rollup's definitions (assessment.rollup): average wait = waited seconds ÷ tickets
called, 好评率 = 好评 ÷ counted ratings, 及时办结率 = cases completed on time ÷ cases completed. A rate with
no denominator is None (shown as —), never 0.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

from django.db.models import Avg, Count, DurationField, ExpressionWrapper, F, Q, Sum
from django.utils.translation import gettext as _

from servicehall.assessment.actions import subject_names
from servicehall.assessment.models import DailyFigures, HourlyArrivals, Measure, SubjectKind
from servicehall.assessment.rollup import day_bounds
from servicehall.assessment.scoring import shown_figure
from servicehall.cases.models import CardLevel, Case
from servicehall.cases.states import OPEN_STATES
from servicehall.feedback.models import Grade, Rating
from servicehall.queueing.models import Ticket, TicketChannel, TicketStatus, WindowState, WindowStatus

TREND_PERIODS = 12
HEATMAP_DEFAULT_WEEKS = 8
HEATMAP_MAX_DAYS = 366
DEFAULT_HOURS = range(8, 19)

# The counters every period sum needs, and the figures computed from them.
SUMMED = (
    "arrivals",
    "tickets_called",
    "tickets_served",
    "wait_seconds",
    "service_seconds",
    "ratings",
    "ratings_good",
    "cases_completed",
    "cases_on_time",
)


def ratio(part: float, whole: float, scale: float = 1.0, digits: int = 1) -> float | None:
    return round(scale * part / whole, digits) if whole else None


def _shown(measure: str, counters: dict[str, int]) -> float | None:
    """The same formula as the scores (assessment.scoring), as a float for the charts."""
    value = shown_figure(measure, counters)
    return None if value is None else float(value)


def figures_of(counters: dict[str, int]) -> dict[str, Any]:
    """The shown figures of one summed row: counts, average wait/service in minutes, rates in %."""
    return {
        "arrivals": counters.get("arrivals", 0),
        "served": counters.get("tickets_served", 0),
        "average_wait": _shown(Measure.AVERAGE_WAIT, counters),
        "average_service": _shown(Measure.AVERAGE_SERVICE, counters),
        "ratings": counters.get("ratings", 0),
        "good_rate": _shown(Measure.GOOD_RATE, counters),
        "cases_completed": counters.get("cases_completed", 0),
        "on_time_rate": _shown(Measure.ON_TIME_RATE, counters),
    }


# --- today (live) -----------------------------------------------------------------------------------


def today(site_id: int, day: dt.date) -> dict[str, Any]:
    """The centre's home for one site and day, from the live tables."""
    waited = ExpressionWrapper(F("called_at") - F("issued_at"), output_field=DurationField())
    tickets = Ticket.objects.filter(site_id=site_id, service_date=day).aggregate(
        issued=Count("pk", filter=~Q(channel=TicketChannel.TRANSFER)),
        waiting=Count("pk", filter=Q(status=TicketStatus.WAITING)),
        served=Count("pk", filter=Q(status=TicketStatus.FINISHED)),
        average_wait=Avg(waited, filter=Q(called_at__isnull=False)),
    )
    start, end = day_bounds(day)
    ratings = Rating.objects.filter(
        site_id=site_id, rated_at__gte=start, rated_at__lt=end, held_for_review=False, excluded_at=None
    ).aggregate(total=Count("pk"), good=Count("pk", filter=Q(grade=Grade.GOOD)))
    by_card = dict(
        Case.objects.filter(site_id=site_id, state__in=OPEN_STATES)
        .values("card_level")
        .annotate(total=Count("pk"))
        .values_list("card_level", "total")
    )
    by_status = dict(
        WindowState.objects.filter(site_id=site_id, window__is_active=True)
        .values("status")
        .annotate(total=Count("pk"))
        .values_list("status", "total")
    )
    average_wait: dt.timedelta | None = tickets["average_wait"]
    cards = [
        {
            "level": level.value,
            "label": _("未亮牌") if level == CardLevel.NONE else level.label,
            "count": by_card.get(level.value, 0),
        }
        for level in (CardLevel.RED, CardLevel.YELLOW, CardLevel.NONE)
    ]
    windows = [
        {"status": status.value, "label": status.label, "count": by_status.get(status.value, 0)}
        for status in (WindowStatus.SERVING, WindowStatus.IDLE, WindowStatus.PAUSED, WindowStatus.CLOSED)
    ]
    return {
        "date": day,
        "issued": tickets["issued"],
        "waiting": tickets["waiting"],
        "served": tickets["served"],
        "average_wait": None if average_wait is None else round(average_wait.total_seconds() / 60, 1),
        "ratings": ratings["total"],
        "good_rate": ratio(ratings["good"], ratings["total"], 100),
        "open_cases": sum(card["count"] for card in cards),
        "cards": cards,
        "windows": windows,
        "windows_open": by_status.get(WindowStatus.SERVING, 0) + by_status.get(WindowStatus.IDLE, 0),
        "windows_paused": by_status.get(WindowStatus.PAUSED, 0),
    }


# --- trends -----------------------------------------------------------------------------------------


def month_start(day: dt.date, back: int = 0) -> dt.date:
    index = day.year * 12 + day.month - 1 - back
    return dt.date(index // 12, index % 12 + 1, 1)


def next_month(first: dt.date) -> dt.date:
    return month_start(first, -1)


def _site_rows(site_id: int, start: dt.date, end: dt.date) -> list[dict[str, Any]]:
    return list(
        DailyFigures.objects.filter(
            site_id=site_id, subject_kind=SubjectKind.SITE, subject_id=site_id, date__range=(start, end)
        ).values("date", *SUMMED)
    )


def _series(rows: list[dict[str, Any]], periods: list[tuple[dt.date, dt.date, str]]) -> list[dict[str, Any]]:
    totals: list[dict[str, int]] = [defaultdict(int) for _period in periods]
    for row in rows:
        for index, (first, last, _label) in enumerate(periods):
            if first <= row["date"] <= last:
                for counter in SUMMED:
                    totals[index][counter] += row[counter]
                break
    return [
        {"label": label, "start": first, "end": last, **figures_of(counters)}
        for (first, last, label), counters in zip(periods, totals, strict=True)
    ]


def trends(site_id: int, day: dt.date, periods: int = TREND_PERIODS) -> dict[str, Any]:
    """Weekly (ISO weeks) and monthly series of the site row, the last ``periods`` of each up to ``day``."""
    monday = day - dt.timedelta(days=day.weekday())
    weeks = []
    for back in range(periods - 1, -1, -1):
        first = monday - dt.timedelta(weeks=back)
        year, week, _weekday = first.isocalendar()
        weeks.append(
            (first, first + dt.timedelta(days=6), _("%(year)s年第%(week)s周") % {"year": year, "week": week})
        )
    months = []
    for back in range(periods - 1, -1, -1):
        first = month_start(day, back)
        months.append((first, next_month(first) - dt.timedelta(days=1), f"{first:%Y-%m}"))
    rows = _site_rows(site_id, min(weeks[0][0], months[0][0]), day)
    return {"weekly": _series(rows, weeks), "monthly": _series(rows, months)}


# --- comparisons ------------------------------------------------------------------------------------

COMPARE_COLUMNS = (
    "arrivals",
    "served",
    "average_wait",
    "average_service",
    "good_rate",
    "cases_completed",
    "on_time_rate",
)


def comparison(
    site_id: int, first: dt.date, last: dt.date, *, sort: str = "arrivals", descending: bool = True
) -> dict[str, list[dict[str, Any]]]:
    """Per department and per window of the site over [first, last], sorted by one column."""
    rows = (
        DailyFigures.objects.filter(
            site_id=site_id,
            subject_kind__in=(SubjectKind.DEPARTMENT, SubjectKind.WINDOW),
            date__range=(first, last),
        )
        .values("subject_kind", "subject_id")
        .annotate(**{f"{counter}_sum": Sum(counter) for counter in SUMMED})
    )
    grouped: dict[str, dict[int, dict[str, int]]] = {SubjectKind.DEPARTMENT: {}, SubjectKind.WINDOW: {}}
    for row in rows:
        grouped[row["subject_kind"]][row["subject_id"]] = {
            counter: int(row[f"{counter}_sum"] or 0) for counter in SUMMED
        }
    result: dict[str, list[dict[str, Any]]] = {}
    for kind, subjects in grouped.items():
        names = {pk: name for pk, (name, _site) in subject_names(kind, ids=set(subjects)).items()}
        listed = [
            {"id": subject_id, "name": names.get(subject_id, f"#{subject_id}"), **figures_of(counters)}
            for subject_id, counters in subjects.items()
        ]
        # None sorts last whichever the direction.
        present = [item for item in listed if item[sort] is not None]
        missing = [item for item in listed if item[sort] is None]
        present.sort(key=lambda item: (item[sort], item["name"]), reverse=descending)
        missing.sort(key=lambda item: item["name"])
        result[str(kind)] = present + missing
    return result


# --- heat map ---------------------------------------------------------------------------------------


def heatmap(site_id: int, first: dt.date, last: dt.date) -> dict[str, Any]:
    """Arrivals by ISO weekday (1–7) × hour over [first, last], with the number of each weekday."""
    cells: dict[tuple[int, int], int] = defaultdict(int)
    for row in (
        HourlyArrivals.objects.filter(site_id=site_id, date__range=(first, last))
        .values("date", "hour")
        .annotate(total=Sum("arrivals"))
    ):
        cells[(row["date"].isoweekday(), row["hour"])] += int(row["total"] or 0)
    used_hours = {hour for (_weekday, hour), total in cells.items() if total}
    hours = list(range(min(used_hours), max(used_hours) + 1)) if used_hours else list(DEFAULT_HOURS)
    used_days = {weekday for (weekday, _hour), total in cells.items() if total}
    weekdays = [weekday for weekday in range(1, 8) if weekday <= 5 or weekday in used_days]
    rows = [
        {
            "weekday": weekday,
            "cells": [cells.get((weekday, hour), 0) for hour in hours],
            "total": sum(cells.get((weekday, hour), 0) for hour in hours),
        }
        for weekday in weekdays
    ]
    return {
        "hours": hours,
        "rows": rows,
        "total": sum(row["total"] for row in rows),
        "peak": max((max(row["cells"], default=0) for row in rows), default=0),
    }
