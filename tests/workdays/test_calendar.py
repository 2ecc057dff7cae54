"""The pure working-day calendar: known answers, provisional years, overrides, properties, bad input.

No database: the calendar is built from the official data (chinesecalendar, 2004–2026) directly.
"""

from __future__ import annotations

import datetime as dt

import chinese_calendar
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from servicehall.workdays.batch import answer_add_line, answer_between_line, answer_bytes
from servicehall.workdays.calendar import (
    FIRST_DAY,
    LAST_DAY,
    CountAnswer,
    DateAnswer,
    WorkdayQueryError,
    WorkingDayCalendar,
    official_data,
    parse_count,
    parse_date,
    with_overrides,
)

DAY = dt.timedelta(days=1)
FIRST_COVERED = dt.date(2004, 1, 1)
LAST_COVERED = dt.date(2026, 12, 31)
COVERED_YEARS = range(2004, 2027)

fixture_settings = settings(suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
# Two years short of the end, so adding up to 500 working days stays inside the calendar.
calendar_dates = st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2098, 12, 31))
covered_dates = st.dates(min_value=FIRST_COVERED, max_value=dt.date(2026, 10, 1))
counts = st.integers(min_value=1, max_value=500)


def reference_is_working(day: dt.date) -> bool:
    """The definition, independently: the official data where it exists, Monday–Friday elsewhere."""
    if day.year in COVERED_YEARS:
        return chinese_calendar.is_workday(day)
    return day.weekday() < 5


def reference_add(start: dt.date, count: int) -> DateAnswer:
    day, found, provisional = start, 0, False
    while found < count:
        day += DAY
        provisional |= day.year not in COVERED_YEARS
        found += reference_is_working(day)
    return DateAnswer(day, provisional)


def reference_between(start: dt.date, end: dt.date) -> CountAnswer:
    low, high = min(start, end), max(start, end)
    found, provisional, day = 0, False, low
    while day < high:
        day += DAY
        provisional |= day.year not in COVERED_YEARS
        found += reference_is_working(day)
    return CountAnswer(found if end >= start else -found, provisional)


# Known answers -----------------------------------------------------------------------------------


def test_national_day_and_mid_autumn_2025_are_skipped_and_the_swapped_sunday_counts(
    official_calendar: WorkingDayCalendar,
) -> None:
    # Given a case accepted on Friday 2025-09-26, with Sunday 9-28 a 调休 working day and 10-1..10-8 off
    # When five working days are added
    answer = official_calendar.add(dt.date(2025, 9, 26), 5)
    # Then the days counted are 9-28, 9-29, 9-30, 10-9 and 10-10
    assert answer == DateAnswer(dt.date(2025, 10, 10), provisional=False)
    assert str(answer) == "2025-10-10"
    assert official_calendar.add(dt.date(2025, 9, 26), 1) == DateAnswer(dt.date(2025, 9, 28), False)
    assert official_calendar.add(dt.date(2025, 9, 30), 1) == DateAnswer(dt.date(2025, 10, 9), False)
    assert official_calendar.add(dt.date(2025, 10, 10), 1) == DateAnswer(dt.date(2025, 10, 11), False)


def test_a_case_accepted_on_saturday_starts_counting_on_monday(official_calendar: WorkingDayCalendar) -> None:
    # Given an ordinary weekend (2025-09-20/21)
    saturday = dt.date(2025, 9, 20)
    # When one working day is added to the Saturday, and to the Sunday
    # Then both land on Monday 9-22: the start never counts
    assert official_calendar.add(saturday, 1) == DateAnswer(dt.date(2025, 9, 22), False)
    assert official_calendar.add(saturday + DAY, 1) == DateAnswer(dt.date(2025, 9, 22), False)
    assert official_calendar.between(saturday, dt.date(2025, 9, 22)) == CountAnswer(1, False)
    assert official_calendar.add(dt.date(2025, 9, 22), 1) == DateAnswer(dt.date(2025, 9, 23), False)


