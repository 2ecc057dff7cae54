"""Settings come from the environment, fail loudly, and pass `check --deploy` in production posture."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from servicehall.config.environment import ConfigurationError, env_bool, env_int, env_list, env_string

PROJECT = Path(__file__).resolve().parents[2]


def run_python(code: str, **environment: str) -> subprocess.CompletedProcess[str]:
    base = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("SERVICEHALL_", "DATABASE_URL"))
    }
    base.pop("SECRET_KEY", None)
    base.pop("ALLOWED_HOSTS", None)
    base.update(environment)
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=base, cwd=PROJECT, timeout=120
    )


def test_production_check_deploy_reports_nothing(tmp_path: Path) -> None:
    # Given production settings with a real secret and host, when Django's deployment check runs
    result = run_python(
        "import django, sys; from django.core.management import call_command; django.setup();"
        "call_command('check', '--deploy', '--fail-level', 'WARNING')",
        DJANGO_SETTINGS_MODULE="servicehall.config.settings",
        SERVICEHALL_DEPLOYMENT="production",
        SECRET_KEY="x" * 20 + "production-secret-key-with-enough-entropy-1234567890",
        ALLOWED_HOSTS="zwfw.example.gov.cn",
        SERVICEHALL_VAR_DIR=str(tmp_path),
    )
    # Then it passes with no issue at all
    assert result.returncode == 0, result.stderr + result.stdout
    assert "no issues" in (result.stdout + result.stderr)


def test_production_without_secret_key_refuses_to_start(tmp_path: Path) -> None:
    result = run_python(
        "import django; django.setup()",
        DJANGO_SETTINGS_MODULE="servicehall.config.settings",
        SERVICEHALL_DEPLOYMENT="production",
        ALLOWED_HOSTS="zwfw.example.gov.cn",
        SERVICEHALL_VAR_DIR=str(tmp_path),
    )
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_debug_is_refused_in_production(tmp_path: Path) -> None:
    result = run_python(
        "import django; django.setup()",
        DJANGO_SETTINGS_MODULE="servicehall.config.settings",
        SERVICEHALL_DEPLOYMENT="production",
        SECRET_KEY="s" * 60,
        ALLOWED_HOSTS="zwfw.example.gov.cn",
        DEBUG="true",
        SERVICEHALL_VAR_DIR=str(tmp_path),
    )
    assert result.returncode != 0
    assert "DEBUG" in result.stderr


def test_audit_retention_below_six_months_is_refused(tmp_path: Path) -> None:
    result = run_python(
        "import django; django.setup()",
        DJANGO_SETTINGS_MODULE="servicehall.config.settings",
        SERVICEHALL_DEPLOYMENT="local",
        SERVICEHALL_AUDIT_RETENTION_DAYS="30",
        SERVICEHALL_VAR_DIR=str(tmp_path),
    )
    assert result.returncode != 0
    assert "SERVICEHALL_AUDIT_RETENTION_DAYS" in result.stderr


def test_embedded_sqlite_runs_in_wal_mode_with_immediate_transactions(settings, db) -> None:
    from django.db import connection

    if connection.vendor != "sqlite":
        pytest.skip("SQLite-only setting; this run is on PostgreSQL")
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA journal_mode")
        mode = cursor.fetchone()[0]
    # The in-memory test database cannot use WAL; the configured pragma and transaction mode are what matter.
    assert mode in {"wal", "memory"}
    assert settings.DATABASES["default"]["OPTIONS"]["transaction_mode"] == "IMMEDIATE"
    assert "journal_mode=WAL" in settings.DATABASES["default"]["OPTIONS"]["init_command"]


@pytest.mark.parametrize(
    ("helper", "value", "default"),
    [(env_bool, "maybe", False), (env_int, "ten", 5)],
)
def test_malformed_environment_values_fail_loudly(monkeypatch, helper, value, default) -> None:
    monkeypatch.setenv("SERVICEHALL_PROBE", value)
    with pytest.raises(ConfigurationError):
        helper("SERVICEHALL_PROBE", default)


def test_environment_helpers_read_values(monkeypatch) -> None:
    monkeypatch.setenv("SERVICEHALL_PROBE_BOOL", "yes")
    monkeypatch.setenv("SERVICEHALL_PROBE_INT", "42")
    monkeypatch.setenv("SERVICEHALL_PROBE_LIST", "a.example, b.example,")
    assert env_bool("SERVICEHALL_PROBE_BOOL", False) is True
    assert env_int("SERVICEHALL_PROBE_INT", 1, minimum=10) == 42
    assert env_list("SERVICEHALL_PROBE_LIST", []) == ["a.example", "b.example"]
    assert env_string("SERVICEHALL_PROBE_MISSING", "fallback") == "fallback"
    with pytest.raises(ConfigurationError):
        env_string("SERVICEHALL_PROBE_MISSING")
    with pytest.raises(ConfigurationError):
        env_int("SERVICEHALL_PROBE_INT", 1, minimum=100)


@pytest.mark.parametrize(("value", "expected"), [(None, "5"), ("0", "None"), ("12", "12")])
def test_postgresql_connections_prepare_the_hot_paths_statements(
    tmp_path: Path, value: str | None, expected: str
) -> None:
    # Django would pass prepare_threshold=None, and psycopg then ignores even prepare=True (ADR 0008)
    environment = {"DATABASE_PREPARE_THRESHOLD": value} if value is not None else {}
    result = run_python(
        "from django.conf import settings; import django; django.setup();"
        "print(settings.DATABASES['default']['OPTIONS']['prepare_threshold'])",
        DJANGO_SETTINGS_MODULE="servicehall.config.settings",
        SERVICEHALL_DEPLOYMENT="local",
        SERVICEHALL_VAR_DIR=str(tmp_path),
        DATABASE_URL="postgres://postgres@127.0.0.1:5432/servicehall_settings_probe",
        **environment,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == expected


def test_a_negative_prepare_threshold_refuses_to_start(tmp_path: Path) -> None:
    result = run_python(
        "import django; django.setup()",
        DJANGO_SETTINGS_MODULE="servicehall.config.settings",
        SERVICEHALL_DEPLOYMENT="local",
        SERVICEHALL_VAR_DIR=str(tmp_path),
        DATABASE_URL="postgres://postgres@127.0.0.1:5432/servicehall_settings_probe",
        DATABASE_PREPARE_THRESHOLD="-1",
    )
    assert result.returncode != 0
    assert "DATABASE_PREPARE_THRESHOLD" in result.stderr
