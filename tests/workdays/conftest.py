"""The working-day calendar is cached per process; each test starts and ends with a fresh one."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from servicehall.workdays.calendar import WorkingDayCalendar, official_data


@pytest.fixture(autouse=True)
def _fresh_application_calendar() -> Iterator[None]:
    from servicehall.workdays import service

    # Rolled-back test transactions never run the on_commit that would invalidate the cache.
    service.invalidate()
    yield
    service.invalidate()


@pytest.fixture(scope="session")
def official_calendar() -> WorkingDayCalendar:
    """China's official schedule alone, without any centre overrides: no database needed."""
    return WorkingDayCalendar(official_data())