def test_spring_festival_2025_with_its_two_swapped_weekend_days(
    official_calendar: WorkingDayCalendar,
) -> None:
    # Given 2025's Spring Festival: 1-28..2-4 off, Sunday 1-26 and Saturday 2-8 working (调休)
    assert official_calendar.is_working_day(dt.date(2025, 1, 26))
    assert official_calendar.is_working_day(dt.date(2025, 2, 8))
    assert not official_calendar.is_working_day(dt.date(2025, 1, 28))
    assert not official_calendar.is_working_day(dt.date(2025, 2, 4))
    # When working days are added from Friday 1-24
    # Then Sunday 1-26 is the first, Monday 1-27 the second, Wednesday 2-5 the third
    assert official_calendar.add(dt.date(2025, 1, 24), 1) == DateAnswer(dt.date(2025, 1, 26), False)
    assert official_calendar.add(dt.date(2025, 1, 24), 2) == DateAnswer(dt.date(2025, 1, 27), False)
    assert official_calendar.add(dt.date(2025, 1, 24), 3) == DateAnswer(dt.date(2025, 2, 5), False)
    # And Saturday 2-8 counts while Sunday 2-9 does not
    assert official_calendar.add(dt.date(2025, 2, 7), 1) == DateAnswer(dt.date(2025, 2, 8), False)
    assert official_calendar.add(dt.date(2025, 2, 7), 2) == DateAnswer(dt.date(2025, 2, 10), False)
    assert official_calendar.between(dt.date(2025, 1, 24), dt.date(2025, 2, 10)) == CountAnswer(7, False)


def test_between_counts_the_half_open_interval_and_is_negative_backwards(
    official_calendar: WorkingDayCalendar,
) -> None:
    assert official_calendar.between(dt.date(2025, 9, 26), dt.date(2025, 10, 10)) == CountAnswer(5, False)
    assert official_calendar.between(dt.date(2025, 10, 10), dt.date(2025, 9, 26)) == CountAnswer(-5, False)
    assert official_calendar.between(dt.date(2025, 10, 1), dt.date(2025, 10, 1)) == CountAnswer(0, False)
    # (10-1, 10-8] is all holiday; (9-30, 10-1] too, though 9-30 itself is a working day
    assert official_calendar.between(dt.date(2025, 10, 1), dt.date(2025, 10, 8)) == CountAnswer(0, False)
    assert official_calendar.between(dt.date(2025, 9, 30), dt.date(2025, 10, 1)) == CountAnswer(0, False)
    assert official_calendar.between(dt.date(2025, 9, 29), dt.date(2025, 9, 30)) == CountAnswer(1, False)
    assert str(official_calendar.between(dt.date(2025, 10, 10), dt.date(2025, 9, 26))) == "-5"


# Provisional answers ------------------------------------------------------------------------------


def test_the_official_data_covers_2004_to_2026(official_calendar: WorkingDayCalendar) -> None:
    assert official_calendar.covered_years() == frozenset(COVERED_YEARS)
    assert official_calendar.is_covered(dt.date(2026, 12, 31))
    assert not official_calendar.is_covered(dt.date(2027, 1, 1))
    assert not official_calendar.is_covered(dt.date(2003, 12, 31))


def test_answers_that_reach_into_2027_fall_back_to_monday_to_friday_and_say_so(
    official_calendar: WorkingDayCalendar,
) -> None:
    # Given no official data for 2027: 2027-01-01 (a Friday, surely New Year's Day) counts as working
    # When an interval reaches into 2027
    # Then the answer is Monday–Friday arithmetic, marked provisional
    assert official_calendar.add(dt.date(2026, 12, 31), 1) == DateAnswer(dt.date(2027, 1, 1), True)
    assert str(official_calendar.add(dt.date(2026, 12, 31), 1)) == "2027-01-01 provisional"
    assert official_calendar.add(dt.date(2027, 3, 5), 5) == DateAnswer(dt.date(2027, 3, 12), True)
    assert official_calendar.add(dt.date(2030, 6, 1), 1) == DateAnswer(dt.date(2030, 6, 3), True)
    assert official_calendar.between(dt.date(2026, 12, 30), dt.date(2027, 1, 5)) == CountAnswer(4, True)
    assert official_calendar.between(dt.date(2027, 1, 5), dt.date(2026, 12, 30)) == CountAnswer(-4, True)
    assert str(official_calendar.between(dt.date(2027, 1, 5), dt.date(2026, 12, 30))) == "-4 provisional"


