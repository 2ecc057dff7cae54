"""`servicehall audit verify`: recompute every hash chain; exit 1 naming the first broken record."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from servicehall.audit.actions import verify


class Command(BaseCommand):
    help = "审计日志操作 / Audit trail operations: verify"

    def add_arguments(self, parser: CommandParser) -> None:
        subcommands = parser.add_subparsers(dest="subcommand", required=True)
        subcommands.add_parser(
            "verify", help="校验哈希链完整性 / verify the hash chains; exit status 1 if broken"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["subcommand"] == "verify":
            result = verify()
            if result.intact:
                self.stdout.write(
                    f"审计链完整 / audit trail intact: {result.chains_checked} chains, {result.records_checked} records"
                )
                return
            raise CommandError(
                f"审计链已被破坏 / audit trail broken: {result.first_break.describe()}", returncode=1
            )
