"""A working-day calendar on a precomputed ordinal index: O(1) per query, vectorised for many.

Definitions (限时办结制, seed 000; used for every committed and statutory time limit):
- ``add(start, n)`` for n >= 1 is the date D such that (start, D] holds exactly n working days and D is
  a working day. ``start`` itself never counts, so a case accepted on a Saturday starts on Monday.
- ``between(a, b)`` is the number of working days in (a, b]; negative when b < a (the days in (b, a]).

Every day from FIRST_DAY to LAST_DAY has an index i. Three arrays answer everything:
``cumulative[i]`` working days in [FIRST_DAY, day i]; ``working_positions[k]`` the index of the k-th
working day; ``uncovered_cumulative[i]`` days in [FIRST_DAY, day i] of years without official data.
A result is *provisional* when the interval it depends on touches a year the data does not cover:
there the calendar falls back to Monday–Friday until an administrator enters that year's schedule.

This module is a leaf: it imports only the standard library, numpy and the holiday data.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

FIRST_DAY = dt.date(2000, 1, 1)
LAST_DAY = dt.date(2100, 12, 31)
_FIRST_ORDINAL = FIRST_DAY.toordinal()
_EPOCH_OFFSET = (FIRST_DAY - dt.date(1970, 1, 1)).days


class WorkdayQueryError(ValueError):
    """A query the calendar cannot answer (bad date, n < 1, out of range); nothing is guessed."""

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


@dataclass(frozen=True)
class DateAnswer:
    date: dt.date
    provisional: bool

    def __str__(self) -> str:
        return self.date.isoformat() + (" provisional" if self.provisional else "")


@dataclass(frozen=True)
class CountAnswer:
    count: int
    provisional: bool

    def __str__(self) -> str:
        return str(self.count) + (" provisional" if self.provisional else "")


@dataclass(frozen=True)
class CalendarData:
    """The facts the index is built from; overrides win over the official data."""

    holidays: frozenset[dt.date]
    working_weekends: frozenset[dt.date]
    covered_years: frozenset[int]


def official_data() -> CalendarData:
    """China's schedule as published by the State Council, from the maintained chinesecalendar data."""
    from chinese_calendar import constants

    years = frozenset(day.year for day in constants.holidays) | frozenset(
        day.year for day in constants.workdays
    )
    return CalendarData(
        holidays=frozenset(constants.holidays),
        working_weekends=frozenset(constants.workdays),
        covered_years=years,
    )


def with_overrides(
    data: CalendarData,
    overrides: Iterable[tuple[dt.date, bool]],
    published_years: Iterable[int] = (),
) -> CalendarData:
    holidays = set(data.holidays)
    working = set(data.working_weekends)
    for day, is_working in overrides:
        if is_working:
            holidays.discard(day)
            working.add(day)
        else:
            working.discard(day)
            holidays.add(day)
    return CalendarData(
        frozenset(holidays), frozenset(working), data.covered_years | frozenset(published_years)
    )