def test_answers_inside_covered_years_are_not_provisional(official_calendar: WorkingDayCalendar) -> None:
    # The interval (start, answer] decides: the start day itself never counts, so its year does not matter
    assert official_calendar.add(dt.date(2026, 12, 30), 1) == DateAnswer(dt.date(2026, 12, 31), False)
    assert official_calendar.add(dt.date(2003, 12, 31), 1) == DateAnswer(dt.date(2004, 1, 2), False)
    assert official_calendar.add(dt.date(2003, 12, 30), 1) == DateAnswer(dt.date(2003, 12, 31), True)
    assert official_calendar.between(dt.date(2026, 1, 1), dt.date(2026, 12, 31)).provisional is False
    assert official_calendar.between(dt.date(2026, 12, 31), dt.date(2026, 12, 31)) == CountAnswer(0, False)


def test_a_published_year_is_covered_and_its_answers_are_final() -> None:
    # Given the centre has entered 2027's schedule (New Year's Day off) and published the year
    data = with_overrides(official_data(), [(dt.date(2027, 1, 1), False)], published_years=[2027])
    calendar = WorkingDayCalendar(data)
    # When asked across the new year
    # Then 2027-01-01 is skipped and the answer is no longer provisional
    assert 2027 in calendar.covered_years()
    assert calendar.add(dt.date(2026, 12, 31), 1) == DateAnswer(dt.date(2027, 1, 4), False)
    assert calendar.between(dt.date(2026, 12, 31), dt.date(2027, 1, 4)) == CountAnswer(1, False)
    # And 2028 is still provisional
    assert calendar.add(dt.date(2027, 12, 31), 1) == DateAnswer(dt.date(2028, 1, 3), True)


def test_an_override_without_publishing_the_year_is_used_but_stays_provisional() -> None:
    calendar = WorkingDayCalendar(with_overrides(official_data(), [(dt.date(2027, 1, 1), False)]))
    assert calendar.add(dt.date(2026, 12, 31), 1) == DateAnswer(dt.date(2027, 1, 4), True)


# Overrides ------------------------------------------------------------------------------------------


def test_overrides_win_over_the_official_data(official_calendar: WorkingDayCalendar) -> None:
    # Given a local make-up Sunday (2025-11-16) and a typhoon closure on Tuesday 2025-11-18
    sunday, tuesday = dt.date(2025, 11, 16), dt.date(2025, 11, 18)
    assert official_calendar.add(dt.date(2025, 11, 14), 1) == DateAnswer(dt.date(2025, 11, 17), False)
    assert official_calendar.add(dt.date(2025, 11, 17), 1) == DateAnswer(tuesday, False)
    # When they are entered as overrides
    calendar = WorkingDayCalendar(with_overrides(official_data(), [(sunday, True), (tuesday, False)]))
    # Then the Sunday counts and the Tuesday does not
    assert calendar.is_working_day(sunday)
    assert not calendar.is_working_day(tuesday)
    assert calendar.add(dt.date(2025, 11, 14), 1) == DateAnswer(sunday, False)
    assert calendar.add(dt.date(2025, 11, 17), 1) == DateAnswer(dt.date(2025, 11, 19), False)
    assert calendar.between(dt.date(2025, 11, 14), dt.date(2025, 11, 21)) == CountAnswer(5, False)
    # And the official calendar is untouched
    assert official_calendar.between(dt.date(2025, 11, 14), dt.date(2025, 11, 21)) == CountAnswer(5, False)
    assert not official_calendar.is_working_day(sunday)


