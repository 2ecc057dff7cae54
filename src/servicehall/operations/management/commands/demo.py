"""`servicehall demo`: migrate the database in use, load the demo centre (idempotent), print the logins."""

from __future__ import annotations

import importlib
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from servicehall.audit.context import acting
from servicehall.operations.demo import demo_logins, load_demo_centre, login_sheet

# Apps that add their own demo data after the centre, sites and staff exist; each load_demo is idempotent.
DEMO_APPS = ["catalog", "duty", "queueing", "cases", "feedback", "supervision", "assessment"]


def _demo_module(app_label: str) -> Any:
    try:
        return importlib.import_module(f"servicehall.{app_label}.demo")
    except ModuleNotFoundError as error:
        if error.name != f"servicehall.{app_label}.demo":
            raise
        return None


class Command(BaseCommand):
    help = "迁移数据库并载入演示中心（幂等，不覆盖已有数据） / migrate and load the demo centre (idempotent)"
    requires_system_checks: list[str] = []

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.IS_LOCAL:
            # The demo accounts share a published password: they must never exist in production.
            raise CommandError(
                "演示数据只能载入本地演示环境（SERVICEHALL_DEPLOYMENT=local） / "
                "the demo centre is only for the local demo (SERVICEHALL_DEPLOYMENT=local)",
                returncode=2,
            )
        verbosity = int(options["verbosity"])
        call_command("migrate", interactive=False, verbosity=max(0, verbosity - 1))
        with acting(None, channel="cli"):
            result = load_demo_centre()
            for app_label in DEMO_APPS:
                module = _demo_module(app_label)
                if module is not None:
                    module.load_demo(self.stdout)
        if result.created_anything:
            created = "，".join(f"{name} {count}" for name, count in sorted(result.created.items()))
            self.stdout.write(f"已载入演示中心 / demo centre loaded: {created}")
        else:
            self.stdout.write("演示中心已存在，未作改动 / demo centre already present, nothing changed")
        if result.skipped_usernames:
            self.stderr.write(
                "以下演示账户的工号已被其他账户占用，未创建 / not created, staff number already in use: "
                + ", ".join(result.skipped_usernames)
            )
        self.stdout.write("")
        self.stdout.write(login_sheet(demo_logins()))
