"""Dashboards: the centre's home (live), trends, comparisons and the heat map — numbers, scope, bad input.

The hall is the one of tests/queueing (a town centre, Monday 3 March 2025 10:00 in Shanghai); figures of
past days are written straight into the rollup tables, as ``assessment.rollup`` would.
"""

# ruff: noqa: F811  (fixtures imported from tests/queueing are used as parameters)

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

import pytest

from servicehall.accounts.roles import Role
from servicehall.assessment.models import DailyFigures, HourlyArrivals, SubjectKind
from servicehall.cases.models import CardLevel, Case
from servicehall.cases.states import CaseState
from servicehall.feedback import actions as feedback
from servicehall.queueing import actions as queueing
from servicehall.queueing.models import Category, CategoryWindow
from tests.cases.conftest import make_item
from tests.conftest import make_staff
from tests.factories import DepartmentFactory, OpeningPeriodFactory, WindowFactory, resident_id
from tests.queueing.conftest import (  # noqa: F401  (fixtures)
    _fresh_caches,
    at,
    at_window,
    frozen_now,
    household,
    issue,
    opening_hours,
    social_security,
    window_five,
    window_four,
    window_six,
)

HOME = "/assessment/dashboard/"
TRENDS = "/assessment/dashboard/trends/"
COMPARE = "/assessment/dashboard/compare/"
HEATMAP = "/assessment/dashboard/heatmap/"
PAGES = [HOME, TRENDS, COMPARE, HEATMAP, "/assessment/dashboard/forecast/"]


def table(body: str, table_id: str) -> list[list[str]]:
    """The cells (th and td, tags stripped) of each body row of one table."""
    match = re.search(rf'<table[^>]*id="{table_id}"[^>]*>(.*?)</table>', body, re.S)
    assert match is not None, f"table {table_id} missing"
    rows = re.findall(r"<tr[^>]*>(.*?)</tr>", match.group(1).split("<tbody>")[1], re.S)
    return [
        [re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)]
        for row in rows
    ]


def chart_data(body: str, element_id: str) -> Any:
    match = re.search(rf'<script id="{element_id}" type="application/json">(.*?)</script>', body, re.S)
    assert match is not None, f"chart data {element_id} missing"
    return json.loads(match.group(1))


def serve(clerk: Any, window: Any, category: Any, minute: int, wait: int) -> Any:
    ticket = issue(category, minute)
    queueing.call_next(clerk, window, now=at(9, minute + wait))
    queueing.start_service(clerk, window, now=at(9, minute + wait + 1))
    queueing.finish_service(clerk, window, now=at(9, minute + wait + 6))
    ticket.refresh_from_db()
    return ticket


def open_case(
    site: Any, item: Any, handler: Any, number: str, card_level: int, state: str = CaseState.ACCEPTED
) -> Case:
    return Case.objects.create(
        site=site,
        item=item,
        department=item.department,
        number=number,
        first_handler=handler,
        state=state,
        applicant_kind="person",
        applicant_name="张三丰",
        applicant_id_number=resident_id(7),
        applicant_phone="13812345678",
        card_level=card_level,
    )


@pytest.fixture
def other_hall(other_town_site: Any, other_site_clerk: Any) -> Category:
    """Another town's queue with a waiting ticket: none of it may appear at the first town."""
    for weekday in range(1, 6):
        OpeningPeriodFactory(site=other_town_site, weekday=weekday, starts_at=dt.time(9), ends_at=dt.time(17))
    category = Category.objects.create(site=other_town_site, prefix="A", name="外站社保")
    window = WindowFactory(site=other_town_site, number=1, name="外站窗口")
    CategoryWindow.objects.create(site=other_town_site, category=category, window=window)
    for minute in range(4):
        queueing.issue_ticket(None, category, now=at(9, minute))
    return category