def test_overrides_can_reverse_statutory_holidays_and_swapped_working_days() -> None:
    # Given 10-8 (a National Day holiday) declared working and 9-28 (a 调休 Sunday) declared off
    calendar = WorkingDayCalendar(
        with_overrides(official_data(), [(dt.date(2025, 10, 8), True), (dt.date(2025, 9, 28), False)])
    )
    assert calendar.add(dt.date(2025, 10, 7), 1) == DateAnswer(dt.date(2025, 10, 8), False)
    assert calendar.add(dt.date(2025, 9, 26), 1) == DateAnswer(dt.date(2025, 9, 29), False)
    # 9-29, 9-30, 10-8, 10-9, 10-10: one day lost before the holiday, one gained inside it
    assert calendar.add(dt.date(2025, 9, 26), 5) == DateAnswer(dt.date(2025, 10, 10), False)
    assert calendar.add(dt.date(2025, 9, 26), 3) == DateAnswer(dt.date(2025, 10, 8), False)


def test_the_last_override_for_a_day_wins() -> None:
    day = dt.date(2025, 11, 18)
    calendar = WorkingDayCalendar(with_overrides(official_data(), [(day, False), (day, True)]))
    assert calendar.is_working_day(day)


# Properties -------------------------------------------------------------------------------------------


@fixture_settings
@given(start=calendar_dates, count=counts)
def test_between_undoes_add(official_calendar: WorkingDayCalendar, start: dt.date, count: int) -> None:
    answer = official_calendar.add(start, count)
    assert official_calendar.between(start, answer.date).count == count
    assert official_calendar.between(answer.date, start).count == -count
    assert official_calendar.between(start, answer.date).provisional == answer.provisional


@fixture_settings
@given(start=calendar_dates, count=counts)
def test_add_lands_on_a_working_day_with_none_skipped(
    official_calendar: WorkingDayCalendar, start: dt.date, count: int
) -> None:
    answer = official_calendar.add(start, count)
    assert official_calendar.is_working_day(answer.date)
    assert answer.date > start
    # the day before the answer holds one working day fewer: the answer is the first such date
    assert official_calendar.between(start, answer.date - DAY).count == count - 1


@fixture_settings
@given(start=calendar_dates, count=counts)
def test_add_is_strictly_increasing_in_n(
    official_calendar: WorkingDayCalendar, start: dt.date, count: int
) -> None:
    assert official_calendar.add(start, count).date < official_calendar.add(start, count + 1).date


@fixture_settings
@given(first=calendar_dates, second=calendar_dates, third=calendar_dates)
def test_between_is_additive(
    official_calendar: WorkingDayCalendar, first: dt.date, second: dt.date, third: dt.date
) -> None:
    total = official_calendar.between(first, third).count
    assert (
        official_calendar.between(first, second).count + official_calendar.between(second, third).count
        == total
    )


@fixture_settings
@given(start=covered_dates, count=st.integers(min_value=1, max_value=60))
def test_add_agrees_with_the_day_by_day_definition(
    official_calendar: WorkingDayCalendar, start: dt.date, count: int
) -> None:
    assert official_calendar.add(start, count) == reference_add(start, count)


@fixture_settings
@given(
    start=st.dates(min_value=dt.date(2003, 10, 1), max_value=dt.date(2027, 3, 31)),
    count=st.integers(min_value=1, max_value=60),
)
def test_add_agrees_with_the_reference_across_the_edges_of_the_data(
    official_calendar: WorkingDayCalendar, start: dt.date, count: int
) -> None:
    assert official_calendar.add(start, count) == reference_add(start, count)


@fixture_settings
@given(
    start=st.dates(min_value=dt.date(2003, 10, 1), max_value=dt.date(2027, 3, 31)),
    span=st.integers(min_value=-120, max_value=120),
)
def test_between_agrees_with_the_day_by_day_definition(
    official_calendar: WorkingDayCalendar, start: dt.date, span: int
) -> None:
    end = start + dt.timedelta(days=span)
    assert official_calendar.between(start, end) == reference_between(start, end)


