"""`servicehall supervise`: one electronic-supervision sweep (电子监察); idempotent, run every few minutes."""

from __future__ import annotations

import json
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from servicehall.audit.context import acting
from servicehall.cases.supervise import supervise


class Command(BaseCommand):
    help = "电子监察巡查：红黄牌、超时默认、容缺逾期（幂等） / supervision sweep: cards, deemed approval (idempotent)"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--json", action="store_true", help="以 JSON 输出结果 / print the result as JSON")

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.perf_counter()
        with acting(None, channel="cli"):
            result = supervise()
        elapsed = time.perf_counter() - started
        if options["json"]:
            self.stdout.write(json.dumps({**result.as_dict(), "seconds": round(elapsed, 3)}))
            return
        self.stdout.write(
            "电子监察巡查完成 / sweep done: "
            f"黄牌 yellow {result.yellow_cards}，红牌 red {result.red_cards}，"
            f"审批超时 overdue tasks {result.task_red_cards}，超时默认 deemed {result.tasks_deemed_approved}，"
            f"容缺逾期 deferred lapsed {result.deferred_lapsed}，提醒 notifications {result.notifications}，"
            f"违规 violations {result.violations}（{elapsed:.2f} s）"
        )
