"""`servicehall simulate --days 90`: load past days of realistic history into the demo centre (idempotent)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from servicehall.assessment.simulation import simulate
from servicehall.audit.context import acting

MAX_DAYS = 3660


class Command(BaseCommand):
    help = (
        "为演示中心模拟过去若干天的业务数据（取号、办件、评价、考勤、投诉），已有数据的日期跳过 / "
        "simulate past days of the demo centre's work; days that already have data are skipped"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--days", type=int, default=90, help="模拟天数（默认 90） / days to simulate")
        parser.add_argument(
            "--end", default="", help="最后一天 YYYY-MM-DD（默认昨天） / last day (default yesterday)"
        )
        parser.add_argument(
            "--seed", type=int, default=2026, help="随机种子（同一种子结果相同） / random seed"
        )
        parser.add_argument("--scale", type=float, default=1.0, help="业务量倍数（默认 1.0） / volume factor")
        parser.add_argument(
            "--no-rollup", action="store_true", help="不重算考核日汇总 / skip the rollup rebuild"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        days = options["days"]
        if days < 1 or days > MAX_DAYS:
            raise CommandError(
                f"--days 须为 1 至 {MAX_DAYS} 的整数 / --days must be between 1 and {MAX_DAYS}", returncode=2
            )
        scale = options["scale"]
        if not scale > 0 or scale > 1000:
            raise CommandError("--scale 须大于 0 且不超过 1000 / --scale must be in (0, 1000]", returncode=2)
        end = None
        if options["end"]:
            try:
                end = dt.date.fromisoformat(options["end"])
            except ValueError:
                raise CommandError(
                    "--end 日期格式应为 YYYY-MM-DD / --end must be a date YYYY-MM-DD", returncode=2
                ) from None
        with acting(None, channel="cli"):
            simulate(days, end, options["seed"], scale, self.stdout, rollup=not options["no_rollup"])
