"""Answering many queries read as text lines, in order, one answer per line.

The whole input is parsed at once as bytes with numpy (digits gathered by position, dates checked
against real month lengths); only lines that fail a check are decoded and answered one by one, so a
bad line yields one error line and never loses the others.

The output is built the same way: each answer is a row of a table of answer texts (every ISO date,
every count met, each also marked provisional), gathered in one step; error lines, usually few, are
spliced in between.
"""

from __future__ import annotations

import functools

import numpy as np

from servicehall.workdays.calendar import (
    _EPOCH_OFFSET,
    FIRST_DAY,
    LAST_DAY,
    WorkdayQueryError,
    WorkingDayCalendar,
    parse_count,
    parse_date,
)

MAX_COUNT_DIGITS = 7
ZERO = np.uint8(ord("0"))
DASH = ord("-")
SPACE = ord(" ")
NEWLINE = ord("\n")
CARRIAGE_RETURN = ord("\r")
# Reads at fixed offsets past the end of a short last line land in these zeros, not outside the buffer.
PADDING = bytes(32)
PROVISIONAL_SUFFIX = " provisional"


def _error_line(error: WorkdayQueryError) -> str:
    return f"error: {error.message}"


def answer_add_line(calendar: WorkingDayCalendar, line: str) -> str:
    parts = line.split()
    if len(parts) != 2:
        return "error: 每行应为“YYYY-MM-DD N” / expected 'YYYY-MM-DD N'"
    try:
        start = parse_date(parts[0])
        return str(calendar.add(start, parse_count(parts[1])))
    except WorkdayQueryError as error:
        return _error_line(error)


def answer_between_line(calendar: WorkingDayCalendar, line: str) -> str:
    parts = line.split()
    if len(parts) != 2:
        return "error: 每行应为“YYYY-MM-DD YYYY-MM-DD” / expected 'YYYY-MM-DD YYYY-MM-DD'"
    try:
        return str(calendar.between(parse_date(parts[0]), parse_date(parts[1])))
    except WorkdayQueryError as error:
        return _error_line(error)


@functools.cache
def _month_tables() -> tuple[np.ndarray, np.ndarray]:
    """Day index of the first of every month in range, and each month's length in days."""
    months = np.arange(f"{FIRST_DAY.year}-01", f"{LAST_DAY.year + 1}-02", dtype="datetime64[M]")
    first_days = months.astype("datetime64[D]").astype(np.int64) - _EPOCH_OFFSET
    return first_days[:-1], np.diff(first_days)


