"""The back office warns calendar managers, on every page, that a year's holiday schedule is missing."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from servicehall.workdays.service import current_calendar

pytestmark = pytest.mark.django_db

BANNER = "年的节假日与调休安排尚未录入"


def first_uncovered_year() -> int:
    covered = current_calendar().covered_years()
    year = max(covered) + 1
    return year


@pytest.fixture
def today_is(monkeypatch: pytest.MonkeyPatch) -> Any:
    def set_today(day: dt.date) -> None:
        monkeypatch.setattr("django.utils.timezone.localdate", lambda *args, **kwargs: day)

    return set_today


def test_in_december_the_administrator_is_warned_on_every_page(
    centre_administrator: Any, client_for: Any, today_is: Any
) -> None:
    # Given it is December of the last covered year, and next year is not entered
    missing = first_uncovered_year()
    today_is(dt.date(missing - 1, 12, 6))
    client = client_for(centre_administrator)
    # When the administrator opens the workbench and the catalogue
    for path in ("/", "/catalog/"):
        html = client.get(path).content.decode()
        # Then both warn about that year and link to the calendar
        assert f"{missing} {BANNER}" in html, path
        assert 'href="/calendar/"' in html
    # And the calendar page shows its own, more detailed warning once, not the banner
    assert BANNER not in client.get("/calendar/").content.decode()


def test_early_in_the_year_next_years_schedule_is_not_yet_due(
    centre_administrator: Any, client_for: Any, today_is: Any
) -> None:
    missing = first_uncovered_year()
    today_is(dt.date(missing - 1, 3, 2))
    assert BANNER not in client_for(centre_administrator).get("/").content.decode()


def test_a_year_already_under_way_without_a_schedule_is_always_warned(
    centre_administrator: Any, client_for: Any, today_is: Any
) -> None:
    missing = first_uncovered_year()
    today_is(dt.date(missing, 3, 2))
    assert f"{missing} {BANNER}" in client_for(centre_administrator).get("/").content.decode()


def test_a_clerk_is_not_troubled_with_it(clerk: Any, client_for: Any, today_is: Any) -> None:
    today_is(dt.date(first_uncovered_year() - 1, 12, 6))
    assert BANNER not in client_for(clerk).get("/").content.decode()
