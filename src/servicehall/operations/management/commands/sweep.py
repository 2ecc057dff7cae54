"""`servicehall sweep`: every periodic sweep once, or forever with `--every SECONDS` (what `make run` starts)."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import close_old_connections

from servicehall.operations.sweeps import SWEEPS, run_all


class Command(BaseCommand):
    help = (
        "运行全部定时巡查（排队、值守、电子监察…；幂等） / run every periodic sweep (idempotent); "
        "--every N 每 N 秒一轮 / repeat every N seconds"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--every",
            type=int,
            default=0,
            help="每隔多少秒运行一轮（不填则只运行一次） / seconds between rounds (default: run once)",
        )
        parser.add_argument(
            "--list", action="store_true", help="列出巡查项目后退出 / list the sweeps and exit"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["list"]:
            for name, target in SWEEPS:
                self.stdout.write(f"{name}\t{target}")
            return
        every = options["every"]
        if every < 0 or 0 < every < 5:
            raise CommandError(
                "--every 须为 0（只运行一次）或不少于 5 秒 / --every must be 0 (once) or at least 5 seconds"
            )
        while True:
            outcome = run_all()
            for name, text in outcome.results.items():
                self.stdout.write(f"[{name}] {text}")
            for name, text in outcome.failures.items():
                self.stderr.write(f"[{name}] 失败 / failed: {text}")
            if not every:
                if not outcome.ok:
                    raise CommandError(
                        f"{len(outcome.failures)} 项巡查失败 / sweeps failed: {', '.join(outcome.failures)}"
                    )
                return
            # A long-running loop must not hold a connection the database has since dropped.
            close_old_connections()
            time.sleep(every)