def _line_bounds(buffer: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Start and end (exclusive, before any CR) of every line; the padded buffer ends each line with LF."""
    ends = np.flatnonzero(buffer == NEWLINE)
    starts = np.empty_like(ends)
    starts[:1] = 0
    starts[1:] = ends[:-1] + 1
    # ends - 1 is -1 only for an empty first line, and buffer[-1] is padding, never CR.
    carriage = (buffer[ends - 1] == CARRIAGE_RETURN) & (ends > starts)
    return starts, ends - carriage


def _parse_dates(buffer: np.ndarray, offsets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Day indexes of the ISO dates at ``offsets`` and a mask of which were real, in-range dates."""
    valid = (buffer[offsets + 4] == DASH) & (buffer[offsets + 7] == DASH)
    digits = []
    for column in (0, 1, 2, 3, 5, 6, 8, 9):
        digit = buffer[offsets + column] - ZERO  # unsigned: bytes below "0" wrap round to large values
        valid &= digit <= 9
        digits.append(digit.astype(np.int32))
    year = digits[0] * 1000 + digits[1] * 100 + digits[2] * 10 + digits[3]
    month = digits[4] * 10 + digits[5]
    day = digits[6] * 10 + digits[7]
    valid &= (year >= FIRST_DAY.year) & (year <= LAST_DAY.year) & (month >= 1) & (month <= 12) & (day >= 1)
    month_number = (year - FIRST_DAY.year) * 12 + month - 1
    month_number[~valid] = 0
    first_days, lengths = _month_tables()
    valid &= day <= lengths[month_number]
    indexes = first_days[month_number] + day - 1
    indexes[~valid] = 0
    return indexes, valid


def _parse_counts(buffer: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    length = ends - starts
    valid = (length >= 1) & (length <= MAX_COUNT_DIGITS)
    longest = int(np.where(valid, length, 0).max())
    counts = np.zeros(len(starts), dtype=np.int64)
    for position in range(longest):
        inside = position < length
        digit = buffer[starts + position] - ZERO
        valid &= ~inside | (digit <= 9)
        counts = np.where(inside, counts * 10 + digit, counts)
    return counts, valid


def _join_lines(table: np.ndarray, keys: np.ndarray, spliced: dict[int, str]) -> bytes:
    """Row ``keys[i]`` of ``table`` (texts ending in LF, zero-padded) for line i, or ``spliced[i]`` plus LF."""
    if spliced:
        special = np.fromiter(spliced, dtype=np.int64, count=len(spliced))
        special.sort()
        plain = np.ones(len(keys), dtype=bool)
        plain[special] = False
        keys = keys[plain]
    table_lengths = np.count_nonzero(table, axis=1)
    line_lengths = table_lengths[keys]
    width = int(line_lengths.max()) if len(keys) else 0
    rows = table[:, :width][keys]
    uniform = len(keys) == 0 or int(line_lengths.min()) == width
    body = rows.tobytes() if uniform else rows[rows != 0].tobytes()
    if not spliced:
        return body
    plain_before = special - np.arange(len(special))
    if uniform:
        cuts = plain_before * width
    else:
        line_ends = np.concatenate(([0], np.cumsum(line_lengths)))
        cuts = line_ends[plain_before]
    view = memoryview(body)
    pieces: list[bytes | memoryview] = []
    previous = 0
    for index, cut in zip(special.tolist(), cuts.tolist(), strict=True):
        pieces.append(view[previous:cut])
        pieces.append((spliced[index] + "\n").encode())
        previous = cut
    pieces.append(view[previous:])
    return b"".join(pieces)


def _text_table(texts: list[str]) -> np.ndarray:
    """One row per text plus LF, as ASCII bytes zero-padded to the longest."""
    width = max(len(text) for text in texts) + 1
    return (
        np.array([text + "\n" for text in texts], dtype=f"S{width}").view(np.uint8).reshape(len(texts), width)
    )


def _date_table(calendar: WorkingDayCalendar) -> np.ndarray:
    """Row i is day i's ISO date, row total_days + i the same marked provisional."""
    plain = calendar.iso_lines()
    suffix = np.frombuffer((PROVISIONAL_SUFFIX + "\n").encode(), dtype=np.uint8)
    table = np.zeros((2 * calendar.total_days, plain.shape[1] + len(suffix) - 1), dtype=np.uint8)
    table[: calendar.total_days, : plain.shape[1]] = plain
    table[calendar.total_days :, : plain.shape[1] - 1] = plain[:, :-1]
    table[calendar.total_days :, plain.shape[1] - 1 :] = suffix
    return table


def render_answers(calendar: WorkingDayCalendar, data: bytes, operation: str) -> bytes:
    """The answers to the queries in ``data``, one line each, in order, as UTF-8 bytes."""
    if not data:
        return b""
    if not data.endswith(b"\n"):
        data += b"\n"
    buffer = np.frombuffer(data + PADDING, dtype=np.uint8)
    starts, ends = _line_bounds(buffer)
    first_dates, valid = _parse_dates(buffer, starts)
    valid &= buffer[starts + 10] == SPACE
    if operation == "add":
        counts, counts_valid = _parse_counts(buffer, starts + 11, ends)
        valid &= counts_valid & (counts >= 1)
        positions = calendar.cumulative[first_dates] + counts - 1
        valid &= positions < len(calendar.working_positions)
        positions[~valid] = 0
        targets = calendar.working_positions[positions]
        provisional = calendar.uncovered_cumulative[targets] != calendar.uncovered_cumulative[first_dates]
        table = _date_table(calendar)
        keys = targets + provisional * calendar.total_days
        slow = answer_add_line
    else:
        second_dates, second_valid = _parse_dates(buffer, starts + 11)
        valid &= second_valid & (ends - starts == 21)
        counts = calendar.cumulative[second_dates] - calendar.cumulative[first_dates]
        provisional = (
            calendar.uncovered_cumulative[first_dates] != calendar.uncovered_cumulative[second_dates]
        )
        smallest, largest = int(counts.min()), int(counts.max())
        values = range(smallest, largest + 1)
        table = _text_table(
            [str(value) for value in values] + [f"{value}{PROVISIONAL_SUFFIX}" for value in values]
        )
        keys = counts - smallest + provisional * len(values)
        slow = answer_between_line
    spliced: dict[int, str] = {}
    for index in np.flatnonzero(~valid).tolist():
        line = data[starts[index] : ends[index]].decode("utf-8", errors="replace")
        spliced[index] = slow(calendar, line)
    return _join_lines(table, keys, spliced)


def answer_bytes(calendar: WorkingDayCalendar, data: bytes, operation: str) -> list[str]:
    """The same answers as a list of lines (no line ever contains LF: errors quote input with repr)."""
    output = render_answers(calendar, data, operation).decode("utf-8")
    return output.split("\n")[:-1] if output else []
