"""When a site is open on a given day: its opening periods, read through the working-day calendar.

A statutory holiday closes the site; a swapped working weekend (调休) opens it with its Monday hours;
an ordinary weekend opens only the periods kept for that weekday (the city centre's Saturday duty,
seed 003 午间和周六休息时间窗口值班制).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from servicehall.sites.models import OpeningPeriod, Site
from servicehall.workdays import service as workdays

MONDAY = 1


@dataclass(frozen=True)
class Period:
    starts_at: dt.time
    ends_at: dt.time


def is_holiday(day: dt.date) -> bool:
    return day in workdays.current_calendar().data.holidays


def day_periods(site: Site, day: dt.date) -> list[Period]:
    if is_holiday(day):
        return []
    weekday = day.isoweekday()
    if weekday >= 6 and workdays.is_working_day(day):
        weekday = MONDAY
    return [
        Period(starts_at, ends_at)
        for starts_at, ends_at in OpeningPeriod.objects.filter(site=site, weekday=weekday)
        .order_by("starts_at")
        .values_list("starts_at", "ends_at")
    ]


def is_open_at(site: Site, moment_local: dt.datetime) -> bool:
    clock = moment_local.time()
    return any(
        period.starts_at <= clock < period.ends_at for period in day_periods(site, moment_local.date())
    )