@pytest.fixture
def hall_today(
    clerk: Any, at_window: Any, social_security: Any, window_four: Any, department: Any, other_hall: Any
) -> dict[str, Any]:
    """Today at the town: 2 served (waits 1 and 3 minutes), 3 waiting, ratings 好评 + 中评, one window
    paused, open cases red / yellow / none (and a finished red one that no longer counts)."""
    first = serve(clerk, at_window, social_security, 10, 1)
    second = serve(clerk, at_window, social_security, 20, 3)
    for minute in (40, 41, 42):
        issue(social_security, minute)
    for ticket, level in ((first, 5), (second, 3)):
        token = feedback.issue_token_for_ticket(ticket, now=at(9, 50))
        feedback.rate(token.key, level=level, channel="qr_code", now=at(9, 51))
    colleague = make_staff(social_security.site, Role.WINDOW_CLERK, username="colleague", full_name="黄同事")
    queueing.sign_in(colleague, window_four, now=at(9))
    queueing.pause(colleague, window_four, reason="取材料", whereabouts="档案室", now=at(9, 55))
    item = make_item(department, "RS-900")
    open_case(social_security.site, item, clerk, "T-1", CardLevel.RED)
    open_case(social_security.site, item, clerk, "T-2", CardLevel.YELLOW)
    open_case(social_security.site, item, clerk, "T-3", CardLevel.NONE)
    open_case(social_security.site, item, clerk, "T-4", CardLevel.RED, state=CaseState.COMPLETED)
    return {"first": first, "second": second}


# --- the centre's home -----------------------------------------------------------------------------


def test_home_shows_today_live(
    client_for: Any,
    supervisor: Any,
    hall_today: dict[str, Any],
    frozen_now: Any,
    django_assert_max_num_queries: Any,
) -> None:
    client = client_for(supervisor)
    client.get(HOME)  # warm the session and caches
    with django_assert_max_num_queries(14):
        response = client.get(HOME)
    assert response.status_code == 200
    body = response.content.decode()
    figures = dict(re.findall(r'<dd data-figure="(\w+)">([^<]*)</dd>', body))
    assert figures["issued"] == "5"
    assert figures["waiting"] == "3"
    assert figures["served"] == "2"
    assert figures["average_wait"] == "2.0"  # (1 + 3) / 2 minutes
    assert figures["good_rate"] == "50.0%"
    assert figures["ratings"] == "2"
    assert figures["windows"] == "1 / 1"  # window 3 idle; window 4 paused
    assert figures["open_cases"] == "3"
    assert table(body, "cards-table") == [["红牌督办", "1"], ["黄牌预警", "1"], ["未亮牌", "1"]]
    windows = {row[0]: row[1] for row in table(body, "windows-table")}
    assert windows["空闲"] == "1"
    assert windows["暂停服务"] == "1"
    assert chart_data(body, "cards-data") == [["红牌督办", 1], ["黄牌预警", 1], ["未亮牌", 1]]
    # The chart is an enhancement: hidden until the script runs, drawn from local files only.
    assert re.search(r'<div class="chart[^"]*" data-chart="pie" data-source="cards-data"[^>]* hidden>', body)
    sources = re.findall(r'(?:src|href)="([^"]+)"', body)
    assert "/static/vendor/echarts.min.js" in sources
    assert not [source for source in sources if source.startswith(("http://", "https://", "//"))]


def test_home_with_nothing_today_shows_dashes(client_for: Any, supervisor: Any, frozen_now: Any) -> None:
    response = client_for(supervisor).get(HOME)
    assert response.status_code == 200
    figures = dict(re.findall(r'<dd data-figure="(\w+)">([^<]*)</dd>', response.content.decode()))
    assert figures["issued"] == "0"
    assert figures["average_wait"] == "—"
    assert figures["good_rate"] == "—"


def test_centre_administrator_picks_a_site(
    client_for: Any,
    centre_administrator: Any,
    town_site: Any,
    other_town_site: Any,
    hall_today: Any,
    frozen_now: Any,
) -> None:
    client = client_for(centre_administrator)
    town = client.get(HOME, {"site": town_site.pk}).content.decode()
    other = client.get(HOME, {"site": other_town_site.pk}).content.decode()
    assert dict(re.findall(r'<dd data-figure="(\w+)">([^<]*)</dd>', town))["waiting"] == "3"
    assert dict(re.findall(r'<dd data-figure="(\w+)">([^<]*)</dd>', other))["waiting"] == "4"
    assert f'<option value="{other_town_site.pk}"' in town