def test_every_covered_day_agrees_with_chinese_calendar(official_calendar: WorkingDayCalendar) -> None:
    days = [
        FIRST_COVERED + dt.timedelta(days=offset) for offset in range((LAST_COVERED - FIRST_COVERED).days + 1)
    ]
    disagreeing = [
        day for day in days if official_calendar.is_working_day(day) != chinese_calendar.is_workday(day)
    ]
    assert disagreeing == []
    assert len(days) == 8401


def test_the_next_working_day_from_every_covered_date_agrees_with_the_reference(
    official_calendar: WorkingDayCalendar,
) -> None:
    starts = np.arange(np.datetime64("2004-01-01"), np.datetime64("2026-12-01"))
    dates, provisional = official_calendar.add_many(starts, np.ones(len(starts), dtype=np.int64))
    expected = [reference_add(start, 1) for start in starts.astype(object)]
    assert dates.astype(object).tolist() == [answer.date for answer in expected]
    assert provisional.tolist() == [answer.provisional for answer in expected]


@fixture_settings
@given(
    queries=st.lists(
        st.tuples(calendar_dates, st.integers(min_value=1, max_value=300)), min_size=0, max_size=50
    )
)
def test_add_many_agrees_with_add(
    official_calendar: WorkingDayCalendar, queries: list[tuple[dt.date, int]]
) -> None:
    starts = np.array([start for start, _count in queries], dtype="datetime64[D]")
    numbers = np.array([count for _start, count in queries], dtype=np.int64)
    dates, provisional = official_calendar.add_many(starts, numbers)
    expected = [official_calendar.add(start, count) for start, count in queries]
    assert dates.dtype == np.dtype("datetime64[D]")
    assert dates.astype(object).tolist() == [answer.date for answer in expected]
    assert provisional.tolist() == [answer.provisional for answer in expected]


@fixture_settings
@given(pairs=st.lists(st.tuples(calendar_dates, calendar_dates), min_size=0, max_size=50))
def test_between_many_agrees_with_between(
    official_calendar: WorkingDayCalendar, pairs: list[tuple[dt.date, dt.date]]
) -> None:
    starts = np.array([start for start, _end in pairs], dtype="datetime64[D]")
    ends = np.array([end for _start, end in pairs], dtype="datetime64[D]")
    found, provisional = official_calendar.between_many(starts, ends)
    expected = [official_calendar.between(start, end) for start, end in pairs]
    assert found.tolist() == [answer.count for answer in expected]
    assert provisional.tolist() == [answer.provisional for answer in expected]


# The batch parser answers exactly as the line-by-line path ------------------------------------------

valid_add_lines = st.builds(
    lambda day, count: f"{day.isoformat()} {count}", calendar_dates, st.integers(min_value=0, max_value=10**8)
)
valid_between_lines = st.builds(
    lambda first, second: f"{first.isoformat()} {second.isoformat()}", calendar_dates, calendar_dates
)
noise = st.text(alphabet="0123456789- \t\r+x٥\u3000", max_size=25)


def _mutated(line: str, position: int, character: str) -> str:
    position %= len(line) + 1
    return line[:position] + character + line[position + 1 :]


@fixture_settings
@given(
    lines=st.lists(
        st.one_of(
            valid_add_lines,
            valid_add_lines.map(lambda line: line + "\r"),
            st.builds(_mutated, valid_add_lines, st.integers(0, 30), st.sampled_from("0 9-x\r/")),
            noise,
        ),
        max_size=30,
    ),
    final_newline=st.booleans(),
)
def test_add_batch_answers_each_line_as_the_single_query_would(
    official_calendar: WorkingDayCalendar, lines: list[str], final_newline: bool
) -> None:
    data = "\n".join(lines) + ("\n" if final_newline else "")
    # A final LF ends the last line rather than starting an empty one; empty input has no line at all.
    read_lines = data.split("\n")
    if read_lines[-1] == "":
        read_lines.pop()
    expected = [answer_add_line(official_calendar, line) for line in read_lines]
    assert answer_bytes(official_calendar, data.encode(), "add") == expected


