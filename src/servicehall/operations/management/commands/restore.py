"""`servicehall restore --input PATH --yes`: replace the whole database with a backup, then verify the audit chain."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from servicehall.audit.context import acting
from servicehall.operations.backups import BackupError, restore_backup


class Command(BaseCommand):
    help = (
        "从备份恢复整个数据库（当前数据将被全部替换） / "
        "restore the whole database from a backup (replaces all current data)"
    )
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--input", type=Path, required=True, help="servicehall backup 生成的备份文件 / a backup file"
        )
        parser.add_argument(
            "--yes",
            action="store_true",
            help="确认用备份替换整个数据库 / confirm that the whole database is to be replaced",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not options["yes"]:
            raise CommandError(
                "恢复会用备份替换整个数据库，备份之后的所有数据（含审计记录）都将丢失；确认请加 --yes / "
                "restore replaces the whole database: everything written since the backup, audit records "
                "included, is lost. Add --yes to confirm.",
                returncode=2,
            )
        try:
            with acting(None, channel="cli"):
                result = restore_backup(options["input"])
        except BackupError as error:
            raise CommandError(error.message, returncode=1) from None
        self.stdout.write(f"已从备份恢复 / restored from: {result.path}")
        if result.unapplied_migrations:
            self.stdout.write(
                f"备份早于当前版本，尚有 {result.unapplied_migrations} 个迁移未应用，请运行 servicehall migrate / "
                f"the backup predates this version: run `servicehall migrate` "
                f"({result.unapplied_migrations} migrations pending)"
            )
        verification = result.verification
        if not verification.intact:
            raise CommandError(
                f"审计链已被破坏 / audit trail broken: {verification.first_break.describe()}", returncode=1
            )
        self.stdout.write(
            f"审计链完整 / audit trail intact: {verification.chains_checked} chains, "
            f"{verification.records_checked} records"
        )
