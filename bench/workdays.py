"""Benchmark: one million `add` queries, servicehall against its peers, side by side in one run.

    .venv/bin/python bench/workdays.py [--queries 1000000] [--repetitions 5] [--peer-sample 20000]

Measured, each repeated and reported as the median:
  (a) servicehall's vectorised ``add_many`` on all queries;
  (b) servicehall's scalar ``add`` in a Python loop over all queries;
  (c) the ``holidays`` package (China, with its 调休 working days): ``get_nth_working_day`` on a sample,
      extrapolated to all queries;
  (d) a day-by-day loop over ``chinesecalendar.is_workday`` on a sample, extrapolated;
  (e) the whole process ``servicehall workdays add --stdin`` on a file of all queries (wall time,
      Python start-up and Django set-up included), in a temporary var directory with a migrated database.
Targets: (a) under 0.5 s, (a) at least 100 times the best peer, (e) under 3 s. The last line printed is
one JSON object with the figures. The machine may be shared: read the medians and the ratios.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

PROJECT_DIRECTORY = Path(__file__).resolve().parent.parent
SERVICEHALL = Path(sys.executable).with_name("servicehall")
TARGET_API_SECONDS = 0.5
TARGET_STDIN_SECONDS = 3.0
TARGET_SPEEDUP = 100
FIRST_START = np.datetime64("2024-01-01")
LAST_START = np.datetime64("2026-12-31")
MAX_COUNT = 60
SEED = 20251010


def timed(run: Callable[[], Any], repetitions: int) -> tuple[float, list[float], Any]:
    """Median wall time of ``run`` over the repetitions, every time, and the last result."""
    seconds = []
    result = None
    for _ in range(repetitions):
        started = time.perf_counter()
        result = run()
        seconds.append(time.perf_counter() - started)
    return statistics.median(seconds), seconds, result


def describe(seconds: list[float]) -> str:
    return "[" + ", ".join(f"{value:.3f}" for value in seconds) + "]"


def command_environment(var_directory: str) -> dict[str, str]:
    environment = {
        name: value
        for name, value in os.environ.items()
        if name not in {"DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE"}
    }
    environment["SERVICEHALL_DEPLOYMENT"] = "local"
    environment["SERVICEHALL_VAR_DIR"] = var_directory
    return environment


def chinese_calendar_add(start: dt.date, count: int) -> dt.date:
    """The day-by-day definition over chinesecalendar, Monday–Friday where it has no data."""
    import chinese_calendar

    day, found = start, 0
    while found < count:
        day += dt.timedelta(days=1)
        try:
            working = chinese_calendar.is_workday(day)
        except NotImplementedError:
            working = day.weekday() < 5
        found += working
    return day


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--queries", type=int, default=1_000_000)
    parser.add_argument("--repetitions", type=int, default=5)
    parser.add_argument("--peer-sample", type=int, default=20_000)
    parser.add_argument("--peer-repetitions", type=int, default=3)
    parser.add_argument("--slow-peer-sample", type=int, default=2_000, help="sample for the day-by-day loop")
    options = parser.parse_args()

    import holidays

    from servicehall.workdays.calendar import WorkingDayCalendar, official_data

    total = options.queries
    sample_size = min(options.peer_sample, total)
    slow_sample_size = min(options.slow_peer_sample, sample_size)
    generator = np.random.default_rng(SEED)
    span = int((LAST_START - FIRST_START).astype(int)) + 1
    starts = FIRST_START + generator.integers(0, span, total)
    counts = generator.integers(1, MAX_COUNT + 1, total)
    start_dates: list[dt.date] = starts.astype(object).tolist()
    count_list: list[int] = counts.tolist()
    print(
        f"workdays benchmark: {total:,} add queries, starts {FIRST_START}..{LAST_START}, n 1..{MAX_COUNT}; "
        f"{options.repetitions} repetitions (peers: {sample_size:,}/{slow_sample_size:,}-query samples, "
        f"{options.peer_repetitions} repetitions); {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.2f}"
    )

    build_started = time.perf_counter()
    calendar = WorkingDayCalendar(official_data())
    build_seconds = time.perf_counter() - build_started
    print(f"  calendar index built in {build_seconds * 1000:.1f} ms")

    # (a) vectorised
    api_seconds, api_all, (answer_dates, answer_provisional) = timed(
        lambda: calendar.add_many(starts, counts), options.repetitions
    )
    print(f"(a) servicehall add_many, {total:,} queries: median {api_seconds:.4f} s {describe(api_all)}")

    # (b) scalar loop
    scalar_seconds, scalar_all, scalar_answers = timed(
        lambda: [calendar.add(start, count) for start, count in zip(start_dates, count_list, strict=True)],
        options.repetitions,
    )
    print(
        f"(b) servicehall add() loop, {total:,} queries: median {scalar_seconds:.3f} s {describe(scalar_all)}"
    )
    scalar_matches = sum(
        answer.date == expected and answer.provisional == flag
        for answer, expected, flag in zip(
            scalar_answers, answer_dates.astype(object).tolist(), answer_provisional.tolist(), strict=True
        )
    )

    # (c) the holidays package, built for every year an answer can reach, its data loaded before timing
    china = holidays.China(years=range(2024, 2028))
    china.get_nth_working_day(dt.date(2027, 6, 1), 1)
    sample = list(zip(start_dates[:sample_size], count_list[:sample_size], strict=True))
    holidays_sample_seconds, holidays_all, holidays_answers = timed(
        lambda: [china.get_nth_working_day(start, count) for start, count in sample], options.peer_repetitions
    )
    holidays_per_second = sample_size / holidays_sample_seconds
    print(
        f"(c) holidays {holidays.__version__} China get_nth_working_day, {sample_size:,} queries: "
        f"median {holidays_sample_seconds:.3f} s {describe(holidays_all)} -> {holidays_per_second:,.0f}/s, "
        f"{total / holidays_per_second:.1f} s for {total:,}"
    )

    # (d) day by day over chinesecalendar
    slow_sample = sample[:slow_sample_size]
    chinese_sample_seconds, chinese_all, chinese_answers = timed(
        lambda: [chinese_calendar_add(start, count) for start, count in slow_sample], options.peer_repetitions
    )
    chinese_per_second = slow_sample_size / chinese_sample_seconds
    print(
        f"(d) chinesecalendar day-by-day loop, {slow_sample_size:,} queries: median {chinese_sample_seconds:.3f} s "
        f"{describe(chinese_all)} -> {chinese_per_second:,.0f}/s, {total / chinese_per_second:.1f} s for {total:,}"
    )

    # Agreement on the sample: provisional answers are Monday–Friday guesses, the peers' are their own
    ours = answer_dates[:sample_size].astype(object).tolist()
    final = [not flag for flag in answer_provisional[:sample_size].tolist()]
    compared = sum(final)
    holidays_disagreements = [
        (sample[index], ours[index], holidays_answers[index])
        for index in range(sample_size)
        if final[index] and ours[index] != holidays_answers[index]
    ]
    chinese_disagreements = sum(ours[index] != chinese_answers[index] for index in range(slow_sample_size))
    print(
        f"    agreement on the sample: holidays {compared - len(holidays_disagreements):,}/{compared:,} "
        f"non-provisional answers equal; chinesecalendar loop {slow_sample_size - chinese_disagreements:,}/"
        f"{slow_sample_size:,} equal; scalar add() = add_many on {scalar_matches:,}/{total:,}"
    )
    for (start, count), mine, theirs in holidays_disagreements[:5]:
        print(f"    differs: add({start}, {count}) servicehall {mine}, holidays {theirs}")

    # (e) the whole process through --stdin
    with tempfile.TemporaryDirectory(prefix="servicehall-bench-") as var_directory:
        environment = command_environment(var_directory)
        subprocess.run(
            [str(SERVICEHALL), "migrate", "--verbosity", "0"],
            env=environment,
            check=True,
            cwd=PROJECT_DIRECTORY,
        )
        query_path = Path(var_directory) / "queries.txt"
        answer_path = Path(var_directory) / "answers.txt"
        lines = np.char.add(np.char.add(np.datetime_as_string(starts, unit="D"), " "), counts.astype(str))
        query_path.write_text("\n".join(lines.tolist()) + "\n", encoding="ascii")

        def run_stdin(path: Path) -> None:
            with path.open("rb") as queries, answer_path.open("wb") as answers:
                subprocess.run(
                    [str(SERVICEHALL), "workdays", "add", "--stdin"],
                    stdin=queries,
                    stdout=answers,
                    env=environment,
                    check=True,
                )

        empty_path = Path(var_directory) / "empty.txt"
        empty_path.write_bytes(b"")
        startup_seconds, startup_all, _ = timed(lambda: run_stdin(empty_path), options.repetitions)
        stdin_seconds, stdin_all, _ = timed(lambda: run_stdin(query_path), options.repetitions)
        output_lines = answer_path.read_text(encoding="utf-8").splitlines()
        expected_lines = np.datetime_as_string(answer_dates, unit="D").astype(object)
        expected_lines[answer_provisional] += " provisional"
        stdin_matches = len(output_lines) == total and output_lines == expected_lines.tolist()
    print(
        f"(e) servicehall workdays add --stdin, {total:,} lines, whole process: median {stdin_seconds:.3f} s "
        f"{describe(stdin_all)}; of which start-up (empty input) {startup_seconds:.3f} s {describe(startup_all)}; "
        f"{len(output_lines):,} answer lines, {'all equal to add_many' if stdin_matches else 'MISMATCH'}"
    )

    api_per_second = total / api_seconds
    best_peer_per_second = max(holidays_per_second, chinese_per_second)
    best_peer = "holidays" if holidays_per_second >= chinese_per_second else "chinesecalendar"
    speedup = api_per_second / best_peer_per_second
    met = {
        "api_seconds": api_seconds < TARGET_API_SECONDS,
        "speedup": speedup >= TARGET_SPEEDUP,
        "stdin_seconds": stdin_seconds < TARGET_STDIN_SECONDS,
        "answers_agree": stdin_matches
        and not holidays_disagreements
        and not chinese_disagreements
        and scalar_matches == total,
    }
    print(
        f"summary: add_many {api_per_second:,.0f}/s, scalar {total / scalar_seconds:,.0f}/s, "
        f"stdin {total / stdin_seconds:,.0f}/s, best peer {best_peer} {best_peer_per_second:,.0f}/s"
    )
    print(
        f"ratios vs best peer: add_many {speedup:,.0f}x, scalar {total / scalar_seconds / best_peer_per_second:,.1f}x, "
        f"stdin whole process {total / stdin_seconds / best_peer_per_second:,.1f}x"
    )
    print(
        f"targets: API < {TARGET_API_SECONDS} s {'met' if met['api_seconds'] else 'MISSED'}; "
        f">= {TARGET_SPEEDUP}x best peer {'met' if met['speedup'] else 'MISSED'}; "
        f"stdin < {TARGET_STDIN_SECONDS} s {'met' if met['stdin_seconds'] else 'MISSED'}"
    )
    figures = {
        "benchmark": "workdays",
        "queries": total,
        "repetitions": options.repetitions,
        "peer_sample": sample_size,
        "slow_peer_sample": slow_sample_size,
        "calendar_build_seconds": round(build_seconds, 4),
        "api_seconds_median": round(api_seconds, 4),
        "api_queries_per_second": round(api_per_second),
        "scalar_seconds_median": round(scalar_seconds, 3),
        "scalar_queries_per_second": round(total / scalar_seconds),
        "stdin_seconds_median": round(stdin_seconds, 3),
        "stdin_startup_seconds_median": round(startup_seconds, 3),
        "holidays_queries_per_second": round(holidays_per_second),
        "chinesecalendar_loop_queries_per_second": round(chinese_per_second),
        "best_peer": best_peer,
        "speedup_vs_best_peer": round(speedup, 1),
        "scalar_speedup_vs_best_peer": round(total / scalar_seconds / best_peer_per_second, 2),
        "holidays_disagreements": len(holidays_disagreements),
        "targets": {
            "api_seconds": TARGET_API_SECONDS,
            "stdin_seconds": TARGET_STDIN_SECONDS,
            "speedup": TARGET_SPEEDUP,
        },
        "met": met,
    }
    print(json.dumps(figures, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "servicehall.config.settings")
    os.environ.setdefault("SERVICEHALL_DEPLOYMENT", "local")
    sys.exit(main())