@fixture_settings
@given(
    lines=st.lists(
        st.one_of(
            valid_between_lines,
            st.builds(_mutated, valid_between_lines, st.integers(0, 30), st.sampled_from("0 9-x\r/")),
            noise,
        ),
        max_size=30,
    ),
)
def test_between_batch_answers_each_line_as_the_single_query_would(
    official_calendar: WorkingDayCalendar, lines: list[str]
) -> None:
    data = "".join(line + "\n" for line in lines)
    expected = [answer_between_line(official_calendar, line) for line in lines]
    assert answer_bytes(official_calendar, data.encode(), "between") == expected


def test_batch_answers_keep_order_across_provisional_and_error_lines(
    official_calendar: WorkingDayCalendar,
) -> None:
    data = b"2025-09-26 5\r\n\n2025-02-30 3\n2026-12-31 1\n\xff\xfe\n2025-09-26 0\n2025-09-26 1"
    assert answer_bytes(official_calendar, data, "add") == [
        "2025-10-10",
        "error: 每行应为“YYYY-MM-DD N” / expected 'YYYY-MM-DD N'",
        "error: 无效日期 '2025-02-30'，应为 YYYY-MM-DD 的真实日期 / invalid date, expected YYYY-MM-DD",
        "2027-01-01 provisional",
        "error: 每行应为“YYYY-MM-DD N” / expected 'YYYY-MM-DD N'",
        "error: 工作日数必须 ≥ 1 / n must be at least 1",
        "2025-09-28",
    ]
    assert answer_bytes(official_calendar, b"", "add") == []


# Bad input ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("count", [0, -1])
def test_n_below_one_is_refused(official_calendar: WorkingDayCalendar, count: int) -> None:
    with pytest.raises(WorkdayQueryError) as refused:
        official_calendar.add(dt.date(2025, 9, 26), count)
    assert refused.value.code == "count_too_small"
    assert refused.value.message == "工作日数必须 ≥ 1 / n must be at least 1"


@pytest.mark.parametrize(
    "day", [dt.date(1999, 12, 31), dt.date(2101, 1, 1), dt.date(1, 1, 1), dt.date(9999, 12, 31)]
)
def test_dates_outside_2000_to_2100_are_refused(official_calendar: WorkingDayCalendar, day: dt.date) -> None:
    for question in (
        lambda: official_calendar.add(day, 1),
        lambda: official_calendar.between(day, dt.date(2025, 1, 1)),
        lambda: official_calendar.between(dt.date(2025, 1, 1), day),
        lambda: official_calendar.is_working_day(day),
    ):
        with pytest.raises(WorkdayQueryError) as refused:
            question()
        assert refused.value.code == "out_of_range"
        assert refused.value.message.startswith(f"日期 {day.isoformat()} 超出日历范围（2000–2100 年）")


def test_the_calendar_range_is_2000_to_2100(official_calendar: WorkingDayCalendar) -> None:
    assert FIRST_DAY.isoformat() == "2000-01-01"
    assert LAST_DAY.isoformat() == "2100-12-31"
    assert official_calendar.add(dt.date(2000, 1, 1), 1) == DateAnswer(dt.date(2000, 1, 3), True)
    assert official_calendar.is_working_day(dt.date(2100, 12, 31))


def test_a_result_beyond_2100_is_refused_not_wrapped(official_calendar: WorkingDayCalendar) -> None:
    with pytest.raises(WorkdayQueryError) as refused:
        official_calendar.add(dt.date(2100, 12, 30), 2)
    assert refused.value.code == "out_of_range"
    assert refused.value.message == "结果超出日历范围 / result beyond the calendar's range"
    with pytest.raises(WorkdayQueryError):
        official_calendar.add_many(np.array(["2100-12-30"], dtype="datetime64[D]"), np.array([2]))


