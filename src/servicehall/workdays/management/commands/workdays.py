"""`servicehall workdays add|between|status`: working-day arithmetic for operators and scripts.

    servicehall workdays add 2025-09-26 5          -> 2025-10-10
    servicehall workdays between 2025-09-26 2025-10-10 -> 5
    servicehall workdays add --stdin < queries.txt  (one "YYYY-MM-DD N" per line, answers in order)

An answer that depends on a year without an official schedule ends with " provisional".
"""

from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from servicehall.workdays.batch import answer_add_line, answer_between_line, render_answers
from servicehall.workdays.service import current_calendar, missing_years

USAGE_ERROR = 2


class Command(BaseCommand):
    help = "工作日计算 / working-day arithmetic: add, between, status"
    # The system checks import every URLconf and API schema: half a second a call, for nothing used here.
    requires_system_checks: list[str] = []

    def refuse(self, message: str) -> None:
        """Exit 2 with the message alone on stderr, Chinese first (CommandError would prefix its class name)."""
        self.stderr.write(message)
        raise SystemExit(USAGE_ERROR)

    def add_arguments(self, parser: CommandParser) -> None:
        subcommands = parser.add_subparsers(dest="operation", required=True)
        add = subcommands.add_parser(
            "add", help="START N: 之后第 N 个工作日 / the n-th working day after START"
        )
        add.add_argument("arguments", nargs="*", metavar="START N")
        add.add_argument("--stdin", action="store_true", help="每行一个查询 / one query per line on stdin")
        between = subcommands.add_parser("between", help="A B: (A, B] 内的工作日数 / working days in (A, B]")
        between.add_argument("arguments", nargs="*", metavar="A B")
        between.add_argument(
            "--stdin", action="store_true", help="每行一个查询 / one query per line on stdin"
        )
        subcommands.add_parser("status", help="数据覆盖的年份 / which years have official data")

    def handle(self, *args: Any, **options: Any) -> None:
        calendar = current_calendar()
        operation = options["operation"]
        if operation == "status":
            from django.utils import timezone

            years = sorted(calendar.covered_years())
            self.stdout.write(f"已有安排的年份 / covered years: {years[0]}–{years[-1]} ({len(years)})")
            missing = missing_years(timezone.localdate())
            if missing:
                self.stdout.write(
                    f"缺少安排，暂按周一至周五 / missing (provisional Monday–Friday): {', '.join(map(str, missing))}"
                )
            return
        if options["stdin"]:
            if options["arguments"]:
                self.refuse("--stdin 不能与位置参数同用 / --stdin takes no positional arguments")
            output = render_answers(calendar, sys.stdin.buffer.read(), operation)
            binary = getattr(self.stdout, "buffer", None)  # absent when call_command captures into a StringIO
            if binary is None:
                self.stdout.write(output.decode("utf-8"), ending="")
                return
            self.stdout.flush()
            binary.write(output)
            binary.flush()
            return
        if len(options["arguments"]) != 2:
            usage = "START N" if operation == "add" else "A B"
            self.refuse(f"需要两个参数 {usage} / expected two arguments: {usage}")
        line = " ".join(options["arguments"])
        answer = (answer_add_line if operation == "add" else answer_between_line)(calendar, line)
        if answer.startswith("error: "):
            self.refuse(answer[len("error: ") :])
        self.stdout.write(answer)
