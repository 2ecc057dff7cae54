"""The console script answers an operator's set-up mistakes in one clear line, never a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(sys.executable).with_name("servicehall")


def run_servicehall(
    arguments: list[str], environment: dict[str, str], cwd: Path
) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(SCRIPT), *arguments], capture_output=True, text=True, env=environment, cwd=cwd, timeout=120
    )


def clean_environment() -> dict[str, str]:
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("SERVICEHALL_", "DJANGO_")) and key not in {"DATABASE_URL", "SECRET_KEY"}
    }
    environment["PYTHONDONTWRITEBYTECODE"] = "1"
    return environment


def test_production_without_a_secret_key_says_which_variable_is_missing(tmp_path: Path) -> None:
    # Given a production deployment (the default) with no SECRET_KEY
    environment = clean_environment()

    # When the operator runs a command
    result = run_servicehall(["workdays", "add", "2025-09-26", "5"], environment, tmp_path)

    # Then one message names the variable and the local-demo switch; no traceback
    assert result.returncode == 2
    assert result.stderr.startswith("配置错误 / configuration error: 环境变量 SECRET_KEY 未设置")
    assert "SERVICEHALL_DEPLOYMENT=local" in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""


def test_unmigrated_database_tells_the_operator_to_migrate(tmp_path: Path) -> None:
    # Given the local demo settings and an empty SQLite file
    environment = clean_environment()
    environment["SERVICEHALL_DEPLOYMENT"] = "local"
    environment["DATABASE_URL"] = f"sqlite:///{tmp_path / 'empty.sqlite3'}"

    # When a command needs the tables
    result = run_servicehall(["workdays", "add", "2025-09-26", "5"], environment, tmp_path)

    # Then it says to migrate first
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "数据库尚未迁移：请先运行 servicehall migrate（或 servicehall demo） / "
        "the database is not migrated: run `servicehall migrate` (or `servicehall demo`) first."
    )
    assert "Traceback" not in result.stderr


def test_every_servicehall_management_command_is_offered_to_operators() -> None:
    # Given the management commands the servicehall apps ship
    import pathlib

    from servicehall.cli import OPERATOR_COMMANDS

    source = pathlib.Path(__file__).resolve().parents[2] / "src" / "servicehall"
    shipped = {
        path.stem for path in source.glob("*/management/commands/*.py") if not path.stem.startswith("_")
    }
    # Then each one can be run as `servicehall <command>`
    assert shipped - set(OPERATOR_COMMANDS) == set()
