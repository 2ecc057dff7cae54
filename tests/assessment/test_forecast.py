"""Staffing forecast: Erlang C against published values, its edge cases, and the page built on it."""

# ruff: noqa: F811  (fixtures imported from tests/queueing are used as parameters)

from __future__ import annotations

import datetime as dt
import math
from fractions import Fraction
from typing import Any

import pytest

from servicehall.assessment import forecast
from servicehall.assessment.models import HourlyArrivals, RollupDay
from servicehall.audit.models import AuditRecord
from tests.queueing.conftest import (  # noqa: F401  (fixtures)
    MONDAY,
    _fresh_caches,
    frozen_now,
    household,
    opening_hours,
    social_security,
    window_five,
    window_four,
    window_six,
)

# --- Erlang B / C: pure ----------------------------------------------------------------------------


def exact_erlang_c(servers: int, load: Fraction) -> float:
    """The textbook closed form with exact fractions: A^c/c! · c/(c−A) over Σ A^k/k! + that."""
    top = load**servers / math.factorial(servers) * Fraction(servers) / (servers - load)
    return float(top / (sum(load**k / math.factorial(k) for k in range(servers)) + top))


def test_erlang_b_known_values() -> None:
    # B(1, A) = A / (1 + A); B(2, 1) = 1/5 (A²/2 ÷ (1 + A + A²/2) at A = 1).
    assert forecast.erlang_b(1, 3.0) == pytest.approx(0.75)
    assert forecast.erlang_b(2, 1.0) == pytest.approx(0.2)
    assert forecast.erlang_b(0, 5.0) == 1.0


@pytest.mark.parametrize(
    ("servers", "load", "published"),
    [
        # Call-centre textbook example: 10 erlangs (100 calls per half hour × 3 minutes), 11 agents.
        (11, 10, 0.6821),
        (14, 10, 0.1741),
        # M/M/c with λ = 2/min, 1/μ = 3 min, 10 servers: "probability of waiting is about 0.10".
        (10, 6, 0.1013),
        # 360 calls per half hour × 4 minutes = 48 erlangs with 55 agents.
        (55, 48, 0.2387),
        # C(3, 2) = 4/9 exactly.
        (3, 2, 4 / 9),
    ],
)
def test_erlang_c_matches_published_values(servers: int, load: int, published: float) -> None:
    assert forecast.erlang_c(servers, float(load)) == pytest.approx(published, abs=5e-5)
    assert forecast.erlang_c(servers, float(load)) == pytest.approx(exact_erlang_c(servers, Fraction(load)))


def test_erlang_c_is_stable_for_large_halls() -> None:
    # 170! overflows a float; the recursion never forms it.
    value = forecast.erlang_c(200, 180.0)
    assert 0 < value < 1
    assert value == pytest.approx(exact_erlang_c(200, Fraction(180)), rel=1e-9)


def test_erlang_c_saturated_and_empty() -> None:
    assert forecast.erlang_c(5, 5.0) == 1.0
    assert forecast.erlang_c(4, 6.5) == 1.0
    assert forecast.erlang_c(3, 0.0) == 0.0


def test_service_level_of_the_textbook_example() -> None:
    # 10 erlangs, 3-minute handling, 80% within 20 seconds: 13 agents give 79.6%, 14 give 88.8%.
    aht, target = 3.0, 20 / 60
    assert forecast.service_level(13, 10.0, aht, target) == pytest.approx(0.7956, abs=1e-4)
    assert forecast.service_level(14, 10.0, aht, target) == pytest.approx(0.8884, abs=1e-4)
    # λ = 200/h × 3 min = 10 erlangs → 14 windows is the minimum for 80%.
    assert forecast.required_windows(200, aht, target, 0.8) == 14
    # And the mean wait (ASA) with 55 agents at 48 erlangs, 4 minutes each: 8.18 seconds.
    assert forecast.average_wait_minutes(55, 48.0, 4.0) * 60 == pytest.approx(8.184, abs=1e-3)


def test_required_windows_edge_cases() -> None:
    assert forecast.required_windows(0, 8.0, 15) == 0
    assert forecast.required_windows(0, None, 15) == 0
    assert forecast.required_windows(10, None, 15) is None
    assert forecast.required_windows(10, 0, 15) is None
    # A light load still needs one window; a load of exactly 2 erlangs needs more than 2.
    assert forecast.required_windows(1, 8.0, 15) == 1
    assert forecast.required_windows(15, 8.0, 0) > 2
    # The answer only grows with the arrival rate.
    needs = [forecast.required_windows(rate, 8.0, 15) for rate in range(0, 200, 5)]
    assert needs == sorted(needs)
    with pytest.raises(ValueError):
        forecast.required_windows(-1, 8.0, 15)
    with pytest.raises(ValueError):
        forecast.required_windows(10, 8.0, 15, target_level=0)


def test_required_windows_beyond_the_search_bound_is_none_not_a_hang() -> None:
    # 4 erlangs cannot be served by at most 3 windows.
    assert forecast.required_windows(30, 8.0, 15, 0.8, max_windows=3) is None


# --- the forecast from the measured figures --------------------------------------------------------


def measured(
    site: Any, category: Any, day: dt.date, hour: int, arrivals: int, service_minutes: float
) -> None:
    RollupDay.objects.get_or_create(site=site, date=day, defaults={"computed_at": dt.datetime.now(dt.UTC)})
    HourlyArrivals.objects.create(
        site=site,
        date=day,
        hour=hour,
        category=category,
        arrivals=arrivals,
        tickets_called=arrivals,
        wait_seconds=arrivals * 300,
        tickets_served=arrivals if service_minutes else 0,
        service_seconds=round(arrivals * service_minutes * 60),
    )


