"""Staffing forecast (潮汐岗的依据): how many windows each queue needs, hour by hour, to meet its target.

The model is Erlang C (M/M/c): visitors of one category arrive at random at a rate λ per hour and each
takes on average ``s`` minutes; the offered load is ``A = λ·s/60`` (erlangs). With ``c`` open windows
(``c > A``) the probability of waiting at all is ``C(c, A)`` and the service level — the share called
within the target wait ``t`` — is ``1 − C(c, A)·exp(−(c − A)·t/s)``. The forecast is the smallest ``c``
whose service level reaches the target (by default 80% within the category's ``target_wait_minutes``,
seed 001 尽量减少排队等候时间; DB4420 §5.3 潮汐岗).

Measured inputs come from ``HourlyArrivals`` (the rollup of the hall's own events): λ is the mean number
of arrivals in that hour over the last N same weekdays that were working days (a holiday is replaced by
an earlier week) and have figures; the service time is that hour's mean, or the category's mean over
all hours of those days when the hour has none. A category whose tickets were never served has no service time: its rows say 无数据 instead of a
number. Each category is sized on its own; a window linked to two categories counts for both, so the
forecast is an upper bound where windows are shared.

The Erlang functions are pure and numerically stable: C is derived from Erlang B computed with the
recursion ``B(0) = 1, B(k) = A·B(k−1) / (k + A·B(k−1))``, which never forms ``A^c`` or ``c!``.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Sum
from django.utils.translation import gettext as _

from servicehall.assessment.models import HourlyArrivals, RollupDay
from servicehall.queueing.models import Category, CategoryWindow
from servicehall.sites.models import OpeningPeriod
from servicehall.workdays import service as workdays

DEFAULT_TARGET_LEVEL = 0.8
DEFAULT_WEEKS = 8
MAX_WEEKS = 52
LOOKBACK_SPARE = 8  # extra weeks searched to replace holidays
MAX_WINDOWS = 500  # a search bound only: no hall has more; beyond it the answer is "not reachable"


# --- Erlang B and C (pure) ------------------------------------------------------------------------


def erlang_b(servers: int, load: float) -> float:
    """Blocking probability of Erlang B for ``servers`` servers offered ``load`` erlangs."""
    if servers < 0 or load < 0 or not math.isfinite(load):
        raise ValueError("servers and load must be non-negative and finite")
    blocking = 1.0
    for k in range(1, servers + 1):
        blocking = load * blocking / (k + load * blocking)
    return blocking


def erlang_c(servers: int, load: float) -> float:
    """Probability of waiting (Erlang C); 1.0 when the windows cannot keep up (``servers ≤ load``)."""
    if load == 0:
        return 0.0
    if servers <= load:
        return 1.0
    blocking = erlang_b(servers, load)
    return servers * blocking / (servers - load * (1 - blocking))


def service_level(servers: int, load: float, service_minutes: float, target_minutes: float) -> float:
    """Share of visitors called within ``target_minutes`` with ``servers`` open windows."""
    if load == 0:
        return 1.0
    if servers <= load:
        return 0.0
    if service_minutes <= 0:
        raise ValueError("service time must be positive")
    waiting = erlang_c(servers, load)
    return max(0.0, 1.0 - waiting * math.exp(-(servers - load) * target_minutes / service_minutes))


def average_wait_minutes(servers: int, load: float, service_minutes: float) -> float | None:
    """Mean wait in the queue (ASA) in minutes; None when the queue grows without bound."""
    if load == 0:
        return 0.0
    if servers <= load:
        return None
    return erlang_c(servers, load) * service_minutes / (servers - load)


def required_windows(
    arrivals_per_hour: float,
    service_minutes: float | None,
    target_minutes: float,
    target_level: float = DEFAULT_TARGET_LEVEL,
    *,
    max_windows: int = MAX_WINDOWS,
) -> int | None:
    """The fewest open windows whose service level reaches ``target_level``.

    0 when nobody arrives; None when there is no service time to size with, or the target cannot be
    reached within ``max_windows`` (e.g. a target level of 100% with a positive load).
    """
    if arrivals_per_hour < 0 or not math.isfinite(arrivals_per_hour):
        raise ValueError("arrival rate must be non-negative and finite")
    if not 0 < target_level <= 1:
        raise ValueError("target level must be in (0, 1]")
    if arrivals_per_hour == 0:
        return 0
    if service_minutes is None or service_minutes <= 0:
        return None
    load = arrivals_per_hour * service_minutes / 60
    servers = max(1, math.floor(load) + 1)
    while servers <= max_windows:
        if service_level(servers, load, service_minutes, target_minutes) >= target_level:
            return servers
        servers += 1
    return None


# --- the forecast from measured figures -----------------------------------------------------------


@dataclass
class HourForecast:
    hour: int
    arrivals_per_hour: float
    service_minutes: float | None
    service_from_hour: bool
    load: float | None
    needed: int | None
    service_level: float | None
    average_wait: float | None
    regular: int
    standby: int

    @property
    def has_data(self) -> bool:
        return self.arrivals_per_hour == 0 or self.service_minutes is not None

    @property
    def tidal_needed(self) -> int:
        """潮汐 windows to open this hour (needed beyond the regular ones), 0 when none."""
        if self.needed is None:
            return 0
        return max(0, self.needed - self.regular)

    @property
    def short(self) -> int:
        """Windows lacking even with every standby window open."""
        if self.needed is None:
            return 0
        return max(0, self.needed - self.regular - self.standby)

    def as_dict(self) -> dict[str, Any]:
        return {
            "hour": self.hour,
            "arrivals_per_hour": round(self.arrivals_per_hour, 2),
            "service_minutes": None if self.service_minutes is None else round(self.service_minutes, 2),
            "needed": self.needed,
            "regular": self.regular,
            "standby": self.standby,
            "tidal_needed": self.tidal_needed,
            "short": self.short,
        }


@dataclass
class CategoryForecast:
    category_id: int
    prefix: str
    name: str
    target_minutes: int
    regular: int
    standby: int
    hours: list[HourForecast] = field(default_factory=list)

    @property
    def has_service_data(self) -> bool:
        return any(row.service_minutes is not None for row in self.hours)

    @property
    def peak_needed(self) -> int | None:
        values = [row.needed for row in self.hours if row.needed is not None]
        return max(values) if values else None

    @property
    def flagged_hours(self) -> list[int]:
        return [row.hour for row in self.hours if row.tidal_needed]


def sample_days(site: Any, weekday: int, weeks: int, today: dt.date) -> list[dt.date]:
    """The last ``weeks`` dates before today on ISO ``weekday`` that were working days (newest first).

    Holidays are skipped and replaced by earlier weeks, looking back at most ``weeks + LOOKBACK_SPARE``
    weeks (a Saturday is a working day only when it is a 调休 day, so it may find fewer).
    """
    offset = (today.isoweekday() - weekday) % 7 or 7
    latest = today - dt.timedelta(days=offset)
    days: list[dt.date] = []
    for index in range(weeks + LOOKBACK_SPARE):
        day = latest - dt.timedelta(weeks=index)
        if workdays.is_working_day(day, site):
            days.append(day)
            if len(days) == weeks:
                break
    return days


def _opening_hours(site_id: int, weekday: int) -> set[int]:
    hours: set[int] = set()
    for starts_at, ends_at in OpeningPeriod.objects.filter(site_id=site_id, weekday=weekday).values_list(
        "starts_at", "ends_at"
    ):
        last = ends_at.hour if ends_at.minute else ends_at.hour - 1
        hours.update(range(starts_at.hour, last + 1))
    return hours


def forecast(
    site: Any,
    weekday: int,
    *,
    today: dt.date,
    weeks: int = DEFAULT_WEEKS,
    target_level: float = DEFAULT_TARGET_LEVEL,
) -> dict[str, Any]:
    """Per category and hour of ``weekday`` at ``site``: measured load, windows needed and available."""
    candidates = sample_days(site, weekday, weeks, today)
    measured = set(
        RollupDay.objects.filter(site_id=site.pk, date__in=candidates).values_list("date", flat=True)
    )
    days = [day for day in candidates if day in measured]

    sums: dict[tuple[int, int], dict[str, int]] = {}
    if days:
        rows = (
            HourlyArrivals.objects.filter(site_id=site.pk, date__in=days)
            .values("category_id", "hour")
            .annotate(
                arrivals_sum=Sum("arrivals"),
                served_sum=Sum("tickets_served"),
                service_sum=Sum("service_seconds"),
            )
        )
        sums = {
            (row["category_id"], row["hour"]): {
                "arrivals": int(row["arrivals_sum"] or 0),
                "served": int(row["served_sum"] or 0),
                "service_seconds": int(row["service_sum"] or 0),
            }
            for row in rows
        }

    links: dict[int, dict[str, int]] = defaultdict(lambda: {"regular": 0, "standby": 0})
    for row in (
        CategoryWindow.objects.filter(site_id=site.pk, window__is_active=True)
        .values("category_id", "is_standby")
        .annotate(total=Count("window_id", distinct=True))
    ):
        links[row["category_id"]]["standby" if row["is_standby"] else "regular"] += row["total"]

    opening = _opening_hours(site.pk, weekday)
    categories = list(Category.objects.filter(site_id=site.pk, is_active=True).order_by("position", "prefix"))
    results: list[CategoryForecast] = []
    for category in categories:
        mine = {hour: values for (category_id, hour), values in sums.items() if category_id == category.pk}
        served = sum(values["served"] for values in mine.values())
        overall = sum(values["service_seconds"] for values in mine.values()) / served / 60 if served else None
        available = links[category.pk]
        entry = CategoryForecast(
            category_id=category.pk,
            prefix=category.prefix,
            name=category.name,
            target_minutes=category.target_wait_minutes,
            regular=available["regular"],
            standby=available["standby"],
        )
        for hour in sorted(opening | {hour for hour, values in mine.items() if values["arrivals"]}):
            values = mine.get(hour, {"arrivals": 0, "served": 0, "service_seconds": 0})
            rate = values["arrivals"] / len(days) if days else 0.0
            from_hour = values["served"] > 0
            service = values["service_seconds"] / values["served"] / 60 if from_hour else overall
            if service is not None and service <= 0:
                service = None
            needed = required_windows(rate, service, category.target_wait_minutes, target_level)
            load = rate * service / 60 if service is not None else (0.0 if rate == 0 else None)
            level = wait = None
            if needed is not None and load is not None and service is not None:
                level = service_level(needed, load, service, category.target_wait_minutes)
                wait = average_wait_minutes(needed, load, service)
            entry.hours.append(
                HourForecast(
                    hour=hour,
                    arrivals_per_hour=rate,
                    service_minutes=service,
                    service_from_hour=from_hour,
                    load=load,
                    needed=needed,
                    service_level=level,
                    average_wait=wait,
                    regular=entry.regular,
                    standby=entry.standby,
                )
            )
        results.append(entry)
    return {
        "weekday": weekday,
        "weeks": weeks,
        "days": days,
        "candidates": candidates,
        "target_level": target_level,
        "categories": results,
        "no_data_label": _("无数据"),
    }