def test_other_site_is_refused_and_not_shown(
    client_for: Any, supervisor: Any, other_town_site: Any, other_hall: Any, frozen_now: Any
) -> None:
    client = client_for(supervisor)
    body = client.get(HOME).content.decode()
    assert dict(re.findall(r'<dd data-figure="(\w+)">([^<]*)</dd>', body))["issued"] == "0"
    assert other_town_site.name not in body
    for page in PAGES:
        response = client.get(page, {"site": other_town_site.pk})
        assert response.status_code == 403, page
        assert "该服务场所不在您的数据范围内。" in response.content.decode()


@pytest.mark.parametrize("page", PAGES)
def test_refused_for_a_clerk(client_for: Any, clerk: Any, page: str, frozen_now: Any) -> None:
    before = DailyFigures.objects.count(), HourlyArrivals.objects.count()
    response = client_for(clerk).get(page)
    assert response.status_code == 403
    assert (DailyFigures.objects.count(), HourlyArrivals.objects.count()) == before


def test_anonymous_is_sent_to_login(citizen_client: Any) -> None:
    response = citizen_client.get(HOME)
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


@pytest.mark.parametrize(
    ("page", "params", "message"),
    [
        (HOME, {"site": "abc"}, "服务场所参数不正确。"),
        (COMPARE, {"month": "abc"}, "月份格式不正确，应为 YYYY-MM（例如 2025-03）。"),
        (COMPARE, {"month": "2025-13"}, "月份格式不正确，应为 YYYY-MM（例如 2025-03）。"),
        (COMPARE, {"month": "2025-02-01"}, "月份格式不正确，应为 YYYY-MM（例如 2025-03）。"),
        (COMPARE, {"month": "2031-01"}, "不能选择尚未开始的月份。"),
        (COMPARE, {"sort": "password"}, "排序列不正确。"),
        (COMPARE, {"order": "sideways"}, "排序方向应为 asc（升序）或 desc（降序）。"),
        (HEATMAP, {"start": "abc"}, "开始日期格式不正确，应为 YYYY-MM-DD。"),
        (HEATMAP, {"end": "2025-02-30"}, "结束日期格式不正确，应为 YYYY-MM-DD。"),
        (HEATMAP, {"start": "2025-03-01", "end": "2025-02-01"}, "开始日期不能晚于结束日期。"),
        (HEATMAP, {"start": "2020-01-01", "end": "2025-02-01"}, "日期范围不能超过 366 天。"),
    ],
)
def test_bad_parameters_are_400_with_a_chinese_message(
    client_for: Any, supervisor: Any, page: str, params: dict[str, str], message: str, frozen_now: Any
) -> None:
    before = DailyFigures.objects.count()
    response = client_for(supervisor).get(page, params)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert DailyFigures.objects.count() == before


# --- trends ----------------------------------------------------------------------------------------


def site_day(site: Any, day: dt.date, **counters: int) -> DailyFigures:
    return DailyFigures.objects.create(
        site=site, date=day, subject_kind=SubjectKind.SITE, subject_id=site.pk, **counters
    )


