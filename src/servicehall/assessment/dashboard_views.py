"""Dashboard pages of 监督考核: the centre's home, trends, comparisons, the heat map and the staffing forecast.

Thin: each parses its query parameters (a bad one is a 400 with a Chinese message), picks one of the
user's sites (another site is a 403) and renders what ``assessment.dashboard`` or
``assessment.forecast`` returns. Every chart is drawn by static/assessment/dashboard.js from the same
numbers the page shows in a table, passed with ``json_script``; without JavaScript the tables remain.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from servicehall.accounts.roles import Capability
from servicehall.assessment import dashboard, forecast
from servicehall.lib.errors import ActionRefused, PermissionRefused
from servicehall.sites.models import Site, Weekday
from servicehall.web.decorators import staff_view

VIEW = Capability.VIEW_ASSESSMENT
FILTERED_PAGES = frozenset({"compare", "heatmap", "forecast"})


def _site(request: HttpRequest) -> tuple[Site, list[Site]]:
    accessible = request.user.accessible_site_ids()
    sites = list(Site.objects.filter(pk__in=accessible).order_by("code"))
    raw = request.GET.get("site", "").strip()
    if raw:
        if not raw.isdigit():
            raise ActionRefused(_("服务场所参数不正确。"), code="invalid_input", field="site")
        chosen = next((site for site in sites if site.pk == int(raw)), None)
        if chosen is None:
            raise PermissionRefused(_("该服务场所不在您的数据范围内。"))
        return chosen, sites
    own = next((site for site in sites if site.pk == request.user.site_id), None)
    if own is None and not sites:
        raise PermissionRefused(_("您的账号没有可查看的服务场所。"))
    return own or sites[0], sites


def _month(raw: str, today: dt.date) -> tuple[dt.date, dt.date]:
    raw = raw.strip()
    if not raw:
        first = dashboard.month_start(today)
    else:
        try:
            first = dt.date.fromisoformat(f"{raw}-01")
        except ValueError:
            raise ActionRefused(
                _("月份格式不正确，应为 YYYY-MM（例如 2025-03）。"), code="invalid_input", field="month"
            ) from None
        if len(raw) != 7:
            raise ActionRefused(
                _("月份格式不正确，应为 YYYY-MM（例如 2025-03）。"), code="invalid_input", field="month"
            )
        if first > today:
            raise ActionRefused(_("不能选择尚未开始的月份。"), code="invalid_input", field="month")
    return first, dashboard.next_month(first) - dt.timedelta(days=1)


def _date(raw: str, label: str, field: str) -> dt.date:
    try:
        return dt.date.fromisoformat(raw.strip())
    except ValueError:
        raise ActionRefused(
            _("%(label)s格式不正确，应为 YYYY-MM-DD。") % {"label": label}, code="invalid_input", field=field
        ) from None


def _integer(raw: str, label: str, field: str, low: int, high: int, default: int) -> int:
    raw = raw.strip()
    if not raw:
        return default
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise ActionRefused(
            _("%(label)s应为 %(low)s 到 %(high)s 之间的整数。") % {"label": label, "low": low, "high": high},
            code="invalid_input",
            field=field,
        )
    return int(raw)


def _common(site: Site, sites: list[Site], page: str) -> dict[str, Any]:
    return {"site": site, "sites": sites, "page": page, "has_filters": page in FILTERED_PAGES}


@require_GET
@staff_view(VIEW)
def home_view(request: HttpRequest) -> HttpResponse:
    site, sites = _site(request)
    figures = dashboard.today(site.pk, timezone.localdate())
    chart = {
        "cards": [[card["label"], card["count"]] for card in figures["cards"]],
        "windows": [[window["label"], window["count"]] for window in figures["windows"]],
    }
    return render(
        request,
        "assessment/dashboard.html",
        {**_common(site, sites, "dashboard"), "figures": figures, "chart": chart},
    )


@require_GET
@staff_view(VIEW)
def trends_view(request: HttpRequest) -> HttpResponse:
    site, sites = _site(request)
    series = dashboard.trends(site.pk, timezone.localdate())

    def chart(rows: list[dict[str, Any]]) -> dict[str, Any]:
        return {
            "labels": [row["label"] for row in rows],
            "series": [
                {"name": _("到达人次"), "data": [row["arrivals"] for row in rows], "axis": 0},
                {"name": _("办结人次"), "data": [row["served"] for row in rows], "axis": 0},
                {"name": _("平均等候（分钟）"), "data": [row["average_wait"] for row in rows], "axis": 1},
                {"name": _("好评率（%）"), "data": [row["good_rate"] for row in rows], "axis": 2},
                {"name": _("及时办结率（%）"), "data": [row["on_time_rate"] for row in rows], "axis": 2},
            ],
            "axes": [_("人次"), _("分钟"), "%"],
        }

    return render(
        request,
        "assessment/dashboard_trends.html",
        {
            **_common(site, sites, "trends"),
            "weekly": series["weekly"],
            "monthly": series["monthly"],
            "weekly_chart": chart(series["weekly"]),
            "monthly_chart": chart(series["monthly"]),
        },
    )


COLUMN_LABELS = {
    "arrivals": gettext_lazy("到达人次"),
    "served": gettext_lazy("办结人次"),
    "average_wait": gettext_lazy("平均等候（分钟）"),
    "average_service": gettext_lazy("平均办理（分钟）"),
    "good_rate": gettext_lazy("好评率（%）"),
    "cases_completed": gettext_lazy("办结件数"),
    "on_time_rate": gettext_lazy("及时办结率（%）"),
}


@require_GET
@staff_view(VIEW)
def compare_view(request: HttpRequest) -> HttpResponse:
    site, sites = _site(request)
    today = timezone.localdate()
    first, last = _month(request.GET.get("month", ""), today)
    sort = request.GET.get("sort", "").strip() or "arrivals"
    if sort not in dashboard.COMPARE_COLUMNS:
        raise ActionRefused(_("排序列不正确。"), code="invalid_input", field="sort")
    order = request.GET.get("order", "").strip() or "desc"
    if order not in ("asc", "desc"):
        raise ActionRefused(
            _("排序方向应为 asc（升序）或 desc（降序）。"), code="invalid_input", field="order"
        )
    rows = dashboard.comparison(site.pk, first, last, sort=sort, descending=order == "desc")
    columns = [(key, str(COLUMN_LABELS[key])) for key in dashboard.COMPARE_COLUMNS]
    label = str(COLUMN_LABELS[sort])

    def chart(items: list[dict[str, Any]]) -> dict[str, Any]:
        return {
            "labels": [item["name"] for item in items],
            "name": label,
            "data": [item[sort] for item in items],
        }

    tables = [
        ("department", _("各部门"), rows["department"], chart(rows["department"])),
        ("window", _("各窗口"), rows["window"], chart(rows["window"])),
    ]
    return render(
        request,
        "assessment/dashboard_compare.html",
        {
            **_common(site, sites, "compare"),
            "month": f"{first:%Y-%m}",
            "columns": columns,
            "sort": sort,
            "order": order,
            "sort_label": label,
            "tables": tables,
        },
    )


@require_GET
@staff_view(VIEW)
def heatmap_view(request: HttpRequest) -> HttpResponse:
    site, sites = _site(request)
    today = timezone.localdate()
    raw_start, raw_end = request.GET.get("start", ""), request.GET.get("end", "")
    end = _date(raw_end, _("结束日期"), "end") if raw_end.strip() else today - dt.timedelta(days=1)
    start = (
        _date(raw_start, _("开始日期"), "start")
        if raw_start.strip()
        else end - dt.timedelta(weeks=dashboard.HEATMAP_DEFAULT_WEEKS) + dt.timedelta(days=1)
    )
    if start > end:
        raise ActionRefused(_("开始日期不能晚于结束日期。"), code="invalid_input", field="start")
    if (end - start).days + 1 > dashboard.HEATMAP_MAX_DAYS:
        raise ActionRefused(
            _("日期范围不能超过 %(days)s 天。") % {"days": dashboard.HEATMAP_MAX_DAYS},
            code="invalid_input",
            field="start",
        )
    grid = dashboard.heatmap(site.pk, start, end)
    labels = dict(Weekday.choices)
    for row in grid["rows"]:
        row["label"] = labels[row["weekday"]]
    chart = {
        "hours": [f"{hour}:00" for hour in grid["hours"]],
        "days": [row["label"] for row in grid["rows"]],
        "cells": [
            [column, line, value]
            for line, row in enumerate(grid["rows"])
            for column, value in enumerate(row["cells"])
        ],
        "peak": grid["peak"],
    }
    return render(
        request,
        "assessment/dashboard_heatmap.html",
        {
            **_common(site, sites, "heatmap"),
            "grid": grid,
            "chart": chart,
            "start": start.isoformat(),
            "end": end.isoformat(),
        },
    )


@require_GET
@staff_view(VIEW)
def forecast_view(request: HttpRequest) -> HttpResponse:
    site, sites = _site(request)
    today = timezone.localdate()
    default_weekday = today.isoweekday() if today.isoweekday() <= 5 else 1
    raw_weekday = request.GET.get("weekday", "").strip()
    if raw_weekday and (not raw_weekday.isdigit() or not 1 <= int(raw_weekday) <= 7):
        raise ActionRefused(
            _("星期应为 1（星期一）到 7（星期日）之间的整数。"), code="invalid_input", field="weekday"
        )
    weekday = int(raw_weekday) if raw_weekday else default_weekday
    weeks = _integer(
        request.GET.get("weeks", ""), _("统计周数"), "weeks", 1, forecast.MAX_WEEKS, forecast.DEFAULT_WEEKS
    )
    level = _integer(
        request.GET.get("level", ""),
        _("服务水平目标（%）"),
        "level",
        50,
        99,
        round(forecast.DEFAULT_TARGET_LEVEL * 100),
    )
    result = forecast.forecast(site, weekday, today=today, weeks=weeks, target_level=level / 100)
    charts = {
        str(item.category_id): {
            "hours": [f"{row.hour}:00" for row in item.hours],
            "needed": [row.needed for row in item.hours],
            "regular": [row.regular for row in item.hours],
            "available": [row.regular + row.standby for row in item.hours],
            "names": [_("所需窗口"), _("常设窗口"), _("含潮汐窗口")],
        }
        for item in result["categories"]
    }
    return render(
        request,
        "assessment/forecast.html",
        {
            **_common(site, sites, "forecast"),
            "result": result,
            "weekday": weekday,
            "weekdays": Weekday.choices,
            "weekday_label": dict(Weekday.choices)[weekday],
            "weeks": weeks,
            "level": level,
            "charts": charts,
        },
    )
