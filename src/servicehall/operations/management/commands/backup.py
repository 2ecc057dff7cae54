"""`servicehall backup [--output PATH]`: a consistent online copy of the database in use."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from servicehall.audit.context import acting
from servicehall.operations.backups import BackupError, create_backup, human_size


class Command(BaseCommand):
    help = (
        "在线备份数据库（SQLite 用在线备份接口，PostgreSQL 用 pg_dump） / "
        "consistent online backup of the database in use (SQLite backup API or pg_dump)"
    )
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--output",
            type=Path,
            help=(
                "备份文件路径（默认 var/backups/servicehall-YYYYmmdd-HHMMSS.sqlite3 或 .dump） / "
                "output file (default under var/backups/)"
            ),
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            with acting(None, channel="cli"):
                result = create_backup(options["output"])
        except BackupError as error:
            raise CommandError(error.message, returncode=1) from None
        self.stdout.write(
            f"备份完成 / backup written: {result.path} "
            f"({human_size(result.size_bytes)}, {result.size_bytes} bytes)"
        )
