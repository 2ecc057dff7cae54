"""The calendar the application uses: official data plus the centre's overrides, cached per process.

Changing an override bumps a version in the cache (shared through Redis when REDIS_URL is set), and
each process rebuilds its index (about 20 ms) the next time it is asked.
"""

from __future__ import annotations

import datetime as dt
import threading

from django.core.cache import cache

from servicehall.workdays.calendar import (
    CalendarData,
    CountAnswer,
    DateAnswer,
    WorkingDayCalendar,
    official_data,
    with_overrides,
)

VERSION_KEY = "servicehall:workdays:version"
_lock = threading.Lock()
_state: dict[str, object] = {"version": None, "calendar": None}
_official: dict[str, CalendarData] = {}


def _official_data() -> CalendarData:
    if "data" not in _official:
        _official["data"] = official_data()
    return _official["data"]


def build_calendar() -> WorkingDayCalendar:
    from servicehall.workdays.models import CalendarOverride, PublishedYear

    overrides = CalendarOverride.objects.values_list("date", "is_working_day")
    years = PublishedYear.objects.values_list("year", flat=True)
    return WorkingDayCalendar(with_overrides(_official_data(), list(overrides), list(years)))


def current_calendar() -> WorkingDayCalendar:
    version = cache.get(VERSION_KEY, 0)
    calendar = _state["calendar"]
    if calendar is not None and _state["version"] == version:
        return calendar  # type: ignore[return-value]
    with _lock:
        calendar = build_calendar()
        _state["calendar"] = calendar
        _state["version"] = version
    return calendar


def invalidate() -> None:
    try:
        cache.incr(VERSION_KEY)
    except ValueError:
        cache.set(VERSION_KEY, 1, timeout=None)
    _state["calendar"] = None


def add(start: dt.date, count: int) -> DateAnswer:
    return current_calendar().add(start, count)


def between(start: dt.date, end: dt.date) -> CountAnswer:
    return current_calendar().between(start, end)


def is_working_day(day: dt.date) -> bool:
    return current_calendar().is_working_day(day)


def missing_years(today: dt.date, ahead: int = 1) -> list[int]:
    """This year and the next ``ahead`` years that have no official schedule yet."""
    covered = current_calendar().covered_years()
    return [year for year in range(today.year, today.year + ahead + 1) if year not in covered]