def test_trends_sum_the_site_rows_by_week_and_month(
    client_for: Any, supervisor: Any, town_site: Any, other_town_site: Any, frozen_now: Any
) -> None:
    site_day(
        town_site, dt.date(2025, 2, 24), arrivals=40, tickets_called=40, tickets_served=38,
        wait_seconds=40 * 300, ratings=10, ratings_good=9, cases_completed=20, cases_on_time=19,
    )  # fmt: skip
    site_day(
        town_site, dt.date(2025, 2, 25), arrivals=60, tickets_called=60, tickets_served=60,
        wait_seconds=60 * 600, ratings=10, ratings_good=10, cases_completed=0, cases_on_time=0,
    )  # fmt: skip
    site_day(
        town_site, dt.date(2025, 2, 3), arrivals=5, tickets_called=5, tickets_served=5, wait_seconds=5 * 60
    )
    site_day(town_site, dt.date(2024, 2, 1), arrivals=999)  # 13 months ago: outside both series
    site_day(other_town_site, dt.date(2025, 2, 24), arrivals=777, tickets_called=777, wait_seconds=777)
    # A window row on the same day is not the site's.
    DailyFigures.objects.create(
        site=town_site, date=dt.date(2025, 2, 24), subject_kind=SubjectKind.WINDOW, subject_id=1, arrivals=40
    )
    response = client_for(supervisor).get(TRENDS)
    assert response.status_code == 200
    body = response.content.decode()
    weekly = table(body, "weekly-table")
    monthly = table(body, "monthly-table")
    assert len(weekly) == 12
    assert len(monthly) == 12
    week_nine = next(row for row in weekly if row[0].startswith("2025年第9周"))
    # arrivals, served, average wait (minutes), 好评率 %, 及时办结率 %
    assert week_nine[1:] == ["100", "98", "8.0", "95.0", "95.0"]
    assert weekly[-1][0].startswith("2025年第10周")  # this week, up to today
    assert weekly[-1][1] == "0"
    february = next(row for row in monthly if row[0].startswith("2025-02"))
    assert february[1:] == ["105", "103", "7.7", "95.0", "95.0"]
    assert monthly[0][0].startswith("2024-04")
    assert monthly[-1][0].startswith("2025-03")
    assert "777" not in body
    assert "999" not in body
    data = chart_data(body, "monthly-data")
    assert data["labels"][-2] == "2025-02"
    assert data["series"][0]["data"][-2] == 105
    assert data["series"][2]["data"][-2] == 7.7


# --- comparisons -----------------------------------------------------------------------------------


def subject_month(site: Any, kind: str, subject_id: int, day: dt.date, **counters: int) -> None:
    DailyFigures.objects.create(site=site, date=day, subject_kind=kind, subject_id=subject_id, **counters)


def test_compare_departments_and_windows_for_a_month(
    client_for: Any,
    supervisor: Any,
    town_site: Any,
    other_town_site: Any,
    department: Any,
    window: Any,
    window_four: Any,
    frozen_now: Any,
) -> None:
    second = DepartmentFactory(site=town_site, code="SJ", name="市场监督管理局")
    feb = dt.date(2025, 2, 10)
    subject_month(town_site, SubjectKind.DEPARTMENT, department.pk, feb, arrivals=50, tickets_called=50,
                  wait_seconds=50 * 120, ratings=20, ratings_good=18, cases_completed=10, cases_on_time=10)  # fmt: skip
    subject_month(town_site, SubjectKind.DEPARTMENT, department.pk, feb + dt.timedelta(days=1), arrivals=10,
                  tickets_called=10, wait_seconds=10 * 120)  # fmt: skip
    subject_month(town_site, SubjectKind.DEPARTMENT, second.pk, feb, arrivals=70, tickets_called=70,
                  wait_seconds=70 * 60, ratings=10, ratings_good=5, cases_completed=4, cases_on_time=3)  # fmt: skip
    subject_month(town_site, SubjectKind.WINDOW, window.pk, feb, arrivals=30, tickets_served=30,
                  service_seconds=30 * 300, ratings=4, ratings_good=4)  # fmt: skip
    subject_month(town_site, SubjectKind.WINDOW, window_four.pk, feb, arrivals=20)
    subject_month(
        town_site, SubjectKind.DEPARTMENT, department.pk, dt.date(2025, 1, 31), arrivals=1000
    )  # January
    foreign = DepartmentFactory(site=other_town_site, code="XX", name="外站部门")
    subject_month(other_town_site, SubjectKind.DEPARTMENT, foreign.pk, feb, arrivals=500)

    client = client_for(supervisor)
    response = client.get(COMPARE, {"month": "2025-02"})
    assert response.status_code == 200
    body = response.content.decode()
    departments = table(body, "department-table")
    # name, arrivals, served, wait, service, 好评率, 办结, 及时办结率 — sorted by arrivals, highest first
    assert departments == [
        ["市场监督管理局", "70", "0", "1.0", "—", "50.0", "4", "75.0"],
        ["人力资源和社会保障局", "60", "0", "2.0", "—", "90.0", "10", "100.0"],
    ]
    windows = table(body, "window-table")
    assert [row[0] for row in windows] == ["3号窗口 社保综合窗口", "4号窗口 社保窗口二"]
    assert windows[0][4] == "5.0"
    assert "外站部门" not in body
    assert chart_data(body, "department-data") == {
        "labels": ["市场监督管理局", "人力资源和社会保障局"],
        "name": "到达人次",
        "data": [70, 60],
    }

    by_rate = client.get(COMPARE, {"month": "2025-02", "sort": "good_rate", "order": "asc"}).content.decode()
    assert [row[0] for row in table(by_rate, "department-table")] == [
        "市场监督管理局",
        "人力资源和社会保障局",
    ]
    # A column without a value (no ratings at window 4) sorts last in both directions.
    assert [row[0] for row in table(by_rate, "window-table")] == [
        "3号窗口 社保综合窗口",
        "4号窗口 社保窗口二",
    ]
    by_wait = client.get(
        COMPARE, {"month": "2025-02", "sort": "average_wait", "order": "desc"}
    ).content.decode()
    assert [row[0] for row in table(by_wait, "department-table")] == [
        "人力资源和社会保障局",
        "市场监督管理局",
    ]

    empty = client.get(COMPARE, {"month": "2024-06"}).content.decode()
    assert "该月还没有统计数据。" in empty


