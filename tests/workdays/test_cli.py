"""`servicehall workdays`: the console script as an operator runs it, in a separate process.

Each run uses its own var directory with a migrated SQLite database (no centre overrides), whatever
database the rest of the suite uses, so the answers are the official calendar's.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import re
import subprocess
import sys
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from servicehall.workdays.calendar import WorkingDayCalendar

SERVICEHALL = Path(sys.executable).with_name("servicehall")
CHINESE_FIRST = re.compile(r"^[\u4e00-\u9fff]")


@pytest.fixture(scope="module")
def command_environment(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    environment = {
        name: value
        for name, value in os.environ.items()
        if name not in {"DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE"}
    }
    environment["SERVICEHALL_DEPLOYMENT"] = "local"
    environment["SERVICEHALL_VAR_DIR"] = str(tmp_path_factory.mktemp("workdays-var"))
    migrated = subprocess.run(
        [str(SERVICEHALL), "migrate", "--verbosity", "0"],
        env=environment,
        capture_output=True,
        timeout=300,
        check=False,
    )
    assert migrated.returncode == 0, migrated.stderr.decode()
    return environment


def run_workdays(
    environment: dict[str, str], *arguments: str, input_bytes: bytes | None = None
) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [str(SERVICEHALL), "workdays", *arguments],
        env=environment,
        input=input_bytes,
        capture_output=True,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        (("add", "2025-09-26", "5"), "2025-10-10\n"),
        (("add", "2025-09-20", "1"), "2025-09-22\n"),
        (("add", "2026-12-31", "1"), "2027-01-01 provisional\n"),
        (("between", "2025-09-26", "2025-10-10"), "5\n"),
        (("between", "2025-10-10", "2025-09-26"), "-5\n"),
        (("between", "2026-12-30", "2027-01-05"), "4 provisional\n"),
    ],
)
def test_single_queries_print_the_answer(
    command_environment: dict[str, str], arguments: tuple[str, ...], expected: str
) -> None:
    result = run_workdays(command_environment, *arguments)
    assert (result.returncode, result.stdout.decode(), result.stderr.decode()) == (0, expected, "")


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (
            ("add", "2025-02-30", "5"),
            "无效日期 '2025-02-30'，应为 YYYY-MM-DD 的真实日期 / invalid date, expected YYYY-MM-DD",
        ),
        (
            ("add", "20250926", "5"),
            "无效日期 '20250926'，应为 YYYY-MM-DD 的真实日期 / invalid date, expected YYYY-MM-DD",
        ),
        (("add", "2025-09-26", "0"), "工作日数必须 ≥ 1 / n must be at least 1"),
        (("add", "2025-09-26", "-1"), "工作日数必须 ≥ 1 / n must be at least 1"),
        (("add", "2025-09-26", "five"), "工作日数必须是整数 / N must be an integer"),
        (
            ("add", "1999-12-31", "1"),
            "日期 1999-12-31 超出日历范围（2000–2100 年） / date out of range (2000–2100)",
        ),
        (("add", "2100-12-31", "1"), "结果超出日历范围 / result beyond the calendar's range"),
        (
            ("between", "2025-01-01", "2101-01-01"),
            "日期 2101-01-01 超出日历范围（2000–2100 年） / date out of range (2000–2100)",
        ),
        (("add", "2025-09-26"), "需要两个参数 START N / expected two arguments: START N"),
        (
            ("between", "2025-09-26", "2025-10-10", "2025-10-11"),
            "需要两个参数 A B / expected two arguments: A B",
        ),
    ],
)
def test_bad_input_exits_2_with_a_chinese_first_message(
    command_environment: dict[str, str], arguments: tuple[str, ...], message: str
) -> None:
    result = run_workdays(command_environment, *arguments)
    assert (result.returncode, result.stdout, result.stderr.decode()) == (2, b"", message + "\n")
    assert CHINESE_FIRST.match(result.stderr.decode())


def test_stdin_refuses_positional_arguments_too(command_environment: dict[str, str]) -> None:
    result = run_workdays(
        command_environment, "add", "--stdin", "2025-09-26", "5", input_bytes=b"2025-09-26 5\n"
    )
    assert (result.returncode, result.stdout) == (2, b"")
    assert result.stderr.decode() == "--stdin 不能与位置参数同用 / --stdin takes no positional arguments\n"


def test_add_stdin_answers_every_line_in_order(command_environment: dict[str, str]) -> None:
    # Given good lines, an impossible date, n=0, CRLF endings, a blank line, garbage bytes,
    # a provisional answer, and no newline after the last line
    queries = (
        b"2025-09-26 5\r\n"
        b"2025-02-30 5\n"
        b"2025-09-20 1\r\n"
        b"\n"
        b"2025-09-26 0\n"
        b"\xff\xfe\n"
        b"2026-12-31 1\n"
        b"1999-12-31 1\n"
        b"2025-01-24 3"
    )
    # When they are piped through one process
    result = run_workdays(command_environment, "add", "--stdin", input_bytes=queries)
    # Then there is exactly one answer per line, in order, errors marked "error: "
    assert (result.returncode, result.stderr) == (0, b"")
    assert result.stdout.decode().split("\n") == [
        "2025-10-10",
        "error: 无效日期 '2025-02-30'，应为 YYYY-MM-DD 的真实日期 / invalid date, expected YYYY-MM-DD",
        "2025-09-22",
        "error: 每行应为“YYYY-MM-DD N” / expected 'YYYY-MM-DD N'",
        "error: 工作日数必须 ≥ 1 / n must be at least 1",
        "error: 每行应为“YYYY-MM-DD N” / expected 'YYYY-MM-DD N'",
        "2027-01-01 provisional",
        "error: 日期 1999-12-31 超出日历范围（2000–2100 年） / date out of range (2000–2100)",
        "2025-02-05",
        "",
    ]


def test_between_stdin_answers_every_line_in_order(command_environment: dict[str, str]) -> None:
    queries = (
        b"2025-09-26 2025-10-10\r\n"
        b"2025-10-10 2025-09-26\n"
        b"2025-02-30 2025-03-01\n"
        b"\n"
        b"2025-09-26 5\n"
        b"\xff\xfe\n"
        b"2026-12-30 2027-01-05\n"
        b"2025-10-01 2025-10-01"
    )
    result = run_workdays(command_environment, "between", "--stdin", input_bytes=queries)
    assert (result.returncode, result.stderr) == (0, b"")
    assert result.stdout.decode().split("\n") == [
        "5",
        "-5",
        "error: 无效日期 '2025-02-30'，应为 YYYY-MM-DD 的真实日期 / invalid date, expected YYYY-MM-DD",
        "error: 每行应为“YYYY-MM-DD YYYY-MM-DD” / expected 'YYYY-MM-DD YYYY-MM-DD'",
        "error: 无效日期 '5'，应为 YYYY-MM-DD 的真实日期 / invalid date, expected YYYY-MM-DD",
        "error: 每行应为“YYYY-MM-DD YYYY-MM-DD” / expected 'YYYY-MM-DD YYYY-MM-DD'",
        "4 provisional",
        "0",
        "",
    ]


def test_empty_stdin_prints_nothing(command_environment: dict[str, str]) -> None:
    result = run_workdays(command_environment, "add", "--stdin", input_bytes=b"")
    assert (result.returncode, result.stdout, result.stderr) == (0, b"", b"")


def test_stdin_agrees_with_the_calendar_on_random_queries(
    command_environment: dict[str, str], official_calendar: WorkingDayCalendar
) -> None:
    # Given 2000 random queries from 2000 to 2099, some reaching into provisional years
    generator = random.Random(20251010)
    first_ordinal, last_ordinal = dt.date(2000, 1, 1).toordinal(), dt.date(2099, 12, 31).toordinal()
    queries = [
        (dt.date.fromordinal(generator.randint(first_ordinal, last_ordinal)), generator.randint(1, 250))
        for _ in range(2000)
    ]
    text = "".join(f"{start.isoformat()} {count}\n" for start, count in queries)
    # When answered through --stdin
    result = run_workdays(command_environment, "add", "--stdin", input_bytes=text.encode())
    # Then every line is what the calendar answers in this process
    assert (result.returncode, result.stderr) == (0, b"")
    assert result.stdout.decode().splitlines() == [
        str(official_calendar.add(start, count)) for start, count in queries
    ]


def test_status_names_the_missing_year(command_environment: dict[str, str]) -> None:
    result = run_workdays(command_environment, "status")
    assert result.returncode == 0
    this_year = dt.datetime.now(ZoneInfo("Asia/Shanghai")).year
    missing = ", ".join(str(year) for year in (this_year, this_year + 1) if year > 2026)
    assert result.stdout.decode().splitlines() == [
        "已有安排的年份 / covered years: 2004–2026 (23)",
        f"缺少安排，暂按周一至周五 / missing (provisional Monday–Friday): {missing}",
    ]
