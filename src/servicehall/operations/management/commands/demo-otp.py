"""`servicehall demo-otp USERNAME`: the current TOTP code of a demo account (local demo only)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from servicehall.operations.demo import DemoAccountError, current_totp_code


class Command(BaseCommand):
    help = "演示环境：显示账户当前的动态验证码 / local demo only: the current TOTP code of an account"
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username", help="登录名 / username")

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.IS_LOCAL:
            # Showing a second factor on the server defeats it; only the throwaway local demo may.
            raise CommandError(
                "demo-otp 只能在本地演示环境使用（SERVICEHALL_DEPLOYMENT=local），生产环境请使用身份验证器 / "
                "demo-otp only works in the local demo; in production use the authenticator app",
                returncode=2,
            )
        try:
            code, remaining = current_totp_code(options["username"])
        except DemoAccountError as error:
            raise CommandError(error.message, returncode=1) from None
        self.stdout.write(code)
        self.stderr.write(f"（{remaining} 秒后更新 / changes in {remaining}s）")