def test_vectorised_queries_refuse_bad_input_as_a_whole(official_calendar: WorkingDayCalendar) -> None:
    starts = np.array(["2025-09-26", "2025-09-26"], dtype="datetime64[D]")
    with pytest.raises(WorkdayQueryError) as refused:
        official_calendar.add_many(starts, np.array([5, 0]))
    assert refused.value.code == "count_too_small"
    with pytest.raises(WorkdayQueryError) as refused:
        official_calendar.add_many(np.array(["1999-12-31"], dtype="datetime64[D]"), np.array([1]))
    assert refused.value.code == "out_of_range"
    with pytest.raises(WorkdayQueryError) as refused:
        official_calendar.between_many(starts[:1], np.array(["2101-01-01"], dtype="datetime64[D]"))
    assert refused.value.code == "out_of_range"


def test_refused_queries_change_nothing(official_calendar: WorkingDayCalendar) -> None:
    working_before = official_calendar.is_working.copy()
    cumulative_before = official_calendar.cumulative.copy()
    for question in (
        lambda: official_calendar.add(dt.date(2025, 9, 26), 0),
        lambda: official_calendar.add(dt.date(1999, 1, 1), 1),
        lambda: official_calendar.add_many(np.array(["2025-09-26"], dtype="datetime64[D]"), np.array([-1])),
    ):
        with pytest.raises(WorkdayQueryError):
            question()
    assert np.array_equal(official_calendar.is_working, working_before)
    assert np.array_equal(official_calendar.cumulative, cumulative_before)
    assert official_calendar.add(dt.date(2025, 9, 26), 5) == DateAnswer(dt.date(2025, 10, 10), False)


@pytest.mark.parametrize(
    "text", ["2025-02-30", "2025-13-01", "2025-00-10", "20250926", "2025-W39-5", "2025-9-26", "", "tomorrow"]
)
def test_parse_date_refuses_anything_but_a_real_iso_date(text: str) -> None:
    with pytest.raises(WorkdayQueryError) as refused:
        parse_date(text)
    assert refused.value.code == "invalid_date"
    assert refused.value.message == (
        f"无效日期 {text!r}，应为 YYYY-MM-DD 的真实日期 / invalid date, expected YYYY-MM-DD"
    )


def test_parse_date_reads_a_real_date_with_surrounding_spaces() -> None:
    assert parse_date(" 2024-02-29 ") == dt.date(2024, 2, 29)


@pytest.mark.parametrize("text", ["five", "1_0", "٥", "1.5", "", "+", "0x10"])
def test_parse_count_accepts_ascii_integers_only(text: str) -> None:
    with pytest.raises(WorkdayQueryError) as refused:
        parse_count(text)
    assert refused.value.code == "invalid_count"
    assert refused.value.message == "工作日数必须是整数 / N must be an integer"


def test_parse_count_reads_signed_integers_and_refuses_absurd_lengths() -> None:
    assert parse_count("05") == 5
    assert parse_count("-1") == -1
    with pytest.raises(WorkdayQueryError) as refused:
        parse_count("9" * 5000)
    assert refused.value.code == "out_of_range"
    with pytest.raises(WorkdayQueryError) as refused:
        parse_count("-" + "9" * 5000)
    assert refused.value.code == "count_too_small"


def test_batch_checks_month_lengths_exactly_as_the_single_query_does(
    official_calendar: WorkingDayCalendar,
) -> None:
    # Given every day number 00–39 of every month 00–13 of leap years (2000, 2024), common years
    # (2025, and 2100, a century that is not leap) and the years just outside the range
    lines = [
        f"{year:04d}-{month:02d}-{day:02d} 1"
        for year in (1999, 2000, 2024, 2025, 2100, 2101)
        for month in range(0, 14)
        for day in range(0, 40)
    ]
    # When answered as a batch
    answers = answer_bytes(official_calendar, "\n".join(lines).encode(), "add")
    # Then each answer is the single query's, and exactly the real dates in range were answered
    assert answers == [answer_add_line(official_calendar, line) for line in lines]
    answered = sum(not answer.startswith("error: ") for answer in answers)
    assert answered == 366 + 366 + 365 + 365 - 1  # 2100-12-31 + 1 would leave the calendar