class WorkingDayCalendar:
    def __init__(self, data: CalendarData) -> None:
        self.data = data
        total = LAST_DAY.toordinal() - _FIRST_ORDINAL + 1
        indexes = np.arange(total)
        weekday = (indexes + FIRST_DAY.weekday()) % 7  # 0 = Monday
        working = weekday < 5
        years = (indexes + _EPOCH_OFFSET).astype("datetime64[D]").astype("datetime64[Y]").astype(
            np.int32
        ) + 1970
        covered = np.isin(years, np.array(sorted(data.covered_years), dtype=np.int32))
        for day in data.holidays:
            index = self._index_or_none(day)
            if index is not None:
                working[index] = False
        for day in data.working_weekends:
            index = self._index_or_none(day)
            if index is not None:
                working[index] = True
        self.is_working = working
        self.covered = covered
        self.cumulative = np.cumsum(working, dtype=np.int64)
        self.uncovered_cumulative = np.cumsum(~covered, dtype=np.int64)
        self.working_positions = np.flatnonzero(working).astype(np.int64)
        self.total_days = total
        self.years = years
        # The scalar path reads Python lists: indexing a numpy array per query costs several times more.
        self._cumulative_list: list[int] = self.cumulative.tolist()
        self._working_positions_list: list[int] = self.working_positions.tolist()
        self._uncovered_list: list[int] = self.uncovered_cumulative.tolist()
        self._iso_texts: list[str] | None = None
        self._iso_lines: np.ndarray | None = None

    def iso_text(self, index: int) -> str:
        return self.iso_texts()[index]

    def iso_texts(self) -> list[str]:
        """ISO strings of every day in range, so formatting a million answers is a list lookup."""
        if self._iso_texts is None:
            self._iso_texts = np.datetime_as_string(
                (np.arange(self.total_days) + _EPOCH_OFFSET).astype("datetime64[D]"), unit="D"
            ).tolist()
        return self._iso_texts

    def iso_lines(self) -> np.ndarray:
        """Row i is day i as the ASCII bytes of "YYYY-MM-DD\\n", so a million answer lines are one gather."""
        if self._iso_lines is None:
            texts = np.array([text + "\n" for text in self.iso_texts()], dtype="S11")
            self._iso_lines = texts.view(np.uint8).reshape(self.total_days, 11)
        return self._iso_lines

    @staticmethod
    def _index_or_none(day: dt.date) -> int | None:
        index = day.toordinal() - _FIRST_ORDINAL
        return index if 0 <= index < LAST_DAY.toordinal() - _FIRST_ORDINAL + 1 else None

    def _index(self, day: dt.date) -> int:
        index = day.toordinal() - _FIRST_ORDINAL
        if not 0 <= index < self.total_days:
            raise WorkdayQueryError(
                f"日期 {day.isoformat()} 超出日历范围（{FIRST_DAY.year}–{LAST_DAY.year} 年） / "
                f"date out of range ({FIRST_DAY.year}–{LAST_DAY.year})",
                "out_of_range",
            )
        return index

    def is_working_day(self, day: dt.date) -> bool:
        return bool(self.is_working[self._index(day)])

    def is_covered(self, day: dt.date) -> bool:
        return bool(self.covered[self._index(day)])

    def covered_years(self) -> frozenset[int]:
        return self.data.covered_years

    def add(self, start: dt.date, count: int) -> DateAnswer:
        if count < 1:
            raise WorkdayQueryError("工作日数必须 ≥ 1 / n must be at least 1", "count_too_small")
        start_index = self._index(start)
        position = self._cumulative_list[start_index] + count - 1
        if position >= len(self._working_positions_list):
            raise WorkdayQueryError("结果超出日历范围 / result beyond the calendar's range", "out_of_range")
        target = self._working_positions_list[position]
        provisional = self._uncovered_list[target] != self._uncovered_list[start_index]
        return DateAnswer(dt.date.fromordinal(_FIRST_ORDINAL + target), provisional)

    def between(self, start: dt.date, end: dt.date) -> CountAnswer:
        start_index = self._index(start)
        end_index = self._index(end)
        count = self._cumulative_list[end_index] - self._cumulative_list[start_index]
        provisional = self._uncovered_list[start_index] != self._uncovered_list[end_index]
        return CountAnswer(count, provisional)

    # Vectorised paths: arrays of numpy datetime64[D] and integers, no Python loop per query.
    def _indexes(self, days: np.ndarray) -> np.ndarray:
        indexes = days.astype("datetime64[D]").astype(np.int64) - _EPOCH_OFFSET
        if indexes.size and (indexes.min() < 0 or indexes.max() >= self.total_days):
            raise WorkdayQueryError(
                f"日期超出日历范围（{FIRST_DAY.year}–{LAST_DAY.year} 年） / date out of range", "out_of_range"
            )
        return indexes

    def add_many(self, starts: np.ndarray, counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Dates (datetime64[D]) and provisional flags for many ``add`` queries at once."""
        counts = np.asarray(counts, dtype=np.int64)
        if counts.size and counts.min() < 1:
            raise WorkdayQueryError("工作日数必须 ≥ 1 / n must be at least 1", "count_too_small")
        start_indexes = self._indexes(np.asarray(starts))
        positions = self.cumulative[start_indexes] + counts - 1
        if positions.size and positions.max() >= len(self.working_positions):
            raise WorkdayQueryError("结果超出日历范围 / result beyond the calendar's range", "out_of_range")
        targets = self.working_positions[positions]
        provisional = (self.uncovered_cumulative[targets] - self.uncovered_cumulative[start_indexes]) > 0
        return (targets + _EPOCH_OFFSET).astype("datetime64[D]"), provisional

    def between_many(self, starts: np.ndarray, ends: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        start_indexes = self._indexes(np.asarray(starts))
        end_indexes = self._indexes(np.asarray(ends))
        counts = self.cumulative[end_indexes] - self.cumulative[start_indexes]
        low = np.minimum(start_indexes, end_indexes)
        high = np.maximum(start_indexes, end_indexes)
        provisional = (self.uncovered_cumulative[high] - self.uncovered_cumulative[low]) > 0
        return counts, provisional


_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_INTEGER = re.compile(r"[+-]?[0-9]+")


def parse_date(text: str) -> dt.date:
    """An ISO date (YYYY-MM-DD) or a clear error: 2025-02-30 is not a date."""
    stripped = text.strip()
    error_message = (
        f"无效日期 {stripped[:20]!r}，应为 YYYY-MM-DD 的真实日期 / invalid date, expected YYYY-MM-DD"
    )
    # fromisoformat alone also takes 20250926 and 2025-W39-5, which the batch parser rejects.
    if not _ISO_DATE.fullmatch(stripped):
        raise WorkdayQueryError(error_message, "invalid_date")
    try:
        return dt.date.fromisoformat(stripped)
    except ValueError as error:
        raise WorkdayQueryError(error_message, "invalid_date") from error


def parse_count(text: str) -> int:
    """A whole number of working days in ASCII digits; int() alone would take "1_0" and "٥"."""
    stripped = text.strip()
    if not _INTEGER.fullmatch(stripped):
        raise WorkdayQueryError("工作日数必须是整数 / N must be an integer", "invalid_count")
    # int() refuses thousands of digits; any n this long is below 1 or past the range.
    if len(stripped.lstrip("+-").lstrip("0")) > 12:
        if stripped.startswith("-"):
            raise WorkdayQueryError("工作日数必须 ≥ 1 / n must be at least 1", "count_too_small")
        raise WorkdayQueryError("结果超出日历范围 / result beyond the calendar's range", "out_of_range")
    return int(stripped)
