"""Hall fixtures: a town centre open Monday–Friday with two queues (A 社保, B 户政) and four windows.

Time is fixed: actions take ``now``; pages run under ``frozen_now`` (Monday 3 March 2025, 10:00 in
Shanghai, a working day inside the morning period).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any
from unittest import mock
from zoneinfo import ZoneInfo

import pytest

from servicehall.accounts.models import User
from servicehall.accounts.roles import Role
from servicehall.queueing import actions
from servicehall.queueing.models import Category, CategoryWindow
from tests.conftest import make_staff
from tests.factories import OpeningPeriodFactory, WindowFactory

SHANGHAI = ZoneInfo("Asia/Shanghai")
MONDAY = dt.date(2025, 3, 3)
NOW = dt.datetime(2025, 3, 3, 10, 0, tzinfo=SHANGHAI)
NATIONAL_DAY = dt.date(2025, 10, 1)


def at(hour: int, minute: int = 0, day: dt.date = MONDAY) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=SHANGHAI)


@pytest.fixture(autouse=True)
def _fresh_caches() -> Iterator[None]:
    """Waiting counts are cached a second and calling rules two; each test starts without them."""
    from django.core.cache import cache

    cache.clear()
    actions.forget_call_rules()
    yield
    cache.clear()
    actions.forget_call_rules()


@pytest.fixture
def opening_hours(town_site: Any) -> None:
    for weekday in range(1, 6):
        OpeningPeriodFactory(site=town_site, weekday=weekday, starts_at=dt.time(9), ends_at=dt.time(12))
        OpeningPeriodFactory(
            site=town_site, weekday=weekday, starts_at=dt.time(13, 30), ends_at=dt.time(17, 30)
        )


@pytest.fixture
def window_four(town_site: Any, department: Any) -> Any:
    return WindowFactory(site=town_site, number=4, name="社保窗口二", department=department)


@pytest.fixture
def window_five(town_site: Any) -> Any:
    return WindowFactory(site=town_site, number=5, name="户政窗口")


@pytest.fixture
def window_six(town_site: Any) -> Any:
    return WindowFactory(site=town_site, number=6, name="潮汐岗")


@pytest.fixture
def social_security(
    town_site: Any, opening_hours: None, window: Any, window_four: Any, window_six: Any
) -> Category:
    category = Category.objects.create(
        site=town_site,
        prefix="A",
        name="社保业务",
        position=1,
        priority_groups=["elderly", "disabled", "pregnant", "military"],
    )
    CategoryWindow.objects.create(site=town_site, category=category, window=window)
    CategoryWindow.objects.create(site=town_site, category=category, window=window_four)
    CategoryWindow.objects.create(site=town_site, category=category, window=window_six, is_standby=True)
    return category


@pytest.fixture
def household(town_site: Any, opening_hours: None, window_five: Any) -> Category:
    category = Category.objects.create(
        site=town_site, prefix="B", name="户政业务", position=2, priority_groups=["elderly"]
    )
    CategoryWindow.objects.create(site=town_site, category=category, window=window_five)
    return category


@pytest.fixture
def second_clerk(town_site: Any) -> User:
    return make_staff(town_site, Role.WINDOW_CLERK, username="clerk_two", full_name="黄第二")


@pytest.fixture
def guide(town_site: Any) -> User:
    return make_staff(town_site, Role.GUIDE, username="guide", full_name="陈导办")


@pytest.fixture
def at_window(clerk: User, window: Any, social_security: Category) -> Any:
    """The clerk signed in at window 3 (which calls A) at 9:00."""
    actions.sign_in(clerk, window, now=at(9))
    return window


@pytest.fixture
def frozen_now() -> Iterator[dt.datetime]:
    with mock.patch("django.utils.timezone.now", return_value=NOW.astimezone(dt.UTC)):
        yield NOW


def issue(category: Category, minute: int = 0, *, hour: int = 9, **fields: Any) -> Any:
    return actions.issue_ticket(None, category, now=at(hour, minute), **fields)
