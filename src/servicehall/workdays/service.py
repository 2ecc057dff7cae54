"""The calendar the application uses: official data plus the centre's overrides, cached per process.

National overrides make one index for every site; a site with local overrides (a local closure)
gets its own index built on the national one. Callers pass ``site`` where the answer is local.

Changing an override bumps a version in the cache (shared through Redis when REDIS_URL is set), and
each process rebuilds its index (about 20 ms) the next time it is asked.
"""

from __future__ import annotations

import datetime as dt
import threading
from dataclasses import dataclass, field
from typing import Any

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
# The national calendar, plus one calendar per site that has local overrides (most sites have none,
# so they share the national index). All are rebuilt lazily when the version changes.
_state: dict[str, Any] = {"snapshot": None}
_official: dict[str, CalendarData] = {}


@dataclass
class _Snapshot:
    version: int
    national: WorkingDayCalendar
    site_ids: frozenset[int]
    sites: dict[int, WorkingDayCalendar] = field(default_factory=dict)


def _official_data() -> CalendarData:
    if "data" not in _official:
        _official["data"] = official_data()
    return _official["data"]


def build_calendar() -> WorkingDayCalendar:
    """The national calendar: official data plus the overrides that hold for every site."""
    from servicehall.workdays.models import CalendarOverride, PublishedYear

    overrides = CalendarOverride.objects.filter(site__isnull=True).values_list("date", "is_working_day")
    years = PublishedYear.objects.values_list("year", flat=True)
    return WorkingDayCalendar(with_overrides(_official_data(), list(overrides), list(years)))


def build_site_calendar(national: WorkingDayCalendar, site_id: int) -> WorkingDayCalendar:
    """One site's calendar: the national one with that site's local overrides on top (they win)."""
    from servicehall.workdays.models import CalendarOverride

    local = CalendarOverride.objects.filter(site_id=site_id).values_list("date", "is_working_day")
    return WorkingDayCalendar(with_overrides(national.data, list(local)))


def _sites_with_overrides() -> frozenset[int]:
    from servicehall.workdays.models import CalendarOverride

    return frozenset(
        CalendarOverride.objects.filter(site__isnull=False).values_list("site_id", flat=True).distinct()
    )


def _snapshot() -> _Snapshot:
    version = cache.get(VERSION_KEY, 0)
    snapshot: _Snapshot | None = _state["snapshot"]
    if snapshot is not None and snapshot.version == version:
        return snapshot
    with _lock:
        snapshot = _state["snapshot"]
        if snapshot is None or snapshot.version != version:
            snapshot = _Snapshot(version, build_calendar(), _sites_with_overrides())
            _state["snapshot"] = snapshot
    return snapshot


def current_calendar(site: Any = None) -> WorkingDayCalendar:
    """The calendar in force — at ``site`` (a Site or its id) when given, else the national one.

    A site without local overrides gets the national calendar itself, so there is one index per
    site that has overrides and no more.
    """
    snapshot = _snapshot()
    site_id = getattr(site, "pk", site)
    if site_id is None or site_id not in snapshot.site_ids:
        return snapshot.national
    calendar = snapshot.sites.get(site_id)
    if calendar is None:
        with _lock:
            calendar = snapshot.sites.get(site_id)
            if calendar is None:
                calendar = build_site_calendar(snapshot.national, site_id)
                snapshot.sites[site_id] = calendar
    return calendar


def invalidate() -> None:
    try:
        cache.incr(VERSION_KEY)
    except ValueError:
        cache.set(VERSION_KEY, 1, timeout=None)
    _state["snapshot"] = None


def add(start: dt.date, count: int, site: Any = None) -> DateAnswer:
    return current_calendar(site).add(start, count)


def between(start: dt.date, end: dt.date, site: Any = None) -> CountAnswer:
    return current_calendar(site).between(start, end)


def is_working_day(day: dt.date, site: Any = None) -> bool:
    return current_calendar(site).is_working_day(day)


def missing_years(today: dt.date, ahead: int = 1) -> list[int]:
    """This year and the next ``ahead`` years that have no official schedule yet."""
    covered = current_calendar().covered_years()
    return [year for year in range(today.year, today.year + ahead + 1) if year not in covered]