# --- heat map --------------------------------------------------------------------------------------


def arrivals(site: Any, category: Any, day: dt.date, hour: int, count: int) -> None:
    HourlyArrivals.objects.create(site=site, date=day, hour=hour, category=category, arrivals=count)


def test_heatmap_by_weekday_and_hour(
    client_for: Any,
    supervisor: Any,
    town_site: Any,
    social_security: Any,
    household: Any,
    other_hall: Any,
    frozen_now: Any,
) -> None:
    arrivals(town_site, social_security, dt.date(2025, 2, 24), 10, 5)  # Monday
    arrivals(town_site, household, dt.date(2025, 2, 24), 10, 3)
    arrivals(town_site, social_security, dt.date(2025, 2, 17), 10, 2)  # Monday
    arrivals(town_site, social_security, dt.date(2025, 2, 25), 14, 4)  # Tuesday
    arrivals(town_site, social_security, dt.date(2024, 12, 30), 10, 100)  # before the default 8 weeks
    arrivals(other_hall.site, other_hall, dt.date(2025, 2, 24), 10, 50)
    client = client_for(supervisor)
    response = client.get(HEATMAP)
    assert response.status_code == 200
    body = response.content.decode()
    assert "2025-01-06" in body  # the default range: 8 weeks up to yesterday
    assert "2025-03-02" in body
    rows = table(body, "heatmap-table")
    hours = re.findall(r"<th scope=\"col\" class=\"numeric\">(\d+):00</th>", body)
    assert hours == ["10", "11", "12", "13", "14"]
    assert [row[0] for row in rows] == ["星期一", "星期二", "星期三", "星期四", "星期五"]
    assert rows[0][1:] == ["10", "0", "0", "0", "0", "10"]
    assert rows[1][1:] == ["0", "0", "0", "0", "4", "4"]
    assert "合计 14 人次" in body
    data = chart_data(body, "heatmap-data")
    assert [0, 0, 10] in data["cells"]
    assert data["peak"] == 10

    wider = client.get(HEATMAP, {"start": "2024-12-30", "end": "2025-03-02"}).content.decode()
    assert table(wider, "heatmap-table")[0][1] == "110"


# --- assets ----------------------------------------------------------------------------------------


def test_echarts_is_served_by_the_project() -> None:
    from django.contrib.staticfiles import finders

    path = finders.find("vendor/echarts.min.js")
    if path is None:
        pytest.fail("vendor/echarts.min.js missing: run `make assets` (make install does it)")
    with open(path, encoding="utf-8") as asset:
        assert "echarts" in asset.read(5000).lower()
    assert finders.find("assessment/dashboard.js") is not None
