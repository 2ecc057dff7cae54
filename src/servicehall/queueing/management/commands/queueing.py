"""`servicehall queueing sweep`: the hall's periodic sweep (idempotent; safe with several workers).

Records pauses longer than ten minutes without a stated 去向 as violations (seed 003 公安窗口 15),
marks missed appointments as no-shows and closes tickets left waiting on a past day.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from servicehall.audit.context import acting
from servicehall.queueing import actions


class Command(BaseCommand):
    help = (
        "排队叫号：sweep 巡检离岗、预约爽约和过期号 / the hall: sweep pauses, missed appointments, past days"
    )
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        subcommands = parser.add_subparsers(dest="operation", required=True)
        subcommands.add_parser("sweep", help="巡检一次（幂等） / sweep once (idempotent)")

    def handle(self, *args: Any, **options: Any) -> None:
        with acting(None, channel="cli"):
            result = actions.sweep()
        self.stdout.write(f"离岗未说明去向 / away without whereabouts: {result.away_violations}")
        self.stdout.write(f"预约爽约 / appointment no-shows: {result.appointment_no_shows}")
        self.stdout.write(f"关闭往日未叫的号 / past-day tickets closed: {result.tickets_closed}")
