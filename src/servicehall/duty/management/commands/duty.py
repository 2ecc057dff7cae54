"""`servicehall duty sweep`: flag away-from-post records past the limit and turn attendance into violations.

Run it every few minutes (cron or a systemd timer). Each run claims rows with a conditional UPDATE, so
runs that overlap, or several workers, record every flag and violation exactly once.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from servicehall.duty.actions import sweep


class Command(BaseCommand):
    help = "岗位值守 / duty: sweep（离岗超时未说明去向、缺卡、迟到早退旷工记入违规）"

    def add_arguments(self, parser: CommandParser) -> None:
        subcommands = parser.add_subparsers(dest="operation", required=True)
        subcommands.add_parser(
            "sweep",
            help="标记离岗超过 10 分钟未说明去向、记录缺卡并登记考勤违规（幂等） / flag and record, idempotent",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        result = sweep()
        self.stdout.write(str(result))