MONDAYS = [MONDAY - dt.timedelta(weeks=week) for week in range(1, 5)]  # 24 Feb … 3 Feb 2025
SPRING_FESTIVAL = dt.date(2025, 2, 3)  # a Monday inside the 2025 春节 holiday: not a working day


def test_forecast_means_over_the_same_weekdays(town_site: Any, social_security: Any, household: Any) -> None:
    for day in MONDAYS:
        measured(town_site, social_security, day, 10, 30, 8.0)  # 4 erlangs at 10:00
        measured(town_site, social_security, day, 9, 6, 8.0)
    measured(town_site, social_security, MONDAY - dt.timedelta(days=1), 10, 500, 8.0)  # a Sunday: ignored
    HourlyArrivals.objects.filter(date=SPRING_FESTIVAL, hour=10).update(arrivals=500)  # a holiday: ignored
    result = forecast.forecast(town_site, 1, today=MONDAY, weeks=4)
    # The holiday is replaced by an earlier Monday (27 January), which has no figures: 3 measured days.
    assert result["candidates"] == [*MONDAYS[:3], dt.date(2025, 1, 27)]
    assert result["days"] == MONDAYS[:3]
    social = next(item for item in result["categories"] if item.prefix == "A")
    assert (social.regular, social.standby) == (2, 1)
    ten = next(row for row in social.hours if row.hour == 10)
    assert ten.arrivals_per_hour == 30
    assert ten.load == pytest.approx(4.0)
    assert ten.needed == forecast.required_windows(30, 8.0, social_security.target_wait_minutes) == 5
    assert ten.tidal_needed == 3
    assert ten.short == 2
    nine = next(row for row in social.hours if row.hour == 9)
    assert nine.needed == 2
    assert nine.tidal_needed == 0
    assert social.flagged_hours == [10]
    # Opening hours without arrivals are listed with 0 windows needed.
    quiet = next(row for row in social.hours if row.hour == 14)
    assert (quiet.arrivals_per_hour, quiet.needed) == (0, 0)
    # The other queue has no served tickets at all: no numbers, no crash.
    other = next(item for item in result["categories"] if item.prefix == "B")
    assert not other.has_service_data
    assert all(row.needed == 0 for row in other.hours)


def test_no_service_time_is_no_data(town_site: Any, household: Any) -> None:
    for day in MONDAYS:
        measured(town_site, household, day, 10, 12, 0)  # arrived, never served
    result = forecast.forecast(town_site, 1, today=MONDAY, weeks=4)
    row = next(row for row in result["categories"][0].hours if row.hour == 10)
    assert row.arrivals_per_hour == 12
    assert row.service_minutes is None
    assert row.needed is None
    assert row.tidal_needed == 0


def test_an_hour_without_service_borrows_the_category_mean(town_site: Any, household: Any) -> None:
    for day in MONDAYS:
        measured(town_site, household, day, 10, 12, 6.0)
        measured(town_site, household, day, 11, 3, 0)
    row = next(
        row
        for row in forecast.forecast(town_site, 1, today=MONDAY, weeks=4)["categories"][0].hours
        if row.hour == 11
    )
    assert row.service_minutes == pytest.approx(6.0)
    assert not row.service_from_hour


# --- the page ---------------------------------------------------------------------------------------


def test_forecast_page_for_a_supervisor(
    client_for: Any, supervisor: Any, town_site: Any, social_security: Any, frozen_now: Any
) -> None:
    for day in MONDAYS:
        measured(town_site, social_security, day, 10, 30, 8.0)
    response = client_for(supervisor).get("/assessment/dashboard/forecast/", {"weekday": 1, "weeks": 4})
    assert response.status_code == 200
    body = response.content.decode()
    assert 'data-hour="10"' in body
    row = body.split('data-hour="10"')[1].split("</tr>")[0]
    assert "<strong>5</strong>" in row
    assert "30.00" in row
    assert "开启 3 个潮汐窗口" not in row  # 5 needed, 2 regular + 1 standby: short even with the standby
    assert "窗口不足" in row
    assert 'id="forecast-data"' in body


def test_forecast_page_without_service_data_says_so(
    client_for: Any, supervisor: Any, town_site: Any, household: Any, frozen_now: Any
) -> None:
    for day in MONDAYS:
        measured(town_site, household, day, 10, 12, 0)
    response = client_for(supervisor).get("/assessment/dashboard/forecast/", {"weekday": 1, "weeks": 4})
    assert response.status_code == 200
    row = response.content.decode().split('data-hour="10"')[1].split("</tr>")[0]
    assert "无数据" in row


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"weekday": "9"}, "星期应为 1（星期一）到 7（星期日）之间的整数。"),
        ({"weekday": "abc"}, "星期应为 1（星期一）到 7（星期日）之间的整数。"),
        ({"weeks": "0"}, "统计周数应为 1 到 52 之间的整数。"),
        ({"level": "100"}, "服务水平目标（%）应为 50 到 99 之间的整数。"),
    ],
)
def test_bad_forecast_parameters_are_400(
    client_for: Any, supervisor: Any, town_site: Any, frozen_now: Any, params: dict[str, str], message: str
) -> None:
    before = AuditRecord.objects.count()
    response = client_for(supervisor).get("/assessment/dashboard/forecast/", params)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert AuditRecord.objects.count() == before


def test_forecast_refused_for_a_clerk(client_for: Any, clerk: Any, frozen_now: Any) -> None:
    response = client_for(clerk).get("/assessment/dashboard/forecast/")
    assert response.status_code == 403
